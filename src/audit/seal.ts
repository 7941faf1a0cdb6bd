/**
 * The sealer: links each tenant's unsealed audit events (chain_seq NULL), in id order, into a hash
 * chain whose tip lives in audit_chain_heads. Requests only INSERT events; sealing happens here, in
 * short per-batch transactions serialised per tenant by a transaction-scoped advisory lock.
 */
import { sql } from 'kysely';
import type { Db } from '../storage/db.js';
import { GENESIS_HASH, chainHash, eventFields, type ChainRow } from './canonical.js';

export const DEFAULT_SEAL_BATCH = 500;

export interface SealOptions {
  /** Events sealed per transaction (default 500). */
  batch?: number;
}

/**
 * Seals the tenant's unsealed events; returns how many this call sealed. Stops early (returning what
 * it sealed so far, possibly 0) when another sealer holds the tenant's lock: that one carries on.
 */
export async function sealTenant(db: Db, tenantId: string, opts: SealOptions = {}): Promise<number> {
  const batch = Math.max(1, Math.trunc(opts.batch ?? DEFAULT_SEAL_BATCH));
  let total = 0;
  for (;;) {
    const sealed = await sealBatch(db, tenantId, batch);
    if (sealed === null) return total;
    total += sealed;
    if (sealed < batch) return total;
  }
}

/** Seals every tenant that has unsealed events; returns the number of events sealed. */
export async function sealAll(db: Db, opts: SealOptions = {}): Promise<number> {
  const tenants = await db.selectFrom('audit_events').select('tenant_id').distinct().where('chain_seq', 'is', null).orderBy('tenant_id').execute();
  let total = 0;
  for (const { tenant_id } of tenants) total += await sealTenant(db, tenant_id, opts);
  return total;
}

/** One batch in one transaction; null when the tenant's lock is held elsewhere. */
async function sealBatch(db: Db, tenantId: string, batch: number): Promise<number | null> {
  return db.transaction().execute(async (trx) => {
    const lock = await sql<{ locked: boolean }>`SELECT pg_try_advisory_xact_lock(hashtext('audit:' || ${tenantId}::text)) AS locked`.execute(trx);
    if (lock.rows[0]?.locked !== true) return null;

    // Read under the lock: the head and the events are what the previous holder committed.
    const head = await trx.selectFrom('audit_chain_heads').select(['last_seq', 'last_hash']).where('tenant_id', '=', tenantId).executeTakeFirst();
    const rows: Omit<ChainRow, 'chain_seq'>[] = await trx
      .selectFrom('audit_events')
      .select(['id', 'tenant_id', 'occurred_at', 'type', 'outcome', 'actor_type', 'actor_id', 'target_type', 'target_id', 'ip', 'user_agent', 'channel', 'request_id', 'data'])
      .where('tenant_id', '=', tenantId)
      .where('chain_seq', 'is', null)
      .orderBy('id')
      .limit(batch)
      .execute();
    if (rows.length === 0) return 0;

    let seq = Number(head?.last_seq ?? 0);
    let prev = head?.last_hash ?? GENESIS_HASH;
    const ids: number[] = [];
    const seqs: number[] = [];
    const prevs: string[] = [];
    const hashes: string[] = [];
    for (const row of rows) {
      seq += 1;
      const hash = chainHash(prev, eventFields({ ...row, chain_seq: seq }));
      ids.push(Number(row.id));
      seqs.push(seq);
      prevs.push(prev);
      hashes.push(hash);
      prev = hash;
    }

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
      INSERT INTO audit_chain_heads AS h (tenant_id, last_seq, last_hash, sealed_at)
      SELECT ${tenantId}::uuid, ${seq}::bigint, ${prev}::text, now()
      WHERE (SELECT count(*) FROM sealed) = ${rows.length}::bigint
      ON CONFLICT (tenant_id) DO UPDATE SET last_seq = excluded.last_seq, last_hash = excluded.last_hash, sealed_at = excluded.sealed_at
      RETURNING h.last_seq`.execute(trx);
    if (moved.rows.length !== 1) throw new Error(`audit sealer: events of tenant ${tenantId} changed while sealing; batch rolled back`);
    return rows.length;
  });
}
