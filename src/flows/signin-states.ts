/**
 * The sign-in flow's states (diagram: docs/signin-flow.md).
 *
 *   password ──ok──▶ second_factor ──ok──▶ completed
 *      │                 (user has a factor)
 *      ├──ok──▶ enroll ──confirmed──▶ completed      (policy requires MFA, grace over)
 *      └──ok──────────────────────────▶ completed    (no MFA needed, or inside the grace period)
 *   any non-terminal state ──budget spent──▶ failed;  past expires_at ──▶ expired
 *
 * `failed` and `expired` are derived, never written: a late success racing a budget-spending failure
 * can still complete, and expiry needs no sweeper to be exact.
 */
import type { FlowRow } from '../storage/repositories/flows.js';

export const storedStates = ['password', 'second_factor', 'enroll', 'completed'] as const;
export type StoredState = (typeof storedStates)[number];
export type FlowState = StoredState | 'failed' | 'expired';

export function flowState(f: Pick<FlowRow, 'state' | 'attempts_left' | 'expires_at'>, now: Date): FlowState {
  if (f.state === 'completed') return 'completed';
  if (f.expires_at <= now) return 'expired';
  if (f.attempts_left <= 0) return 'failed';
  return f.state as StoredState;
}
