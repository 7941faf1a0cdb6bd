/** The checks every fault scenario ends with: nothing half-written, no committed event lost, the audit chain verifies. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { verifyChain, type VerifyReport } from '../../src/audit/verify.js';
import type { Db } from '../../src/storage/db.js';
import { call, freePort, type CallOptions, type Reply, type Target } from '../multi-instance/cluster.js';

// ---------------------------------------------------------------------------------------------
// Checks

/** Waits until every audit event is sealed (by whichever sealer runs), then verifies the chains. */
export async function sealedAndVerified(db: Db, timeoutMs = 15_000): Promise<{ report: VerifyReport; unsealed: number; sealed: number; waitedMs: number }> {
  const t0 = Date.now();
  let unsealed = -1;
  while (Date.now() - t0 < timeoutMs) {
    unsealed = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_events WHERE chain_seq IS NULL`.execute(db)).rows[0]!.n;
    if (unsealed === 0) break;
    await sleep(100);
  }
  const report = await verifyChain(db);
  return { report, unsealed, sealed: report.tenants.reduce((n, t) => n + t.sealed, 0), waitedMs: Date.now() - t0 };
}

/** What a client saw committed: a 2xx answer and the audit event types that answer promises. */
export interface Seen {
  requestId: string;
  types: string[];
  targetId?: string;
}

/** The events of `seen` missing from audit_events (matched on request id and type). */
export async function missingEvents(db: Db, seen: Seen[]): Promise<Seen[]> {
  if (seen.length === 0) return [];
  const rows = await sql<{ request_id: string; type: string; target_id: string | null }>`
    SELECT request_id, type, target_id FROM audit_events WHERE request_id = ANY(${seen.map((s) => s.requestId)}::text[])`.execute(db);
  const have = new Set(rows.rows.map((r) => `${r.request_id} ${r.type}`));
  return seen.filter((s) => s.types.some((t) => !have.has(`${s.requestId} ${t}`)));
}

export interface VerificationAudit {
  verifications: number;
  byState: Record<string, number>;
  /** Flows whose rows disagree with each other: described one per line. */
  problems: string[];
  /** Flows created but never reported to a client (a crash between the row and its event): pending, no code, no event. */
  abandoned: number;
}

/**
 * Every caller verification of the tenant must be whole: verified <=> verified_at and assertion id set
 * <=> the level's method recorded <=> its code consumed <=> one `verification.verified` event;
 * a pending flow has no recorded method and no consumed code; every code row has its outbox message
 * (each customer here has a phone number of its own) and its `verification.code_sent` event.
 */
export async function verificationConsistency(db: Db, tenantSlug: string): Promise<VerificationAudit> {
  const rows = await sql<{
    id: string;
    state: string;
    completed_methods: string[];
    verified_at: Date | null;
    assertion_id: string | null;
    attempts_left: number;
    codes: number;
    consumed: number;
    started_events: number;
    verified_events: number;
    step_successes: number;
    code_sent_events: number;
  }>`
    SELECT v.id, CASE WHEN v.state = 'completed' THEN 'verified' ELSE v.state END AS state, v.completed_methods,
      v.completed_at AS verified_at, v.result_id AS assertion_id, v.attempts_left,
      -- the flow's code lives in its otp ceremony slot (one live code; a resend replaces it)
      (CASE WHEN v.ceremony ? 'otp' THEN 1 ELSE 0 END) AS codes,
      (CASE WHEN v.ceremony -> 'otp' ->> 'consumedAt' IS NOT NULL THEN 1 ELSE 0 END) AS consumed,
      (SELECT count(*)::int FROM audit_events e WHERE e.target_id = v.id::text AND e.type = 'verification.started') AS started_events,
      (SELECT count(*)::int FROM audit_events e WHERE e.target_id = v.id::text AND e.type = 'verification.verified') AS verified_events,
      (SELECT count(*)::int FROM audit_events e WHERE e.target_id = v.id::text AND e.type = 'verification.step' AND e.outcome = 'success') AS step_successes,
      (SELECT count(*)::int FROM audit_events e WHERE e.target_id = v.id::text AND e.type = 'verification.code_sent') AS code_sent_events
    FROM flows v JOIN tenants t ON t.id = v.tenant_id
    WHERE t.slug = ${tenantSlug} AND v.kind = 'verification'`.execute(db);
  const problems: string[] = [];
  const byState: Record<string, number> = {};
  let abandoned = 0;
  for (const v of rows.rows) {
    byState[v.state] = (byState[v.state] ?? 0) + 1;
    const say = (what: string) => problems.push(`${v.id} (${v.state}, methods ${JSON.stringify(v.completed_methods)}, codes ${v.codes}, consumed ${v.consumed}, events started/step/verified ${v.started_events}/${v.step_successes}/${v.verified_events}): ${what}`);
    if (v.state === 'verified') {
      if (!v.verified_at || !v.assertion_id) say('verified without verified_at or assertion id');
      if (!v.completed_methods.includes('otp_sms')) say('verified without the method recorded');
      if (v.consumed !== 1) say('verified, but not exactly one code consumed');
      if (v.verified_events !== 1) say('verified, but not exactly one verification.verified event');
      if (v.step_successes < 1) say('verified without a successful step event');
    } else if (v.state === 'pending') {
      if (v.completed_methods.length) say('pending with a method recorded (the level is met by one code)');
      if (v.consumed) say('pending with a consumed code');
      if (v.verified_at || v.assertion_id) say('pending with verification stamps');
      if (v.verified_events || v.step_successes) say('pending with success events');
      if (v.started_events === 0) {
        if (v.codes === 0) abandoned++;
        else say('codes sent for a flow with no verification.started event');
      }
    } else say(`unexpected state ${v.state}`);
    if (v.started_events > 1) say('more than one verification.started event');
    // the slot keeps the newest code (a resend replaces it): a code means at least one code_sent event
    if ((v.codes > 0) !== (v.code_sent_events > 0)) say(`${v.codes} live codes but ${v.code_sent_events} verification.code_sent events`);
  }
  // every code sent has its message: per phone number, as many outbox messages as code_sent events
  // (the code, its message and its event are written in one statement)
  const pairs = await sql<{ recipient: string; codes: number; messages: number }>`
    WITH c AS (
      SELECT ct.value AS recipient, count(*)::int AS n FROM audit_events e JOIN customer_contacts ct ON ct.id::text = e.data->>'contactId'
      JOIN tenants t ON t.id = e.tenant_id WHERE t.slug = ${tenantSlug} AND e.type = 'verification.code_sent' GROUP BY ct.value
    ), m AS (
      SELECT o.recipient, count(*)::int AS n FROM outbox o JOIN tenants t ON t.id = o.tenant_id
      WHERE t.slug = ${tenantSlug} AND o.template LIKE 'verification_code_%' GROUP BY o.recipient
    )
    SELECT coalesce(c.recipient, m.recipient) AS recipient, coalesce(c.n, 0) AS codes, coalesce(m.n, 0) AS messages
    FROM c FULL JOIN m ON m.recipient = c.recipient`.execute(db);
  for (const p of pairs.rows) if (p.codes !== p.messages) problems.push(`${p.recipient}: ${p.codes} codes sent but ${p.messages} outbox messages`);
  return { verifications: rows.rows.length, byState, problems, abandoned };
}

export interface SigninAudit {
  flows: number;
  byState: Record<string, number>;
  problems: string[];
  /**
   * Flows marked completed whose session was never issued: the connection died between the flow's
   * step and the session's statement (two statements; see docs/faults.md). Nothing was issued and
   * nothing logged as a success; the flow's token is gone, so the client starts again. Counted, not
   * a failure.
   */
  deadEnds: number;
}

/**
 * Every sign-in flow must be whole: a flow still at the password step has no success recorded; a
 * successful step has exactly one `auth.attempt` success event, written in one statement with its
 * session and `session.created`, so a success event always comes with its session.
 */
export async function signinConsistency(db: Db, tenantSlug: string): Promise<SigninAudit> {
  const rows = await sql<{ id: string; state: string; completed_methods: string[]; successes: number; sessions_from_flow: number }>`
    SELECT f.id, f.state, f.completed_methods,
      (SELECT count(*)::int FROM audit_events e WHERE e.target_id = f.id::text AND e.type = 'auth.attempt' AND e.outcome = 'success') AS successes,
      (SELECT count(*)::int FROM audit_events e JOIN audit_events s ON s.request_id = e.request_id AND s.type = 'session.created'
        WHERE e.target_id = f.id::text AND e.type = 'auth.attempt' AND e.outcome = 'success') AS sessions_from_flow
    FROM flows f JOIN tenants t ON t.id = f.tenant_id
    WHERE t.slug = ${tenantSlug} AND f.kind = 'signin'`.execute(db);
  const problems: string[] = [];
  const byState: Record<string, number> = {};
  let deadEnds = 0;
  for (const f of rows.rows) {
    byState[f.state] = (byState[f.state] ?? 0) + 1;
    const say = (what: string) => problems.push(`flow ${f.id} (${f.state}, methods ${JSON.stringify(f.completed_methods)}, success events ${f.successes}, sessions ${f.sessions_from_flow}): ${what}`);
    if (f.state === 'password') {
      if (f.completed_methods.length || f.successes) say('still at the password step with a success recorded');
    } else if (f.state === 'completed') {
      if (f.successes === 0 && f.sessions_from_flow === 0) deadEnds++;
      else if (f.successes !== 1 || f.sessions_from_flow !== 1) say('completed without exactly one success event and its session');
    }
  }
  return { flows: rows.rows.length, byState, problems, deadEnds };
}
