/**
 * What a security key or passkey proved, as recorded kinds with their own traits (NIST SP 800-63B
 * and its synced-authenticator supplement): a device-bound key is a hardware cryptographic
 * authenticator (AAL3 with another factor, or alone when it verified its user by PIN or biometrics);
 * a synced passkey (backup eligible, its key copied by a cloud account) reaches AAL2 at most; without
 * user verification a key is one factor; all of them are phishing-resistant (bound to the origin).
 */
import type { MethodTraits } from '../../engine/method.js';

export const WEBAUTHN = 'webauthn';

const base = { category: 'possession', phishingResistant: true, restricted: false } as const;

export const webauthnTraits: MethodTraits = { ...base, aal: 3, label: 'Security key' };

export const webauthnVariants = {
  webauthn_uv: { ...base, aal: 3, multiFactor: true, label: 'Security key with PIN or biometrics' },
  webauthn_synced: { ...base, aal: 2, label: 'Synced passkey without user verification' },
  webauthn_synced_uv: { ...base, aal: 2, multiFactor: true, label: 'Synced passkey' },
} satisfies Record<string, MethodTraits>;

export type WebauthnKind = typeof WEBAUTHN | keyof typeof webauthnVariants;

/** The kind an assertion proved: device-bound or synced, user verified or not. */
export function provenKind(a: { synced: boolean; userVerified: boolean }): WebauthnKind {
  if (a.synced) return a.userVerified ? 'webauthn_synced_uv' : 'webauthn_synced';
  return a.userVerified ? 'webauthn_uv' : WEBAUTHN;
}

export const isWebauthnKind = (k: string): k is WebauthnKind => k === WEBAUTHN || Object.hasOwn(webauthnVariants, k);
