/**
 * Named permissions and the built-in roles. A role is a set of permissions; tenants may add custom
 * roles built from the tenant permissions. Every route names the permission it needs.
 */
export const tenantPermissions = [
  'users.read',
  'users.invite',
  'users.update',
  'users.disable',
  'users.factors.reset',
  'roles.read',
  'roles.manage',
  'policy.read',
  'policy.write',
  'audit.read',
  'audit.export',
  'outbox.read',
  'customers.read',
  'customers.write',
  'customers.reveal',
  'verifications.start',
  'verifications.read',
  'api_keys.manage',
] as const;

export const platformPermissions = ['platform.tenants.manage'] as const;

export type TenantPermission = (typeof tenantPermissions)[number];
export type Permission = TenantPermission | (typeof platformPermissions)[number];

export const builtinRoles: Record<string, { description: string; permissions: readonly Permission[] }> = {
  agent: { description: 'Verifies callers; manages only their own sign-in methods.', permissions: ['customers.read', 'verifications.start', 'verifications.read'] },
  supervisor: {
    description: 'Agent permissions plus a read-only view of the team.',
    permissions: ['customers.read', 'verifications.start', 'verifications.read', 'users.read', 'roles.read', 'policy.read'],
  },
  tenant_admin: { description: 'Administers the tenant: users, roles, policy, audit.', permissions: tenantPermissions },
  auditor: { description: 'Reads and exports the audit log; reads users and policy.', permissions: ['audit.read', 'audit.export', 'users.read', 'roles.read', 'policy.read'] },
  platform_operator: { description: 'Operates the platform: creates tenants, acts in any tenant.', permissions: [...platformPermissions, ...tenantPermissions] },
};

export const isBuiltinRole = (name: string): boolean => Object.hasOwn(builtinRoles, name);
export const isTenantPermission = (p: string): p is TenantPermission => (tenantPermissions as readonly string[]).includes(p);

/** Permissions granted by a user's role names; custom roles' permissions come from storage. */
export function permissionsFor(roles: readonly string[], custom: readonly string[] = []): Set<Permission> {
  const set = new Set<Permission>();
  for (const r of roles) for (const p of builtinRoles[r]?.permissions ?? []) set.add(p);
  for (const p of custom) if (isTenantPermission(p)) set.add(p);
  return set;
}
