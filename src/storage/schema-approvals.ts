/** Kysely table types for dual-control approvals; they mirror migrations/0006_approvals.sql. */
import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export type ApprovalKind = 'factor_reset';
export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'canceled';

export interface ApprovalRequestsTable {
  id: string;
  tenant_id: string;
  kind: ApprovalKind;
  target_user_id: string;
  requested_by: string;
  reason: string;
  status: ApprovalStatus;
  created_at: Timestamp;
  expires_at: Timestamp;
  decided_by: string | null;
  decided_at: Timestamp | null;
  decision_reason: string | null;
}

export interface ApprovalTables {
  approval_requests: ApprovalRequestsTable;
}
