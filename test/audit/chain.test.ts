/** The audit hash chain on both backends: sealing, verification against tampering, concurrency. */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, chainHash, eventFields } from '../../src/audit/canonical.js';
import { sealAll, sealTenant } from '../../src/audit/seal.js';
import { formatReport, verifyChain, type ChainProblem, type TenantChainReport } from '../../src/audit/verify.js';
import type { Store } from '../../src/storage/store.js';
import { append, appendBulk, BASE, brief, chain, idAt, newTenant, verifyTenant, type Link, sealer } from '../helpers/audit-chain.js';
import { backends, testStore } from '../helpers/db.js';

const BACKENDS = await backends();
describe.each(BACKENDS)('audit chain on %s', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await testStore(backend);
  });
  afterAll(async () => {
    await store?.close();
  });

  /** A tenant with `n` sealed events. */
  async function sealedTenant(n = 10): Promise<{ tenantId: string; links: Link[] }> {
    const tenantId = await newTenant(store);
    await append(store, tenantId, n);
    expect(await sealTenant(sealer(store), tenantId)).toBe(n);
    return { tenantId, links: await chain(store, tenantId) };
  }

  describe('sealing', () => {
    it('links events in id order into a hash chain that verifies', async () => {
      const tenantId = await newTenant(store);
      await append(store, tenantId, 10);
      expect(await sealTenant(sealer(store), tenantId)).toBe(10);
      expect(await sealTenant(sealer(store), tenantId)).toBe(0);

      const links = await chain(store, tenantId);
      expect(links.map((l) => l.chain_seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(links.map((l) => l.id)).toEqual([...links.map((l) => l.id)].sort((a, b) => a - b));
      expect(links[0]!.prev_hash).toBe(GENESIS_HASH);
      for (let i = 1; i < links.length; i++) expect(links[i]!.prev_hash).toBe(links[i - 1]!.hash);

      // each hash is recomputable from the row as stored
      const rows = await store.db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId).orderBy('chain_seq').execute();
      for (const r of rows) expect(chainHash(r.prev_hash!, eventFields({ ...r, chain_seq: r.chain_seq! }))).toBe(r.hash);

      const head = await store.db.selectFrom('audit_chain_heads').selectAll().where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
      expect({ seq: Number(head.last_seq), hash: head.last_hash }).toEqual({ seq: 10, hash: links[9]!.hash });

      const t = await verifyTenant(store, tenantId);
      expect(t).toMatchObject({ ok: true, tenantId, sealed: 10, unsealed: 0, headSeq: 10, problems: [] });
    });

    it('seals in batches and continues the chain across them', async () => {
      const tenantId = await newTenant(store);
      await append(store, tenantId, 23);
      expect(await sealTenant(sealer(store), tenantId, { batch: 5 })).toBe(23);
      const links = await chain(store, tenantId);
      expect(links.map((l) => l.chain_seq)).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
      expect((await verifyTenant(store, tenantId)).ok).toBe(true);
    });

    it('reports events appended after a seal as unsealed, then seals them onto the same chain', async () => {
      const { tenantId, links: first } = await sealedTenant(5);
      await append(store, tenantId, 3, 5);

      let t = await verifyTenant(store, tenantId);
      expect(t).toMatchObject({ ok: true, sealed: 5, unsealed: 3, headSeq: 5, problems: [] });
      expect(formatReport({ ok: true, tenants: [t] })).toContain(`tenant ${tenantId}: 5 sealed events verified, 3 not yet sealed`);

      expect(await sealTenant(sealer(store), tenantId)).toBe(3);
      t = await verifyTenant(store, tenantId);
      expect(t).toMatchObject({ ok: true, sealed: 8, unsealed: 0, headSeq: 8 });
      const links = await chain(store, tenantId);
      expect(links.slice(0, 5)).toEqual(first);
      expect(links[5]!.prev_hash).toBe(first[4]!.hash);
    });

    it('keeps two tenants on independent chains; sealAll seals both', async () => {
      const s = await testStore(backend);
      try {
        const a = await newTenant(s);
        const b = await newTenant(s);
        for (let i = 0; i < 6; i++) {
          await append(s, a, 1, i);
          await append(s, b, 1, i);
        }
        await append(s, a, 2, 6);
        expect(await sealAll(sealer(s))).toBe(14);
        expect(await sealAll(sealer(s))).toBe(0);
        const ca = await chain(s, a);
        const cb = await chain(s, b);
        expect(ca.map((l) => l.chain_seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
        expect(cb.map((l) => l.chain_seq)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(ca[0]!.prev_hash).toBe(GENESIS_HASH);
        expect(cb[0]!.prev_hash).toBe(GENESIS_HASH);

        let all = await verifyChain(s.db);
        expect(all.ok).toBe(true);
        expect(all.tenants.map((t) => t.tenantId).sort()).toEqual([a, b].sort());

        // tampering with one tenant does not touch the other's verdict
        await sql`UPDATE audit_events SET outcome = 'denied' WHERE id = ${idAt(ca, 3)}`.execute(s.db);
        all = await verifyChain(s.db);
        expect(all.ok).toBe(false);
        const ra = all.tenants.find((t) => t.tenantId === a)!;
        const rb = all.tenants.find((t) => t.tenantId === b)!;
        expect(brief(ra.problems)).toEqual([{ eventId: idAt(ca, 3), chainSeq: 3, kind: 'edited' }]);
        expect(rb.problems).toEqual([]);
        expect((await verifyChain(s.db, { tenantId: b })).ok).toBe(true);

        const text = formatReport(all);
        expect(text).toContain(`tenant ${b}: 6 sealed events verified, 0 not yet sealed`);
        expect(text).toContain(`tenant ${a}: 8 sealed events checked, 1 problem, 0 not yet sealed`);
        expect(text).toContain(`  event ${idAt(ca, 3)} (seq 3): edited: hash does not match its content`);
        expect(text).toContain('audit chain BROKEN: 1 problem in 1 tenant');
      } finally {
        await s.close();
      }
    });

    it('concurrent sealers never duplicate a chain_seq or break the chain', async () => {
      const tenantId = await newTenant(store);
      await appendBulk(store, tenantId, 300);
      const counts = await Promise.all(Array.from({ length: 5 }, () => sealTenant(sealer(store), tenantId, { batch: 50 })));
      expect(counts.reduce((x, y) => x + y, 0)).toBe(300);
      const links = await chain(store, tenantId);
      expect(links.map((l) => l.chain_seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
      expect(new Set(links.map((l) => l.id)).size).toBe(300);
      expect(await verifyTenant(store, tenantId)).toMatchObject({ ok: true, sealed: 300, unsealed: 0, headSeq: 300 });
    });

    it('concurrent sealers and appenders end in one intact chain', async () => {
      const tenantId = await newTenant(store);
      const appenders = Array.from({ length: 4 }, (_, w) => appendBulk(store, tenantId, 1, w).then(async () => {
        for (let k = 1; k < 40; k++) await appendBulk(store, tenantId, 1, w * 100 + k);
      }));
      const sealers = Array.from({ length: 5 }, async () => {
        let n = 0;
        for (let k = 0; k < 8; k++) n += await sealTenant(sealer(store), tenantId, { batch: 7 });
        return n;
      });
      const [, counts] = await Promise.all([Promise.all(appenders), Promise.all(sealers)]);
      const rest = await sealTenant(sealer(store), tenantId);
      expect(counts.reduce((x, y) => x + y, 0) + rest).toBe(160);
      const links = await chain(store, tenantId);
      expect(links.map((l) => l.chain_seq)).toEqual(Array.from({ length: 160 }, (_, i) => i + 1));
      expect(await verifyTenant(store, tenantId)).toMatchObject({ ok: true, sealed: 160, unsealed: 0 });
    });
  });

  describe('verification names the tampered event', () => {
    it('edited: an outcome changed', async () => {
      const { tenantId, links } = await sealedTenant();
      await sql`UPDATE audit_events SET outcome = 'denied' WHERE id = ${idAt(links, 4)}`.execute(store.db);
      const t = await verifyTenant(store, tenantId);
      expect(t.ok).toBe(false);
      expect(brief(t.problems)).toEqual([{ eventId: idAt(links, 4), chainSeq: 4, kind: 'edited' }]);
      expect(t.problems[0]!.detail).toBe('hash does not match its content');
    });

    it('edited: the data changed', async () => {
      const { tenantId, links } = await sealedTenant();
      await sql`UPDATE audit_events SET data = data || '{"n": 999}'::jsonb WHERE id = ${idAt(links, 7)}`.execute(store.db);
      expect(brief((await verifyTenant(store, tenantId)).problems)).toEqual([{ eventId: idAt(links, 7), chainSeq: 7, kind: 'edited' }]);
    });

    it('edited: the first and last events changed', async () => {
      const { tenantId, links } = await sealedTenant();
      await sql`UPDATE audit_events SET actor_id = 'someone-else' WHERE id IN (${idAt(links, 1)}, ${idAt(links, 10)})`.execute(store.db);
      expect(brief((await verifyTenant(store, tenantId)).problems)).toEqual([
        { eventId: idAt(links, 1), chainSeq: 1, kind: 'edited' },
        { eventId: idAt(links, 10), chainSeq: 10, kind: 'edited' },
      ]);
    });

    it('an edit whose hash was recomputed breaks the link to the next event', async () => {
      const { tenantId, links } = await sealedTenant();
      const row = await store.db.selectFrom('audit_events').selectAll().where('id', '=', idAt(links, 4)).executeTakeFirstOrThrow();
      const forged = chainHash(row.prev_hash!, eventFields({ ...row, chain_seq: 4, outcome: 'success' }));
      await sql`UPDATE audit_events SET outcome = 'success', hash = ${forged} WHERE id = ${row.id}`.execute(store.db);
      const t = await verifyTenant(store, tenantId);
      expect(brief(t.problems)).toEqual([{ eventId: idAt(links, 5), chainSeq: 5, kind: 'reordered' }]);
      expect(t.problems[0]!.detail).toBe(`prev_hash does not match the hash of event ${idAt(links, 4)} (seq 4)`);
    });

    it('deleted: a middle event', async () => {
      const { tenantId, links } = await sealedTenant();
      await sql`DELETE FROM audit_events WHERE id = ${idAt(links, 5)}`.execute(store.db);
      const t = await verifyTenant(store, tenantId);
      expect(t.ok).toBe(false);
      expect(brief(t.problems)).toEqual([{ eventId: idAt(links, 6), chainSeq: 6, kind: 'deleted' }]);
      expect(t.problems[0]!.detail).toBe('seq 5 is missing before this event');
      expect(t.sealed).toBe(9);
    });

    it('deleted: several middle events', async () => {
      const { tenantId, links } = await sealedTenant();
      await sql`DELETE FROM audit_events WHERE id IN (${idAt(links, 3)}, ${idAt(links, 4)}, ${idAt(links, 5)})`.execute(store.db);
      const t = await verifyTenant(store, tenantId);
      expect(brief(t.problems)).toEqual([{ eventId: idAt(links, 6), chainSeq: 6, kind: 'deleted' }]);
      expect(t.problems[0]!.detail).toBe('seq 3..5 (3 events) are missing before this event');
    });

    it('deleted: the last event (the head still records it)', async () => {
      const { tenantId, links } = await sealedTenant();
      await sql`DELETE FROM audit_events WHERE id = ${idAt(links, 10)}`.execute(store.db);
      const t = await verifyTenant(store, tenantId);
      expect(t.ok).toBe(false);
      expect(t.headSeq).toBe(10);
      expect(brief(t.problems)).toEqual([{ eventId: idAt(links, 9), chainSeq: 9, kind: 'deleted' }]);
      expect(t.problems[0]!.detail).toBe('seq 10 is missing after this event (the chain head records seq 10)');
    });

    it('deleted: an event un-sealed (chain fields cleared)', async () => {
      const { tenantId, links } = await sealedTenant();
      await sql`UPDATE audit_events SET chain_seq = NULL, prev_hash = NULL, hash = NULL WHERE id = ${idAt(links, 2)}`.execute(store.db);
      const t = await verifyTenant(store, tenantId);
      expect(brief(t.problems)).toEqual([{ eventId: idAt(links, 3), chainSeq: 3, kind: 'deleted' }]);
      expect(t.unsealed).toBe(1);
    });

    it('deleted: every event', async () => {
      const { tenantId } = await sealedTenant(3);
      await sql`DELETE FROM audit_events WHERE tenant_id = ${tenantId}`.execute(store.db);
      const t = await verifyTenant(store, tenantId);
      expect(t.problems).toEqual([{ eventId: null, chainSeq: null, kind: 'deleted', detail: 'the chain head records seq 3 but no sealed event remains (3 missing)' }]);
      expect(formatReport({ ok: false, tenants: [t] })).toContain('  chain head: deleted: the chain head records seq 3');
    });

    it('reordered: two events swapped positions (chain_seq)', async () => {
      const { tenantId, links } = await sealedTenant();
      const [a, b] = [idAt(links, 3), idAt(links, 7)];
      await sql`UPDATE audit_events SET chain_seq = -1 WHERE id = ${a}`.execute(store.db);
      await sql`UPDATE audit_events SET chain_seq = 3 WHERE id = ${b}`.execute(store.db);
      await sql`UPDATE audit_events SET chain_seq = 7 WHERE id = ${a}`.execute(store.db);
      const t = await verifyTenant(store, tenantId);
      expect(t.ok).toBe(false);
      expect(brief(t.problems)).toEqual([
        { eventId: b, chainSeq: 3, kind: 'reordered' },
        { eventId: a, chainSeq: 7, kind: 'reordered' },
      ]);
      expect(t.problems[0]!.detail).toBe(`hash does not match its content: its chain_seq was swapped with event ${a} (seq 7)`);
    });

    it('reordered: two neighbours swapped (across a page boundary)', async () => {
      const { tenantId, links } = await sealedTenant();
      const [a, b] = [idAt(links, 3), idAt(links, 4)];
      await sql`UPDATE audit_events SET chain_seq = -1 WHERE id = ${a}`.execute(store.db);
      await sql`UPDATE audit_events SET chain_seq = 3 WHERE id = ${b}`.execute(store.db);
      await sql`UPDATE audit_events SET chain_seq = 4 WHERE id = ${a}`.execute(store.db);
      expect(brief((await verifyTenant(store, tenantId)).problems)).toEqual([
        { eventId: b, chainSeq: 3, kind: 'reordered' },
        { eventId: a, chainSeq: 4, kind: 'reordered' },
      ]);
    });

    it('reordered: the type and time of two events swapped', async () => {
      const { tenantId, links } = await sealedTenant();
      const [a, b] = [idAt(links, 2), idAt(links, 5)];
      await sql`UPDATE audit_events x SET type = y.type, occurred_at = y.occurred_at FROM audit_events y
                WHERE (x.id = ${a} AND y.id = ${b}) OR (x.id = ${b} AND y.id = ${a})`.execute(store.db);
      const t = await verifyTenant(store, tenantId);
      expect(brief(t.problems)).toEqual([
        { eventId: a, chainSeq: 2, kind: 'reordered' },
        { eventId: b, chainSeq: 5, kind: 'reordered' },
      ]);
      expect(t.problems[1]!.detail).toBe(`hash does not match its content: its occurred_at, type were swapped with event ${a} (seq 2)`);
    });

    it('head_mismatch: the head hash altered, or the head removed', async () => {
      const { tenantId, links } = await sealedTenant(4);
      await sql`UPDATE audit_chain_heads SET last_hash = ${'a'.repeat(64)} WHERE tenant_id = ${tenantId}`.execute(store.db);
      expect(brief((await verifyTenant(store, tenantId)).problems)).toEqual([{ eventId: idAt(links, 4), chainSeq: 4, kind: 'head_mismatch' }]);
      await sql`DELETE FROM audit_chain_heads WHERE tenant_id = ${tenantId}`.execute(store.db);
      const t = await verifyTenant(store, tenantId);
      expect(t.headSeq).toBeNull();
      expect(brief(t.problems)).toEqual([{ eventId: idAt(links, 4), chainSeq: 4, kind: 'head_mismatch' }]);
    });
  });

});
