/**
 * Throttling of one authenticator. Every attempt is recorded first (one atomic upsert, so parallel
 * attempts all count) and then judged from the count *before* it:
 *  - at the hard cap (NIST: at most 100 consecutive failures) the factor is disabled until reset;
 *  - PCI mode locks for 30 minutes after 10 failures;
 *  - past `backoffAfter` failures, each attempt must wait an exponentially growing delay after the
 *    last failed check; attempts made too early are refused and still counted. (The delay runs from
 *    the last *checked* failure, so a burst of parallel requests is judged by the count alone: the
 *    cap and the flow's budget bound it, and each one is counted.)
 * A success resets the count; asking for a new code does not.
 */
import type { LockoutRules } from '../domain/policy.js';
import type { CounterRepo, CounterState } from '../storage/repositories/counters.js';

export type GateVerdict =
  | { allowed: true; failuresBefore: number }
  | { allowed: false; reason: 'disabled' | 'locked' | 'throttled'; retryAfterMs?: number; failuresBefore: number };

export function backoffDelayMs(failuresBefore: number, rules: LockoutRules): number {
  if (failuresBefore < rules.backoffAfter) return 0;
  const exp = Math.min(failuresBefore - rules.backoffAfter, 30);
  return Math.min(rules.backoffBaseMs * 2 ** exp, rules.backoffMaxMs);
}

/** Judges an attempt from the counter state returned by `hit` (which already includes it). */
export function judgeAttempt(state: CounterState, rules: LockoutRules, now: Date): GateVerdict {
  const before = state.failures - 1;
  if (before >= rules.maxConsecutiveFailures) return { allowed: false, reason: 'disabled', failuresBefore: before };
  if (state.lockedUntil && state.lockedUntil > now) {
    return { allowed: false, reason: 'locked', retryAfterMs: state.lockedUntil.getTime() - now.getTime(), failuresBefore: before };
  }
  // threshold reached but no lock written yet (a burst of parallel failures): lock now
  if (rules.lockAfter !== null && before >= rules.lockAfter && state.lockedUntil === null) {
    return { allowed: false, reason: 'locked', retryAfterMs: rules.lockMs, failuresBefore: before };
  }
  const delay = backoffDelayMs(before, rules);
  if (delay > 0 && state.lastFailureAt) {
    const wait = state.lastFailureAt.getTime() + delay - now.getTime();
    if (wait > 0) return { allowed: false, reason: 'throttled', retryAfterMs: wait, failuresBefore: before };
  }
  return { allowed: true, failuresBefore: before };
}

export class AttemptGate {
  constructor(private readonly counters: CounterRepo) {}

  /**
   * Records the attempt and judges it. A PCI lock is a timed lock that always ends; the count keeps
   * running through it (refused attempts count, as everywhere), so the hard cap still applies to PCI
   * tenants: after a lock ends, each further failure locks again, and 100 consecutive failures
   * disable the factor until an administrator unlocks it.
   */
  async enter(subject: string, rules: LockoutRules, now: Date): Promise<GateVerdict> {
    return this.judge(subject, await this.counters.hit(subject, now), rules, now);
  }

  /** Judges an attempt already recorded (by `hit` or by a statement that records it with other work). */
  async judge(subject: string, state: CounterState, rules: LockoutRules, now: Date): Promise<GateVerdict> {
    const verdict = judgeAttempt(state, rules, now);
    if (!verdict.allowed && verdict.reason === 'locked' && state.lockedUntil === null) {
      await this.counters.lock(subject, new Date(now.getTime() + rules.lockMs));
    }
    return verdict;
  }

  succeeded(subject: string): Promise<void> {
    return this.counters.reset(subject);
  }

  /** After a failed check: anchor the backoff, or start the PCI lock when the threshold is reached. */
  async failed(subject: string, verdict: GateVerdict, rules: LockoutRules, now: Date): Promise<void> {
    if (rules.lockAfter !== null && verdict.failuresBefore + 1 >= rules.lockAfter) {
      await this.counters.lock(subject, new Date(now.getTime() + rules.lockMs));
    } else {
      await this.counters.recordFailure(subject, now);
    }
  }
}

export const passwordSubject = (tenantId: string, identifier: string) => `pw:${tenantId}:${identifier}`;
export const factorSubject = (userId: string, kind: string) => `f:${userId}:${kind}`;
