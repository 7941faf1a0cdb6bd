/** Permission and role names in words for administrators. Unknown names fall back to the raw name. */

export interface PermissionInfo {
  description: string;
  group: string;
}

export const permissionGroups = ['Users & access', 'Roles', 'MFA policy', 'Audit', 'Customers & caller verification', 'Integrations', 'Platform'] as const;

const info: Record<string, PermissionInfo> = {
  'users.read': { group: 'Users & access', description: 'View users, their roles and sign-in methods' },
  'users.invite': { group: 'Users & access', description: 'Invite users and resend setup links' },
  'users.update': { group: 'Users & access', description: "Change users' roles" },
  'users.disable': { group: 'Users & access', description: 'Disable and re-enable users (ends their sessions at once)' },
  'users.factors.reset': { group: 'Users & access', description: 'Unlock users; request and approve sign-in method resets' },
  'roles.read': { group: 'Roles', description: 'View roles and their permissions' },
  'roles.manage': { group: 'Roles', description: 'Create, change and delete custom roles' },
  'policy.read': { group: 'MFA policy', description: 'View the MFA policy' },
  'policy.write': { group: 'MFA policy', description: 'Change the MFA policy' },
  'audit.read': { group: 'Audit', description: 'Search the audit log' },
  'audit.export': { group: 'Audit', description: 'Export the audit log' },
  'outbox.read': { group: 'Integrations', description: 'Read outgoing messages (development outbox)' },
  'customers.read': { group: 'Customers & caller verification', description: 'Look up customers (contact details stay masked)' },
  'customers.write': { group: 'Customers & caller verification', description: 'Add and change customers and their contacts' },
  'customers.reveal': { group: 'Customers & caller verification', description: 'Reveal masked customer data (with a reason)' },
  'verifications.start': { group: 'Customers & caller verification', description: 'Verify callers: start verifications and send codes' },
  'verifications.read': { group: 'Customers & caller verification', description: 'View caller verification results' },
  'api_keys.manage': { group: 'Integrations', description: 'Create and revoke API keys (IVR and integrations)' },
  'platform.tenants.manage': { group: 'Platform', description: 'Create and manage tenants (platform operators)' },
};

export function permissionInfo(name: string): PermissionInfo {
  return info[name] ?? { group: 'Other', description: name };
}

const roleLabels: Record<string, string> = {
  agent: 'Agent',
  supervisor: 'Supervisor',
  tenant_admin: 'Tenant administrator',
  auditor: 'Auditor',
  platform_operator: 'Platform operator',
};

/** A role's name for people: built-in roles have a label, custom roles show their own name. */
export const roleLabel = (name: string) => roleLabels[name] ?? name;

/** Shorter labels for badges in tables. */
export const roleShortLabel = (name: string) => (name === 'tenant_admin' ? 'Tenant admin' : name === 'platform_operator' ? 'Operator' : roleLabel(name));

/** Permissions grouped for display, in a stable order. */
export function groupPermissions(names: readonly string[]): Array<{ group: string; permissions: string[] }> {
  const order = [...permissionGroups, 'Other'] as string[];
  const by = new Map<string, string[]>();
  for (const p of names) {
    const g = permissionInfo(p).group;
    by.set(g, [...(by.get(g) ?? []), p]);
  }
  return [...by.entries()].sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0])).map(([group, permissions]) => ({ group, permissions }));
}

const factorLabels: Record<string, string> = {
  totp: 'Authenticator app',
  recovery_code: 'Recovery codes',
  webauthn: 'Security key',
  push: 'Push',
  sms: 'Text message',
  email: 'Email code',
};

export const factorLabel = (kind: string) => factorLabels[kind] ?? kind;

/** Second factors count as MFA; recovery codes only back them up. */
export const isSecondFactor = (kind: string) => kind !== 'recovery_code';
