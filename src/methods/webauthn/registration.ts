/**
 * Binding a security key or passkey: the creation options (challenge kept in the enrollment flow's
 * slot, the subject's keys excluded so one key is not registered twice) and the check of the
 * browser's answer. The check never writes: the new credential comes back as an effect the engine
 * writes in the statement that completes the enrollment flow (a second answer loses).
 */
import { randomUUID } from 'node:crypto';
import { generateRegistrationOptions, MetadataService, verifyRegistrationResponse } from '@simplewebauthn/server';
import { decodeAttestationObject } from '@simplewebauthn/server/helpers';
import type { Aead } from '../../crypto/aead.js';
import type { Method, SubjectType } from '../../engine/method.js';
import { z } from 'zod';
import { attestationJson } from './answers.js';
import { CEREMONY_TTL_MS, expected, openSlot, refusalReason, type UserVerification, type WebauthnSlot } from './ceremony.js';
import type { RelyingParty } from './index.js';
import { sealKey, type KeyMeta } from './material.js';
import { WEBAUTHN } from './variants.js';

/** The slot of a registration (its own, so failed registrations never count against signing in with a key). */
export const REGISTER_SLOT = 'webauthn_register';

/** 'security_key': a roaming key (USB, NFC), non-discoverable is fine; 'passkey': a discoverable credential (platform or phone). */
export type KeyKind = 'security_key' | 'passkey';

export const registrationAnswer = z.object({ credential: attestationJson, label: z.string().trim().min(1).max(64).optional() });
export type RegistrationAnswer = z.infer<typeof registrationAnswer>;

export async function creationOptions(rp: RelyingParty, a: { rpName: string; user: { id: string; name: string; displayName: string }; keyKind: KeyKind; userVerification: UserVerification; attestation: 'none' | 'direct'; exclude: Array<{ id: string; transports: string[] }>; now: Date }) {
  const options = await generateRegistrationOptions({
    rpName: a.rpName,
    rpID: rp.rpId,
    userName: a.user.name,
    userDisplayName: a.user.displayName,
    userID: new Uint8Array(Buffer.from(a.user.id)),
    timeout: CEREMONY_TTL_MS,
    // an allow-list of models needs the key to prove its model
    attestationType: a.attestation,
    excludeCredentials: a.exclude.map((c) => ({ id: c.id, transports: c.transports as never })),
    authenticatorSelection: {
      residentKey: a.keyKind === 'passkey' ? 'required' : 'discouraged',
      userVerification: a.keyKind === 'passkey' ? 'required' : a.userVerification,
      ...(a.keyKind === 'security_key' ? { authenticatorAttachment: 'cross-platform' as const } : {}),
    },
    preferredAuthenticatorType: a.keyKind === 'passkey' ? 'localDevice' : 'securityKey',
  });
  const slot: WebauthnSlot = { purpose: 'register', challenge: options.challenge, userVerification: options.authenticatorSelection?.userVerification ?? 'preferred', expiresAt: new Date(a.now.getTime() + CEREMONY_TTL_MS).toISOString(), keyKind: a.keyKind };
  return { options, slot };
}

/** The registration answer as an engine method (its own slot and counter; recorded as 'webauthn_register'). */
export function registrationMethod(deps: { aead: Aead; rp: RelyingParty }): Method<RegistrationAnswer> {
  return {
    kind: REGISTER_SLOT,
    traits: { category: 'possession', aal: 1, phishingResistant: false, restricted: false, label: 'Security key registration' },
    subjects: ['user', 'customer'],
    answer: registrationAnswer,
    counter: 'subject',
    slot: REGISTER_SLOT,
    needs: [],
    available: () => deps.rp.rpId !== '',
    async verify({ flow, subject, answer, ceremony, policy, now }) {
      const open = openSlot(ceremony, 'register', now);
      if ('refusal' in open) return open.refusal;
      const { slot } = open;
      let info;
      try {
        const v = await verifyRegistrationResponse({ response: answer.credential as never, ...expected(slot, deps.rp) });
        if (!v.verified) return { ok: false, reason: 'invalid_assertion', ceremony: null };
        info = v.registrationInfo;
      } catch (e) {
        return { ok: false, reason: refusalReason(e), ceremony: null };
      }
      const models = policy.webauthn.allowedModels;
      if (models.length) {
        // a full attestation (x5c): with the model's statement loaded, the library has checked it chains to the model's roots
        const x5c = decodeAttestationObject(info.attestationObject).get('attStmt').get('x5c');
        if (info.fmt === 'none' || !x5c?.length) return { ok: false, reason: 'attestation_required', ceremony: null };
        if (!models.includes(info.aaguid.toLowerCase()) || !(await MetadataService.getStatement(info.aaguid))) return { ok: false, reason: 'model_not_allowed', ceremony: null };
      }
      const id = randomUUID();
      const transports = (answer.credential.response.transports ?? info.credential.transports ?? []).map(String);
      const meta: KeyMeta = {
        aaguid: info.aaguid,
        deviceType: info.credentialDeviceType,
        backedUp: info.credentialBackedUp,
        userVerified: info.userVerified,
        attestation: info.fmt,
        attachment: answer.credential.authenticatorAttachment ?? null,
        transports,
      };
      const label = answer.label ?? (slot.keyKind === 'passkey' ? 'Passkey' : 'Security key');
      return {
        ok: true,
        ceremony: null,
        effects: [
          {
            kind: 'create_credential',
            id,
            tenantId: flow.tenant_id,
            subjectType: subject.type as SubjectType,
            subjectId: subject.id,
            credentialKind: WEBAUTHN,
            label,
            material: sealKey(deps.aead, id, { publicKey: Buffer.from(info.credential.publicKey).toString('base64url'), transports }),
            externalId: info.credential.id,
            signCount: info.credential.counter,
            meta: meta as unknown as Record<string, unknown>,
          },
        ],
        detail: { credentialId: id, label, deviceType: meta.deviceType, aaguid: meta.aaguid },
      };
    },
  };
}
