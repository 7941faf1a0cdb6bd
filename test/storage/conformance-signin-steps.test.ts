/** Storage conformance, the sign-in hot path (SigninStepRepo.claimStep, advance with reset, createForSignin). */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { factorSubject, passwordSubject } from '../../src/engine/counter-keys.js';
import type { FlowRow } from '../../src/storage/repositories/flows.js';
import type { Store } from '../../src/storage/store.js';
import { backends, testStore } from '../helpers/db.js';
import { at, hash32, range, seedTenantAndUser } from '../helpers/fixtures.js';

describe.each(await backends())('sign-in step storage on %s', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await testStore(backend);
  });
  afterAll(() => store?.close());

  async function flowFor(opts: { attempts?: number; state?: string; withUser?: boolean; identifier?: string } = {}) {
    const { tenant, user } = await seedTenantAndUser(store, { roles: ['agent', 'supervisor'] });
    const now = new Date();
    const secret = hash32();
    const flow: FlowRow = await store.flows.create({
      id: randomUUID(), tenant_id: tenant.id, kind: 'signin', secret_hash: secret, state: opts.state ?? 'password',
      identifier: opts.identifier ?? user.email, user_id: opts.withUser ? user.id : null, session_id: null, required_aal: 1,
      attempts_left: opts.attempts ?? 5, ip: null, user_agent: null, created_at: now, updated_at: now, expires_at: at(now, 600),
    });
    return { tenant, user, flow, secret, now };
  }

  it('claims an attempt, counts it on the password counter and reads policy, account and factor kinds at once', async () => {
    const { tenant, user, flow, secret, now } = await flowFor();
    await store.credentials.replaceRecoveryCodes({ id: randomUUID(), tenantId: tenant.id, subject: { type: 'user', id: user.id }, hashes: [hash32()], now });
    const c = await store.steps.claimStep({ id: flow.id, secretHash: secret, states: ['password'], now, counter: { kind: 'password' } });
    expect(c?.flow.attempts_left).toBe(4);
    expect(c?.flow.secret_hash.equals(secret)).toBe(true);
    expect(c?.policy).toEqual({ version: 1, raw: { test: true } });
    expect(c?.counter).toMatchObject({ subject: passwordSubject(tenant.id, user.email), failures: 1, lockedUntil: null });
    expect(c?.account).toMatchObject({ id: user.id, email: user.email, roles: ['agent', 'supervisor'], status: 'active', activeKinds: ['recovery_code'] });
    expect((await store.counters.get(passwordSubject(tenant.id, user.email)))?.failures).toBe(1);
  });

  it('an unknown identifier is counted the same way, with no account', async () => {
    const { tenant, flow, secret, now } = await flowFor({ identifier: 'nobody@example.com' });
    const c = await store.steps.claimStep({ id: flow.id, secretHash: secret, states: ['password'], now, counter: { kind: 'password' } });
    expect(c?.account).toBeUndefined();
    expect(c?.counter?.subject).toBe(passwordSubject(tenant.id, 'nobody@example.com'));
  });

  it('the factor counter is keyed by the flow user and method', async () => {
    const { user, flow, secret, now } = await flowFor({ state: 'second_factor', withUser: true });
    const c = await store.steps.claimStep({ id: flow.id, secretHash: secret, states: ['second_factor'], now, counter: { kind: 'factor', method: 'totp' } });
    expect(c?.counter?.subject).toBe(factorSubject(user.id, 'totp'));
  });

  it('refuses a wrong token, a wrong state or an expired flow without counting anything', async () => {
    const { tenant, user, flow, secret, now } = await flowFor();
    expect(await store.steps.claimStep({ id: flow.id, secretHash: hash32(), states: ['password'], now, counter: { kind: 'password' } })).toBeUndefined();
    expect(await store.steps.claimStep({ id: flow.id, secretHash: secret, states: ['second_factor'], now, counter: { kind: 'password' } })).toBeUndefined();
    expect(await store.steps.claimStep({ id: flow.id, secretHash: secret, states: ['password'], now: at(now, 601), counter: { kind: 'password' } })).toBeUndefined();
    expect(await store.counters.get(passwordSubject(tenant.id, user.email))).toBeNull();
    expect((await store.flows.byId(flow.id))?.attempts_left).toBe(5);
  });

  it('once the budget is spent, claims go below zero and every attempt is still counted', async () => {
    const { tenant, user, flow, secret, now } = await flowFor({ attempts: 2 });
    const results = [];
    for (const _ of range(4)) results.push(await store.steps.claimStep({ id: flow.id, secretHash: secret, states: ['password'], now, counter: { kind: 'password' } }));
    expect(results.map((r) => r?.flow.attempts_left)).toEqual([1, 0, -1, -2]);
    expect(results.map((r) => r?.counter?.failures ?? null)).toEqual([1, 2, 3, 4]);
    expect((await store.counters.get(passwordSubject(tenant.id, user.email)))?.failures).toBe(4);
  });

  it('20 parallel claims count 20 failures and spend 20 attempts exactly', async () => {
    const { tenant, user, flow, secret, now } = await flowFor({ attempts: 20 });
    const r = await Promise.all(range(20).map(() => store.steps.claimStep({ id: flow.id, secretHash: secret, states: ['password'], now, counter: { kind: 'password' } })));
    expect(r.map((x) => x?.counter?.failures).sort((a, b) => a! - b!)).toEqual(range(20));
    expect((await store.counters.get(passwordSubject(tenant.id, user.email)))?.failures).toBe(20);
    expect((await store.flows.byId(flow.id))?.attempts_left).toBe(0);
  });

  it('advance with resetCounter clears the counter in the same statement, and only for the winner', async () => {
    const { tenant, user, flow, secret, now } = await flowFor();
    const subject = passwordSubject(tenant.id, user.email);
    await store.steps.claimStep({ id: flow.id, secretHash: secret, states: ['password'], now, counter: { kind: 'password' } });
    const lost = await store.flows.advance(flow.id, { state: 'password', secretHash: hash32() }, { state: 'completed', secretHash: hash32(), refund: true, resetCounter: subject }, now);
    expect(lost).toBeUndefined();
    // a losing advance still runs its CTE: the counter reset is harmless (the winner resets it too)
    const won = await store.flows.advance(flow.id, { state: 'password', secretHash: secret }, { state: 'completed', secretHash: hash32(), method: 'pwd', refund: true, resetCounter: subject }, now);
    expect(won?.state).toBe('completed');
    expect(await store.counters.get(subject)).toBeNull();
  });

  it('createForSignin writes the session, the last sign-in and the audit events together', async () => {
    const { tenant, user, now } = await flowFor();
    const id = randomUUID();
    const tokenHash = hash32();
    await store.sessions.createForSignin(
      { id, tokenHash, tenantId: tenant.id, userId: user.id, aal: 2, methods: ['pwd', 'totp'], authTime: now, now, idleTimeoutS: 3600, expiresAt: at(now, 86_400), ip: null, userAgent: null },
      { inGrace: true, events: [{ tenantId: tenant.id, type: 'session.created', outcome: 'success', actor: { type: 'user', id: user.id }, target: { type: 'session', id }, at: now }] },
    );
    expect((await store.sessions.lookup(tokenHash, now))?.id).toBe(id);
    const u = await store.users.byId(tenant.id, user.id);
    expect(u?.last_signin_at?.getTime()).toBe(now.getTime());
    expect(u?.grace_signins).toBe(1);
    const ev = await store.db.selectFrom('audit_events').selectAll().where('target_id', '=', id).execute();
    expect(ev.map((e) => e.type)).toEqual(['session.created']);
  });
});
