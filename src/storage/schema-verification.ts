/** Kysely table types for caller verification; they mirror migrations/0004_verifications.sql. */
import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json = ColumnType<unknown, string, string>;

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
  rate_windows: RateWindowsTable;
  api_keys: ApiKeysTable;
  signing_keys: SigningKeysTable;
}
