/**
 * Migration 0010 (one credentials table) on PGlite and PostgreSQL: a database at the schema before
 * it, holding staff factors, customer factors and recovery codes in their old tables, keeps every
 * row, sealed secret and recovery code after it, and the old tables are gone.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { Aead } from '../../src/crypto/aead.js';
import { openDatabase, type Database } from '../../src/storage/db.js';
import { listMigrations, migrate } from '../../src/storage/migrate.js';
import { createStore } from '../../src/storage/store.js';
import { backends, createPgDatabase } from '../helpers/db.js';

const BACKENDS = await backends();
const ALL = listMigrations();
const BEFORE = ALL.filter((m) => m.version < 10);
const THROUGH = ALL.filter((m) => m.version <= 10);

interface OldFactor {
  id: string;
  tenant_id: string;
  owner: string;
  kind: string;
  label: string;
  status: 'pending' | 'active';
  secret: Buffer | null;
  created_at: Date;
  confirmed_at: Date | null;
  last_used_at: Date | null;
}

describe.each(BACKENDS)('migration 0010_credentials on %s', (backend) => {
  async function fresh(): Promise<{ database: Database; done: () => Promise<void> }> {
    if (backend === 'pglite') {
      const database = await openDatabase({});
      return { database, done: () => database.close() };
    }
    const { url, drop } = await createPgDatabase();
    const database = await openDatabase({ url, poolSize: 4 });
    return {
      database,
      done: async () => {
        await database.close();
        await drop();
      },
    };
  }

  it('carries every factor, customer factor and recovery code over, then drops the old tables', async () => {
    expect(THROUGH.at(-1)?.name).toBe('0010_credentials');
    const { database, done } = await fresh();
    const db = database.db;
    try {
      expect(await migrate(db, BEFORE)).toEqual(BEFORE.map((m) => m.name));

      const aead = new Aead(randomBytes(32));
      const t0 = new Date('2030-03-04T05:06:07.891Z');
      const sec = (s: number) => new Date(t0.getTime() + s * 1000);
      const tenants = [randomUUID(), randomUUID()];
      for (const [i, id] of tenants.entries()) {
        await sql`INSERT INTO tenants (id, slug, name, created_at) VALUES (${id}, ${`t${i}-${id.slice(0, 8)}`}, 'Tenant', ${t0})`.execute(db);
      }
      const users = [randomUUID(), randomUUID(), randomUUID()];
      for (const [i, id] of users.entries()) {
        await sql`INSERT INTO users (id, tenant_id, email, status, created_at) VALUES (${id}, ${tenants[i % 2]}, ${`u${i}@example.com`}, 'active', ${t0})`.execute(db);
      }
      const customers = [randomUUID(), randomUUID()];
      for (const [i, id] of customers.entries()) {
        await sql`INSERT INTO customers (id, tenant_id, name, created_at, updated_at) VALUES (${id}, ${tenants[i]}, 'Dana', ${t0}, ${t0})`.execute(db);
      }
      const totpSecrets = new Map<string, Buffer>();
      const factor = (owner: string, tenant: string, kind: string, status: 'pending' | 'active', o: Partial<OldFactor> = {}): OldFactor => {
        const id = randomUUID();
        let secret: Buffer | null = null;
        if (kind === 'totp') {
          const plain = randomBytes(20);
          totpSecrets.set(id, plain);
          secret = aead.seal(plain, `totp:${id}`);
        }
        return { id, tenant_id: tenant, owner, kind, label: `${kind} label`, status, secret, created_at: sec(1), confirmed_at: status === 'active' ? sec(2) : null, last_used_at: null, ...o };
      };
      const staff: OldFactor[] = [
        factor(users[0]!, tenants[0]!, 'totp', 'active', { last_used_at: sec(30) }),
        factor(users[0]!, tenants[0]!, 'totp', 'pending', { label: '' }),
        factor(users[0]!, tenants[0]!, 'recovery_code', 'active', { label: 'Recovery codes' }),
        factor(users[1]!, tenants[1]!, 'totp', 'active', { created_at: sec(5), confirmed_at: sec(6), last_used_at: sec(7) }),
        factor(users[2]!, tenants[0]!, 'recovery_code', 'active'),
      ];
      const callers: OldFactor[] = [
        factor(customers[0]!, tenants[0]!, 'totp', 'active', { last_used_at: sec(40) }),
        factor(customers[0]!, tenants[0]!, 'totp', 'pending'),
        factor(customers[1]!, tenants[1]!, 'totp', 'pending', { label: 'Phone' }),
      ];
      for (const f of staff) {
        await sql`INSERT INTO factors (id, tenant_id, user_id, kind, label, status, secret, created_at, confirmed_at, last_used_at)
                  VALUES (${f.id}, ${f.tenant_id}, ${f.owner}, ${f.kind}, ${f.label}, ${f.status}, ${f.secret}, ${f.created_at}, ${f.confirmed_at}, ${f.last_used_at})`.execute(db);
      }
      for (const f of callers) {
        await sql`INSERT INTO customer_factors (id, tenant_id, customer_id, kind, label, status, secret, created_at, confirmed_at, last_used_at)
                  VALUES (${f.id}, ${f.tenant_id}, ${f.owner}, ${f.kind}, ${f.label}, ${f.status}, ${f.secret}, ${f.created_at}, ${f.confirmed_at}, ${f.last_used_at})`.execute(db);
      }
      // recovery codes of two users, one spent
      const codes = [
        { factor_id: staff[2]!.id, user_id: users[0]!, code_hash: randomBytes(32), used_at: null as Date | null },
        { factor_id: staff[2]!.id, user_id: users[0]!, code_hash: randomBytes(32), used_at: sec(50) },
        { factor_id: staff[2]!.id, user_id: users[0]!, code_hash: randomBytes(32), used_at: null },
        { factor_id: staff[4]!.id, user_id: users[2]!, code_hash: randomBytes(32), used_at: null },
      ];
      for (const c of codes) {
        await sql`INSERT INTO recovery_codes (factor_id, user_id, code_hash, used_at) VALUES (${c.factor_id}, ${c.user_id}, ${c.code_hash}, ${c.used_at})`.execute(db);
      }
      // the TOTP replay ledger is kept as it is
      await sql`INSERT INTO totp_used_steps (subject_id, step, used_at) VALUES (${users[0]}, 1234, ${t0}), (${customers[0]}, 1234, ${t0})`.execute(db);

      expect(await migrate(db, THROUGH)).toEqual(['0010_credentials']);

      const expected = [
        ...staff.map((f) => ({ ...f, subject_type: 'user' })),
        ...callers.map((f) => ({ ...f, subject_type: 'customer' })),
      ].map((f) => ({
        id: f.id,
        tenant_id: f.tenant_id,
        subject_type: f.subject_type,
        subject_id: f.owner,
        kind: f.kind,
        label: f.label,
        status: f.status,
        material: f.secret,
        sign_count: 0,
        created_at: f.created_at,
        confirmed_at: f.confirmed_at,
        last_used_at: f.last_used_at,
      }));
      const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
      const rows = await db.selectFrom('credentials').selectAll().execute();
      expect(rows.sort(byId)).toEqual(expected.sort(byId));
      // the sealed secrets still open under their id
      for (const r of rows.filter((x) => x.kind === 'totp')) expect(aead.open(r.material!, `totp:${r.id}`).equals(totpSecrets.get(r.id)!)).toBe(true);

      const rc = await db.selectFrom('recovery_codes').selectAll().execute();
      const key = (r: { code_hash: Buffer }) => r.code_hash.toString('hex');
      expect(rc.sort((a, b) => key(a).localeCompare(key(b)))).toEqual(
        codes.map((c) => ({ credential_id: c.factor_id, subject_id: c.user_id, code_hash: c.code_hash, used_at: c.used_at })).sort((a, b) => key(a).localeCompare(key(b))),
      );
      const ledger = await db.selectFrom('totp_used_steps').select(['subject_id', 'step']).orderBy('subject_id').execute();
      expect(ledger).toEqual([users[0], customers[0]].sort().map((id) => ({ subject_id: id, step: 1234 })));

      const gone = await sql<{ f: string | null; cf: string | null }>`SELECT to_regclass('factors')::text AS f, to_regclass('customer_factors')::text AS cf`.execute(db);
      expect(gone.rows[0]).toEqual({ f: null, cf: null });

      // the repository reads the carried-over rows
      const store = createStore(database);
      expect((await store.credentials.active({ type: 'user', id: users[0]! }, 'totp'))?.id).toBe(staff[0]!.id);
      expect((await store.credentials.active({ type: 'customer', id: customers[0]! }, 'totp'))?.id).toBe(callers[0]!.id);
      expect((await store.credentials.byId({ type: 'customer', id: customers[1]! }, callers[2]!.id))?.status).toBe('pending');
      expect(await store.credentials.recoveryCodesLeft({ type: 'user', id: users[0]! })).toBe(2);
      expect(await store.credentials.consumeRecoveryCode({ type: 'user', id: users[0]! }, codes[0]!.code_hash, sec(60))).toBe(1);
      expect(await store.credentials.consumeRecoveryCode({ type: 'user', id: users[0]! }, codes[1]!.code_hash, sec(60))).toBeNull();
      // the carried-over one-active rule still holds
      expect(await store.credentials.activate({ type: 'user', id: users[0]! }, staff[1]!.id, sec(70))).toBe(false);
      // and deletes still cascade: the user's credentials and codes, the customer's credentials
      await sql`DELETE FROM users WHERE id = ${users[0]}`.execute(db);
      await sql`DELETE FROM customers WHERE id = ${customers[0]}`.execute(db);
      const left = await db.selectFrom('credentials').select('id').execute();
      expect(left.map((r) => r.id).sort()).toEqual([staff[3]!.id, staff[4]!.id, callers[2]!.id].sort());
      expect((await db.selectFrom('recovery_codes').select('subject_id').execute()).map((r) => r.subject_id)).toEqual([users[2]]);

      // later migrations, if any, still apply on top
      expect(await migrate(db)).toEqual(ALL.filter((m) => m.version > 10).map((m) => m.name));
    } finally {
      await done();
    }
  });

  it('applies on an empty database too', async () => {
    const { database, done } = await fresh();
    try {
      await migrate(database.db, BEFORE);
      expect(await migrate(database.db, THROUGH)).toEqual(['0010_credentials']);
      expect(await database.db.selectFrom('credentials').selectAll().execute()).toEqual([]);
    } finally {
      await done();
    }
  });
});
