/**
 * Caller-verification benchmark (not a test): complete email-code verification flows per second on a
 * real Callwarden server, next to a bare Fastify floor that runs the same SQL statements in the same
 * run (bench/verification-floor.ts).
 *
 *   npx tsx bench/verification.ts [--store pglite|postgres] [--clients N]... [--seconds S]
 *   npm run bench:verification -- --store postgres
 *
 * 1. A real server (startServer) on 127.0.0.1, port 0, logging off, rate limits raised; PGlite in a
 *    temporary directory or a throw-away PostgreSQL database (lib/postgres.ts, dropped afterwards).
 *    Through the API: tenant, policy with the verification send limits at their maxima, one agent
 *    (invite -> accept -> sign in) and two customers; through the repositories: the other agents
 *    (with sessions) and the load customers (lib/verification-seed.ts).
 * 2. A warm-up flow, then a recorded one (app.inject): every statement the driver receives, with its
 *    parameters and rows, per request (lib/verification-sql.ts), next to the server's x-sql-statements
 *    count; the recording becomes the floor's replay templates. A second recorded flow checks that
 *    the sequence is stable, and one flow through the floor that it runs the same number.
 * 3. A forked load generator (bench/verification-client.ts) drives N clients over HTTP (fetch,
 *    keep-alive): start, send (email code to the outbox), the customer's read of the code (one
 *    SELECT, client work), check. For each client count: Callwarden, then the floor, each
 *    --seconds after a --warmup. CPU of the server process, PostgreSQL and the machine is sampled
 *    over the measured window (lib/cpu.ts).
 *    Audit sealing: the server is started with its background sealer off, and the bench runs the
 *    same sealAll() every 1 s (the default interval) during Callwarden's runs only, so the floor's
 *    runs are not charged with sealing; whatever is left is sealed between runs, outside the windows.
 * Prints tables and writes bench/results/verification-<store>.json (lib/verification-report.ts).
 */
import { type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { sealAll } from '../src/audit/seal.js';
import { loadConfig } from '../src/config/load.js';
import { startServer, type Running } from '../src/server.js';
import type { Db } from '../src/storage/db.js';
import type { PGlitePool } from '../src/storage/pglite-pool.js';
import { codeIn, READ_CODE_SQL, type Customer, type ToClient } from './verification-client.js';
import { startFloor, type Floor, type FloorTemplates } from './verification-floor.js';
import { log, round, TENANT } from './lib/common.js';
import { waitForIdle } from './lib/cpu.js';
import { machine, srcDigest } from './lib/machine.js';
import { throwAwayPostgres } from './lib/postgres.js';
import { options as o } from './lib/verification-args.js';
import { CUSTOMER_APP, measure, request, startVerificationClient, type MeasureContext, type VerificationRunRow } from './lib/verification-load.js';
import { printReport, writeResult, type StepSql, type VerificationResult } from './lib/verification-report.js';
import { seedAgents, seedCustomers, setupThroughApi } from './lib/verification-seed.js';
import {
  capturePglitePool, describeParams, recordStatements, steps, templatesFor, withDriverRecording,
  type Entities, type Recorded, type SqlRunner, type Step,
} from './lib/verification-sql.js';

const SEAL_INTERVAL_MS = 1000; // CALLWARDEN_AUDIT_SEAL_INTERVAL_MS's default
const POOL_SIZE = 10; // openDatabase's pg.Pool size (src/storage/db.ts)
const INT8 = 20;

/** The server's background sealer, driven by the bench so that it runs during Callwarden's windows only. */
class Sealer {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  sealed = 0;
  calls = 0;
  busyMs = 0;
  constructor(private readonly db: Db) {}
  start(): void {
    this.sealed = this.calls = this.busyMs = 0;
    this.#timer = setInterval(() => {
      if (this.#running) return;
      const t = performance.now();
      this.#running = sealAll(this.db)
        .then((n) => {
          this.sealed += n;
          this.calls++;
        })
        .catch((e: Error) => log('sealing:', e.message))
        .finally(() => {
          this.busyMs += performance.now() - t;
          this.#running = undefined;
        });
    }, SEAL_INTERVAL_MS);
  }
  async stop(): Promise<{ sealerCalls: number; eventsSealed: number; sealerWallMs: number }> {
    clearInterval(this.#timer);
    await this.#running;
    return { sealerCalls: this.calls, eventsSealed: this.sealed, sealerWallMs: round(this.busyMs) };
  }
  /** Seals everything left (outside the measured windows). */
  async flush(): Promise<number> {
    let total = 0;
    for (let n = await sealAll(this.db); n > 0; n = await sealAll(this.db)) total += n;
    return total;
  }
}

type InjectResponse = Awaited<ReturnType<Running['app']['inject']>>;

/** One flow in process (app.inject), each request wrapped by `wrap`; the code is read from the outbox in between. */
async function injectFlow(running: Running, token: string, customer: Customer, wrap: (step: Step, fn: () => Promise<InjectResponse>) => Promise<InjectResponse>) {
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
  const [message] = await running.services.store.outbox.list({ recipient: customer.email, limit: 1 });
  const code = codeIn(message?.body) ?? '';
  const c = await wrap('check', () => post(`${base}/${verificationId}/codes/check`, { code }));
  if (c.statusCode !== 200 || (c.json() as { state?: string }).state !== 'verified') throw new Error(`check: ${c.statusCode} ${c.body}`);
  return { verificationId, interactionId, code };
}

async function recordFlow(running: Running, token: string, customer: Customer) {
  const rec = {} as Record<Step, { t0: number; statements: Recorded[]; header: number | null }>;
  const flow = await withDriverRecording(() =>
    injectFlow(running, token, customer, async (step, fn) => {
      const t0 = Date.now();
      const { result, statements } = await recordStatements(fn);
      const h = Number(result.headers['x-sql-statements']);
      rec[step] = { t0, statements, header: Number.isFinite(h) ? h : null };
      return result;
    }),
  );
  return { rec, flow };
}

/** One flow over HTTP against `url` (the floor's check before the load); returns x-sql-statements per step. */
async function httpFlow(url: string, token: string, customer: Customer, readCode: (email: string) => Promise<string | null>) {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    const json = (await res.json()) as Record<string, any>;
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
    return { json, sql: Number(res.headers.get('x-sql-statements')) };
  };
  const base = `/v1/tenants/${TENANT}/verifications`;
  const a = await post(base, { customerId: customer.id, interactionId: `bench-call-${randomUUID()}` });
  const b = await post(`${base}/${a.json.id}/codes`, { contactId: customer.contactId, channel: 'email' });
  const code = codeIn(await readCode(customer.email));
  if (!code) throw new Error('floor: no code in the outbox');
  const c = await post(`${base}/${a.json.id}/codes/check`, { code });
  if (c.json.state !== 'verified') throw new Error(`floor: check answered ${JSON.stringify(c.json)}`);
  return { start: a.sql, send: b.sql, check: c.sql };
}

async function main() {
  const started = new Date();
  const source = srcDigest();
  const m = machine();
  log(`machine: ${m.nproc} cores, ${m.cpuModel}, node ${m.node}; store ${o.store}; clients ${o.clientCounts.join(', ')}; ${o.seconds} s each (+${o.warmupSeconds} s warm-up), Callwarden then floor`);
  const busyBefore = await waitForIdle(o.waitIdleSeconds);

  const dataDir = mkdtempSync(join(os.tmpdir(), 'callwarden-bench-'));
  const pgdb = o.store === 'postgres' ? await throwAwayPostgres(o.pgUrl) : undefined;
  let running: Running | undefined;
  let child: ChildProcess | undefined;
  let floor: Floor | undefined;
  let floorPool: pg.Pool | undefined;
  let monitor: pg.Client | undefined;
  const cleanup = async () => {
    child?.kill();
    child = undefined;
    await floor?.close().catch(() => undefined);
    floor = undefined;
    await floorPool?.end().catch(() => undefined);
    floorPool = undefined;
    await monitor?.end().catch(() => undefined);
    monitor = undefined;
    await running?.stop().catch((e: Error) => log('stop:', e.message));
    running = undefined;
    await pgdb?.drop().catch((e: Error) => log('drop database:', e.message));
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    // 1. server, tenant, agents, customers
    const config = loadConfig({
      CALLWARDEN_DATA_DIR: join(dataDir, 'data'),
      ...(pgdb ? { DATABASE_URL: pgdb.url } : {}),
      CALLWARDEN_HOST: '127.0.0.1',
      PORT: '0',
      CALLWARDEN_LOG_LEVEL: 'silent',
      CALLWARDEN_IP_ATTEMPTS_PER_MINUTE: '1000000',
      CALLWARDEN_IDENTIFIER_ATTEMPTS_PER_MINUTE: '1000000',
      CALLWARDEN_AUDIT_SEAL_INTERVAL_MS: '0', // driven by the bench (Sealer), during Callwarden's runs
    });
    const captured = await capturePglitePool(() => startServer(config));
    running = captured.result;
    const s = running.services;
    const lite: PGlitePool | undefined = captured.pool;
    if (o.store === 'pglite' && !lite) throw new Error('the PGlite adapter was not captured');
    log(`server ${running.url} on ${s.store.kind}${pgdb ? ` (PostgreSQL ${pgdb.version})` : ` (${config.dataDir})`}`);

    const seed0 = performance.now();
    const api = await setupThroughApi(running);
    const agentTokens = [api.agent.token, ...(await seedAgents(s, api.tenantId, o.agents - 1))];
    const cwSeconds = o.clientCounts.length * (o.seconds + o.warmupSeconds) + o.prewarmSeconds + 5;
    // a destination takes at most 20 codes per fixed 10-minute window: enough customers for 2,000 flows/s at 19 each
    const customersPerPool = o.customers === 'auto' ? Math.max(1000, Math.ceil((2000 * cwSeconds) / 19)) : o.customers;
    const pools = { callwarden: await seedCustomers(s, api.tenantId, 'c', customersPerPool), floor: await seedCustomers(s, api.tenantId, 'f', customersPerPool) };
    const seedMs = performance.now() - seed0;
    log(`seeded through the API (tenant, policy, 1 agent, 2 customers) and directly (${o.agents - 1} agents with sessions, 2 x ${customersPerPool} customers) in ${round(seedMs / 1000)} s`);

    // 2. statements per request, recorded at the driver; the floor's templates
    await injectFlow(running, api.agent.token, api.customers[0]!, (_, fn) => fn()); // warm-up: caches, signing key
    const { rec, flow } = await recordFlow(running, api.agent.token, api.customers[1]!);
    const again = await recordFlow(running, api.agent.token, api.customers[0]!);
    const codeRow = (await s.store.verifications.lastCode(flow.verificationId)) ?? (() => { throw new Error('no code row'); })();
    const session = await s.store.db.selectFrom('sessions').select(['id']).where('token_hash', '=', createHash('sha256').update(api.agent.token).digest()).executeTakeFirstOrThrow();
    const entities: Entities = {
      tenantId: api.tenantId,
      agentUserId: api.agent.userId,
      sessionId: session.id,
      tokenHash: createHash('sha256').update(api.agent.token).digest(),
      customerId: api.customers[1]!.id,
      contactId: api.customers[1]!.contactId,
      contactValue: api.customers[1]!.email,
      verificationId: flow.verificationId,
      interactionId: flow.interactionId,
      codeId: codeRow.id,
      codeHash: codeRow.code_hash,
      code: flow.code,
    };
    const warnings: string[] = [];
    const templates = Object.fromEntries(steps.map((step) => [step, templatesFor(rec[step].statements, entities, rec[step].t0, (w) => warnings.push(`${step} ${w}`))])) as FloorTemplates;
    for (const w of warnings) log('warning:', w);
    const deterministic = steps.every((step) => JSON.stringify(again.rec[step].statements.map((x) => x.sql)) === JSON.stringify(rec[step].statements.map((x) => x.sql)));
    const perStep = Object.fromEntries(
      steps.map((step) => {
        const t = templates[step];
        const sqlStep: StepSql = {
          statements: t.length,
          header: rec[step].header,
          writes: t.filter((x) => x.kind === 'statement' && !x.label.startsWith('SELECT')).length,
          transactions: t.filter((x) => x.kind === 'begin').length,
          labels: t.map((x) => x.label),
          texts: t.map((x) => x.sql.replace(/\s+/g, ' ').trim()),
          params: t.map(describeParams),
        };
        return [step, sqlStep];
      }),
    ) as Record<Step, StepSql>;
    const perFlow = steps.reduce((n, step) => n + perStep[step].statements, 0);
    log(`SQL per flow: ${perFlow} statements (start ${perStep.start.statements}, send ${perStep.send.statements}, check ${perStep.check.statements}); x-sql-statements ${perStep.start.header}/${perStep.send.header}/${perStep.check.header}; stable: ${deterministic}`);

    // the customer's read, and the floor on the same database
    let readCpuMsInServer: number | null = null;
    const liteRead = async (email: string) => {
      const c = await lite!.connect();
      try {
        return ((await c.query(READ_CODE_SQL, [api.tenantId, email])).rows[0] as { body?: string } | undefined)?.body ?? null;
      } finally {
        c.release();
      }
    };
    let runner: SqlRunner;
    let readForCheck: (email: string) => Promise<string | null>;
    if (pgdb) {
      floorPool = new pg.Pool({
        connectionString: pgdb.url,
        max: POOL_SIZE,
        types: { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser },
      });
      floorPool.on('error', () => undefined);
      runner = floorPool as unknown as SqlRunner;
      monitor = new pg.Client({ connectionString: pgdb.url, application_name: 'callwarden-bench-monitor' });
      await monitor.connect();
      readForCheck = async (email) => (await monitor!.query<{ body: string }>(READ_CODE_SQL, [api.tenantId, email])).rows[0]?.body ?? null;
    } else {
      runner = lite!;
      readForCheck = liteRead;
      // what one customer read costs the server process (PGlite runs inside it): measured alone
      for (let i = 0; i < 50; i++) await liteRead(api.customers[1]!.email);
      const c0 = process.cpuUsage();
      const N = 400;
      for (let i = 0; i < N; i++) await liteRead(api.customers[i % 2]!.email);
      const c = process.cpuUsage(c0);
      readCpuMsInServer = round((c.user + c.system) / 1000 / N, 3);
      log(`customer read on PGlite (in the server process): ${readCpuMsInServer} ms CPU each`);
    }
    floor = await startFloor({ runner, templates });
    const floorSql = await httpFlow(floor.url, api.agent.token, pools.floor[0]!, readForCheck);
    const floorMatches = steps.every((step) => floorSql[step] === perStep[step].statements);
    log(`floor ${floor.url}: one flow ran ${floorSql.start}/${floorSql.send}/${floorSql.check} statements (Callwarden ${perStep.start.statements}/${perStep.send.statements}/${perStep.check.statements})`);
    if (!floorMatches) warnings.push(`the floor ran ${JSON.stringify(floorSql)} statements`);

    // 3. load
    const sealer = new Sealer(s.store.db);
    await sealer.flush();
    child = startVerificationClient(lite ? (msg) => {
      liteRead(msg.recipient).then(
        (body) => child?.send({ type: 'code', id: msg.id, body } satisfies ToClient),
        () => child?.send({ type: 'code', id: msg.id, body: null } satisfies ToClient),
      );
    } : undefined);
    await request(child, { type: 'init', tenant: TENANT, tenantId: api.tenantId, agentTokens, pools, ...(pgdb ? { readUrl: pgdb.url } : {}), applicationName: CUSTOMER_APP }, 'ready');
    const base: Omit<MeasureContext, 'hooks'> = {
      child, store: o.store, monitor, seconds: o.seconds, warmupSeconds: o.warmupSeconds, retries: o.retries,
      maxOtherCores: o.maxOtherCores, waitIdleSeconds: o.waitIdleSeconds, readCpuMsInServer: readCpuMsInServer ?? 0,
    };
    const cwCtx: MeasureContext = { ...base, hooks: { before: () => sealer.start(), after: async () => { const r = await sealer.stop(); await sealer.flush(); return r; } } };
    const floorCtx: MeasureContext = { ...base, hooks: { after: async () => ({ sealedAfterwards: await sealer.flush() }) } };
    if (o.prewarmSeconds > 0) {
      // unmeasured: JIT, caches and connections of both servers before the first measurement
      for (const [target, url] of [['callwarden', running.url], ['floor', floor.url]] as const) {
        if (!o.targets.includes(target)) continue;
        if (target === 'callwarden') sealer.start();
        const r = await request(child, { type: 'run', target, url, clients: o.clientCounts[0]!, seconds: o.prewarmSeconds, warmupSeconds: 0 }, 'result');
        if (target === 'callwarden') await sealer.stop();
        await sealer.flush();
        log(`pre-warm ${target}: ${r.flows} flows in ${o.prewarmSeconds} s (not counted)${Object.keys(r.errors).length ? `, errors ${JSON.stringify(r.errors)}` : ''}`);
      }
    }
    const runs: VerificationRunRow[] = [];
    for (const clients of o.clientCounts) {
      if (o.targets.includes('callwarden')) runs.push(await measure(cwCtx, 'callwarden', running.url, clients));
      if (o.targets.includes('floor')) runs.push(await measure(floorCtx, 'floor', floor.url, clients));
    }
    child.send({ type: 'exit' } satisfies ToClient);
    child = undefined;

    const audit = await s.store.db
      .selectFrom('audit_events')
      .select((eb) => [eb.fn.countAll<number>().as('total'), eb.fn.count<number>('chain_seq').as('sealed')])
      .executeTakeFirstOrThrow();
    const comparison = o.clientCounts.flatMap((clients) => {
      const cw = runs.find((r) => r.target === 'callwarden' && r.clients === clients);
      const fl = runs.find((r) => r.target === 'floor' && r.clients === clients);
      return cw && fl ? [{ clients, callwarden: cw.flowsPerSec, floor: fl.flowsPerSec, ratio: round(cw.flowsPerSec / Math.max(1e-9, fl.flowsPerSec), 3) }] : [];
    });
    const best = Math.max(0, ...runs.filter((r) => r.target === 'callwarden').map((r) => r.flowsPerSec));
    const bestRatio = Math.max(0, ...comparison.map((c) => c.ratio));
    const result: VerificationResult = {
      benchmark: 'verification',
      date: started.toISOString(),
      command: `npx tsx bench/verification.ts ${process.argv.slice(2).join(' ')}`.trim(),
      machine: { ...m, busyBeforeStart: round(busyBefore, 3) },
      source,
      store: { kind: o.store, postgresVersion: pgdb?.version ?? null, pglite: o.store === 'pglite' ? 'file-backed, temporary directory' : null, poolSize: o.store === 'postgres' ? POOL_SIZE : 1 },
      config: {
        auditSealing: `sealAll() every ${SEAL_INTERVAL_MS} ms during Callwarden's runs (driven by the bench; the server's own timer is off), the rest between runs`,
        verificationPolicy: api.verificationPolicy,
        ipAttemptsPerMinute: config.ipAttemptsPerMinute,
      },
      workload: { clients: o.clientCounts, seconds: o.seconds, warmupSeconds: o.warmupSeconds, prewarmSeconds: o.prewarmSeconds, agents: o.agents, customersPerPool, seedSeconds: round(seedMs / 1000) },
      sql: { perStep, perFlow, writesPerFlow: steps.reduce((n, step) => n + perStep[step].writes, 0), deterministic, floorMatches, warnings },
      customerRead: {
        sql: READ_CODE_SQL,
        cpuMsInServer: readCpuMsInServer,
        note: o.store === 'pglite'
          ? 'PGlite lives in the server process: the customer reads through the parent over IPC, and each read costs the server process about cpuMsInServer (measured alone; subtracted in serverCpuMsPerFlowWithoutReads)'
          : `the load generator reads with its own pg.Pool (application_name ${CUSTOMER_APP}); those backends are charged to postgresCustomerReadCpuMsPerFlow, not to PostgreSQL CPU for the server`,
      },
      runs,
      comparison,
      goals: {
        flowsPerSec: { goal: 1000, best, met: o.store === 'postgres' && o.targets.includes('callwarden') ? best >= 1000 : null },
        shareOfFloor: { goal: 0.6, best: bestRatio, met: comparison.length ? bestRatio >= 0.6 : null },
      },
      audit: { events: Number(audit.total), unsealedAtEnd: Number(audit.total) - Number(audit.sealed) },
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
