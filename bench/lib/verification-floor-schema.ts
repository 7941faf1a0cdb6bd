/**
 * The minimal floor's own database (bench/verification-floor.ts): its tables, indexes and seed rows.
 *
 * The tables have the shape a caller-verification service needs (and Callwarden's own tables have):
 * tenants, users, sessions (looked up by the SHA-256 of the bearer token), customers with their
 * contacts, verification flows, one-time codes (stored as an HMAC), an outbox of messages to send and
 * an append-only audit log, with the foreign keys and indexes such a design keeps (the lookups the
 * three routes make, the expiry sweeps, the outbox worker's claim, the audit sealer's scan). It is
 * created in a throw-away database of its own (lib/postgres.ts), separate from Callwarden's store,
 * and dropped with it.
 */
import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Customer } from '../verification-client.js';

export const FLOOR_DDL = `
CREATE TABLE tenants (
  id         uuid PRIMARY KEY,
  slug       text NOT NULL UNIQUE,
  name       text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE TABLE users (
  id         uuid PRIMARY KEY,
  tenant_id  uuid NOT NULL REFERENCES tenants(id),
  email      text NOT NULL,
  roles      text[] NOT NULL,
  status     text NOT NULL CHECK (status IN ('active', 'disabled')),
  created_at timestamptz NOT NULL,
  UNIQUE (tenant_id, email)
);
CREATE TABLE sessions (
  id         uuid PRIMARY KEY,
  token_hash bytea NOT NULL UNIQUE,
  tenant_id  uuid NOT NULL REFERENCES tenants(id),
  user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  aal        integer NOT NULL,
  methods    text[] NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX sessions_user_live ON sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE TABLE customers (
  id          uuid PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenants(id),
  external_id text NOT NULL,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL,
  UNIQUE (tenant_id, external_id)
);
CREATE TABLE customer_contacts (
  id          uuid PRIMARY KEY,
  tenant_id   uuid NOT NULL,
  customer_id uuid NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('phone', 'email')),
  value       text NOT NULL,
  changed_at  timestamptz NOT NULL
);
CREATE INDEX customer_contacts_customer ON customer_contacts (customer_id);
CREATE TABLE verifications (
  id                uuid PRIMARY KEY,
  tenant_id         uuid NOT NULL REFERENCES tenants(id),
  customer_id       uuid NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  interaction_id    text NOT NULL,
  started_by        uuid NOT NULL,
  state             text NOT NULL CHECK (state IN ('pending', 'verified', 'failed', 'canceled')),
  completed_methods text[] NOT NULL DEFAULT '{}',
  attempts_initial  integer NOT NULL,
  attempts_left     integer NOT NULL,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  expires_at        timestamptz NOT NULL,
  verified_at       timestamptz
);
CREATE INDEX verifications_interaction ON verifications (tenant_id, interaction_id, created_at DESC);
CREATE INDEX verifications_customer ON verifications (tenant_id, customer_id, created_at DESC);
CREATE INDEX verifications_expiry ON verifications (expires_at);
CREATE TABLE verification_codes (
  id              uuid PRIMARY KEY,
  verification_id uuid NOT NULL REFERENCES verifications(id) ON DELETE CASCADE,
  tenant_id       uuid NOT NULL,
  contact_id      uuid NOT NULL,
  channel         text NOT NULL CHECK (channel IN ('sms', 'voice', 'email')),
  code_hash       bytea NOT NULL,
  created_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  consumed_at     timestamptz
);
CREATE INDEX verification_codes_flow ON verification_codes (verification_id, created_at DESC);
CREATE TABLE outbox (
  id              uuid PRIMARY KEY,
  tenant_id       uuid NOT NULL REFERENCES tenants(id),
  channel         text NOT NULL,
  recipient       text NOT NULL,
  template        text NOT NULL,
  subject         text NOT NULL,
  body            text NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL,
  next_attempt_at timestamptz NOT NULL,
  sent_at         timestamptz
);
CREATE INDEX outbox_tenant_time ON outbox (tenant_id, created_at DESC);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
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
`;

/** The floor's session lookup: SHA-256 of the bearer token (the floor's own choice; any token string works). */
export const floorTokenHash = (token: string): Buffer => createHash('sha256').update(token).digest();

/**
 * Creates the floor's tables and seeds them: the tenant (same id and slug as Callwarden's, so the
 * load client's paths and customer reads work unchanged), one active agent with a live session per
 * bearer token the load client uses, and `customers` customers with one email contact each.
 */
export async function seedFloor(
  client: pg.ClientBase,
  o: { tenantId: string; tenantSlug: string; agentTokens: string[]; customers: number; prefix: string },
): Promise<Customer[]> {
  await client.query(FLOOR_DDL);
  const now = new Date();
  const expires = new Date(now.getTime() + 24 * 3600_000);
  await client.query('INSERT INTO tenants (id, slug, name, created_at) VALUES ($1, $2, $3, $4)', [o.tenantId, o.tenantSlug, 'Bench floor', now]);
  const userIds = o.agentTokens.map(() => randomUUID());
  await client.query(
    `INSERT INTO users (id, tenant_id, email, roles, status, created_at)
     SELECT u, $1, 'floor-agent-' || i || '@bench.test', ARRAY['agent'], 'active', $2 FROM unnest($3::uuid[]) WITH ORDINALITY AS x(u, i)`,
    [o.tenantId, now, userIds],
  );
  await client.query(
    `INSERT INTO sessions (id, token_hash, tenant_id, user_id, aal, methods, created_at, expires_at)
     SELECT gen_random_uuid(), h, $1, u, 1, ARRAY['password'], $2, $3 FROM unnest($4::bytea[], $5::uuid[]) AS x(h, u)`,
    [o.tenantId, now, expires, o.agentTokens.map(floorTokenHash), userIds],
  );
  const out: Customer[] = [];
  const BATCH = 5000;
  for (let from = 0; from < o.customers; from += BATCH) {
    const ids: string[] = [];
    const contactIds: string[] = [];
    const emails: string[] = [];
    for (let i = from; i < Math.min(o.customers, from + BATCH); i++) {
      const c = { id: randomUUID(), contactId: randomUUID(), email: `${o.prefix}${String(i).padStart(5, '0')}@example.com` };
      ids.push(c.id);
      contactIds.push(c.contactId);
      emails.push(c.email);
      out.push(c);
    }
    await client.query(
      `INSERT INTO customers (id, tenant_id, external_id, name, created_at)
       SELECT id, $1, 'FLOOR-' || ($4::int + i), 'Customer ' || ($4::int + i), $2 FROM unnest($3::uuid[]) WITH ORDINALITY AS x(id, i)`,
      [o.tenantId, now, ids, from],
    );
    await client.query(
      `INSERT INTO customer_contacts (id, tenant_id, customer_id, kind, value, changed_at)
       SELECT c, $1, id, 'email', e, $2 FROM unnest($3::uuid[], $4::uuid[], $5::text[]) AS x(c, id, e)`,
      [o.tenantId, now, contactIds, ids, emails],
    );
  }
  await client.query('ANALYZE');
  return out;
}
