-- One credentials store for staff users and customers, replacing `factors` (users) and
-- `customer_factors` (customers). Every existing row is carried over with its id, so sealed secrets
-- (AES-256-GCM envelopes bound to that id, src/crypto/aead.ts), recovery codes, audit targets and
-- flows that name a pending factor keep working.

CREATE TABLE credentials (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  subject_type text NOT NULL CHECK (subject_type IN ('user','customer')),
  subject_id uuid NOT NULL,            -- users.id or customers.id (no FK: two parents; see the triggers below)
  kind text NOT NULL,                  -- 'totp', 'recovery_code', later 'webauthn', 'push', 'sms', ...
  label text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending','active','suspended')),
  material bytea,                      -- AES-256-GCM envelope (src/crypto/aead.ts), bound to the credential id
  sign_count bigint NOT NULL DEFAULT 0, -- authenticator counters (WebAuthn later); 0 for others
  created_at timestamptz NOT NULL,
  confirmed_at timestamptz,
  last_used_at timestamptz
);
CREATE INDEX credentials_subject ON credentials (subject_type, subject_id);
CREATE UNIQUE INDEX credentials_one_active_per_kind ON credentials (subject_type, subject_id, kind) WHERE status = 'active';
-- a tenant's deletion cascades here
CREATE INDEX credentials_tenant ON credentials (tenant_id);

INSERT INTO credentials (id, tenant_id, subject_type, subject_id, kind, label, status, material, sign_count, created_at, confirmed_at, last_used_at)
SELECT id, tenant_id, 'user', user_id, kind, label, status, secret, 0, created_at, confirmed_at, last_used_at FROM factors;

INSERT INTO credentials (id, tenant_id, subject_type, subject_id, kind, label, status, material, sign_count, created_at, confirmed_at, last_used_at)
SELECT id, tenant_id, 'customer', customer_id, kind, label, status, secret, 0, created_at, confirmed_at, last_used_at FROM customer_factors;

-- Recovery codes belong to a credential (and go with it); subject_id is the user's or customer's id.
ALTER TABLE recovery_codes DROP CONSTRAINT recovery_codes_factor_id_fkey;
ALTER TABLE recovery_codes DROP CONSTRAINT recovery_codes_user_id_fkey;
ALTER TABLE recovery_codes RENAME COLUMN factor_id TO credential_id;
ALTER TABLE recovery_codes RENAME COLUMN user_id TO subject_id;
ALTER TABLE recovery_codes ADD CONSTRAINT recovery_codes_credential_id_fkey FOREIGN KEY (credential_id) REFERENCES credentials(id) ON DELETE CASCADE;
CREATE INDEX recovery_codes_credential ON recovery_codes (credential_id);

DROP TABLE factors;
DROP TABLE customer_factors;

-- What the two foreign keys did, for two parents: a credential names an existing user or customer
-- of its own tenant. Checked like a foreign key: after the statement's rows are written (so a parent
-- inserted by the same statement counts), with the parent row key-share locked so that it cannot be
-- deleted while the credential is written ...
CREATE FUNCTION credentials_check_subject() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.subject_type = 'user' THEN
    PERFORM 1 FROM users WHERE id = NEW.subject_id AND tenant_id = NEW.tenant_id FOR KEY SHARE;
  ELSE
    PERFORM 1 FROM customers WHERE id = NEW.subject_id AND tenant_id = NEW.tenant_id FOR KEY SHARE;
  END IF;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'credential subject % % not found in tenant %', NEW.subject_type, NEW.subject_id, NEW.tenant_id
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER credentials_subject_exists AFTER INSERT OR UPDATE OF tenant_id, subject_type, subject_id ON credentials
  FOR EACH ROW EXECUTE FUNCTION credentials_check_subject();

-- ... and deleting a user or a customer deletes their credentials (and so their recovery codes).
CREATE FUNCTION credentials_remove_of_subject() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM credentials WHERE subject_type = TG_ARGV[0] AND subject_id = OLD.id;
  RETURN OLD;
END $$;
CREATE TRIGGER users_remove_credentials AFTER DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION credentials_remove_of_subject('user');
CREATE TRIGGER customers_remove_credentials AFTER DELETE ON customers
  FOR EACH ROW EXECUTE FUNCTION credentials_remove_of_subject('customer');
