/**
 * Start-up benchmark (not a test): the time from process start to ready (/readyz answers 200) of
 * `callwarden serve` on the embedded store, with a fresh data directory (PGlite creates its cluster,
 * the dev key is generated, every migration runs) and with an existing one (already migrated),
 * beside floors started the same way in the same run.
 *
 *   npx tsx bench/startup.ts [--runs N] [--out FILE]
 *   npm run bench:startup
 *
 * Variants, run interleaved (run 1 of each, then run 2 of each, ...) so that a change in the
 * machine's load touches them alike:
 *   callwarden, fresh data dir      node <compiled>/callwarden.mjs serve  (lib/build.ts: what bin/callwarden.js runs)
 *   callwarden, existing data dir   the same on a directory prepared by an unmeasured first start
 *   floor: node -e Fastify          a bare `node -e` that starts Fastify and answers /readyz (the floor)
 *   floor: node -e Fastify + PGlite, fresh / existing dir
 *                                   the same with PGlite opened first and SELECT 1 in /readyz: what
 *                                   the embedded store alone costs (informative)
 *   callwarden, PostgreSQL          serve against an already migrated throw-away database (informative)
 * The clock starts just before spawn() and stops when a GET /readyz (polled every 5 ms, no keep-alive)
 * answers 200. Each process is then stopped with SIGTERM and must exit. Logging is at its default
 * level, stdout discarded.
 * Prints a table and writes bench/results/startup.json.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { benchDir, log, median, positiveInt, round } from './lib/common.js';
import { buildServer, repoDir } from './lib/build.js';
import { freePort, getStatus } from './lib/http.js';
import { machine } from './lib/machine.js';
import { throwAwayPostgres } from './lib/postgres.js';
import { writeJson } from './lib/summary.js';

const { values: argv } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    variants: { type: 'string' },
    'no-postgres': { type: 'boolean', default: false },
    'no-prewarm': { type: 'boolean', default: false },
    'pg-url': { type: 'string', default: process.env.CALLWARDEN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    out: { type: 'string', default: join(benchDir, 'results', 'startup.json') },
    help: { type: 'boolean', short: 'h' },
  },
});
if (argv.help) {
  console.log(`usage: npx tsx bench/startup.ts [--runs N] [--variants K,...] [--no-postgres] [--no-prewarm] [--pg-url URL] [--out FILE]
  --variants: a subset of callwardenFresh,callwardenExisting,floorFastify,floorPgliteFresh,floorPgliteExisting,callwardenPostgres
  (the first three are always run: they are the figures and the floor); --no-prewarm: no unmeasured fresh
  start before the measured runs (the existing directories are always prepared by one unmeasured start)`);
  process.exit(0);
}
const runs = positiveInt(argv.runs, '--runs');

const FASTIFY_FLOOR = `const f = require('fastify')();
f.get('/readyz', async () => ({ status: 'ready' }));
f.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
process.on('SIGTERM', () => f.close().then(() => process.exit(0)));`;

const PGLITE_FLOOR = `import Fastify from 'fastify';
import { PGlite } from '@electric-sql/pglite';
const db = await PGlite.create(process.env.FLOOR_DATA_DIR);
const f = Fastify();
f.get('/readyz', async () => { await db.query('SELECT 1'); return { status: 'ready' }; });
await f.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
process.on('SIGTERM', async () => { await f.close(); await db.close(); process.exit(0); });`;

interface Variant {
  key: string;
  label: string;
  args: string[];
  /** Extra environment for one run (a fresh directory is made here when needed). */
  env: () => Record<string, string>;
  after?: () => void;
}

/** Starts one process, waits for /readyz 200, stops it; returns milliseconds from spawn to ready. */
async function startOnce(v: Variant): Promise<number> {
  const port = await freePort();
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', CALLWARDEN_HOST: '127.0.0.1', PORT: String(port), ...v.env() };
  let stderr = '';
  const t0 = performance.now();
  const child = spawn(process.execPath, v.args, { cwd: repoDir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) => child.once('exit', (code) => ((exited = code), resolve())));
  let ms: number | undefined;
  try {
    for (;;) {
      if (exited !== undefined) throw new Error(`${v.label}: exited (${exited}) before it was ready: ${stderr}`);
      if (performance.now() - t0 > 120_000) throw new Error(`${v.label}: not ready after 120 s: ${stderr}`);
      const status = await getStatus(`http://127.0.0.1:${port}/readyz`).catch(() => 0);
      if (status === 200) {
        ms = performance.now() - t0;
        break;
      }
      await sleep(5);
    }
  } finally {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exit;
    clearTimeout(killer);
    v.after?.();
  }
  if (exited !== 0 && exited !== null) log(`${v.label}: exit code ${exited} after SIGTERM: ${stderr.trim().slice(-300)}`);
  return ms;
}

const started = new Date();
const build = buildServer();
const tmp = mkdtempSync(join(os.tmpdir(), 'callwarden-bench-start-'));
const REQUIRED = ['callwardenFresh', 'callwardenExisting', 'floorFastify'];
const wanted = argv.variants ? new Set([...REQUIRED, ...argv.variants.split(',')]) : undefined;
const pgdb = argv['no-postgres'] || (wanted && !wanted.has('callwardenPostgres')) ? undefined : await throwAwayPostgres(argv['pg-url']).catch((e: Error) => (log(`startup: no PostgreSQL (${e.message}); skipping that variant`), undefined));
try {
  let n = 0;
  const freshDir = () => join(tmp, `fresh-${n++}`);
  const existing = join(tmp, 'existing');
  const floorExisting = join(tmp, 'floor-existing');
  let current = '';
  const serve = [build.cli, 'serve'];
  const allVariants: Variant[] = [
    { key: 'callwardenFresh', label: 'callwarden serve, PGlite, fresh data dir', args: serve, env: () => ({ CALLWARDEN_DATA_DIR: (current = freshDir()) }), after: () => rmSync(current, { recursive: true, force: true }) },
    { key: 'callwardenExisting', label: 'callwarden serve, PGlite, existing data dir', args: serve, env: () => ({ CALLWARDEN_DATA_DIR: existing }) },
    { key: 'floorFastify', label: 'floor: node -e Fastify', args: ['-e', FASTIFY_FLOOR], env: () => ({}) },
    { key: 'floorPgliteFresh', label: 'floor: node -e Fastify + PGlite, fresh dir', args: ['--input-type=module', '-e', PGLITE_FLOOR], env: () => ({ FLOOR_DATA_DIR: (current = freshDir()) }), after: () => rmSync(current, { recursive: true, force: true }) },
    { key: 'floorPgliteExisting', label: 'floor: node -e Fastify + PGlite, existing dir', args: ['--input-type=module', '-e', PGLITE_FLOOR], env: () => ({ FLOOR_DATA_DIR: floorExisting }) },
    ...(pgdb ? [{ key: 'callwardenPostgres', label: 'callwarden serve, PostgreSQL, migrated database', args: serve, env: () => ({ DATABASE_URL: pgdb.url, CALLWARDEN_DATA_DIR: join(tmp, 'pg-key') }) }] : []),
  ];
  const variants = allVariants.filter((v) => !wanted || wanted.has(v.key));
  // unmeasured: prepare the existing directories and the migrated database, warm the OS file cache
  for (const v of variants) if (v.key !== 'callwardenFresh' && v.key !== 'floorPgliteFresh') await startOnce(v);
  if (!argv['no-prewarm']) await startOnce(variants[0]!);
  const times: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.key, []]));
  const loadBefore = os.loadavg();
  for (let i = 0; i < runs; i++) {
    for (const v of variants) times[v.key]!.push(round(await startOnce(v)));
    log(`startup run ${i + 1}/${runs}: ${variants.map((v) => `${v.key} ${times[v.key]!.at(-1)} ms`).join(', ')}`);
  }
  const stats = Object.fromEntries(
    variants.map((v) => {
      const t = times[v.key]!;
      return [v.key, { label: v.label, medianMs: round(median(t)), minMs: Math.min(...t), maxMs: Math.max(...t), runsMs: t }];
    }),
  );
  const floor = stats.floorFastify!.medianMs;
  const over = (a: string, b: string) => (stats[a] && stats[b] ? round(stats[a].medianMs / stats[b].medianMs, 2) : null);
  const result = {
    benchmark: 'startup' as const,
    date: started.toISOString(),
    command: `npx tsx bench/startup.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: machine(),
    loadAverage: { before: loadBefore.map((x) => round(x, 2)), after: os.loadavg().map((x) => round(x, 2)) },
    source: build.source,
    postgresVersion: pgdb?.version ?? null,
    runs,
    method: 'spawn() to the first GET /readyz answering 200 (polled every 5 ms, no keep-alive); variants interleaved; SIGTERM after each; callwarden is src/ compiled by tsc (lib/build.ts) run as bin/callwarden.js runs dist/',
    variants: stats,
    ratios: {
      freshOverFloor: over('callwardenFresh', 'floorFastify'),
      existingOverFloor: over('callwardenExisting', 'floorFastify'),
      freshOverPgliteFloor: over('callwardenFresh', 'floorPgliteFresh'),
      existingOverPgliteFloor: over('callwardenExisting', 'floorPgliteExisting'),
    },
  };
  writeJson(argv.out, result);
  console.log(`\nCallwarden start to ready (${runs} runs each, interleaved); load average ${result.loadAverage.before.join(' ')} before, ${result.loadAverage.after.join(' ')} after`);
  console.log('| variant | median | min | max | / floor (node -e Fastify) |');
  console.log('|---|---|---|---|---|');
  for (const s of Object.values(stats)) console.log(`| ${s.label} | ${s.medianMs} ms | ${s.minMs} ms | ${s.maxMs} ms | ${round(s.medianMs / floor, 2)}x |`);
  console.log(`\nJSON: ${argv.out}`);
} finally {
  await pgdb?.drop().catch((e: Error) => log('drop database:', e.message));
  rmSync(tmp, { recursive: true, force: true });
}
