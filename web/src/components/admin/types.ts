/**
 * Shapes of the tenant-administration API (users, roles, approvals) as the console reads them, taken
 * from the generated API types (web/src/api/schema.d.ts, from the server's /openapi.json).
 */
import type { ResponseOf } from '../../api';

/** A user in the list: with active second-factor kinds (`methods`) and whether sign-in is locked. */
export type AdminUser = ResponseOf<'/v1/tenants/{tenant}/users', 'get'>['users'][number];
export type UserStatus = AdminUser['status'];
/** The user detail: the list fields plus the user's factors. */
export type AdminUserDetail = ResponseOf<'/v1/tenants/{tenant}/users/{userId}', 'get'>;
export type UserFactor = AdminUserDetail['factors'][number];
/** What the user list knows of a factor (its kind; the detail adds the rest). */
export type FactorSummary = Pick<UserFactor, 'kind' | 'label'>;

export type RolesResponse = ResponseOf<'/v1/tenants/{tenant}/roles', 'get'>;
export type Role = RolesResponse['roles'][number];

export type Approval = ResponseOf<'/v1/tenants/{tenant}/approvals', 'get'>['approvals'][number];
export type ApprovalStatus = Approval['status'];
export type Person = Approval['target'];
