/** Constants and small helpers shared by the benchmarks' modules (sign-in and caller verification). */
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOTP_PERIOD } from '../../src/methods/totp/core.js';
import type { Origin } from '../../src/services/context.js';

/** The bench/ directory. */
export const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const OPERATOR = { email: 'operator@bench.test', password: 'platform keeper passphrase 2026' };
export const PASSWORD = 'correct horse battery staple 42';
export const TENANT = 'bench';
export const STEP_MS = TOTP_PERIOD * 1000;
export const systemOrigin: Origin = { ip: null, userAgent: null, requestId: null, channel: 'system' };

export const cores = os.availableParallelism();
export const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
export const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]! : 0);
export const median = (xs: number[]) => pct([...xs].sort((a, b) => a - b), 50);
export const log = (...a: unknown[]) => console.error('[bench]', ...a);

/** Prints `message` and exits with status 2 (bad arguments, or a setup step that cannot go on). */
export function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

export function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) fail(`${name} must be a positive integer, not ${v}`);
  return n;
}

export type StoreKind = 'pglite' | 'postgres';
export const parseStore = (v: string | undefined): StoreKind => (v === 'postgres' ? 'postgres' : v === 'pglite' ? 'pglite' : fail(`--store must be pglite or postgres, not ${v}`));
