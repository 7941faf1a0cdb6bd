-- One flow record for every kind of flow (staff sign-in, re-authentication / step-up, caller
-- verification; later SSO interactions and device approvals), replacing auth_flows, verifications
-- and verification_codes. The engine (src/engine) reads and writes it; `failed` and `expired` are
-- never stored: they are derived from attempts_left and expires_at, and are final.
CREATE TABLE flows (
  id                uuid PRIMARY KEY,
  tenant_id         uuid NOT NULL REFERENCES tenants(id),
  kind              text NOT NULL CHECK (kind IN ('signin', 'reauth', 'verification')),
  -- who is being authenticated: a staff user or a customer; null while unknown (before the password)
  subject_type      text CHECK (subject_type IN ('user', 'customer')),
  subject_id        uuid,
  -- what the person typed to name themselves (sign-in), normalized
  identifier        text,
  -- SHA-256 of the flow token (kinds driven by an unauthenticated client); a new one after each factor
  secret_hash       bytea,
  -- stored state: a kind's step names, 'completed' or 'canceled'
  state             text NOT NULL,
  -- a method whose answer arrives out of band (a device, a webhook); null when nothing is awaited
  awaiting          text,
  required_level    text NOT NULL,
  requested_level   text,
  completed_methods text[] NOT NULL DEFAULT '{}',
  attempts_initial  integer NOT NULL,
  attempts_left     integer NOT NULL,
  -- per-method ceremony slots: {"<method>": {...server-held challenge data...}}, cleared when used
  ceremony          jsonb NOT NULL DEFAULT '{}',
  -- the kind's own data (channel, who started it, risk, locale, session id, origin)
  context           jsonb NOT NULL DEFAULT '{}',
  -- the call a verification is bound to, and the caller's number (velocity), both indexed
  interaction_id    text,
  caller_ani        text,
  -- what completing issued: the session (sign-in) or the assertion (verification)
  result_id         uuid,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  expires_at        timestamptz NOT NULL,
  completed_at      timestamptz,
  CHECK (attempts_left <= attempts_initial)
);
CREATE INDEX flows_expiry ON flows (expires_at);
CREATE INDEX flows_interaction ON flows (tenant_id, interaction_id, created_at DESC) WHERE interaction_id IS NOT NULL;
CREATE INDEX flows_subject ON flows (tenant_id, subject_id, created_at DESC) WHERE subject_id IS NOT NULL;
CREATE INDEX flows_ani ON flows (tenant_id, caller_ani, created_at DESC) WHERE caller_ani IS NOT NULL;

-- Attempt counters gain the checks in flight: a burst of parallel attempts is judged as a sequence
-- (each claim counts the checks still running as if they were failures), while only checked wrong
-- answers add to `failures`. in_flight_at dates the newest claim (a crashed check stops counting
-- after 30 s); prev_attempt_at keeps the one before it, the anchor of the back-off for a burst.
ALTER TABLE attempt_counters ADD COLUMN in_flight integer NOT NULL DEFAULT 0;
ALTER TABLE attempt_counters ADD COLUMN in_flight_at timestamptz;

-- Existing flows carry over.
INSERT INTO flows (id, tenant_id, kind, subject_type, subject_id, identifier, secret_hash, state, required_level, completed_methods,
                   attempts_initial, attempts_left, ceremony, context, created_at, updated_at, expires_at, completed_at)
SELECT id, tenant_id, kind, CASE WHEN user_id IS NULL THEN NULL ELSE 'user' END, user_id, identifier, secret_hash, state, required_aal::text,
       completed_methods, GREATEST(attempts_left, 5), attempts_left,
       CASE WHEN pending_factor_id IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('totp', jsonb_build_object('pendingId', pending_factor_id)) END,
       jsonb_strip_nulls(jsonb_build_object('sessionId', session_id, 'ip', ip, 'userAgent', user_agent)),
       created_at, updated_at, expires_at, CASE WHEN state = 'completed' THEN updated_at END
FROM auth_flows;

INSERT INTO flows (id, tenant_id, kind, subject_type, subject_id, state, required_level, requested_level, completed_methods,
                   attempts_initial, attempts_left, ceremony, context, interaction_id, caller_ani, result_id,
                   created_at, updated_at, expires_at, completed_at)
SELECT v.id, v.tenant_id, 'verification', 'customer', v.customer_id,
       CASE v.state WHEN 'verified' THEN 'completed' WHEN 'failed' THEN 'pending' ELSE v.state END,
       v.level, v.requested_level, v.completed_methods,
       GREATEST(v.attempts_left, 5), CASE WHEN v.state = 'failed' THEN LEAST(v.attempts_left, 0) ELSE v.attempts_left END,
       jsonb_strip_nulls(jsonb_build_object(
         'question', jsonb_strip_nulls(jsonb_build_object('askedId', v.asked_question_id, 'failed', to_jsonb(v.failed_question_ids))),
         'otp', (SELECT jsonb_build_object('id', c.id, 'hash', encode(c.code_hash, 'hex'), 'contactId', c.contact_id, 'channel', c.channel,
                                           'sentAt', c.created_at, 'expiresAt', c.expires_at, 'consumedAt', c.consumed_at, 'wrong', 0)
                 FROM verification_codes c WHERE c.verification_id = v.id AND c.superseded_at IS NULL ORDER BY c.created_at DESC LIMIT 1))),
       jsonb_strip_nulls(jsonb_build_object('channel', v.channel, 'startedBy', jsonb_build_object('type', v.started_by_type, 'id', v.started_by_id),
                                            'risk', v.risk, 'locale', v.locale)),
       v.interaction_id, v.caller_ani, v.assertion_id, v.created_at, v.updated_at, v.expires_at, v.verified_at
FROM verifications v;

DROP TABLE verification_codes;
DROP TABLE verifications;
DROP TABLE auth_flows;
