/**
 * The audit log's key material, built from the configuration (never stored in the database):
 *
 * - the event MAC key (HMAC-SHA256): CALLWARDEN_AUDIT_MAC_KEY, or, when that is empty, a key derived
 *   with HKDF from CALLWARDEN_ENCRYPTION_KEY; previous keys (CALLWARDEN_AUDIT_MAC_PREVIOUS_KEYS) only
 *   verify old events;
 * - the checkpoint signing key (Ed25519): CALLWARDEN_AUDIT_SIGNING_KEY (a 32-byte seed), or one derived
 *   from CALLWARDEN_ENCRYPTION_KEY; previous public keys (CALLWARDEN_AUDIT_SIGNING_PREVIOUS_KEYS) only
 *   verify old checkpoints.
 *
 * Every key has an id computed from it (a MAC key's id is an HMAC of a fixed label under it, a
 * signing key's id a hash of its public key), so ids reveal nothing and need no configuration; each
 * event carries its MAC key id and each checkpoint its signing key id, which keeps old ones
 * verifiable after a rotation.
 */
import { createHash, createHmac, createPrivateKey, createPublicKey, hkdfSync, type KeyObject } from 'node:crypto';
import type { Config } from '../config/load.js';

export interface MacKey {
  id: string;
  key: Buffer;
}

export interface VerifyKey {
  id: string;
  /** The raw 32-byte Ed25519 public key. */
  raw: Buffer;
  key: KeyObject;
}

export interface AuditKeys {
  /** Writes new MACs. */
  mac: MacKey;
  /** Every MAC key that verifies (the current one and the previous ones), by id. */
  macKeys: ReadonlyMap<string, MacKey>;
  /** Signs checkpoints. */
  signing: { id: string; key: KeyObject; publicKey: VerifyKey };
  /** Every public key that verifies checkpoints (the current one and the previous ones), by id. */
  verifyKeys: ReadonlyMap<string, VerifyKey>;
}

/** The subset of the configuration the keys come from. */
export type AuditKeyConfig = Pick<Config, 'encryptionKey' | 'auditMacKey' | 'auditMacPreviousKeys' | 'auditSigningKey' | 'auditSigningPreviousKeys'>;

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const derive = (master: Buffer, purpose: string) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `callwarden:${purpose}`, 32));

export function macKey(key: Buffer): MacKey {
  return { id: `m-${createHmac('sha256', key).update('callwarden audit mac key id').digest('hex').slice(0, 16)}`, key };
}

export function verifyKey(raw: Buffer): VerifyKey {
  if (raw.length !== 32) throw new RangeError('an Ed25519 public key is 32 bytes');
  return { id: `s-${createHash('sha256').update(raw).digest('hex').slice(0, 16)}`, raw, key: createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' }) };
}

/** An Ed25519 signing key from its 32-byte seed. */
export function signingKey(seed: Buffer): AuditKeys['signing'] {
  if (seed.length !== 32) throw new RangeError('an Ed25519 seed is 32 bytes');
  const key = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  const publicKey = verifyKey(Buffer.from(spki.subarray(spki.length - 32)));
  return { id: publicKey.id, key, publicKey };
}

/** Splits a comma-separated list of base64 values (blank entries ignored). */
export function base64List(v: string): Buffer[] {
  return v.split(',').map((x) => x.trim()).filter(Boolean).map((x) => Buffer.from(x, 'base64'));
}

export function buildAuditKeys(c: AuditKeyConfig): AuditKeys {
  const mac = macKey(c.auditMacKey ? Buffer.from(c.auditMacKey, 'base64') : derive(c.encryptionKey, 'audit-event-mac'));
  const macKeys = new Map<string, MacKey>([[mac.id, mac]]);
  for (const k of base64List(c.auditMacPreviousKeys)) {
    const m = macKey(k);
    if (!macKeys.has(m.id)) macKeys.set(m.id, m);
  }
  const signing = signingKey(c.auditSigningKey ? Buffer.from(c.auditSigningKey, 'base64') : derive(c.encryptionKey, 'audit-checkpoint-signing'));
  const verifyKeys = new Map<string, VerifyKey>([[signing.id, signing.publicKey]]);
  for (const raw of base64List(c.auditSigningPreviousKeys)) {
    const v = verifyKey(raw);
    if (!verifyKeys.has(v.id)) verifyKeys.set(v.id, v);
  }
  return { mac, macKeys, signing, verifyKeys };
}

const cache = new WeakMap<object, AuditKeys>();

/** The keys of a configuration, built once per configuration object. */
export function auditKeys(c: AuditKeyConfig): AuditKeys {
  let k = cache.get(c);
  if (!k) {
    k = buildAuditKeys(c);
    cache.set(c, k);
  }
  return k;
}
