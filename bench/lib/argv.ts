/** Command-line options of bench/signin.ts (parsed once, when this module is first imported). */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchDir, fail, parseStore, positiveInt, type StoreKind } from './common.js';
export { positiveInt };

const { values: argv } = parseArgs({
  options: {
    store: { type: 'string', default: 'pglite' },
    clients: { type: 'string', multiple: true },
    seconds: { type: 'string', default: '15' },
    users: { type: 'string', default: 'auto' },
    warmup: { type: 'string', default: '3' },
    'margin-seconds': { type: 'string', default: '5' },
    'floor-seconds': { type: 'string', default: '3' },
    'wait-idle': { type: 'string', default: '0' },
    retries: { type: 'string', default: '0' },
    'max-other-cores': { type: 'string', default: '0.2' },
    'pg-url': { type: 'string', default: process.env.CALLWARDEN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (argv.help) {
  console.log(`usage: npx tsx bench/signin.ts [--store pglite|postgres] [--clients N]... [--seconds S] [--users U|auto]
       [--warmup S] [--margin-seconds S] [--floor-seconds S] [--wait-idle S] [--retries N] [--max-other-cores C]
       [--pg-url URL] [--out FILE]
  --clients may be repeated or comma-separated (default 8,16); --users auto sizes the user pool so the
  TOTP replay ledger (one code per user per 30 s step) never limits the run; --wait-idle waits up to
  S seconds for the machine to be idle (< 10% busy over 1 s) before measuring; --retries N repeats a
  measurement (after waiting for idle again) when other processes used more than --max-other-cores
  (default 0.2) cores during it, and keeps the cleanest attempt.`);
  process.exit(0);
}


export type { StoreKind };
const store: StoreKind = parseStore(argv.store);

export const options = {
  store,
  clientCounts: (argv.clients ?? ['8,16']).flatMap((c) => c.split(',')).map((c) => positiveInt(c, '--clients')),
  seconds: positiveInt(argv.seconds, '--seconds'),
  warmupSeconds: Number(argv.warmup),
  marginMs: Number(argv['margin-seconds']) * 1000,
  floorSeconds: Number(argv['floor-seconds']),
  waitIdleSeconds: Number(argv['wait-idle']),
  retries: Number(argv.retries),
  maxOtherCores: Number(argv['max-other-cores']),
  pgUrl: argv['pg-url']!,
  /** 'auto' or the raw --users value (checked when the pool is sized). */
  users: argv.users!,
  outFile: argv.out ?? join(benchDir, 'results', `signin-${store}.json`),
};
export type Options = typeof options;
