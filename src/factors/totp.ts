/**
 * The TOTP factor: enrollment returns an otpauth URI and its QR code (SVG) and is confirmed by a first
 * valid code; verification accepts ±1 step and each time step once per subject (atomic ledger), so a
 * code cannot be replayed, whitespace variants included. Secrets are sealed with AES-256-GCM, bound
 * to their factor id.
 */
import { randomUUID } from 'node:crypto';
import QRCode from 'qrcode';
import type { Aead } from '../crypto/aead.js';
import type { CredentialRepo, CredentialSubject } from '../storage/repositories/credentials.js';
import { normalizeCode, type Factor, type Subject, type VerifyResult } from './factor.js';
import { base32, matchTotpStep, newTotpSecret, otpauthUri } from './totp-core.js';

/** Where TOTP secrets live (src/factors/totp.ts totpCredentialStore: the credentials table). */
export interface TotpCredentialStore {
  active(subject: Subject): Promise<{ id: string; sealed: Buffer } | undefined>;
  pending(subject: Subject, id: string): Promise<{ id: string; sealed: Buffer } | undefined>;
  createPending(subject: Subject, id: string, sealed: Buffer, label: string, now: Date): Promise<void>;
  activate(subject: Subject, id: string, now: Date): Promise<boolean>;
  /** Records the step as used (once per subject, atomically) and stamps the factor's last use. */
  useStep(subject: Subject, step: number, now: Date, factorId: string): Promise<boolean>;
}

/**
 * The one TOTP credential store, over `credentials`, for staff users and customers alike (the subject
 * says which). A customer's new enrollment replaces their unconfirmed earlier one; a user's earlier
 * pending enrollments stay confirmable until one of them becomes active (as before the merge).
 */
export function totpCredentialStore(credentials: CredentialRepo): TotpCredentialStore {
  const sealed = (r: { id: string; material: Buffer | null } | undefined) => (r?.material ? { id: r.id, sealed: r.material } : undefined);
  const whose = (s: Subject): CredentialSubject => ({ type: s.type, id: s.id });
  return {
    active: async (s) => sealed(await credentials.active(whose(s), 'totp')),
    pending: async (s, id) => {
      const r = await credentials.byId(whose(s), id);
      return r?.kind === 'totp' && r.status === 'pending' ? sealed(r) : undefined;
    },
    createPending: async (s, id, material, label, now) => {
      await credentials.createPending({ id, tenantId: s.tenantId, subject: whose(s), kind: 'totp', label, material, now, replacePending: s.type === 'customer' });
    },
    activate: (s, id, now) => credentials.activate(whose(s), id, now),
    useStep: (s, step, now, credentialId) => credentials.useTotpStep(whose(s), step, now, credentialId),
  };
}

export function totpFactor(deps: { aead: Aead; store: TotpCredentialStore; issuer: (subject: Subject) => string }): Factor {
  const aad = (id: string) => `totp:${id}`;

  async function check(subject: Subject, cred: { id: string; sealed: Buffer } | undefined, response: string, now: Date): Promise<VerifyResult> {
    if (!cred) return { ok: false, reason: 'not_enrolled' };
    const code = normalizeCode(response);
    if (!/^\d{6}$/.test(code)) return { ok: false, reason: 'malformed' };
    const step = matchTotpStep(deps.aead.open(cred.sealed, aad(cred.id)), code, now);
    if (step === null) return { ok: false, reason: 'wrong' };
    if (!(await deps.store.useStep(subject, step, now, cred.id))) return { ok: false, reason: 'replayed' };
    return { ok: true, detail: { factorId: cred.id } };
  }

  return {
    kind: 'totp',
    category: 'possession',
    aal: 2,
    phishingResistant: false,
    restricted: false,
    label: 'Authenticator app',
    async verify(subject, response, now) {
      return check(subject, await deps.store.active(subject), response, now);
    },
    enroll: {
      async begin(subject, opts) {
        const id = randomUUID();
        const secret = newTotpSecret();
        await deps.store.createPending(subject, id, deps.aead.seal(secret, aad(id)), opts.label ?? 'Authenticator app', opts.now);
        const uri = otpauthUri(secret, deps.issuer(subject), opts.account);
        const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
        return { pendingId: id, display: { secret: base32(secret), otpauthUri: uri, qrSvg } };
      },
      async confirm(subject, pendingId, response, now) {
        const r = await check(subject, await deps.store.pending(subject, pendingId), response, now);
        if (!r.ok) return r;
        if (!(await deps.store.activate(subject, pendingId, now))) return { ok: false, reason: 'not_enrolled' };
        return r;
      },
    },
  };
}
