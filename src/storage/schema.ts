/** Kysely table types; they mirror migrations/*.sql. */
import type { ColumnType, Generated } from 'kysely';
import type { ApprovalTables } from './schema-approvals.js';
import type { CredentialTables } from './schema-credentials.js';
import type { CustomerFactorTables } from './schema-customer-factors.js';
import type { FlowTables } from './schema-flows.js';
import type { VerificationTables } from './schema-verification.js';
import type { WebhookTables } from './schema-webhooks.js';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json = ColumnType<unknown, string, string>;

export interface TenantsTable {
  id: string;
  slug: string;
  name: string;
  is_platform: boolean;
  policy_version: number;
  created_at: Timestamp;
  disabled_at: Timestamp | null;
  default_locale: Generated<string>;
}
export interface TenantPoliciesTable {
  tenant_id: string;
  version: number;
  policy: Json;
  created_at: Timestamp;
  created_by: string | null;
}
export interface RolesTable {
  tenant_id: string;
  name: string;
  description: string;
  permissions: string[];
  created_at: Timestamp;
}
export interface UsersTable {
  id: string;
  tenant_id: string;
  email: string;
  display_name: string;
  roles: string[];
  status: 'invited' | 'active' | 'disabled';
  password_hash: string | null;
  password_changed_at: Timestamp | null;
  grace_started_at: Timestamp | null;
  grace_signins: Generated<number>;
  last_signin_at: Timestamp | null;
  created_at: Timestamp;
  disabled_at: Timestamp | null;
}
export interface PasswordHistoryTable {
  user_id: string;
  hash: string;
  created_at: Timestamp;
}
export interface TotpUsedStepsTable {
  subject_id: string;
  step: number;
  used_at: Timestamp;
}
export interface AttemptCountersTable {
  subject: string;
  failures: number;
  last_attempt_at: Timestamp;
  prev_attempt_at: Timestamp | null;
  last_failure_at: Timestamp | null;
  locked_until: Timestamp | null;
  in_flight: Generated<number>;
  in_flight_at: Timestamp | null;
}
export interface SessionsTable {
  id: string;
  token_hash: Buffer;
  tenant_id: string;
  user_id: string;
  aal: number;
  methods: string[];
  auth_time: Timestamp;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  idle_timeout_s: number;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
  ip: string | null;
  user_agent: string | null;
}
export interface InvitationsTable {
  id: string;
  tenant_id: string;
  user_id: string;
  token_hash: Buffer;
  created_by: string | null;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}
export interface OutboxTable {
  id: string;
  tenant_id: string;
  channel: string;
  recipient: string;
  template: string;
  subject: string;
  body: string;
  status: Generated<'pending' | 'sent' | 'failed'>;
  attempts: Generated<number>;
  last_error: string | null;
  created_at: Timestamp;
  sent_at: Timestamp | null;
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  provider: string | null;
  provider_message_id: string | null;
  locale: Generated<string>;
  /** After this moment the message is failed ('expired') instead of sent; null: no expiry. */
  expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** Subject and body sealed (AES-256-GCM) until delivery or expiry; the plain columns then hold a placeholder (0009). */
  sealed: ColumnType<Buffer | null, Buffer | null | undefined, Buffer | null>;
}
export interface DeliveryEventsTable {
  id: Generated<number>;
  message_id: string;
  attempt: number;
  provider: string;
  outcome: 'sent' | 'retry' | 'failed';
  provider_message_id: string | null;
  error: string | null;
  occurred_at: Timestamp;
}
export interface AuditEventsTable {
  id: Generated<number>;
  tenant_id: string;
  occurred_at: Timestamp;
  type: string;
  outcome: string;
  actor_type: string;
  actor_id: string | null;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  channel: string | null;
  request_id: string | null;
  data: Json;
  chain_seq: number | null;
  prev_hash: string | null;
  hash: string | null;
  /** Audit integrity (migrations/0008): the per-event nonce, HMAC-SHA256 and its key id (src/audit/mac.ts). */
  nonce: string | null;
  mac: string | null;
  mac_key_id: string | null;
}
export interface AuditChainHeadsTable {
  tenant_id: string;
  last_seq: number;
  last_hash: string;
  sealed_at: Timestamp;
}

export interface CustomersTable {
  id: string;
  tenant_id: string;
  external_id: string | null;
  name: string;
  account_number: string | null;
  national_id: Buffer | null;
  national_id_hint: string | null;
  date_of_birth: Buffer | null;
  card_last4: Buffer | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}
export interface CustomerContactsTable {
  id: string;
  tenant_id: string;
  customer_id: string;
  kind: 'phone' | 'email';
  value: string;
  label: string;
  verified_at: Timestamp | null;
  changed_at: Timestamp;
  created_at: Timestamp;
}
export interface CustomerPinsTable {
  customer_id: string;
  hash: string;
  updated_at: Timestamp;
}
export interface CustomerQuestionsTable {
  id: string;
  customer_id: string;
  question: string;
  answer_hash: string;
  created_at: Timestamp;
}

export interface DB extends FlowTables, VerificationTables, CustomerFactorTables, ApprovalTables, CredentialTables, WebhookTables {
  tenants: TenantsTable;
  tenant_policies: TenantPoliciesTable;
  roles: RolesTable;
  users: UsersTable;
  password_history: PasswordHistoryTable;
  totp_used_steps: TotpUsedStepsTable;
  attempt_counters: AttemptCountersTable;
  sessions: SessionsTable;
  invitations: InvitationsTable;
  outbox: OutboxTable;
  delivery_events: DeliveryEventsTable;
  audit_events: AuditEventsTable;
  audit_chain_heads: AuditChainHeadsTable;
  customers: CustomersTable;
  customer_contacts: CustomerContactsTable;
  customer_pins: CustomerPinsTable;
  customer_questions: CustomerQuestionsTable;
}
