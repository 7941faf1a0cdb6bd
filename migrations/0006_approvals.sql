-- Dual control: actions one administrator requests and a different administrator approves (today:
-- resetting a user's second factors), and indexes for reading one user's own sign-in activity.

-- A request is decided once: approve, reject and cancel are each one UPDATE ... WHERE status =
-- 'pending' AND expires_at > now (approve and reject also require decided_by <> requested_by), so
-- of two racing decisions exactly one wins. 'expired' is written when a newer request for the same
-- target replaces an expired one; readers derive it from expires_at otherwise.
CREATE TABLE approval_requests (
  id              uuid PRIMARY KEY,
  tenant_id       uuid NOT NULL REFERENCES tenants(id),
  kind            text NOT NULL CHECK (kind IN ('factor_reset')),
  target_user_id  uuid NOT NULL REFERENCES users(id),
  requested_by    uuid NOT NULL REFERENCES users(id),
  reason          text NOT NULL,
  status          text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'canceled')),
  created_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  decided_by      uuid REFERENCES users(id),
  decided_at      timestamptz,
  decision_reason text,
  CHECK (status = 'pending' OR status = 'expired' OR decided_at IS NOT NULL)
);
CREATE INDEX approval_requests_tenant ON approval_requests (tenant_id, created_at DESC);
-- At most one open request per target and kind (two admins requesting at once: one gets a conflict).
CREATE UNIQUE INDEX approval_requests_one_pending ON approval_requests (target_user_id, kind) WHERE status = 'pending';

-- "Recent sign-in activity" (GET /v1/me/activity) reads a user's events as actor, as target, and the
-- failed password attempts on their identifier (those have no actor yet), newest first.
CREATE INDEX audit_events_actor ON audit_events (tenant_id, actor_id, id) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_events_target_user ON audit_events (tenant_id, target_id, id) WHERE target_type = 'user';
CREATE INDEX audit_events_attempt_identifier ON audit_events (tenant_id, (data ->> 'identifier'), id)
  WHERE type IN ('auth.attempt', 'auth.reauth.attempt') AND actor_type = 'anonymous';
