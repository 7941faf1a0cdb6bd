/**
 * The errors of an attempt, one vocabulary for staff and callers alike: why a claim on a flow was
 * refused (unknown or wrong token, another tenant's, expired, spent, not at this step) and what a
 * refused answer says (a wrong answer, a used code). Flow kinds add their own details (a caller's
 * verification adds its state) but never another code or reason for the same condition.
 */
import { safeEqual } from '../crypto/tokens.js';
import { AppError, type ErrorReason } from '../domain/errors.js';
import { derivedState, type FlowRecord } from './flow.js';

export function claimError(f: FlowRecord | undefined, r: { tenantId?: string; secretHash?: Buffer }, now: Date, states?: readonly string[]): AppError {
  if (!f || (r.tenantId && f.tenant_id !== r.tenantId)) return new AppError(r.secretHash ? 'flow_invalid' : 'not_found');
  if (r.secretHash && (!f.secret_hash || !safeEqual(f.secret_hash, r.secretHash))) return new AppError('flow_invalid');
  const state = derivedState(f, now);
  if (state === 'expired') return new AppError('flow_expired', { state, reason: 'flow_expired' });
  if (state === 'failed') return new AppError('flow_failed', { state, reason: 'flow_budget_spent' });
  // at the step asked for and not spent: the claim found the whole budget in flight (answers being
  // judged, each of which may give its attempt back): a throttle, not counted
  if (states?.includes(state)) return new AppError('too_many_attempts', { state, retryAfterSeconds: 1, reason: 'throttled' });
  return new AppError('flow_state', { state, reason: 'flow_state' });
}

/**
 * A refused answer: a wrong password is `invalid_credentials` (its reason shown only for a replay);
 * any other wrong answer is `invalid_factor` with the method's reason; a right answer already used
 * (a replay, or the loser of a race of one right answer) is `code_used` for every code method.
 */
export function answerError(c: { method: string; reason: ErrorReason; attemptsLeft: number; detail?: Record<string, unknown>; message?: string }): AppError {
  if (c.method === 'pwd') return new AppError('invalid_credentials', { attemptsLeft: c.attemptsLeft, ...(c.reason === 'replayed' ? { reason: c.reason } : {}) });
  const reason = c.reason === 'replayed' ? 'code_used' : c.reason;
  return new AppError('invalid_factor', { attemptsLeft: c.attemptsLeft, ...c.detail, reason }, c.message);
}

/** The claim was refused only because the whole budget is in flight (worth waiting for and claiming again). */
export const budgetInFlight = (f: FlowRecord | undefined, r: { tenantId?: string; secretHash?: Buffer }, now: Date, states: readonly string[]): boolean =>
  claimError(f, r, now, states).detail?.reason === 'throttled';
