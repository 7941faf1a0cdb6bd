/** Shapes of the tenant-administration API (users, roles, approvals) as the console reads them. */

export type UserStatus = 'invited' | 'active' | 'disabled';

export interface AdminUser {
  id: string;
  tenantId: string;
  email: string;
  displayName: string;
  roles: string[];
  status: UserStatus;
  createdAt: string;
  lastSigninAt: string | null;
  disabledAt: string | null;
  /** Active second-factor kinds (in the list; the detail has `factors`). */
  methods: string[];
  /** Sign-in is locked by failed attempts (the password or a factor); an admin can unlock. */
  locked: boolean;
}

export interface UserFactor {
  kind: string;
  label: string;
}

export interface AdminUserDetail extends AdminUser {
  factors: UserFactor[];
}

export interface Role {
  name: string;
  description: string;
  permissions: string[];
  builtin: boolean;
}

export interface RolesResponse {
  roles: Role[];
  permissions: string[];
}

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'canceled';

export interface Person {
  id: string;
  email: string;
}

export interface Approval {
  id: string;
  kind: 'factor_reset' | string;
  status: ApprovalStatus;
  reason: string;
  createdAt: string;
  expiresAt: string;
  target: Person;
  requestedBy: Person;
  decidedBy?: Person | null;
  decidedAt?: string | null;
  /** The reason given when rejecting or canceling. */
  decisionReason?: string;
}
