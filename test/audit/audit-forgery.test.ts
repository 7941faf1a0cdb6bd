/**
 * Threat: forging the audit log without the server's key (issue 10). Someone with write access to
 * the database adds, edits, deletes, reorders or truncates audit rows, recomputing the public chain
 * hash and moving the head where that helps. `callwarden audit verify` (run here in-process) names
 * every such row, writes nothing (the audit tables' row counts and checksums are the same before and
 * after), and with --checkpoints finds a chain rewound to an earlier signed head. On PGlite and
 * PostgreSQL.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainHash, eventFields } from '../../src/audit/canonical.js';
import { sealTenant } from '../../src/audit/seal.js';
import { verifyChain } from '../../src/audit/verify.js';
import { main } from '../../src/cli/main.js';
import type { Services } from '../../src/services/context.js';
import type { Store } from '../../src/storage/store.js';
import { append, chain, idAt, newTenant, TEST_KEYS } from '../helpers/audit-chain.js';
import { backends, testStore } from '../helpers/db.js';
import { auditServices, found, verifyCli } from './helpers.js';

const slugOf = (tenantId: string) => `audit-${tenantId.slice(0, 8)}`;
const quarantineReason = async (st: Store, id: number) => (await sql<{ reason: string }>`SELECT reason FROM audit_quarantine WHERE event_id = ${id}`.execute(st.db)).rows[0]?.reason;

describe.each(await backends())('audit forgery without the server key, on %s', (backend) => {
  let store: Store;
  let s: Services;
  let checkpoints: string;
  beforeAll(async () => {
    store = await testStore(backend);
    ({ s, checkpoints } = auditServices(store));
  });
  afterAll(() => store?.close());

  /** A tenant with n events sealed by the server's sealer (a checkpoint each seal). */
  async function sealed(n = 6): Promise<{ tenantId: string; ids: number[] }> {
    const tenantId = await newTenant(store);
    await append(store, tenantId, n);
    expect(await sealTenant(s, tenantId)).toBe(n);
    const links = await chain(store, tenantId);
    return { tenantId, ids: links.map((l) => l.id) };
  }
  const verify = (tenantId: string, ...args: string[]) => verifyCli(s, '--tenant', slugOf(tenantId), '--checkpoints', checkpoints, ...args);
  const forgedRow = (tenantId: string, extra: Record<string, unknown> = {}) => ({
    tenant_id: tenantId, occurred_at: new Date(), type: 'user.unlocked', outcome: 'success', actor_type: 'user', actor_id: 'mallory', data: JSON.stringify({ forged: true }), ...extra,
  });

  it('an untouched chain verifies, against its checkpoint, and verify writes nothing', async () => {
    const { tenantId } = await sealed();
    const r = await verify(tenantId);
    expect(r.code, r.text).toBe(0);
    expect(r.report.tenants[0]).toMatchObject({ sealed: 6, problems: [], macs: 'checked', checkpoint: { seq: 6, source: 'file' } });
    expect(r.text).toContain('audit chain intact (1 tenant)');
  });

  it('a plain INSERT is named, left out of the chain by the sealer, and raises an alert event', async () => {
    const { tenantId } = await sealed();
    const forged = (await store.db.insertInto('audit_events').values(forgedRow(tenantId)).returning('id').executeTakeFirstOrThrow()).id;
    let r = await verify(tenantId);
    expect(r.code).toBe(1);
    expect(found(r.report, tenantId)).toEqual([{ eventId: Number(forged), chainSeq: null, kind: 'inserted' }]);
    expect(r.text).toContain(`event ${forged} (unsealed): inserted: it carries no MAC: inserted without the server's key; not sealed yet`);

    // the sealer chains the real events only, flags the forged one and raises an alert (itself chained)
    expect(await sealTenant(s, tenantId)).toBe(1);
    const alert = await store.db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId).where('type', '=', 'audit.integrity_alert').executeTakeFirstOrThrow();
    expect(alert).toMatchObject({ outcome: 'denied', actor_type: 'system', target_type: 'audit_event', target_id: String(forged), chain_seq: 7 });
    expect(alert.data).toMatchObject({ eventId: Number(forged), reason: 'mac_missing', eventType: 'user.unlocked' });
    expect((await store.db.selectFrom('audit_events').select('chain_seq').where('id', '=', Number(forged)).executeTakeFirstOrThrow()).chain_seq).toBeNull();
    expect(await sealTenant(s, tenantId)).toBe(0); // flagged once, not re-examined

    r = await verify(tenantId);
    expect(r.code).toBe(1);
    expect(found(r.report, tenantId)).toEqual([{ eventId: Number(forged), chainSeq: null, kind: 'inserted' }]);
    expect(r.report.tenants[0]).toMatchObject({ sealed: 7, quarantined: 1 });
    expect(r.report.tenants[0]!.problems[0]!.detail).toContain('left out of the chain by the sealer (mac_missing)');
  });

  it('an INSERT with a made-up MAC, a correctly recomputed chain hash and a moved head is named', async () => {
    const { tenantId } = await sealed();
    const head = await store.db.selectFrom('audit_chain_heads').selectAll().where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
    const row = forgedRow(tenantId, { occurred_at: new Date(), nonce: randomUUID(), mac: randomBytes(32).toString('hex'), mac_key_id: TEST_KEYS.mac.id, data: { forged: true } });
    const inserted = await store.db.insertInto('audit_events').values({ ...row, data: JSON.stringify(row.data) }).returning(['id']).executeTakeFirstOrThrow();
    const stored = await store.db.selectFrom('audit_events').selectAll().where('id', '=', inserted.id).executeTakeFirstOrThrow();
    const seq = Number(head.last_seq) + 1;
    const hash = chainHash(head.last_hash, eventFields({ ...stored, chain_seq: seq }));
    await sql`UPDATE audit_events SET chain_seq = ${seq}, prev_hash = ${head.last_hash}, hash = ${hash} WHERE id = ${inserted.id}`.execute(store.db);
    await sql`UPDATE audit_chain_heads SET last_seq = ${seq}, last_hash = ${hash} WHERE tenant_id = ${tenantId}`.execute(store.db);

    const r = await verify(tenantId);
    expect(r.code).toBe(1);
    expect(found(r.report, tenantId)).toEqual([
      { eventId: Number(inserted.id), chainSeq: 7, kind: 'inserted' },
      { eventId: Number(inserted.id), chainSeq: 7, kind: 'head_mismatch' },
    ]);
    expect(r.report.tenants[0]!.problems[0]!.detail).toBe("its MAC does not verify: inserted (or rewritten) without the server's key");
    expect(r.report.tenants[0]!.problems[1]!.detail).toContain('its signature does not verify');
  });

  it('a copy of a real row (same nonce and MAC) is refused by the database, and named when the index is dropped', async () => {
    const s2 = await testStore(backend);
    try {
      const { s: svc, checkpoints: cpFile } = auditServices(s2);
      const tenantId = await newTenant(s2);
      await append(s2, tenantId, 3);
      await sealTenant(svc, tenantId);
      const copy = sql<{ id: number | string }>`INSERT INTO audit_events (tenant_id, occurred_at, type, outcome, actor_type, actor_id, target_type, target_id, ip, user_agent, channel, request_id, data, nonce, mac, mac_key_id)
        SELECT tenant_id, occurred_at, type, outcome, actor_type, actor_id, target_type, target_id, ip, user_agent, channel, request_id, data, nonce, mac, mac_key_id
        FROM audit_events WHERE tenant_id = ${tenantId} AND chain_seq = 2 RETURNING id`;
      await expect(copy.execute(s2.db)).rejects.toThrow(/duplicate key|unique/);
      await sql`DROP INDEX audit_events_nonce`.execute(s2.db);
      const id = Number((await copy.execute(s2.db)).rows[0]!.id);
      let r = await verifyCli(svc, '--checkpoints', cpFile);
      expect(found(r.report, tenantId)).toEqual([{ eventId: id, chainSeq: null, kind: 'inserted' }]);
      expect(r.report.tenants[0]!.problems[0]!.detail).toContain('a copy of event');
      expect(await sealTenant(svc, tenantId)).toBe(1); // only the alert
      expect(await quarantineReason(s2, id)).toBe('nonce_copied');
      r = await verifyCli(svc, '--checkpoints', cpFile);
      expect(r.code).toBe(1);
    } finally {
      await s2.close();
    }
  });

  it('deleting the last row and rewinding the head to an earlier signed head is named against the checkpoint', async () => {
    const { tenantId, ids } = await sealed(5);
    const earlier = await sql<Record<string, unknown>>`SELECT last_seq, last_hash, sealed_at, sign_key_id, signature FROM audit_chain_heads WHERE tenant_id = ${tenantId}`.execute(store.db);
    await append(store, tenantId, 1, 5);
    expect(await sealTenant(s, tenantId)).toBe(1);
    const last = idAt(await chain(store, tenantId), 6);
    const h = earlier.rows[0]!;
    await sql`DELETE FROM audit_events WHERE id = ${last}`.execute(store.db);
    await sql`UPDATE audit_chain_heads SET last_seq = ${h.last_seq}, last_hash = ${h.last_hash}, sealed_at = ${h.sealed_at}, sign_key_id = ${h.sign_key_id}, signature = ${h.signature} WHERE tenant_id = ${tenantId}`.execute(store.db);

    // without the checkpoint the rewound chain looks whole: that is what the checkpoint file is for
    expect((await verifyChain(store.db, { tenantId, keys: TEST_KEYS })).ok).toBe(true);
    const r = await verify(tenantId);
    expect(r.code).toBe(1);
    expect(found(r.report, tenantId)).toEqual([{ eventId: ids[4], chainSeq: 5, kind: 'truncated' }]);
    expect(r.report.tenants[0]!.problems[0]!.detail).toMatch(/records seq 6, but the chain ends at seq 5: rewound or truncated \(1 event gone\)/);
  });

  it('deleting the last row and rewinding the head by hand (unsigned) is named even without a checkpoint', async () => {
    const { tenantId, ids } = await sealed(5);
    const links = await chain(store, tenantId);
    await sql`DELETE FROM audit_events WHERE id = ${ids[4]}`.execute(store.db);
    await sql`UPDATE audit_chain_heads SET last_seq = 4, last_hash = ${links[3]!.hash} WHERE tenant_id = ${tenantId}`.execute(store.db);
    const r = await verifyCli(s, '--tenant', slugOf(tenantId), '--checkpoints', '/dev/null');
    expect(found(r.report, tenantId)).toEqual([{ eventId: ids[3], chainSeq: 4, kind: 'head_mismatch' }]);
  });

  // every column of audit_events, each edited alone on the third sealed event
  const edits: Record<string, string> = {
    tenant_id: `tenant_id = '${randomUUID()}'`,
    occurred_at: "occurred_at = occurred_at + interval '1 microsecond'",
    type: "type = 'user.unlocked'",
    outcome: "outcome = 'denied'",
    actor_type: "actor_type = 'system'",
    actor_id: "actor_id = 'someone-else'",
    target_type: "target_type = 'session'",
    target_id: "target_id = 'other'",
    ip: "ip = '198.51.100.7'",
    user_agent: "user_agent = 'curl'",
    channel: "channel = 'cli'",
    request_id: "request_id = 'req-x'",
    data: `data = data || '{"n": 999}'::jsonb`,
    chain_seq: 'chain_seq = 99',
    prev_hash: `prev_hash = '${'f'.repeat(64)}'`,
    hash: `hash = '${'a'.repeat(64)}'`,
    nonce: "nonce = 'n'",
    mac: `mac = '${'0'.repeat(64)}'`,
    mac_key_id: "mac_key_id = 'm-0000000000000000'",
  };
  it.each(Object.keys(edits))('an edit of %s alone is named at that event', async (column) => {
    const { tenantId, ids } = await sealed();
    await sql.raw(`UPDATE audit_events SET ${edits[column]} WHERE id = ${ids[2]}`).execute(store.db);
    const r = column === 'tenant_id' ? await verifyCli(s, '--checkpoints', checkpoints) : await verify(tenantId);
    expect(r.code, r.text).toBe(1);
    const all = r.report.tenants.flatMap((t) => t.problems);
    expect(all.some((p) => p.eventId === ids[2]), JSON.stringify(all)).toBe(true);
    expect(all.find((p) => p.eventId === ids[2])!.kind).toMatch(/^(edited|deleted|reordered)$/);
  });

  it('an edit of id (a row deleted and re-inserted under another id) is named', async () => {
    const { tenantId, ids } = await sealed();
    await store.db.transaction().execute(async (trx) => {
      const row = (await sql<Record<string, unknown>>`DELETE FROM audit_events WHERE id = ${ids[2]} RETURNING *`.execute(trx)).rows[0]!;
      const cols = Object.keys(row);
      await sql`INSERT INTO audit_events (${sql.join(cols.map((c) => sql.ref(c)))}) OVERRIDING SYSTEM VALUE VALUES (${sql.join(cols.map((c) => (c === 'id' ? Number(row.id) + 1_000_000 : c === 'data' ? JSON.stringify(row.data) : row[c])))})`.execute(trx);
    });
    const r = await verify(tenantId);
    expect(found(r.report, tenantId)).toContainEqual({ eventId: ids[2]! + 1_000_000, chainSeq: 3, kind: 'edited' });
  });

  it('a microsecond change to an event not sealed yet keeps it out of the chain', async () => {
    const { tenantId } = await sealed(2);
    await append(store, tenantId, 2, 2);
    const [a] = (await store.db.selectFrom('audit_events').select('id').where('tenant_id', '=', tenantId).where('chain_seq', 'is', null).orderBy('id').execute()).map((x) => Number(x.id));
    await sql`UPDATE audit_events SET occurred_at = occurred_at + interval '1 microsecond' WHERE id = ${a}`.execute(store.db);
    expect(found((await verify(tenantId)).report, tenantId)).toEqual([{ eventId: a, chainSeq: null, kind: 'inserted' }]);
    expect(await sealTenant(s, tenantId)).toBe(2); // the other event and the alert
    expect(await quarantineReason(store, a!)).toBe('mac_invalid');
  });

  it('a swap of two rows is named at both', async () => {
    const { tenantId, ids } = await sealed();
    const [a, b] = [ids[1]!, ids[4]!];
    await store.db.transaction().execute(async (trx) => {
      await sql`UPDATE audit_events SET chain_seq = -1 WHERE id = ${a}`.execute(trx);
      await sql`UPDATE audit_events SET chain_seq = 2 WHERE id = ${b}`.execute(trx);
      await sql`UPDATE audit_events SET chain_seq = 5 WHERE id = ${a}`.execute(trx);
    });
    const r = await verify(tenantId);
    expect(r.code).toBe(1);
    expect(found(r.report, tenantId)).toEqual([{ eventId: b, chainSeq: 2, kind: 'reordered' }, { eventId: a, chainSeq: 5, kind: 'reordered' }]);
  });

  it('a quarantine row added by hand to hold back a real event is named', async () => {
    const { tenantId } = await sealed(1);
    await append(store, tenantId, 1, 1);
    const pending = Number((await store.db.selectFrom('audit_events').select('id').where('tenant_id', '=', tenantId).where('chain_seq', 'is', null).executeTakeFirstOrThrow()).id);
    await sql`INSERT INTO audit_quarantine (event_id, tenant_id, reason, flagged_at) VALUES (${pending}, ${tenantId}, 'mac_invalid', now())`.execute(store.db);
    expect(found((await verify(tenantId)).report, tenantId)).toEqual([{ eventId: pending, chainSeq: null, kind: 'withheld' }]);
  });

  it('truncating the table after a checkpoint is named (with and without the heads)', async () => {
    const s2 = await testStore(backend);
    try {
      const { s: svc, checkpoints: cpFile } = auditServices(s2);
      const tenantId = await newTenant(s2);
      await append(s2, tenantId, 4);
      await sealTenant(svc, tenantId);
      expect(readFileSync(cpFile, 'utf8').trim().split('\n')).toHaveLength(1);
      await sql`TRUNCATE audit_events`.execute(s2.db);
      let r = await verifyCli(svc, '--checkpoints', cpFile);
      expect(r.code).toBe(1);
      expect(found(r.report, tenantId)).toEqual([
        { eventId: null, chainSeq: null, kind: 'deleted' },
        { eventId: null, chainSeq: null, kind: 'truncated' },
      ]);
      await sql`TRUNCATE audit_chain_heads`.execute(s2.db);
      r = await verifyCli(svc, '--checkpoints', cpFile);
      expect(r.code).toBe(1);
      expect(found(r.report, tenantId)).toEqual([{ eventId: null, chainSeq: null, kind: 'truncated' }]);
      expect(r.text).toContain('records seq 4, but the chain ends at no event: rewound or truncated (4 events gone)');
    } finally {
      await s2.close();
    }
  });

  it('a checkpoint line altered in the file is named, and the exit codes are as documented', async () => {
    const { tenantId } = await sealed(2);
    const bad = JSON.stringify({ ...JSON.parse(readFileSync(checkpoints, 'utf8').trim().split('\n').at(-1)!), seq: 99 });
    const file = join(mkdtempSync(join(tmpdir(), 'cw-cp-')), 'cp.jsonl');
    writeFileSync(file, bad + '\n');
    const r = await verifyCli(s, '--tenant', slugOf(tenantId), '--checkpoints', file);
    expect(r.code).toBe(1);
    expect(r.report.checkpoints?.problems).toEqual([{ line: 1, tenantId, detail: 'checkpoint of seq 99: its signature does not verify' }]);
    const run = (...args: string[]) => main(['node', 'callwarden', 'audit', 'verify', ...args], { out: () => {}, err: () => {}, env: {}, services: s });
    expect(await run('--checkpoints', '/nonexistent/cp.jsonl')).toBe(2);
    expect(await run('--tenant', 'no-such-tenant')).toBe(3);
  });
});
