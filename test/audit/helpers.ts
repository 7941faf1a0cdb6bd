/**
 * Shared fixtures of the audit integrity tests: a service context over a test store with known key
 * material and a checkpoint file, `callwarden audit verify` run in-process against it, and a
 * checksum of the audit tables that proves verification wrote nothing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { expect } from 'vitest';
import type { VerifyReport } from '../../src/audit/verify.js';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/load.js';
import { createServices, type Services } from '../../src/services/context.js';
import type { Db } from '../../src/storage/db.js';
import type { Store } from '../../src/storage/store.js';

/** The encryption key the test keys derive from (TEST_KEYS in test/helpers/audit-chain.ts). */
export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 1).toString('base64');

export function auditServices(store: Store, env: Record<string, string> = {}): { s: Services; checkpoints: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cw-audit-'));
  const checkpoints = join(dir, 'checkpoints.jsonl');
  const config = loadConfig({ CALLWARDEN_DATA_DIR: 'memory:', CALLWARDEN_LOG_LEVEL: 'silent', CALLWARDEN_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, CALLWARDEN_AUDIT_CHECKPOINTS: checkpoints, ...env });
  return { s: createServices(config, store), checkpoints };
}

export interface VerifyRun {
  code: number;
  report: VerifyReport;
  text: string;
  err: string;
}

/** `callwarden audit verify --json [args]` on the open service context; also asserts it wrote nothing. */
export async function verifyCli(s: Services, ...args: string[]): Promise<VerifyRun> {
  const before = await auditChecksum(s.store.db);
  const run = async (extra: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['node', 'callwarden', 'audit', 'verify', ...extra, ...args], { out: (l) => out.push(l), err: (l) => err.push(l), env: {}, services: s });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const json = await run(['--json']);
  const text = await run([]);
  expect(await auditChecksum(s.store.db), 'audit verify wrote nothing').toEqual(before);
  expect(text.code).toBe(json.code);
  return { code: json.code, report: JSON.parse(json.out) as VerifyReport, text: text.out, err: json.err };
}

/** Row count and an md5 over every row of the audit tables (audit_events, heads, quarantine, integrity). */
export async function auditChecksum(db: Db): Promise<Record<string, { n: number; sum: string }>> {
  const out: Record<string, { n: number; sum: string }> = {};
  for (const [table, order] of [['audit_events', 'id'], ['audit_chain_heads', 'tenant_id'], ['audit_quarantine', 'event_id'], ['audit_integrity', 'singleton']] as const) {
    const r = await sql<{ n: number; sum: string }>`SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t.${sql.raw(order)}), '')) AS sum FROM ${sql.table(table)} t`.execute(db);
    out[table] = r.rows[0]!;
  }
  return out;
}

/** The problems of one tenant as (eventId, chainSeq, kind). */
export const found = (r: VerifyReport, tenantId: string) =>
  (r.tenants.find((t) => t.tenantId === tenantId)?.problems ?? []).map((p) => ({ eventId: p.eventId, chainSeq: p.chainSeq, kind: p.kind }));
