/**
 * Reading the audit log: filtered pages newest first (with an id cursor) for screens and the API, and
 * a paged JSON-lines export oldest first. Rows come out as plain JSON-ready objects (ISO dates) that
 * keep the chain fields, so an export can be checked against the chain.
 */
import { sql, type Selectable } from 'kysely';
import type { Db } from '../storage/db.js';
import type { AuditEventsTable } from '../storage/schema.js';
import { occurredMicrosSql } from './canonical.js';

export interface AuditFilter {
  tenantId: string;
  /** occurred_at >= from */
  from?: Date | string;
  /** occurred_at < to */
  to?: Date | string;
  type?: string;
  actorId?: string;
  outcome?: string;
}

export interface AuditQuery extends AuditFilter {
  /** Default 100, at most 1000. */
  limit?: number;
  /** Cursor: only events with a smaller id (pass the last id of the previous page). */
  before?: number;
}

export interface AuditRecord {
  id: number;
  tenantId: string;
  occurredAt: string;
  type: string;
  outcome: string;
  actorType: string;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  channel: string | null;
  requestId: string | null;
  data: unknown;
  chainSeq: number | null;
  prevHash: string | null;
  hash: string | null;
  /** The stored time in microseconds since the epoch (occurredAt is to the millisecond). */
  occurredUs: string;
  /** The event's nonce, MAC and MAC key id (src/audit/mac.ts); null on events from before MACs. */
  nonce: string | null;
  mac: string | null;
  macKeyId: string | null;
}

export const DEFAULT_QUERY_LIMIT = 100;
export const MAX_QUERY_LIMIT = 1000;

/** One page of events, newest first. */
export async function queryEvents(db: Db, q: AuditQuery): Promise<AuditRecord[]> {
  const limit = q.limit === undefined || !Number.isFinite(q.limit) ? DEFAULT_QUERY_LIMIT : Math.min(MAX_QUERY_LIMIT, Math.max(1, Math.trunc(q.limit)));
  let sel = filtered(db, q).orderBy('id', 'desc').limit(limit);
  if (q.before !== undefined) sel = sel.where('id', '<', q.before);
  return (await sel.execute()).map(toRecord);
}

/** The matching events oldest first as JSON lines (each string is one event and ends in "\n"). */
export async function* exportEvents(db: Db, filter: AuditFilter & { pageSize?: number }): AsyncIterable<string> {
  const pageSize = Math.max(1, Math.trunc(filter.pageSize ?? 500));
  let after: number | null = null;
  for (;;) {
    let sel = filtered(db, filter).orderBy('id', 'asc').limit(pageSize);
    if (after !== null) sel = sel.where('id', '>', after);
    const rows = await sel.execute();
    for (const row of rows) yield `${JSON.stringify(toRecord(row))}\n`;
    const lastRow = rows.at(-1);
    if (rows.length < pageSize || !lastRow) return;
    after = Number(lastRow.id);
  }
}

function filtered(db: Db, f: AuditFilter) {
  let sel = db.selectFrom('audit_events').selectAll().select(sql<string>`${sql.raw(occurredMicrosSql())}`.as('occurred_us')).where('tenant_id', '=', f.tenantId);
  if (f.from !== undefined) sel = sel.where('occurred_at', '>=', toDate(f.from, 'from'));
  if (f.to !== undefined) sel = sel.where('occurred_at', '<', toDate(f.to, 'to'));
  if (f.type !== undefined) sel = sel.where('type', '=', f.type);
  if (f.actorId !== undefined) sel = sel.where('actor_id', '=', f.actorId);
  if (f.outcome !== undefined) sel = sel.where('outcome', '=', f.outcome);
  return sel;
}

function toDate(v: Date | string, name: string): Date {
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) throw new RangeError(`audit query: ${name} is not a valid time: ${String(v)}`);
  return d;
}

function toRecord(r: Selectable<AuditEventsTable> & { occurred_us: string }): AuditRecord {
  return {
    id: Number(r.id),
    tenantId: r.tenant_id,
    occurredAt: r.occurred_at.toISOString(),
    type: r.type,
    outcome: r.outcome,
    actorType: r.actor_type,
    actorId: r.actor_id,
    targetType: r.target_type,
    targetId: r.target_id,
    ip: r.ip,
    userAgent: r.user_agent,
    channel: r.channel,
    requestId: r.request_id,
    data: r.data,
    chainSeq: r.chain_seq === null ? null : Number(r.chain_seq),
    prevHash: r.prev_hash,
    hash: r.hash,
    occurredUs: r.occurred_us,
    nonce: r.nonce,
    mac: r.mac,
    macKeyId: r.mac_key_id,
  };
}
