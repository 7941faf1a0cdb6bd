/**
 * The Better Auth server: its own process (forked by run.ts), node:http on 127.0.0.1 (port 0) around
 * `toNodeHandler(auth)`, Better Auth's own Node adapter. The schema is created with Better Auth's
 * migration tooling (`getMigrations(options).runMigrations()`) before it answers.
 *
 * It counts every SQL statement the pg driver receives (pg.Client.prototype.query, which Kysely's
 * PostgresDialect calls for every statement, BEGIN and COMMIT included) and reports, over IPC, its
 * own CPU time and event-loop utilisation, so the parent can charge CPU per login to this process.
 *
 * IPC: parent sends {type:'init'} -> 'ready' {url, tables}; {type:'stats'} -> 'stats';
 * {type:'record', on} -> 'recorded' {statements} (the SQL text of every statement since on:true);
 * {type:'exit'} closes the server and the pool.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import { betterAuth } from 'better-auth';
import pg from 'pg';
import type { Argon2Params } from '../../../src/crypto/password-hash.js';
import { authOptions } from './auth.js';

export interface ServerInit {
  type: 'init';
  pgUrl: string;
  secret: string;
  argon2: Argon2Params;
  poolSize: number;
}
export type ToServer = ServerInit | { type: 'stats' } | { type: 'record'; on: boolean } | { type: 'exit' };

export interface SqlCounters {
  /** Statements other than BEGIN / COMMIT / ROLLBACK. */
  statements: number;
  /** INSERT, UPDATE, DELETE (or a WITH containing one). */
  writes: number;
  begins: number;
  commits: number;
  rollbacks: number;
  /** Statements run outside an explicit transaction (each one commits on its own). */
  autocommit: number;
  /** Of those, the writes. */
  autocommitWrites: number;
}
export interface ServerStats {
  type: 'stats';
  at: number;
  cpu: NodeJS.CpuUsage;
  elu: EventLoopUtilization;
  sql: SqlCounters;
}
export type FromServer =
  | { type: 'ready'; url: string; tables: string[]; migrationSql: string }
  | ServerStats
  | { type: 'recorded'; statements: string[] }
  | { type: 'fatal'; message: string };

const sql: SqlCounters = { statements: 0, writes: 0, begins: 0, commits: 0, rollbacks: 0, autocommit: 0, autocommitWrites: 0 };
let recording: string[] | undefined;
const inTx = new WeakSet<object>();

/** Counts what the driver is asked to run (a statement that fails still counts: PostgreSQL received it). */
function countStatements(): void {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: object, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === 'string' ? first : first && typeof first === 'object' && 'text' in first ? String((first as { text: unknown }).text) : undefined;
    if (text !== undefined) {
      const t = text.trimStart().slice(0, 12).toLowerCase();
      if (/^(begin|start transaction)\b/.test(t)) {
        sql.begins++;
        inTx.add(this);
      } else if (/^(commit|end)\b/.test(t)) {
        sql.commits++;
        inTx.delete(this);
      } else if (/^rollback\b/.test(t)) {
        sql.rollbacks++;
        inTx.delete(this);
      } else {
        sql.statements++;
        const write = /^(insert|update|delete)\b/.test(t) || (/^with\b/.test(t) && /\b(insert\s+into|update|delete\s+from)\b/i.test(text));
        if (write) sql.writes++;
        if (!inTx.has(this)) {
          sql.autocommit++;
          if (write) sql.autocommitWrites++;
        }
      }
      recording?.push(text);
    }
    return original.apply(this, args);
  };
}

let server: Server | undefined;
let pool: pg.Pool | undefined;

async function start(m: ServerInit): Promise<FromServer> {
  countStatements();
  let handler: ReturnType<typeof toNodeHandler> | undefined;
  server = createServer((req, res) => {
    if (!handler) {
      res.writeHead(503).end();
      return;
    }
    void handler(req, res);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  pool = new pg.Pool({ connectionString: m.pgUrl, max: m.poolSize, connectionTimeoutMillis: 5000 });
  const options = authOptions({ pgUrl: m.pgUrl, baseURL: url, secret: m.secret, argon2: m.argon2, poolSize: m.poolSize }, pool);
  const migrations = await getMigrations(options);
  const migrationSql = await migrations.compileMigrations();
  await migrations.runMigrations();
  const auth = betterAuth(options);
  handler = toNodeHandler(auth);
  return { type: 'ready', url, tables: migrations.toBeCreated.map((t) => t.table), migrationSql };
}

process.on('message', (raw) => {
  const m = raw as ToServer;
  if (m.type === 'init') {
    start(m).then(
      (r) => process.send!(r),
      (e: Error) => process.send!({ type: 'fatal', message: e.stack ?? e.message } satisfies FromServer),
    );
  } else if (m.type === 'stats') {
    process.send!({ type: 'stats', at: performance.now(), cpu: process.cpuUsage(), elu: performance.eventLoopUtilization(), sql: { ...sql } } satisfies FromServer);
  } else if (m.type === 'record') {
    const list = recording ?? [];
    recording = m.on ? [] : undefined;
    process.send!({ type: 'recorded', statements: list } satisfies FromServer);
  } else if (m.type === 'exit') {
    server?.closeAllConnections();
    server?.close();
    void pool?.end().finally(() => process.disconnect());
  }
});
