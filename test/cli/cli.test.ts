/**
 * The `callwarden` command driven in-process through `main(argv, io)` on a temporary embedded store:
 * set-up commands, exit codes, and `audit verify` catching an edited, a deleted and a reordered event
 * (on PGlite, and once on PostgreSQL when it is reachable).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { openDatabase, type Database } from '../../src/storage/db.js';
import { createPgDatabase, postgresAvailable } from '../helpers/db.js';

const OPERATOR = { email: 'operator@callwarden.test', password: 'platform keeper passphrase 2026' };
const BASE_ENV = { CALLWARDEN_LOG_LEVEL: 'silent', CALLWARDEN_ARGON2_MEMORY_KIB: '8192', CALLWARDEN_ARGON2_ITERATIONS: '1' };

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cw-cli-'));
  temps.push(d);
  return d;
}

interface Run {
  code: number;
  out: string;
  err: string;
}
async function cli(env: Record<string, string>, ...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'callwarden', ...args], { out: (l) => out.push(l), err: (l) => err.push(l), env: { ...BASE_ENV, ...env } });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
/** Runs a command that must succeed; returns its output. */
async function ok(env: Record<string, string>, ...args: string[]): Promise<string> {
  const r = await cli(env, ...args);
  expect(r, `callwarden ${args.join(' ')}`).toMatchObject({ code: 0, err: '' });
  return r.out;
}

/** Operator, tenants each with an invited admin and two agents: several audit events per tenant. */
async function populate(env: Record<string, string>, slugs: string[]): Promise<void> {
  await ok(env, 'admin', 'create', '--email', OPERATOR.email, '--password', OPERATOR.password);
  for (const slug of slugs) {
    await ok(env, 'tenant', 'create', '--slug', slug, '--name', `${slug} Contact Center`, '--admin', `boss@${slug}.test`);
    await ok(env, 'user', 'invite', '--tenant', slug, '--email', `ann@${slug}.test`, '--role', 'agent');
    await ok(env, 'user', 'invite', '--tenant', slug, '--email', `ben@${slug}.test`, '--role', 'agent', 'supervisor');
  }
}

interface SealedRow {
  id: number;
  chain_seq: number;
}
async function sealedRows(database: Database, slug: string): Promise<SealedRow[]> {
  const r = await sql<{ id: number | string; chain_seq: number | string }>`
    SELECT e.id, e.chain_seq FROM audit_events e JOIN tenants t ON t.id = e.tenant_id
    WHERE t.slug = ${slug} AND e.chain_seq IS NOT NULL ORDER BY e.chain_seq`.execute(database.db);
  return r.rows.map((x) => ({ id: Number(x.id), chain_seq: Number(x.chain_seq) }));
}

/** The three tampers; each returns the report line fragments `audit verify` must print. */
const tampers = {
  async edit(database: Database, slug: string): Promise<string[]> {
    const [, row] = await sealedRows(database, slug);
    await sql`UPDATE audit_events SET outcome = CASE WHEN outcome = 'success' THEN 'failure' ELSE 'success' END WHERE id = ${row!.id}`.execute(database.db);
    return [`event ${row!.id} (seq ${row!.chain_seq}): edited`];
  },
  async delete(database: Database, slug: string): Promise<string[]> {
    const rows = await sealedRows(database, slug);
    expect(rows.length).toBeGreaterThanOrEqual(3);
    const [, gone, next] = rows;
    await sql`DELETE FROM audit_events WHERE id = ${gone!.id}`.execute(database.db);
    return [`event ${next!.id} (seq ${next!.chain_seq}): deleted: seq ${gone!.chain_seq} is missing`];
  },
  async swap(database: Database, slug: string): Promise<string[]> {
    const [, a, b] = await sealedRows(database, slug);
    await database.db.transaction().execute(async (trx) => {
      await sql`UPDATE audit_events SET chain_seq = -1 WHERE id = ${a!.id}`.execute(trx);
      await sql`UPDATE audit_events SET chain_seq = ${a!.chain_seq} WHERE id = ${b!.id}`.execute(trx);
      await sql`UPDATE audit_events SET chain_seq = ${b!.chain_seq} WHERE id = ${a!.id}`.execute(trx);
    });
    return [`event ${a!.id} (seq ${b!.chain_seq}): reordered`, `event ${b!.id} (seq ${a!.chain_seq}): reordered`];
  },
};

/** Opens the store directly, tampers, and closes it before the CLI reopens it. */
async function tamper(opts: { dataDir?: string; url?: string }, fn: (d: Database) => Promise<string[]>): Promise<string[]> {
  const database = await openDatabase(opts);
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}

async function expectBroken(env: Record<string, string>, expected: string[]): Promise<void> {
  const r = await cli(env, 'audit', 'verify');
  expect(r.code, r.out).toBe(1);
  for (const line of expected) expect(r.out).toContain(line);
  expect(r.out).toContain('audit chain BROKEN');
  expect(r.err).toContain('audit chain verification FAILED');
}

describe('callwarden CLI on the embedded store', () => {
  const env = { CALLWARDEN_DATA_DIR: join(tempDir(), 'data') };

  it('migrate applies the migrations once, then is up to date', async () => {
    expect(await ok(env, 'migrate')).toMatch(/^applied: 0001_foundation/);
    expect(await ok(env, 'migrate')).toBe('up to date');
  });

  it('admin create makes the operator and refuses a second one with the same email', async () => {
    expect(await ok(env, 'admin', 'create', '--email', OPERATOR.email, '--password', OPERATOR.password)).toMatch(/^operator operator@callwarden\.test created \(.+\); sign in to tenant "platform"$/);
    const again = await cli(env, 'admin', 'create', '--email', OPERATOR.email, '--password', OPERATOR.password);
    expect(again.code).toBe(3);
    expect(again.err).toContain('already_exists');
  });

  it('admin create refuses a weak password (usage error) and no password at all', async () => {
    const weak = await cli(env, 'admin', 'create', '--email', 'second@callwarden.test', '--password', 'password');
    expect(weak.code).toBe(2);
    expect(weak.err).toContain('weak_password');
    const none = await cli(env, 'admin', 'create', '--email', 'second@callwarden.test');
    expect(none.code).toBe(2);
    expect(none.err).toContain('--password');
  });

  it('tenant create / list', async () => {
    const created = await ok(env, 'tenant', 'create', '--slug', 'acme', '--name', 'Acme Contact Center', '--mfa', 'required', '--admin', 'boss@acme.test');
    expect(created).toContain('tenant acme created');
    expect(created).toContain('MFA required');
    expect(created).toContain('invited boss@acme.test as tenant_admin');
    const list = (await ok(env, 'tenant', 'list')).split('\n');
    expect(list.some((l) => l.startsWith('platform\t') && l.endsWith('(platform)'))).toBe(true);
    expect(list.some((l) => l.startsWith('acme\tAcme Contact Center\t'))).toBe(true);
    const json = (await ok(env, 'tenant', 'list', '--json')).split('\n').map((l) => JSON.parse(l) as { slug: string });
    expect(json.map((t) => t.slug).sort()).toEqual(['acme', 'platform']);
    expect((await cli(env, 'tenant', 'create', '--slug', 'acme')).code).toBe(3);
  });

  it('user invite / list / disable', async () => {
    expect(await ok(env, 'user', 'invite', '--tenant', 'acme', '--email', 'Agent.Smith@Acme.test', '--role', 'agent', 'supervisor')).toMatch(/^invited agent\.smith@acme\.test \(.+\) with roles agent, supervisor/);
    const list = await ok(env, 'user', 'list', '--tenant', 'acme');
    expect(list).toMatch(/^agent\.smith@acme\.test\tinvited\tagent,supervisor\t/m);
    expect(list).toMatch(/^boss@acme\.test\tinvited\ttenant_admin\t/m);
    expect(await ok(env, 'user', 'disable', '--tenant', 'acme', '--email', 'AGENT.SMITH@acme.test')).toMatch(/^disabled agent\.smith@acme\.test; 0 session\(s\) revoked$/);
    const users = (await ok(env, 'user', 'list', '--tenant', 'acme', '--json')).split('\n').map((l) => JSON.parse(l) as { email: string; status: string });
    expect(users.find((u) => u.email === 'agent.smith@acme.test')?.status).toBe('disabled');
    expect((await cli(env, 'user', 'invite', '--tenant', 'acme', '--email', 'x@acme.test', '--role', 'wizard')).code).toBe(2);
    expect((await cli(env, 'user', 'disable', '--tenant', 'acme', '--email', 'nobody@acme.test')).code).toBe(3);
  });

  it('outbox list shows the setup links', async () => {
    const out = await ok(env, 'outbox', 'list', '--tenant', 'acme', '--to', 'BOSS@acme.test');
    expect(out).toContain('to boss@acme.test');
    expect(out).toMatch(/\/setup#token=[\w-]{20,}/);
    expect(await ok(env, 'outbox', 'list', '--to', 'nobody@acme.test')).toBe('outbox is empty');
  });

  it('bad usage exits 2', async () => {
    for (const args of [['tenant', 'create'], ['frobnicate'], ['user', 'invite', '--tenant', 'acme'], ['tenant', 'create', '--slug', 'x', '--mfa', 'sometimes'], ['migrate', '--bogus']]) {
      expect((await cli(env, ...args)).code, args.join(' ')).toBe(2);
    }
  });

  it('an unknown tenant exits 3', async () => {
    for (const args of [['user', 'list', '--tenant', 'nope'], ['user', 'invite', '--tenant', 'nope', '--email', 'a@b.test'], ['outbox', 'list', '--tenant', 'nope'], ['audit', 'verify', '--tenant', 'nope'], ['audit', 'export', '--tenant', 'nope']]) {
      const r = await cli(env, ...args);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.err).toContain('no tenant "nope"');
    }
  });

  it('invalid configuration exits 2 naming the variable', async () => {
    const r = await cli({ ...env, PORT: 'abc' }, 'tenant', 'list');
    expect(r.code).toBe(2);
    expect(r.err).toContain('PORT');
    const m = await cli({ ...env, CALLWARDEN_MODE: 'production' }, 'migrate');
    expect(m.code).toBe(2);
    expect(m.err).toContain('CALLWARDEN_ENCRYPTION_KEY');
  });

  it('audit verify seals and passes on an untouched store; export prints the events', async () => {
    const r = await cli(env, 'audit', 'verify', '--seal');
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/audit chain intact \(2 tenants\)/);
    expect(r.out).toMatch(/, 0 not yet sealed/);
    const lines = (await ok(env, 'audit', 'export', '--tenant', 'acme')).split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(lines.map((e) => e.type)).toEqual(expect.arrayContaining(['tenant.created', 'user.invited', 'user.disabled']));
  });

  it('audit verify exits 1 naming an edited event', async () => {
    const expected = await tamper({ dataDir: env.CALLWARDEN_DATA_DIR }, (d) => tampers.edit(d, 'acme'));
    await expectBroken(env, expected);
    expect((await cli(env, 'audit', 'verify', '--tenant', 'platform')).code).toBe(0); // other chains unaffected
  });
});

describe('audit verify on fresh embedded stores', () => {
  let base: string;
  beforeAll(async () => {
    base = join(tempDir(), 'data');
    const env = { CALLWARDEN_DATA_DIR: base };
    await populate(env, ['acme']);
    expect((await cli(env, 'audit', 'verify', '--seal')).code).toBe(0);
  });
  /** A copy of the populated, sealed store (closed), so each tamper starts from an intact chain. */
  const fresh = () => {
    const dir = join(tempDir(), 'data');
    cpSync(base, dir, { recursive: true });
    return { CALLWARDEN_DATA_DIR: dir };
  };

  it.each(['edit', 'delete', 'swap'] as const)('names the event after a %s', async (kind) => {
    const env = fresh();
    expect((await cli(env, 'audit', 'verify')).code).toBe(0);
    const expected = await tamper({ dataDir: env.CALLWARDEN_DATA_DIR }, (d) => tampers[kind](d, 'acme'));
    await expectBroken(env, expected);
  });
});

const PG = await postgresAvailable();

describe.runIf(PG)('audit verify on PostgreSQL (DATABASE_URL)', () => {
  let pgdb: Awaited<ReturnType<typeof createPgDatabase>>;
  let env: Record<string, string>;
  beforeAll(async () => {
    pgdb = await createPgDatabase();
    env = { DATABASE_URL: pgdb.url, CALLWARDEN_DATA_DIR: tempDir() };
  });
  afterAll(() => pgdb?.drop());

  it('catches an edit, a deletion and a swap, each in its own tenant', async () => {
    expect(await ok(env, 'migrate')).toMatch(/^applied: /);
    await populate(env, ['pg-edit', 'pg-delete', 'pg-swap', 'pg-clean']);
    expect((await cli(env, 'audit', 'verify', '--seal')).code).toBe(0);
    const expected = await tamper({ url: env.DATABASE_URL }, async (d) => [
      ...(await tampers.edit(d, 'pg-edit')),
      ...(await tampers.delete(d, 'pg-delete')),
      ...(await tampers.swap(d, 'pg-swap')),
    ]);
    await expectBroken(env, expected);
    const r = await cli(env, 'audit', 'verify', '--json');
    const report = JSON.parse(r.out) as { tenants: Array<{ problems: unknown[] }> };
    expect(report.tenants.filter((t) => t.problems.length > 0)).toHaveLength(3);
  });
});
