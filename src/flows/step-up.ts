/**
 * Step-up: a session carries its assurance level, its methods (so whether one was phishing-resistant)
 * and when it last authenticated. A sensitive action names what it needs (tenant policy `stepUp`);
 * `requireAssurance` refuses an unmet need with `step_up_required`, saying what is missing and what
 * is needed, and `startStepUp` opens a re-authentication flow of the session that asks only for
 * that: a second factor (only those that can give it: a security key when phishing resistance is
 * asked), starting from the methods the session already proved. Completing it refreshes the session
 * in place (new token, new methods and level, auth time now); the client retries the action.
 */
import { AppError, type ErrorReason } from '../domain/errors.js';
import { mfaModeFor, type Assurance } from '../domain/policy.js';
import { WEBAUTHN } from '../methods/webauthn/variants.js';
import type { Origin, Services } from '../services/context.js';
import { currentPolicy } from '../services/policies.js';
import type { Principal } from '../services/sessions.js';
import { createFlow, describe, type StepResult } from './signin.js';

export interface Need {
  aal: 1 | 2 | 3;
  phishingResistant: boolean;
  maxAgeSeconds: number | null;
}

export const needOf = (a: Assurance): Need => ({ aal: a.aal, phishingResistant: a.phishingResistant, maxAgeSeconds: a.maxAgeMinutes === null ? null : a.maxAgeMinutes * 60 });

type Lack = Extract<ErrorReason, 'assurance_too_low' | 'not_phishing_resistant' | 'auth_too_old'>;
type Session = Pick<Principal, 'aal' | 'methods' | 'authTime'>;

/** Each thing a session may lack, and how to tell. */
const CHECKS: Array<{ reason: Lack; lacks: (s: Services, p: Session, need: Need, now: Date) => boolean }> = [
  { reason: 'assurance_too_low', lacks: (_s, p, need) => p.aal < need.aal },
  { reason: 'not_phishing_resistant', lacks: (s, p, need) => need.phishingResistant && !s.methods.phishingResistant(p.methods) },
  { reason: 'auth_too_old', lacks: (_s, p, need, now) => need.maxAgeSeconds !== null && now.getTime() - p.authTime.getTime() > need.maxAgeSeconds * 1000 },
];

/** What the session lacks for `need` (empty: nothing). */
export const missing = (s: Services, p: Session, need: Need, now: Date): Lack[] => CHECKS.filter((c) => c.lacks(s, p, need, now)).map((c) => c.reason);

/** Throws `step_up_required` unless the session meets `need`. */
export function requireAssurance(s: Services, p: Principal, need: Need): void {
  const lacks = missing(s, p, need, s.clock());
  if (!lacks.length) return;
  throw new AppError('step_up_required', {
    reason: lacks[0],
    missing: lacks,
    need,
    session: { aal: p.aal, phishingResistant: s.methods.phishingResistant(p.methods), authAgeSeconds: Math.round((s.clock().getTime() - p.authTime.getTime()) / 1000) },
  });
}

/** The sensitive actions whose need the tenant's policy sets. */
export type SensitiveAction = 'reveal' | 'factorReset' | 'policyChange';

export async function requireFor(s: Services, p: Principal, action: SensitiveAction): Promise<void> {
  const { policy } = await currentPolicy(s, p.tenantId);
  requireAssurance(s, p, needOf(policy.stepUp[action]));
}

/**
 * A flow that gives the session what `need` asks: one more factor of those that can (a phishing-
 * resistant need or AAL3 takes a security key; AAL2 also an authenticator app). A need only of a
 * recent authentication at AAL1 asks for the password again, as a re-authentication does.
 */
export async function startStepUp(s: Services, p: Principal, need: Need, origin: Origin): Promise<StepResult> {
  const { policy } = await currentPolicy(s, p.tenantId);
  const enrolled = await s.store.credentials.activeKinds({ type: 'user', id: p.userId });
  const strong = need.phishingResistant || need.aal >= 3;
  const usable = mfaModeFor(policy, p.userRoles) === 'off' ? [] : policy.mfa.allowedFactors.filter((k) => k !== 'recovery_code' && enrolled.includes(k) && (!strong || k === WEBAUTHN));
  const base = { tenantId: p.tenantId, kind: 'reauth' as const, identifier: p.userEmail, userId: p.userId, sessionId: p.id, origin };
  if (!usable.length) {
    if (need.aal <= 1 && !need.phishingResistant) return createFlow(s, { ...base, requiredAal: 1 });
    throw new AppError('conflict', { reason: 'step_up_unavailable', need }, 'None of your sign-in methods can give what this needs: add a security key (or an authenticator app) first.');
  }
  // the flow starts at the second factor, from what this session already proved (a password, a passkey)
  const r = await createFlow(s, { ...base, requiredAal: need.aal, state: 'second_factor', completedMethods: [...new Set(p.methods)], context: { stepUp: { methods: usable, need } } });
  return { ...r, flow: { ...r.flow, options: describe(s, usable) } };
}
