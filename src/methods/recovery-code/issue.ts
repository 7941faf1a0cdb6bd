/** Issuing a fresh set of recovery codes (replacing any earlier set), shown once. */
import { randomUUID } from 'node:crypto';
import type { CredentialRepo } from '../../storage/repositories/credentials.js';
import { newRecoveryCode, RECOVERY_CODE_COUNT, recoveryCodeDigest } from './index.js';

export function recoveryCodeIssuer(deps: { credentials: CredentialRepo; pepper: Buffer }) {
  return {
    async issue(subject: { tenantId: string; id: string; type?: 'user' | 'customer' }, now: Date): Promise<string[]> {
      const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
      await deps.credentials.replaceRecoveryCodes({ id: randomUUID(), tenantId: subject.tenantId, subject: { type: subject.type ?? 'user', id: subject.id }, hashes: codes.map((c) => recoveryCodeDigest(deps.pepper, c)), now });
      return codes;
    },
  };
}
