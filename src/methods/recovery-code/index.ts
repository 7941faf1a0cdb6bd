/**
 * Recovery codes (NIST look-up secrets): 10 codes of 12 characters from a 31-letter alphabet
 * (~59 bits each), shown once, stored as HMAC-SHA256 under a pepper derived from the encryption key.
 * A check spends the code in the statement that records the success. Staff only.
 */
import { randomInt, timingSafeEqual } from 'node:crypto';
import { hmac } from '../../crypto/tokens.js';
import type { Method } from '../../engine/method.js';
import { codeAnswer, normalizeCode, type CodeAnswer } from '../shared.js';

const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
export const RECOVERY_CODE_COUNT = 10;

export function newRecoveryCode(): string {
  let s = '';
  for (let i = 0; i < 12; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8)}`;
}

export const recoveryCodeDigest = (pepper: Buffer, code: string) => hmac(pepper, normalizeCode(code).toLowerCase());

export function recoveryCodeMethod(deps: { pepper: Buffer }): Method<CodeAnswer> {
  return {
    kind: 'recovery_code',
    traits: { category: 'possession', aal: 2, phishingResistant: false, restricted: false, label: 'Recovery code' },
    subjects: ['user'],
    answer: codeAnswer,
    counter: 'subject',
    needs: ['credential'],
    available: (f) => f.credentialKinds.includes('recovery_code'),
    async verify({ subject, answer, loaded }) {
      const code = normalizeCode(answer.code).toLowerCase();
      const cred = loaded.credential;
      if (!cred?.codes || !/^[a-z0-9]{12}$/.test(code)) return { ok: false, reason: 'wrong_code' };
      const digest = recoveryCodeDigest(deps.pepper, code);
      // every unused code is compared (constant time), so the time taken says nothing of which matched
      let match = false;
      for (const h of cred.codes) match = timingSafeEqual(h, digest) || match;
      if (!match) return { ok: false, reason: 'wrong_code' };
      return {
        ok: true,
        effects: [{ kind: 'recovery_code', subjectId: subject.id, credentialId: cred.id, codeHash: digest }],
        detail: { remaining: cred.codes.length - 1 },
      };
    },
  };
}
