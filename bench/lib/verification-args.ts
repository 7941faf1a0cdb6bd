/** Command-line options of bench/verification.ts (parsed once, when this module is first imported). */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchDir, fail, parseStore, positiveInt, type StoreKind } from './common.js';

const { values: argv } = parseArgs({
  options: {
    store: { type: 'string', default: 'postgres' },
    clients: { type: 'string', multiple: true },
    seconds: { type: 'string', default: '12' },
    warmup: { type: 'string', default: '3' },
    customers: { type: 'string', default: 'auto' },
    agents: { type: 'string', default: '40' },
    prewarm: { type: 'string', default: '4' },
    targets: { type: 'string', default: 'callwarden,floor' },
    'wait-idle': { type: 'string', default: '0' },
    retries: { type: 'string', default: '0' },
    'max-other-cores': { type: 'string', default: '0.2' },
    'pg-url': { type: 'string', default: process.env.CALLWARDEN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (argv.help) {
  console.log(`usage: npx tsx bench/verification.ts [--store postgres|pglite] [--clients N]... [--seconds S] [--warmup S]
       [--prewarm S] [--customers N|auto] [--agents N] [--targets callwarden,floor] [--wait-idle S] [--retries N] [--max-other-cores C] [--pg-url URL] [--out FILE]
  --store: Callwarden's store (default postgres); the floor (bench/verification-floor.ts, a bare
  Fastify + pg app) always runs on its own throw-away PostgreSQL database at --pg-url.
  --clients may be repeated or comma-separated (default 8,16); each client count is measured on
  Callwarden, then on the floor, --seconds each after --warmup;
  before the first, each target runs --prewarm seconds unmeasured (JIT, caches, connections).
  --customers: customers per pool (Callwarden's pool and the floor's pool are separate); auto sizes
  Callwarden's so that no destination gets more than 19 codes per 10-minute window (the policy's
  maximum is 20); the floor gets as many of its own. --agents: agent sessions, each invited, accepted
  and signed in through the API (default 40; each may send 1,000 codes per minute, the policy's maximum). --targets limits the runs to one of them (e.g. for a CPU profile). --wait-idle waits up to S seconds for the machine to be idle before each measurement;
  --retries N repeats a measurement when other processes used more than --max-other-cores cores.`);
  process.exit(0);
}


export type { StoreKind };
const store: StoreKind = parseStore(argv.store);

export const options = {
  store,
  clientCounts: (argv.clients ?? ['8,16']).flatMap((c) => c.split(',')).map((c) => positiveInt(c, '--clients')),
  seconds: positiveInt(argv.seconds, '--seconds'),
  warmupSeconds: Number(argv.warmup),
  prewarmSeconds: Number(argv.prewarm),
  customers: argv.customers === 'auto' ? ('auto' as const) : positiveInt(argv.customers, '--customers'),
  agents: positiveInt(argv.agents, '--agents'),
  targets: argv.targets.split(',').map((t) => (t === 'callwarden' || t === 'floor' ? t : fail(`--targets: callwarden and/or floor, not ${t}`))),
  waitIdleSeconds: Number(argv['wait-idle']),
  retries: Number(argv.retries),
  maxOtherCores: Number(argv['max-other-cores']),
  pgUrl: argv['pg-url']!,
  outFile: argv.out ?? join(benchDir, 'results', `verification-${store}.json`),
};
export type VerificationOptions = typeof options;
