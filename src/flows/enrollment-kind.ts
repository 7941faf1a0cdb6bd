/**
 * The `enrollment` flow kind: binding a credential for the signed-in user (a security key's creation
 * challenge, a phone number's code). The flow belongs to that user; anyone else's is not found (the
 * same answer as an unknown id). Attempts are audited as `factor.registration.attempt`; what a
 * success binds and answers is the caller's `plan` and `done`.
 */
import { AppError } from '../domain/errors.js';
import { answerError } from '../engine/claim-errors.js';
import type { KindHooks } from '../engine/engine.js';
import type { NewFlow } from '../storage/repositories/flows.js';
import type { Origin } from '../services/context.js';
import type { Principal } from '../services/sessions.js';

export function enrollmentHooks<R>(p: Principal, a: { origin: Origin; kind: string; state: string }, own: Pick<KindHooks<R>, 'plan' | 'done'>): KindHooks<R> {
  return {
    subject(c) {
      if (c.flow.kind !== 'enrollment' || c.flow.state !== a.state || c.flow.subject_type !== 'user' || c.flow.subject_id !== p.userId) throw new AppError('not_found');
      return { type: 'user', id: p.userId, tenantId: p.tenantId };
    },
    attemptEvent(f, method, outcome, data = {}) {
      return { tenantId: f.tenant_id, type: 'factor.registration.attempt', outcome, actor: { type: 'user', id: p.userId }, target: { type: 'flow', id: f.id }, origin: a.origin, data: { kind: a.kind, method, ...data } };
    },
    ...own,
    async already() {
      throw new AppError('flow_state', { reason: 'flow_state' });
    },
    failure({ flow, reason, method, counted }) {
      return answerError({ method, reason, attemptsLeft: Math.max(0, flow.attempts_left + (counted ? 0 : 1)) });
    },
  };
}

/** A new enrollment flow of the signed-in user: its step, its ceremony slot, its context, 3 attempts, until `expiresAt`. */
export function enrollmentFlow(p: Principal, a: { id: string; state: string; ceremony: Record<string, Record<string, unknown>>; context: Record<string, unknown>; now: Date; expiresAt: Date }): NewFlow {
  return {
    id: a.id,
    tenant_id: p.tenantId,
    kind: 'enrollment',
    subject_type: 'user',
    subject_id: p.userId,
    identifier: null,
    secret_hash: null,
    state: a.state,
    required_level: '1',
    attempts_initial: ENROLLMENT_ATTEMPTS,
    attempts_left: ENROLLMENT_ATTEMPTS,
    ceremony: a.ceremony,
    context: a.context,
    created_at: a.now,
    updated_at: a.now,
    expires_at: a.expiresAt,
  };
}

export const ENROLLMENT_ATTEMPTS = 3;
