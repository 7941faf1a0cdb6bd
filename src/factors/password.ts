/**
 * The password factor (knowledge). Unknown, invited and disabled accounts are checked against a
 * dummy hash, so every failed password costs the same time and answers the same way.
 */
import type { PasswordHasher } from '../crypto/password-hash.js';
import type { UserRepo } from '../storage/repositories/users.js';
import type { Factor } from './factor.js';
import { normalizePassword } from './password-rules.js';

export interface PasswordFactor extends Factor {
  /** Verifies against a stored hash; null (no usable account) spends the same time and fails. */
  verifyHash(stored: string | null, password: string): Promise<boolean>;
}

export function passwordFactor(deps: { hasher: PasswordHasher; users: UserRepo }): PasswordFactor {
  const verifyHash = (stored: string | null, password: string) => deps.hasher.verify(stored, normalizePassword(password));
  return {
    kind: 'pwd',
    category: 'knowledge',
    aal: 1,
    phishingResistant: false,
    restricted: false,
    label: 'Password',
    verifyHash,
    async verify(subject, response) {
      const user = await deps.users.byId(subject.tenantId, subject.id);
      const ok = await verifyHash(user?.status === 'active' ? user.password_hash : null, response);
      return ok ? { ok: true } : { ok: false, reason: 'wrong' };
    },
  };
}
