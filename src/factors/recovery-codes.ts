/**
 * Recovery codes (NIST look-up secrets): 10 codes of 12 characters from a 31-letter alphabet
 * (~59 bits each), shown once. Stored as HMAC-SHA256 under a key derived from the encryption key
 * (a secret pepper kept out of the database), so a stolen database cannot be brute-forced, while
 * a check is one indexed, atomic UPDATE that spends the code.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { hmac } from '../crypto/tokens.js';
import type { CredentialRepo } from '../storage/repositories/credentials.js';
import { normalizeCode, type Factor } from './factor.js';

const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
export const RECOVERY_CODE_COUNT = 10;

export function newRecoveryCode(): string {
  let s = '';
  for (let i = 0; i < 12; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8)}`;
}

export function recoveryCodes(deps: { credentials: CredentialRepo; pepper: Buffer }) {
  const digest = (code: string) => hmac(deps.pepper, normalizeCode(code).toLowerCase());

  const factor: Factor = {
    kind: 'recovery_code',
    category: 'possession',
    aal: 2,
    phishingResistant: false,
    restricted: false,
    label: 'Recovery code',
    async verify(subject, response, now) {
      const code = normalizeCode(response).toLowerCase();
      if (!/^[a-z0-9]{12}$/.test(code)) return { ok: false, reason: 'malformed' };
      const left = await deps.credentials.consumeRecoveryCode({ type: subject.type, id: subject.id }, digest(code), now);
      return left === null ? { ok: false, reason: 'wrong' } : { ok: true, detail: { remaining: left } };
    },
  };

  /** Issues a fresh set (replacing any earlier one) and returns the codes, to be shown once. */
  async function issue(subject: { tenantId: string; id: string; type?: 'user' | 'customer' }, now: Date): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await deps.credentials.replaceRecoveryCodes({ id: randomUUID(), tenantId: subject.tenantId, subject: { type: subject.type ?? 'user', id: subject.id }, hashes: codes.map(digest), now });
    return codes;
  }

  return { factor, issue };
}
