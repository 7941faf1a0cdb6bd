/**
 * Storage conformance, the flow claim (src/storage/repositories/flow-claims.ts `claimFlow`): one
 * statement spends an attempt (checking tenant, token, state, expiry, budget), registers the check in
 * flight on the method's counter (keys as src/engine/counter-keys.ts builds them) and reads what the
 * step needs. A claim adds no failure (issue 9, item 8): only recordFailure does. PGlite and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerFactorSubject, factorSubject, passwordSubject } from '../../src/engine/counter-keys.js';
import type { Need } from '../../src/engine/method.js';
import { claimFlow, type ClaimRequest } from '../../src/storage/repositories/flow-claims.js';
import type { Store } from '../../src/storage/store.js';
import { backends, testStore } from '../helpers/db.js';
import { at, hash32, range, uniq } from '../helpers/fixtures.js';
import { seedFlow } from '../helpers/flow-store.js';

const password = { kind: 'password', counter: 'identifier' as const, slot: 'password', needs: ['account'] as Need[] };
const totp = { kind: 'totp', counter: 'subject' as const, slot: 'totp', needs: ['credential'] as Need[] };

describe.each(await backends())('flow claim storage on %s', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await testStore(backend);
  });
  afterAll(() => store?.close());

  const claim = (r: Partial<ClaimRequest> & { id: string; now: Date }) => claimFlow(store.db, { states: ['password'], spend: true, ...r });

  async function newCustomer(tenantId: string, now: Date) {
    const id = randomUUID();
    await store.customers.create({ id, tenantId, externalId: `x-${uniq()}`, name: 'Caller', accountNumber: null, nationalId: null, nationalIdHint: null, dateOfBirth: null, cardLast4: null,
      contacts: [{ id: randomUUID(), kind: 'phone', value: '+15550100', label: 'mobile', verified: true }, { id: randomUUID(), kind: 'email', value: 'c@example.com', label: 'home', verified: true }] }, now);
    return id;
  }

  it('spends one attempt, registers the check on the password counter, and reads policy, account and credential kinds at once', async () => {
    const { tenant, user, flow, secret, now } = await seedFlow(store);
    await store.credentials.replaceRecoveryCodes({ id: randomUUID(), tenantId: tenant.id, subject: { type: 'user', id: user.id }, hashes: [hash32()], now });
    const c = await claim({ id: flow.id, secretHash: secret, now, method: password });
    expect(c?.flow.attempts_left).toBe(4);
    expect(c?.flow.secret_hash?.equals(secret)).toBe(true);
    expect(c?.tenantSlug).toBe(tenant.slug);
    expect(c?.policy).toEqual({ version: 1, raw: { test: true } });
    expect(c?.counter).toEqual({ subject: passwordSubject(tenant.id, user.email), failures: 0, lastFailureAt: null, lockedUntil: null, inFlight: 1, prevClaimAt: null });
    expect(c?.loaded.account).toMatchObject({ id: user.id, tenantId: tenant.id, email: user.email, roles: ['agent', 'supervisor'], status: 'active', passwordHash: 'argon2-placeholder', graceSignins: 0, activeKinds: ['recovery_code'] });
    expect(await store.counters.get(passwordSubject(tenant.id, user.email))).toMatchObject({ failures: 0, inFlight: 1 });
    expect((await store.flows.byId(flow.id))?.attempts_left).toBe(4);
  });

  it('an unknown identifier is counted the same way, with no account', async () => {
    const { tenant, flow, secret, now } = await seedFlow(store, { identifier: 'nobody@example.com' });
    const c = await claim({ id: flow.id, secretHash: secret, now, method: password });
    expect(c?.loaded.account).toBeUndefined();
    expect(c?.counter?.subject).toBe(passwordSubject(tenant.id, 'nobody@example.com'));
  });

  it('once the subject is known the account is read by its id, and a method counter is keyed by subject and method', async () => {
    const { user, flow, secret, now } = await seedFlow(store, { state: 'second_factor', withUser: true, identifier: 'typed-differently@example.com' });
    const c = await claim({ id: flow.id, secretHash: secret, states: ['second_factor'], now, method: { ...totp, needs: ['account', 'credential'] } });
    expect(c?.counter?.subject).toBe(factorSubject(user.id, 'totp'));
    expect(c?.loaded.account?.id).toBe(user.id);
    expect(c?.loaded.credential).toBeUndefined(); // no active TOTP yet
  });

  it("a customer's method counter is keyed as customerFactorSubject", async () => {
    const { tenant, now } = await seedFlow(store);
    const customerId = await newCustomer(tenant.id, now);
    const { flow } = await seedFlowIn(tenant.id, customerId, now);
    const c = await claimFlow(store.db, { id: flow.id, tenantId: tenant.id, states: ['pending'], spend: true, now, method: { kind: 'pin', counter: 'subject', slot: 'pin', needs: ['pin'] } });
    expect(c?.counter?.subject).toBe(customerFactorSubject(customerId, 'pin'));
  });

  /** A verification flow of a customer in an existing tenant. */
  async function seedFlowIn(tenantId: string, customerId: string, now: Date, o: { attempts?: number; ceremony?: Record<string, unknown> } = {}) {
    const flow = await store.flows.create({
      id: randomUUID(), tenant_id: tenantId, kind: 'verification', subject_type: 'customer', subject_id: customerId, state: 'pending', required_level: 'standard',
      attempts_initial: o.attempts ?? 5, attempts_left: o.attempts ?? 5, created_at: now, updated_at: now, expires_at: at(now, 600), ...(o.ceremony ? { ceremony: o.ceremony } : {}),
    });
    return { flow };
  }

  it('a wrong token, a wrong state, an expired flow, an unknown id or another tenant claim nothing and count nothing', async () => {
    const { tenant, user, flow, secret, now } = await seedFlow(store);
    const other = await seedFlow(store);
    const refused = [
      { secretHash: hash32() },
      { secretHash: secret, states: ['second_factor'] },
      { secretHash: secret, now: at(now, 600) }, // at expiry
      { secretHash: secret, now: at(now, 601) },
      { secretHash: secret, id: randomUUID() },
      { secretHash: secret, tenantId: other.tenant.id },
    ];
    for (const r of refused) expect(await claim({ id: flow.id, now, method: password, ...r }), JSON.stringify(Object.keys(r))).toBeUndefined();
    expect(await store.counters.get(passwordSubject(tenant.id, user.email))).toBeNull();
    expect((await store.flows.byId(flow.id))?.attempts_left).toBe(5);
    // the right tenant and token, one second before expiry, still claims
    expect((await claim({ id: flow.id, tenantId: tenant.id, secretHash: secret, now: at(now, 599), method: password }))?.flow).toMatchObject({ attempts_left: 4, updated_at: at(now, 599) });
  });

  it('a spent budget claims nothing (and registers nothing)', async () => {
    const { tenant, user, flow, secret, now } = await seedFlow(store, { attempts: 2 });
    const results = [];
    for (const _ of range(4)) results.push(await claim({ id: flow.id, secretHash: secret, now, method: password }));
    expect(results.map((r) => r?.flow.attempts_left)).toEqual([1, 0, undefined, undefined]);
    expect(results.map((r) => r?.counter?.inFlight)).toEqual([1, 2, undefined, undefined]);
    expect(await store.counters.get(passwordSubject(tenant.id, user.email))).toMatchObject({ failures: 0, inFlight: 2 });
    expect((await store.flows.byId(flow.id))?.attempts_left).toBe(0);
  });

  it('parallel claims of a flow with budget N: exactly N succeed', async () => {
    const { tenant, user, flow, secret, now } = await seedFlow(store, { attempts: 5 });
    const r = await Promise.all(range(15).map(() => claim({ id: flow.id, secretHash: secret, now, method: password })));
    const won = r.filter((x) => x !== undefined);
    expect(won).toHaveLength(5);
    expect(won.map((x) => x.flow.attempts_left).sort()).toEqual([0, 1, 2, 3, 4]);
    expect((await store.flows.byId(flow.id))?.attempts_left).toBe(0);
    expect((await store.counters.get(passwordSubject(tenant.id, user.email)))?.inFlight).toBe(5);
  });

  it('20 parallel claims: in_flight values 1..20 in some order, failures unchanged, 20 attempts spent', async () => {
    const { tenant, user, flow, secret, now } = await seedFlow(store, { attempts: 20 });
    const r = await Promise.all(range(20).map(() => claim({ id: flow.id, secretHash: secret, now, method: password })));
    expect(r.map((x) => x?.counter?.inFlight).sort((a, b) => a! - b!)).toEqual(range(20));
    expect(r.every((x) => x?.counter?.failures === 0)).toBe(true);
    expect(await store.counters.get(passwordSubject(tenant.id, user.email))).toMatchObject({ failures: 0, inFlight: 20 });
    expect((await store.flows.byId(flow.id))?.attempts_left).toBe(0);
  });

  it('a claim that checks nothing (spend: false) spends no attempt but still checks state and expiry', async () => {
    const { flow, secret, now } = await seedFlow(store);
    const c = await claim({ id: flow.id, secretHash: secret, now, spend: false });
    expect(c?.flow.attempts_left).toBe(5);
    expect(c?.counter).toBeNull();
    expect(await claim({ id: flow.id, secretHash: secret, now, spend: false, states: ['second_factor'] })).toBeUndefined();
    expect(await claim({ id: flow.id, secretHash: secret, now: at(now, 600), spend: false })).toBeUndefined();
    expect((await store.flows.byId(flow.id))?.attempts_left).toBe(5);
  });

  it('readOnly reads terminal flows (completed, canceled, failed, expired) without spending, tenant-scoped', async () => {
    const { tenant, now } = await seedFlow(store);
    const customerId = await newCustomer(tenant.id, now);
    const flows = await Promise.all(range(4).map(() => seedFlowIn(tenant.id, customerId, now)));
    const [done, canceled, failed, expired] = flows.map((f) => f.flow);
    await store.db.updateTable('flows').set({ state: 'completed', completed_at: now }).where('id', '=', done!.id).execute();
    await store.db.updateTable('flows').set({ state: 'canceled' }).where('id', '=', canceled!.id).execute();
    await store.db.updateTable('flows').set({ attempts_left: 0 }).where('id', '=', failed!.id).execute();
    const later = at(now, 3600);
    for (const [f, state] of [[done, 'completed'], [canceled, 'canceled'], [failed, 'pending'], [expired, 'pending']] as const) {
      const r = await claimFlow(store.db, { id: f!.id, tenantId: tenant.id, states: [], spend: false, readOnly: true, now: later, kindNeeds: ['customer'] });
      expect(r?.flow).toMatchObject({ id: f!.id, state });
      expect(r?.customer?.contacts).toHaveLength(2);
      const viaRepo = await store.flows.readWith(tenant.id, f!.id, [], later);
      expect(viaRepo?.flow.id).toBe(f!.id);
    }
    expect((await store.flows.byId(failed!.id))?.attempts_left).toBe(0);
    expect((await store.flows.byId(expired!.id))?.attempts_left).toBe(5);
    const other = await seedFlow(store);
    expect(await claimFlow(store.db, { id: done!.id, tenantId: other.tenant.id, states: [], spend: false, readOnly: true, now })).toBeUndefined();
    expect(await store.flows.readWith(other.tenant.id, done!.id, [], now)).toBeUndefined();
  });

  it('needs: the active credential with its material, the unused recovery codes, and the pending credential the ceremony names', async () => {
    const { tenant, user, flow, secret, now } = await seedFlow(store, { state: 'second_factor', withUser: true });
    const subject = { type: 'user' as const, id: user.id };
    const active = await store.credentials.createPending({ id: randomUUID(), tenantId: tenant.id, subject, kind: 'totp', label: 'phone', material: Buffer.from('sealed-active'), now });
    await store.credentials.activate(subject, active.id, now);
    const c = await claim({ id: flow.id, secretHash: secret, states: ['second_factor'], now, method: totp });
    const stored = await store.db.selectFrom('credentials').select('material').where('id', '=', active.id).executeTakeFirstOrThrow();
    expect(c?.loaded.credential).toMatchObject({ id: active.id, status: 'active' });
    expect(c?.loaded.credential?.material?.equals(stored.material!)).toBe(true);

    const codes = [hash32(), hash32(), hash32()];
    await store.credentials.replaceRecoveryCodes({ id: randomUUID(), tenantId: tenant.id, subject, hashes: codes, now });
    await store.credentials.consumeRecoveryCode(subject, codes[1]!, now);
    const rc = await claim({ id: flow.id, secretHash: secret, states: ['second_factor'], now, method: { kind: 'recovery_code', counter: 'subject', slot: 'recovery_code', needs: ['credential'] } });
    expect(rc?.loaded.credential?.codes?.map((b) => b.toString('hex')).sort()).toEqual([codes[0]!, codes[2]!].map((b) => b.toString('hex')).sort());

    // enrollment: the pending credential named by the ceremony slot, not another pending one
    const enroll = await seedFlow(store, { state: 'enroll', withUser: true });
    const es = { type: 'user' as const, id: enroll.user.id };
    const pending = await store.credentials.createPending({ id: randomUUID(), tenantId: enroll.tenant.id, subject: es, kind: 'totp', label: 'new', material: Buffer.from('sealed-pending'), now });
    const pendingClaim = (ceremonyId: string) =>
      store.db.updateTable('flows').set({ ceremony: JSON.stringify({ totp: { pendingId: ceremonyId } }) }).where('id', '=', enroll.flow.id).execute()
        .then(() => claim({ id: enroll.flow.id, secretHash: enroll.secret, states: ['enroll'], now, method: { ...totp, needs: ['pending_credential'] } }));
    const p = await pendingClaim(pending.id);
    expect(p?.loaded.credential).toMatchObject({ id: pending.id, status: 'pending' });
    expect((await pendingClaim(randomUUID()))?.loaded.credential).toBeUndefined();
  });

  it('needs: PIN hash, questions in order, the customer overview and a message template', async () => {
    const { tenant, now } = await seedFlow(store);
    const customerId = await newCustomer(tenant.id, now);
    await store.customers.setPin(customerId, 'pin-hash', now);
    await store.customers.replaceQuestions(customerId, [{ id: randomUUID(), question: 'First pet?', answerHash: 'h1' }], now);
    await store.credentials.createPending({ id: randomUUID(), tenantId: tenant.id, subject: { type: 'customer', id: customerId }, kind: 'totp', label: 'app', material: null, now }).then((cr) => store.credentials.activate({ type: 'customer', id: customerId }, cr.id, now));
    await store.templates.apply(tenant.id, { upsert: [{ template: 'verification_code', locale: 'en', channel: 'sms', subject: '', body: 'Your code {{code}}' }], remove: [], by: null, now, events: [] });
    const { flow } = await seedFlowIn(tenant.id, customerId, now);
    const c = await claimFlow(store.db, {
      id: flow.id, tenantId: tenant.id, states: ['pending'], spend: false, now, kindNeeds: ['customer', 'template', 'pin', 'questions'], template: { name: 'verification_code', channel: 'sms' },
    });
    expect(c?.loaded.pinHash).toBe('pin-hash');
    expect(c?.loaded.questions).toEqual([expect.objectContaining({ question: 'First pet?', answerHash: 'h1' })]);
    expect(c?.customer).toMatchObject({ hasPin: true, questionCount: 1, credentialKinds: ['totp'] });
    expect(c?.customer?.createdAt).toBeInstanceOf(Date);
    expect(c?.customer?.contacts.map((x) => [x.kind, x.value])).toEqual([['phone', '+15550100'], ['email', 'c@example.com']]);
    expect(c?.template).toMatchObject({ tenantName: 'Test tenant', variants: [{ locale: 'en', subject: '', body: 'Your code {{code}}' }] });
    // a customer without a PIN or questions: null and an empty list, not absent
    const bare = await newCustomer(tenant.id, now);
    const b = await claimFlow(store.db, { id: (await seedFlowIn(tenant.id, bare, now)).flow.id, states: ['pending'], spend: false, now, kindNeeds: ['pin', 'questions', 'customer'] });
    expect(b?.loaded.pinHash).toBeNull();
    expect(b?.loaded.questions).toEqual([]);
    expect(b?.customer).toMatchObject({ hasPin: false, questionCount: 0, credentialKinds: [] });
  });

  it('rateHits: plain and sharded counts add up under parallel claims; a refused claim counts nothing', async () => {
    const { flow, secret, now } = await seedFlow(store, { attempts: 30 });
    const k = uniq();
    const hits = () => [
      { name: 'plain', key: sql<string>`${`ip:${k}`}`, windowMs: 60_000 },
      { name: 'shared', key: sql<string>`${`tenant:${k}`}`, windowMs: 60_000, shards: 4 },
    ];
    const r = await Promise.all(range(12).map(() => claim({ id: flow.id, secretHash: secret, now, spend: false, rateHits: hits() })));
    expect(r.map((x) => x!.rates.plain!.count).sort((a, b) => a - b)).toEqual(range(12));
    for (const x of r) expect(x!.rates.shared!.count).toBeGreaterThanOrEqual(1);
    const rows = await store.db.selectFrom('rate_windows').select(['key', 'count']).where('key', 'like', `tenant:${k}#%`).execute();
    expect(rows.reduce((s, x) => s + Number(x.count), 0)).toBe(12);
    const next = await claim({ id: flow.id, secretHash: secret, now, spend: false, rateHits: hits() });
    expect(next?.rates.plain?.count).toBe(13);
    expect(next?.rates.shared?.count).toBe(13);
    expect(next?.rates.plain?.resetAt.getTime()).toBe(Math.floor(now.getTime() / 60_000) * 60_000 + 60_000);
    expect(await claim({ id: flow.id, secretHash: hash32(), now, spend: false, rateHits: hits() })).toBeUndefined();
    expect((await claim({ id: flow.id, secretHash: secret, now, spend: false, rateHits: hits() }))?.rates.plain?.count).toBe(14);
  });
});
