/**
 * A security key's stored material: its COSE public key and transports, sealed (AES-256-GCM bound to
 * the credential id, like every credential's material), so a public key swapped in the database is
 * refused rather than trusted. The public facts an admin sees (key model, device-bound or synced)
 * live in the credential's `meta`.
 */
import type { Aead } from '../../crypto/aead.js';

export interface KeyMaterial {
  /** COSE public key, base64url. */
  publicKey: string;
  transports: string[];
}

export const webauthnAad = (credentialId: string) => `webauthn:${credentialId}`;

export const sealKey = (aead: Aead, credentialId: string, m: KeyMaterial): Buffer => aead.seal(Buffer.from(JSON.stringify(m)), webauthnAad(credentialId));

export function openKey(aead: Aead, credentialId: string, material: Buffer): KeyMaterial {
  const m = JSON.parse(aead.open(material, webauthnAad(credentialId)).toString('utf8')) as KeyMaterial;
  return { publicKey: m.publicKey, transports: Array.isArray(m.transports) ? m.transports : [] };
}

/** Public facts of a key, kept in `credentials.meta`. */
export interface KeyMeta {
  aaguid: string;
  /** 'singleDevice' (device-bound) or 'multiDevice' (synced passkey). */
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  userVerified: boolean;
  attestation: string;
  attachment: 'platform' | 'cross-platform' | null;
  transports: string[];
  /** Warnings (a counter gone backwards), each with when it was seen. */
  flags?: Record<string, string>;
}
