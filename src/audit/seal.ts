/**
 * The sealer: links each tenant's unsealed audit events (chain_seq NULL), in id order, into a hash
 * chain whose tip lives in audit_chain_heads. Requests only INSERT events; sealing happens here, in
 * short per-batch transactions serialised per tenant by a transaction-scoped advisory lock.
 *
 * Only events whose MAC verifies are chained (src/audit/mac.ts). One that fails (no MAC, a MAC that
 * does not verify, an unknown key id, a copied nonce) is left out, recorded in audit_quarantine, and
 * raises an `audit.integrity_alert` event (itself keyed and chained) and an error in the log. Each
 * seal signs the new head (Ed25519): the signature goes on the head row, and the checkpoint to the
 * checkpoint file and the log once the transaction committed.
 */
import { sql } from 'kysely';
import type { Services } from '../services/context.js';
import type { Db } from '../storage/db.js';
import { auditRow } from '../storage/repositories/audit.js';
import { EVENT_COLUMNS_SQL, GENESIS_HASH, chainHash, eventFields, isKeyed } from './canonical.js';
import { appendCheckpoints, signCheckpoint, type Checkpoint } from './checkpoint.js';
import { auditKeys, type AuditKeys } from './keys.js';
import { checkMac, withMac, type MacRow } from './mac.js';
import { dateMicros, microIso } from './micros.js';

export const DEFAULT_SEAL_BATCH = 500;

export interface SealOptions {
  /** Events sealed per transaction (default 500). */
  batch?: number;
}

interface SealLog {
  error(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** What a sealer needs: the store, the keys, and where checkpoints and alerts go. */
export interface SealContext {
  db: Db;
  keys: AuditKeys;
  /** Called with each checkpoint after its seal committed (the server: the checkpoint file and the log). */
  onCheckpoint?: (cp: Checkpoint) => void | Promise<void>;
  log?: SealLog;
}

const contexts = new WeakMap<Services, SealContext>();

/** The sealer of a service context: its keys, CALLWARDEN_AUDIT_CHECKPOINTS and its log. */
export function sealerFor(s: Services): SealContext {
  let c = contexts.get(s);
  if (!c) {
    const path = s.config.auditCheckpoints;
    c = {
      db: s.store.db,
      keys: auditKeys(s.config),
      log: s.log,
      onCheckpoint: async (cp) => {
        s.log.info({ checkpoint: cp }, 'audit checkpoint');
        if (path) {
          await appendCheckpoints(path, [cp]).catch((err: Error) => s.log.error({ err: { message: err.message }, checkpoint: cp }, 'audit checkpoint could not be written to CALLWARDEN_AUDIT_CHECKPOINTS'));
        }
      },
    };
    contexts.set(s, c);
  }
  return c;
}

const asContext = (c: SealContext | Services): SealContext => ('store' in c ? sealerFor(c) : c);

/**
 * Seals the tenant's unsealed events; returns how many this call sealed. Stops early (returning what
 * it sealed so far, possibly 0) when another sealer holds the tenant's lock: that one carries on.
 */
export async function sealTenant(target: SealContext | Services, tenantId: string, opts: SealOptions = {}): Promise<number> {
  const ctx = asContext(target);
  const batch = Math.max(1, Math.trunc(opts.batch ?? DEFAULT_SEAL_BATCH));
  let total = 0;
  for (;;) {
    const r = await sealBatch(ctx, tenantId, batch);
    if (r === null) return total;
    total += r.sealed;
    if (r.checkpoint) await ctx.onCheckpoint?.(r.checkpoint);
    for (const a of r.alerts) ctx.log?.error({ tenantId, eventId: a.id, reason: a.reason }, "audit event left out of the chain: inserted without the server's key");
    // alerts are new unsealed events: one more round chains them
    if (r.read < batch && r.alerts.length === 0) return total;
  }
}

/** Seals every tenant that has unsealed events; returns the number of events sealed. */
export async function sealAll(target: SealContext | Services, opts: SealOptions = {}): Promise<number> {
  const ctx = asContext(target);
  const tenants = await sql<{ tenant_id: string }>`
    SELECT DISTINCT tenant_id FROM audit_events e
    WHERE chain_seq IS NULL AND NOT EXISTS (SELECT 1 FROM audit_quarantine q WHERE q.event_id = e.id)
    ORDER BY tenant_id`.execute(ctx.db);
  let total = 0;
  for (const { tenant_id } of tenants.rows) total += await sealTenant(ctx, tenant_id, opts);
  return total;
}

type Row = MacRow & { id: number | string; occurred_at: Date };

interface BatchResult {
  read: number;
  sealed: number;
  checkpoint: Checkpoint | null;
  alerts: Array<{ id: number; reason: string }>;
}

const EVENT_COLUMNS = sql.raw(EVENT_COLUMNS_SQL);

/** One batch in one transaction; null when the tenant's lock is held elsewhere. */
async function sealBatch(ctx: SealContext, tenantId: string, batch: number): Promise<BatchResult | null> {
  const { keys } = ctx;
  return ctx.db.transaction().execute(async (trx) => {
    const lock = await sql<{ locked: boolean }>`SELECT pg_try_advisory_xact_lock(hashtext('audit:' || ${tenantId}::text)) AS locked`.execute(trx);
    if (lock.rows[0]?.locked !== true) return null;

    // Read under the lock: the head and the events are what the previous holder committed.
    const head = (await sql<{ last_seq: number | string; last_hash: string; keyed: boolean | null }>`
      SELECT h.last_seq, h.last_hash, (SELECT e.mac IS NOT NULL FROM audit_events e WHERE e.tenant_id = h.tenant_id AND e.chain_seq = h.last_seq) AS keyed
      FROM audit_chain_heads h WHERE h.tenant_id = ${tenantId}::uuid`.execute(trx)).rows[0];
    const legacyMaxId = Number((await sql<{ m: number | string }>`SELECT legacy_max_id AS m FROM audit_integrity`.execute(trx)).rows[0]?.m ?? 0);
    const rows = (await sql<Row>`
      SELECT ${EVENT_COLUMNS} FROM audit_events e
      WHERE tenant_id = ${tenantId}::uuid AND chain_seq IS NULL AND NOT EXISTS (SELECT 1 FROM audit_quarantine q WHERE q.event_id = e.id)
      ORDER BY id LIMIT ${batch}`.execute(trx)).rows;
    if (rows.length === 0) return { read: 0, sealed: 0, checkpoint: null, alerts: [] };

    // A nonce seen on an earlier row of the tenant: this row is a copy (only if the unique index was dropped).
    const nonces = rows.map((r) => r.nonce).filter((n): n is string => n !== null);
    const firstWith = new Map(
      (await sql<{ nonce: string; first: number | string }>`
        SELECT nonce, min(id) AS first FROM audit_events WHERE tenant_id = ${tenantId}::uuid AND nonce = ANY(${nonces}::text[]) GROUP BY nonce`.execute(trx)).rows.map((r) => [r.nonce, Number(r.first)]),
    );

    // Legacy rows (before MACs) only while the tenant's chain holds no keyed event yet.
    let keyedSeen = head ? head.keyed !== false : false;
    let seq = Number(head?.last_seq ?? 0);
    let prev = head?.last_hash ?? GENESIS_HASH;
    const ids: number[] = [];
    const seqs: number[] = [];
    const prevs: string[] = [];
    const hashes: string[] = [];
    const bad: Array<{ row: Row; reason: string }> = [];
    for (const row of rows) {
      const id = Number(row.id);
      let reason: string | null = null;
      if (!isKeyed(row)) {
        if (id > legacyMaxId || keyedSeen) reason = 'mac_missing';
      } else {
        const v = checkMac(keys, row);
        if (!v.ok) reason = v.reason;
        else if ((firstWith.get(row.nonce!) ?? id) < id) reason = 'nonce_copied';
      }
      if (reason) {
        bad.push({ row, reason });
        continue;
      }
      if (isKeyed(row)) keyedSeen = true;
      seq += 1;
      const hash = chainHash(prev, eventFields({ ...row, chain_seq: seq }));
      ids.push(id);
      seqs.push(seq);
      prevs.push(prev);
      hashes.push(hash);
      prev = hash;
    }

    const now = new Date();
    if (bad.length > 0) {
      await sql`
        INSERT INTO audit_quarantine (event_id, tenant_id, reason, flagged_at)
        SELECT b.id, ${tenantId}::uuid, b.reason, ${now.toISOString()}::timestamptz
        FROM unnest(${bad.map((b) => Number(b.row.id))}::bigint[], ${bad.map((b) => b.reason)}::text[]) AS b(id, reason)
        ON CONFLICT (event_id) DO NOTHING`.execute(trx);
      const alerts = bad.map((b) =>
        auditRow(withMac(keys, {
          tenantId,
          type: 'audit.integrity_alert',
          outcome: 'denied',
          actor: { type: 'system' },
          target: { type: 'audit_event', id: String(b.row.id) },
          origin: { channel: 'system' },
          data: { eventId: Number(b.row.id), reason: b.reason, eventType: b.row.type.slice(0, 100), occurredAt: microIso(b.row.occurred_us) },
          at: now,
        })),
      );
      await trx.insertInto('audit_events').values(alerts).execute();
    }

    let checkpoint: Checkpoint | null = null;
    if (ids.length > 0) {
      checkpoint = signCheckpoint(keys, { tenantId, seq, hash: prev, sealedAt: microIso(dateMicros(now)), legacyMaxId });
      // One statement links the batch and moves the head; it moves the head only if every row was
      // still unsealed, so a sealer that bypassed the lock makes this batch roll back instead of fork.
      const moved = await sql<{ last_seq: number }>`
        WITH v AS (
          SELECT * FROM unnest(${ids}::bigint[], ${seqs}::bigint[], ${prevs}::text[], ${hashes}::text[]) AS v(id, seq, prev_hash, hash)
        ), sealed AS (
          UPDATE audit_events e SET chain_seq = v.seq, prev_hash = v.prev_hash, hash = v.hash
          FROM v WHERE e.id = v.id AND e.tenant_id = ${tenantId}::uuid AND e.chain_seq IS NULL
          RETURNING e.id
        )
        INSERT INTO audit_chain_heads AS h (tenant_id, last_seq, last_hash, sealed_at, sign_key_id, signature)
        SELECT ${tenantId}::uuid, ${seq}::bigint, ${prev}::text, ${now.toISOString()}::timestamptz, ${checkpoint.keyId}::text, ${checkpoint.sig}::text
        WHERE (SELECT count(*) FROM sealed) = ${ids.length}::bigint
        ON CONFLICT (tenant_id) DO UPDATE SET last_seq = excluded.last_seq, last_hash = excluded.last_hash, sealed_at = excluded.sealed_at,
          sign_key_id = excluded.sign_key_id, signature = excluded.signature
        RETURNING h.last_seq`.execute(trx);
      if (moved.rows.length !== 1) throw new Error(`audit sealer: events of tenant ${tenantId} changed while sealing; batch rolled back`);
    }
    return { read: rows.length, sealed: ids.length, checkpoint, alerts: bad.map((b) => ({ id: Number(b.row.id), reason: b.reason })) };
  });
}
