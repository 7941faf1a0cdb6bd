/** Kysely table types for caller verification; they mirror migrations/0004_verifications.sql. */
import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json = ColumnType<unknown, string, string>;

export interface VerificationsTable {
  id: string;
  tenant_id: string;
  customer_id: string;
  interaction_id: string;
  channel: 'agent' | 'ivr';
  started_by_type: string;
  started_by_id: string | null;
  level: string;
  requested_level: string;
  state: 'pending' | 'verified' | 'failed' | 'canceled';
  completed_methods: string[];
  attempts_left: number;
  risk: Json;
  caller_ani: string | null;
  asked_question_id: string | null;
  failed_question_ids: string[];
  assertion_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  expires_at: Timestamp;
  verified_at: Timestamp | null;
  /** Language of the flow's messages; null: the tenant's default. */
  locale: string | null;
}
export interface VerificationCodesTable {
  id: string;
  verification_id: string;
  tenant_id: string;
  contact_id: string;
  channel: 'sms' | 'voice' | 'email';
  code_hash: Buffer;
  created_at: Timestamp;
  expires_at: Timestamp;
  superseded_at: Timestamp | null;
  consumed_at: Timestamp | null;
}
export interface RateWindowsTable {
  key: string;
  window_start: Timestamp;
  count: number;
}
export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  prefix: string;
  key_hash: Buffer;
  scopes: string[];
  created_by: string | null;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}
export interface SigningKeysTable {
  kid: string;
  tenant_id: string;
  alg: string;
  public_jwk: Json;
  private_key: Buffer;
  created_at: Timestamp;
  retired_at: Timestamp | null;
}

export interface VerificationTables {
  verifications: VerificationsTable;
  verification_codes: VerificationCodesTable;
  rate_windows: RateWindowsTable;
  api_keys: ApiKeysTable;
  signing_keys: SigningKeysTable;
}
