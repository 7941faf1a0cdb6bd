/**
 * The server's own events, whatever statement writes them (plain inserts, the sign-in engine's
 * one-statement writes, a wrong password), carry MACs that verify: the sealer chains all of them and
 * leaves none out; the verify route answers with the signed checkpoint from the configured file.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditKeys } from '../../src/audit/keys.js';
import { sealAll } from '../../src/audit/seal.js';
import { verifyChain } from '../../src/audit/verify.js';
import { api, seed, signIn, STRONG, testApp, type TestApp } from '../helpers/app.js';

describe('events written by the server', () => {
  let t: TestApp;
  let admin: string;
  let tenantId: string;
  const checkpoints = join(mkdtempSync(join(tmpdir(), 'cw-srv-')), 'cp.jsonl');
  beforeAll(async () => {
    t = await testApp({ env: { CALLWARDEN_AUDIT_CHECKPOINTS: checkpoints } });
    const seeded = await seed(t, { users: [{ email: 'admin@acme.test', roles: ['tenant_admin'] }, { email: 'ann@acme.test', roles: ['agent'] }] });
    admin = seeded.users['admin@acme.test']!.token!;
    tenantId = seeded.tenantId;
    await signIn(t.app, 'acme', 'ann@acme.test', 'not the password at all');
    await signIn(t.app, 'acme', 'ann@acme.test', STRONG);
  });
  afterAll(() => t?.close());

  it('every event carries a MAC that verifies; the sealer chains them all and flags none', async () => {
    const rows = (await sql<{ n: number; keyed: number }>`SELECT count(*)::int AS n, count(mac)::int AS keyed FROM audit_events`.execute(t.s.store.db)).rows[0]!;
    expect(rows.n).toBeGreaterThan(10);
    expect(rows.keyed).toBe(rows.n);
    const n = await sealAll(t.s);
    expect(n).toBe(rows.n);
    const q = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_quarantine`.execute(t.s.store.db)).rows[0]!;
    expect(q.n).toBe(0);
    const report = await verifyChain(t.s.store.db, { keys: auditKeys(t.s.config) });
    expect(report.ok, JSON.stringify(report.tenants.flatMap((x) => x.problems))).toBe(true);
    const types = (await t.s.store.db.selectFrom('audit_events').select('type').distinct().execute()).map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(['session.created', 'auth.attempt']));
  });

  it('the verify route holds the chain to the configured checkpoint file and shows it', async () => {
    await sealAll(t.s);
    const lines = readFileSync(checkpoints, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tenantId: string; seq: number });
    const newest = Math.max(...lines.filter((l) => l.tenantId === tenantId).map((l) => l.seq));
    const res = await api(t.app).get('/v1/tenants/acme/audit/verify', { token: admin });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { ok: boolean; tenants: Array<{ macs: string; checkpoint: { seq: number; source: string } | null }> };
    expect(body.ok).toBe(true);
    expect(body.tenants[0]).toMatchObject({ macs: 'checked', checkpoint: { seq: newest, source: 'file' } });
  });
});
