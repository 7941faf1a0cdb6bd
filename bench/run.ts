/**
 * The benchmark runner: `npm run bench` (full) or `npm run bench -- --quick` (a smoke run of a few
 * minutes; `npm run bench --quick` works too: npm passes it as npm_config_quick).
 *
 *   (a) sign-in: password + TOTP logins/s beside the argon2id floor     bench/signin.ts        PGlite, PostgreSQL
 *   (b) the same workload on Better Auth                                bench/peers/better-auth/run.ts, when present
 *   (c) caller verification flows/s beside the minimal floor (Fastify + pg) bench/verification.ts  PostgreSQL, PGlite
 *   (d) RSS idle and with 10k live sessions                             bench/memory.ts        PGlite, PostgreSQL
 *   (e) start to ready on the embedded store, beside node -e Fastify    bench/startup.ts
 *   (f) p50/p99 of sign-in and verification, 1k vs 1M customers         bench/scale.ts         PostgreSQL
 *
 * Each benchmark runs in its own process (its own command line, its JSON in bench/results/), one
 * after the other; (b) is imported and its exported run(opts) awaited. A benchmark that fails is
 * reported and the others still run. At the end: one table (benchmark, figure, floor or peer, ratio;
 * every ratio is of two figures measured in the same run), and bench/results/latest.json with the
 * table, each benchmark's full result, the machine and the load average around each benchmark
 * (+ a dated copy, bench/results/run-<date>.json).
 *
 * Options: --quick, --only a,c,..., --pg-url URL, --wait-idle S and --retries N (passed to (a) and
 * (c); 0 by default: on a machine that is never idle waiting does not help, the load is recorded
 * instead), --out FILE.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { benchDir, fail, log, round } from './lib/common.js';
import { machineTicks } from './lib/cpu.js';
import { machine, srcDigest } from './lib/machine.js';
import type { PeerResult, PeerRow, PeerRunOptions } from './lib/peer.js';
import { formatTable, loadAverage, writeJson, type SummaryRow } from './lib/summary.js';

const { values: argv } = parseArgs({
  options: {
    quick: { type: 'boolean', default: process.env.npm_config_quick === 'true' },
    only: { type: 'string' },
    'pg-url': { type: 'string', default: process.env.CALLWARDEN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    'wait-idle': { type: 'string', default: '0' },
    retries: { type: 'string', default: '0' },
    out: { type: 'string', default: join(benchDir, 'results', 'latest.json') },
    help: { type: 'boolean', short: 'h' },
  },
});
if (argv.help) {
  console.log(`usage: npm run bench [-- --quick] [--only a,b,c,d,e,f] [--pg-url URL] [--wait-idle S] [--retries N] [--out FILE]
  runs (a) sign-in, (b) Better Auth (when bench/peers/better-auth/run.ts exists), (c) caller verification,
  (d) memory, (e) start-up, (f) scale; prints one table and writes bench/results/latest.json (+ a dated copy).`);
  process.exit(0);
}
const quick = argv.quick!;
const only = argv.only ? new Set(argv.only.split(',').map((x) => x.trim().toLowerCase())) : undefined;
const pgUrl = argv['pg-url']!;
const resultsDir = join(benchDir, 'results');
const waitIdle = String(Number(argv['wait-idle']));
const retries = String(Number(argv.retries));
if (only) for (const x of only) if (!'abcdef'.includes(x) || x.length !== 1) fail(`--only: letters a-f, not ${x}`);

const tsxCli = join(benchDir, '..', 'node_modules', 'tsx', 'dist', 'cli.mjs');
const pgArgs = ['--pg-url', pgUrl];

/** Runs one benchmark script in its own process (stdout and stderr shown as they come); resolves with its exit code. */
function runScript(script: string, args: string[]): Promise<number> {
  log(`$ npx tsx bench/${script} ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsxCli, join(benchDir, script), ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

const readJson = (file: string): any => JSON.parse(readFileSync(file, 'utf8'));

interface StageRecord {
  id: string;
  name: string;
  commands: string[];
  seconds: number;
  loadAverage: { before: number[]; after: number[] };
  /** Share of the machine's CPU busy during the benchmark (everything on it). */
  machineBusy: number;
  ok: boolean;
  error?: string;
  note?: string;
  results: Record<string, unknown>;
}

const stages: StageRecord[] = [];
const rows: SummaryRow[] = [];
const f1 = (x: number) => round(x, 1);
const ms = (x: number) => (x >= 100 ? String(Math.round(x)) : String(round(x, 1)));

async function stage(id: string, name: string, fn: (rec: StageRecord) => Promise<void>): Promise<void> {
  if (only && !only.has(id)) return;
  const rec: StageRecord = { id, name, commands: [], seconds: 0, loadAverage: { before: loadAverage(), after: [] }, machineBusy: 0, ok: true, results: {} };
  log(`(${id}) ${name}: load average ${rec.loadAverage.before.join(' ')}`);
  const t0 = performance.now();
  const m0 = machineTicks();
  try {
    await fn(rec);
  } catch (e) {
    rec.ok = false;
    rec.error = (e as Error).message;
    log(`(${id}) ${name} failed: ${rec.error}`);
    rows.push({ id, benchmark: name, figure: `FAILED: ${rec.error.slice(0, 80)}`, reference: '-', ratio: null, ratioLabel: '', ratioStyle: 'percent' });
  }
  const m1 = machineTicks();
  rec.machineBusy = round((m1.busy - m0.busy) / Math.max(1, m1.total - m0.total), 3);
  rec.seconds = round((performance.now() - t0) / 1000);
  rec.loadAverage.after = loadAverage();
  stages.push(rec);
  log(`(${id}) ${name}: ${rec.seconds} s; machine ${round(rec.machineBusy * 100)}% busy; load average ${rec.loadAverage.after.join(' ')}`);
}

/** Runs a script that writes `out`; returns its JSON (throws when it failed). */
async function script(rec: StageRecord, key: string, file: string, args: string[]): Promise<any> {
  const out = join(resultsDir, file);
  const all = [...args, '--out', out];
  rec.commands.push(`npx tsx bench/${key} ${all.join(' ')}`);
  const started = Date.now();
  const code = await runScript(key, all);
  if (code !== 0) throw new Error(`bench/${key} exited with ${code}`);
  const json = readJson(out);
  if (json.date && Date.parse(json.date) < started - 5000) throw new Error(`${out} was not rewritten by this run`);
  return json;
}

const storeName = (s: string) => (s === 'postgres' ? 'PostgreSQL' : 'PGlite');

async function main() {
  const t0 = performance.now();
  const started = new Date();
  let postgresVersion: string | null = null;
  try {
    const c = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 });
    await c.connect();
    postgresVersion = (await c.query<{ v: string }>('SELECT version() AS v')).rows[0]?.v ?? null;
    await c.end();
  } catch (e) {
    log(`PostgreSQL at ${pgUrl}: ${(e as Error).message}`);
  }
  const m = machine();
  log(`${quick ? 'quick' : 'full'} run; ${m.nproc} cores (${m.cpuModel}), ${m.memoryGiB} GiB, node ${m.node}; ${postgresVersion ?? 'no PostgreSQL'}; load average ${loadAverage().join(' ')}`);

  // (a) sign-in throughput beside the argon2id floor
  await stage('a', 'sign-in (password + TOTP)', async (rec) => {
    const stores = quick ? ['postgres'] : ['pglite', 'postgres'];
    for (const store of stores) {
      const args = quick
        ? ['--store', store, '--clients', '8', '--seconds', '4', '--warmup', '1', '--floor-seconds', '1', ...pgArgs]
        : ['--store', store, '--wait-idle', waitIdle, '--retries', retries, ...pgArgs];
      const r = await script(rec, 'signin.ts', `signin-${store}.json`, args);
      rec.results[store] = r;
      // a floor measured while other processes used the cores comes out low (and the share high): say so
      const floorOther = Math.max(...r.argon2Floor.concurrent.map((c: { otherProcessesCores: number }) => c.otherProcessesCores));
      const floorNote = `${floorOther > 0.2 ? `, disturbed: other processes ${round(floorOther, 2)} cores` : ''}; ${m.nproc} cores/t1 ${f1(r.argon2Floor.theoreticalPerSec)}/s`;
      for (const run of r.runs) {
        rows.push({
          id: 'a',
          benchmark: `sign-in, ${storeName(store)}, ${run.clients} clients`,
          figure: `${f1(run.loginsPerSec)} logins/s (p50 ${ms(run.p50Ms)}, p99 ${ms(run.p99Ms)} ms${run.errors ? `, ${run.errors} errors` : ''}${run.cpu && run.cpu.otherProcessesCores > 0.2 ? `; other processes ${run.cpu.otherProcessesCores} cores` : ''})`,
          reference: `argon2id floor ${f1(r.argon2Floor.measuredPerSec)}/s measured${floorNote}`,
          ratio: run.shareOfMeasuredFloor,
          ratioLabel: 'of floor',
          ratioStyle: 'percent',
        });
      }
    }
    if (quick) rec.note = 'quick: PostgreSQL only, 8 clients, 4 s';
  });

  // (b) the peer: Better Auth, same workload, same PostgreSQL (another engineer's module)
  await stage('b', 'Better Auth (peer)', async (rec) => {
    const file = join(benchDir, 'peers', 'better-auth', 'run.ts');
    if (!existsSync(file)) {
      rec.note = 'skipped: bench/peers/better-auth/run.ts does not exist yet';
      rows.push({ id: 'b', benchmark: 'sign-in, Better Auth (peer)', figure: 'not run: bench/peers/better-auth/run.ts missing', reference: '-', ratio: null, ratioLabel: '', ratioStyle: 'percent' });
      return;
    }
    const mod = (await import(pathToFileURL(file).href)) as { run?: (opts: PeerRunOptions) => Promise<PeerResult> };
    if (typeof mod.run !== 'function') throw new Error('bench/peers/better-auth/run.ts exports no run(opts)');
    const opts: PeerRunOptions = quick
      ? { quick: true, pgUrl, clients: [8], durationS: 3, warmupS: 1, users: 32 }
      : { quick: false, pgUrl, waitIdleS: Number(waitIdle), retries: Number(retries) };
    rec.commands.push(`import { run } from 'bench/peers/better-auth/run.ts'; await run(${JSON.stringify(opts)})`);
    const result = await mod.run(opts);
    const out = join(resultsDir, 'peer-better-auth.json');
    writeJson(out, { ...(result.json as object), rows: result.rows });
    rec.results.peer = { ...(result.json as object), rows: result.rows };
    rows.push(...peerRows(result.rows));
    if (quick) rec.note = 'quick: 8 clients, 3 s windows, 32 Better Auth users';
  });

  // (c) caller verification beside the minimal floor (bare Fastify + pg, one session read and one CTE write per request)
  await stage('c', 'caller verification (start + send + check)', async (rec) => {
    const stores = quick ? ['postgres'] : ['postgres', 'pglite'];
    for (const store of stores) {
      const args = quick
        ? ['--store', store, '--clients', '8,16', '--seconds', '6', '--warmup', '3', '--prewarm', '2', '--customers', '300', '--agents', '10', ...pgArgs]
        : ['--store', store, '--clients', '8,16', '--wait-idle', waitIdle, '--retries', retries, ...pgArgs];
      const r = await script(rec, 'verification.ts', `verification-${store}.json`, args);
      rec.results[store] = r;
      for (const c of r.comparison) {
        const cw = r.runs.find((x: any) => x.target === 'callwarden' && x.clients === c.clients);
        const sqlNote = c.callwardenSqlPerRequest ? `; x-sql-statements/request mean ${round(c.callwardenSqlPerRequest.mean, 2)}, max ${c.callwardenSqlPerRequest.max}` : '';
        rows.push({
          id: 'c',
          benchmark: `verification, ${storeName(store)}, ${c.clients} clients`,
          figure: `${f1(c.callwarden)} flows/s (${c.callwardenFlows} flows, p50 ${ms(c.callwardenP50Ms)}, p99 ${ms(c.callwardenP99Ms)} ms${cw?.errors ? `, ${cw.errors} errors` : ''}${sqlNote})`,
          reference: `minimal floor (Fastify + pg) ${f1(c.floor)}/s (${c.floorFlows} flows, p50 ${ms(c.floorP50Ms)}, p99 ${ms(c.floorP99Ms)} ms)`,
          ratio: c.ratio,
          ratioLabel: 'of floor',
          ratioStyle: 'percent',
        });
      }
    }
    if (quick) rec.note = 'quick: PostgreSQL only, 8 and 16 clients, 6 s windows after 3 s warm-up, 10 agents, 300 customers';
  });

  // (d) memory
  await stage('d', 'memory (RSS)', async (rec) => {
    const sessions = quick ? 1000 : 10000;
    const r = await script(rec, 'memory.ts', 'memory.json', ['--sessions', String(sessions), '--warmup-requests', quick ? '300' : '2000', ...pgArgs]);
    rec.results.memory = r;
    const k = sessions >= 1000 ? `${sessions / 1000}k` : String(sessions);
    for (const x of r.results) {
      rows.push({ id: 'd', benchmark: `RSS idle, ${storeName(x.store)}`, figure: `${f1(x.idle.rssMb)} MB (heap ${f1(x.idle.heapUsedMb)} MB)`, reference: '-', ratio: null, ratioLabel: '', ratioStyle: 'times' });
      rows.push({
        id: 'd',
        benchmark: `RSS, ${k} live sessions, ${storeName(x.store)}`,
        figure: `${f1(x.withSessions.rssMb)} MB (${x.deltaPer1kSessionsMb >= 0 ? '+' : ''}${round(x.deltaPer1kSessionsMb, 2)} MB per 1k sessions)`,
        reference: `idle ${f1(x.idle.rssMb)} MB`,
        ratio: x.withSessions.rssMb / x.idle.rssMb,
        ratioLabel: 'of idle',
        ratioStyle: 'times',
      });
    }
  });

  // (e) start to ready
  await stage('e', 'start to ready', async (rec) => {
    const args = quick ? ['--runs', '1', '--variants', 'callwardenFresh,callwardenExisting,floorFastify', '--no-prewarm'] : ['--runs', '5', ...pgArgs];
    const r = await script(rec, 'startup.ts', 'startup.json', args);
    rec.results.startup = r;
    const v = r.variants;
    const fmt = (x: any) => `median ${ms(x.medianMs)} ms (${ms(x.minMs)}-${ms(x.maxMs)})`;
    const pgliteFloor = (k: string) => (v[k] ? `; Fastify + PGlite ${ms(v[k].medianMs)} ms` : '');
    rows.push({ id: 'e', benchmark: 'start to ready, PGlite, fresh data dir', figure: fmt(v.callwardenFresh), reference: `node -e Fastify ${ms(v.floorFastify.medianMs)} ms${pgliteFloor('floorPgliteFresh')}`, ratio: r.ratios.freshOverFloor, ratioLabel: 'of floor', ratioStyle: 'times' });
    rows.push({ id: 'e', benchmark: 'start to ready, PGlite, existing data dir', figure: fmt(v.callwardenExisting), reference: `node -e Fastify ${ms(v.floorFastify.medianMs)} ms${pgliteFloor('floorPgliteExisting')}`, ratio: r.ratios.existingOverFloor, ratioLabel: 'of floor', ratioStyle: 'times' });
    if (v.callwardenPostgres) rows.push({ id: 'e', benchmark: 'start to ready, PostgreSQL (migrated)', figure: fmt(v.callwardenPostgres), reference: `node -e Fastify ${ms(v.floorFastify.medianMs)} ms`, ratio: v.callwardenPostgres.medianMs / v.floorFastify.medianMs, ratioLabel: 'of floor', ratioStyle: 'times' });
    if (quick) rec.note = 'quick: one run of each, no PGlite floor or PostgreSQL variant';
  });

  // (f) latency at scale
  await stage('f', 'latency with 1k vs 1M customers', async (rec) => {
    const args = quick
      ? ['--large', '10000', '--users', '3000', '--signins', '60', '--flows', '60', '--searches', '120', '--rounds', '1', '--warmup', '10', ...pgArgs]
      : [...pgArgs];
    const r = await script(rec, 'scale.ts', 'scale.json', args);
    rec.results.scale = r;
    const [small, large] = r.results;
    const n = (x: number) => (x >= 1e6 && x % 1e6 < 1e4 ? `${round(x / 1e6, 2)}M` : x >= 1000 ? `${round(x / 1000, 1)}k` : String(x));
    const label = `${n(large.customers)}/${n(small.customers)}`;
    const users = n(r.workload.users);
    for (const [op, title] of [['signin', 'sign-in'], ['verification', 'verification (start+send+check)'], ['search', 'customer search by phone']] as const) {
      const a = small.ops[op];
      const b = large.ops[op];
      rows.push({
        id: 'f',
        benchmark: `${title}, ${n(large.customers)} customers, ${users} users`,
        figure: `p50 ${ms(b.p50Ms)}, p99 ${ms(b.p99Ms)} ms${b.errors ? ` (${b.errors} errors)` : ''}`,
        reference: `${n(small.customers)}: p50 ${ms(a.p50Ms)}, p99 ${ms(a.p99Ms)} ms`,
        ratio: r.ratios[op].p99,
        ratioLabel: `p99 ${label} (p50 ${round(r.ratios[op].p50, 2)}x)`,
        ratioStyle: 'times',
      });
    }
    if (quick) rec.note = 'quick: 1k vs 10k customers, 3k users, 60 sign-ins and flows, 120 searches';
  });

  const seconds = round((performance.now() - t0) / 1000);
  const table = formatTable(rows);
  const result = {
    benchmark: 'all',
    date: started.toISOString(),
    command: `npm run bench${process.argv.length > 2 || quick ? ` -- ${[...(quick && !process.argv.includes('--quick') ? ['--quick'] : []), ...process.argv.slice(2)].join(' ')}` : ''}`,
    quick,
    seconds,
    machine: { ...m, postgres: postgresVersion },
    source: srcDigest(),
    loadAverage: { before: stages[0]?.loadAverage.before ?? loadAverage(), after: loadAverage() },
    rows,
    table,
    stages,
  };
  writeJson(argv.out!, result);
  const dated = join(resultsDir, `run-${started.toISOString().replace(/[:.]/g, '-').replace(/-\d\d\dZ$/, 'Z')}${quick ? '-quick' : ''}.json`);
  writeJson(dated, result);
  console.log(`\nCallwarden benchmarks (${quick ? 'quick' : 'full'}), ${started.toISOString()}: ${m.nproc} cores (${m.cpuModel}), ${m.memoryGiB} GiB, node ${m.node}, ${postgresVersion?.split(' on ')[0] ?? 'no PostgreSQL'}`);
  console.log(table);
  console.log(`\n${stages.map((s) => `(${s.id}) ${s.seconds} s, load ${s.loadAverage.before[0]}->${s.loadAverage.after[0]}, machine ${round(s.machineBusy * 100)}% busy${s.note ? ` [${s.note}]` : ''}${s.ok ? '' : ' FAILED'}`).join('\n')}`);
  console.log(`total ${seconds} s; JSON: ${argv.out} and ${dated}`);
  if (stages.some((s) => !s.ok)) process.exitCode = 1;
}

/** The peer's rows (lib/peer.ts) as summary rows. */
function peerRows(peer: PeerRow[]): SummaryRow[] {
  return peer.map((x) => {
    const comparison = x.unit === 'x';
    const value = Number.isInteger(x.value) ? String(x.value) : String(round(x.value, comparison ? 2 : 1));
    return {
      id: 'b',
      benchmark: x.name,
      figure: comparison ? `${value}x` : `${value} ${x.unit}${x.note ? ` (${x.note})` : ''}`,
      reference: x.floor !== undefined ? `argon2id floor ${f1(x.floor)}/s` : '-',
      ratio: typeof x.ratio === 'number' && !comparison ? x.ratio : comparison ? x.value : null,
      ratioLabel: comparison ? 'Callwarden / Better Auth' : 'of floor',
      ratioStyle: comparison ? 'times' : 'percent',
    };
  });
}

await main();
