/** Audit event types, outcomes and actors in words. */

export const eventGroups: Array<{ group: string; types: Record<string, string> }> = [
  {
    group: 'Sign-in',
    types: {
      'auth.attempt': 'Sign-in step',
      'auth.reauth.attempt': 'Re-authentication step',
      'session.created': 'Signed in',
      'session.reauthenticated': 'Re-authenticated',
    },
  },
  {
    group: 'Sign-in methods',
    types: {
      'factor.enrollment_started': 'Second-factor enrollment started',
      'factor.enrolled': 'Second factor enrolled',
      'factor.removed': 'Second factor removed',
      'factor.recovery_codes_regenerated': 'Recovery codes regenerated',
      'user.password_changed': 'Password changed',
      'user.password_change': 'Password change attempt',
    },
  },
  {
    group: 'Users & roles',
    types: {
      'user.invited': 'User invited',
      'user.setup_completed': 'Account set up',
      'user.roles_changed': 'Roles changed',
      'user.disabled': 'User disabled',
      'user.enabled': 'User enabled',
      'user.unlocked': 'User unlocked',
      'user.factors_reset': 'Second factors reset',
      'role.saved': 'Role saved',
      'role.deleted': 'Role deleted',
    },
  },
  {
    group: 'Tenant & policy',
    types: {
      'tenant.created': 'Tenant created',
      'operator.created': 'Operator created',
      'policy.changed': 'MFA policy changed',
      'templates.updated': 'Message templates updated',
      'api_key.created': 'API key created',
      'api_key.revoked': 'API key revoked',
    },
  },
  {
    group: 'Caller verification',
    types: {
      'verification.started': 'Verification started',
      'verification.step': 'Verification step',
      'verification.code_sent': 'Code sent to caller',
      'verification.code_refused': 'Code send refused',
      'verification.send_limit_alert': 'Code send limit reached',
      'verification.verified': 'Caller verified',
      'verification.canceled': 'Verification canceled',
    },
  },
  {
    group: 'Customers',
    types: {
      'customer.created': 'Customer created',
      'customer.updated': 'Customer updated',
      'customer.contact_added': 'Customer contact added',
      'customer.contact_changed': 'Customer contact changed',
      'customer.contact_removed': 'Customer contact removed',
      'customer.field_revealed': 'Masked field revealed',
      'customer.pin_set': 'Customer PIN set',
      'customer.questions_set': 'Security questions set',
      'customer.totp_enrollment_started': 'Customer authenticator enrollment started',
      'customer.totp_enrolled': 'Customer authenticator enrolled',
      'customer.totp_removed': 'Customer authenticator removed',
      'customer.import_completed': 'Customer import completed',
    },
  },
  {
    group: 'Audit log',
    types: {
      'audit.read': 'Audit log searched',
      'audit.exported': 'Audit log exported',
      'audit.verified': 'Audit chain verified',
    },
  },
];

const all: Record<string, string> = Object.assign({}, ...eventGroups.map((g) => g.types));

/** "policy.changed" -> "MFA policy changed"; unknown types are made readable. */
export function eventWords(type: string): string {
  if (all[type]) return all[type]!;
  const s = type.replace(/[._]+/g, ' ').trim();
  return s ? s[0]!.toUpperCase() + s.slice(1) : type;
}

/** Options for the type filter, grouped; types seen in the log but not listed here are added. */
export function typeOptions(seen: readonly string[] = []) {
  const extra = [...new Set(seen)].filter((t) => !all[t]).sort();
  const groups = eventGroups.map((g) => ({ group: g.group, items: Object.entries(g.types).map(([value, label]) => ({ value, label })) }));
  if (extra.length) groups.push({ group: 'Other', items: extra.map((t) => ({ value: t, label: eventWords(t) })) });
  return groups;
}

export const outcomes = {
  success: { label: 'Success', color: 'green' },
  failure: { label: 'Failure', color: 'red' },
  denied: { label: 'Denied', color: 'orange' },
  info: { label: 'Info', color: 'blue' },
} as const satisfies Record<string, { label: string; color: string }>;
export type Outcome = keyof typeof outcomes;

export const outcomeOf = (o: string) => (outcomes as Record<string, { label: string; color: string }>)[o] ?? { label: o, color: 'gray' };
