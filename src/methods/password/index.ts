/**
 * The password (knowledge). Unknown, invited and disabled accounts are checked against a dummy hash,
 * so every failed password costs the same time and answers the same way. Staff only.
 */
import { z } from 'zod';
import type { PasswordHasher } from '../../crypto/password-hash.js';
import { normalizePassword } from './rules.js';
import type { Method } from '../../engine/method.js';

export const passwordAnswer = z.object({ password: z.string().min(1).max(4096) });
export type PasswordAnswer = z.infer<typeof passwordAnswer>;

export function passwordMethod(deps: { hasher: PasswordHasher }): Method<PasswordAnswer> & { verifyHash(stored: string | null, password: string): Promise<boolean> } {
  const verifyHash = (stored: string | null, password: string) => deps.hasher.verify(stored, normalizePassword(password));
  return {
    kind: 'pwd',
    traits: { category: 'knowledge', aal: 1, phishingResistant: false, restricted: false, label: 'Password' },
    subjects: ['user'],
    answer: passwordAnswer,
    counter: 'identifier',
    needs: ['account'],
    // availability is for listing methods; the password step itself answers alike for every account
    available: (f) => f.hasPassword ?? true,
    verifyHash,
    async verify({ flow, loaded, answer }) {
      const a = loaded.account;
      // a re-authentication is for the flow's own user only
      const usable = a && a.status === 'active' && (flow.subject_id === null || a.id === flow.subject_id) ? a : undefined;
      const ok = await verifyHash(usable?.passwordHash ?? null, answer.password);
      return ok && usable ? { ok: true, detail: { userId: usable.id } } : { ok: false, reason: 'wrong_password' };
    },
  };
}
