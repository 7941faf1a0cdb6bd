/**
 * The attempt gate (security-requirements.md, Throttling and lockout; src/engine/gate.ts): exponential
 * back-off after `backoffAfter` failures, the hard cap of 100 consecutive failures (the 101st attempt is
 * refused), PCI mode's 30-minute lock after 10; only checked wrong answers count; the checks still in
 * flight are judged as if they had failed, anchored on the newest of them (issue 9, item 8).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttemptGate } from '../../src/engine/attempt-gate.js';
import { backoffDelayMs, gateError, judge, lockAfterFailure, type CounterState } from '../../src/engine/gate.js';
import { lockoutRules, policySchema } from '../../src/domain/policy.js';
import { testStore } from '../helpers/db.js';

const rules = lockoutRules(policySchema.parse({}));
const pci = lockoutRules(policySchema.parse({ pciMode: true }));
const T0 = new Date('2025-06-01T08:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
/** `failures` checked wrong answers before this attempt; this attempt alone in flight unless told. */
const state = (failures: number, o: Partial<CounterState> = {}): CounterState => ({ failures, lastFailureAt: null, lockedUntil: null, inFlight: 1, prevClaimAt: null, ...o });

describe('lockoutRules', () => {
  it('ships with limits on: 100 failures, backoff after 5, 1 s doubling to 5 min, no PCI lock', () => {
    expect(rules).toEqual({ maxConsecutiveFailures: 100, backoffAfter: 5, backoffBaseMs: 1000, backoffMaxMs: 300_000, lockAfter: null, lockMs: 30 * 60_000 });
  });
  it('PCI mode locks after 10 failures for 30 minutes', () => {
    expect(pci.lockAfter).toBe(10);
    expect(pci.lockMs).toBeGreaterThanOrEqual(30 * 60_000);
  });
});

describe('backoffDelayMs', () => {
  it('is zero below backoffAfter', () => {
    for (let f = 0; f < rules.backoffAfter; f++) expect(backoffDelayMs(f, rules)).toBe(0);
  });
  it('doubles from the base and caps at backoffMaxSeconds', () => {
    const delays = Array.from({ length: 12 }, (_, i) => backoffDelayMs(rules.backoffAfter + i, rules));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000, 300_000]);
    expect(backoffDelayMs(99, rules)).toBe(300_000);
    expect(backoffDelayMs(10_000, rules)).toBe(300_000); // no overflow for huge counts
  });
  it('follows the policy values', () => {
    const r = lockoutRules(policySchema.parse({ lockout: { backoffAfter: 2, backoffBaseSeconds: 3, backoffMaxSeconds: 10 } }));
    expect([1, 2, 3, 4, 5].map((f) => backoffDelayMs(f, r))).toEqual([0, 3000, 6000, 10_000, 10_000]);
  });
});

describe('judge', () => {
  it('allows attempts while failures before them are below backoffAfter, even right after a failure', () => {
    for (let failures = 0; failures < rules.backoffAfter; failures++) {
      expect(judge(state(failures, { lastFailureAt: T0 }), rules, T0)).toEqual({ allowed: true, failuresBefore: failures });
    }
  });

  it('throttles inside the delay after the last failure, with retryAfter the time left', () => {
    const s = state(rules.backoffAfter, { lastFailureAt: T0 }); // 5 failures before: 1 s delay
    expect(judge(s, rules, at(400))).toMatchObject({ allowed: false, reason: 'throttled', retryAfterMs: 600, failuresBefore: 5 });
    expect(judge(s, rules, at(999))).toMatchObject({ allowed: false, reason: 'throttled', retryAfterMs: 1 });
    expect(judge(s, rules, at(1000))).toEqual({ allowed: true, failuresBefore: 5 });
    expect(judge(s, rules, at(60_000)).allowed).toBe(true);
  });

  it('retryAfter never exceeds the delay and grows with the count', () => {
    for (let before = rules.backoffAfter; before < 20; before++) {
      const delay = backoffDelayMs(before, rules);
      const v = judge(state(before, { lastFailureAt: T0 }), rules, at(1));
      expect(v).toMatchObject({ allowed: false, reason: 'throttled' });
      if (!v.allowed) expect(v.retryAfterMs).toBe(delay - 1);
      expect(judge(state(before, { lastFailureAt: T0 }), rules, at(delay)).allowed).toBe(true);
    }
  });

  it('disables the factor once failures before the attempt reach maxConsecutiveFailures', () => {
    const long = { lastFailureAt: at(-86_400_000) };
    expect(judge(state(99, long), rules, T0)).toEqual({ allowed: true, failuresBefore: 99 });
    expect(judge(state(100, long), rules, T0)).toEqual({ allowed: false, reason: 'disabled', failuresBefore: 100 });
    expect(judge(state(500, long), rules, T0)).toMatchObject({ allowed: false, reason: 'disabled' });
  });

  it('refuses the 101st attempt of a patient attacker who waits out every delay', () => {
    let s = state(0);
    let now = T0.getTime();
    let checked = 0;
    for (let attempt = 1; attempt <= 101; attempt++) {
      let v = judge(s, rules, new Date(now));
      if (!v.allowed && v.reason === 'throttled') {
        now += v.retryAfterMs!; // re-run the attempt after the wait (our loop, not the gate)
        v = judge(s, rules, new Date(now));
      }
      if (attempt <= 100) {
        expect(v.allowed, `attempt ${attempt}`).toBe(true);
        checked++;
        s = { ...s, failures: s.failures + 1, lastFailureAt: new Date(now) };
      } else {
        expect(v).toMatchObject({ allowed: false, reason: 'disabled', failuresBefore: 100 });
      }
    }
    expect(checked).toBe(100);
  });

  it('honours a custom maxConsecutiveFailures', () => {
    const r = lockoutRules(policySchema.parse({ lockout: { maxConsecutiveFailures: 3, backoffAfter: 10 } }));
    expect(judge(state(2), r, T0).allowed).toBe(true);
    expect(judge(state(3), r, T0)).toMatchObject({ allowed: false, reason: 'disabled' });
  });
});

describe('judge with checks in flight (a parallel burst is judged as a sequence)', () => {
  const hourAgo = at(-3_600_000);

  it('N failures and k other checks in flight: judged as N + k failures, anchored on the newest in-flight claim', () => {
    // 5 failures, 2 other checks in flight: as if 7 had failed (4 s), from the newest claim (T0), not the old failure
    const s = state(5, { lastFailureAt: hourAgo, inFlight: 3, prevClaimAt: T0 });
    expect(judge(s, rules, at(1))).toMatchObject({ allowed: false, reason: 'throttled', retryAfterMs: backoffDelayMs(7, rules) - 1, failuresBefore: 5 });
    expect(backoffDelayMs(7, rules)).toBe(4000);
    expect(judge(s, rules, at(3999))).toMatchObject({ allowed: false, reason: 'throttled', retryAfterMs: 1 });
    expect(judge(s, rules, at(4000))).toEqual({ allowed: true, failuresBefore: 5 });
    // alone, the same counter is judged from its last failure an hour ago: allowed
    expect(judge({ ...s, inFlight: 1, prevClaimAt: null }, rules, at(1))).toEqual({ allowed: true, failuresBefore: 5 });
  });

  it('in-flight checks push a counter below backoffAfter over it', () => {
    expect(judge(state(2, { inFlight: 3, prevClaimAt: T0 }), rules, at(1))).toEqual({ allowed: true, failuresBefore: 2 }); // 2 + 2 = 4
    expect(judge(state(3, { inFlight: 3, prevClaimAt: T0 }), rules, at(1))).toMatchObject({ allowed: false, reason: 'throttled', retryAfterMs: 999 }); // 3 + 2 = 5
    expect(judge(state(0, { inFlight: 10, prevClaimAt: T0 }), rules, at(1))).toMatchObject({ allowed: false, reason: 'throttled' }); // 0 + 9
  });

  it('PCI: another check in flight may be the one that locks, so this one waits', () => {
    const long = { lastFailureAt: at(-86_400_000) };
    expect(judge(state(9, { ...long, inFlight: 2, prevClaimAt: at(-86_400_000) }), pci, T0)).toMatchObject({ allowed: false, reason: 'throttled', retryAfterMs: 1000 });
    expect(judge(state(9, long), pci, T0)).toEqual({ allowed: true, failuresBefore: 9 });
  });
});

describe('judge in PCI mode', () => {
  const long = { lastFailureAt: at(-86_400_000) };
  it('allows up to 10 failures and locks at 10 failures before the attempt', () => {
    expect(judge(state(9, long), pci, T0)).toEqual({ allowed: true, failuresBefore: 9 });
    expect(judge(state(10, long), pci, T0)).toMatchObject({ allowed: false, reason: 'locked', retryAfterMs: pci.lockMs, failuresBefore: 10 });
  });

  it('honours lockedUntil: refused until it passes, with retryAfter the time left', () => {
    const until = at(30 * 60_000);
    expect(judge(state(1, { lockedUntil: until }), pci, T0)).toMatchObject({ allowed: false, reason: 'locked', retryAfterMs: 30 * 60_000 });
    expect(judge(state(1, { lockedUntil: until }), pci, at(29 * 60_000))).toMatchObject({ allowed: false, reason: 'locked', retryAfterMs: 60_000 });
    expect(judge(state(1, { lockedUntil: until }), pci, until)).toEqual({ allowed: true, failuresBefore: 1 });
  });

  it('outside PCI mode 10 failures only throttle', () => {
    expect(judge(state(10, long), rules, T0)).toEqual({ allowed: true, failuresBefore: 10 });
  });

  it('lockAfterFailure starts the 30-minute lock with the 10th checked failure, only in PCI mode', () => {
    expect(lockAfterFailure(8, pci, T0)).toBeNull();
    expect(lockAfterFailure(9, pci, T0)).toEqual(at(pci.lockMs));
    expect(lockAfterFailure(15, pci, T0)).toEqual(at(pci.lockMs));
    expect(lockAfterFailure(9, rules, T0)).toBeNull();
    expect(lockAfterFailure(99, rules, T0)).toBeNull();
  });
});

describe('gateError', () => {
  it('disabled is factor_locked; locked and throttled are too_many_attempts with whole seconds to wait', () => {
    expect(gateError({ allowed: false, reason: 'disabled', failuresBefore: 100 })).toMatchObject({ code: 'factor_locked', detail: { reason: 'disabled' } });
    expect(gateError({ allowed: false, reason: 'throttled', retryAfterMs: 1500, failuresBefore: 5 })).toMatchObject({ code: 'too_many_attempts', status: 429, detail: { retryAfterSeconds: 2, reason: 'throttled' } });
    expect(gateError({ allowed: false, reason: 'locked', retryAfterMs: pci.lockMs, failuresBefore: 10 })).toMatchObject({ code: 'too_many_attempts', detail: { retryAfterSeconds: 1800, reason: 'locked' } });
    expect(gateError({ allowed: false, reason: 'throttled', failuresBefore: 5 })).toMatchObject({ detail: { retryAfterSeconds: 1 } });
  });
});

describe('AttemptGate on the real counter store (PCI mode)', () => {
  let store: Awaited<ReturnType<typeof testStore>>;
  let gate: AttemptGate;
  beforeAll(async () => {
    store = await testStore('pglite');
    gate = new AttemptGate(store.counters);
  });
  afterAll(() => store?.close());

  /** One checked attempt that fails (spaced past the longest backoff, so none is throttled). */
  async function failOnce(subject: string, now: number): Promise<void> {
    const v = await gate.enter(subject, pci, new Date(now));
    expect(v.allowed).toBe(true);
    await gate.failed(subject, v, pci, new Date(now));
  }

  it('locks after the 10th failure for 30 minutes; afterwards each further failure locks again; refused attempts never count', async () => {
    const subject = 'f:pci-user:totp';
    let now = T0.getTime();
    for (let i = 0; i < 10; i++) await failOnce(subject, (now += pci.backoffMaxMs));
    const locked = await gate.enter(subject, pci, new Date(now + 1000));
    expect(locked).toMatchObject({ allowed: false, reason: 'locked' });
    if (!locked.allowed) expect(locked.retryAfterMs).toBe(pci.lockMs - 1000);

    // someone keeps trying during the lock: each is refused with the time left, and none is counted
    for (let i = 0; i < 15; i++) expect(await gate.enter(subject, pci, new Date(now + 60_000 + i))).toMatchObject({ allowed: false, reason: 'locked' });
    expect(await gate.enter(subject, pci, new Date(now + pci.lockMs - 1))).toMatchObject({ allowed: false, reason: 'locked', retryAfterMs: 1 });
    expect(await store.counters.get(subject)).toMatchObject({ failures: 10, inFlight: 0 });

    // once the 30 minutes are over the factor can be tried again (only the 10 checked failures count)
    const after = now + pci.lockMs;
    const retry = await gate.enter(subject, pci, new Date(after));
    expect(retry).toMatchObject({ allowed: true, failuresBefore: 10 });
    await gate.failed(subject, retry, pci, new Date(after));
    expect(await gate.enter(subject, pci, new Date(after + 1000))).toMatchObject({ allowed: false, reason: 'locked', retryAfterMs: pci.lockMs - 1000 });
    expect(await store.counters.get(subject)).toMatchObject({ failures: 11, inFlight: 0 });
  });

  it('a burst of parallel attempts inside the back-off is refused and counts nothing (nobody locks an account by naming it)', async () => {
    const subject = 'f:pci-burst:totp';
    let now = T0.getTime();
    for (let i = 0; i < 5; i++) await failOnce(subject, (now += pci.backoffMaxMs));
    const burst = await Promise.all(Array.from({ length: 20 }, () => gate.enter(subject, pci, new Date(now + 10))));
    expect(burst).toHaveLength(20);
    expect(burst.every((v) => !v.allowed && v.reason === 'throttled')).toBe(true);
    expect(await store.counters.get(subject)).toMatchObject({ failures: 5, inFlight: 0, lockedUntil: null });
    expect(await gate.enter(subject, pci, new Date(now + 1000))).toMatchObject({ allowed: true, failuresBefore: 5 });
  });

  it('after 5 failures a burst of 25 parallel attempts past the delay gets exactly one check', async () => {
    const subject = 'f:burst-25:totp';
    let now = T0.getTime();
    for (let i = 0; i < 5; i++) await failOnce(subject, (now += pci.backoffMaxMs));
    const t = new Date(now + pci.backoffMaxMs);
    const burst = await Promise.all(Array.from({ length: 25 }, () => gate.enter(subject, pci, t)));
    const allowed = burst.filter((v) => v.allowed);
    expect(allowed).toHaveLength(1);
    expect(burst.filter((v) => !v.allowed && v.reason === 'throttled')).toHaveLength(24);
    expect(await store.counters.get(subject)).toMatchObject({ failures: 5, inFlight: 1 });
    await gate.failed(subject, allowed[0]!, pci, t);
    expect(await store.counters.get(subject)).toMatchObject({ failures: 6, inFlight: 0 });
  });

  it('the hard cap still applies in PCI mode: 100 consecutive failures disable the factor', async () => {
    const subject = 'f:pci-cap:totp';
    let now = T0.getTime();
    let checked = 0;
    for (let i = 0; i < 100; i++) {
      now += pci.lockMs + pci.backoffMaxMs;
      const v = await gate.enter(subject, pci, new Date(now));
      if (v.allowed) {
        checked++;
        await gate.failed(subject, v, pci, new Date(now));
      }
    }
    expect(checked).toBe(100);
    expect(await gate.enter(subject, pci, new Date(now + 10 * pci.lockMs))).toMatchObject({ allowed: false, reason: 'disabled' });
  });

  it('a success resets the counter', async () => {
    const subject = 'f:pci-reset:totp';
    await failOnce(subject, T0.getTime());
    await gate.succeeded(subject);
    expect(await store.counters.get(subject)).toBeNull();
  });
});
