/**
 * Seeding for the scale benchmark (bench/scale.ts).
 *
 * Real rows, through the services: the customers that are searched and verified are imported with
 * importCustomers (what `callwarden customers import` runs: validation, phone normalization, sealed
 * national id, date of birth and card, audit events), each with a phone and an email contact.
 *
 * Bulk rows, in SQL (INSERT ... SELECT generate_series) straight into the migrated schema
 * (migrations/0001_foundation.sql, 0003_customers.sql), to reach the sizes quickly:
 *  - users: active agents with the benchmark's argon2id password hash and one active TOTP factor
 *    each (the factor's secret is random bytes of a sealed 20-byte secret's length: 49);
 *  - customers: external id, name, account number, national id hint, and the sealed columns
 *    (national id, date of birth, card last four) filled with random bytes of their sealed lengths
 *    (29 bytes of envelope + 9, 10 and 4), each with a phone (+1 212 ...) and an email contact.
 * These bulk rows are never decrypted: searches and flows only touch the real customers.
 */
import pg from 'pg';
import { log, round } from './common.js';

/** `n` bytes (n <= 64) derived from `seed` (an SQL text expression): random-looking, different per row. */
const bytes = (seed: string, n: number) =>
  `substring(decode(md5(${seed}) || md5(${seed} || 'b') || md5(${seed} || 'c') || md5(${seed} || 'd'), 'hex') from 1 for ${n})`;

const FIRST = ['Ana', 'Ben', 'Chloe', 'Dmitri', 'Elena', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas', 'Keiko', 'Liam', 'Maya', 'Noah', 'Olga', 'Pedro', 'Quinn', 'Rosa', 'Sami', 'Tara'];
const LAST = ['Abbott', 'Brennan', 'Castillo', 'Dubois', 'Eriksen', 'Fischer', 'Garcia', 'Haddad', 'Ivanova', 'Jensen', 'Kowalski', 'Lindqvist', 'Moreau', 'Nakamura', 'Okafor', 'Petrov', 'Quispe', 'Rossi', 'Schmidt', 'Tanaka', 'Umarov', 'Vargas', 'Wagner', 'Xu', 'Yilmaz', 'Zhang'];
const sqlArray = (xs: string[]) => `ARRAY[${xs.map((x) => `'${x}'`).join(',')}]`;

async function inBatches(total: number, batch: number, what: string, fn: (from: number, to: number) => Promise<void>) {
  const t0 = Date.now();
  for (let from = 1; from <= total; from += batch) {
    const to = Math.min(total, from + batch - 1);
    await fn(from, to);
    if (total > batch) log(`  ${what}: ${to.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} (${round((Date.now() - t0) / 1000)} s)`);
  }
}

/** `n` bulk users (active, `passwordHash`, one active TOTP factor each) in the tenant. */
export async function bulkUsers(db: pg.Client, tenantId: string, n: number, passwordHash: string): Promise<void> {
  if (n <= 0) return;
  await inBatches(n, 50_000, 'bulk users', async (from, to) => {
    await db.query(
      `WITH u AS (
         INSERT INTO users (id, tenant_id, email, display_name, roles, status, password_hash, password_changed_at, created_at)
         SELECT gen_random_uuid(), $1::uuid, 'staff' || lpad(g::text, 6, '0') || '@bulk.bench.test', 'Staff member ' || g, ARRAY['agent'], 'active', $2,
                now() - make_interval(days => g % 700), now() - make_interval(days => g % 700, secs => g % 86400)
           FROM generate_series($3::int, $4::int) g
         RETURNING id, tenant_id, email, created_at)
       INSERT INTO credentials (id, tenant_id, subject_type, subject_id, kind, label, status, material, created_at, confirmed_at)
       SELECT gen_random_uuid(), tenant_id, 'user', id, 'totp', 'Authenticator app', 'active', ${bytes('u.id::text', 49)}, created_at, created_at FROM u`,
      [tenantId, passwordHash, from, to],
    );
  });
}

/** `n` bulk customers with a phone and an email contact each; numbered from `offset` + 1. */
export async function bulkCustomers(db: pg.Client, tenantId: string, n: number, offset = 0): Promise<void> {
  if (n <= 0) return;
  await inBatches(n, 100_000, 'bulk customers', async (from, to) => {
    await db.query(
      `WITH c AS (
         INSERT INTO customers (id, tenant_id, external_id, name, account_number, national_id, national_id_hint, date_of_birth, card_last4, created_at, updated_at)
         SELECT gen_random_uuid(), $1::uuid, 'BULK-' || g,
                (${sqlArray(FIRST)})[1 + g % ${FIRST.length}] || ' ' || (${sqlArray(LAST)})[1 + (g / ${FIRST.length}) % ${LAST.length}],
                'AC' || lpad(g::text, 10, '0'),
                ${bytes("g::text || 'n'", 38)}, lpad(((g::bigint * 7919) % 10000)::text, 4, '0'), ${bytes("g::text || 'd'", 39)}, ${bytes("g::text || 'k'", 33)},
                now() - make_interval(days => 30 + g % 3650), now() - make_interval(days => g % 30)
           FROM generate_series($2::int, $3::int) g
         RETURNING id, tenant_id, external_id, created_at)
       INSERT INTO customer_contacts (id, tenant_id, customer_id, kind, value, label, verified_at, changed_at, created_at)
       SELECT gen_random_uuid(), c.tenant_id, c.id, x.kind, x.value, x.label, NULL, c.created_at, c.created_at
         FROM c, LATERAL (VALUES
           ('phone', '+1212' || (2000000 + substr(c.external_id, 6)::int)::text, 'mobile'),
           ('email', 'customer' || substr(c.external_id, 6) || '@example.net', '')) AS x(kind, value, label)`,
      [tenantId, offset + from, offset + to],
    );
  });
}

/** Row counts and on-disk sizes (tables with their indexes) of the tables the benchmark grows. */
export async function tableStats(db: pg.Client, tenantId: string) {
  const counts = (
    await db.query<{ customers: string; contacts: string; users: string; factors: string }>(
      `SELECT (SELECT count(*) FROM customers WHERE tenant_id = $1) AS customers, (SELECT count(*) FROM customer_contacts WHERE tenant_id = $1) AS contacts,
              (SELECT count(*) FROM users WHERE tenant_id = $1) AS users, (SELECT count(*) FROM credentials WHERE tenant_id = $1) AS factors`,
      [tenantId],
    )
  ).rows[0]!;
  const sizes = (
    await db.query<{ name: string; mb: string }>(
      `SELECT relname AS name, round(pg_total_relation_size(oid) / 1048576.0, 1) AS mb FROM pg_class
        WHERE relname IN ('customers', 'customer_contacts', 'users', 'credentials') AND relkind = 'r'`,
    )
  ).rows;
  const db_ = (await db.query<{ mb: string }>(`SELECT round(pg_database_size(current_database()) / 1048576.0, 1) AS mb`)).rows[0]!;
  return {
    rows: { customers: Number(counts.customers), customerContacts: Number(counts.contacts), users: Number(counts.users), factors: Number(counts.factors) },
    totalMb: Object.fromEntries(sizes.map((s) => [s.name, Number(s.mb)])),
    databaseMb: Number(db_.mb),
  };
}
