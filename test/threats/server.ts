/**
 * The target of the threat suite: a real Callwarden server listening on 127.0.0.1 (a free port),
 * built exactly as test/helpers/app.ts `testApp()` builds it (same configuration, services, clock and
 * `buildApp`), so the seeding helpers of test/helpers work on it, and attacked over real HTTP.
 *
 * One difference, for speed only: the embedded store is opened from a migrated PGlite snapshot
 * (a data-directory tarball cached in the OS temp directory, keyed by the migrations and the PGlite
 * version) instead of running initdb in every file, which costs 7-13 s per file on a busy two-core
 * machine against about 2 s for the snapshot. `backend: 'postgres'` uses a throw-away PostgreSQL
 * database (test/helpers/db.ts), as the race tests do.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, type LogEvent, type PostgresPool } from 'kysely';
import { loadConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/http/app.js';
import type { Limiters } from '../../src/http/rate-limit.js';
import { createServices } from '../../src/services/context.js';
import { statementCounter, type Database } from '../../src/storage/db.js';
import { migrate } from '../../src/storage/migrate.js';
import { PGlitePool } from '../../src/storage/pglite-pool.js';
import type { DB } from '../../src/storage/schema.js';
import { createStore, type Store } from '../../src/storage/store.js';
import type { TestApp } from '../helpers/app.js';
import { testStore, type Backend } from '../helpers/db.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INT8 = 20;
const BYTEA = 17;
/** The same type parsers and statement counting as src/storage/db.ts `openDatabase`. */
const parsers = { [INT8]: (v: string) => Number(v), [BYTEA]: (v: string) => Buffer.from(v.slice(2), 'hex') };
/** Listeners to every SQL statement the servers of this process run (text and parameters). */
export const sqlTaps = new Set<(sql: string, parameters: readonly unknown[]) => void>();
const countStatement = (event: LogEvent) => {
  const box = statementCounter();
  if (box) box.count++;
  for (const tap of sqlTaps) tap(event.query.sql, event.query.parameters);
};

function snapshotFile(): string {
  const h = createHash('sha256');
  const dir = join(ROOT, 'migrations');
  for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(join(dir, f)));
  h.update(JSON.parse(readFileSync(join(ROOT, 'node_modules/@electric-sql/pglite/package.json'), 'utf8')).version as string);
  return join(tmpdir(), `callwarden-threats-${h.digest('hex').slice(0, 16)}.pgdata.tar`);
}

function wrap(lite: PGlite): Database {
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: new PGlitePool(lite) as unknown as PostgresPool }), log: countStatement });
  return { db, kind: 'pglite', close: () => db.destroy() };
}

/** Opens PGlite from the snapshot, creating the snapshot first when it is missing. */
async function pgliteStore(): Promise<Store> {
  const file = snapshotFile();
  if (!existsSync(file)) {
    const lite = await PGlite.create({ parsers });
    const database = wrap(lite);
    await migrate(database.db);
    const tar = Buffer.from(await (await lite.dumpDataDir('none')).arrayBuffer());
    await database.close();
    // two test workers may race here: write aside, then rename (atomic on one file system)
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, tar);
    renameSync(tmp, file);
  }
  const lite = await PGlite.create({ parsers, loadDataDir: new Blob([readFileSync(file)]) });
  const database = wrap(lite);
  await migrate(database.db); // a no-op on an up-to-date snapshot; the key above makes a stale one impossible
  return createStore(database);
}

export interface Target extends TestApp {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
}

/**
 * Builds the server like `testApp()` and makes it listen on 127.0.0.1:0. `env` overrides the
 * configuration (the same defaults as testApp: cheap argon2, generous per-IP and per-identifier limits);
 * `limiters` replaces the rate limiters built from it.
 */
export async function startTarget(o: { env?: Record<string, string>; backend?: Backend; limiters?: Limiters } = {}): Promise<Target> {
  const store = o.backend === 'postgres' ? await testStore('postgres') : await pgliteStore();
  const config = loadConfig({
    CALLWARDEN_DATA_DIR: 'memory:',
    CALLWARDEN_LOG_LEVEL: 'silent',
    CALLWARDEN_ARGON2_MEMORY_KIB: '8192',
    CALLWARDEN_ARGON2_ITERATIONS: '1',
    CALLWARDEN_IP_ATTEMPTS_PER_MINUTE: '100000',
    CALLWARDEN_IDENTIFIER_ATTEMPTS_PER_MINUTE: '100000',
    ...o.env,
  });
  let offset = 0;
  const clock = { now: () => new Date(Date.now() + offset), advance: (ms: number) => void (offset += ms) };
  const s = createServices(config, store, { clock: clock.now });
  const app = await buildApp(s, { logger: false, ...(o.limiters ? { limiters: o.limiters } : {}) });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const port = Number(new URL(address).port);
  return {
    app,
    s,
    clock,
    url: address,
    port,
    close: async () => {
      await app.close();
      await store.close();
    },
  };
}
