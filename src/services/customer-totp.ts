/**
 * Enrolling a customer's own authenticator app, done by an agent or administrator with
 * customers.write (for example during a verified call): `begin` returns the otpauth URI, its QR code
 * and the secret once, for the customer to scan or type; `confirm` activates it with the first code
 * the app shows; `remove` unbinds it. The secret is sealed at rest and never shown again, nor logged
 * or audited. Verifying with it is the verification flow's job (src/flows/verification-totp.ts).
 */
import { AppError } from '../domain/errors.js';
import { customerFactorSubject } from '../engine/counter-keys.js';
import { audit } from './audit-log.js';
import type { Origin, Services } from './context.js';
import type { Actor } from './users.js';

interface Who {
  tenantId: string;
  /** The customer id. */
  id: string;
  actor: Actor;
  origin: Origin;
}

const subjectOf = (tenantId: string, customerId: string) => ({ tenantId, type: 'customer' as const, id: customerId });

async function customerOr404(s: Services, a: { tenantId: string; id: string }) {
  const row = await s.store.customers.byId(a.tenantId, a.id);
  if (!row) throw new AppError('not_found');
  return row;
}

const event = (a: Who, type: string, outcome: 'success' | 'failure' | 'info', data: Record<string, unknown>) => ({
  tenantId: a.tenantId,
  type,
  outcome,
  actor: a.actor,
  target: { type: 'customer', id: a.id },
  origin: a.origin,
  data,
});

export async function beginCustomerTotp(s: Services, a: Who & { label?: string }) {
  const customer = await customerOr404(s, a);
  if (await s.store.credentials.active({ type: 'customer', id: customer.id }, 'totp')) throw new AppError('already_exists', undefined, 'This customer already has an authenticator app; remove it first.');
  const tenant = await s.store.tenants.byId(a.tenantId);
  // the customer's app shows the tenant's name as the issuer
  const started = await s.totpEnrollment.begin(subjectOf(a.tenantId, customer.id), { account: customer.name, issuer: tenant?.name ?? 'Callwarden', ...(a.label ? { label: a.label } : {}), now: s.clock() });
  await audit(s, event(a, 'customer.totp_enrollment_started', 'info', { factorId: started.pendingId }));
  return { factorId: started.pendingId, ...started.display };
}

export async function confirmCustomerTotp(s: Services, a: Who & { factorId: string; code: string }) {
  const customer = await customerOr404(s, a);
  const now = s.clock();
  const r = await s.totpEnrollment.confirm(subjectOf(a.tenantId, customer.id), a.factorId, a.code, now);
  if (!r.ok) {
    await audit(s, event(a, 'customer.totp_enrolled', 'failure', { factorId: a.factorId, reason: r.reason }));
    if (r.reason === 'not_enrolled') throw new AppError('not_found', { factorId: a.factorId }, 'No authenticator enrollment in progress with this id.');
    throw new AppError('invalid_factor', { reason: r.reason }, 'The code from the authenticator app is not correct.');
  }
  // a new secret: failures counted against the previous one no longer matter
  await s.gate.succeeded(customerFactorSubject(customer.id, 'totp'));
  await audit(s, event(a, 'customer.totp_enrolled', 'success', { factorId: a.factorId }));
  return { factorId: a.factorId, active: true as const };
}

export async function removeCustomerTotp(s: Services, a: Who): Promise<void> {
  const customer = await customerOr404(s, a);
  const removed = await s.store.credentials.removeKind({ type: 'customer', id: customer.id }, 'totp');
  if (removed.length === 0) throw new AppError('not_found', undefined, 'This customer has no authenticator app.');
  await audit(s, event(a, 'customer.totp_removed', 'success', { factorIds: removed.map((f) => f.id), wasActive: removed.some((f) => f.status === 'active') }));
}
