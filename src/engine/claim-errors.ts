/** Why a claim on a flow was refused: unknown or wrong token, another tenant's, expired, spent, or not at this step. */
import { safeEqual } from '../crypto/tokens.js';
import { AppError } from '../domain/errors.js';
import { derivedState, type FlowRecord } from './flow.js';

export function claimError(f: FlowRecord | undefined, r: { tenantId?: string; secretHash?: Buffer }, now: Date): AppError {
  if (!f || (r.tenantId && f.tenant_id !== r.tenantId)) return new AppError(r.secretHash ? 'flow_invalid' : 'not_found');
  if (r.secretHash && (!f.secret_hash || !safeEqual(f.secret_hash, r.secretHash))) return new AppError('flow_invalid');
  const state = derivedState(f, now);
  if (state === 'expired') return new AppError('flow_expired', { state, reason: 'flow_expired' });
  if (state === 'failed') return new AppError('flow_failed', { state, reason: 'flow_budget_spent' });
  return new AppError('flow_state', { state, reason: 'flow_state' });
}
