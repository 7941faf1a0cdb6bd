/**
 * Staff users: invitations with one-time setup links (an admin never chooses a password), roles,
 * disabling (instant deprovisioning: every session revoked in the same transaction) and unlocking.
 * Factor resets need a second administrator's approval: see ./approvals.ts.
 */
import { randomUUID } from 'node:crypto';
import { hashToken, newToken } from '../crypto/tokens.js';
import { AppError } from '../domain/errors.js';
import { normalizeEmail } from '../domain/identifiers.js';
import { isBuiltinRole } from '../domain/permissions.js';
import { lockoutRules, mfaModeFor } from '../domain/policy.js';
import { queueEmail, templates } from '../delivery/notices.js';
import { checkPassword, normalizePassword } from '../methods/password/rules.js';
import { passwordSubject, subjectCounterPrefix } from '../engine/counter-keys.js';
import { gateError } from '../engine/gate.js';
import type { TenantRow } from '../storage/repositories/tenants.js';
import type { UserRow } from '../storage/repositories/users.js';
import { audit } from './audit-log.js';
import type { Origin, Services } from './context.js';
import { currentPolicy } from './policies.js';

export interface Actor {
  id: string | null;
  type: 'user' | 'cli' | 'system';
}

export function publicUser(u: UserRow) {
  return {
    id: u.id,
    tenantId: u.tenant_id,
    email: u.email,
    displayName: u.display_name,
    roles: u.roles,
    status: u.status,
    createdAt: u.created_at.toISOString(),
    lastSigninAt: u.last_signin_at?.toISOString() ?? null,
    disabledAt: u.disabled_at?.toISOString() ?? null,
  };
}

/**
 * The admin list's view of users: their active second-factor kinds and whether sign-in is locked
 * (a timed lock or the hard cap of consecutive failures, on the password or on a factor). Two queries
 * for the whole page, whatever its size.
 */
export async function describeUsers(s: Services, tenant: TenantRow, rows: UserRow[]) {
  const now = s.clock();
  const rules = lockoutRules((await currentPolicy(s, tenant.id)).policy);
  const [kinds, counters] = await Promise.all([
    s.store.credentials.activeKindsOf('user', rows.map((u) => u.id)),
    s.store.counters.states(rows.map((u) => passwordSubject(tenant.id, u.email)), rows.map((u) => subjectCounterPrefix('user', u.id))),
  ]);
  // the same judgement the next attempt would get (attempt-gate): a running lock, the hard cap, or a
  // PCI threshold reached whose lock the next attempt writes
  const isLocked = (c: { failures: number; lockedUntil: Date | null }) =>
    (c.lockedUntil !== null && c.lockedUntil > now) || c.failures >= rules.maxConsecutiveFailures || (rules.lockAfter !== null && c.failures >= rules.lockAfter && c.lockedUntil === null);
  return rows.map((u) => {
    const mine = counters.filter((c) => c.subject === passwordSubject(tenant.id, u.email) || c.subject.startsWith(subjectCounterPrefix('user', u.id)));
    return { ...publicUser(u), methods: kinds.get(u.id) ?? [], locked: mine.some(isLocked) };
  });
}

/** Role names a user may be given in this tenant: built-in ones (operator only on the platform) and custom ones. */
export async function checkRoles(s: Services, tenant: TenantRow, roles: string[]): Promise<string[]> {
  const custom = new Set((await s.store.users.roles(tenant.id)).map((r) => r.name));
  const unique = [...new Set(roles)];
  const bad = unique.filter((r) => (r === 'platform_operator' ? !tenant.is_platform : !isBuiltinRole(r) && !custom.has(r)));
  if (bad.length) throw new AppError('invalid_request', { roles: bad }, `Unknown role: ${bad.join(', ')}.`);
  return unique;
}

export async function inviteUser(s: Services, a: { tenant: TenantRow; email: string; displayName?: string; roles: string[]; actor: Actor; origin: Origin }) {
  const email = normalizeEmail(a.email) ?? (() => { throw new AppError('invalid_request', { field: 'email' }, 'That email address is not valid.'); })();
  const roles = await checkRoles(s, a.tenant, a.roles);
  if (await s.store.users.byEmail(a.tenant.id, email)) throw new AppError('already_exists', { field: 'email' }, 'A user with this email already exists.');
  const now = s.clock();
  const user = await s.store.users.create({ id: randomUUID(), tenantId: a.tenant.id, email, displayName: a.displayName ?? '', roles, now });
  const link = await sendInvitation(s, a.tenant, user, a.actor);
  await audit(s, { tenantId: a.tenant.id, type: 'user.invited', outcome: 'success', actor: a.actor, target: { type: 'user', id: user.id }, origin: a.origin, data: { email, roles } });
  return { user, setupLinkSent: link !== null };
}

/** Creates a fresh one-time setup link and puts it in the outbox. */
export async function sendInvitation(s: Services, tenant: TenantRow, user: UserRow, actor: Actor): Promise<string> {
  const now = s.clock();
  const token = newToken();
  await s.store.invitations.create({
    id: randomUUID(),
    tenantId: tenant.id,
    userId: user.id,
    tokenHash: hashToken(token),
    createdBy: actor.id,
    now,
    expiresAt: new Date(now.getTime() + s.config.inviteTtlHours * 3_600_000),
  });
  const link = `${s.config.publicUrl}/setup#token=${token}`;
  await queueEmail(s, { tenantId: tenant.id, to: user.email, ...templates.invitation({ tenantName: tenant.name, link, hours: s.config.inviteTtlHours }) });
  return link;
}

async function passwordContext(s: Services, tenantId: string, roles: string[], email: string, tenantName: string) {
  const { policy } = await currentPolicy(s, tenantId);
  return { mfa: mfaModeFor(policy, roles) === 'required', pciMode: policy.pciMode, identifier: email, tenantName };
}

/** What the setup page shows before the password is chosen. */
export async function inspectInvitation(s: Services, token: string) {
  const inv = await s.store.invitations.peek(hashToken(token), s.clock());
  if (!inv || inv.status === 'disabled') throw new AppError('invitation_invalid');
  const tenant = await s.store.tenants.byId(inv.tenant_id);
  const ctx = await passwordContext(s, inv.tenant_id, inv.roles, inv.email, tenant?.name ?? '');
  return { email: inv.email, tenant: inv.slug, tenantName: tenant?.name ?? '', passwordRules: ctx };
}

export async function acceptInvitation(s: Services, a: { token: string; password: string; origin: Origin }) {
  const now = s.clock();
  const inv = await s.store.invitations.peek(hashToken(a.token), now);
  if (!inv || inv.status === 'disabled') throw new AppError('invitation_invalid');
  const tenant = await s.store.tenants.byId(inv.tenant_id);
  const ctx = await passwordContext(s, inv.tenant_id, inv.roles, inv.email, tenant?.name ?? '');
  const verdict = checkPassword(a.password, ctx);
  if (!verdict.ok) throw new AppError('weak_password', { reasons: verdict.reasons });
  const hash = await s.hasher.hash(normalizePassword(a.password));
  if (!(await s.store.invitations.consume(inv.id, now))) throw new AppError('invitation_invalid');
  await s.store.users.setPassword(inv.user_id, hash, now, 4);
  await s.store.counters.reset(passwordSubject(inv.tenant_id, inv.email));
  await audit(s, { tenantId: inv.tenant_id, type: 'user.setup_completed', outcome: 'success', actor: { type: 'user', id: inv.user_id }, target: { type: 'user', id: inv.user_id }, origin: a.origin });
  return { tenant: inv.slug, email: inv.email };
}

export async function changePassword(s: Services, a: { tenantId: string; userId: string; current: string; next: string; sessionId: string; origin: Origin }) {
  const user = await s.store.users.byId(a.tenantId, a.userId);
  const tenant = await s.store.tenants.byId(a.tenantId);
  if (!user || !tenant) throw new AppError('unauthenticated');
  // the current password is checked as at sign-in, on the same failure counter: a stolen session is
  // no way to guess it without limit
  const subject = passwordSubject(a.tenantId, user.email);
  const rules = lockoutRules((await currentPolicy(s, a.tenantId)).policy);
  const attempt = await s.gate.enter(subject, rules, s.clock());
  const failure = (reason: string) => audit(s, { tenantId: a.tenantId, type: 'user.password_change', outcome: 'failure', actor: { type: 'user', id: user.id }, target: { type: 'user', id: user.id }, origin: a.origin, data: { reason } });
  if (!attempt.allowed) {
    await failure(attempt.reason);
    throw gateError(attempt);
  }
  if (!(await s.password.verifyHash(user.password_hash, a.current))) {
    await s.gate.failed(subject, attempt, rules, s.clock());
    await failure('wrong_current_password');
    throw new AppError('invalid_credentials', undefined, 'The current password is not correct.');
  }
  await s.gate.succeeded(subject);
  const ctx = await passwordContext(s, a.tenantId, user.roles, user.email, tenant.name);
  const verdict = checkPassword(a.next, ctx);
  if (!verdict.ok) throw new AppError('weak_password', { reasons: verdict.reasons });
  if (ctx.pciMode) {
    for (const old of await s.store.users.recentPasswordHashes(user.id, 4)) {
      if (await s.password.verifyHash(old, a.next)) throw new AppError('weak_password', { reasons: [{ code: 'reused', message: 'Password was one of your last 4 passwords.' }] });
    }
  }
  const now = s.clock();
  await s.store.users.setPassword(user.id, await s.hasher.hash(normalizePassword(a.next)), now, 4);
  const revoked = await s.store.sessions.revokeAll(user.id, now, a.sessionId);
  await queueEmail(s, { tenantId: a.tenantId, to: user.email, ...templates.passwordChanged() });
  await audit(s, { tenantId: a.tenantId, type: 'user.password_changed', outcome: 'success', actor: { type: 'user', id: user.id }, target: { type: 'user', id: user.id }, origin: a.origin, data: { otherSessionsRevoked: revoked } });
}

export async function disableUser(s: Services, a: { tenantId: string; userId: string; actor: Actor; origin: Origin }) {
  const r = await s.store.users.disable(a.tenantId, a.userId, s.clock());
  if (!r) throw new AppError('not_found');
  await audit(s, { tenantId: a.tenantId, type: 'user.disabled', outcome: 'success', actor: a.actor, target: { type: 'user', id: a.userId }, origin: a.origin, data: { sessionsRevoked: r.sessionsRevoked } });
  return r;
}

export async function enableUser(s: Services, a: { tenantId: string; userId: string; actor: Actor; origin: Origin }) {
  const u = await s.store.users.enable(a.tenantId, a.userId);
  if (!u) throw new AppError('not_found');
  await audit(s, { tenantId: a.tenantId, type: 'user.enabled', outcome: 'success', actor: a.actor, target: { type: 'user', id: a.userId }, origin: a.origin });
  return u;
}

/** Clears the user's failure counters (password and every factor). */
export async function unlockUser(s: Services, a: { tenantId: string; userId: string; actor: Actor; origin: Origin }) {
  const user = await s.store.users.byId(a.tenantId, a.userId);
  if (!user) throw new AppError('not_found');
  await s.store.counters.reset(passwordSubject(a.tenantId, user.email));
  const n = await s.store.counters.resetPrefix(subjectCounterPrefix('user', user.id));
  await audit(s, { tenantId: a.tenantId, type: 'user.unlocked', outcome: 'success', actor: a.actor, target: { type: 'user', id: user.id }, origin: a.origin, data: { factorCountersCleared: n } });
}

export async function setRoles(s: Services, a: { tenant: TenantRow; userId: string; roles: string[]; actor: Actor; origin: Origin }) {
  const roles = await checkRoles(s, a.tenant, a.roles);
  const before = await s.store.users.byId(a.tenant.id, a.userId);
  if (!before) throw new AppError('not_found');
  const u = await s.store.users.setRoles(a.tenant.id, a.userId, roles);
  await audit(s, { tenantId: a.tenant.id, type: 'user.roles_changed', outcome: 'success', actor: a.actor, target: { type: 'user', id: a.userId }, origin: a.origin, data: { from: before.roles, to: roles } });
  return u!;
}

/** An admin suspends (or resumes) one factor of a user in their tenant; audited, and the user is told by email. */
export async function setFactorSuspended(s: Services, a: { tenantId: string; userId: string; factorId: string; suspended: boolean; actor: Actor; origin: Origin }): Promise<void> {
  const u = await s.store.users.byId(a.tenantId, a.userId);
  if (!u) throw new AppError('not_found');
  const row = await s.store.credentials.setSuspended({ type: 'user', id: u.id }, a.factorId, a.suspended);
  if (!row) {
    if (await s.store.credentials.byId({ type: 'user', id: u.id }, a.factorId)) throw new AppError('conflict', undefined, a.suspended ? 'That factor is not active.' : 'That factor is not suspended.');
    throw new AppError('not_found');
  }
  await audit(s, { tenantId: a.tenantId, type: a.suspended ? 'factor.suspended' : 'factor.resumed', outcome: 'success', actor: a.actor, target: { type: 'factor', id: row.id }, origin: a.origin, data: { kind: row.kind, userId: u.id } });
  await queueEmail(s, { tenantId: a.tenantId, to: u.email, ...templates.factorChanged({ action: a.suspended ? 'suspended' : 'resumed', label: row.label || row.kind }) });
}
