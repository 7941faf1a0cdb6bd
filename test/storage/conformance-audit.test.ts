/**
 * Storage conformance, the audit repository: an event and its MAC go in one INSERT (append, and
 * auditRow for statements that write events alongside other rows); what the store gives back (the
 * time to the microsecond, the data as jsonb returns it, the uuid, the texts) is exactly what the MAC
 * was computed over, on PGlite and PostgreSQL; the unique nonce refuses a copied row.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventColumnsSql } from '../../src/audit/canonical.js';
import { checkMac, dateMicros, withMac, type MacRow } from '../../src/audit/mac.js';
import { AuditRepo, auditRow } from '../../src/storage/repositories/audit.js';
import type { Store } from '../../src/storage/store.js';
import { newTenant, TEST_KEYS } from '../helpers/audit-chain.js';
import { backends, testStore } from '../helpers/db.js';

describe.each(await backends())('audit storage on %s', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await testStore(backend);
  });
  afterAll(() => store?.close());

  const read = async (tenantId: string) => (await sql<MacRow>`SELECT ${sql.raw(eventColumnsSql())} FROM audit_events WHERE tenant_id = ${tenantId} ORDER BY id`.execute(store.db)).rows;

  it('append stores nonce, MAC and key id with the event, and the stored row verifies exactly', async () => {
    const tenantId = await newTenant(store);
    const at = new Date('2026-02-03T04:05:06.789Z');
    const awkward = { n: [0, -0, 1e21, 0.1, 5e-324, 9007199254740991], s: 'é € 😀 "q" \\ \n', nested: { z: null, a: [true, false] }, gone: undefined, when: new Date(0) };
    const events = [
      withMac(TEST_KEYS, { tenantId, type: 'signin.password', outcome: 'failure', actor: { type: 'anonymous' }, origin: { ip: '2001:DB8::1', userAgent: 'UA', channel: 'api', requestId: 'r1' }, data: awkward as unknown as Record<string, unknown>, at }),
      withMac(TEST_KEYS, { tenantId, type: 'user.invited', outcome: 'success', actor: { type: 'user', id: 'u1' }, target: { type: 'user', id: 'u2' }, at }),
    ];
    await store.audit.append(events);
    const rows = await read(tenantId);
    expect(rows).toHaveLength(2);
    for (const [i, row] of rows.entries()) {
      expect(row).toMatchObject({ nonce: events[i]!.nonce, mac: events[i]!.mac, mac_key_id: TEST_KEYS.mac.id });
      expect(row.occurred_us).toBe(dateMicros(at));
      expect(checkMac(TEST_KEYS, row)).toEqual({ ok: true });
    }
    expect(new Set(rows.map((r) => r.nonce)).size).toBe(2);
    // the stored values are the MAC's, to the microsecond
    await sql`UPDATE audit_events SET occurred_at = occurred_at + interval '1 microsecond' WHERE nonce = ${events[1]!.nonce}`.execute(store.db);
    expect(checkMac(TEST_KEYS, (await read(tenantId))[1]!).ok).toBe(false);
  });

  it('auditRow writes the same columns inside another statement (a CTE), and the row verifies', async () => {
    const tenantId = await newTenant(store);
    const e = withMac(TEST_KEYS, { tenantId: tenantId.toUpperCase(), type: 'session.created', outcome: 'success', actor: { type: 'user', id: 'u' }, at: new Date() });
    expect(Object.keys(auditRow(e))).toEqual(expect.arrayContaining(['nonce', 'mac', 'mac_key_id']));
    await store.db.with('a', (d) => d.insertInto('audit_events').values(auditRow(e)).returning('id')).selectFrom('a').select('id').execute();
    const [row] = await read(tenantId);
    expect(row!.tenant_id).toBe(tenantId); // the uuid comes back lower case; the MAC covers it lower case
    expect(checkMac(TEST_KEYS, row!)).toEqual({ ok: true });
  });

  it('the unique nonce refuses a second row with the same nonce', async () => {
    const tenantId = await newTenant(store);
    const e = withMac(TEST_KEYS, { tenantId, type: 'x', outcome: 'info', actor: { type: 'system' }, at: new Date() });
    await new AuditRepo(store.db).append(e);
    await expect(new AuditRepo(store.db).append(e)).rejects.toThrow();
    expect(await read(tenantId)).toHaveLength(1);
  });
});
