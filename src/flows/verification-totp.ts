/**
 * The customer's own authenticator app as a verification method: the caller reads (or keys) the
 * code their app shows. The same TOTP method as staff (src/methods/totp): the per-customer counter
 * (`c:<customerId>:totp`, across verifications) and the replay ledger (a step accepted once per
 * customer, so a code read out on one call cannot be reused on another).
 */
import type { Origin, Services } from '../services/context.js';
import { verificationStep, type Actor } from './verification.js';

export function checkTotp(s: Services, a: { tenantId: string; id: string; code: string; actor: Actor; origin: Origin }) {
  return verificationStep(s, { ...a, method: s.methods.get('totp')!, answer: { code: a.code } });
}
