/**
 * Registering a security key or passkey from the security page, as a flow of kind `enrollment`:
 * `begin` (fresh authentication needed) makes a flow bound to the signed-in user with the creation
 * challenge in its `webauthn_register` slot (300 s, 3 attempts); `finish` is an engine attempt whose
 * success writes the new credential in the statement that completes the flow, so one challenge binds
 * at most one key, and a challenge of another flow, user or tenant never verifies. The mailbox owner
 * hears of every key added; the first factor of an account brings recovery codes.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../domain/errors.js';
import { creationOptions, REGISTER_SLOT, type KeyKind, type RegistrationAnswer } from '../methods/webauthn/registration.js';
import { WEBAUTHN } from '../methods/webauthn/variants.js';
import { queueEmail, templates } from '../delivery/notices.js';
import type { Origin, Services } from '../services/context.js';
import { currentPolicy } from '../services/policies.js';
import { eventRecord } from '../services/audit-log.js';
import { ensureStatements } from '../services/authenticator-models.js';
import { requireFreshAuth } from '../services/self-service.js';
import type { Principal } from '../services/sessions.js';
import { CEREMONY_TTL_MS } from '../methods/webauthn/ceremony.js';
import { enrollmentFlow, enrollmentHooks } from './enrollment-kind.js';


export interface RegisteredKey {
  factorId: string;
  label: string;
  deviceType: 'singleDevice' | 'multiDevice';
  recoveryCodes?: string[];
}

export async function beginKeyRegistration(s: Services, p: Principal, a: { keyKind: KeyKind; origin: Origin }) {
  if (!s.webauthn.rp.rpId) throw new AppError('invalid_request', { reason: 'webauthn_unavailable' }, 'Security keys are not configured on this server.');
  const { policy } = await currentPolicy(s, p.tenantId);
  await requireFreshAuth(s, p, policy);
  if (!(policy.mfa.allowedFactors as readonly string[]).includes(WEBAUTHN)) throw new AppError('forbidden', undefined, 'Security keys are not allowed by your organization.');
  const now = s.clock();
  const existing = await s.store.credentials.keyRefs({ type: 'user', id: p.userId });
  const { options, slot } = await creationOptions(s.webauthn.rp, {
    rpName: p.tenantSlug,
    user: { id: p.userId, name: p.userEmail, displayName: p.userEmail },
    keyKind: a.keyKind,
    userVerification: policy.webauthn.userVerification,
    attestation: policy.webauthn.allowedModels.length ? 'direct' : 'none',
    exclude: existing.map((k) => ({ id: k.externalId, transports: k.transports })),
    now,
  });
  const flow = await s.store.flows.create(
    enrollmentFlow(p, { id: randomUUID(), state: 'register', ceremony: { [REGISTER_SLOT]: slot }, context: { sessionId: p.id, ip: a.origin.ip, keyKind: a.keyKind }, now, expiresAt: new Date(now.getTime() + CEREMONY_TTL_MS) }),
    [eventRecord(s, { tenantId: p.tenantId, type: 'factor.enrollment_started', outcome: 'info', actor: { type: 'user', id: p.userId }, target: { type: 'user', id: p.userId }, origin: a.origin, data: { kind: WEBAUTHN, keyKind: a.keyKind } })],
  );
  return { registrationId: flow.id, expiresAt: flow.expires_at.toISOString(), options };
}

export async function finishKeyRegistration(s: Services, p: Principal, a: { registrationId: string; answer: RegistrationAnswer; origin: Origin }): Promise<RegisteredKey> {
  const { policy } = await currentPolicy(s, p.tenantId);
  await requireFreshAuth(s, p, policy);
  // key models checked: the library needs their statements (read once per metadata upload in a process)
  if (policy.webauthn.allowedModels.length) await ensureStatements(s);
  let key: RegisteredKey | undefined;
  const hooks = enrollmentHooks<RegisteredKey>(p, { origin: a.origin, kind: WEBAUTHN, state: 'register' }, {
    async plan(c) {
      const d = c.verdict.ok ? (c.verdict.detail as { credentialId: string; label: string; deviceType: RegisteredKey['deviceType']; aaguid: string }) : undefined;
      if (!d) throw new Error('a plan without a verified registration');
      key = { factorId: d.credentialId, label: d.label, deviceType: d.deviceType };
      return {
        state: 'completed',
        requireMethodAbsent: true,
        events: [{ tenantId: p.tenantId, type: 'factor.enrolled', outcome: 'success', actor: { type: 'user', id: p.userId }, target: { type: 'factor', id: d.credentialId }, origin: a.origin, data: { kind: WEBAUTHN, label: d.label, deviceType: d.deviceType, aaguid: d.aaguid } }],
      };
    },
    async done() {
      return key!;
    },
  });
  const r = await s.engine.attempt({ flowId: a.registrationId, tenantId: p.tenantId, states: ['register'], method: s.webauthn.registration, answer: a.answer }, hooks);
  await queueEmail(s, { tenantId: p.tenantId, to: p.userEmail, ...templates.factorChanged({ action: 'added', label: r.label }) });
  const hasCodes = (await s.store.credentials.active({ type: 'user', id: p.userId }, 'recovery_code')) !== undefined;
  return hasCodes ? r : { ...r, recoveryCodes: await s.recovery.issue({ tenantId: p.tenantId, id: p.userId }, s.clock()) };
}
