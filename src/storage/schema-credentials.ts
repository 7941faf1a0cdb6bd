/** Kysely table types for the credentials store; they mirror migrations/0010_credentials.sql. */
import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export type CredentialSubjectType = 'user' | 'customer';
export type CredentialStatus = 'pending' | 'active' | 'suspended';

/** A bound authenticator of a staff user or a customer (TOTP app, recovery codes, later keys, ...). */
export interface CredentialsTable {
  id: string;
  tenant_id: string;
  subject_type: CredentialSubjectType;
  /** users.id or customers.id, by subject_type. */
  subject_id: string;
  kind: string;
  label: string;
  status: CredentialStatus;
  /** AES-256-GCM envelope (src/crypto/aead.ts), bound to the credential id; null when nothing is sealed. */
  material: Buffer | null;
  /** Authenticator signature counter (WebAuthn); 0 for other kinds. */
  sign_count: ColumnType<number, number | undefined, number>;
  /** WebAuthn: the authenticator's credential ID (base64url), unique per tenant (migrations/0012_webauthn.sql). */
  external_id: string | null;
  /** What is not secret: key model (AAGUID), transports, device-bound or synced, flags. */
  meta: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Timestamp;
  confirmed_at: Timestamp | null;
  last_used_at: Timestamp | null;
}
/** One hashed recovery code of a 'recovery_code' credential; subject_id is the credential's subject. */
export interface RecoveryCodesTable {
  credential_id: string;
  subject_id: string;
  code_hash: Buffer;
  used_at: Timestamp | null;
}

/** A key model from an uploaded FIDO MDS BLOB (migrations/0013_authenticator_models.sql). */
export interface AuthenticatorModelsTable {
  aaguid: string;
  description: string;
  status: string | null;
  statement: ColumnType<Record<string, unknown>, string, string>;
  blob_no: number;
  updated_at: Timestamp;
}

export interface CredentialTables {
  credentials: CredentialsTable;
  recovery_codes: RecoveryCodesTable;
  authenticator_models: AuthenticatorModelsTable;
}
