-- Key models (authenticators by AAGUID) from a FIDO Metadata Service BLOB an operator uploads (no
-- network needed): their names for the console, their metadata statement (attestation root
-- certificates, algorithms), their latest status report. Shared by every tenant; a tenant's policy
-- may allow only some of them (webauthn.allowedModels).
CREATE TABLE authenticator_models (
  aaguid      uuid PRIMARY KEY,
  description text NOT NULL,
  status      text,                 -- the newest status report, e.g. FIDO_CERTIFIED_L1, REVOKED
  statement   jsonb NOT NULL,       -- the FIDO metadata statement
  blob_no     integer NOT NULL,     -- the BLOB's serial number it came from
  updated_at  timestamptz NOT NULL
);
