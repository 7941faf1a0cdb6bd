/**
 * Binding an authenticator app, for staff (self-service, or forced inside a sign-in flow) and for
 * customers (an administrator binds it): `begin` makes a pending credential with a fresh 160-bit
 * secret, sealed to its id, and returns what to show once (setup key, otpauth URI, QR code); the
 * first valid code confirms it (the step goes into the replay ledger, as any use). Outside a flow:
 * the callers gate the attempt (src/engine/attempt-gate.ts).
 */
import { randomUUID } from 'node:crypto';
import QRCode from 'qrcode';
import type { Aead } from '../../crypto/aead.js';
import type { CredentialRepo, CredentialSubject } from '../../storage/repositories/credentials.js';
import { normalizeCode } from '../shared.js';
import { base32, matchTotpStep, newTotpSecret, otpauthUri, totpAad } from './core.js';

export interface EnrollmentStart {
  pendingId: string;
  /** What the person needs to finish enrolling (setup key, URI, QR code); shown once. */
  display: { secret: string; otpauthUri: string; qrSvg: string };
}

export type EnrollmentResult = { ok: true; credentialId: string } | { ok: false; reason: 'not_enrolled' | 'malformed' | 'wrong' | 'code_used' };

export interface TotpEnrollment {
  begin(subject: CredentialSubject & { tenantId: string }, o: { account: string; issuer?: string; label?: string; now: Date }): Promise<EnrollmentStart>;
  confirm(subject: CredentialSubject & { tenantId: string }, pendingId: string, code: string, now: Date): Promise<EnrollmentResult>;
}

export function totpEnrollment(deps: { aead: Aead; credentials: CredentialRepo }): TotpEnrollment {
  return {
    async begin(subject, o) {
      const id = randomUUID();
      const secret = newTotpSecret();
      await deps.credentials.createPending({
        id,
        tenantId: subject.tenantId,
        subject: { type: subject.type, id: subject.id },
        kind: 'totp',
        label: o.label ?? 'Authenticator app',
        material: deps.aead.seal(secret, totpAad(id)),
        now: o.now,
        // a customer has one enrollment in progress at a time; staff may have several pending
        replacePending: subject.type === 'customer',
      });
      const uri = otpauthUri(secret, o.issuer ?? 'Callwarden', o.account);
      const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      return { pendingId: id, display: { secret: base32(secret), otpauthUri: uri, qrSvg } };
    },
    async confirm(subject, pendingId, response, now) {
      const who = { type: subject.type, id: subject.id };
      const r = await deps.credentials.byId(who, pendingId);
      if (!r || r.kind !== 'totp' || r.status !== 'pending' || !r.material) return { ok: false, reason: 'not_enrolled' };
      const code = normalizeCode(response);
      if (!/^\d{6}$/.test(code)) return { ok: false, reason: 'malformed' };
      const step = matchTotpStep(deps.aead.open(r.material, totpAad(r.id)), code, now);
      if (step === null) return { ok: false, reason: 'wrong' };
      if (!(await deps.credentials.useTotpStep(who, step, now, r.id))) return { ok: false, reason: 'code_used' };
      if (!(await deps.credentials.activate(who, pendingId, now))) return { ok: false, reason: 'not_enrolled' };
      return { ok: true, credentialId: r.id };
    },
  };
}
