/**
 * Sign-in benchmark (not a test): how many complete staff logins (password + TOTP) per second a real
 * Callwarden server sustains, next to the argon2id floor measured in the same run.
 *
 *   npx tsx bench/signin.ts [--store pglite|postgres] [--clients N]... [--seconds S] [--users U|auto]
 *   npm run bench:signin -- --store postgres
 *
 * 1. argon2id floor (lib/floor.ts): PasswordHasher with the server's parameters (src/config/defaults.ts);
 *    the time of one verify alone (median) and the verifies/s with availableParallelism() and 2x in flight.
 * 2. A real server (startServer) on 127.0.0.1, port 0, audit sealing on, rate limits raised; PGlite
 *    in a temporary directory or a throw-away PostgreSQL database (lib/postgres.ts, dropped afterwards).
 *    One user is set up through the API (operator -> tenant -> invite -> accept -> sign in -> TOTP),
 *    the load users directly through the repositories (lib/seed.ts).
 * 3. SQL statements per login (lib/sql-count.ts): countStatements around each request of an
 *    in-process login (app.inject) and the server's own x-sql-statements header (dev mode), plus the
 *    statement list (a recording Kysely plugin on a second app over the same database).
 * 4. N clients (a forked child process, fetch keep-alive) doing complete logins for S seconds after a
 *    warm-up; never replaying a TOTP step (see bench/signin-client.ts, lib/load.ts). CPU of the
 *    server, PostgreSQL and the machine is sampled over the measured window (lib/cpu.ts).
 * Prints a table and writes bench/results/signin-<store>.json (lib/report.ts).
 */
import { type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/load.js';
import { startServer, type Running } from '../src/server.js';
import type { ToClient } from './signin-client.js';
import { options as o, positiveInt } from './lib/argv.js';
import { cores, log, PASSWORD, round, TENANT } from './lib/common.js';
import { waitForIdle } from './lib/cpu.js';
import { argon2Floor } from './lib/floor.js';
import { measureClients, request, startClient, type RunRow } from './lib/load.js';
import { machine, srcDigest } from './lib/machine.js';
import { throwAwayPostgres } from './lib/postgres.js';
import { printReport, writeResult, type BenchResult } from './lib/report.js';
import { seedDirect, seedThroughApi } from './lib/seed.js';
import { statementsPerLogin } from './lib/sql-count.js';

async function main() {
  const started = new Date();
  const source = srcDigest();
  const m = machine();
  log(`machine: ${m.nproc} cores, ${m.cpuModel}, node ${m.node}; store ${o.store}; clients ${o.clientCounts.join(', ')}; ${o.seconds} s each`);

  const busyBefore = await waitForIdle(o.waitIdleSeconds);
  // 1. argon2id floor (before the server exists, so nothing else competes)
  const defaults = loadConfig({ CALLWARDEN_DATA_DIR: 'memory:' });
  const floor = await argon2Floor({ memoryKib: defaults.argon2MemoryKib, iterations: defaults.argon2Iterations, parallelism: defaults.argon2Parallelism }, o);
  log(`argon2id floor: one verify ${floor.singleVerifyMs.median} ms -> ${cores} cores / t1 = ${floor.theoreticalPerSec}/s; measured ${floor.concurrent.map((c) => `${c.verifiesPerSec}/s @${c.inFlight}`).join(', ')}`);

  // 2. store and server
  const dataDir = mkdtempSync(join(os.tmpdir(), 'callwarden-bench-'));
  const pgdb = o.store === 'postgres' ? await throwAwayPostgres(o.pgUrl) : undefined;
  let running: Running | undefined;
  let child: ChildProcess | undefined;
  const cleanup = async () => {
    child?.kill();
    await running?.stop().catch((e: Error) => log('stop:', e.message));
    running = undefined;
    await pgdb?.drop().catch((e: Error) => log('drop database:', e.message));
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    const config = loadConfig({
      CALLWARDEN_DATA_DIR: join(dataDir, 'data'),
      ...(pgdb ? { DATABASE_URL: pgdb.url } : {}),
      CALLWARDEN_HOST: '127.0.0.1',
      PORT: '0',
      CALLWARDEN_LOG_LEVEL: 'silent',
      CALLWARDEN_IP_ATTEMPTS_PER_MINUTE: '1000000',
      CALLWARDEN_IDENTIFIER_ATTEMPTS_PER_MINUTE: '1000000',
      CALLWARDEN_AUDIT_SEAL_INTERVAL_MS: '1000',
    });
    running = await startServer(config);
    log(`server ${running.url} on ${running.services.store.kind}${pgdb ? ` (PostgreSQL ${pgdb.version})` : ` (${config.dataDir})`}`);

    // Users: enough that the TOTP ledger never limits the run (each user gives about 2 + T/30 unused steps in T seconds).
    const totalSeconds = o.clientCounts.length * (o.seconds + o.warmupSeconds) + 10;
    const auto = Math.max(64, Math.ceil((floor.measuredPerSec * 1.2 * totalSeconds) / (2 + totalSeconds / 30)));
    const userCount = o.users === 'auto' ? auto : positiveInt(o.users, '--users');
    const seed0 = performance.now();
    const walked = await seedThroughApi(running);
    const [sanity, ...loadUsers] = await seedDirect(running.services, userCount + 1);
    const seedMs = performance.now() - seed0;
    log(`seeded 1 user through the API and ${userCount + 1} directly in ${round(seedMs / 1000)} s`);

    // 3. statements per login
    const sql = await statementsPerLogin(running, config, walked, sanity!);
    log(`SQL per login: ${sql.total} statements (${sql.perStep.flows} + ${sql.perStep.password} + ${sql.perStep.factor}), ${sql.writes} writes`);

    // 4. load
    child = startClient();
    await request(child, { type: 'init', url: running.url, tenant: TENANT, password: PASSWORD, users: loadUsers, marginMs: o.marginMs }, 'ready');
    const ctx = { child, store: o.store, pgdb, floor, seconds: o.seconds, warmupSeconds: o.warmupSeconds, retries: o.retries, maxOtherCores: o.maxOtherCores, waitIdleSeconds: o.waitIdleSeconds };
    const runs: RunRow[] = [];
    for (const clients of o.clientCounts) runs.push(await measureClients(ctx, clients));
    child.send({ type: 'exit' } satisfies ToClient);
    child = undefined;

    const db = running.services.store.db;
    const audit = await db
      .selectFrom('audit_events')
      .select((eb) => [eb.fn.countAll<number>().as('total'), eb.fn.count<number>('chain_seq').as('sealed')])
      .executeTakeFirstOrThrow();

    const result: BenchResult = {
      benchmark: 'signin',
      date: started.toISOString(),
      command: `npx tsx bench/signin.ts ${process.argv.slice(2).join(' ')}`.trim(),
      machine: { ...m, busyBeforeStart: round(busyBefore, 3) },
      source,
      store: { kind: o.store, postgresVersion: pgdb?.version ?? null, pglite: o.store === 'pglite' ? 'file-backed, temporary directory' : null },
      config: { argon2: floor.params, auditSealIntervalMs: config.auditSealIntervalMs, ipAttemptsPerMinute: config.ipAttemptsPerMinute, identifierAttemptsPerMinute: config.identifierAttemptsPerMinute, flowAttemptBudget: config.flowAttemptBudget },
      workload: { users: userCount, usersAuto: o.users === 'auto', clients: o.clientCounts, seconds: o.seconds, warmupSeconds: o.warmupSeconds, totpMarginSeconds: o.marginMs / 1000, seedSeconds: round(seedMs / 1000) },
      argon2Floor: floor,
      sqlPerLogin: sql,
      runs,
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
