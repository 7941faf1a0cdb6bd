/**
 * Throw-away databases for tests: an in-memory PGlite, and (when reachable) a fresh PostgreSQL
 * database on 127.0.0.1:5432 that is dropped afterwards. In CI (CI=true) an unreachable PostgreSQL
 * is an error; on a laptop without it the PostgreSQL runs are skipped.
 */
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { openDatabase, type Database } from '../../src/storage/db.js';
import { migrate } from '../../src/storage/migrate.js';
import { createStore, type Store } from '../../src/storage/store.js';
import { Aead } from '../../src/crypto/aead.js';
import { bindOutboxSealing } from '../../src/storage/repositories/outbox.js';

export const PG_ADMIN_URL = process.env.CALLWARDEN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let pgReachable: Promise<boolean> | undefined;
export function postgresAvailable(): Promise<boolean> {
  pgReachable ??= (async () => {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
    try {
      await c.connect();
      await c.end();
      return true;
    } catch (e) {
      if (process.env.CI === 'true') throw new Error(`PostgreSQL is required in CI but unreachable at ${PG_ADMIN_URL}: ${(e as Error).message}`);
      return false;
    }
  })();
  return pgReachable;
}

/** Creates an empty PostgreSQL database; returns its URL and a function that drops it. */
export async function createPgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `cw_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  return {
    url,
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export type Backend = 'pglite' | 'postgres';

/** The outbox key of bare test stores (a server built on the store binds its own service key instead). */
export const TEST_OUTBOX_KEY = new Aead(Buffer.alloc(32, 7));

/** A migrated store on the given backend; `close` also drops a PostgreSQL database. */
export async function testStore(backend: Backend): Promise<Store & { url?: string }> {
  if (backend === 'pglite') {
    const database = await openDatabase({});
    await migrate(database.db);
    bindOutboxSealing(database.db, TEST_OUTBOX_KEY);
    return createStore(database);
  }
  const { url, drop } = await createPgDatabase();
  const database: Database = await openDatabase({ url, poolSize: 20 });
  await migrate(database.db);
  bindOutboxSealing(database.db, TEST_OUTBOX_KEY);
  const store = createStore(database);
  return {
    ...store,
    url,
    close: async () => {
      await store.close();
      await drop();
    },
  };
}

/** The backends to run a suite against: always PGlite, PostgreSQL when reachable (required in CI). */
export async function backends(): Promise<Backend[]> {
  return (await postgresAvailable()) ? ['pglite', 'postgres'] : ['pglite'];
}
