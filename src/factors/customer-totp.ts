/**
 * The customer's own authenticator app: the TOTP credential store over customer_factors, so that the
 * same `totpFactor` (±1 step, each step once per subject, sealed secrets) verifies customers as it
 * verifies staff. The subject id is the customer id, which also keys the shared replay ledger.
 */
import type { Aead } from '../crypto/aead.js';
import type { CustomerFactorRepo } from '../storage/repositories/customer-factors.js';
import type { Factor } from './factor.js';
import { totpFactor, type TotpCredentialStore } from './totp.js';

export function customerTotpStore(repo: CustomerFactorRepo): TotpCredentialStore {
  const cred = (r: { id: string; secret: Buffer | null } | undefined) => (r?.secret ? { id: r.id, sealed: r.secret } : undefined);
  const customerOnly = (type: string) => {
    if (type !== 'customer') throw new Error('the customer TOTP store holds customer factors only');
  };
  return {
    active: async (s) => {
      customerOnly(s.type);
      return cred(await repo.active(s.id, 'totp'));
    },
    pending: async (s, id) => {
      customerOnly(s.type);
      const r = await repo.byId(s.id, id);
      return r?.kind === 'totp' && r.status === 'pending' ? cred(r) : undefined;
    },
    createPending: async (s, id, sealed, label, now) => {
      customerOnly(s.type);
      await repo.createPending({ id, tenantId: s.tenantId, customerId: s.id, kind: 'totp', label, secret: sealed, now });
    },
    activate: (s, id, now) => repo.activate(s.id, id, now),
    useStep: (s, step, now, factorId) => repo.useTotpStep(s.id, step, now, factorId),
  };
}

/** The TOTP factor for customers; `issuer` is what the customer's app shows (the tenant's name). */
export const customerTotpFactor = (deps: { aead: Aead; repo: CustomerFactorRepo; issuer: string }): Factor =>
  totpFactor({ aead: deps.aead, store: customerTotpStore(deps.repo), issuer: () => deps.issuer });
