/**
 * The minimal floor of bench/verification.ts: a bare Fastify + `pg` server (no Callwarden code) with
 * the three routes of an email-code caller verification, doing the least work a correct design
 * needs, on its own tables (lib/verification-floor-schema.ts) in its own throw-away database. It is
 * not a replay of Callwarden's queries: it is what Callwarden's path is measured against.
 *
 * Every request runs exactly two statements, each its own commit (autocommit, no BEGIN/COMMIT):
 *   1. the session read: one SELECT of the live session by the SHA-256 of the bearer token, joined
 *      to its user (active, role agent) and the tenant named in the path;
 *   2. one write, a single statement with data-modifying CTEs:
 *      start  insert the flow (only for a customer of that tenant) + insert an audit event
 *      send   (flow pending and unexpired, contact on file for its customer) insert the code's HMAC
 *             + insert the outbox message + insert an audit event
 *      check  claim an attempt on the flow and, when the HMAC of the answer matches the newest live
 *             code, mark it verified in the same UPDATE (PostgreSQL cannot update one row twice in
 *             a statement; the row lock serialises parallel checks, so one right code verifies
 *             once and wrong codes each spend one attempt) + consume the code + insert an audit event
 * Statements are named (prepared once per connection). The policy (attempt budget, TTLs) is
 * constants, as a cached policy would be. The code is an HMAC-SHA-256 with a process key over the
 * flow id and the code, compared in SQL against the newest unconsumed, unexpired code of the flow.
 * No schema library, no logging, no risk scoring, no rate-limit counters, no JWS assertion, no
 * audit sealing. Each answer carries `x-sql-statements` (statements run), as Callwarden's dev mode does.
 *
 *   POST /v1/tenants/:tenant/verifications                  {customerId, interactionId}  -> 201 {id, state}
 *   POST /v1/tenants/:tenant/verifications/:id/codes        {contactId, channel: email}  -> 200 {sent: true}
 *   POST /v1/tenants/:tenant/verifications/:id/codes/check  {code}                       -> 200 {state: 'verified'} | 400 invalid_code
 */
import { createHmac, randomBytes, randomInt, randomUUID } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import pg from 'pg';
import { floorTokenHash } from './lib/verification-floor-schema.js';

const ATTEMPTS = 5;
const FLOW_TTL_MS = 10 * 60_000;
const CODE_TTL_MS = 5 * 60_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const SESSION_SQL = `
SELECT s.tenant_id, s.user_id, u.roles
  FROM sessions s JOIN users u ON u.id = s.user_id JOIN tenants t ON t.id = s.tenant_id
 WHERE s.token_hash = $1 AND t.slug = $2 AND s.revoked_at IS NULL AND s.expires_at > $3 AND u.status = 'active'`;

// $1 customer, $2 tenant, $3 flow id, $4 interaction, $5 agent, $6 budget, $7 now, $8 expiry, $9 ip, $10 user agent, $11 request id
const START_SQL = `
WITH c AS (SELECT id FROM customers WHERE id = $1 AND tenant_id = $2),
f AS (
  INSERT INTO verifications (id, tenant_id, customer_id, interaction_id, started_by, state, attempts_initial, attempts_left, created_at, updated_at, expires_at)
  SELECT $3, $2, c.id, $4, $5, 'pending', $6, $6, $7, $7, $8 FROM c
  RETURNING id, customer_id, expires_at),
a AS (
  INSERT INTO audit_events (tenant_id, occurred_at, type, outcome, actor_type, actor_id, target_type, target_id, ip, user_agent, channel, request_id, data)
  SELECT $2, $7, 'verification.started', 'success', 'user', $5::text, 'customer', f.customer_id::text, $9, $10, 'api', $11,
         jsonb_build_object('verificationId', f.id, 'interactionId', $4::text) FROM f)
SELECT id, expires_at FROM f`;

// $1 flow, $2 tenant, $3 now, $4 contact, $5 code id, $6 code hmac, $7 code expiry, $8 message id, $9 body, $10 agent, $11 ip, $12 user agent, $13 request id
const SEND_SQL = `
WITH f AS (SELECT id, customer_id FROM verifications WHERE id = $1 AND tenant_id = $2 AND state = 'pending' AND expires_at > $3),
k AS (SELECT ct.id, ct.value FROM customer_contacts ct JOIN f ON ct.customer_id = f.customer_id WHERE ct.id = $4 AND ct.kind = 'email'),
code AS (
  INSERT INTO verification_codes (id, verification_id, tenant_id, contact_id, channel, code_hash, created_at, expires_at)
  SELECT $5, f.id, $2, k.id, 'email', $6, $3, $7 FROM f, k
  RETURNING id, verification_id, contact_id),
o AS (
  INSERT INTO outbox (id, tenant_id, channel, recipient, template, subject, body, created_at, next_attempt_at)
  SELECT $8, $2, 'email', k.value, 'verification_code', 'Your verification code', $9, $3, $3 FROM k, code),
a AS (
  INSERT INTO audit_events (tenant_id, occurred_at, type, outcome, actor_type, actor_id, target_type, target_id, ip, user_agent, channel, request_id, data)
  SELECT $2, $3, 'verification.code_sent', 'success', 'user', $10::text, 'verification', code.verification_id::text, $11, $12, 'api', $13,
         jsonb_build_object('channel', 'email', 'contactId', code.contact_id) FROM code)
SELECT (SELECT id FROM f) AS flow, (SELECT id FROM code) AS code`;

// $1 flow, $2 tenant, $3 now, $4 answer's hmac, $5 agent, $6 ip, $7 user agent, $8 request id
const CHECK_SQL = `
WITH latest AS (
  SELECT id, code_hash FROM verification_codes
   WHERE verification_id = $1 AND consumed_at IS NULL AND expires_at > $3
   ORDER BY created_at DESC LIMIT 1),
m AS (SELECT (SELECT id FROM latest WHERE code_hash = $4) AS code_id),
f AS (
  UPDATE verifications v SET
    attempts_left     = CASE WHEN m.code_id IS NOT NULL THEN v.attempts_left ELSE v.attempts_left - 1 END,
    state             = CASE WHEN m.code_id IS NOT NULL THEN 'verified' WHEN v.attempts_left <= 1 THEN 'failed' ELSE 'pending' END,
    completed_methods = CASE WHEN m.code_id IS NOT NULL THEN array_append(v.completed_methods, 'email_code') ELSE v.completed_methods END,
    verified_at       = CASE WHEN m.code_id IS NOT NULL THEN $3 END,
    updated_at        = $3
  FROM m
  WHERE v.id = $1 AND v.tenant_id = $2 AND v.state = 'pending' AND v.expires_at > $3 AND v.attempts_left > 0
  RETURNING v.id, v.state, v.attempts_left, m.code_id),
c AS (UPDATE verification_codes SET consumed_at = $3 WHERE id = (SELECT code_id FROM f) AND consumed_at IS NULL RETURNING id),
a AS (
  INSERT INTO audit_events (tenant_id, occurred_at, type, outcome, actor_type, actor_id, target_type, target_id, ip, user_agent, channel, request_id, data)
  SELECT $2, $3, 'verification.code_checked', CASE WHEN f.code_id IS NOT NULL THEN 'success' ELSE 'failure' END, 'user', $5::text,
         'verification', f.id::text, $6, $7, 'api', $8, jsonb_build_object('state', f.state, 'attemptsLeft', f.attempts_left) FROM f)
SELECT f.state, f.attempts_left, f.code_id IS NOT NULL AS matched, (SELECT count(*) FROM c)::int AS consumed FROM f`;

class Refused extends Error {
  constructor(readonly status: number, readonly code: string, readonly extra: Record<string, unknown> = {}) {
    super(code);
  }
}

export interface Floor {
  url: string;
  close(): Promise<void>;
}

export const FLOOR_POOL_SIZE = 10; // the same as Callwarden's pg.Pool (src/storage/db.ts)

export async function startFloor(o: { databaseUrl: string; host?: string; poolSize?: number }): Promise<Floor> {
  const pool = new pg.Pool({ connectionString: o.databaseUrl, max: o.poolSize ?? FLOOR_POOL_SIZE, application_name: 'callwarden-bench-floor' });
  pool.on('error', () => undefined);
  const key = randomBytes(32);
  const hmac = (flowId: string, code: string) => createHmac('sha256', key).update(`${flowId}:${code}`).digest();

  /** One request's statements, counted for x-sql-statements. */
  class Sql {
    n = 0;
    async q<R extends pg.QueryResultRow>(name: string, text: string, values: unknown[]): Promise<R[]> {
      this.n++;
      return (await pool.query<R>({ name, text, values })).rows;
    }
  }

  const agent = async (sql: Sql, req: FastifyRequest, now: Date): Promise<{ tenantId: string; userId: string }> => {
    const h = req.headers.authorization;
    if (!h || h.length < 8 || h.slice(0, 7).toLowerCase() !== 'bearer ') throw new Refused(401, 'unauthenticated');
    const tenant = (req.params as { tenant: string }).tenant;
    const [row] = await sql.q<{ tenant_id: string; user_id: string; roles: string[] }>('floor_session', SESSION_SQL, [floorTokenHash(h.slice(7).trim()), tenant, now]);
    if (!row) throw new Refused(401, 'unauthenticated');
    if (!row.roles.includes('agent')) throw new Refused(403, 'forbidden');
    return { tenantId: row.tenant_id, userId: row.user_id };
  };
  const str = (v: unknown, name: string, max = 200): string => {
    if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new Refused(400, 'validation_failed', { field: name });
    return v;
  };
  const id = (v: unknown, name: string): string => {
    if (typeof v !== 'string' || !UUID.test(v)) throw new Refused(400, 'validation_failed', { field: name });
    return v;
  };
  const origin = (req: FastifyRequest) => [req.ip, (req.headers['user-agent'] ?? '').slice(0, 400), String(req.id)];
  const handle = (fn: (sql: Sql, req: FastifyRequest, body: Record<string, unknown>) => Promise<{ status: number; body: unknown }>) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      const sql = new Sql();
      try {
        const body = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
        const r = await fn(sql, req, body);
        return reply.status(r.status).header('x-sql-statements', String(sql.n)).send(r.body);
      } catch (e) {
        if (e instanceof Refused) return reply.status(e.status).header('x-sql-statements', String(sql.n)).send({ error: { code: e.code, ...e.extra } });
        throw e;
      }
    };

  const app = Fastify({ logger: false });
  app.post('/v1/tenants/:tenant/verifications', handle(async (sql, req, body) => {
    const customerId = id(body.customerId, 'customerId');
    const interactionId = str(body.interactionId, 'interactionId');
    const now = new Date();
    const who = await agent(sql, req, now);
    const flowId = randomUUID();
    const rows = await sql.q<{ id: string; expires_at: Date }>('floor_start', START_SQL, [
      customerId, who.tenantId, flowId, interactionId, who.userId, ATTEMPTS, now, new Date(now.getTime() + FLOW_TTL_MS), ...origin(req),
    ]);
    if (!rows[0]) throw new Refused(404, 'not_found');
    return { status: 201, body: { id: flowId, state: 'pending', attemptsLeft: ATTEMPTS, expiresAt: rows[0].expires_at.toISOString() } };
  }));
  app.post('/v1/tenants/:tenant/verifications/:id/codes', handle(async (sql, req, body) => {
    const flowId = id((req.params as { id: string }).id, 'id');
    const contactId = id(body.contactId, 'contactId');
    if (body.channel !== 'email') throw new Refused(400, 'validation_failed', { field: 'channel' });
    const now = new Date();
    const who = await agent(sql, req, now);
    const code = String(randomInt(1_000_000)).padStart(6, '0');
    const [row] = await sql.q<{ flow: string | null; code: string | null }>('floor_send', SEND_SQL, [
      flowId, who.tenantId, now, contactId, randomUUID(), hmac(flowId, code), new Date(now.getTime() + CODE_TTL_MS), randomUUID(),
      `Your verification code is ${code}. It expires in 5 minutes.`, who.userId, ...origin(req),
    ]);
    if (!row?.flow) throw new Refused(404, 'not_found');
    if (!row.code) throw new Refused(404, 'contact_not_found');
    return { status: 200, body: { sent: true, channel: 'email', contactId } };
  }));
  app.post('/v1/tenants/:tenant/verifications/:id/codes/check', handle(async (sql, req, body) => {
    const flowId = id((req.params as { id: string }).id, 'id');
    const code = str(body.code, 'code', 10);
    if (!/^\d{6}$/.test(code)) throw new Refused(400, 'validation_failed', { field: 'code' });
    const now = new Date();
    const who = await agent(sql, req, now);
    const [row] = await sql.q<{ state: string; attempts_left: number; matched: boolean; consumed: number }>('floor_check', CHECK_SQL, [
      flowId, who.tenantId, now, hmac(flowId, code), who.userId, ...origin(req),
    ]);
    if (!row) throw new Refused(409, 'not_pending');
    if (!row.matched) throw new Refused(400, 'invalid_code', { state: row.state, attemptsLeft: row.attempts_left });
    if (row.consumed !== 1) throw new Refused(409, 'code_used');
    return { status: 200, body: { id: flowId, state: row.state, attemptsLeft: row.attempts_left } };
  }));
  const url = await app.listen({ host: o.host ?? '127.0.0.1', port: 0 });
  return {
    url,
    close: async () => {
      await app.close();
      await pool.end();
    },
  };
}
