/**
 * The chain verifier. It only reads. It walks each tenant's sealed audit events by chain_seq, a page
 * at a time, and names every row whose content, link or position no longer matches what was sealed;
 * it checks the chain head. Given the keys (src/audit/keys.ts) it also checks every event's MAC
 * (sealed or not: a row without a valid one was inserted without the server's key) and the head's
 * signature; given a checkpoint file it holds each chain to its newest checkpoint, which finds a
 * chain rewound or truncated to an earlier state.
 */
import { sql } from 'kysely';
import type { Db } from '../storage/db.js';
import { EVENT_COLUMNS_SQL, GENESIS_HASH, eventColumnsSql, eventFields, isKeyed, type ChainRow } from './canonical.js';
import { checkSignature, type Checkpoint, type CheckpointProblem, type CheckpointSet } from './checkpoint.js';
import type { AuditKeys } from './keys.js';
import { checkMac, type MacRow } from './mac.js';
import { microIso } from './micros.js';
import { explainSwaps, safeHash, type Suspect } from './verify-swaps.js';

export { formatReport } from './verify-report.js';

/**
 * edited: content changed after sealing; deleted: sealed events missing; reordered: moved or swapped;
 * inserted: no valid MAC (inserted, or rewritten, without the server's key), or a copy of another
 * event; withheld: a valid event kept out of the chain; head_mismatch: the head does not match the
 * chain or its signature; truncated: the chain ends before its newest checkpoint (rewound);
 * rewritten: the event at a checkpoint's position is not the one the checkpoint signed.
 */
export type ProblemKind = 'edited' | 'deleted' | 'reordered' | 'inserted' | 'withheld' | 'head_mismatch' | 'truncated' | 'rewritten';

export interface ChainProblem {
  /** The row where the problem shows (for a deletion: the event after the gap, or the last event). */
  eventId: number | null;
  chainSeq: number | null;
  kind: ProblemKind;
  detail: string;
}

export interface CheckpointInfo {
  seq: number;
  hash: string;
  sealedAt: string;
  keyId: string;
  /** file: the newest checkpoint of the file given; database: the signed head row. */
  source: 'file' | 'database';
}

export interface TenantChainReport {
  tenantId: string;
  sealed: number;
  unsealed: number;
  headSeq: number | null;
  problems: ChainProblem[];
  /** Unsealed events the sealer left out because their MAC does not verify. */
  quarantined: number;
  /** Whether MACs and the head signature were checked (the keys were given). */
  macs: 'checked' | 'unchecked';
  /** The newest checkpoint the chain was held to (from the file given, else the verified head). */
  checkpoint: CheckpointInfo | null;
}

export interface VerifyReport {
  ok: boolean;
  tenants: TenantChainReport[];
  /** The checkpoint file given, how many lines it holds, and the lines that are not valid signed checkpoints. */
  checkpoints?: { file: string; lines: number; problems: CheckpointProblem[] };
}

export interface VerifyOptions {
  tenantId?: string;
  /** Rows read per query (default 1000). */
  pageSize?: number;
  /** The audit keys: with them MACs and the head signature are checked. */
  keys?: AuditKeys;
  /** Checkpoints (readCheckpoints) to hold each chain to. */
  checkpoints?: CheckpointSet;
}

/** Rows with a bad hash kept for the swap analysis; beyond this they are reported without it. */
const MAX_SWAP_SUSPECTS = 32;

export async function verifyChain(db: Db, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const pageSize = Math.max(1, Math.trunc(opts.pageSize ?? 1000));
  const cps = opts.checkpoints;
  let tenantIds = opts.tenantId ? [opts.tenantId] : await listTenants(db);
  if (!opts.tenantId && cps) tenantIds = [...new Set([...tenantIds, ...cps.newest.keys()])].sort();
  const legacyMaxId = await readLegacyMaxId(db);
  const tenants: TenantChainReport[] = [];
  for (const tenantId of tenantIds) tenants.push(await verifyTenant(db, tenantId, pageSize, { keys: opts.keys, checkpoint: cps?.newest.get(tenantId), legacyMaxId }));
  const fileProblems = cps ? cps.problems.filter((p) => !opts.tenantId || p.tenantId === null || p.tenantId === opts.tenantId) : [];
  const report: VerifyReport = { ok: tenants.every((t) => t.problems.length === 0) && fileProblems.length === 0, tenants };
  if (cps) report.checkpoints = { file: cps.file, lines: cps.lines, problems: fileProblems };
  return report;
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

async function readLegacyMaxId(db: Db): Promise<number> {
  const r = await sql<{ m: number | string }>`SELECT legacy_max_id AS m FROM audit_integrity`.execute(db);
  return Number(r.rows[0]?.m ?? 0);
}

interface LastRow {
  id: number;
  seq: number;
  hash: string;
}

type SealedRow = MacRow & ChainRow & { prev_hash: string | null; hash: string | null };

interface TenantContext {
  keys: AuditKeys | undefined;
  checkpoint: (Checkpoint & { line: number }) | undefined;
  legacyMaxId: number;
}

const INSERTED_NO_MAC = "it carries no MAC: inserted without the server's key";

async function verifyTenant(db: Db, tenantId: string, pageSize: number, ctx: TenantContext): Promise<TenantChainReport> {
  const { keys, checkpoint: cp, legacyMaxId } = ctx;
  const problems: ChainProblem[] = [];
  const suspects: Suspect[] = [];
  let sealed = 0;
  // (`as`: the walk closure moves it, so TypeScript must not narrow it to null here)
  let last = null as LastRow | null;
  let lastContentBad = false;
  let keyedSeen = false;
  let atCheckpoint = null as { id: number; hash: string } | null;

  /** Reads sealed rows after `last` until none is left; returns how many it read. */
  const walk = async (): Promise<number> => {
    let read = 0;
    for (;;) {
      const after = last ? sql`chain_seq > ${last.seq}` : sql`chain_seq IS NOT NULL`;
      const rows = (await sql<SealedRow>`
        SELECT ${sql.raw(EVENT_COLUMNS_SQL)}, chain_seq, prev_hash, hash FROM audit_events
        WHERE tenant_id = ${tenantId}::uuid AND ${after} ORDER BY chain_seq LIMIT ${pageSize}`.execute(db)).rows;
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
          const onlyPrevEdited = !linkOk && !gap && safeHash(expectedPrev, fields) === hash;
          const moved = !linkOk && !gap && !onlyPrevEdited;
          const problem: ChainProblem = {
            eventId: id,
            chainSeq: seq,
            kind: moved ? 'reordered' : 'edited',
            detail: onlyPrevEdited
              ? 'its prev_hash was changed'
              : moved
                ? 'hash does not match its content and prev_hash does not link to the previous event: it was moved or rewritten'
                : 'hash does not match its content',
          };
          problems.push(problem);
          if (suspects.length < MAX_SWAP_SUSPECTS) suspects.push({ problem, prevHash, hash, fields });
        } else {
          if (!linkOk && !gap && !lastContentBad) {
            // An intact row after a replaced one is not reported again: the replaced row already is.
            const previous = last ? `the hash of event ${last.id} (seq ${last.seq})` : 'the genesis hash';
            problems.push({ eventId: id, chainSeq: seq, kind: 'reordered', detail: `prev_hash does not match ${previous}` });
          }
          // The hash matches, so the row is as sealed: was it written with the server's key?
          const macProblem = keys ? macFinding(keys, row, keyedSeen, legacyMaxId) : null;
          if (macProblem) problems.push({ eventId: id, chainSeq: seq, kind: 'inserted', detail: macProblem });
        }
        if (isKeyed(row)) keyedSeen = true;
        if (cp && seq === cp.seq) atCheckpoint = { id, hash };
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
  let checkpoint: CheckpointInfo | null = null;
  if (keys && head) {
    const payload = { v: 1 as const, tenantId, seq: head.last_seq, hash: head.last_hash, sealedAt: microIso(head.sealed_us), legacyMaxId, keyId: head.sign_key_id ?? '' };
    if (!head.signature) {
      if (keyedSeen) problems.push({ eventId: last?.id ?? null, chainSeq: last?.seq ?? null, kind: 'head_mismatch', detail: 'the chain head is not signed: it was moved outside the sealer' });
    } else {
      const v = checkSignature(keys, payload, head.signature);
      if (v.ok) checkpoint = { seq: payload.seq, hash: payload.hash, sealedAt: payload.sealedAt, keyId: payload.keyId, source: 'database' };
      else problems.push({ eventId: last?.id ?? null, chainSeq: last?.seq ?? null, kind: 'head_mismatch', detail: `the chain head: ${v.detail}: it was moved outside the sealer (or the legacy boundary was changed)` });
    }
  }
  if (cp) {
    checkpoint = { seq: cp.seq, hash: cp.hash, sealedAt: cp.sealedAt, keyId: cp.keyId, source: 'file' };
    checkAgainstCheckpoint(cp, last, atCheckpoint, legacyMaxId, problems);
  }
  explainSwaps(suspects);

  const pending = keys ? await checkUnsealed(db, tenantId, pageSize, keys, keyedSeen, legacyMaxId, problems) : await countUnsealed(db, tenantId);
  await findCopies(db, tenantId, problems);
  return { tenantId, sealed, unsealed: pending.unsealed, headSeq: head ? head.last_seq : null, problems, quarantined: pending.quarantined, macs: keys ? 'checked' : 'unchecked', checkpoint };
}

/** Why a row's MAC does not vouch for it, or null when it does (legacy rows: only before any keyed row). */
function macFinding(keys: AuditKeys, row: MacRow, keyedSeen: boolean, legacyMaxId: number): string | null {
  if (!isKeyed(row)) return Number(row.id) <= legacyMaxId && !keyedSeen ? null : INSERTED_NO_MAC;
  const v = checkMac(keys, row);
  return v.ok ? null : v.detail;
}

function checkAgainstCheckpoint(cp: Checkpoint & { line: number }, last: LastRow | null, at: { id: number; hash: string } | null, legacyMaxId: number, problems: ChainProblem[]): void {
  const of = `the checkpoint of ${cp.sealedAt} (line ${cp.line})`;
  const lastSeq = last?.seq ?? 0;
  if (lastSeq < cp.seq) {
    const n = cp.seq - lastSeq;
    problems.push({
      eventId: last?.id ?? null,
      chainSeq: last?.seq ?? null,
      kind: 'truncated',
      detail: `${of} records seq ${cp.seq}, but the chain ends at ${last ? `seq ${lastSeq}` : 'no event'}: rewound or truncated (${n} event${n === 1 ? '' : 's'} gone)`,
    });
  } else if (!at || at.hash !== cp.hash) {
    problems.push({ eventId: at?.id ?? null, chainSeq: cp.seq, kind: 'rewritten', detail: `${of} signed a different event at seq ${cp.seq}: the chain was rewritten from here` });
  }
  if (cp.legacyMaxId !== legacyMaxId) {
    problems.push({ eventId: null, chainSeq: null, kind: 'head_mismatch', detail: `${of} records legacy boundary ${cp.legacyMaxId}, the database ${legacyMaxId}: audit_integrity was changed` });
  }
}

interface HeadRow {
  last_seq: number;
  last_hash: string;
  sealed_us: string;
  sign_key_id: string | null;
  signature: string | null;
}

async function readHead(db: Db, tenantId: string): Promise<HeadRow | null> {
  const h = (await sql<HeadRow & { last_seq: number | string }>`
    SELECT last_seq, last_hash, (extract(epoch from sealed_at) * 1000000)::bigint::text AS sealed_us, sign_key_id, signature
    FROM audit_chain_heads WHERE tenant_id = ${tenantId}::uuid`.execute(db)).rows[0];
  return h ? { ...h, last_seq: Number(h.last_seq) } : null;
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

async function countUnsealed(db: Db, tenantId: string): Promise<{ unsealed: number; quarantined: number }> {
  const r = (await sql<{ n: number | string; q: number | string }>`
    SELECT count(*) AS n, count(q.event_id) AS q FROM audit_events e LEFT JOIN audit_quarantine q ON q.event_id = e.id
    WHERE e.tenant_id = ${tenantId}::uuid AND e.chain_seq IS NULL`.execute(db)).rows[0];
  return { unsealed: Number(r?.n ?? 0), quarantined: Number(r?.q ?? 0) };
}

type UnsealedRow = MacRow & { reason: string | null; flagged: boolean };

/** Checks the MAC of every unsealed event: pending ones must verify, left-out ones must not. */
async function checkUnsealed(db: Db, tenantId: string, pageSize: number, keys: AuditKeys, keyedSeen: boolean, legacyMaxId: number, problems: ChainProblem[]): Promise<{ unsealed: number; quarantined: number }> {
  let after = 0;
  let unsealed = 0;
  let quarantined = 0;
  for (;;) {
    const rows = (await sql<UnsealedRow>`
      SELECT ${sql.raw(eventColumnsSql('e'))}, q.reason, q.event_id IS NOT NULL AS flagged
      FROM audit_events e LEFT JOIN audit_quarantine q ON q.event_id = e.id
      WHERE e.tenant_id = ${tenantId}::uuid AND e.chain_seq IS NULL AND e.id > ${after} ORDER BY e.id LIMIT ${pageSize}`.execute(db)).rows;
    for (const row of rows) {
      const id = Number(row.id);
      unsealed += 1;
      if (row.flagged) quarantined += 1;
      const finding = macFinding(keys, row, keyedSeen, legacyMaxId);
      if (finding) {
        const where = row.flagged ? `left out of the chain by the sealer (${row.reason})` : 'not sealed yet';
        problems.push({ eventId: id, chainSeq: null, kind: 'inserted', detail: `${finding}; ${where}` });
      } else if (row.flagged) {
        problems.push({ eventId: id, chainSeq: null, kind: 'withheld', detail: 'its MAC verifies, but an audit_quarantine row added outside the sealer keeps it out of the chain' });
      }
      after = id;
    }
    if (rows.length < pageSize) return { unsealed, quarantined };
  }
}

/** Rows sharing a nonce: every one after the first is a copy (possible only with the unique index dropped). */
async function findCopies(db: Db, tenantId: string, problems: ChainProblem[]): Promise<void> {
  const r = await sql<{ ids: Array<number | string>; seqs: Array<number | string | null> }>`
    SELECT array_agg(id ORDER BY id) AS ids, array_agg(chain_seq ORDER BY id) AS seqs FROM audit_events
    WHERE tenant_id = ${tenantId}::uuid AND nonce IS NOT NULL GROUP BY nonce HAVING count(*) > 1`.execute(db);
  for (const g of r.rows) {
    const ids = g.ids.map(Number);
    for (let i = 1; i < ids.length; i++) {
      const seq = g.seqs[i];
      problems.push({ eventId: ids[i]!, chainSeq: seq === null || seq === undefined ? null : Number(seq), kind: 'inserted', detail: `a copy of event ${ids[0]} (the same nonce): inserted without the server's key` });
    }
  }
}
