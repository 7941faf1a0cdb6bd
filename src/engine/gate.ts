/**
 * Throttling of one authenticator (the attempt gate), judged from its counter as the claim read it:
 *  - only checked wrong answers add to `failures`; refused (throttled, locked) attempts and replays
 *    of a right answer do not, so nobody locks an account by naming it;
 *  - a burst of parallel attempts is judged as a sequence: the checks still in flight count as if
 *    they were failures, and the back-off runs from the newest of them, so after N failures a burst
 *    gets one check per interval, not one per request in flight;
 *  - past `backoffAfter` failures each check waits an exponentially growing delay;
 *  - PCI mode locks for 30 minutes after 10 failures; at the hard cap (NIST: at most 100
 *    consecutive failures) the method is disabled until an administrator resets it.
 * A success resets the counter; asking for a new code does not.
 */
import { AppError } from '../domain/errors.js';
import type { LockoutRules } from '../domain/policy.js';

/** The counter as the claim statement left it (this attempt's own claim included in `inFlight`). */
export interface CounterState {
  failures: number;
  lastFailureAt: Date | null;
  lockedUntil: Date | null;
  /** Checks in flight, this one included. */
  inFlight: number;
  /** When the newest other check in flight was claimed (null when none). */
  prevClaimAt: Date | null;
}

export type GateVerdict =
  | { allowed: true; failuresBefore: number }
  | { allowed: false; reason: 'disabled' | 'locked' | 'throttled'; retryAfterMs?: number; failuresBefore: number };

export function backoffDelayMs(failuresBefore: number, rules: LockoutRules): number {
  if (failuresBefore < rules.backoffAfter) return 0;
  const exp = Math.min(failuresBefore - rules.backoffAfter, 30);
  return Math.min(rules.backoffBaseMs * 2 ** exp, rules.backoffMaxMs);
}

export function judge(state: CounterState, rules: LockoutRules, now: Date): GateVerdict {
  const failures = state.failures;
  if (failures >= rules.maxConsecutiveFailures) return { allowed: false, reason: 'disabled', failuresBefore: failures };
  if (state.lockedUntil && state.lockedUntil > now) {
    return { allowed: false, reason: 'locked', retryAfterMs: state.lockedUntil.getTime() - now.getTime(), failuresBefore: failures };
  }
  // the other checks in flight are judged as if they had failed just before this one
  const others = Math.max(0, state.inFlight - 1);
  const effective = failures + others;
  if (rules.lockAfter !== null && effective >= rules.lockAfter) {
    // another check may be the one that locks: wait for it
    if (others > 0) return { allowed: false, reason: 'throttled', retryAfterMs: 1000, failuresBefore: failures };
    // the threshold reached with no lock written yet; after a lock has ended, one check at a time
    if (state.lockedUntil === null) return { allowed: false, reason: 'locked', retryAfterMs: rules.lockMs, failuresBefore: failures };
  }
  const delay = backoffDelayMs(effective, rules);
  const anchor = others > 0 ? state.prevClaimAt : state.lastFailureAt;
  if (delay > 0 && anchor) {
    const wait = anchor.getTime() + delay - now.getTime();
    if (wait > 0) return { allowed: false, reason: 'throttled', retryAfterMs: wait, failuresBefore: failures };
  }
  return { allowed: true, failuresBefore: failures };
}

/** After a checked wrong answer: the lock that starts now (PCI), if any. */
export function lockAfterFailure(failuresBefore: number, rules: LockoutRules, now: Date): Date | null {
  return rules.lockAfter !== null && failuresBefore + 1 >= rules.lockAfter ? new Date(now.getTime() + rules.lockMs) : null;
}

export function gateError(v: Extract<GateVerdict, { allowed: false }>): AppError {
  if (v.reason === 'disabled') return new AppError('factor_locked', { reason: 'disabled' });
  const retryAfterSeconds = Math.ceil((v.retryAfterMs ?? 1000) / 1000);
  return new AppError('too_many_attempts', { retryAfterSeconds, reason: v.reason });
}
