-- Customers (callers) of a tenant: identity, sealed sensitive fields, contact points and knowledge
-- factors. Sensitive columns (bytea) are AES-256-GCM envelopes bound to (customer id, field name);
-- national_id_hint keeps only the last four characters, for the masked form.

CREATE TABLE customers (
  id               uuid PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES tenants(id),
  external_id      text,
  name             text NOT NULL,
  account_number   text,
  national_id      bytea,
  national_id_hint text CHECK (national_id_hint IS NULL OR length(national_id_hint) <= 4),
  date_of_birth    bytea,
  card_last4       bytea,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  UNIQUE (tenant_id, external_id),
  UNIQUE (tenant_id, account_number)
);
CREATE INDEX customers_tenant_created ON customers (tenant_id, created_at);

-- Phones are E.164, emails normalized (src/domain/identifiers.ts). changed_at is set when the contact
-- is created and whenever its value changes (which also clears verified_at): a recently changed
-- contact is a risk signal and is refused for one-time codes.
CREATE TABLE customer_contacts (
  id          uuid PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenants(id),
  customer_id uuid NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('phone', 'email')),
  value       text NOT NULL,
  label       text NOT NULL DEFAULT '',
  verified_at timestamptz,
  changed_at  timestamptz NOT NULL,
  created_at  timestamptz NOT NULL,
  UNIQUE (customer_id, kind, value)
);
CREATE INDEX customer_contacts_lookup ON customer_contacts (tenant_id, kind, value);

-- argon2id of the PIN.
CREATE TABLE customer_pins (
  customer_id uuid PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
  hash        text NOT NULL,
  updated_at  timestamptz NOT NULL
);

-- argon2id of the normalized answer (NFKC, lower case, no punctuation, single spaces).
CREATE TABLE customer_questions (
  id          uuid PRIMARY KEY,
  customer_id uuid NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  question    text NOT NULL,
  answer_hash text NOT NULL,
  created_at  timestamptz NOT NULL
);
CREATE INDEX customer_questions_customer ON customer_questions (customer_id, created_at);
