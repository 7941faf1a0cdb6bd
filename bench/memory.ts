/**
 * Memory benchmark (not a test): the resident set size (RSS) of one Callwarden server process idle
 * (after start and warm-up) and with N live sessions (10,000 by default), on the embedded store
 * (PGlite) and on PostgreSQL.
 *
 *   npx tsx bench/memory.ts [--store pglite,postgres] [--sessions N] [--warmup-requests N] [--out FILE]
 *   npm run bench:memory
 *
 * 1. src/ is compiled (lib/build.ts; `npm start` runs compiled JavaScript too) and the server process
 *    (lib/server-process.ts: startServer with the configuration from the environment, as
 *    `callwarden serve`) is forked with --expose-gc: default log level (stdout discarded), a
 *    bootstrapped operator, PGlite in a temporary directory or a throw-away PostgreSQL database.
 * 2. Warm-up over HTTP from this process: the operator signs in and creates a tenant, then
 *    --warmup-requests GET /v1/me and a quarter as many GET /readyz (8 in flight). 2 s later: the
 *    idle sample.
 * 3. N agents, one session each, written in the server process through the sessions service
 *    (issueSession, the row a sign-in writes: stored in the database). Each session is then used
 *    once over HTTP (GET /v1/me, 8 in flight; every answer must be 200). 2 s later: the second sample.
 * A sample is VmRSS read by this process from /proc/<pid>/status ("as is"), then, in the server
 * process after three forced full GCs, VmRSS again plus process.memoryUsage() (heap, external,
 * array buffers: PGlite's WebAssembly memory is an array buffer).
 * Prints a table and writes bench/results/memory.json.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { benchDir, fail, log, OPERATOR, PASSWORD, positiveInt, round, TENANT } from './lib/common.js';
import { buildServer } from './lib/build.js';
import { api, expectStatus, inParallel, passwordSignIn } from './lib/http.js';
import { request } from './lib/ipc.js';
import { machine } from './lib/machine.js';
import { throwAwayPostgres } from './lib/postgres.js';
import { writeJson } from './lib/summary.js';
import type { FromServer, MemorySample, ToServer } from './lib/server-process.js';

const { values: argv } = parseArgs({
  options: {
    store: { type: 'string', default: 'pglite,postgres' },
    sessions: { type: 'string', default: '10000' },
    'warmup-requests': { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '8' },
    'pg-url': { type: 'string', default: process.env.CALLWARDEN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    out: { type: 'string', default: join(benchDir, 'results', 'memory.json') },
    help: { type: 'boolean', short: 'h' },
  },
});
if (argv.help) {
  console.log(`usage: npx tsx bench/memory.ts [--store pglite,postgres] [--sessions N] [--warmup-requests N] [--concurrency N] [--pg-url URL] [--out FILE]`);
  process.exit(0);
}
const stores = argv.store.split(',').map((x) => (x === 'pglite' || x === 'postgres' ? x : fail(`--store: pglite and/or postgres, not ${x}`)));
const sessionCount = positiveInt(argv.sessions, '--sessions');
const warmupRequests = positiveInt(argv['warmup-requests'], '--warmup-requests');
const concurrency = positiveInt(argv.concurrency, '--concurrency');

const MB = 1024 * 1024;
const vmRssKib = (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

function summarize(asIsKib: number, m: MemorySample) {
  return {
    rssAsIsMb: round(asIsKib / 1024),
    rssMb: round(m.vmRssKib / 1024),
    peakRssMb: round(m.vmHwmKib / 1024),
    heapUsedMb: round(m.heapUsed / MB),
    heapTotalMb: round(m.heapTotal / MB),
    externalMb: round(m.external / MB),
    arrayBuffersMb: round(m.arrayBuffers / MB),
    gcForced: m.gcForced,
  };
}
type Snapshot = ReturnType<typeof summarize>;

async function measureStore(store: 'pglite' | 'postgres', serverProcess: string) {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'callwarden-bench-mem-'));
  const pgdb = store === 'postgres' ? await throwAwayPostgres(argv['pg-url']) : undefined;
  let child: ChildProcess | undefined;
  try {
    child = fork(serverProcess, [], {
      execPath: process.execPath,
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: {
        PATH: process.env.PATH ?? '',
        CALLWARDEN_DATA_DIR: join(dataDir, 'data'),
        ...(pgdb ? { DATABASE_URL: pgdb.url } : {}),
        CALLWARDEN_HOST: '127.0.0.1',
        PORT: '0',
        CALLWARDEN_BOOTSTRAP_ADMIN_EMAIL: OPERATOR.email,
        CALLWARDEN_BOOTSTRAP_ADMIN_PASSWORD: OPERATOR.password,
      },
    });
    const c = child;
    const ask = <T extends FromServer['type']>(msg: ToServer, until: T) => request<FromServer, T>(c, msg, until);
    const ready = await new Promise<Extract<FromServer, { type: 'ready' }>>((resolve, reject) => {
      c.once('exit', (code) => reject(new Error(`server process exited (${code})`)));
      c.on('message', (m: FromServer) => (m.type === 'ready' ? resolve(m) : m.type === 'fatal' ? reject(new Error(m.message)) : undefined));
    });
    const pid = c.pid!;
    const base = ready.url;
    log(`memory ${store}: server process ${pid} at ${base}`);

    // warm-up: the operator's walk, then read-only requests
    const op = await passwordSignIn(base, 'platform', OPERATOR.email, OPERATOR.password);
    expectStatus(await api(base, 'POST', '/v1/tenants', { token: op, body: { slug: TENANT, name: 'Bench Contact Center', mfaMode: 'optional' } }), 201, 'create tenant');
    let bad = 0;
    await inParallel(Array.from({ length: warmupRequests }), concurrency, async () => {
      if ((await api(base, 'GET', '/v1/me', { token: op })).status !== 200) bad++;
    });
    await inParallel(Array.from({ length: Math.ceil(warmupRequests / 4) }), concurrency, async () => {
      if ((await fetch(`${base}/readyz`)).status !== 200) bad++;
    });
    if (bad) throw new Error(`${bad} warm-up requests failed`);
    await sleep(2000);
    const idle = summarize(vmRssKib(pid), await ask({ type: 'measure' }, 'memory'));
    log(`memory ${store}: idle ${idle.rssMb} MB after GC (${idle.rssAsIsMb} MB as is)`);

    // N live sessions
    const made = await ask({ type: 'sessions', tenant: TENANT, count: sessionCount, password: PASSWORD }, 'sessions');
    let notOk = 0;
    await inParallel(made.tokens, concurrency, async (token) => {
      if ((await api(base, 'GET', '/v1/me', { token })).status !== 200) notOk++;
    });
    if (notOk) throw new Error(`${notOk} of ${made.tokens.length} sessions were refused`);
    await sleep(2000);
    const withSessions = summarize(vmRssKib(pid), await ask({ type: 'measure' }, 'memory'));
    const per1k = (k: keyof Snapshot) => round(((withSessions[k] as number) - (idle[k] as number)) / (sessionCount / 1000), 2);
    log(`memory ${store}: with ${sessionCount} sessions ${withSessions.rssMb} MB after GC (${withSessions.rssAsIsMb} MB as is); ${per1k('rssMb')} MB per 1k sessions`);
    await ask({ type: 'stop' }, 'fatal').catch(() => undefined); // answers by exiting
    child = undefined;
    return {
      store,
      postgresVersion: pgdb?.version ?? null,
      sessions: sessionCount,
      sessionSetupSeconds: round(made.ms / 1000),
      idle,
      withSessions,
      deltaMb: round(withSessions.rssMb - idle.rssMb),
      deltaPer1kSessionsMb: per1k('rssMb'),
      deltaAsIsPer1kSessionsMb: per1k('rssAsIsMb'),
      heapDeltaPer1kSessionsMb: per1k('heapUsedMb'),
      arrayBuffersDeltaPer1kSessionsMb: per1k('arrayBuffersMb'),
    };
  } finally {
    child?.kill('SIGKILL');
    await pgdb?.drop().catch((e: Error) => log('drop database:', e.message));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const started = new Date();
const build = buildServer();
const loadBefore = os.loadavg();
const results = [];
for (const store of stores) results.push(await measureStore(store, build.serverProcess));
const result = {
  benchmark: 'memory' as const,
  date: started.toISOString(),
  command: `npx tsx bench/memory.ts ${process.argv.slice(2).join(' ')}`.trim(),
  machine: machine(),
  loadAverage: { before: loadBefore.map((x) => round(x, 2)), after: os.loadavg().map((x) => round(x, 2)) },
  source: build.source,
  method: {
    server: 'compiled src/ (tsc, transpile only), forked as `node --expose-gc`: startServer with the configuration from the environment (what `callwarden serve` runs); default log level, stdout discarded; REDIS_URL unset (rate limits in process)',
    warmup: `operator sign-in, tenant creation, ${warmupRequests} GET /v1/me and ${Math.ceil(warmupRequests / 4)} GET /readyz (${concurrency} in flight)`,
    sessions: `${sessionCount} active agents with one session each, written by the server process through issueSession (stored in the database), then each used once: GET /v1/me (${concurrency} in flight, all 200)`,
    sample: 'VmRSS from /proc/<pid>/status read by the parent (as is), then after three forced full GCs in the server process: VmRSS and process.memoryUsage()',
  },
  results,
};
writeJson(argv.out, result);
console.log(`\nCallwarden memory: ${sessionCount} sessions; load average ${result.loadAverage.before.join(' ')} before, ${result.loadAverage.after.join(' ')} after`);
console.log('| store | idle RSS | with sessions | delta | per 1k sessions | as is: idle / with | heap used: idle / with | array buffers: idle / with |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(`| ${r.store} | ${r.idle.rssMb} MB | ${r.withSessions.rssMb} MB | ${r.deltaMb} MB | ${r.deltaPer1kSessionsMb} MB | ${r.idle.rssAsIsMb} / ${r.withSessions.rssAsIsMb} MB | ${r.idle.heapUsedMb} / ${r.withSessions.heapUsedMb} MB | ${r.idle.arrayBuffersMb} / ${r.withSessions.arrayBuffersMb} MB |`);
}
console.log(`\nJSON: ${argv.out}`);
