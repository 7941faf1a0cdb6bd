/**
 * What the engine writes after a check, each in ONE statement (so a request costs one commit):
 *  - `recordSuccess`: the method's effects (a TOTP step spent, a recovery code used, a credential
 *    activated), the flow's advance (state, methods, refund, ceremony, token), the counter reset, the
 *    audit events and the kind's completion writes (session, assertion id, outbox rows). A guard makes
 *    the whole statement fail, writing nothing, when an effect was already spent or the flow moved:
 *    the request lost a race (or replayed an answer) and is told so;
 *  - `recordFailure`: the checked wrong answer on the counter (and the PCI lock), the flow's ceremony
 *    change (a question marked failed), the audit event;
 *  - `release`: an attempt refused before any check (throttled, locked, a replay): the check leaves
 *    the in-flight count and the flow gets its attempt back; never a failure.
 */
import { sql, type RawBuilder } from 'kysely';
import type { FlowRecord } from '../../engine/flow.js';
import type { Effect } from '../../engine/method.js';
import type { Db } from '../db.js';
import { auditRow, type AuditEvent } from './audit.js';

/** Rows for jsonb_populate_recordset: dates as ISO text, bytes as \x hex, JSON columns as JSON. */
function recordsetJson(rows: Array<Record<string, unknown>>, jsonColumns: readonly string[]): string {
  return JSON.stringify(
    rows.map((r) =>
      Object.fromEntries(
        Object.entries(r).map(([k, v]) => {
          if (v instanceof Date) return [k, v.toISOString()];
          if (Buffer.isBuffer(v)) return [k, `\\x${v.toString('hex')}`];
          if (jsonColumns.includes(k) && typeof v === 'string') return [k, JSON.parse(v)];
          return [k, v];
        }),
      ),
    ),
  );
}

/** INSERT of many rows of `table` from one JSON parameter (one statement however many rows). */
export function insertRows(table: string, rows: Array<Record<string, unknown>>, jsonColumns: readonly string[] = []): RawBuilder<unknown> {
  const cols = Object.keys(rows[0] ?? {});
  const list = sql.join(cols.map((c) => sql.ref(c)));
  return sql`INSERT INTO ${sql.table(table)} (${list}) SELECT ${list} FROM jsonb_populate_recordset(NULL::${sql.table(table)}, ${recordsetJson(rows, jsonColumns)}::jsonb)`;
}

export const auditInsert = (events: AuditEvent[]) => insertRows('audit_events', events.map(auditRow), ['data']);

/** A write a completion adds to the success statement; `required` ones must touch a row. */
export interface ExtraWrite {
  name: string;
  sql: RawBuilder<unknown>;
  /** The statement fails (nothing written) when this write touches no row (it must RETURNING 1). */
  required?: boolean;
  /** Its first returned row comes back with the flow (in `extras[name]`). */
  returns?: boolean;
}

function effectSql(e: Effect, now: Date): RawBuilder<unknown> {
  switch (e.kind) {
    case 'totp_step':
      return sql`INSERT INTO totp_used_steps (subject_id, step, used_at) VALUES (${e.subjectId}, ${e.step}, ${now}) ON CONFLICT DO NOTHING RETURNING 1`;
    case 'recovery_code':
      return sql`UPDATE recovery_codes SET used_at = ${now} WHERE credential_id = ${e.credentialId} AND subject_id = ${e.subjectId} AND code_hash = ${e.codeHash} AND used_at IS NULL RETURNING 1`;
    case 'activate_credential':
      return sql`UPDATE credentials SET status = 'active', confirmed_at = ${now}, last_used_at = ${now} WHERE id = ${e.credentialId} AND subject_id = ${e.subjectId} AND status = 'pending' RETURNING 1`;
    case 'create_credential':
      // a credential ID already bound (the same key registered twice, or a race) writes nothing
      return sql`INSERT INTO credentials (id, tenant_id, subject_type, subject_id, kind, label, status, material, sign_count, external_id, meta, created_at, confirmed_at)
                 VALUES (${e.id}, ${e.tenantId}, ${e.subjectType}, ${e.subjectId}, ${e.credentialKind}, ${e.label}, 'active', ${e.material}, ${e.signCount}, ${e.externalId}, ${JSON.stringify(e.meta)}::jsonb, ${now}, ${now})
                 ON CONFLICT DO NOTHING RETURNING 1`;
    case 'sign_count':
      return sql`UPDATE credentials SET sign_count = ${e.to}, last_used_at = ${now} ${e.meta ? sql`, meta = meta || ${JSON.stringify(e.meta)}::jsonb` : sql``}
                 WHERE id = ${e.credentialId} AND subject_id = ${e.subjectId} AND status = 'active' AND sign_count = ${e.from} RETURNING 1`;
    case 'flag_credential':
      return sql`UPDATE credentials SET meta = jsonb_set(meta, '{flags}', coalesce(meta -> 'flags', '{}'::jsonb) || jsonb_build_object(${e.flag}::text, ${now.toISOString()}::text))
                 WHERE id = ${e.credentialId} AND subject_id = ${e.subjectId} RETURNING 1`;
  }
}

/** The last-use stamp of the credential an effect used (not a guard). */
function stampSql(e: Effect, now: Date): RawBuilder<unknown> | null {
  return e.kind === 'totp_step' || e.kind === 'recovery_code' ? sql`UPDATE credentials SET last_used_at = ${now} WHERE id = ${e.credentialId} RETURNING 1` : null;
}

export interface Advance {
  id: string;
  from: { state: string; secretHash?: Buffer | null; requireMethodAbsent?: string };
  to: {
    state: string;
    secretHash?: Buffer | null;
    method: string;
    subject?: { type: 'user' | 'customer'; id: string };
    requiredLevel?: string;
    /** Ceremony slots to remove and to set. */
    clearSlots?: string[];
    setSlots?: Record<string, unknown>;
    resultId?: string;
    context?: Record<string, unknown>;
  };
  /** The claim's attempt comes back (a success, or an answer that was not checked). */
  refund: boolean;
  counterSubject: string | null;
  effects: Effect[];
  events: AuditEvent[];
  extra?: ExtraWrite[];
  now: Date;
}

const GUARD = '22012'; // division_by_zero: the guard's way of failing the statement

export function isGuardFailure(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: string }).code === GUARD;
}

export type Recorded = FlowRecord & { extras: Record<string, Record<string, unknown> | null> };

/** One statement; undefined when the guard failed (nothing was written). */
export async function recordSuccess(db: Db, a: Advance): Promise<Recorded | undefined> {
  const ctes: RawBuilder<unknown>[] = [];
  const required: string[] = [];
  a.effects.forEach((e, i) => {
    ctes.push(sql`${sql.ref(`e${i}`)} AS (${effectSql(e, a.now)})`);
    required.push(`e${i}`);
    const stamp = stampSql(e, a.now);
    if (stamp) ctes.push(sql`${sql.ref(`s${i}`)} AS (${stamp})`);
  });
  const spent = required.map((n) => sql`AND EXISTS (SELECT 1 FROM ${sql.table(n)})`);
  const t = a.to;
  ctes.push(sql`adv AS (
    UPDATE flows SET
      state = ${t.state},
      ${t.secretHash !== undefined ? sql`secret_hash = ${t.secretHash},` : sql``}
      ${t.subject ? sql`subject_type = ${t.subject.type}, subject_id = ${t.subject.id},` : sql``}
      completed_methods = CASE WHEN ${t.method}::text = ANY(completed_methods) THEN completed_methods ELSE array_append(completed_methods, ${t.method}::text) END,
      attempts_left = LEAST(attempts_left + ${a.refund ? 1 : 0}, attempts_initial),
      ${a.refund ? sql`in_flight = GREATEST(in_flight - 1, 0),` : sql``}
      ${t.requiredLevel !== undefined ? sql`required_level = ${t.requiredLevel},` : sql``}
      ceremony = (ceremony - ${t.clearSlots ?? []}::text[]) || ${JSON.stringify(t.setSlots ?? {})}::jsonb,
      ${t.context ? sql`context = context || ${JSON.stringify(t.context)}::jsonb,` : sql``}
      ${t.resultId ? sql`result_id = ${t.resultId},` : sql``}
      completed_at = CASE WHEN ${t.state} = 'completed' THEN ${a.now}::timestamptz ELSE completed_at END,
      updated_at = ${a.now}
    WHERE id = ${a.id} AND state = ${a.from.state}
      ${a.from.secretHash ? sql`AND secret_hash = ${a.from.secretHash}` : sql``}
      ${a.from.requireMethodAbsent ? sql`AND NOT (${a.from.requireMethodAbsent}::text = ANY(completed_methods))` : sql``}
      ${sql.join(spent, sql` `)}
    RETURNING *)`);
  required.push('adv');
  if (a.counterSubject) ctes.push(sql`rst AS (DELETE FROM attempt_counters WHERE subject = ${a.counterSubject} RETURNING 1)`);
  if (a.events.length) ctes.push(sql`ev AS (${auditInsert(a.events)} RETURNING 1)`);
  for (const x of a.extra ?? []) {
    ctes.push(sql`${sql.ref(x.name)} AS (${x.sql})`);
    if (x.required) required.push(x.name);
  }
  const guard = sql.join(required.map((n) => sql`(SELECT count(*) FROM ${sql.table(n)})`), sql` * `);
  const returned = (a.extra ?? []).filter((x) => x.returns).map((x) => sql`(SELECT row_to_json(r) FROM ${sql.table(x.name)} r LIMIT 1) AS ${sql.ref(`x_${x.name}`)}`);
  try {
    const r = await sql<Record<string, unknown>>`
      WITH ${sql.join(ctes)}
      SELECT adv.*, (SELECT 1 / (${guard})::int) AS x_guard ${returned.length ? sql`, ${sql.join(returned)}` : sql``}
      FROM (SELECT 1) one LEFT JOIN adv ON true`.execute(db);
    const row = r.rows[0];
    if (!row) return undefined;
    const extras: Recorded['extras'] = {};
    const flow: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) {
      if (k === 'x_guard') continue;
      if (k.startsWith('x_')) extras[k.slice(2)] = v as Record<string, unknown> | null;
      else flow[k] = v;
    }
    return { ...(flow as unknown as FlowRecord), extras };
  } catch (e) {
    if (isGuardFailure(e)) return undefined;
    throw e;
  }
}

/**
 * A checked wrong answer: one statement. Returns the failures after it. The flow row is locked
 * before the counter row, in the order the claim takes them (flow, then counter), so parallel
 * claims and failures of one flow never deadlock.
 */
export async function recordFailure(
  db: Db,
  a: { flowId: string; counterSubject: string | null; lockUntil: Date | null; clearSlots?: string[]; setSlots?: Record<string, unknown>; effects?: Effect[]; events: AuditEvent[]; now: Date },
): Promise<number> {
  const ctes: RawBuilder<unknown>[] = [
    ...(a.effects ?? []).map((e, i) => sql`${sql.ref(`fx${i}`)} AS (${effectSql(e, a.now)})`),
    sql`fl AS (UPDATE flows SET ceremony = (ceremony - ${a.clearSlots ?? []}::text[]) || ${JSON.stringify(a.setSlots ?? {})}::jsonb, in_flight = GREATEST(in_flight - 1, 0), updated_at = ${a.now} WHERE id = ${a.flowId} RETURNING 1)`,
  ];
  if (a.counterSubject) {
    // `(SELECT count(*) FROM fl) >= 0` makes the flow's update run (and lock) first
    ctes.push(sql`ctr AS (UPDATE attempt_counters SET failures = failures + 1, last_failure_at = ${a.now}, in_flight = GREATEST(in_flight - 1, 0),
      locked_until = coalesce(${a.lockUntil}::timestamptz, locked_until) WHERE subject = ${a.counterSubject} AND (SELECT count(*) FROM fl) >= 0 RETURNING failures)`);
  }
  if (a.events.length) ctes.push(sql`ev AS (${auditInsert(a.events)} RETURNING 1)`);
  const r = await sql<{ failures: number | null }>`WITH ${sql.join(ctes)} SELECT (SELECT count(*) FROM fl) AS touched, ${a.counterSubject ? sql`(SELECT failures FROM ctr)` : sql`NULL::int`} AS failures`.execute(db);
  return Number(r.rows[0]?.failures ?? 0);
}

/**
 * An attempt refused before (or instead of) a check: back out of the in-flight count, refund, audit.
 * The flow (when refunded) is locked before the counter, as in the claim.
 */
export async function release(db: Db, a: { flowId: string; counterSubject: string | null; refund: boolean; inFlight: boolean; events: AuditEvent[]; now: Date }): Promise<void> {
  const ctes: RawBuilder<unknown>[] = [];
  const sets = [...(a.refund ? [sql`attempts_left = LEAST(attempts_left + 1, attempts_initial)`] : []), ...(a.inFlight ? [sql`in_flight = GREATEST(in_flight - 1, 0)`] : [])];
  if (sets.length) ctes.push(sql`fl AS (UPDATE flows SET ${sql.join(sets)} WHERE id = ${a.flowId} RETURNING 1)`);
  if (a.counterSubject) {
    ctes.push(sql`ctr AS (UPDATE attempt_counters SET in_flight = GREATEST(in_flight - 1, 0) WHERE subject = ${a.counterSubject} ${sets.length ? sql`AND (SELECT count(*) FROM fl) >= 0` : sql``} RETURNING 1)`);
  }
  if (a.events.length) ctes.push(sql`ev AS (${auditInsert(a.events)} RETURNING 1)`);
  if (!ctes.length) return;
  await sql`WITH ${sql.join(ctes)} SELECT ${sets.length ? sql`(SELECT count(*) FROM fl)` : sql`1`} AS touched`.execute(db);
}

/**
 * A ceremony slot set on a flow still open (a code sent, a question asked), with the rows that go
 * with it (the outbox message) and its events, in one statement; false (nothing written) when the
 * flow is no longer open.
 */
export async function writeChallenge(
  db: Db,
  a: { flowId: string; states: readonly string[]; setSlots: Record<string, unknown>; events: AuditEvent[]; extra?: ExtraWrite[]; now: Date },
): Promise<boolean> {
  const ctes: RawBuilder<unknown>[] = [
    sql`fl AS (UPDATE flows SET ceremony = ceremony || ${JSON.stringify(a.setSlots)}::jsonb, updated_at = ${a.now}
        WHERE id = ${a.flowId} AND state = ANY(${[...a.states]}::text[]) AND expires_at > ${a.now} AND attempts_left > 0 RETURNING 1)`,
  ];
  if (a.events.length) ctes.push(sql`ev AS (${auditInsert(a.events)} RETURNING 1)`);
  for (const x of a.extra ?? []) ctes.push(sql`${sql.ref(x.name)} AS (${x.sql})`);
  try {
    await sql`WITH ${sql.join(ctes)} SELECT (SELECT 1 / (SELECT count(*) FROM fl)::int) AS guard`.execute(db);
    return true;
  } catch (e) {
    if (isGuardFailure(e)) return false;
    throw e;
  }
}
