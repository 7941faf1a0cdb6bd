/**
 * The customer's PIN (knowledge), keyed as DTMF digits or typed by the agent's caller. Stored as
 * argon2id over an HMAC with a pepper (src/customers/knowledge-secret.ts), so a leaked table is
 * useless offline. Its failure counter is per customer, across verifications.
 */
import { z } from 'zod';
import type { Aead } from '../../crypto/aead.js';
import type { PasswordHasher } from '../../crypto/password-hash.js';
import { hmac } from '../../crypto/tokens.js';
import type { Method } from '../../engine/method.js';

export const pinAnswer = z.object({ pin: z.string().min(1).max(32) });
export type PinAnswer = z.infer<typeof pinAnswer>;

export const knowledgeDigest = (aead: Aead, kind: 'pin' | 'answer', value: string) => hmac(aead.derive(`customer-${kind}`), value).toString('base64');

export function pinMethod(deps: { aead: Aead; hasher: PasswordHasher }): Method<PinAnswer> {
  return {
    kind: 'pin',
    traits: { category: 'knowledge', aal: 1, phishingResistant: false, restricted: false, label: 'PIN' },
    subjects: ['customer'],
    answer: pinAnswer,
    counter: 'subject',
    needs: ['pin'],
    available: (f) => f.hasPin === true,
    async verify({ answer, loaded }) {
      const digits = answer.pin.replace(/[\s#*]/g, '');
      const hash = loaded.pinHash ?? null;
      const ok = /^\d{4,8}$/.test(digits) && (await deps.hasher.verify(hash, knowledgeDigest(deps.aead, 'pin', digits)));
      return ok ? { ok: true } : { ok: false, reason: hash ? 'wrong_pin' : 'no_pin' };
    },
  };
}
