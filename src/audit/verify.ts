/**
 * The chain verifier: walks each tenant's sealed audit events by chain_seq, a page at a time, and
 * names every row whose content, link or position no longer matches what was sealed; it also
 * checks the chain head and counts the events not yet sealed (verification covers the sealed part).
 */
import { sql } from 'kysely';
import type { Db } from '../storage/db.js';
import { GENESIS_HASH, HASHED_FIELDS, canonicalJson, chainHash, eventFields, type EventFields } from './canonical.js';

export type ProblemKind = 'edited' | 'deleted' | 'reordered' | 'head_mismatch';

export interface ChainProblem {
  /** The row where the problem shows (for a deletion: the event after the gap, or the last event). */
  eventId: number | null;
  chainSeq: number | null;
  kind: ProblemKind;
  detail: string;
}

export interface TenantChainReport {
  tenantId: string;
  sealed: number;
  unsealed: number;
  headSeq: number | null;
  problems: ChainProblem[];
}

export interface VerifyReport {
  ok: boolean;
  tenants: TenantChainReport[];
}

export interface VerifyOptions {
  tenantId?: string;
  /** Rows read per query (default 1000). */
  pageSize?: number;
}

/** Rows with a bad hash kept for the swap analysis; beyond this they are reported without it. */
const MAX_SWAP_SUSPECTS = 32;

export async function verifyChain(db: Db, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const pageSize = Math.max(1, Math.trunc(opts.pageSize ?? 1000));
  const tenantIds = opts.tenantId ? [opts.tenantId] : await listTenants(db);
  const tenants: TenantChainReport[] = [];
  for (const tenantId of tenantIds) tenants.push(await verifyTenant(db, tenantId, pageSize));
  return { ok: tenants.every((t) => t.problems.length === 0), tenants };
}

/** Tenants with audit events or a chain head (a skip scan over the tenant_id index, then the heads). */
async function listTenants(db: Db): Promise<string[]> {
  const r = await sql<{ tenant_id: string }>`
    WITH RECURSIVE t AS (
      (SELECT tenant_id FROM audit_events ORDER BY tenant_id LIMIT 1)
      UNION ALL
      SELECT (SELECT e.tenant_id FROM audit_events e WHERE e.tenant_id > t.tenant_id ORDER BY e.tenant_id LIMIT 1)
      FROM t WHERE t.tenant_id IS NOT NULL
    )
    SELECT tenant_id FROM t WHERE tenant_id IS NOT NULL
    UNION
    SELECT tenant_id FROM audit_chain_heads
    ORDER BY 1`.execute(db);
  return r.rows.map((row) => row.tenant_id);
}

interface LastRow {
  id: number;
  seq: number;
  hash: string;
}

interface Suspect {
  problem: ChainProblem;
  prevHash: string;
  hash: string;
  fields: EventFields;
}

async function verifyTenant(db: Db, tenantId: string, pageSize: number): Promise<TenantChainReport> {
  const problems: ChainProblem[] = [];
  const suspects: Suspect[] = [];
  let sealed = 0;
  // (`as`: the walk closure moves it, so TypeScript must not narrow it to null here)
  let last = null as LastRow | null;
  let lastContentBad = false;

  /** Reads sealed rows after `last` until none is left; returns how many it read. */
  const walk = async (): Promise<number> => {
    let read = 0;
    for (;;) {
      let q = db
        .selectFrom('audit_events')
        .select(['id', 'tenant_id', 'chain_seq', 'occurred_at', 'type', 'outcome', 'actor_type', 'actor_id', 'target_type', 'target_id', 'ip', 'user_agent', 'channel', 'request_id', 'data', 'prev_hash', 'hash'])
        .where('tenant_id', '=', tenantId)
        .orderBy('chain_seq')
        .limit(pageSize);
      q = last ? q.where('chain_seq', '>', last.seq) : q.where('chain_seq', 'is not', null);
      const rows = await q.execute();
      for (const row of rows) {
        const id = Number(row.id);
        const seq = Number(row.chain_seq);
        const fields = eventFields({ ...row, chain_seq: seq });
        const prevHash = row.prev_hash ?? '';
        const hash = row.hash ?? '';
        const expectedSeq = (last?.seq ?? 0) + 1;
        const expectedPrev = last?.hash ?? GENESIS_HASH;

        const gap = seq > expectedSeq;
        if (gap) {
          const n = seq - expectedSeq;
          const missing = n === 1 ? `seq ${expectedSeq} is` : `seq ${expectedSeq}..${seq - 1} (${n} events) are`;
          problems.push({ eventId: id, chainSeq: seq, kind: 'deleted', detail: `${missing} missing before this event` });
        } else if (seq < expectedSeq) {
          problems.push({ eventId: id, chainSeq: seq, kind: 'reordered', detail: `chain_seq ${seq} is out of range (a chain starts at 1)` });
        }
        const linkOk = prevHash === expectedPrev;
        const contentOk = safeHash(prevHash, fields) === hash;
        if (!contentOk) {
          const moved = !linkOk && !gap;
          const problem: ChainProblem = {
            eventId: id,
            chainSeq: seq,
            kind: moved ? 'reordered' : 'edited',
            detail: moved
              ? 'hash does not match its content and prev_hash does not link to the previous event: it was moved or rewritten'
              : 'hash does not match its content',
          };
          problems.push(problem);
          if (suspects.length < MAX_SWAP_SUSPECTS) suspects.push({ problem, prevHash, hash, fields });
        } else if (!linkOk && !gap && !lastContentBad) {
          // An intact row after a replaced one is not reported again: the replaced row already is.
          const previous = last ? `the hash of event ${last.id} (seq ${last.seq})` : 'the genesis hash';
          problems.push({ eventId: id, chainSeq: seq, kind: 'reordered', detail: `prev_hash does not match ${previous}` });
        }
        lastContentBad = !contentOk;
        last = { id, seq, hash };
        sealed += 1;
        read += 1;
      }
      if (rows.length < pageSize) return read;
    }
  };

  await walk();
  // The head is read after the walk; a sealer that committed meanwhile moved it past our last row,
  // so walk on until the rows catch up with the head (or nothing more comes: a deletion at the end).
  let head = await readHead(db, tenantId);
  while (head && head.last_seq > (last?.seq ?? 0) && (await walk()) > 0) head = await readHead(db, tenantId);

  checkHead(head, last, problems);
  explainSwaps(suspects);

  const unsealed = await db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('tenant_id', '=', tenantId)
    .where('chain_seq', 'is', null)
    .executeTakeFirstOrThrow();
  return { tenantId, sealed, unsealed: Number(unsealed.n), headSeq: head ? head.last_seq : null, problems };
}

/** The chain hash, or null when the row holds something canonicalJson refuses (it cannot match). */
function safeHash(prevHash: string, fields: EventFields): string | null {
  try {
    return chainHash(prevHash, fields);
  } catch {
    return null;
  }
}

async function readHead(db: Db, tenantId: string): Promise<{ last_seq: number; last_hash: string } | null> {
  const h = await db.selectFrom('audit_chain_heads').select(['last_seq', 'last_hash']).where('tenant_id', '=', tenantId).executeTakeFirst();
  return h ? { last_seq: Number(h.last_seq), last_hash: h.last_hash } : null;
}

function checkHead(head: { last_seq: number; last_hash: string } | null, last: LastRow | null, problems: ChainProblem[]): void {
  if (!head) {
    if (last) problems.push({ eventId: last.id, chainSeq: last.seq, kind: 'head_mismatch', detail: 'the chain head is missing but sealed events exist' });
    return;
  }
  if (!last) {
    const n = head.last_seq;
    problems.push({ eventId: null, chainSeq: null, kind: 'deleted', detail: `the chain head records seq ${n} but no sealed event remains (${n} missing)` });
  } else if (head.last_seq > last.seq) {
    const n = head.last_seq - last.seq;
    const missing = n === 1 ? `seq ${head.last_seq} is` : `seq ${last.seq + 1}..${head.last_seq} (${n} events) are`;
    problems.push({ eventId: last.id, chainSeq: last.seq, kind: 'deleted', detail: `${missing} missing after this event (the chain head records seq ${head.last_seq})` });
  } else if (head.last_seq < last.seq) {
    problems.push({ eventId: last.id, chainSeq: last.seq, kind: 'head_mismatch', detail: `the chain continues past the head (head records seq ${head.last_seq})` });
  } else if (head.last_hash !== last.hash) {
    problems.push({ eventId: last.id, chainSeq: last.seq, kind: 'head_mismatch', detail: 'the chain head records a different hash for this event' });
  }
}

/**
 * Among rows whose hash does not match, finds pairs that match again once some of their fields are
 * exchanged (chain_seq, ids, types, times...), and reports those as swapped with each other.
 */
function explainSwaps(suspects: Suspect[]): void {
  const explained = new Set<Suspect>();
  for (let i = 0; i < suspects.length; i++) {
    const x = suspects[i]!;
    if (explained.has(x)) continue;
    for (let j = i + 1; j < suspects.length; j++) {
      const y = suspects[j]!;
      if (explained.has(y)) continue;
      const differing = HASHED_FIELDS.filter((f) => canonicalJson(x.fields[f]) !== canonicalJson(y.fields[f]));
      const swapped = candidateSets(differing).find((set) => matchesWith(x, y, set) && matchesWith(y, x, set));
      if (!swapped) continue;
      for (const [a, b] of [[x, y], [y, x]] as const) {
        a.problem.kind = 'reordered';
        a.problem.detail = `hash does not match its content: its ${swapped.join(', ')} ${swapped.length === 1 ? 'was' : 'were'} swapped with event ${b.problem.eventId} (seq ${b.problem.chainSeq})`;
        explained.add(a);
      }
      break;
    }
  }
}

/** Whether `a` hashes to its stored hash once it takes `set` from `b`. */
function matchesWith(a: Suspect, b: Suspect, set: readonly (keyof EventFields)[]): boolean {
  const fields: Record<string, unknown> = { ...a.fields };
  for (const f of set) fields[f] = b.fields[f];
  return safeHash(a.prevHash, fields as unknown as EventFields) === a.hash;
}

/** Subsets of the differing fields worth trying: up to 3 fields, or all but up to 2 of them. */
function candidateSets<T>(fields: readonly T[]): T[][] {
  const out: T[][] = [];
  const seen = new Set<string>();
  const add = (set: T[]) => {
    const key = set.map((f) => fields.indexOf(f)).join(',');
    if (set.length > 0 && !seen.has(key)) {
      seen.add(key);
      out.push(set);
    }
  };
  const combos = (k: number, start = 0, acc: T[] = []): void => {
    if (acc.length === k) return void add([...acc]);
    for (let i = start; i < fields.length; i++) combos(k, i + 1, [...acc, fields[i]!]);
  };
  for (let k = 1; k <= Math.min(3, fields.length); k++) combos(k);
  for (let k = 0; k <= 2 && k < fields.length; k++) {
    const dropped: T[][] = [];
    const pick = (start: number, acc: T[]): void => {
      if (acc.length === k) return void dropped.push(acc);
      for (let i = start; i < fields.length; i++) pick(i + 1, [...acc, fields[i]!]);
    };
    pick(0, []);
    for (const d of dropped) add(fields.filter((f) => !d.includes(f)));
  }
  return out;
}

/** Human-readable report: one line per tenant, one indented line per problem, a verdict. */
export function formatReport(report: VerifyReport): string {
  const lines: string[] = [];
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  for (const t of report.tenants) {
    const checked = t.problems.length === 0 ? `${plural(t.sealed, 'sealed event')} verified` : `${plural(t.sealed, 'sealed event')} checked, ${plural(t.problems.length, 'problem')}`;
    lines.push(`tenant ${t.tenantId}: ${checked}, ${t.unsealed} not yet sealed`);
    for (const p of t.problems) {
      const where = p.eventId === null ? 'chain head' : `event ${p.eventId} (seq ${p.chainSeq})`;
      lines.push(`  ${where}: ${p.kind}: ${p.detail}`);
    }
  }
  if (report.tenants.length === 0) lines.push('no audit events');
  else if (report.ok) lines.push(`audit chain intact (${plural(report.tenants.length, 'tenant')})`);
  else {
    const bad = report.tenants.filter((t) => t.problems.length > 0);
    const count = bad.reduce((n, t) => n + t.problems.length, 0);
    lines.push(`audit chain BROKEN: ${plural(count, 'problem')} in ${plural(bad.length, 'tenant')}`);
  }
  return lines.join('\n');
}
