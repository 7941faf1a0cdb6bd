/** Audit queries and export over sealed chains, on PGlite and PostgreSQL. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, chainHash, eventFields } from '../../src/audit/canonical.js';
import { exportEvents, queryEvents, type AuditRecord } from '../../src/audit/query.js';
import { sealTenant } from '../../src/audit/seal.js';
import type { Store } from '../../src/storage/store.js';
import { append, appendBulk, BASE, newTenant, sealer } from '../helpers/audit-chain.js';
import { backends, testStore } from '../helpers/db.js';

describe.each(await backends())('audit queries on %s', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await testStore(backend);
  });
  afterAll(async () => {
    await store?.close();
  });

  describe('queries', () => {
    it('queryEvents filters, pages newest first with a cursor and caps the limit', async () => {
      const tenantId = await newTenant(store);
      const other = await newTenant(store);
      await append(store, tenantId, 12);
      await append(store, other, 3);
      await sealTenant(sealer(store), tenantId, { batch: 5 });

      const all = await queryEvents(store.db, { tenantId });
      expect(all).toHaveLength(12);
      expect(all.map((e) => e.id)).toEqual([...all.map((e) => e.id)].sort((x, y) => y - x));
      expect(all.every((e) => e.tenantId === tenantId)).toBe(true);
      const newest = all[0]!;
      expect(newest).toMatchObject({ occurredAt: new Date(BASE + 11_000).toISOString(), type: 'factor.totp.verify', actorType: 'user', requestId: 'req-11', chainSeq: 12 });
      expect(newest.data).toEqual({ n: 11, nested: { a: null, b: [1, 2.5, 'x'] } });
      expect(JSON.parse(JSON.stringify(newest))).toEqual(newest);

      const page1 = await queryEvents(store.db, { tenantId, limit: 5 });
      const page2 = await queryEvents(store.db, { tenantId, limit: 5, before: page1.at(-1)!.id });
      expect([...page1, ...page2].map((e) => e.id)).toEqual(all.slice(0, 10).map((e) => e.id));

      expect((await queryEvents(store.db, { tenantId, type: 'signin.password' })).map((e) => e.data)).toHaveLength(6);
      expect((await queryEvents(store.db, { tenantId, outcome: 'failure' })).length).toBe(4);
      expect((await queryEvents(store.db, { tenantId, actorId: 'user-1' })).map((e) => (e.data as { n: number }).n)).toEqual([9, 5, 1]);
      const window = await queryEvents(store.db, { tenantId, from: new Date(BASE + 3000), to: new Date(BASE + 6000).toISOString() });
      expect(window.map((e) => (e.data as { n: number }).n)).toEqual([5, 4, 3]);
      expect(await queryEvents(store.db, { tenantId, limit: 0 })).toHaveLength(1);
      await expect(queryEvents(store.db, { tenantId, from: 'not a date' })).rejects.toThrow(RangeError);
    });

    it('queryEvents returns at most 1000 rows', async () => {
      const tenantId = await newTenant(store);
      await appendBulk(store, tenantId, 1005);
      expect(await queryEvents(store.db, { tenantId, limit: 5000 })).toHaveLength(1000);
    });

    it('exportEvents yields JSON lines oldest first, in pages, that re-verify on their own', async () => {
      const tenantId = await newTenant(store);
      await append(store, tenantId, 11);
      await sealTenant(sealer(store), tenantId);
      await append(store, tenantId, 1, 11);

      const lines: string[] = [];
      for await (const line of exportEvents(store.db, { tenantId, pageSize: 4 })) lines.push(line);
      expect(lines).toHaveLength(12);
      expect(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
      const records = lines.map((l) => JSON.parse(l) as AuditRecord);
      expect(records.map((r) => (r.data as { n: number }).n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect(records.at(-1)!.chainSeq).toBeNull();

      // the sealed part of an export can be checked without the database
      let prev = GENESIS_HASH;
      for (const r of records.filter((x) => x.chainSeq !== null)) {
        const fields = eventFields({
          id: r.id, tenant_id: r.tenantId, chain_seq: r.chainSeq!, occurred_at: new Date(r.occurredAt), type: r.type, outcome: r.outcome,
          actor_type: r.actorType, actor_id: r.actorId, target_type: r.targetType, target_id: r.targetId, ip: r.ip, user_agent: r.userAgent,
          channel: r.channel, request_id: r.requestId, data: r.data, occurred_us: r.occurredUs, nonce: r.nonce, mac: r.mac, mac_key_id: r.macKeyId,
        });
        expect(r.prevHash).toBe(prev);
        expect(chainHash(prev, fields)).toBe(r.hash);
        prev = r.hash!;
      }

      const failures: string[] = [];
      for await (const line of exportEvents(store.db, { tenantId, outcome: 'failure', pageSize: 2 })) failures.push(line);
      expect(failures.map((l) => (JSON.parse(l) as AuditRecord).data)).toEqual([0, 3, 6, 9].map((n) => ({ n, nested: { a: null, b: [1, 2.5, 'x'] } })));
    });
  });
});
