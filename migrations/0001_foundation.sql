-- Callwarden foundation schema: tenants, policy versions, users and roles, factors, counters,
-- sign-in flows, sessions, invitations, outbox and the audit log.

CREATE TABLE tenants (
  id          uuid PRIMARY KEY,
  slug        text NOT NULL UNIQUE,
  name        text NOT NULL,
  is_platform boolean NOT NULL DEFAULT false,
  policy_version integer NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL,
  disabled_at timestamptz
);

-- Every saved policy is kept; tenants.policy_version names the one in force.
CREATE TABLE tenant_policies (
  tenant_id  uuid NOT NULL REFERENCES tenants(id),
  version    integer NOT NULL,
  policy     jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  created_by uuid,
  PRIMARY KEY (tenant_id, version)
);

-- Custom roles of a tenant (built-in roles live in code: src/domain/roles.ts).
CREATE TABLE roles (
  tenant_id   uuid NOT NULL REFERENCES tenants(id),
  name        text NOT NULL,
  description text NOT NULL DEFAULT '',
  permissions text[] NOT NULL,
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, name)
);

CREATE TABLE users (
  id                  uuid PRIMARY KEY,
  tenant_id           uuid NOT NULL REFERENCES tenants(id),
  email               text NOT NULL,
  display_name        text NOT NULL DEFAULT '',
  roles               text[] NOT NULL DEFAULT '{}',
  status              text NOT NULL CHECK (status IN ('invited', 'active', 'disabled')),
  password_hash       text,
  password_changed_at timestamptz,
  grace_started_at    timestamptz,
  grace_signins       integer NOT NULL DEFAULT 0,
  last_signin_at      timestamptz,
  created_at          timestamptz NOT NULL,
  disabled_at         timestamptz,
  UNIQUE (tenant_id, email)
);

CREATE TABLE password_history (
  user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  hash       text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX password_history_user ON password_history (user_id, created_at DESC);

-- Bound authenticators other than the password. secret is an AES-256-GCM envelope.
CREATE TABLE factors (
  id           uuid PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenants(id),
  user_id      uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind         text NOT NULL,
  label        text NOT NULL DEFAULT '',
  status       text NOT NULL CHECK (status IN ('pending', 'active')),
  secret       bytea,
  created_at   timestamptz NOT NULL,
  confirmed_at timestamptz,
  last_used_at timestamptz
);
CREATE INDEX factors_user ON factors (user_id);
CREATE UNIQUE INDEX factors_one_active_per_kind ON factors (user_id, kind) WHERE status = 'active';

-- TOTP replay ledger: a time step is accepted once per subject (staff user or, later, customer);
-- the primary key makes the check-and-record atomic.
CREATE TABLE totp_used_steps (
  subject_id uuid NOT NULL,
  step       bigint NOT NULL,
  used_at    timestamptz NOT NULL,
  PRIMARY KEY (subject_id, step)
);
CREATE INDEX totp_used_steps_age ON totp_used_steps (used_at);

CREATE TABLE recovery_codes (
  factor_id uuid NOT NULL REFERENCES factors(id) ON DELETE CASCADE,
  user_id   uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  code_hash bytea NOT NULL,
  used_at   timestamptz,
  PRIMARY KEY (user_id, code_hash)
);

-- Consecutive-failure counters per subject (e.g. "pw:<tenant>:<identifier>", "f:<user>:totp").
CREATE TABLE attempt_counters (
  subject         text PRIMARY KEY,
  failures        integer NOT NULL,
  last_attempt_at timestamptz NOT NULL,
  prev_attempt_at timestamptz,
  last_failure_at timestamptz,
  locked_until    timestamptz
);
CREATE INDEX attempt_counters_idle ON attempt_counters (last_attempt_at);

CREATE TABLE auth_flows (
  id                uuid PRIMARY KEY,
  tenant_id         uuid NOT NULL REFERENCES tenants(id),
  kind              text NOT NULL CHECK (kind IN ('signin', 'reauth')),
  secret_hash       bytea NOT NULL,
  state             text NOT NULL,
  identifier        text NOT NULL,
  user_id           uuid,
  session_id        uuid,
  required_aal      integer NOT NULL,
  completed_methods text[] NOT NULL DEFAULT '{}',
  attempts_left     integer NOT NULL,
  pending_factor_id uuid,
  ip                text,
  user_agent        text,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  expires_at        timestamptz NOT NULL
);
CREATE INDEX auth_flows_expiry ON auth_flows (expires_at);

CREATE TABLE sessions (
  id           uuid PRIMARY KEY,
  token_hash   bytea NOT NULL UNIQUE,
  tenant_id    uuid NOT NULL REFERENCES tenants(id),
  user_id      uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  aal          integer NOT NULL,
  methods      text[] NOT NULL,
  auth_time    timestamptz NOT NULL,
  created_at   timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  idle_timeout_s integer NOT NULL,
  expires_at   timestamptz NOT NULL,
  revoked_at   timestamptz,
  ip           text,
  user_agent   text
);
CREATE INDEX sessions_user_live ON sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE invitations (
  id         uuid PRIMARY KEY,
  tenant_id  uuid NOT NULL REFERENCES tenants(id),
  user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash bytea NOT NULL UNIQUE,
  created_by uuid,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX invitations_user ON invitations (user_id);
CREATE INDEX invitations_expiry ON invitations (expires_at);

-- Outgoing messages (setup links, notices). Providers read from here; dev mode shows it.
CREATE TABLE outbox (
  id         uuid PRIMARY KEY,
  tenant_id  uuid NOT NULL REFERENCES tenants(id),
  channel    text NOT NULL,
  recipient  text NOT NULL,
  template   text NOT NULL,
  subject    text NOT NULL,
  body       text NOT NULL,
  status     text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts   integer NOT NULL DEFAULT 0,
  last_error text,
  created_at timestamptz NOT NULL,
  sent_at    timestamptz
);
CREATE INDEX outbox_tenant_time ON outbox (tenant_id, created_at DESC);
CREATE INDEX outbox_pending ON outbox (created_at) WHERE status = 'pending';

-- Append-only audit log. Rows are inserted unsealed (chain_seq NULL) without touching any shared row;
-- the sealer links them per tenant, in id order, into a hash chain (audit_chain_heads holds the tip).
CREATE TABLE audit_events (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   uuid NOT NULL,
  occurred_at timestamptz NOT NULL,
  type        text NOT NULL,
  outcome     text NOT NULL,
  actor_type  text NOT NULL,
  actor_id    text,
  target_type text,
  target_id   text,
  ip          text,
  user_agent  text,
  channel     text,
  request_id  text,
  data        jsonb NOT NULL DEFAULT '{}',
  chain_seq   bigint,
  prev_hash   text,
  hash        text
);
CREATE INDEX audit_events_unsealed ON audit_events (tenant_id, id) WHERE chain_seq IS NULL;
CREATE UNIQUE INDEX audit_events_chain ON audit_events (tenant_id, chain_seq);
CREATE INDEX audit_events_tenant_time ON audit_events (tenant_id, occurred_at);

CREATE TABLE audit_chain_heads (
  tenant_id uuid PRIMARY KEY,
  last_seq  bigint NOT NULL,
  last_hash text NOT NULL,
  sealed_at timestamptz NOT NULL
);
