/**
 * Opens the store: PGlite (embedded, the default) or PostgreSQL (DATABASE_URL), both through Kysely's
 * PostgreSQL dialect, so every query and migration is the same SQL on both.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import type { DB } from './schema.js';
import { PGlitePool } from './pglite-pool.js';

export type Db = Kysely<DB>;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  close(): Promise<void>;
}

/** Counts SQL statements run inside `countStatements(fn)`: a request's statement budget is visible. */
const counter = new AsyncLocalStorage<{ count: number }>();
export async function countStatements<T>(fn: () => Promise<T>): Promise<{ result: T; statements: number }> {
  const box = { count: 0 };
  const result = await counter.run(box, fn);
  return { result, statements: box.count };
}
export function statementCounter(): { count: number } | undefined {
  return counter.getStore();
}
/** Starts counting for the rest of the current async context (used per HTTP request). */
export function enterStatementCounter(box: { count: number }): void {
  counter.enterWith(box);
}
const log = () => {
  const box = counter.getStore();
  if (box) box.count++;
};

const INT8 = 20;
const BYTEA = 17;

export async function openDatabase(opts: { url?: string; dataDir?: string; poolSize?: number }): Promise<Database> {
  if (opts.url) {
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: 5000,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
      },
    });
    pool.on('error', () => {
      /* an idle client lost its connection; the next checkout reconnects */
    });
    pool.on('connect', (client) => {
      // A connection that breaks while checked out but between statements (inside a transaction, or
      // between checkout and its first query; e.g. PostgreSQL restarting) emits 'error' with no query
      // to take it: without a listener that is an uncaught exception that ends the process. Its next
      // statement fails instead ("... is not queryable": 503), and the pool discards it on release.
      client.on('error', () => undefined);
    });
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }), log });
    return { db, kind: 'postgres', close: () => db.destroy() };
  }
  const dir = opts.dataDir ?? 'memory://';
  if (!dir.startsWith('memory:')) mkdirSync(dir, { recursive: true });
  const lite = await PGlite.create(dir.startsWith('memory:') ? undefined : dir, {
    parsers: {
      [INT8]: (v: string) => Number(v),
      [BYTEA]: (v: string) => Buffer.from(v.slice(2), 'hex'),
    },
  });
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: new PGlitePool(lite) as unknown as PostgresPool }), log });
  return { db, kind: 'pglite', close: () => db.destroy() };
}
