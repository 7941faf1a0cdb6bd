/**
 * Security keys and passkeys (WebAuthn, with @simplewebauthn/server), for staff and customers alike.
 * An answer is an assertion over the flow's server-held challenge (./ceremony.ts), checked against
 * the allowed origins and the RP ID from configuration and the credential the answer names (read by
 * the claim, in the flow's tenant; before the subject is known, whoever holds it: passwordless
 * sign-in). What it proved is recorded as one of four kinds (./variants.ts). A success moves the
 * signature counter in the statement that records it (a parallel use of the same counter loses); a
 * counter that went backwards is refused and flags the credential (a cloned key?). Unknown
 * credentials and bad signatures get the same reason, so credential IDs reveal nothing.
 */
import { verifyAuthenticationResponse } from '@simplewebauthn/server';
import type { Aead } from '../../crypto/aead.js';
import type { Method } from '../../engine/method.js';
import { assertionAnswer, type AssertionAnswer } from './answers.js';
import { expected, openSlot, refusalReason, WEBAUTHN_SLOT } from './ceremony.js';
import { openKey } from './material.js';
import { provenKind, WEBAUTHN, webauthnTraits, webauthnVariants } from './variants.js';

export interface RelyingParty {
  /** Empty: WebAuthn is not configured on this server. */
  rpId: string;
  origins: string[];
}

export function webauthnMethod(deps: { aead: Aead; rp: RelyingParty }): Method<AssertionAnswer> {
  return {
    kind: WEBAUTHN,
    traits: webauthnTraits,
    variants: webauthnVariants,
    subjects: ['user', 'customer'],
    answer: assertionAnswer,
    counter: 'subject',
    slot: WEBAUTHN_SLOT,
    needs: ['named_credential'],
    credentialRef: (a) => a.credential.id,
    available: (f) => deps.rp.rpId !== '' && f.credentialKinds.includes(WEBAUTHN),
    async verify({ subject, answer, ceremony, loaded, now }) {
      const open = openSlot(ceremony, 'authenticate', now);
      if ('refusal' in open) return open.refusal;
      const { slot } = open;
      const cred = loaded.credential;
      if (!cred?.material || !cred.subjectId || cred.subjectId !== subject.id) return { ok: false, reason: 'invalid_assertion', ceremony: null };
      if (cred.status === 'suspended') return { ok: false, reason: 'credential_suspended', ceremony: null };
      const handle = answer.credential.response.userHandle;
      if (handle && handle !== Buffer.from(subject.id).toString('base64url')) return { ok: false, reason: 'invalid_assertion', ceremony: null };
      const key = openKey(deps.aead, cred.id, cred.material);
      const stored = cred.signCount ?? 0;
      let info;
      try {
        const v = await verifyAuthenticationResponse({
          response: answer.credential as never,
          ...expected(slot, deps.rp),
          // the counter is judged below, where a regression flags the key instead of just throwing
          credential: { id: String(cred.externalId), publicKey: Buffer.from(key.publicKey, 'base64url'), counter: 0, transports: key.transports as never },
        });
        if (!v.verified) return { ok: false, reason: 'invalid_assertion', ceremony: null };
        info = v.authenticationInfo;
      } catch (e) {
        return { ok: false, reason: refusalReason(e), ceremony: null };
      }
      if ((info.newCounter > 0 || stored > 0) && info.newCounter <= stored) {
        return { ok: false, reason: 'counter_regression', ceremony: null, effects: [{ kind: 'flag_credential', credentialId: cred.id, subjectId: subject.id, flag: 'counter_regression' }] };
      }
      const synced = info.credentialDeviceType === 'multiDevice';
      return {
        ok: true,
        proven: provenKind({ synced, userVerified: info.userVerified }),
        ceremony: null,
        effects: [{ kind: 'sign_count', credentialId: cred.id, subjectId: subject.id, from: stored, to: info.newCounter, meta: { backedUp: info.credentialBackedUp } }],
        detail: { credentialId: cred.id, userVerified: info.userVerified, synced },
      };
    },
  };
}
