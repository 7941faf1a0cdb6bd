/**
 * The SQL of one verification flow, as the database driver receives it, and its replay templates
 * for the floor (bench/verification-floor.ts).
 *
 * Recording happens below Kysely, at the driver: `pg.Client.prototype.query` (PostgreSQL) and the
 * client handed out by `PGlitePool.prototype.connect` (PGlite) are wrapped while `withDriverRecording`
 * runs, and every statement issued inside `recordStatements(fn)` (an AsyncLocalStorage context, so the
 * background audit sealer is not captured) is kept with its parameters and result rows, BEGIN and
 * COMMIT included. The wrappers are removed afterwards: the measured runs use the drivers untouched.
 *
 * A template keeps each statement's text and says, per parameter, what it is: a constant, an entity
 * of the flow (tenant, agent, session token hash, customer, contact, verification, interaction, code
 * row, code hash, the code itself), a fresh UUID per request (event and message ids, request ids),
 * "now" plus an offset, or the start of a fixed rate window. Entities are recognised by value in the
 * recorded parameters (also inside strings such as rate-window keys and audit JSON); a replay fills
 * them from the request (path, body, bearer token) and from the rows earlier statements returned
 * (`harvest`), which is all the floor knows of the flow.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { PGlitePool } from '../../src/storage/pglite-pool.js';
import { label } from './sql-count.js';

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

/** A pg-Pool-shaped way to run statements: pg.Pool or the server's own PGlitePool. */
export interface SqlClient {
  query: Query;
  release(): void;
}
export interface SqlRunner {
  connect(): Promise<SqlClient>;
}

// templates

export const entityNames = ['tenantId', 'agentUserId', 'sessionId', 'tokenHash', 'customerId', 'contactId', 'contactValue', 'verificationId', 'interactionId', 'codeId', 'codeHash', 'code'] as const;
export type EntityName = (typeof entityNames)[number];
export type Entities = Partial<Record<EntityName, string | Buffer>>;

type Piece = string | { ent: EntityName } | { fresh: string };
export type ParamSpec =
  | { k: 'const'; v: unknown }
  | { k: 'ent'; name: EntityName }
  | { k: 'tpl'; parts: Piece[] }
  | { k: 'fresh'; key: string }
  | { k: 'now'; offsetMs: number }
  | { k: 'window'; ms: number }
  | { k: 'arr'; items: ParamSpec[] };

export interface StatementTemplate {
  sql: string;
  label: string;
  kind: 'begin' | 'commit' | 'statement';
  params: ParamSpec[];
  /** Columns of the first result row that carry an entity the later statements need. */
  harvest: Array<{ column: string; ent: EntityName }>;
  /** The recorded statement returned or changed rows: a replay that does not has hit a missing or finished flow. */
  expectRows: boolean;
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

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Turns the recorded statements of one request into replay templates; `t0` is when the request began. */
export function templatesFor(recorded: Recorded[], entities: Entities, t0: number, warn: (m: string) => void): StatementTemplate[] {
  const strings = (Object.entries(entities) as Array<[EntityName, string | Buffer]>)
    .filter(([n, v]) => typeof v === 'string' && n !== 'code')
    .sort((a, b) => (b[1] as string).length - (a[1] as string).length) as Array<[EntityName, string]>;
  const buffers = (Object.entries(entities) as Array<[EntityName, string | Buffer]>).filter(([, v]) => Buffer.isBuffer(v)) as Array<[EntityName, Buffer]>;
  const code = typeof entities.code === 'string' ? entities.code : undefined;

  const stringSpec = (s: string): ParamSpec => {
    const exact = strings.find(([, v]) => v === s);
    if (exact) return { k: 'ent', name: exact[0] };
    const found: Array<{ at: number; end: number; piece: Piece }> = [];
    const free = (at: number, end: number) => found.every((f) => end <= f.at || at >= f.end);
    for (const [name, v] of strings) {
      for (let i = s.indexOf(v); i >= 0; i = s.indexOf(v, i + v.length)) if (free(i, i + v.length)) found.push({ at: i, end: i + v.length, piece: { ent: name } });
    }
    for (const m of s.matchAll(UUID)) if (free(m.index, m.index + m[0].length)) found.push({ at: m.index, end: m.index + m[0].length, piece: { fresh: m[0].toLowerCase() } });
    if (code) for (const m of s.matchAll(new RegExp(`(?<!\\d)${escapeRe(code)}(?!\\d)`, 'g'))) if (free(m.index, m.index + m[0].length)) found.push({ at: m.index, end: m.index + m[0].length, piece: { ent: 'code' } });
    if (found.length === 0) return { k: 'const', v: s };
    found.sort((a, b) => a.at - b.at);
    if (found.length === 1 && found[0]!.at === 0 && found[0]!.end === s.length && 'fresh' in (found[0]!.piece as object)) return { k: 'fresh', key: (found[0]!.piece as { fresh: string }).fresh };
    const parts: Piece[] = [];
    let pos = 0;
    for (const f of found) {
      if (f.at > pos) parts.push(s.slice(pos, f.at));
      parts.push(f.piece);
      pos = f.end;
    }
    if (pos < s.length) parts.push(s.slice(pos));
    return { k: 'tpl', parts };
  };

  const dateSpec = (d: Date, where: string): ParamSpec => {
    const ms = d.getTime();
    const off = ms - t0;
    for (const w of [600_000, 60_000]) if (ms % w === 0 && off > -w - 1000 && off < 1000) return { k: 'window', ms: w };
    if (Math.abs(off) < 1000) return { k: 'now', offsetMs: 0 };
    const rounded = Math.round(off / 1000) * 1000;
    if (Math.abs(off - rounded) > 200) warn(`${where}: date ${d.toISOString()} is ${off} ms from the request's start (replayed as now ${rounded >= 0 ? '+' : ''}${rounded} ms)`);
    return { k: 'now', offsetMs: rounded };
  };

  const spec = (v: unknown, where: string): ParamSpec => {
    if (v instanceof Date) return dateSpec(v, where);
    if (Buffer.isBuffer(v)) {
      const b = buffers.find(([, x]) => x.equals(v));
      return b ? { k: 'ent', name: b[0] } : { k: 'const', v };
    }
    if (typeof v === 'string') return stringSpec(v);
    if (Array.isArray(v)) return { k: 'arr', items: v.map((x, i) => spec(x, `${where}[${i}]`)) };
    return { k: 'const', v };
  };

  return recorded.map((r, i) => {
    const kind = /^\s*begin\b/i.test(r.sql) ? 'begin' : /^\s*commit\b/i.test(r.sql) ? 'commit' : 'statement';
    const harvest: StatementTemplate['harvest'] = [];
    const row = r.rows[0];
    if (row) {
      for (const [column, v] of Object.entries(row)) {
        const ent =
          typeof v === 'string' ? strings.find(([, x]) => x === v)?.[0] : Buffer.isBuffer(v) ? buffers.find(([, x]) => x.equals(v))?.[0] : undefined;
        if (ent) harvest.push({ column, ent });
      }
    }
    return {
      sql: r.sql,
      label: kind === 'statement' ? statementLabel(r.sql) : kind.toUpperCase(),
      kind,
      params: r.params.map((p, j) => spec(p, `statement ${i + 1} ($${j + 1})`)),
      harvest,
      expectRows: kind === 'statement' && (r.rows.length > 0 || r.rowCount > 0),
    };
  });
}

/** The value of a parameter for one replayed request. */
export function resolveParam(p: ParamSpec, ctx: Entities, fresh: Map<string, string>, now: number, newId: () => string): unknown {
  switch (p.k) {
    case 'const':
      return p.v;
    case 'ent': {
      const v = ctx[p.name];
      if (v === undefined) throw new Error(`floor: no value for ${p.name}`);
      return v;
    }
    case 'fresh': {
      let v = fresh.get(p.key);
      if (!v) fresh.set(p.key, (v = newId()));
      return v;
    }
    case 'tpl':
      return p.parts
        .map((x) => {
          if (typeof x === 'string') return x;
          if ('ent' in x) {
            const v = ctx[x.ent];
            if (v === undefined) throw new Error(`floor: no value for ${x.ent}`);
            return String(v);
          }
          let v = fresh.get(x.fresh);
          if (!v) fresh.set(x.fresh, (v = newId()));
          return v;
        })
        .join('');
    case 'now':
      return new Date(now + p.offsetMs);
    case 'window':
      return new Date(Math.floor(now / p.ms) * p.ms);
    case 'arr':
      return p.items.map((x) => resolveParam(x, ctx, fresh, now, newId));
  }
}

/** A short description of a template's parameters (for the JSON result). */
export function describeParams(t: StatementTemplate): string[] {
  const d = (p: ParamSpec): string => {
    switch (p.k) {
      case 'const':
        return Buffer.isBuffer(p.v) ? `const bytea(${p.v.length})` : `const ${JSON.stringify(p.v)?.slice(0, 40)}`;
      case 'ent':
        return p.name;
      case 'fresh':
        return 'fresh uuid';
      case 'tpl':
        return `"${p.parts.map((x) => (typeof x === 'string' ? x.slice(0, 30) : 'ent' in x ? `{${x.ent}}` : '{uuid}')).join('')}"`.slice(0, 120);
      case 'now':
        return p.offsetMs ? `now${p.offsetMs > 0 ? '+' : ''}${p.offsetMs / 1000}s` : 'now';
      case 'window':
        return `window(${p.ms / 1000}s)`;
      case 'arr':
        return `[${p.items.map(d).join(', ')}]`;
    }
  };
  return t.params.map(d);
}
