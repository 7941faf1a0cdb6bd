/** Shared fixtures of the audit-chain tests: tenants, appended events, the sealed chain. */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { expect } from 'vitest';
import { buildAuditKeys, type AuditKeys } from '../../src/audit/keys.js';
import { dateMicros, macOf, withMac } from '../../src/audit/mac.js';
import type { SealContext } from '../../src/audit/seal.js';
import { verifyChain, type ChainProblem, type TenantChainReport } from '../../src/audit/verify.js';
import type { Store } from '../../src/storage/store.js';

export const BASE = Date.parse('2025-06-01T08:00:00.000Z');

/** Audit keys of the tests (fixed key material, as a configuration would give them). */
export const TEST_KEYS: AuditKeys = buildAuditKeys({
  encryptionKey: Buffer.alloc(32, 1),
  auditMacKey: '',
  auditMacPreviousKeys: '',
  auditSigningKey: '',
  auditSigningPreviousKeys: '',
});

/** A sealer over the store with the test keys; checkpoints go to `checkpoints` when given. */
export function sealer(store: Store, opts: { keys?: AuditKeys; checkpoints?: unknown[] } = {}): SealContext {
  return { db: store.db, keys: opts.keys ?? TEST_KEYS, onCheckpoint: opts.checkpoints ? (cp) => void opts.checkpoints!.push(cp) : undefined };
}

export async function newTenant(store: Store): Promise<string> {
  const id = randomUUID();
  await store.db.insertInto('tenants').values({ id, slug: `audit-${id.slice(0, 8)}`, name: 'Audit test tenant', is_platform: false, policy_version: 1, created_at: new Date(BASE) }).execute();
  return id;
}

/** Appends n events one by one through the repository (ids follow the order). */
export async function append(store: Store, tenantId: string, n: number, start = 0): Promise<void> {
  for (let i = start; i < start + n; i++) {
    await store.audit.append(withMac(TEST_KEYS, {
      tenantId,
      type: i % 2 === 0 ? 'signin.password' : 'factor.totp.verify',
      outcome: i % 3 === 0 ? 'failure' : 'success',
      actor: { type: 'user', id: `user-${i % 4}` },
      target: { type: 'user', id: `user-${i % 4}` },
      origin: { ip: `203.0.113.${i % 250}`, userAgent: 'vitest', channel: 'web', requestId: `req-${i}` },
      data: { n: i, nested: { b: [1, 2.5, 'x'], a: null } },
      at: new Date(BASE + i * 1000),
    }));
  }
}

/** Appends n events in one multi-row INSERT (for the larger cases), each with its MAC under `keys`. */
export async function appendBulk(store: Store, tenantId: string, n: number, start = 0, keys: AuditKeys = TEST_KEYS): Promise<void> {
  const rows = Array.from({ length: n }, (_, k) => {
    const i = start + k;
    const row = {
      tenant_id: tenantId,
      occurred_at: new Date(BASE + i * 1000),
      type: i % 2 === 0 ? 'signin.password' : 'factor.totp.verify',
      outcome: i % 3 === 0 ? 'failure' : 'success',
      actor_type: 'user',
      actor_id: `user-${i % 4}`,
      target_type: null,
      target_id: null,
      ip: null,
      user_agent: null,
      channel: null,
      request_id: null,
      data: { n: i },
      nonce: randomUUID(),
      mac_key_id: keys.mac.id,
    };
    const mac = macOf(keys.mac.key, { ...row, occurred_us: dateMicros(row.occurred_at) });
    return { ...row, data: JSON.stringify(row.data), mac };
  });
  await store.db.insertInto('audit_events').values(rows).execute();
}

export interface Link {
  id: number;
  chain_seq: number;
  prev_hash: string;
  hash: string;
}
export async function chain(store: Store, tenantId: string): Promise<Link[]> {
  const rows = await store.db
    .selectFrom('audit_events')
    .select(['id', 'chain_seq', 'prev_hash', 'hash'])
    .where('tenant_id', '=', tenantId)
    .where('chain_seq', 'is not', null)
    .orderBy('chain_seq')
    .execute();
  return rows.map((r) => ({ id: Number(r.id), chain_seq: Number(r.chain_seq), prev_hash: r.prev_hash ?? '', hash: r.hash ?? '' }));
}
export const idAt = (links: Link[], seq: number): number => {
  const l = links.find((x) => x.chain_seq === seq);
  if (!l) throw new Error(`no event at seq ${seq}`);
  return l.id;
};

/** Verifies one tenant with the default page size and with tiny pages; both must agree. */
export async function verifyTenant(store: Store, tenantId: string): Promise<TenantChainReport & { ok: boolean }> {
  const big = await verifyChain(store.db, { tenantId });
  const small = await verifyChain(store.db, { tenantId, pageSize: 3 });
  expect(small).toEqual(big);
  expect(big.tenants).toHaveLength(1);
  return { ...big.tenants[0]!, ok: big.ok };
}
export const brief = (ps: ChainProblem[]) => ps.map((p) => ({ eventId: p.eventId, chainSeq: p.chainSeq, kind: p.kind }));
