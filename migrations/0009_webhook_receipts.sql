-- Webhook receipts and outbox secrets at rest.
--
-- webhook_receipts: a webhook delivery (the Twilio voice webhook) claims its key here before it is
-- handled (INSERT ... ON CONFLICT DO NOTHING); the answer is stored on the row, and a repeated
-- delivery (a provider retry, a duplicate sent in parallel) is answered with it instead of being
-- handled again. Rows are purged by the retention sweep after a day.
CREATE TABLE webhook_receipts (
  key        text PRIMARY KEY,
  tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  response   text,
  created_at timestamptz NOT NULL
);
CREATE INDEX webhook_receipts_created ON webhook_receipts (created_at);

-- outbox.sealed: subject and body sealed with AES-256-GCM (the service key; associated data: the
-- message id) while the message waits to be sent; the plain subject/body columns then hold a
-- placeholder. After delivery, a permanent failure or expiry the sealed copy is dropped and the
-- placeholder says so: a one-time code or a setup link is never kept in plain text.
ALTER TABLE outbox ADD COLUMN sealed bytea;
CREATE INDEX outbox_sealed_expiry ON outbox (expires_at) WHERE sealed IS NOT NULL;

-- Messages already sent or failed keep no secret either.
UPDATE outbox SET subject = '', body = '(redacted)' WHERE status <> 'pending';
