/** Reading and saving tenant policy; saving validates, versions and audits. */
import { AppError } from '../domain/errors.js';
import { isBuiltinRole } from '../domain/permissions.js';
import { defaultPolicy, mfaModeFor, policySchema, type Policy } from '../domain/policy.js';
import { audit } from './audit-log.js';
import type { Origin, Services } from './context.js';

export async function currentPolicy(s: Services, tenantId: string): Promise<{ version: number; policy: Policy }> {
  const row = await s.store.tenants.currentPolicy(tenantId);
  if (!row) return { version: 0, policy: defaultPolicy() };
  return { version: row.version, policy: parseStoredPolicy(tenantId, row.version, row.policy) };
}

/** Stored policy versions never change, so each (tenant, version) is parsed once per process. */
const parsed = new Map<string, Policy>();
export function parseStoredPolicy(tenantId: string, version: number, raw: unknown): Policy {
  const key = `${tenantId}:${version}`;
  let p = parsed.get(key);
  if (!p) {
    p = policySchema.parse(raw);
    if (parsed.size > 10_000) parsed.clear();
    parsed.set(key, p);
  }
  return p;
}

/** Validates a policy for a tenant (unknown roles in overrides are refused). */
export async function validatePolicy(s: Services, tenantId: string, input: unknown): Promise<Policy> {
  const parsed = policySchema.safeParse(input);
  if (!parsed.success) {
    throw new AppError('invalid_policy', { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
  }
  const custom = new Set((await s.store.users.roles(tenantId)).map((r) => r.name));
  const unknown = Object.keys(parsed.data.mfa.roles).filter((r) => !isBuiltinRole(r) && !custom.has(r));
  if (unknown.length) throw new AppError('invalid_policy', { issues: unknown.map((r) => ({ path: `mfa.roles.${r}`, message: 'no such role' })) });
  // an allowed key model must be one the uploaded FIDO metadata knows (its attestation roots check it)
  const models = parsed.data.webauthn.allowedModels;
  if (models.length) {
    const known = await s.store.authenticatorModels.names(models);
    const missing = models.filter((m) => !known.has(m));
    if (missing.length) throw new AppError('invalid_policy', { issues: missing.map((m) => ({ path: 'webauthn.allowedModels', message: `${m} is not in the uploaded FIDO metadata` })) });
  }
  return parsed.data;
}

export async function savePolicy(s: Services, a: { tenantId: string; expectedVersion: number; input: unknown; actorId: string | null; origin: Origin }) {
  const policy = await validatePolicy(s, a.tenantId, a.input);
  const before = await currentPolicy(s, a.tenantId);
  const version = await s.store.tenants.savePolicy(a.tenantId, a.expectedVersion, policy, a.actorId, s.clock());
  if (version === null) throw new AppError('conflict', { currentVersion: before.version }, 'The policy was changed by someone else; reload it and try again.');
  await audit(s, {
    tenantId: a.tenantId,
    type: 'policy.changed',
    outcome: 'success',
    actor: { type: a.actorId ? 'user' : 'cli', id: a.actorId },
    target: { type: 'policy', id: String(version) },
    origin: a.origin,
    data: { fromVersion: before.version, toVersion: version, changes: diff(before.policy, policy) },
  });
  return { version, policy };
}

/** Who a policy would affect if saved: MFA required now and after, and who would have to enroll. */
export async function previewPolicy(s: Services, tenantId: string, input: unknown) {
  const next = await validatePolicy(s, tenantId, input);
  const { policy } = await currentPolicy(s, tenantId);
  const users = await s.store.users.enabledWithFactorKinds(tenantId);
  const allowed = next.mfa.allowedFactors as readonly string[];
  const requiredAfter = users.filter((u) => mfaModeFor(next, u.roles) === 'required');
  return {
    users: users.length,
    mfaRequiredNow: users.filter((u) => mfaModeFor(policy, u.roles) === 'required').length,
    mfaRequiredAfter: requiredAfter.length,
    mustEnroll: requiredAfter.filter((u) => !u.kinds.some((k) => allowed.includes(k))).map((u) => ({ id: u.id, email: u.email })),
  };
}

/** Flat list of changed paths with old and new values (policy holds no secrets). */
export function diff(a: unknown, b: unknown, path = ''): Array<{ path: string; from: unknown; to: unknown }> {
  if (typeof a === 'object' && a && typeof b === 'object' && b && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => diff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ path, from: a ?? null, to: b ?? null }];
}
