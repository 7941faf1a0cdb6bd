/** Tenants (created by the platform operator) and the bootstrap of the operator itself. */
import { randomUUID } from 'node:crypto';
import { AppError } from '../domain/errors.js';
import { normalizeEmail, SLUG } from '../domain/identifiers.js';
import { defaultPolicy, policySchema, type MfaMode } from '../domain/policy.js';
import { checkPassword, normalizePassword } from '../methods/password/rules.js';
import type { TenantRow } from '../storage/repositories/tenants.js';
import { audit } from './audit-log.js';
import type { Origin, Services } from './context.js';
import { inviteUser, type Actor } from './users.js';

export const PLATFORM_SLUG = 'platform';

export function publicTenant(t: TenantRow) {
  return { id: t.id, slug: t.slug, name: t.name, isPlatform: t.is_platform, policyVersion: t.policy_version, createdAt: t.created_at.toISOString(), disabledAt: t.disabled_at?.toISOString() ?? null };
}

export async function createTenant(s: Services, a: { slug: string; name: string; mfaMode?: MfaMode; adminEmail?: string; actor: Actor; origin: Origin }) {
  const slug = a.slug.trim().toLowerCase();
  if (!SLUG.test(slug) || slug === PLATFORM_SLUG) throw new AppError('invalid_request', { field: 'slug' }, 'The slug must be 1-40 lower-case letters, digits or dashes (and not "platform").');
  if (a.adminEmail !== undefined && !normalizeEmail(a.adminEmail)) throw new AppError('invalid_request', { field: 'adminEmail' }, 'That email address is not valid.');
  if (await s.store.tenants.bySlug(slug)) throw new AppError('already_exists', { field: 'slug' }, 'A tenant with this slug already exists.');
  const policy = policySchema.parse({ mfa: { mode: a.mfaMode ?? 'optional' } });
  const tenant = await s.store.tenants.create({ id: randomUUID(), slug, name: a.name.trim() || slug, policy, now: s.clock(), createdBy: a.actor.id });
  await audit(s, { tenantId: tenant.id, type: 'tenant.created', outcome: 'success', actor: a.actor, target: { type: 'tenant', id: tenant.id }, origin: a.origin, data: { slug, mfaMode: policy.mfa.mode } });
  const admin = a.adminEmail ? await inviteUser(s, { tenant, email: a.adminEmail, roles: ['tenant_admin'], actor: a.actor, origin: a.origin }) : undefined;
  return { tenant, admin: admin?.user };
}

/**
 * Creates the platform tenant and an operator with a password (from configuration or the CLI).
 * Refuses when an operator with that email exists; with `onlyIfEmpty`, does nothing once any tenant exists.
 */
export async function createOperator(s: Services, a: { email: string; password: string; origin: Origin; onlyIfEmpty?: boolean }): Promise<{ created: boolean; userId?: string }> {
  if (a.onlyIfEmpty && (await s.store.tenants.list()).length > 0) return { created: false };
  const email = normalizeEmail(a.email);
  if (!email) throw new AppError('invalid_request', { field: 'email' }, 'That email address is not valid.');
  const verdict = checkPassword(a.password, { mfa: false, pciMode: false, identifier: email });
  if (!verdict.ok) throw new AppError('weak_password', { reasons: verdict.reasons }, `The operator password is refused: ${verdict.reasons.map((r) => r.message).join(' ')}`);
  let platform = await s.store.tenants.platform();
  const now = s.clock();
  platform ??= await s.store.tenants.create({ id: randomUUID(), slug: PLATFORM_SLUG, name: 'Platform', isPlatform: true, policy: defaultPolicy(), now, createdBy: null });
  if (await s.store.users.byEmail(platform.id, email)) throw new AppError('already_exists', { field: 'email' }, 'An operator with this email already exists.');
  const user = await s.store.users.create({
    id: randomUUID(),
    tenantId: platform.id,
    email,
    displayName: 'Platform operator',
    roles: ['platform_operator'],
    status: 'active',
    passwordHash: await s.hasher.hash(normalizePassword(a.password)),
    now,
  });
  await audit(s, { tenantId: platform.id, type: 'operator.created', outcome: 'success', actor: { type: a.origin.channel === 'cli' ? 'cli' : 'system' }, target: { type: 'user', id: user.id }, origin: a.origin, data: { email } });
  return { created: true, userId: user.id };
}
