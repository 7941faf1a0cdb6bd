/**
 * Storage conformance, CounterRepo (claim / recordFailure / release / reset / resetPrefix / states / get):
 * the same contract on PGlite and PostgreSQL. A claim registers a check in flight and never adds a
 * failure; only recordFailure does (issue 9, item 8). The credential parts are in conformance-credentials.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IN_FLIGHT_STALE_MS } from '../../src/storage/repositories/flow-claims.js';
import type { Store } from '../../src/storage/store.js';
import { backends, testStore } from '../helpers/db.js';
import { at, range, uniq } from '../helpers/fixtures.js';

const BACKENDS = await backends();
const fresh = { failures: 0, lastFailureAt: null, lockedUntil: null };

describe.each(BACKENDS)('counter storage conformance on %s', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await testStore(backend);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('claim registers checks in flight with the newest other claim, and adds no failure', async () => {
    const subject = `pw:${uniq()}:alice`;
    const t0 = new Date('2030-01-01T00:00:00.123Z');
    expect(await store.counters.claim(subject, t0)).toEqual({ ...fresh, inFlight: 1, prevClaimAt: null });
    expect(await store.counters.claim(subject, at(t0, 5))).toEqual({ ...fresh, inFlight: 2, prevClaimAt: t0 });
    const c = await store.counters.claim(subject, at(t0, 9));
    expect(c).toEqual({ ...fresh, inFlight: 3, prevClaimAt: at(t0, 5) });
    expect(await store.counters.get(subject)).toEqual(c);
    expect(await store.counters.get(`${subject}-other`)).toBeNull();
  });

  it('a check in flight longer than the stale limit no longer counts', async () => {
    const subject = `pw:${uniq()}:stale`;
    const t0 = new Date('2030-01-01T00:00:00.000Z');
    await store.counters.claim(subject, t0);
    await store.counters.claim(subject, at(t0, 1));
    const later = new Date(t0.getTime() + 1000 + IN_FLIGHT_STALE_MS + 1);
    expect(await store.counters.claim(subject, later)).toEqual({ ...fresh, inFlight: 1, prevClaimAt: null });
  });

  it('20 parallel claims all register: in_flight values 1..20 in some order, failures unchanged', async () => {
    const subject = `f:${uniq()}:totp`;
    const now = new Date();
    const results = await Promise.all(range(20).map((i) => store.counters.claim(subject, at(now, i))));
    expect(results.map((r) => r.inFlight).sort((x, y) => x - y)).toEqual(range(20));
    expect(results.every((r) => r.failures === 0)).toBe(true);
    expect(await store.counters.get(subject)).toMatchObject({ failures: 0, inFlight: 20 });
  });

  it('20 parallel recordFailure after 20 claims: failures 20, nothing left in flight', async () => {
    const subject = `f:${uniq()}:totp`;
    const now = new Date();
    await Promise.all(range(20).map(() => store.counters.claim(subject, now)));
    const after = await Promise.all(range(20).map((i) => store.counters.recordFailure(subject, at(now, i))));
    expect(after.sort((x, y) => x - y)).toEqual(range(20));
    expect(await store.counters.get(subject)).toMatchObject({ failures: 20, inFlight: 0 });
  });

  it('recordFailure adds one failure, stamps it and leaves the in-flight count; on no counter it creates nothing', async () => {
    const subject = `pw:${uniq()}:dave`;
    const now = new Date();
    expect(await store.counters.recordFailure(subject, now)).toBe(0);
    expect(await store.counters.get(subject)).toBeNull();
    await store.counters.claim(subject, now);
    await store.counters.claim(subject, at(now, 1));
    expect(await store.counters.recordFailure(subject, at(now, 2))).toBe(1);
    expect(await store.counters.get(subject)).toEqual({ failures: 1, lastFailureAt: at(now, 2), lockedUntil: null, inFlight: 1, prevClaimAt: now });
    // a later claim keeps the failure and its time
    expect(await store.counters.claim(subject, at(now, 3))).toMatchObject({ failures: 1, lastFailureAt: at(now, 2), inFlight: 2 });
  });

  it('recordFailure with a lock sets locked_until; a later failure without one keeps it', async () => {
    const subject = `pw:${uniq()}:carol`;
    const now = new Date();
    const until = at(now, 1800);
    await store.counters.claim(subject, now);
    expect(await store.counters.recordFailure(subject, now, until)).toBe(1);
    expect(await store.counters.get(subject)).toMatchObject({ failures: 1, lockedUntil: until, inFlight: 0 });
    await store.counters.claim(subject, at(now, 1));
    expect(await store.counters.recordFailure(subject, at(now, 1))).toBe(2);
    expect(await store.counters.get(subject)).toMatchObject({ failures: 2, lockedUntil: until, lastFailureAt: at(now, 1) });
  });

  it('release takes one check out of flight, never below zero, and never adds a failure', async () => {
    const subject = `pw:${uniq()}:erin`;
    const now = new Date();
    await store.counters.claim(subject, now);
    await store.counters.claim(subject, now);
    await store.counters.release(subject);
    expect(await store.counters.get(subject)).toMatchObject({ failures: 0, inFlight: 1, lastFailureAt: null });
    await store.counters.release(subject);
    await store.counters.release(subject);
    expect(await store.counters.get(subject)).toMatchObject({ failures: 0, inFlight: 0 });
    await store.counters.release(`${subject}-never`); // releasing nothing creates nothing
    expect(await store.counters.get(`${subject}-never`)).toBeNull();
  });

  it('reset deletes the counter, so the next claim starts fresh', async () => {
    const subject = `pw:${uniq()}:bob`;
    const now = new Date();
    await store.counters.claim(subject, now);
    await store.counters.recordFailure(subject, now, at(now, 60));
    await store.counters.reset(subject);
    expect(await store.counters.get(subject)).toBeNull();
    expect(await store.counters.claim(subject, at(now, 2))).toEqual({ ...fresh, inFlight: 1, prevClaimAt: null });
    await store.counters.reset(`${subject}-never-hit`); // resetting nothing is fine
  });

  it('resetPrefix deletes exactly the subjects under the prefix (LIKE wildcards are literal)', async () => {
    const k = uniq();
    const now = new Date();
    const subjects = [`pw:${k}:a`, `pw:${k}:b`, `pw:${k}x:c`, `f:${k}_1:totp`, `f:${k}Z1:totp`, `f:${k}%:totp`, `f:${k}%Q:totp`];
    for (const s of subjects) await store.counters.claim(s, now);
    expect(await store.counters.resetPrefix(`pw:${k}:`)).toBe(2);
    expect(await store.counters.get(`pw:${k}:a`)).toBeNull();
    expect(await store.counters.get(`pw:${k}:b`)).toBeNull();
    expect(await store.counters.get(`pw:${k}x:c`)).not.toBeNull();
    // '_' must not match any one character
    expect(await store.counters.resetPrefix(`f:${k}_1:`)).toBe(1);
    expect(await store.counters.get(`f:${k}Z1:totp`)).not.toBeNull();
    // '%' must not match any run of characters
    expect(await store.counters.resetPrefix(`f:${k}%:`)).toBe(1);
    expect(await store.counters.get(`f:${k}%Q:totp`)).not.toBeNull();
    expect(await store.counters.resetPrefix(`nothing:${k}`)).toBe(0);
  });

  it('states reads exact subjects and subject prefixes at once (wildcards literal)', async () => {
    const k = uniq();
    const now = new Date();
    const subjects = [`pw:${k}:a`, `pw:${k}:b`, `f:${k}:totp`, `f:${k}:recovery_code`, `f:${k}x:totp`, `f:${k}_:pin`, `c:${k}:pin`];
    for (const s of subjects) await store.counters.claim(s, now);
    await store.counters.recordFailure(`f:${k}:totp`, at(now, 1));
    const got = await store.counters.states([`pw:${k}:a`, `pw:${k}:missing`], [`f:${k}:`, `f:${k.slice(0, -1)}_`]);
    const bySubject = Object.fromEntries(got.map((g) => [g.subject, g]));
    expect(Object.keys(bySubject).sort()).toEqual([`f:${k}:recovery_code`, `f:${k}:totp`, `pw:${k}:a`].sort());
    expect(bySubject[`f:${k}:totp`]).toEqual({ subject: `f:${k}:totp`, failures: 1, lastFailureAt: at(now, 1), lockedUntil: null, inFlight: 0, prevClaimAt: null });
    expect(bySubject[`pw:${k}:a`]).toMatchObject({ failures: 0, inFlight: 1 });
    expect(await store.counters.states([], [])).toEqual([]);
    expect((await store.counters.states([], [`c:${k}:`])).map((s) => s.subject)).toEqual([`c:${k}:pin`]);
  });
});
