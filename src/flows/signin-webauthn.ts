/**
 * Security keys and passkeys in staff sign-in, as steps of the sign-in flow kind (./signin.ts):
 *  - second factor: after the password, `options` opens a challenge in the flow's `webauthn` slot
 *    (the user's keys allowed, user verification as the tenant's policy says) and the browser's
 *    assertion is checked by the engine like any other answer;
 *  - passwordless: a flow that starts in state `passkey` with a challenge that requires user
 *    verification and names no key (discoverable credentials, browser autofill); the assertion
 *    names the key, the key names the user. Unknown keys, keys of a disabled account and bad
 *    signatures are refused alike, so the step enumerates neither users nor credential IDs.
 * Assurance follows from what the key proved (src/methods/webauthn/variants.ts).
 */
import { hashToken } from '../crypto/tokens.js';
import { AppError } from '../domain/errors.js';
import { mfaModeFor, type Policy } from '../domain/policy.js';
import type { Account } from '../engine/method.js';
import { newSlot, requestOptions, WEBAUTHN_SLOT } from '../methods/webauthn/ceremony.js';
import { WEBAUTHN } from '../methods/webauthn/variants.js';
import type { AssertionAnswer } from '../methods/webauthn/answers.js';
import type { Origin, Services } from '../services/context.js';
import { writeChallenge } from '../storage/repositories/flow-records.js';
import { completion, createFlow, hooks, stepUpOffers, type StepResult } from './signin.js';
import { newToken } from '../crypto/tokens.js';

export type RequestOptions = ReturnType<typeof requestOptions>;

const unavailable = () => new AppError('invalid_request', { reason: 'webauthn_unavailable' }, 'Security keys are not configured on this server.');
const notAllowed = () => new AppError('invalid_request', { method: WEBAUTHN, reason: 'method_not_allowed' }, 'That sign-in method is not available for this account.');

function allowSecondFactor(policy: Policy, user: Pick<Account, 'roles'>): void {
  if (mfaModeFor(policy, user.roles) === 'off' || !(policy.mfa.allowedFactors as readonly string[]).includes(WEBAUTHN)) throw notAllowed();
}

function allowPasswordless(policy: Policy): void {
  if (!(policy.mfa.allowedFactors as readonly string[]).includes(WEBAUTHN) || !policy.webauthn.passwordless) {
    throw new AppError('invalid_request', { method: WEBAUTHN, reason: 'passwordless_off' }, 'Your organization does not allow signing in with a passkey alone.');
  }
}

/** A passwordless sign-in: a flow in state `passkey`, its challenge, and the options for navigator.credentials.get. */
export async function startPasskeySignin(s: Services, a: { tenant: string; origin: Origin }): Promise<StepResult & { options: RequestOptions }> {
  if (!s.webauthn.rp.rpId) throw unavailable();
  const slot = newSlot('authenticate', 'required', s.clock());
  const r = await createFlow(s, { tenantSlug: a.tenant.trim().toLowerCase(), kind: 'signin', identifier: null, userId: null, sessionId: null, requiredAal: 2, origin: a.origin, state: 'passkey', ceremony: { [WEBAUTHN_SLOT]: slot } });
  return { ...r, options: requestOptions(slot, s.webauthn.rp.rpId, []) };
}

/** Opens (or replaces) the challenge of a second-factor or passwordless step; the old one can no longer be answered. */
export async function webauthnOptions(s: Services, a: { id: string; token: string }): Promise<{ options: RequestOptions }> {
  if (!s.webauthn.rp.rpId) throw unavailable();
  const now = s.clock();
  const c = await s.engine.read({ flowId: a.id, secretHash: hashToken(a.token), states: ['second_factor', 'passkey'], kindNeeds: ['account'] });
  const policy = s.engine.policy(c);
  let allow: Array<{ id: string; transports: string[] }> = [];
  if (c.flow.state === 'second_factor') {
    const user = c.loaded.account;
    if (!user || user.id !== c.flow.subject_id) throw new AppError('flow_invalid');
    allowSecondFactor(policy, user);
    if (!user.activeKinds.includes(WEBAUTHN) || !stepUpOffers(c.flow, WEBAUTHN)) throw notAllowed();
    allow = (await s.store.credentials.keyRefs({ type: 'user', id: user.id })).filter((k) => k.status === 'active').map((k) => ({ id: k.externalId, transports: k.transports }));
  } else allowPasswordless(policy);
  const slot = newSlot('authenticate', c.flow.state === 'passkey' ? 'required' : policy.webauthn.userVerification, now);
  const written = await writeChallenge(s.store.db, { flowId: c.flow.id, states: [c.flow.state], setSlots: { [WEBAUTHN_SLOT]: slot }, events: [], now });
  if (!written) throw new AppError('flow_state', { reason: 'flow_state' });
  return { options: requestOptions(slot, s.webauthn.rp.rpId, allow) };
}

/** The browser's assertion, as a second factor or as a passwordless sign-in. */
export function submitWebauthn(s: Services, a: { id: string; token: string; credential: AssertionAnswer['credential']; origin: Origin }): Promise<StepResult> {
  if (!s.webauthn.rp.rpId) throw unavailable();
  return s.engine.attempt(
    { flowId: a.id, secretHash: hashToken(a.token), states: ['second_factor', 'passkey'], method: s.methods.get(WEBAUTHN)!, answer: { credential: a.credential } },
    hooks(
      s,
      a.origin,
      (policy, user, f) => {
        if (f.state === 'passkey') return allowPasswordless(policy);
        allowSecondFactor(policy, user);
        if (!stepUpOffers(f, WEBAUTHN)) throw notAllowed();
      },
      async (c, user) => {
        const done = completion(s, c.flow, user, c.policy, c.completed, a.origin, { grace: false, now: c.now });
        return {
          state: 'completed',
          secretHash: hashToken(newToken()),
          // passwordless: the key named the user
          ...(c.flow.subject_id ? {} : { subject: { type: 'user' as const, id: user.id } }),
          resultId: done.session.id,
          events: done.events,
          extra: done.extra,
          session: done.session,
        };
      },
    ),
  );
}

