/**
 * AES-256-GCM envelopes for secrets at rest: version byte, 12-byte random nonce, ciphertext, 16-byte
 * tag. The associated data binds a ciphertext to its row (e.g. the factor id), so a secret copied
 * onto another row does not decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes, hkdfSync } from 'node:crypto';

const VERSION = 1;

export class Aead {
  readonly #key: Buffer;
  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('AES-256-GCM needs a 32-byte key');
    this.#key = key;
  }

  seal(plaintext: Buffer, aad: string): Buffer {
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#key, nonce);
    c.setAAD(Buffer.from(aad));
    const body = Buffer.concat([c.update(plaintext), c.final()]);
    return Buffer.concat([Buffer.from([VERSION]), nonce, body, c.getAuthTag()]);
  }

  open(envelope: Buffer, aad: string): Buffer {
    if (envelope.length < 29 || envelope[0] !== VERSION) throw new Error('not a sealed value');
    const d = createDecipheriv('aes-256-gcm', this.#key, envelope.subarray(1, 13));
    d.setAAD(Buffer.from(aad));
    d.setAuthTag(envelope.subarray(envelope.length - 16));
    return Buffer.concat([d.update(envelope.subarray(13, envelope.length - 16)), d.final()]);
  }

  /** A sub-key for another purpose (e.g. the recovery-code pepper), derived with HKDF. */
  derive(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#key, Buffer.alloc(0), `callwarden:${purpose}`, 32));
  }
}
