/**
 * The SQL of one verification flow, as the database driver receives it (for the record: how many
 * statements each request of Callwarden's path runs at the driver, and which, next to the server's
 * own x-sql-statements count).
 *
 * Recording happens below Kysely, at the driver: `pg.Client.prototype.query` (PostgreSQL) and the
 * client handed out by `PGlitePool.prototype.connect` (PGlite) are wrapped while `withDriverRecording`
 * runs, and every statement issued inside `recordStatements(fn)` (an AsyncLocalStorage context, so the
 * background audit sealer is not captured) is kept with its parameters and result rows, BEGIN and
 * COMMIT included. The wrappers are removed afterwards: the measured runs use the drivers untouched.
 * (The earlier floor replayed these recordings; the floor is now bench/verification-floor.ts, which
 * runs its own least-work SQL.)
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { PGlitePool } from '../../src/storage/pglite-pool.js';

export interface Recorded {
  sql: string;
  params: unknown[];
  rows: Array<Record<string, unknown>>;
  rowCount: number;
}

const sink = new AsyncLocalStorage<Recorded[]>();

/** Statements the drivers ran for `fn` (only while `withDriverRecording` is active). */
export async function recordStatements<T>(fn: () => Promise<T>): Promise<{ result: T; statements: Recorded[] }> {
  const list: Recorded[] = [];
  const result = await sink.run(list, fn);
  return { result, statements: list };
}

type Query = (sql: string, params: unknown[]) => Promise<{ rows: any[]; rowCount: number | null }>;
type LiteClient = Awaited<ReturnType<PGlitePool['connect']>>;

/** Wraps the drivers' query functions while `fn` runs (then restores them). */
export async function withDriverRecording<T>(fn: () => Promise<T>): Promise<T> {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const pgQuery = proto.query;
  const liteConnect = PGlitePool.prototype.connect;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const list = sink.getStore();
    const out = pgQuery.apply(this, args);
    if (!list || typeof args[0] !== 'string' || !(out instanceof Promise)) return out;
    const entry: Recorded = { sql: args[0], params: Array.isArray(args[1]) ? [...(args[1] as unknown[])] : [], rows: [], rowCount: 0 };
    list.push(entry);
    return out.then((r: pg.QueryResult) => {
      entry.rows = r.rows;
      entry.rowCount = r.rowCount ?? 0;
      return r;
    });
  };
  PGlitePool.prototype.connect = async function (this: PGlitePool): Promise<LiteClient> {
    const c = await liteConnect.call(this);
    return {
      query: async (sql, params) => {
        const list = sink.getStore();
        const entry: Recorded = { sql, params: [...params], rows: [], rowCount: 0 };
        list?.push(entry);
        const r = await c.query(sql, params);
        entry.rows = r.rows;
        entry.rowCount = r.rowCount;
        return r;
      },
      release: () => c.release(),
    };
  };
  try {
    return await fn();
  } finally {
    proto.query = pgQuery;
    PGlitePool.prototype.connect = liteConnect;
  }
}

/** Runs `fn` (which opens the store) and returns the PGlitePool it created, if any. */
export async function capturePglitePool<T>(fn: () => Promise<T>): Promise<{ result: T; pool: PGlitePool | undefined }> {
  const liteConnect = PGlitePool.prototype.connect;
  let pool: PGlitePool | undefined;
  PGlitePool.prototype.connect = function (this: PGlitePool) {
    pool ??= this;
    return liteConnect.call(this);
  };
  try {
    const result = await fn();
    return { result, pool };
  } finally {
    PGlitePool.prototype.connect = liteConnect;
  }
}

/** lib/sql-count.ts's label, copied so this module needs nothing from src/ but the PGlite adapter. */
function label(sql: string): string {
  const s = sql.replace(/\s+/g, ' ').trim();
  const table = (re: RegExp) => re.exec(s)?.[1] ?? '?';
  if (/^with/i.test(s)) {
    const ctes = new Set([...s.matchAll(/(?:^with|,)\s+"?(\w+)"?\s+as\s*\(/gi)].map((m) => m[1]!.toLowerCase()));
    // tables read (FROM / JOIN) and written; not the CTEs themselves, nor ON CONFLICT's DO UPDATE SET
    const parts = [...s.matchAll(/\b(?<!do )(insert into|update|delete from|from|join) "?(\w+)"?/gi)]
      .filter((m) => !ctes.has(m[2]!.toLowerCase()))
      .map((m) => `${/^(from|join)$/i.test(m[1]!) ? 'SELECT' : m[1]!.split(' ')[0]!.toUpperCase()} ${m[2]}`);
    return `WITH(${[...new Set(parts)].join(' + ')})`;
  }
  if (/^select/i.test(s)) return `SELECT ${table(/ from "?(\w+)"?/i)}${/ join /i.test(s) ? ' (join)' : ''}`;
  if (/^insert/i.test(s)) return `INSERT ${table(/^insert into "?(\w+)"?/i)}${/on conflict[^]*do update/i.test(s) ? ' ON CONFLICT DO UPDATE' : / on conflict[^]*do nothing/i.test(s) ? ' ON CONFLICT DO NOTHING' : ''}`;
  if (/^update/i.test(s)) return `UPDATE ${table(/^update "?(\w+)"?/i)}`;
  if (/^delete/i.test(s)) return `DELETE ${table(/^delete from "?(\w+)"?/i)}`;
  return s.slice(0, 40);
}

/**
 * A short label: lib/sql-count.ts's, except that a SELECT is named by its top-level FROM and JOINs
 * (not those of a subquery), e.g. "SELECT sessions ⋈ users ⋈ tenants".
 */
export function statementLabel(text: string): string {
  const q = text.replace(/\s+/g, ' ').trim();
  if (!/^select/i.test(q)) return label(q);
  let depth = 0;
  let top = '';
  for (const ch of q) {
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0) top += ch;
  }
  const tables = [...top.matchAll(/\b(?:from|join) "?(\w+)"?/gi)].map((m) => m[1]!);
  return tables.length ? `SELECT ${tables.join(' ⋈ ')}` : label(q);
}

export type Step = 'start' | 'send' | 'check';
export const steps: readonly Step[] = ['start', 'send', 'check'];
