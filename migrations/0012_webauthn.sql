-- Security keys and passkeys (WebAuthn) in the one credentials store. A subject may hold several
-- (each named), so the one-active-per-kind rule no longer covers 'webauthn'. `external_id` is the
-- credential ID the authenticator chose (base64url), unique per tenant, found by passwordless
-- sign-in; `meta` holds what is not secret and the admin sees: AAGUID (key model), transports,
-- device-bound or synced, user verification at registration, attestation format, flags (a sign
-- counter that went backwards). The public key is in `material`, sealed like every credential's
-- material (AES-256-GCM bound to the credential id, so a key swapped in the database is refused).
-- Registration is a flow of its own kind ('enrollment'), holding the challenge in its ceremony slot.
ALTER TABLE credentials ADD COLUMN external_id text;
ALTER TABLE credentials ADD COLUMN meta jsonb NOT NULL DEFAULT '{}';
DROP INDEX credentials_one_active_per_kind;
CREATE UNIQUE INDEX credentials_one_active_per_kind ON credentials (subject_type, subject_id, kind) WHERE status = 'active' AND kind <> 'webauthn';
CREATE UNIQUE INDEX credentials_external_id ON credentials (tenant_id, kind, external_id) WHERE external_id IS NOT NULL;

ALTER TABLE flows DROP CONSTRAINT flows_kind_check;
ALTER TABLE flows ADD CONSTRAINT flows_kind_check CHECK (kind IN ('signin', 'reauth', 'verification', 'enrollment'));
