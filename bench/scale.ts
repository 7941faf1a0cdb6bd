/**
 * Scale benchmark (not a test): p50 and p99 latency of a staff sign-in (password + TOTP), of a caller
 * verification (start + send + check) and of a customer search by phone, with a small and a large
 * customer base (1,000 and 1,000,000 by default) and 100,000 users, on PostgreSQL.
 *
 *   npx tsx bench/scale.ts [--small N] [--large N] [--users N] [--signins N] [--flows N] [--searches N]
 *                          [--concurrency C] [--rounds R] [--warmup W] [--agents A] [--out FILE]
 *   npm run bench:scale
 *
 * 1. Two throw-away PostgreSQL databases, one per size, each with its own Callwarden server in this
 *    process (startServer: migrations, 127.0.0.1, port 0, logging off, rate limits raised, audit
 *    sealing every 1 s as by default). The same setup in each:
 *    - through the API: operator, tenant, policy (verification send limits at their maxima), one
 *      agent signed in, two customers (lib/verification-seed.ts);
 *    - through the services and repositories: the other agents with sessions, the sign-in users
 *      (active, one TOTP factor; lib/seed.ts), and the real customers (small size minus the two),
 *      imported with importCustomers with a phone and an email contact each (lib/scale-seed.ts);
 *    - in SQL: bulk users up to --users in the tenant, and bulk customers up to the size
 *      (lib/scale-seed.ts), then ANALYZE (autovacuum may be off) and CHECKPOINT.
 *    Both databases hold the same real customers and users; only the bulk customers differ.
 * 2. A forked load generator (bench/scale-client.ts) runs a fixed number of operations at a fixed
 *    concurrency, --warmup unmeasured first, against one server at a time. The work is split into
 *    --rounds rounds; in each, both sizes run sign-in, verification and search, the order of the
 *    sizes alternating between rounds, so that a change in the machine's load touches both alike.
 * Prints a table and writes bench/results/scale.json.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/config/load.js';
import { normalizePassword } from '../src/methods/password/rules.js';
import { startServer, type Running } from '../src/server.js';
import { importCustomers } from '../src/services/customer-import.js';
import type { FromClient, Op, ScaleCustomer, ScaleRunResult, ScaleTarget, ToClient } from './scale-client.js';
import { benchDir, cores, fail, log, PASSWORD, pct, positiveInt, round, systemOrigin, TENANT } from './lib/common.js';
import { delta, sample } from './lib/cpu.js';
import { request } from './lib/ipc.js';
import { machine, srcDigest } from './lib/machine.js';
import { throwAwayPostgres, type ThrowAwayPostgres } from './lib/postgres.js';
import { bulkCustomers, bulkUsers, tableStats } from './lib/scale-seed.js';
import { seedDirect } from './lib/seed.js';
import { writeJson } from './lib/summary.js';
import { seedAgents, setupThroughApi } from './lib/verification-seed.js';

const { values: argv } = parseArgs({
  options: {
    small: { type: 'string', default: '1000' },
    large: { type: 'string', default: '1000000' },
    users: { type: 'string', default: '100000' },
    signins: { type: 'string', default: '1000' },
    flows: { type: 'string', default: '1000' },
    searches: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '50' },
    agents: { type: 'string', default: '20' },
    'pg-url': { type: 'string', default: process.env.CALLWARDEN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    out: { type: 'string', default: join(benchDir, 'results', 'scale.json') },
    help: { type: 'boolean', short: 'h' },
  },
});
if (argv.help) {
  console.log(`usage: npx tsx bench/scale.ts [--small N] [--large N] [--users N] [--signins N] [--flows N] [--searches N]
       [--concurrency C] [--rounds R] [--warmup W] [--agents A] [--pg-url URL] [--out FILE]
  --signins/--flows/--searches: measured operations per size (split over --rounds); --warmup: unmeasured
  operations before each measured batch. Defaults: 1,000 vs 1,000,000 customers, 100,000 users, 8 in flight.`);
  process.exit(0);
}
const o = {
  small: positiveInt(argv.small, '--small'),
  large: positiveInt(argv.large, '--large'),
  users: positiveInt(argv.users, '--users'),
  counts: { signin: positiveInt(argv.signins, '--signins'), verification: positiveInt(argv.flows, '--flows'), search: positiveInt(argv.searches, '--searches') } as Record<Op, number>,
  concurrency: positiveInt(argv.concurrency, '--concurrency'),
  rounds: positiveInt(argv.rounds, '--rounds'),
  warmup: Number(argv.warmup),
  agents: positiveInt(argv.agents, '--agents'),
};
if (o.large <= o.small) fail('--large must be larger than --small');
const API_CUSTOMERS = 2; // created through the API by setupThroughApi
const realCustomers = o.small - API_CUSTOMERS;
if (realCustomers < o.concurrency) fail(`--small must be at least ${o.concurrency + API_CUSTOMERS}`);
const OPS: Op[] = ['signin', 'verification', 'search'];
const perRound = (op: Op) => Math.ceil(o.counts[op] / o.rounds);
/** Unmeasured operations per size and kind before the first round (JIT, caches, pools of both servers). */
const prewarm = Math.max(o.warmup, 2 * o.concurrency);
const loadUsers = prewarm + o.rounds * (perRound('signin') + o.warmup) + 5;
if (o.users < loadUsers + o.agents + 1) fail(`--users must be at least ${loadUsers + o.agents + 1} (sign-in users, agents)`);

interface Size {
  name: 'small' | 'large';
  customers: number;
  pgdb: ThrowAwayPostgres;
  running: Running;
  target: ScaleTarget;
  seedSeconds: number;
  stats: Awaited<ReturnType<typeof tableStats>>;
}

/** JSON lines for importCustomers: the real customers (searched and verified). */
function realCustomerLines(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(JSON.stringify({
      externalId: `CRM-${i}`,
      name: `Caller ${i}`,
      accountNumber: `RA${String(i).padStart(8, '0')}`,
      nationalId: `${String(100 + (i % 800)).padStart(3, '0')}-${String(10 + (i % 89)).padStart(2, '0')}-${String(1000 + i).slice(-4)}`,
      dateOfBirth: `19${60 + (i % 40)}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`,
      cardLast4: String(1000 + (i % 9000)),
      contacts: [
        { kind: 'phone', value: `+1415${3000000 + i}`, label: 'mobile' },
        { kind: 'email', value: `caller${i}@example.com` },
      ],
    }));
  }
  return lines.join('\n');
}

async function setupSize(name: Size['name'], customers: number, dataDir: string): Promise<Size> {
  const t0 = performance.now();
  const pgdb = await throwAwayPostgres(argv['pg-url']);
  let running: Running | undefined;
  try {
    return await setupOn(pgdb, name, customers, dataDir, t0, (r) => (running = r));
  } catch (e) {
    // not yet in `sizes`: main's cleanup does not know this database
    await running?.stop().catch(() => undefined);
    await pgdb.drop().catch((err: Error) => log('drop database:', err.message));
    throw e;
  }
}

async function setupOn(pgdb: ThrowAwayPostgres, name: Size['name'], customers: number, dataDir: string, t0: number, started: (r: Running) => void): Promise<Size> {
  const config = loadConfig({
    CALLWARDEN_DATA_DIR: join(dataDir, name),
    DATABASE_URL: pgdb.url,
    CALLWARDEN_HOST: '127.0.0.1',
    PORT: '0',
    CALLWARDEN_LOG_LEVEL: 'silent',
    CALLWARDEN_IP_ATTEMPTS_PER_MINUTE: '1000000',
    CALLWARDEN_IDENTIFIER_ATTEMPTS_PER_MINUTE: '1000000',
  });
  const running = await startServer(config);
  started(running);
  const s = running.services;
  const api = await setupThroughApi(running);
  const agentTokens = [api.agent.token, ...(await seedAgents(s, api.tenantId, o.agents - 1))];
  const users = await seedDirect(s, loadUsers);
  const imported = await importCustomers(s, { tenantId: api.tenantId, format: 'jsonl', text: realCustomerLines(realCustomers), actor: { type: 'system', id: null }, origin: systemOrigin });
  if (imported.created !== realCustomers || imported.errors.length) throw new Error(`import: ${imported.created} created, errors ${JSON.stringify(imported.errors.slice(0, 3))}`);
  const db = new pg.Client({ connectionString: pgdb.url, application_name: 'callwarden-bench-seed' });
  await db.connect();
  try {
    const real = (
      await db.query<{ id: string; phone: string; email: string; email_contact: string }>(
        `SELECT c.id, p.value AS phone, e.value AS email, e.id AS email_contact FROM customers c
           JOIN customer_contacts p ON p.customer_id = c.id AND p.kind = 'phone'
           JOIN customer_contacts e ON e.customer_id = c.id AND e.kind = 'email'
          WHERE c.tenant_id = $1 AND c.external_id LIKE 'CRM-%' ORDER BY c.external_id`,
        [api.tenantId],
      )
    ).rows.map((r): ScaleCustomer => ({ id: r.id, emailContactId: r.email_contact, email: r.email, phone: r.phone }));
    if (real.length !== realCustomers) throw new Error(`expected ${realCustomers} imported customers with a phone and an email, found ${real.length}`);
    const before = await tableStats(db, api.tenantId);
    log(`scale ${name}: setup through the API and services in ${round((performance.now() - t0) / 1000)} s; bulk: ${o.users - before.rows.users} users, ${customers - before.rows.customers} customers`);
    await bulkUsers(db, api.tenantId, o.users - before.rows.users, await s.hasher.hash(normalizePassword(PASSWORD)));
    await bulkCustomers(db, api.tenantId, customers - before.rows.customers);
    await db.query('ANALYZE');
    await db.query('CHECKPOINT').catch((e: Error) => log(`CHECKPOINT: ${e.message}`));
    const stats = await tableStats(db, api.tenantId);
    const seedSeconds = round((performance.now() - t0) / 1000);
    log(`scale ${name}: ${stats.rows.customers.toLocaleString('en-US')} customers, ${stats.rows.customerContacts.toLocaleString('en-US')} contacts, ${stats.rows.users.toLocaleString('en-US')} users; database ${stats.databaseMb} MB; seeded in ${seedSeconds} s`);
    const target: ScaleTarget = { url: running.url, tenant: TENANT, tenantId: api.tenantId, password: PASSWORD, users, agentTokens, customers: real, readUrl: pgdb.url };
    return { name, customers, pgdb, running, target, seedSeconds, stats };
  } finally {
    await db.end();
  }
}

function latencyStats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50Ms: round(pct(s, 50), 2), p90Ms: round(pct(s, 90), 2), p99Ms: round(pct(s, 99), 2), maxMs: round(s.at(-1) ?? 0, 2) };
}

async function main() {
  const started = new Date();
  const source = srcDigest();
  const m = machine();
  log(`scale: ${o.small.toLocaleString('en-US')} vs ${o.large.toLocaleString('en-US')} customers, ${o.users.toLocaleString('en-US')} users; ${OPS.map((op) => `${o.counts[op]} ${op}`).join(', ')} per size, ${o.concurrency} in flight, ${o.rounds} rounds`);
  const dataDir = mkdtempSync(join(os.tmpdir(), 'callwarden-bench-scale-'));
  const sizes: Size[] = [];
  let child: ChildProcess | undefined;
  const cleanup = async () => {
    child?.kill();
    child = undefined;
    for (const z of sizes.splice(0)) {
      await z.running.stop().catch((e: Error) => log('stop:', e.message));
      await z.pgdb.drop().catch((e: Error) => log('drop database:', e.message));
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    sizes.push(await setupSize('small', o.small, dataDir));
    sizes.push(await setupSize('large', o.large, dataDir));

    child = fork(join(benchDir, 'scale-client.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const c = child;
    const ask = <T extends FromClient['type']>(msg: ToClient, until: T) => request<FromClient, T>(c, msg, until);
    await ask({ type: 'init', targets: Object.fromEntries(sizes.map((z) => [z.name, z.target])) }, 'ready');

    for (const z of sizes) {
      for (const op of OPS) {
        const r = await ask({ type: 'run', target: z.name, op, count: 0, warmup: prewarm, concurrency: o.concurrency }, 'result');
        if (Object.keys(r.warmupErrors).length) log(`pre-warm ${z.name} ${op}: errors ${JSON.stringify(r.warmupErrors)}`);
      }
    }
    log(`pre-warmed both servers: ${prewarm} of each operation on each (not measured)`);
    const collected: Record<string, { latencies: number[]; steps: Record<string, number[]>; errors: Record<string, number>; wallMs: number; serverCpuMs: number; clientCpuMs: number; postgresCpuMs: number; machineBusy: number[]; otherCores: number[]; loadAverage: number[][]; rounds: Array<{ round: number; n: number; p50Ms: number; p99Ms: number; otherProcessesCores: number; loadAverage1m: number }> }> = {};
    const loadBefore = os.loadavg();
    for (let r = 0; r < o.rounds; r++) {
      const order = r % 2 === 0 ? sizes : [...sizes].reverse();
      for (const z of order) {
        for (const op of OPS) {
          const pids = async () => (await Promise.all(sizes.map((x) => x.pgdb.pids()))).flat();
          const pidsBefore = await pids();
          const a = sample(true);
          const res: ScaleRunResult = await ask({ type: 'run', target: z.name, op, count: perRound(op), warmup: o.warmup, concurrency: o.concurrency }, 'result');
          const b = sample(true);
          // PostgreSQL CPU: the backends of the two benchmark databases and the shared writers (not other databases' backends)
          const d = delta(a, b, new Set([...pidsBefore, ...(await pids())]));
          const k = `${z.name}:${op}`;
          const acc = (collected[k] ??= { latencies: [], steps: {}, errors: {}, wallMs: 0, serverCpuMs: 0, clientCpuMs: 0, postgresCpuMs: 0, machineBusy: [], otherCores: [], loadAverage: [], rounds: [] });
          acc.latencies.push(...res.latencies);
          for (const [s, v] of Object.entries(res.steps)) (acc.steps[s] ??= []).push(...v);
          for (const [e, n] of Object.entries(res.errors)) acc.errors[e] = (acc.errors[e] ?? 0) + n;
          acc.wallMs += res.wallMs;
          acc.serverCpuMs += d.serverCpuMs;
          acc.clientCpuMs += res.clientCpuMs;
          acc.postgresCpuMs += d.postgresCpuMs;
          acc.machineBusy.push(round(d.machineBusy, 3));
          acc.otherCores.push(round(Math.max(0, d.machineBusy * cores - (d.serverCpuMs + res.clientCpuMs + d.postgresCpuMs) / d.wallMs), 2));
          acc.loadAverage.push(os.loadavg().map((x) => round(x, 2)));
          const st = latencyStats(res.latencies);
          acc.rounds.push({ round: r + 1, n: st.n, p50Ms: st.p50Ms, p99Ms: st.p99Ms, otherProcessesCores: acc.otherCores.at(-1)!, loadAverage1m: round(os.loadavg()[0]!, 2) });
          log(`round ${r + 1}/${o.rounds} ${z.name} ${op}: ${st.n} ok, p50 ${st.p50Ms} ms, p99 ${st.p99Ms} ms${Object.keys(res.errors).length ? `, errors ${JSON.stringify(res.errors)}` : ''}${Object.keys(res.warmupErrors).length ? `, warm-up errors ${JSON.stringify(res.warmupErrors)}` : ''}; machine ${round(d.machineBusy * 100)}% busy, load ${os.loadavg()[0]!.toFixed(2)}`);
        }
      }
    }
    c.send({ type: 'exit' } satisfies ToClient);
    child = undefined;

    // The plan of the search statement (as CustomerRepo.search builds it for a phone) on each size.
    const plans: Record<string, string[]> = {};
    for (const z of sizes) {
      const db = new pg.Client({ connectionString: z.pgdb.url, application_name: 'callwarden-bench-explain' });
      await db.connect();
      try {
        const phone = z.target.customers[0]!.phone;
        const r = await db.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM customers WHERE tenant_id = $1 AND (id IN (SELECT customer_id FROM customer_contacts WHERE tenant_id = $1 AND kind = 'phone' AND value = $2)) ORDER BY name, id LIMIT 20`,
          [z.target.tenantId, phone],
        );
        plans[z.name] = r.rows.map((x) => x['QUERY PLAN']);
      } finally {
        await db.end();
      }
    }

    const opSummary = (acc: (typeof collected)[string]) => ({
      ...latencyStats(acc.latencies),
      perSec: round(acc.latencies.length / (acc.wallMs / 1000), 1),
      errors: Object.values(acc.errors).reduce((x, y) => x + y, 0),
      errorKinds: acc.errors,
      steps: Object.fromEntries(Object.entries(acc.steps).map(([s, v]) => [s, latencyStats(v)])),
      cpuMsPerOp: { server: round(acc.serverCpuMs / Math.max(1, acc.latencies.length), 2), postgres: round(acc.postgresCpuMs / Math.max(1, acc.latencies.length), 2), client: round(acc.clientCpuMs / Math.max(1, acc.latencies.length), 2) },
      machineBusy: acc.machineBusy,
      otherProcessesCores: acc.otherCores,
      loadAverage: acc.loadAverage,
      /** Each round's batch: a window disturbed by other processes shows here. */
      rounds: acc.rounds,
    });
    const opSummaries = (size: string) => ({
      signin: opSummary(collected[`${size}:signin`]!),
      verification: opSummary(collected[`${size}:verification`]!),
      search: opSummary(collected[`${size}:search`]!),
    });
    const results = sizes.map((z) => ({
      size: z.name,
      customers: z.stats.rows.customers,
      tables: z.stats,
      seedSeconds: z.seedSeconds,
      ops: opSummaries(z.name),
    }));
    const [small, large] = results as [(typeof results)[0], (typeof results)[0]];
    const ratios = Object.fromEntries(OPS.map((op) => [op, { p50: round(large.ops[op].p50Ms / small.ops[op].p50Ms, 3), p99: round(large.ops[op].p99Ms / small.ops[op].p99Ms, 3) }])) as Record<Op, { p50: number; p99: number }>;
    const result = {
      benchmark: 'scale' as const,
      date: started.toISOString(),
      command: `npx tsx bench/scale.ts ${process.argv.slice(2).join(' ')}`.trim(),
      machine: m,
      loadAverage: { before: loadBefore.map((x) => round(x, 2)), after: os.loadavg().map((x) => round(x, 2)) },
      source,
      postgresVersion: sizes[0]!.pgdb.version,
      workload: {
        customers: { small: o.small, large: o.large },
        users: o.users,
        realCustomers: realCustomers + API_CUSTOMERS,
        signinUsersPerSize: loadUsers,
        agents: o.agents,
        measuredPerSize: o.counts,
        warmupPerBatch: o.warmup,
        prewarmPerSizeAndOperation: prewarm,
        concurrency: o.concurrency,
        rounds: o.rounds,
        verificationLatency: 'start + send + check (the customer reading the code from the outbox is left out; see steps.read)',
      },
      results,
      ratios,
      searchPlans: plans,
    };
    await cleanup();
    writeJson(argv.out, result);
    console.log(`\nCallwarden at scale on PostgreSQL ${result.postgresVersion}: ${o.users.toLocaleString('en-US')} users; ${o.concurrency} in flight; load average ${result.loadAverage.before.join(' ')} before, ${result.loadAverage.after.join(' ')} after`);
    console.log(`| operation | customers | n | p50 ms | p99 ms | max ms | per s | errors | p50 ${large.customers.toLocaleString('en-US')}/${small.customers.toLocaleString('en-US')} | p99 ratio |`);
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const op of OPS) {
      for (const z of results) {
        const x = z.ops[op];
        const ratio = z === large ? [`${ratios[op].p50}x`, `${ratios[op].p99}x`] : ['', ''];
        console.log(`| ${op} | ${z.customers.toLocaleString('en-US')} | ${x.n} | ${x.p50Ms} | ${x.p99Ms} | ${x.maxMs} | ${x.perSec} | ${x.errors} | ${ratio[0]} | ${ratio[1]} |`);
      }
    }
    console.log(`\nJSON: ${argv.out}`);
  } catch (e) {
    await cleanup();
    throw e;
  }
}

await main();
