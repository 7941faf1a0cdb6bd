/**
 * A signed-in user's own security: enrolling and removing factors, recovery codes, sessions. Adding
 * or removing a factor and regenerating codes need an authentication newer than the policy window,
 * and each change sends a notice to the user's email.
 */
import { AppError } from '../domain/errors.js';
import { sessionRules, type Policy } from '../domain/policy.js';
import { queueEmail, templates } from '../delivery/notices.js';
import { audit } from './audit-log.js';
import type { Origin, Services } from './context.js';
import { currentPolicy } from './policies.js';
import type { Principal } from './sessions.js';

/** Refuses a session whose authentication is older than the policy allows (the policy read unless given). */
export async function requireFreshAuth(s: Services, p: Principal, known?: Policy): Promise<void> {
  const policy = known ?? (await currentPolicy(s, p.tenantId)).policy;
  const age = s.clock().getTime() - p.authTime.getTime();
  if (age > sessionRules(policy).reauthMs) throw new AppError('reauthentication_required', { maxAgeSeconds: sessionRules(policy).reauthMs / 1000 });
}

const subjectOf = (p: Principal) => ({ tenantId: p.tenantId, type: 'user' as const, id: p.userId });
const userOf = (p: Principal) => ({ type: 'user' as const, id: p.userId });

export async function beginTotpEnrollment(s: Services, p: Principal, origin: Origin) {
  await requireFreshAuth(s, p);
  if (await s.store.credentials.active(userOf(p), 'totp')) throw new AppError('already_exists', undefined, 'An authenticator app is already set up; remove it first.');
  const { policy } = await currentPolicy(s, p.tenantId);
  if (!policy.mfa.allowedFactors.includes('totp')) throw new AppError('forbidden', undefined, 'Authenticator apps are not allowed by your organization.');
  const started = await s.totpEnrollment.begin(subjectOf(p), { account: `${p.userEmail} (${p.tenantSlug})`, now: s.clock() });
  await audit(s, { tenantId: p.tenantId, type: 'factor.enrollment_started', outcome: 'info', actor: { type: 'user', id: p.userId }, target: { type: 'factor', id: started.pendingId }, origin, data: { kind: 'totp' } });
  return { factorId: started.pendingId, ...started.display };
}

export async function confirmTotpEnrollment(s: Services, p: Principal, factorId: string, code: string, origin: Origin) {
  await requireFreshAuth(s, p);
  const now = s.clock();
  const r = await s.totpEnrollment.confirm(subjectOf(p), factorId, code, now);
  if (!r.ok) {
    await audit(s, { tenantId: p.tenantId, type: 'factor.enrolled', outcome: 'failure', actor: { type: 'user', id: p.userId }, target: { type: 'factor', id: factorId }, origin, data: { kind: 'totp', reason: r.reason } });
    throw new AppError(r.reason === 'not_enrolled' ? 'not_found' : 'invalid_factor');
  }
  await audit(s, { tenantId: p.tenantId, type: 'factor.enrolled', outcome: 'success', actor: { type: 'user', id: p.userId }, target: { type: 'factor', id: factorId }, origin, data: { kind: 'totp' } });
  await queueEmail(s, { tenantId: p.tenantId, to: p.userEmail, ...templates.factorChanged({ action: 'added', label: 'Authenticator app' }) });
  const hasCodes = (await s.store.credentials.active(userOf(p), 'recovery_code')) !== undefined;
  const recoveryCodes = hasCodes ? undefined : await s.recovery.issue({ tenantId: p.tenantId, id: p.userId }, now);
  return { factorId, recoveryCodes };
}

export async function removeFactor(s: Services, p: Principal, factorId: string, origin: Origin) {
  await requireFreshAuth(s, p);
  const removed = await s.store.credentials.remove(userOf(p), factorId);
  if (!removed) throw new AppError('not_found');
  await audit(s, { tenantId: p.tenantId, type: 'factor.removed', outcome: 'success', actor: { type: 'user', id: p.userId }, target: { type: 'factor', id: factorId }, origin, data: { kind: removed.kind } });
  await queueEmail(s, { tenantId: p.tenantId, to: p.userEmail, ...templates.factorChanged({ action: 'removed', label: removed.label || removed.kind }) });
}

export async function renameFactor(s: Services, p: Principal, factorId: string, label: string, origin: Origin) {
  if (!(await s.store.credentials.rename(userOf(p), factorId, label))) throw new AppError('not_found');
  await audit(s, { tenantId: p.tenantId, type: 'factor.renamed', outcome: 'success', actor: { type: 'user', id: p.userId }, target: { type: 'factor', id: factorId }, origin, data: { label } });
}

export async function regenerateRecoveryCodes(s: Services, p: Principal, origin: Origin) {
  await requireFreshAuth(s, p);
  const codes = await s.recovery.issue({ tenantId: p.tenantId, id: p.userId }, s.clock());
  await audit(s, { tenantId: p.tenantId, type: 'factor.recovery_codes_regenerated', outcome: 'success', actor: { type: 'user', id: p.userId }, target: { type: 'user', id: p.userId }, origin });
  await queueEmail(s, { tenantId: p.tenantId, to: p.userEmail, ...templates.recoveryCodesRegenerated() });
  return codes;
}

export async function listFactors(s: Services, p: Principal) {
  const rows = await s.store.credentials.list(userOf(p));
  const left = await s.store.credentials.recoveryCodesLeft(userOf(p));
  const models = await modelNames(s, rows);
  return rows.map((f) => ({
    id: f.id,
    kind: f.kind,
    label: f.label,
    createdAt: f.created_at.toISOString(),
    lastUsedAt: f.last_used_at?.toISOString() ?? null,
    ...(f.status === 'suspended' ? { suspended: true } : {}),
    ...(f.kind === 'recovery_code' ? { remaining: left } : {}),
    ...(f.kind === 'webauthn' ? { key: keyFacts(f.meta, models) } : {}),
  }));
}

/** What a user (and an admin) sees of a security key: device-bound or synced, user verification, model id, warnings. */
export function keyFacts(meta: Record<string, unknown>, models: Map<string, string>) {
  return {
    model: typeof meta.aaguid === 'string' ? (models.get(meta.aaguid.toLowerCase()) ?? null) : null,
    deviceType: meta.deviceType === 'multiDevice' ? ('multiDevice' as const) : ('singleDevice' as const),
    userVerified: meta.userVerified === true,
    aaguid: typeof meta.aaguid === 'string' ? meta.aaguid : null,
    flags: meta.flags && typeof meta.flags === 'object' ? Object.keys(meta.flags) : [],
  };
}

/** Model names (from the uploaded FIDO metadata) of the security keys among these credentials; no read when there are none. */
export async function modelNames(s: Services, rows: Array<{ kind: string; meta: Record<string, unknown> }>): Promise<Map<string, string>> {
  const aaguids = [...new Set(rows.filter((r) => r.kind === 'webauthn' && typeof r.meta.aaguid === 'string').map((r) => String(r.meta.aaguid).toLowerCase()))];
  return aaguids.length ? s.store.authenticatorModels.names(aaguids) : new Map();
}
