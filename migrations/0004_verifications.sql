-- Caller verification: one flow per interaction (call), the one-time codes it sent, fixed-window send
-- counters, tenant API keys for the IVR, and per-tenant signing keys for verification assertions.

CREATE TABLE verifications (
  id                uuid PRIMARY KEY,
  tenant_id         uuid NOT NULL REFERENCES tenants(id),
  customer_id       uuid NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  interaction_id    text NOT NULL,
  channel           text NOT NULL CHECK (channel IN ('agent', 'ivr')),
  started_by_type   text NOT NULL,
  started_by_id     text,
  level             text NOT NULL,
  requested_level   text NOT NULL,
  state             text NOT NULL CHECK (state IN ('pending', 'verified', 'failed', 'canceled')),
  completed_methods text[] NOT NULL DEFAULT '{}',
  attempts_left     integer NOT NULL,
  risk              jsonb NOT NULL DEFAULT '{}',
  caller_ani        text,
  asked_question_id uuid,
  failed_question_ids uuid[] NOT NULL DEFAULT '{}',
  assertion_id      uuid,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  expires_at        timestamptz NOT NULL,
  verified_at       timestamptz
);
CREATE INDEX verifications_interaction ON verifications (tenant_id, interaction_id, created_at DESC);
CREATE INDEX verifications_customer ON verifications (tenant_id, customer_id, created_at DESC);
CREATE INDEX verifications_expiry ON verifications (expires_at);
CREATE INDEX verifications_ani ON verifications (tenant_id, caller_ani, created_at DESC) WHERE caller_ani IS NOT NULL;

-- A code is stored as an HMAC (keyed, so the table alone cannot be brute-forced); it is checked
-- against the flow's shared budget and spent atomically.
CREATE TABLE verification_codes (
  id              uuid PRIMARY KEY,
  verification_id uuid NOT NULL REFERENCES verifications(id) ON DELETE CASCADE,
  tenant_id       uuid NOT NULL,
  contact_id      uuid NOT NULL,
  channel         text NOT NULL CHECK (channel IN ('sms', 'voice', 'email')),
  code_hash       bytea NOT NULL,
  created_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  superseded_at   timestamptz,
  consumed_at     timestamptz
);
CREATE INDEX verification_codes_flow ON verification_codes (verification_id, created_at DESC);

-- Fixed-window counters (sends per destination, per agent, per tenant): one atomic upsert per use.
CREATE TABLE rate_windows (
  key          text NOT NULL,
  window_start timestamptz NOT NULL,
  count        integer NOT NULL,
  PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_windows_age ON rate_windows (window_start);

-- Tenant API keys (the IVR starts and drives verifications with one). Stored hashed.
CREATE TABLE api_keys (
  id         uuid PRIMARY KEY,
  tenant_id  uuid NOT NULL REFERENCES tenants(id),
  name       text NOT NULL,
  prefix     text NOT NULL,
  key_hash   bytea NOT NULL UNIQUE,
  scopes     text[] NOT NULL,
  created_by uuid,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

-- ES256 signing keys per tenant; the private key is sealed with the server's encryption key.
CREATE TABLE signing_keys (
  kid         text PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenants(id),
  alg         text NOT NULL,
  public_jwk  jsonb NOT NULL,
  private_key bytea NOT NULL,
  created_at  timestamptz NOT NULL,
  retired_at  timestamptz
);
CREATE INDEX signing_keys_tenant ON signing_keys (tenant_id, created_at DESC);
