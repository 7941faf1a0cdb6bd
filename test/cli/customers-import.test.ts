/**
 * `callwarden customers import` driven in-process on a temporary embedded store: CSV and JSON lines
 * with a bad line (good rows imported, the bad line reported, exit 1), re-import updates, the
 * progress bar on a terminal, and 2,000 rows in a reasonable time.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { openDatabase } from '../../src/storage/db.js';

const BASE_ENV = { CALLWARDEN_LOG_LEVEL: 'silent', CALLWARDEN_ARGON2_MEMORY_KIB: '8192', CALLWARDEN_ARGON2_ITERATIONS: '1' };

describe('callwarden customers import', () => {
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cw-import-'));
    env = { ...BASE_ENV, CALLWARDEN_DATA_DIR: join(dir, 'data') };
    expect((await cli({}, 'admin', 'create', '--email', 'op@callwarden.test', '--password', 'platform keeper passphrase 2026')).code).toBe(0);
    expect((await cli({}, 'tenant', 'create', '--slug', 'acme')).code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(o: { tty?: string[] }, ...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const stderr = o.tty ? { isTTY: true, write: (c: string) => o.tty!.push(c) } : undefined;
    const code = await main(['node', 'callwarden', ...args], { out: (l) => out.push(l), err: (l) => err.push(l), env, stderr });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  async function query<T>(fn: (db: Awaited<ReturnType<typeof openDatabase>>['db']) => Promise<T>): Promise<T> {
    const database = await openDatabase({ dataDir: env.CALLWARDEN_DATA_DIR });
    try {
      return await fn(database.db);
    } finally {
      await database.close();
    }
  }
  const byExternal = (ids: string[]) => query((db) => db.selectFrom('customers').select(['external_id', 'name']).where('external_id', 'in', ids).orderBy('external_id').execute());

  it('CSV with a bad line: good rows imported, the bad line reported, exit 1', async () => {
    const csv = file(
      'customers.csv',
      [
        'External ID,Name,Account Number,Phones,Email,Date of Birth,National ID',
        'c-1,Ann Able,A-1,(415) 555-0101;415-555-0102,ann@example.com,1980-02-03,123-45-6701',
        'c-2,"Bo, Jr.",A-2,+44 20 7946 0018,,,',
        'c-3,Cy Bad,A-3,,,1980-13-45,',
        '"c-4","Dee ""D"" Dunn",A-4,,dee@example.com,,',
      ].join('\r\n') + '\r\n',
    );
    const r = await cli({}, 'customers', 'import', csv, '--tenant', 'acme');
    expect(r.code).toBe(1);
    expect(r.out).toContain('3 created, 0 updated, 1 failed');
    expect(r.err).toMatch(/^line 4: dateOfBirth: must be a past date/m);
    expect(r.err).toContain('1 line(s) failed');
    expect((await byExternal(['c-1', 'c-2', 'c-3', 'c-4'])).map((c) => c.name)).toEqual(['Ann Able', 'Bo, Jr.', 'Dee "D" Dunn']);
    const phones = await query((db) => db.selectFrom('customer_contacts as k').innerJoin('customers as c', 'c.id', 'k.customer_id').select('k.value').where('c.external_id', '=', 'c-1').orderBy('k.value').execute());
    expect(phones.map((p) => p.value)).toEqual(['+14155550101', '+14155550102', 'ann@example.com']);
    const audits = await query((db) => db.selectFrom('audit_events').select(['type', 'data']).where('type', 'like', 'customer.%').execute());
    expect(audits.filter((x) => x.type === 'customer.created')).toHaveLength(3);
    expect(JSON.stringify(audits)).not.toMatch(/1234?5-?6701|1980-02-03/);

    // a re-import with the bad line fixed updates the three and creates the fourth
    const fixed = file('fixed.csv', 'external_id,name,date_of_birth\nc-1,Ann Able-Baker,\nc-2,"Bo, Jr.",\nc-3,Cy Good,1980-12-25\nc-4,Dee,\n');
    const again = await cli({}, 'customers', 'import', fixed, '--tenant', 'acme');
    expect(again).toMatchObject({ code: 0, err: '' });
    expect(again.out).toContain('1 created, 3 updated, 0 failed');
    expect((await byExternal(['c-1', 'c-3'])).map((c) => c.name)).toEqual(['Ann Able-Baker', 'Cy Good']);
  });

  it('JSON lines with a bad line and a clashing account number: each reported by line, the rest imported', async () => {
    const jsonl = file(
      'customers.jsonl',
      [
        JSON.stringify({ externalId: 'j-1', name: 'Jo', accountNumber: 'J-1', phones: ['+1 415 555 0111'], cardLast4: '1234' }),
        '{"externalId": "j-2", "name": ',
        '',
        JSON.stringify({ external_id: 'j-3', name: 'Kim', account_number: 'A-1' }),
        JSON.stringify({ externalId: 'j-4', name: 'Lu', contacts: [{ kind: 'email', value: 'lu@example.com', verified: true }] }),
        JSON.stringify({ externalId: 'j-4', name: 'Lu Two', emails: ['LU@example.com', 'lu2@example.com'] }),
      ].join('\n'),
    );
    const r = await cli({}, 'customers', 'import', jsonl, '--tenant', 'acme');
    expect(r.code).toBe(1);
    expect(r.out).toContain('2 created, 1 updated, 2 failed');
    expect(r.err).toContain('line 2: not valid JSON');
    expect(r.err).toContain('line 4: account number already belongs to another customer');
    expect((await byExternal(['j-1', 'j-2', 'j-3', 'j-4'])).map((c) => [c.external_id, c.name])).toEqual([['j-1', 'Jo'], ['j-4', 'Lu Two']]);
    // the same external id twice in one batch: the second line updates the first; contacts are added, never duplicated
    const lu = await query((db) => db.selectFrom('customer_contacts as k').innerJoin('customers as c', 'c.id', 'k.customer_id').select(['k.value', 'k.verified_at']).where('c.external_id', '=', 'j-4').orderBy('k.value').execute());
    expect(lu.map((k) => [k.value, k.verified_at !== null])).toEqual([['lu2@example.com', false], ['lu@example.com', true]]);
  });

  it('refuses an unknown format or tenant, and a file with an unknown column', async () => {
    const txt = file('customers.txt', 'name\nX\n');
    expect((await cli({}, 'customers', 'import', txt, '--tenant', 'acme')).code).toBe(2);
    expect((await cli({}, 'customers', 'import', txt, '--tenant', 'nope', '--format', 'csv')).code).toBe(3);
    const typo = await cli({}, 'customers', 'import', file('typo.csv', 'name,nationl_id\nX,123456789\n'), '--tenant', 'acme');
    expect(typo.code).toBe(2);
    expect(typo.err).toContain('Unknown column: nationl_id');
  });

  it('imports 2,000 rows in a reasonable time with a progress bar on a terminal', async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => `bulk-${i},Customer ${i},B-${i},+1415666${String(i).padStart(4, '0')},c${i}@example.com,1970-01-${String((i % 28) + 1).padStart(2, '0')},${String(100000000 + i)}`);
    const csv = file('bulk.csv', ['external_id,name,account_number,phone,email,dob,ssn', ...rows].join('\n'));
    const tty: string[] = [];
    const started = Date.now();
    const r = await cli({ tty }, 'customers', 'import', csv, '--tenant', 'acme');
    const ms = Date.now() - started;
    expect(r, r.err).toMatchObject({ code: 0, err: '' });
    expect(r.out).toContain('2000 created, 0 updated, 0 failed');
    expect(ms).toBeLessThan(30_000);
    const last = tty.filter((c) => c.startsWith('\r')).at(-1)!;
    expect(last).toContain('100% 2000/2000 rows');
    expect(tty.at(-1)).toBe('\n');
    const n = await query((db) => db.selectFrom('customer_contacts').select((eb) => eb.fn.countAll<number>().as('n')).where('value', 'like', '+1415666%').executeTakeFirstOrThrow());
    expect(Number(n.n)).toBe(2000);
    console.log(`2,000-row import: ${ms} ms`);
  });
});
