/**
 * The customer's own authenticator app as a verification method: the caller reads (or keys) the
 * code their app shows. Each check claims one attempt of the flow's budget, then passes the
 * per-customer attempt gate (`c:<customerId>:totp`, across verifications, as for the PIN) before the
 * code is compared; a time step is accepted once per customer (the shared replay ledger), so a code
 * read out on one call cannot be reused on another.
 */
import { AppError } from '../domain/errors.js';
import { lockoutRules } from '../domain/policy.js';
import type { Origin, Services } from '../services/context.js';
import { customerTotp } from '../services/customer-totp.js';
import { currentPolicy } from '../services/policies.js';
import { gateError } from './flow-errors.js';
import { customerFactorSubject } from './verification-knowledge.js';
import { claimVerificationAttempt, completeMethod, stepEvent, type Actor } from './verification.js';

export async function checkTotp(s: Services, a: { tenantId: string; id: string; code: string; actor: Actor; origin: Origin }) {
  const { code, ...who } = a;
  const step = { ...who, method: 'totp' as const }; // the code goes nowhere but the comparison
  const v = await claimVerificationAttempt(s, step);
  const now = s.clock();
  const rules = lockoutRules((await currentPolicy(s, a.tenantId)).policy);
  const subject = customerFactorSubject(v.customer_id, 'totp');
  const verdict = await s.gate.enter(subject, rules, now);
  if (!verdict.allowed) {
    await stepEvent(s, v, step, 'failure', { reason: verdict.reason });
    throw gateError(verdict);
  }
  const r = await customerTotp(s).verify({ tenantId: v.tenant_id, type: 'customer', id: v.customer_id }, code, now);
  if (!r.ok) {
    await s.gate.failed(subject, verdict, rules, now);
    const reason = r.reason === 'not_enrolled' ? 'no_totp' : r.reason === 'replayed' ? 'code_used' : 'wrong_code';
    await stepEvent(s, v, step, 'failure', { reason });
    throw new AppError('invalid_code', { attemptsLeft: Math.max(0, v.attempts_left), state: v.attempts_left <= 0 ? 'failed' : 'pending', reason }, 'The authenticator code is not correct.');
  }
  await s.gate.succeeded(subject);
  return completeMethod(s, v, step);
}
