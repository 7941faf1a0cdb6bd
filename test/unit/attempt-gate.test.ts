/**
 * The attempt gate (security-requirements.md, Throttling and lockout): exponential backoff after
 * `backoffAfter` failures, the hard cap of 100 consecutive failures (the 101st attempt is refused),
 * and PCI mode's 30-minute lock after 10.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttemptGate, backoffDelayMs, judgeAttempt } from '../../src/flows/attempt-gate.js';
import { lockoutRules, policySchema } from '../../src/domain/policy.js';
import type { CounterState } from '../../src/storage/repositories/counters.js';
import { testStore } from '../helpers/db.js';

const rules = lockoutRules(policySchema.parse({}));
const pci = lockoutRules(policySchema.parse({ pciMode: true }));
const T0 = new Date('2025-06-01T08:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const state = (failures: number, o: Partial<CounterState> = {}): CounterState => ({ failures, prevAttemptAt: null, lastFailureAt: null, lockedUntil: null, ...o });

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

describe('judgeAttempt', () => {
  it('allows attempts while failures before them are below backoffAfter, even right after a failure', () => {
    for (let failures = 1; failures <= rules.backoffAfter; failures++) {
      expect(judgeAttempt(state(failures, { lastFailureAt: T0 }), rules, T0)).toEqual({ allowed: true, failuresBefore: failures - 1 });
    }
  });

  it('throttles inside the delay after the last failure, with retryAfter the time left', () => {
    const s = state(rules.backoffAfter + 1, { lastFailureAt: T0 }); // 5 failures before: 1 s delay
    const early = judgeAttempt(s, rules, at(400));
    expect(early).toMatchObject({ allowed: false, reason: 'throttled', retryAfterMs: 600, failuresBefore: 5 });
    expect(judgeAttempt(s, rules, at(999))).toMatchObject({ allowed: false, reason: 'throttled', retryAfterMs: 1 });
    expect(judgeAttempt(s, rules, at(1000))).toEqual({ allowed: true, failuresBefore: 5 });
    expect(judgeAttempt(s, rules, at(60_000)).allowed).toBe(true);
  });

  it('retryAfter never exceeds the delay and grows with the count', () => {
    for (let before = rules.backoffAfter; before < 20; before++) {
      const delay = backoffDelayMs(before, rules);
      const v = judgeAttempt(state(before + 1, { lastFailureAt: T0 }), rules, at(1));
      expect(v).toMatchObject({ allowed: false, reason: 'throttled' });
      if (!v.allowed) expect(v.retryAfterMs).toBe(delay - 1);
      expect(judgeAttempt(state(before + 1, { lastFailureAt: T0 }), rules, at(delay)).allowed).toBe(true);
    }
  });

  it('disables the factor once failures before the attempt reach maxConsecutiveFailures', () => {
    const long = { lastFailureAt: at(-86_400_000) };
    expect(judgeAttempt(state(100, long), rules, T0)).toEqual({ allowed: true, failuresBefore: 99 });
    expect(judgeAttempt(state(101, long), rules, T0)).toEqual({ allowed: false, reason: 'disabled', failuresBefore: 100 });
    expect(judgeAttempt(state(500, long), rules, T0)).toMatchObject({ allowed: false, reason: 'disabled' });
  });

  it('refuses the 101st attempt of a patient attacker who waits out every delay', () => {
    let s = state(0);
    let now = T0.getTime();
    let checked = 0;
    for (let attempt = 1; attempt <= 101; attempt++) {
      s = { ...s, failures: s.failures + 1 };
      let v = judgeAttempt(s, rules, new Date(now));
      if (!v.allowed && v.reason === 'throttled') {
        s = { ...s, failures: s.failures - 1 }; // re-run the attempt after the wait (our loop, not the gate)
        now += v.retryAfterMs!;
        s = { ...s, failures: s.failures + 1 };
        v = judgeAttempt(s, rules, new Date(now));
      }
      if (attempt <= 100) {
        expect(v.allowed, `attempt ${attempt}`).toBe(true);
        checked++;
        s = { ...s, lastFailureAt: new Date(now) };
      } else {
        expect(v).toMatchObject({ allowed: false, reason: 'disabled', failuresBefore: 100 });
      }
    }
    expect(checked).toBe(100);
  });

  it('honours a custom maxConsecutiveFailures', () => {
    const r = lockoutRules(policySchema.parse({ lockout: { maxConsecutiveFailures: 3, backoffAfter: 10 } }));
    expect(judgeAttempt(state(3), r, T0).allowed).toBe(true);
    expect(judgeAttempt(state(4), r, T0)).toMatchObject({ allowed: false, reason: 'disabled' });
  });
});

describe('judgeAttempt in PCI mode', () => {
  const long = { lastFailureAt: at(-86_400_000) };
  it('allows up to 10 failures and locks at 10 failures before the attempt', () => {
    expect(judgeAttempt(state(10, long), pci, T0)).toEqual({ allowed: true, failuresBefore: 9 });
    expect(judgeAttempt(state(11, long), pci, T0)).toMatchObject({ allowed: false, reason: 'locked', retryAfterMs: pci.lockMs, failuresBefore: 10 });
  });

  it('honours lockedUntil: refused until it passes, with retryAfter the time left', () => {
    const until = at(30 * 60_000);
    expect(judgeAttempt(state(1, { lockedUntil: until }), pci, T0)).toMatchObject({ allowed: false, reason: 'locked', retryAfterMs: 30 * 60_000 });
    expect(judgeAttempt(state(1, { lockedUntil: until }), pci, at(29 * 60_000))).toMatchObject({ allowed: false, reason: 'locked', retryAfterMs: 60_000 });
    expect(judgeAttempt(state(1, { lockedUntil: until }), pci, until)).toEqual({ allowed: true, failuresBefore: 0 });
  });

  it('outside PCI mode 10 failures only throttle', () => {
    expect(judgeAttempt(state(11, long), rules, T0)).toEqual({ allowed: true, failuresBefore: 10 });
  });
});

describe('AttemptGate on the real counter store (PCI mode)', () => {
  let store: Awaited<ReturnType<typeof testStore>>;
  let gate: AttemptGate;
  beforeAll(async () => {
    store = await testStore('pglite');
    gate = new AttemptGate(store.counters);
  });
  afterAll(() => store.close());

  /** One checked attempt that fails (spaced past the longest backoff, so none is throttled). */
  async function failOnce(subject: string, now: number): Promise<void> {
    const v = await gate.enter(subject, pci, new Date(now));
    expect(v.allowed).toBe(true);
    await gate.failed(subject, v, pci, new Date(now));
  }

  it('locks after the 10th failure for 30 minutes; afterwards each further failure locks again', async () => {
    const subject = 'f:pci-user:totp';
    let now = T0.getTime();
    for (let i = 0; i < 10; i++) await failOnce(subject, (now += pci.backoffMaxMs));
    const locked = await gate.enter(subject, pci, new Date(now + 1000));
    expect(locked).toMatchObject({ allowed: false, reason: 'locked' });
    if (!locked.allowed) expect(locked.retryAfterMs).toBe(pci.lockMs - 1000);

    // someone keeps trying during the lock: each is refused with the time left, and counted
    for (let i = 0; i < 15; i++) expect(await gate.enter(subject, pci, new Date(now + 60_000 + i))).toMatchObject({ allowed: false, reason: 'locked' });
    expect(await gate.enter(subject, pci, new Date(now + pci.lockMs - 1))).toMatchObject({ allowed: false, reason: 'locked', retryAfterMs: 1 });

    // once the 30 minutes are over the factor can be tried again (the count kept running: 10 + 1 + 15 + 1)
    const after = now + pci.lockMs;
    const retry = await gate.enter(subject, pci, new Date(after));
    expect(retry).toMatchObject({ allowed: true, failuresBefore: 27 });
    await gate.failed(subject, retry, pci, new Date(after));
    expect(await gate.enter(subject, pci, new Date(after + 1000))).toMatchObject({ allowed: false, reason: 'locked', retryAfterMs: pci.lockMs - 1000 });
  });

  it('a burst of refused attempts reaching 10 starts a real 30-minute lock that ends', async () => {
    const subject = 'f:pci-burst:totp';
    let now = T0.getTime();
    for (let i = 0; i < 5; i++) await failOnce(subject, (now += pci.backoffMaxMs));
    // 20 parallel attempts inside the first backoff delay: all refused (throttled, then locked), all counted
    const burst = await Promise.all(Array.from({ length: 20 }, () => gate.enter(subject, pci, new Date(now + 10))));
    expect(burst.every((v) => !v.allowed)).toBe(true);
    expect(burst.some((v) => !v.allowed && v.reason === 'locked')).toBe(true);
    expect(await gate.enter(subject, pci, new Date(now + pci.lockMs - 1000))).toMatchObject({ allowed: false, reason: 'locked' });
    expect(await gate.enter(subject, pci, new Date(now + 10 + pci.lockMs))).toMatchObject({ allowed: true, failuresBefore: 26 });
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
});
