/** Turns a refused claim or a gate verdict into the right error. */
import { safeEqual } from '../crypto/tokens.js';
import { AppError } from '../domain/errors.js';
import type { FlowRow } from '../storage/repositories/flows.js';
import type { GateVerdict } from './attempt-gate.js';
import { flowState } from './signin-states.js';

/** Why a claim on a flow failed: unknown or wrong token, expired, spent, or not at this step. */
export function claimError(f: FlowRow | undefined, tokenHash: Buffer, now: Date): AppError {
  if (!f || !safeEqual(f.secret_hash, tokenHash)) return new AppError('flow_invalid');
  const state = flowState(f, now);
  if (state === 'expired') return new AppError('flow_expired');
  if (state === 'failed') return new AppError('flow_failed');
  return new AppError('flow_state', { state });
}

export function gateError(v: Extract<GateVerdict, { allowed: false }>): AppError {
  if (v.reason === 'disabled') return new AppError('factor_locked');
  const retryAfterSeconds = Math.ceil((v.retryAfterMs ?? 1000) / 1000);
  return new AppError('too_many_attempts', { retryAfterSeconds, reason: v.reason });
}
