/**
 * SQL statements per login: countStatements around each request of an in-process login (app.inject)
 * and the server's own x-sql-statements header (dev mode), plus the statement list from a recording
 * Kysely plugin on a second app over the same database.
 */
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryId, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import type { Config } from '../../src/config/load.js';
import { hotp } from '../../src/methods/totp/core.js';
import { buildApp } from '../../src/http/app.js';
import type { Running } from '../../src/server.js';
import { createServices } from '../../src/services/context.js';
import { countStatements } from '../../src/storage/db.js';
import { createStore } from '../../src/storage/store.js';
import { log, PASSWORD, STEP_MS, TENANT } from './common.js';
import type { LoadUser, WalkedUser } from './seed.js';

/** Records the SQL of every statement actually executed through it (keyed by query id until its result arrives). */
class SqlRecorder implements KyselyPlugin {
  on = false;
  statements: string[] = [];
  #pending = new WeakMap<QueryId, string>();
  constructor(private readonly compile: (node: RootOperationNode, id: QueryId) => string) {}
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (this.on) this.#pending.set(args.queryId, this.compile(args.node, args.queryId));
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const sql = this.#pending.get(args.queryId);
    if (sql !== undefined) this.statements.push(sql);
    return args.result;
  }
}

/** A short label of a statement: its kind and tables (for a WITH, the tables its parts touch). */
export function label(sql: string): string {
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

type Step = 'flows' | 'password' | 'factor';

/** One complete login in process through app.inject; throws unless it ends with a session. */
async function injectLogin(app: Running['app'], email: string, secret: Buffer, step: number, around: <T>(step: Step, fn: () => Promise<T>) => Promise<T>) {
  // Awaited inside an async function: light-my-request starts the request when its thenable is
  // first awaited, and countStatements' AsyncLocalStorage context must be active at that moment.
  const post = async (url: string, payload: object, flow?: string) => await app.inject({ method: 'POST', url, payload, headers: flow ? { 'x-flow-token': flow } : {} });
  const a = await around('flows', () => post('/v1/auth/flows', { tenant: TENANT, identifier: email }));
  const started = a.json() as Record<string, any>;
  const b = await around('password', () => post(`/v1/auth/flows/${started.flow?.id}/password`, { password: PASSWORD }, started.flowToken));
  const pw = b.json() as Record<string, any>;
  if (b.statusCode !== 200 || pw.flow?.state !== 'second_factor') throw new Error(`password step: ${b.statusCode} ${b.body}`);
  const c = await around('factor', () => post(`/v1/auth/flows/${pw.flow.id}/factor`, { method: 'totp', code: hotp(secret, step) }, pw.flowToken));
  const done = c.json() as Record<string, any>;
  if (c.statusCode !== 200 || typeof done.session?.token !== 'string') throw new Error(`factor step: ${c.statusCode} ${c.body}`);
}

export async function statementsPerLogin(running: Running, config: Config, walked: WalkedUser, direct: LoadUser) {
  // a) countStatements (the Kysely log hook) around each request of a real login, and the server's
  //    own per-request count (x-sql-statements, sent in dev mode) when it has one: a per-request
  //    counter inside the app shadows the outer countStatements, so the larger of the two is kept.
  const counted: Record<Step, number> = { flows: 0, password: 0, factor: 0 };
  const outer: Record<Step, number> = { flows: 0, password: 0, factor: 0 };
  const header: Record<Step, number | null> = { flows: null, password: null, factor: null };
  await injectLogin(running.app, walked.email, walked.secret, Math.floor(Date.now() / STEP_MS) + 1, async (step, fn) => {
    const { result, statements } = await countStatements(fn);
    const h = Number((result as { headers: Record<string, unknown> }).headers['x-sql-statements']);
    outer[step] = statements;
    header[step] = Number.isFinite(h) ? h : null;
    counted[step] = Math.max(statements, header[step] ?? 0);
    return result;
  });
  // b) What they are: a second app over the same database with a recording plugin; it signs in a
  //    user seeded directly, which also checks that the direct seeding matches what the server reads.
  const s = running.services;
  const recorder = new SqlRecorder((node, id) => s.store.db.getExecutor().compileQuery(node, id).sql);
  const store2 = createStore({ db: s.store.db.withPlugin(recorder), kind: s.store.kind, close: async () => {} });
  const app2 = await buildApp(createServices(config, store2, { log: s.log }), { logger: false });
  const listed: Record<Step, string[]> = { flows: [], password: [], factor: [] };
  await injectLogin(app2, direct.email, Buffer.from(direct.secretHex, 'hex'), Math.floor(Date.now() / STEP_MS) + 1, async (step, fn) => {
    recorder.statements = [];
    recorder.on = true;
    try {
      return await fn();
    } finally {
      recorder.on = false;
      listed[step] = recorder.statements.map(label);
    }
  });
  await app2.close();
  const total = counted.flows + counted.password + counted.factor;
  const all = Object.values(listed).flat();
  const writes = all.filter((l) => !l.startsWith('SELECT')).length;
  if (all.length !== total) log(`warning: ${total} statements counted but ${all.length} recorded by the plugin`);
  return {
    perStep: counted,
    total,
    writes,
    reads: total - writes,
    sources: { countStatements: outer, xSqlStatementsHeader: header, recorded: { flows: listed.flows.length, password: listed.password.length, factor: listed.factor.length } },
    transactions: 'none: the sign-in path opens no transaction, every statement commits on its own',
    statements: listed,
  };
}
export type SqlPerLogin = Awaited<ReturnType<typeof statementsPerLogin>>;
