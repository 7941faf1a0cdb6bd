-- Customer-held authenticators (the customer's own TOTP app), the expiry of time-bound outbox
-- messages (one-time codes), and message templates per tenant and locale.

-- A customer's bound authenticators. Like staff factors: created 'pending' and made 'active' by a
-- first valid code; secret is an AES-256-GCM envelope bound to the factor id. The TOTP replay ledger
-- (totp_used_steps) is shared: its subject_id is the customer id.
CREATE TABLE customer_factors (
  id           uuid PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenants(id),
  customer_id  uuid NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  kind         text NOT NULL,
  label        text NOT NULL DEFAULT '',
  status       text NOT NULL CHECK (status IN ('pending', 'active')),
  secret       bytea,
  created_at   timestamptz NOT NULL,
  confirmed_at timestamptz,
  last_used_at timestamptz
);
CREATE INDEX customer_factors_customer ON customer_factors (customer_id);
CREATE UNIQUE INDEX customer_factors_one_active_per_kind ON customer_factors (customer_id, kind) WHERE status = 'active';

-- A message that is useless after a moment (a one-time code) is failed with reason 'expired' instead
-- of being sent late. NULL: no expiry.
ALTER TABLE outbox ADD COLUMN expires_at timestamptz;

-- The language a verification's messages are written in (NULL: the tenant's default).
ALTER TABLE verifications ADD COLUMN locale text;

-- The tenant's default message language.
ALTER TABLE tenants ADD COLUMN default_locale text NOT NULL DEFAULT 'en';

-- A tenant's own wording of a message, per template, locale and channel; placeholders such as
-- {{code}} are filled in when the message is written (src/delivery/templates.ts). Built-in texts
-- apply where a tenant has none.
CREATE TABLE message_templates (
  tenant_id  uuid NOT NULL REFERENCES tenants(id),
  template   text NOT NULL,
  locale     text NOT NULL,
  channel    text NOT NULL CHECK (channel IN ('sms', 'voice', 'email')),
  subject    text NOT NULL DEFAULT '',
  body       text NOT NULL,
  updated_at timestamptz NOT NULL,
  updated_by uuid,
  PRIMARY KEY (tenant_id, template, locale, channel)
);
