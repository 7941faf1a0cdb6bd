-- Delivery: what the outbox worker needs to send each message once, retry it with backoff and keep a
-- record of every attempt. A claimed message stays 'pending' with next_attempt_at pushed forward by a
-- lease (and attempts + 1), so a crashed worker's messages become due again when the lease runs out.

ALTER TABLE outbox ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE outbox ADD COLUMN provider text;
ALTER TABLE outbox ADD COLUMN provider_message_id text;
ALTER TABLE outbox ADD COLUMN locale text NOT NULL DEFAULT 'en';

-- Rows written before this migration are due from when they were written.
UPDATE outbox SET next_attempt_at = created_at;

-- The worker's claim: pending rows in due order (replaces the created_at index of 0001).
DROP INDEX IF EXISTS outbox_pending;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';

-- One row per send attempt. `error` is a short classified reason (HTTP status, provider error code),
-- never a message body or a code.
CREATE TABLE delivery_events (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id          uuid NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
  attempt             integer NOT NULL,
  provider            text NOT NULL,
  outcome             text NOT NULL CHECK (outcome IN ('sent', 'retry', 'failed')),
  provider_message_id text,
  error               text,
  occurred_at         timestamptz NOT NULL
);
CREATE INDEX delivery_events_message ON delivery_events (message_id, id);
