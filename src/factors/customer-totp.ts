/**
 * The customer's own authenticator app: the same `totpFactor` (±1 step, each step once per subject,
 * sealed secrets) over the same credential store as staff TOTP, so it verifies customers as it
 * verifies staff. The subject id is the customer id, which also keys the shared replay ledger.
 */
import type { Aead } from '../crypto/aead.js';
import type { CredentialRepo } from '../storage/repositories/credentials.js';
import type { Factor } from './factor.js';
import { totpCredentialStore, totpFactor } from './totp.js';

/** The TOTP factor for customers; `issuer` is what the customer's app shows (the tenant's name). */
export const customerTotpFactor = (deps: { aead: Aead; credentials: CredentialRepo; issuer: string }): Factor =>
  totpFactor({ aead: deps.aead, store: totpCredentialStore(deps.credentials), issuer: () => deps.issuer });
