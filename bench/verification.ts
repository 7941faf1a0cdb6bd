/**
 * Caller-verification benchmark (not a test): complete email-code verification flows per second on a
 * real Callwarden server, next to the minimal floor (bench/verification-floor.ts: a bare Fastify +
 * `pg` app with the same three routes, one session read and one CTE write per request, on its own
 * tables in its own throw-away database), both driven by the same load client in the same run.
 *
 *   npx tsx bench/verification.ts [--store postgres|pglite] [--clients N]... [--seconds S]
 *   npm run bench:verification -- --store postgres
 *
 * 1. A real server (startServer) on 127.0.0.1, port 0, dev mode (x-sql-statements), logging off,
 *    rate limits raised; PGlite in a temporary directory or a throw-away PostgreSQL database
 *    (lib/postgres.ts, dropped afterwards). Through the public API: operator sign-in, tenant, policy
 *    with the verification send limits at their maxima, the agents (invite -> accept -> sign in,
 *    lib/verification-seed.ts apiAgents) and two customers; the load customers through the existing
 *    seeding helper (CustomerRepo.writeBatch, as the importer writes them).
 * 2. The floor: its own throw-away PostgreSQL database, its tables (lib/verification-floor-schema.ts),
 *    the same tenant id and slug, one session per agent token the client uses, its own customers.
 *    Before the load it is checked: a wrong code is refused and spends one attempt, the right code
 *    verifies, the same code again is refused.
 * 3. One Callwarden flow recorded at the driver (statements per request, for the record; a failure
 *    there is a warning, not the end of the run), next to x-sql-statements.
 * 4. A forked load generator (bench/verification-client.ts) drives N clients over HTTP (fetch,
 *    keep-alive): start, send (email code to the outbox), the customer's read of the code (one
 *    SELECT on the target's outbox, client work; or Callwarden's dev outbox API when its outbox keeps
 *    codes sealed), check. For each client count: Callwarden, then the floor, each --seconds after a
 *    --warmup. CPU of this process (the server or the floor), PostgreSQL and the machine is sampled
 *    over the measured window (lib/cpu.ts). Audit sealing: the server's own sealer runs as in
 *    production; after each window the bench waits until it has sealed every event (settleAudit).
 * Prints tables (Callwarden / floor, p50/p99, x-sql-statements per request mean and max) and writes
 * bench/results/verification-<store>.json (lib/verification-report.ts).
 */
import { type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { sql } from 'kysely';
import { loadConfig } from '../src/config/load.js';
import { startServer, type Running } from '../src/server.js';
import type { Db } from '../src/storage/db.js';
import type { PGlitePool } from '../src/storage/pglite-pool.js';
import { codeIn, READ_CODE_SQL, type Customer, type InitMessage, type ToClient } from './verification-client.js';
import { FLOOR_POOL_SIZE, startFloor, type Floor } from './verification-floor.js';
import { log, round, TENANT } from './lib/common.js';
import { waitForIdle } from './lib/cpu.js';
import { machine, srcDigest } from './lib/machine.js';
import { throwAwayPostgres, type ThrowAwayPostgres } from './lib/postgres.js';
import { options as o } from './lib/verification-args.js';
import { seedFloor } from './lib/verification-floor-schema.js';
import { CUSTOMER_APP, measure, request, startVerificationClient, type MeasureContext, type VerificationRunRow } from './lib/verification-load.js';
import { printReport, writeResult, type FloorCheck, type StepSql, type VerificationResult } from './lib/verification-report.js';
import { apiAgents, seedCustomers, setupThroughApi } from './lib/verification-api-seed.js';
import { capturePglitePool, recordStatements, statementLabel, steps, withDriverRecording, type Recorded, type Step } from './lib/verification-sql.js';

const MIN_FLOWS = 30; // fewer flows than this in a window: the ratio is noise
const POOL_SIZE = 10; // openDatabase's pg.Pool size (src/storage/db.ts)

/**
 * Waits (up to 15 s) until the server's own audit sealer has chained every event, so that a window
 * does not pay for the events of the one before; the count is read with plain SQL on Callwarden's
 * store (audit_events.chain_seq NULL = not sealed yet). Returns the events left, or null when the
 * query failed (then it waited 2 s).
 */
async function settleAudit(db: Db): Promise<number | null> {
  const until = performance.now() + 15_000;
  for (;;) {
    let left: number;
    try {
      left = Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_events WHERE chain_seq IS NULL`.execute(db)).rows[0]?.n ?? 0);
    } catch {
      await new Promise((r) => setTimeout(r, 2000));
      return null;
    }
    if (left === 0 || performance.now() > until) return left;
    await new Promise((r) => setTimeout(r, 250));
  }
}

type InjectResponse = Awaited<ReturnType<Running['app']['inject']>>;

type ReadCode = (email: string) => Promise<string | null>;

/** One flow in process (app.inject), each request wrapped by `wrap`; the customer reads the code with `readCode`. */
async function injectFlow(running: Running, token: string, customer: Customer, readCode: ReadCode, wrap: (step: Step, fn: () => Promise<InjectResponse>) => Promise<InjectResponse>) {
  const base = `/v1/tenants/${TENANT}/verifications`;
  // awaited inside an async function: light-my-request starts when its thenable is first awaited,
  // and the recording's AsyncLocalStorage context must be active then
  const post = async (url: string, payload: object) => await running.app.inject({ method: 'POST', url, payload, headers: { authorization: `Bearer ${token}`, 'user-agent': 'callwarden-bench' } });
  const interactionId = `bench-call-${randomUUID()}`;
  const a = await wrap('start', () => post(base, { customerId: customer.id, interactionId }));
  if (a.statusCode !== 201) throw new Error(`start: ${a.statusCode} ${a.body}`);
  const verificationId = (a.json() as { id: string }).id;
  const b = await wrap('send', () => post(`${base}/${verificationId}/codes`, { contactId: customer.contactId, channel: 'email' }));
  if (b.statusCode !== 200) throw new Error(`send: ${b.statusCode} ${b.body}`);
  const code = codeIn(await readCode(customer.email)) ?? '';
  const c = await wrap('check', () => post(`${base}/${verificationId}/codes/check`, { code }));
  if (c.statusCode !== 200 || (c.json() as { state?: string }).state !== 'verified') throw new Error(`check: ${c.statusCode} ${c.body}`);
  return { verificationId, interactionId, code };
}

/** One Callwarden flow with every statement the driver received, per request, beside x-sql-statements. */
async function recordFlow(running: Running, token: string, customer: Customer, readCode: ReadCode): Promise<Record<Step, StepSql>> {
  const rec = {} as Record<Step, { statements: Recorded[]; header: number | null }>;
  await withDriverRecording(() =>
    injectFlow(running, token, customer, readCode, async (step, fn) => {
      const { result, statements } = await recordStatements(fn);
      const h = Number(result.headers['x-sql-statements']);
      rec[step] = { statements, header: Number.isFinite(h) ? h : null };
      return result;
    }),
  );
  return Object.fromEntries(
    steps.map((step) => {
      const st = rec[step].statements;
      const kind = (x: Recorded) => (/^\s*begin\b/i.test(x.sql) ? 'begin' : /^\s*commit\b/i.test(x.sql) ? 'commit' : 'statement');
      return [step, {
        statements: st.length,
        header: rec[step].header,
        writes: st.filter((x) => kind(x) === 'statement' && !/^\s*select/i.test(x.sql)).length,
        commits: st.filter((x) => kind(x) === 'commit').length,
        labels: st.map((x) => (kind(x) === 'statement' ? statementLabel(x.sql) : kind(x).toUpperCase())),
      } satisfies StepSql];
    }),
  ) as Record<Step, StepSql>;
}

/** POST to `url` + `path` with the agent's token; the status, JSON body and x-sql-statements. */
async function httpPost(url: string, token: string, path: string, body: unknown) {
  const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  const json = (await res.json().catch(() => ({}))) as Record<string, any>;
  return { status: res.status, json, sql: Number(res.headers.get('x-sql-statements')) };
}

/**
 * The floor's correctness before the load: a wrong code is refused and spends one attempt, the right
 * code verifies (the newest code of the flow), the same code again is refused, and a token it does
 * not know is refused. Throws when any of that does not hold; returns x-sql-statements per step.
 */
async function checkFloor(url: string, token: string, customer: Customer, readCode: ReadCode): Promise<FloorCheck> {
  const base = `/v1/tenants/${TENANT}/verifications`;
  const must = (ok: boolean, what: string, r: unknown) => {
    if (!ok) throw new Error(`floor self-check: ${what}: ${JSON.stringify(r)}`);
  };
  const a = await httpPost(url, token, base, { customerId: customer.id, interactionId: `bench-call-${randomUUID()}` });
  must(a.status === 201 && typeof a.json.id === 'string', 'start', a);
  const b = await httpPost(url, token, `${base}/${a.json.id}/codes`, { contactId: customer.contactId, channel: 'email' });
  must(b.status === 200, 'send', b);
  const code = codeIn(await readCode(customer.email));
  must(!!code, 'no code in the floor outbox', code);
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  const w = await httpPost(url, token, `${base}/${a.json.id}/codes/check`, { code: wrong });
  must(w.status === 400 && w.json.error?.code === 'invalid_code' && w.json.error?.attemptsLeft === 4, 'a wrong code is refused and spends one attempt', w);
  const c = await httpPost(url, token, `${base}/${a.json.id}/codes/check`, { code });
  must(c.status === 200 && c.json.state === 'verified' && c.json.attemptsLeft === 4, 'the right code verifies', c);
  const again = await httpPost(url, token, `${base}/${a.json.id}/codes/check`, { code });
  must(again.status === 409, 'the same code again is refused', again);
  const stranger = await httpPost(url, 'not-a-session-token', base, { customerId: customer.id, interactionId: 'x' });
  must(stranger.status === 401, 'an unknown token is refused', stranger);
  return { passed: true, statements: { start: a.sql, send: b.sql, check: c.sql } };
}

async function main() {
  const started = new Date();
  const source = srcDigest();
  const m = machine();
  log(`machine: ${m.nproc} cores, ${m.cpuModel}, node ${m.node}; store ${o.store}; clients ${o.clientCounts.join(', ')}; ${o.seconds} s each (+${o.warmupSeconds} s warm-up), Callwarden then floor`);
  const busyBefore = await waitForIdle(o.waitIdleSeconds);

  const dataDir = mkdtempSync(join(os.tmpdir(), 'callwarden-bench-'));
  const pgdb = o.store === 'postgres' ? await throwAwayPostgres(o.pgUrl) : undefined;
  let floorDb: ThrowAwayPostgres | undefined;
  let running: Running | undefined;
  let child: ChildProcess | undefined;
  let floor: Floor | undefined;
  const clients: pg.Client[] = [];
  const cleanup = async () => {
    child?.kill();
    child = undefined;
    await floor?.close().catch(() => undefined);
    floor = undefined;
    for (const c of clients.splice(0)) await c.end().catch(() => undefined);
    await running?.stop().catch((e: Error) => log('stop:', e.message));
    running = undefined;
    await pgdb?.drop().catch((e: Error) => log('drop database:', e.message));
    await floorDb?.drop().catch((e: Error) => log('drop floor database:', e.message));
    floorDb = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  const connect = async (url: string, applicationName: string) => {
    const c = new pg.Client({ connectionString: url, application_name: applicationName });
    await c.connect();
    clients.push(c);
    return c;
  };
  try {
    // 1. Callwarden: server, tenant, agents, customers
    const config = loadConfig({
      CALLWARDEN_DATA_DIR: join(dataDir, 'data'),
      ...(pgdb ? { DATABASE_URL: pgdb.url } : {}),
      CALLWARDEN_MODE: 'dev', // x-sql-statements and the outbox API
      CALLWARDEN_HOST: '127.0.0.1',
      PORT: '0',
      CALLWARDEN_LOG_LEVEL: 'silent',
      CALLWARDEN_IP_ATTEMPTS_PER_MINUTE: '1000000',
      CALLWARDEN_IDENTIFIER_ATTEMPTS_PER_MINUTE: '1000000',
    });
    const captured = await capturePglitePool(() => startServer(config));
    running = captured.result;
    const s = running.services;
    const lite: PGlitePool | undefined = captured.pool;
    if (o.store === 'pglite' && !lite) throw new Error('the PGlite adapter was not captured');
    log(`server ${running.url} on ${s.store.kind}${pgdb ? ` (PostgreSQL ${pgdb.version})` : ` (${config.dataDir})`}`);

    const seed0 = performance.now();
    const api = await setupThroughApi(running);
    const agentTokens = [api.agent.token, ...(await apiAgents(running, api.operatorToken, o.agents - 1))];
    const cwSeconds = o.clientCounts.length * (o.seconds + o.warmupSeconds) + o.prewarmSeconds + 5;
    // a destination takes at most 20 codes per fixed 10-minute window: enough customers for 2,000 flows/s at 19 each
    const customersPerPool = o.customers === 'auto' ? Math.max(1000, Math.ceil((2000 * cwSeconds) / 19)) : o.customers;
    const cwCustomers = await seedCustomers(s, api.tenantId, 'c', customersPerPool);
    log(`Callwarden seeded in ${round((performance.now() - seed0) / 1000)} s: tenant, policy, ${agentTokens.length} agents and 2 customers through the API, ${customersPerPool} customers (CustomerRepo.writeBatch)`);

    // 2. the floor: its own database, tables, tenant, sessions for the same tokens, customers
    const floor0 = performance.now();
    floorDb = await throwAwayPostgres(o.pgUrl);
    const floorAdmin = await connect(floorDb.url, 'callwarden-bench-floor-setup');
    const floorCustomers = await seedFloor(floorAdmin, { tenantId: api.tenantId, tenantSlug: TENANT, agentTokens, customers: customersPerPool, prefix: 'f' });
    floor = await startFloor({ databaseUrl: floorDb.url });
    const floorMonitor = await connect(floorDb.url, 'callwarden-bench-monitor');
    const floorRead: ReadCode = async (email) => (await floorAdmin.query<{ body: string }>(READ_CODE_SQL, [api.tenantId, email])).rows[0]?.body ?? null;
    const floorCheck = await checkFloor(floor.url, api.agent.token, floorCustomers[0]!, floorRead);
    log(`floor ${floor.url} on PostgreSQL ${floorDb.version} (its own database, seeded in ${round((performance.now() - floor0) / 1000)} s); self-check passed; x-sql-statements ${floorCheck.statements.start}/${floorCheck.statements.send}/${floorCheck.statements.check}`);

    // 3. how the customer reads Callwarden's code: its outbox row, or the dev outbox API when the row keeps it sealed
    const monitor = pgdb ? await connect(pgdb.url, 'callwarden-bench-monitor') : undefined;
    const liteRead: ReadCode = async (email) => {
      const c = await lite!.connect();
      try {
        return ((await c.query(READ_CODE_SQL, [api.tenantId, email])).rows[0] as { body?: string } | undefined)?.body ?? null;
      } finally {
        c.release();
      }
    };
    const dbRead: ReadCode = monitor ? async (email) => (await monitor.query<{ body: string }>(READ_CODE_SQL, [api.tenantId, email])).rows[0]?.body ?? null : liteRead;
    const apiRead: ReadCode = async (email) => {
      const r = await fetch(`${running!.url}/v1/tenants/${TENANT}/outbox?recipient=${encodeURIComponent(email)}&limit=1`, { headers: { authorization: `Bearer ${api.operatorToken}` } });
      return r.status === 200 ? (((await r.json()) as { messages?: Array<{ body?: string }> }).messages?.[0]?.body ?? null) : null;
    };
    const warnings: string[] = [];
    let readKind = 'db' as 'db' | 'api';
    const probe = api.customers[0]!;
    await injectFlow(running, api.agent.token, probe, async (email) => {
      const viaDb = await dbRead(email);
      if (codeIn(viaDb)) return viaDb;
      readKind = 'api';
      return apiRead(email);
    }, (_, fn) => fn());
    const cwRead = readKind === 'db' ? dbRead : apiRead;
    if (readKind === 'api') warnings.push("Callwarden's outbox row does not show the code: the customer reads it through the dev outbox API, one more request to the server per flow (charged to Callwarden)");
    log(`customer reads Callwarden's code through ${readKind === 'db' ? 'its outbox row (one SELECT, client work)' : 'the dev outbox API'}`);

    // 4. statements per request at the driver (for the record)
    let perStep: Record<Step, StepSql> | null = null;
    let deterministic: boolean | null = null;
    try {
      perStep = await recordFlow(running, api.agent.token, api.customers[1]!, cwRead);
      const again = await recordFlow(running, api.agent.token, api.customers[0]!, cwRead);
      deterministic = steps.every((step) => JSON.stringify(again[step].labels) === JSON.stringify(perStep![step].labels));
      log(`Callwarden SQL per flow at the driver: ${steps.map((x) => perStep![x].statements).join('/')} (start/send/check, BEGIN/COMMIT included); x-sql-statements ${steps.map((x) => perStep![x].header).join('/')}; stable: ${deterministic}`);
    } catch (e) {
      warnings.push(`recording Callwarden's statements failed: ${(e as Error).message}`);
    }

    let readCpuMsInServer: number | null = null;
    if (o.store === 'pglite' && readKind === 'db') {
      // what one customer read costs the server process (PGlite runs inside it): measured alone
      for (let i = 0; i < 50; i++) await liteRead(api.customers[1]!.email);
      const c0 = process.cpuUsage();
      const N = 400;
      for (let i = 0; i < N; i++) await liteRead(api.customers[i % 2]!.email);
      const c = process.cpuUsage(c0);
      readCpuMsInServer = round((c.user + c.system) / 1000 / N, 3);
      log(`customer read on PGlite (in the server process): ${readCpuMsInServer} ms CPU each`);
    }

    // 5. load
    await settleAudit(s.store.db);
    child = startVerificationClient(lite && readKind === 'db' ? (msg) => {
      liteRead(msg.recipient).then(
        (body) => child?.send({ type: 'code', id: msg.id, body } satisfies ToClient),
        () => child?.send({ type: 'code', id: msg.id, body: null } satisfies ToClient),
      );
    } : undefined);
    const callwardenRead: InitMessage['callwardenRead'] = readKind === 'api' ? { kind: 'api', url: running.url, token: api.operatorToken } : { kind: 'db', ...(pgdb ? { readUrl: pgdb.url } : {}) };
    await request(child, { type: 'init', tenant: TENANT, tenantId: api.tenantId, agentTokens, pools: { callwarden: cwCustomers, floor: floorCustomers.slice(1) }, callwardenRead, floorReadUrl: floorDb.url, applicationName: CUSTOMER_APP }, 'ready');
    const base = { child, seconds: o.seconds, warmupSeconds: o.warmupSeconds, retries: o.retries, maxOtherCores: o.maxOtherCores, waitIdleSeconds: o.waitIdleSeconds };
    const settle = async () => ({ auditUnsealedAfterSettling: await settleAudit(s.store.db) });
    const cwCtx: MeasureContext = { ...base, store: o.store, monitor, readCpuMsInServer: readCpuMsInServer ?? 0, hooks: { after: settle } };
    const floorCtx: MeasureContext = { ...base, store: 'postgres', monitor: floorMonitor, readCpuMsInServer: 0, hooks: { after: settle } };
    if (o.prewarmSeconds > 0) {
      // unmeasured: JIT, caches and connections of both servers before the first measurement
      for (const [target, url] of [['callwarden', running.url], ['floor', floor.url]] as const) {
        if (!o.targets.includes(target)) continue;
        const r = await request(child, { type: 'run', target, url, clients: o.clientCounts[0]!, seconds: o.prewarmSeconds, warmupSeconds: 0 }, 'result');
        await settleAudit(s.store.db);
        log(`pre-warm ${target}: ${r.flows} flows in ${o.prewarmSeconds} s (not counted)${Object.keys(r.errors).length ? `, errors ${JSON.stringify(r.errors)}` : ''}`);
      }
    }
    const runs: VerificationRunRow[] = [];
    for (const n of o.clientCounts) {
      if (o.targets.includes('callwarden')) runs.push(await measure(cwCtx, 'callwarden', running.url, n));
      if (o.targets.includes('floor')) runs.push(await measure(floorCtx, 'floor', floor.url, n));
    }
    child.send({ type: 'exit' } satisfies ToClient);
    child = undefined;

    let audit: VerificationResult['audit'] = null;
    try {
      const a = await s.store.db
        .selectFrom('audit_events')
        .select((eb) => [eb.fn.countAll<number>().as('total'), eb.fn.count<number>('chain_seq').as('sealed')])
        .executeTakeFirstOrThrow();
      audit = { events: Number(a.total), unsealedAtEnd: Number(a.total) - Number(a.sealed) };
    } catch (e) {
      warnings.push(`counting Callwarden's audit events failed: ${(e as Error).message}`);
    }
    const comparison = o.clientCounts.flatMap((n) => {
      const cw = runs.find((r) => r.target === 'callwarden' && r.clients === n);
      const fl = runs.find((r) => r.target === 'floor' && r.clients === n);
      return cw && fl ? [{
        clients: n, callwarden: cw.flowsPerSec, floor: fl.flowsPerSec, ratio: round(cw.flowsPerSec / Math.max(1e-9, fl.flowsPerSec), 3),
        callwardenFlows: cw.flows, floorFlows: fl.flows,
        callwardenP50Ms: cw.p50Ms, callwardenP99Ms: cw.p99Ms, floorP50Ms: fl.p50Ms, floorP99Ms: fl.p99Ms,
        callwardenSqlPerRequest: cw.sqlPerRequest, floorSqlPerRequest: fl.sqlPerRequest,
      }] : [];
    });
    const cwRuns = runs.filter((r) => r.target === 'callwarden');
    for (const c of comparison) {
      if (Math.min(c.callwardenFlows, c.floorFlows) < MIN_FLOWS) warnings.push(`${c.clients} clients: only ${c.callwardenFlows} Callwarden and ${c.floorFlows} floor flows in the window (fewer than ${MIN_FLOWS}): the ratio says little; use longer --seconds and --warmup`);
    }
    const bestRatio = Math.max(0, ...comparison.map((c) => c.ratio));
    const maxSql = cwRuns.every((r) => r.sqlPerRequest) && cwRuns.length ? Math.max(...cwRuns.map((r) => r.sqlPerRequest!.max)) : null;
    const result: VerificationResult = {
      benchmark: 'verification',
      date: started.toISOString(),
      command: `npx tsx bench/verification.ts ${process.argv.slice(2).join(' ')}`.trim(),
      machine: { ...m, busyBeforeStart: round(busyBefore, 3) },
      source,
      store: { kind: o.store, postgresVersion: pgdb?.version ?? null, pglite: o.store === 'pglite' ? 'file-backed, temporary directory' : null, poolSize: o.store === 'postgres' ? POOL_SIZE : 1 },
      floor: {
        what: 'bare Fastify + pg, its own tables in its own throw-away PostgreSQL database; per request one session SELECT and one CTE write (start: flow + audit; send: code + outbox + audit; check: claim + verify in one UPDATE, consume the code, audit), each its own commit, named statements',
        postgresVersion: floorDb.version,
        poolSize: FLOOR_POOL_SIZE,
        check: floorCheck,
      },
      config: {
        auditSealing: "the server's own sealer (CALLWARDEN_AUDIT_SEAL_INTERVAL_MS default); after each window the bench waits until every event is sealed, so no window pays for the one before",
        verificationPolicy: api.verificationPolicy,
        ipAttemptsPerMinute: config.ipAttemptsPerMinute,
        customerRead: readKind,
      },
      workload: { clients: o.clientCounts, seconds: o.seconds, warmupSeconds: o.warmupSeconds, prewarmSeconds: o.prewarmSeconds, agents: agentTokens.length, customersPerPool, seedSeconds: round((performance.now() - seed0) / 1000) },
      sql: { perStep, perFlow: perStep ? steps.reduce((n, x) => n + perStep![x].statements, 0) : null, deterministic, warnings },
      customerRead: {
        sql: READ_CODE_SQL,
        cpuMsInServer: readCpuMsInServer,
        note: readKind === 'api'
          ? "through Callwarden's dev outbox API (one GET per flow, charged to Callwarden); the floor's through its own database"
          : o.store === 'pglite'
            ? 'PGlite lives in the server process: the customer reads through the parent over IPC, and each read costs the server process about cpuMsInServer (measured alone; subtracted in serverCpuMsPerFlowWithoutReads); the floor is read through its own database'
            : `the load generator reads with its own pg.Pool per target (application_name ${CUSTOMER_APP}); those backends are charged to postgresCustomerReadCpuMsPerFlow, not to PostgreSQL CPU for the server`,
      },
      runs,
      comparison,
      goals: {
        shareOfFloor: { goal: 0.7, best: bestRatio, met: comparison.length && o.store === 'postgres' ? bestRatio >= 0.7 : null },
        sqlPerRequestMax: { goal: 3, worst: maxSql, met: maxSql === null ? null : maxSql <= 3 },
      },
      audit,
    };
    await cleanup();
    writeResult(o.outFile, result);
    printReport(result);
    console.log(`\nJSON: ${o.outFile}`);
  } catch (e) {
    await cleanup();
    throw e;
  }
}

await main();
