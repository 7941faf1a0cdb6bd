/**
 * Storage conformance, what the engine writes after a check (src/storage/repositories/flow-records.ts):
 * recordSuccess (advance + effects + extras + counter reset + events in one statement, all or nothing
 * under its guard), recordFailure, release, writeChallenge. PGlite and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { factorSubject, passwordSubject } from '../../src/engine/counter-keys.js';
import { claimFlow } from '../../src/storage/repositories/flow-claims.js';
import { recordFailure, recordSuccess, release, writeChallenge, type Advance } from '../../src/storage/repositories/flow-records.js';
import type { Store } from '../../src/storage/store.js';
import { backends, testStore } from '../helpers/db.js';
import { at, hash32, range, uniq } from '../helpers/fixtures.js';
import { eventsFor, flowEvent, seedFlow } from '../helpers/flow-store.js';

describe.each(await backends())('flow record storage on %s', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await testStore(backend);
  });
  afterAll(() => store?.close());

  const sessionInsert = (id: string, tenantId: string, userId: string, now: Date) =>
    sql`INSERT INTO sessions (id, token_hash, tenant_id, user_id, aal, methods, auth_time, created_at, last_seen_at, idle_timeout_s, expires_at)
        VALUES (${id}, ${hash32()}, ${tenantId}, ${userId}, 2, ${['pwd', 'totp']}, ${now}, ${now}, ${now}, 1800, ${at(now, 3600)}) RETURNING id`;
  const sessionExists = async (id: string) => (await store.db.selectFrom('sessions').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;

  /** A user with an active TOTP credential, and a second-factor flow of theirs. */
  async function totpFlow(extra: { user?: { tenantId: string; id: string } } = {}) {
    const f = extra.user
      ? await seedFlowFor(extra.user.tenantId, extra.user.id)
      : await seedFlow(store, { state: 'second_factor', withUser: true });
    const tenantId = extra.user?.tenantId ?? f.tenant.id;
    const userId = extra.user?.id ?? f.user.id;
    const cred = extra.user
      ? (await store.credentials.active({ type: 'user', id: userId }, 'totp'))!
      : await store.credentials.createPending({ id: randomUUID(), tenantId, subject: { type: 'user', id: userId }, kind: 'totp', label: 'phone', material: Buffer.from('m'), now: f.now }).then(async (c) => (await store.credentials.activate({ type: 'user', id: userId }, c.id, f.now), c));
    return { ...f, tenantId, userId, credId: cred.id };
  }
  async function seedFlowFor(tenantId: string, userId: string) {
    const now = new Date();
    const secret = hash32();
    const flow = await store.flows.create({ id: randomUUID(), tenant_id: tenantId, kind: 'signin', subject_type: 'user', subject_id: userId, secret_hash: secret, state: 'second_factor',
      required_level: 'aal2', attempts_initial: 5, attempts_left: 5, created_at: now, updated_at: now, expires_at: at(now, 600) });
    return { flow, secret, now, tenant: { id: tenantId }, user: { id: userId } };
  }

  const success = (f: { flow: { id: string }; secret: Buffer; now: Date }, o: Partial<Advance> & Pick<Advance, 'effects' | 'events'>) =>
    recordSuccess(store.db, { id: f.flow.id, from: { state: 'second_factor', secretHash: f.secret }, to: { state: 'completed', secretHash: null, method: 'totp' }, refund: false, counterSubject: null, now: f.now, ...o });

  it('advances the flow, spends the effect, resets the counter, writes the events and the extras in one statement', async () => {
    const f = await totpFlow();
    const subject = factorSubject(f.userId, 'totp');
    await claimFlow(store.db, { id: f.flow.id, secretHash: f.secret, states: ['second_factor'], spend: true, now: f.now, method: { kind: 'totp', counter: 'subject', slot: 'totp', needs: [] } });
    await store.counters.recordFailure(subject, f.now);
    const sid = randomUUID();
    const r = await success(f, {
      to: { state: 'completed', secretHash: null, method: 'totp', clearSlots: ['totp'], setSlots: { note: { x: 1 } }, context: { sessionId: sid }, resultId: sid },
      counterSubject: subject,
      refund: true,
      effects: [{ kind: 'totp_step', subjectId: f.userId, step: 1000, credentialId: f.credId }],
      events: [flowEvent(f.tenantId, 'signin.completed', f.flow.id)],
      extra: [{ name: 'sess', sql: sessionInsert(sid, f.tenantId, f.userId, f.now), required: true, returns: true }],
    });
    expect(r).toMatchObject({ id: f.flow.id, state: 'completed', secret_hash: null, completed_methods: ['totp'], attempts_left: 5, result_id: sid, completed_at: f.now, ceremony: { note: { x: 1 } } });
    expect(r?.context).toMatchObject({ sessionId: sid });
    expect(r?.extras.sess).toEqual({ id: sid });
    expect(await store.counters.get(subject)).toBeNull();
    expect(await eventsFor(store, f.flow.id)).toEqual(['signin.completed']);
    expect(await sessionExists(sid)).toBe(true);
    expect(await store.db.selectFrom('totp_used_steps').select('step').where('subject_id', '=', f.userId).execute()).toEqual([{ step: 1000 }]);
    expect((await store.credentials.byId({ type: 'user', id: f.userId }, f.credId))?.last_used_at).toEqual(f.now);
  });

  it('a TOTP step used twice in parallel: exactly one succeeds; the loser wrote no event, no session, no advance', async () => {
    const a = await totpFlow();
    const b = await totpFlow({ user: { tenantId: a.tenantId, id: a.userId } });
    const sids = [randomUUID(), randomUUID()];
    const results = await Promise.all([a, b].map((f, i) => success(f, {
      effects: [{ kind: 'totp_step', subjectId: a.userId, step: 2000, credentialId: a.credId }],
      events: [flowEvent(a.tenantId, 'signin.completed', f.flow.id)],
      extra: [{ name: 'sess', sql: sessionInsert(sids[i]!, a.tenantId, a.userId, f.now), required: true }],
    })));
    const winner = results.findIndex((r) => r !== undefined);
    expect(winner).toBeGreaterThanOrEqual(0);
    expect(results.filter((r) => r === undefined)).toHaveLength(1);
    const loser = 1 - winner;
    const lf = [a, b][loser]!;
    expect(await eventsFor(store, lf.flow.id)).toEqual([]);
    expect(await sessionExists(sids[loser]!)).toBe(false);
    expect((await store.flows.byId(lf.flow.id))?.state).toBe('second_factor');
    expect(await eventsFor(store, [a, b][winner]!.flow.id)).toEqual(['signin.completed']);
    expect(await sessionExists(sids[winner]!)).toBe(true);
  });

  it('a flow that moved (state or token) or a required extra that touches no row writes nothing', async () => {
    const f = await totpFlow();
    const subject = factorSubject(f.userId, 'totp');
    await store.counters.claim(subject, f.now);
    const attempt = (o: Partial<Advance>) => success(f, {
      counterSubject: subject,
      effects: [{ kind: 'totp_step', subjectId: f.userId, step: 3000, credentialId: f.credId }],
      events: [flowEvent(f.tenantId, 'signin.completed', f.flow.id)],
      ...o,
    });
    expect(await attempt({ from: { state: 'password', secretHash: f.secret } })).toBeUndefined();
    expect(await attempt({ from: { state: 'second_factor', secretHash: hash32() } })).toBeUndefined();
    // the losers wrote nothing: no effect, no counter reset, no event
    expect(await store.counters.get(subject)).toMatchObject({ inFlight: 1 });
    expect(await store.db.selectFrom('totp_used_steps').select('step').where('subject_id', '=', f.userId).execute()).toEqual([]);
    expect(await eventsFor(store, f.flow.id)).toEqual([]);
    expect(await attempt({ from: { state: 'second_factor', secretHash: f.secret, requireMethodAbsent: 'totp' }, to: { state: 'completed', method: 'totp' } }).then((r) => r?.state)).toBe('completed');
    // the same flow again: its state moved on
    expect(await store.counters.get(subject)).toBeNull();
    expect(await attempt({ effects: [] })).toBeUndefined();
    const g = await totpFlow();
    const missing = await success(g, {
      effects: [{ kind: 'totp_step', subjectId: g.userId, step: 3000, credentialId: g.credId }],
      events: [flowEvent(g.tenantId, 'signin.completed', g.flow.id)],
      extra: [{ name: 'touch', sql: sql`UPDATE users SET grace_signins = grace_signins + 1 WHERE id = ${randomUUID()} RETURNING 1`, required: true }],
    });
    expect(missing).toBeUndefined();
    expect(await eventsFor(store, g.flow.id)).toEqual([]);
    expect(await store.db.selectFrom('totp_used_steps').select('step').where('subject_id', '=', g.userId).execute()).toEqual([]);
    expect((await store.flows.byId(g.flow.id))).toMatchObject({ state: 'second_factor', attempts_left: 5, completed_methods: [] });
    // a not-required extra touching no row does not stop it
    const ok = await success(g, { effects: [], events: [], extra: [{ name: 'touch', sql: sql`UPDATE users SET grace_signins = 0 WHERE id = ${randomUUID()} RETURNING 1`, returns: true }] });
    expect(ok?.state).toBe('completed');
    expect(ok?.extras.touch).toBeNull();
  });

  it('requireMethodAbsent refuses a method already completed (a right answer replayed)', async () => {
    const f = await seedFlow(store, { state: 'second_factor', withUser: true });
    const step = (s: Buffer) => recordSuccess(store.db, { id: f.flow.id, from: { state: 'second_factor', secretHash: s, requireMethodAbsent: 'pwd' }, to: { state: 'second_factor', secretHash: s, method: 'pwd' }, refund: false, counterSubject: null, effects: [], events: [], now: f.now });
    expect((await step(f.secret))?.completed_methods).toEqual(['pwd']);
    expect(await step(f.secret)).toBeUndefined();
  });

  it('10 parallel advances from the same state and token: exactly one wins, refunded and appended once', async () => {
    const f = await seedFlow(store, { attempts: 4, initial: 5 });
    const secrets = range(10).map(() => hash32());
    const results = await Promise.all(secrets.map((s) =>
      recordSuccess(store.db, { id: f.flow.id, from: { state: 'password', secretHash: f.secret }, to: { state: 'second_factor', secretHash: s, method: 'pwd', subject: { type: 'user', id: f.user.id } }, refund: true, counterSubject: null, effects: [], events: [flowEvent(f.tenant.id, 'signin.password', f.flow.id)], now: f.now })));
    const winners = results.filter((r) => r !== undefined);
    expect(winners).toHaveLength(1);
    const after = await store.flows.byId(f.flow.id);
    expect(after).toMatchObject({ state: 'second_factor', completed_methods: ['pwd'], attempts_left: 5, subject_type: 'user', subject_id: f.user.id });
    expect(after?.secret_hash?.equals(winners[0]!.secret_hash!)).toBe(true);
    expect(await eventsFor(store, f.flow.id)).toEqual(['signin.password']);
    // the old token no longer claims
    expect(await claimFlow(store.db, { id: f.flow.id, secretHash: f.secret, states: ['password', 'second_factor'], spend: true, now: f.now })).toBeUndefined();
  });

  it('recordFailure: failures + 1, in_flight - 1, the lock, the ceremony change and the events, in one statement', async () => {
    const f = await seedFlow(store);
    const subject = passwordSubject(f.tenant.id, f.user.email);
    await Promise.all(range(2).map(() => claimFlow(store.db, { id: f.flow.id, secretHash: f.secret, states: ['password'], spend: true, now: f.now, method: { kind: 'password', counter: 'identifier', slot: 'password', needs: [] } })));
    const until = at(f.now, 1800);
    expect(await recordFailure(store.db, { flowId: f.flow.id, counterSubject: subject, lockUntil: until, setSlots: { question: { failed: ['q1'] } }, events: [flowEvent(f.tenant.id, 'signin.password_failed', f.flow.id)], now: f.now })).toBe(1);
    expect(await store.counters.get(subject)).toMatchObject({ failures: 1, inFlight: 1, lockedUntil: until, lastFailureAt: f.now });
    expect((await store.flows.byId(f.flow.id))?.ceremony).toEqual({ question: { failed: ['q1'] } });
    expect(await recordFailure(store.db, { flowId: f.flow.id, counterSubject: subject, lockUntil: null, clearSlots: ['question'], events: [], now: at(f.now, 1) })).toBe(2);
    expect(await store.counters.get(subject)).toMatchObject({ failures: 2, inFlight: 0, lockedUntil: until, lastFailureAt: at(f.now, 1) });
    expect((await store.flows.byId(f.flow.id))?.ceremony).toEqual({});
    expect((await store.flows.byId(f.flow.id))?.attempts_left).toBe(3); // a failure refunds nothing
    expect(await recordFailure(store.db, { flowId: f.flow.id, counterSubject: null, lockUntil: null, events: [flowEvent(f.tenant.id, 'verification.failed', f.flow.id)], now: f.now })).toBe(0);
    expect(await eventsFor(store, f.flow.id)).toEqual(['signin.password_failed', 'verification.failed']);
  });

  it('release: in_flight - 1 and the refund (never above the initial budget), no failure, events written', async () => {
    const f = await seedFlow(store, { attempts: 5 });
    const subject = passwordSubject(f.tenant.id, f.user.email);
    const m = { kind: 'password', counter: 'identifier' as const, slot: 'password', needs: [] };
    await claimFlow(store.db, { id: f.flow.id, secretHash: f.secret, states: ['password'], spend: true, now: f.now, method: m });
    await claimFlow(store.db, { id: f.flow.id, secretHash: f.secret, states: ['password'], spend: true, now: f.now, method: m });
    await release(store.db, { flowId: f.flow.id, counterSubject: subject, refund: true, inFlight: true, events: [flowEvent(f.tenant.id, 'signin.throttled', f.flow.id)], now: f.now });
    expect(await store.counters.get(subject)).toMatchObject({ failures: 0, inFlight: 1, lastFailureAt: null });
    expect((await store.flows.byId(f.flow.id))?.attempts_left).toBe(4);
    expect((await store.flows.byId(f.flow.id))?.in_flight, 'the flow counts its own attempts in flight').toBe(1);
    await release(store.db, { flowId: f.flow.id, counterSubject: subject, refund: false, inFlight: true, events: [], now: f.now });
    expect(await store.counters.get(subject)).toMatchObject({ failures: 0, inFlight: 0 });
    expect((await store.flows.byId(f.flow.id))?.attempts_left).toBe(4);
    expect((await store.flows.byId(f.flow.id))?.in_flight).toBe(0);
    for (const _ of range(3)) await release(store.db, { flowId: f.flow.id, counterSubject: subject, refund: true, inFlight: true, events: [], now: f.now });
    expect((await store.flows.byId(f.flow.id))?.in_flight, 'never below 0').toBe(0);
    expect((await store.flows.byId(f.flow.id))?.attempts_left).toBe(5); // capped at attempts_initial
    expect(await store.counters.get(subject)).toMatchObject({ inFlight: 0 });
    expect(await eventsFor(store, f.flow.id)).toEqual(['signin.throttled']);
  });

  it('writeChallenge sets a ceremony slot and its extra rows only while the flow is open', async () => {
    const now = new Date();
    const open = await seedFlow(store, { kind: 'verification', state: 'pending', now, ceremony: { question: { askedId: 'q0' } } });
    const k = uniq();
    const extraRow = (key: string) => [{ name: 'row', sql: sql`INSERT INTO rate_windows (key, window_start, count) VALUES (${key}, ${now}, 1) RETURNING 1` }];
    const rowCount = async (key: string) => (await store.db.selectFrom('rate_windows').select('key').where('key', '=', key).execute()).length;
    const write = (flowId: string, key: string, tenantId: string, when = now) =>
      writeChallenge(store.db, { flowId, states: ['pending'], setSlots: { otp: { hash: 'h', sentAt: when.toISOString() } }, events: [flowEvent(tenantId, 'verification.code_sent', flowId)], extra: extraRow(key), now: when });
    expect(await write(open.flow.id, `open:${k}`, open.tenant.id)).toBe(true);
    expect((await store.flows.byId(open.flow.id))?.ceremony).toEqual({ question: { askedId: 'q0' }, otp: { hash: 'h', sentAt: now.toISOString() } });
    expect(await rowCount(`open:${k}`)).toBe(1);
    expect(await eventsFor(store, open.flow.id)).toEqual(['verification.code_sent']);

    const closed = await Promise.all(range(4).map(() => seedFlow(store, { kind: 'verification', state: 'pending', now })));
    await store.db.updateTable('flows').set({ state: 'completed' }).where('id', '=', closed[0]!.flow.id).execute();
    await store.db.updateTable('flows').set({ state: 'canceled' }).where('id', '=', closed[1]!.flow.id).execute();
    await store.db.updateTable('flows').set({ attempts_left: 0 }).where('id', '=', closed[2]!.flow.id).execute();
    for (const [i, c] of closed.entries()) {
      const when = i === 3 ? at(now, 600) : now; // the last one has expired
      expect(await write(c.flow.id, `closed:${k}:${i}`, c.tenant.id, when), `flow ${i}`).toBe(false);
      expect(await rowCount(`closed:${k}:${i}`)).toBe(0);
      expect(await eventsFor(store, c.flow.id)).toEqual([]);
      expect((await store.flows.byId(c.flow.id))?.ceremony).toEqual({});
    }
  });
});
