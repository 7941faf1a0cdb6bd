-- Audit integrity (docs/audit.md): every event carries a keyed MAC written in its own INSERT; the
-- sealer chains only events whose MAC verifies and signs the chain head (Ed25519) at each seal.

-- nonce: random per event, covered by the MAC (a copied row repeats it, so copies are found);
-- mac: HMAC-SHA256 (hex) under the key named by mac_key_id. NULL only for events written before
-- this migration (see audit_integrity).
ALTER TABLE audit_events ADD COLUMN nonce text, ADD COLUMN mac text, ADD COLUMN mac_key_id text;
CREATE UNIQUE INDEX audit_events_nonce ON audit_events (nonce);

-- The head's signature (base64url Ed25519 over the checkpoint, see src/audit/checkpoint.ts).
ALTER TABLE audit_chain_heads ADD COLUMN sign_key_id text, ADD COLUMN signature text;

-- Events the sealer left out of the chain because their MAC does not verify (an alert event names each).
CREATE TABLE audit_quarantine (
  event_id   bigint PRIMARY KEY,
  tenant_id  uuid NOT NULL,
  reason     text NOT NULL,
  flagged_at timestamptz NOT NULL
);

-- Events up to legacy_max_id were written before MACs existed: they are chained (and verified) by
-- the hash rule of their time, and only before the first keyed event of their tenant. Each signed
-- checkpoint includes this value.
CREATE TABLE audit_integrity (
  singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  legacy_max_id bigint NOT NULL
);
INSERT INTO audit_integrity (legacy_max_id) SELECT coalesce(max(id), 0) FROM audit_events;
