/**
 * Callwarden against Better Auth (issue 5, 2b): the same password + TOTP sign-in workload on both, on
 * the same PostgreSQL, with the same argon2id parameters, in one run, beside the argon2id floor.
 *
 *   npx tsx bench/peers/better-auth/run.ts [--quick] [--clients N]... [--seconds S] [--pg-url URL]
 *   import { run } from './peers/better-auth/run.js'   (bench/run.ts)
 *
 * 1. argon2id floor (bench/lib/floor.ts), with Callwarden's parameters (src/config/defaults.ts).
 * 2. Callwarden, as bench/signin.ts sets it up (its pieces in bench/lib/, imported, not copied): a
 *    real server in this process on a throw-away PostgreSQL database, users seeded, SQL per login,
 *    and its forked load generator (bench/signin-client.ts).
 * 3. Better Auth (better-auth + twoFactor, see auth.ts) in its own process (server.ts) on a second
 *    throw-away database of the same PostgreSQL, the schema made by Better Auth's getMigrations, the
 *    users signed up through its API (sign up -> enable two-factor -> verify TOTP), SQL per login
 *    counted at the pg driver, and its own forked load generator (client.ts).
 * 4. For each client count, Callwarden then Better Auth (interleaved, so a drift of the host's speed
 *    affects both alike): logins/s, p50/p99, CPU per login of each server, of PostgreSQL and of the
 *    load generator, the machine's busy share and the CPU used by other processes.
 * 5. TOTP replay: the same code on a second login, on both servers.
 * Prints a side-by-side table (standalone) and returns rows + JSON (for bench/run.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../../src/config/load.js';
import { hotp } from '../../../src/methods/totp/core.js';
import { startServer, type Running } from '../../../src/server.js';
import type { ToClient } from '../../signin-client.js';
import { benchDir, cores, log, PASSWORD, pct, round, STEP_MS, TENANT } from '../../lib/common.js';
import { delta, sample, waitForIdle, type Sample } from '../../lib/cpu.js';
import { argon2Floor, type Floor } from '../../lib/floor.js';
import { request as ipcRequest } from '../../lib/ipc.js';
import { measureClients, request as cwRequest, startClient, type RunRow } from '../../lib/load.js';
import { machine, srcDigest } from '../../lib/machine.js';
import { throwAwayPostgres, type ThrowAwayPostgres } from '../../lib/postgres.js';
import { seedDirect, seedThroughApi, type LoadUser } from '../../lib/seed.js';
import { label, statementsPerLogin } from '../../lib/sql-count.js';
import { CookieJar, login, passwordStep, signUpWithTotp, totpStep } from './api.js';
import type { FromPeerClient, PeerRunResult, ToPeerClient } from './client.js';
import type { FromServer, ServerStats, SqlCounters, ToServer } from './server.js';
import { sqlDelta, startPeerServer, type PeerServer, seedPeer, roomInStep, peerStatementsPerLogin, peerReplay, callwardenReplay } from './peer.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface RunOptions {
  /** Short windows (5 s after a 2 s warm-up, 1 s floor measurements) and fewer Better Auth users. */
  quick?: boolean;
  /** Admin connection of the PostgreSQL server (default CALLWARDEN_BENCH_PG_URL or postgres://postgres@127.0.0.1:5432/postgres). */
  pgUrl?: string;
  /** Client counts (default 8 and 16, as bench/signin.ts). */
  clients?: number[];
  /** Seconds of each measured window (default 15, quick 5). */
  durationS?: number;
  warmupS?: number;
  /** Better Auth users to sign up (default 256, quick 64); Callwarden's pool is sized as bench/signin.ts sizes it. */
  users?: number;
  /** Wait up to this long for an idle machine before each measurement (default 0). */
  waitIdleS?: number;
  /** Repeat a window when other processes used more than maxOtherCores during it (default 0). */
  retries?: number;
  maxOtherCores?: number;
}

export interface Row {
  name: string;
  value: number;
  unit: string;
  /** The argon2id floor (verifies/s) the row is measured against. */
  floor?: number;
  /** Throughput rows: value / floor. Comparison rows: Callwarden / Better Auth (also the value). */
  ratio?: number;
  note?: string;
}

interface PeerContext {
  child: ChildProcess;
  server: PeerServer;
  pgdb: ThrowAwayPostgres;
  floor: Floor;
  seconds: number;
  warmupSeconds: number;
  retries: number;
  maxOtherCores: number;
  waitIdleSeconds: number;
}

/** One measured window of Better Auth (as lib/load.ts measures Callwarden, with the server's CPU from its own process). */
async function measurePeerRun(ctx: PeerContext, clients: number) {
  const { floor, seconds } = ctx;
  let a: Sample | undefined;
  let b: Sample | undefined;
  let sa: Promise<ServerStats> | undefined;
  let sb: Promise<ServerStats> | undefined;
  const pgPids: Array<Promise<number[]>> = [];
  const r = await ipcRequest<FromPeerClient, 'result'>(ctx.child, { type: 'run', clients, seconds, warmupSeconds: ctx.warmupSeconds } satisfies ToPeerClient, 'result', (msg) => {
    if (msg.type === 'window-start') {
      a = sample(true);
      sa = ctx.server.stats();
    } else if (msg.type === 'window-end') {
      b = sample(true);
      sb = ctx.server.stats();
    }
    pgPids.push(ctx.pgdb.pids());
  });
  const [s0, s1] = sa && sb ? await Promise.all([sa, sb]) : [undefined, undefined];
  const d = a && b ? delta(a, b, new Set((await Promise.all(pgPids)).flat())) : undefined;
  const perSec = r.logins / seconds;
  const errors = Object.values(r.errors).reduce((x, y) => x + y, 0);
  const n = Math.max(1, r.logins);
  let cpu;
  if (d && s0 && s1) {
    const serverCpuMs = (s1.cpu.user - s0.cpu.user + s1.cpu.system - s0.cpu.system) / 1000;
    const serverWall = s1.at - s0.at;
    const active = s1.elu.active - s0.elu.active;
    const elu = active / Math.max(1, active + (s1.elu.idle - s0.elu.idle));
    /** This process: the parent of the run (IPC, and Callwarden's idle server with its audit sealer). */
    const harnessCpuMs = d.serverCpuMs;
    cpu = {
      serverCpuMsPerLogin: round(serverCpuMs / n, 2),
      serverSystemCpuMsPerLogin: round((s1.cpu.system - s0.cpu.system) / 1000 / n, 2),
      serverNonArgonCpuMsPerLogin: round(serverCpuMs / n - floor.concurrent[0]!.cpuMsPerVerify, 2),
      mainThreadMsPerLogin: round((elu * serverWall) / n, 2),
      serverCores: round(serverCpuMs / serverWall, 2),
      serverEventLoopUtilization: round(elu, 3),
      clientCpuMsPerLogin: round(r.clientCpuMs / n, 2),
      postgresCpuMsPerLogin: round(d.postgresCpuMs / n, 2),
      harnessCpuMsPerLogin: round(harnessCpuMs / n, 2),
      machineBusy: round(d.machineBusy, 3),
      otherProcessesCores: round(Math.max(0, d.machineBusy * cores - (serverCpuMs + r.clientCpuMs + d.postgresCpuMs + harnessCpuMs) / d.wallMs), 2),
    };
  }
  const sql = s0 && s1 ? sqlDelta(s0.sql, s1.sql) : undefined;
  return {
    clients,
    seconds,
    logins: r.logins,
    loginsPerSec: round(perSec),
    p50Ms: round(pct(r.latencies, 50)),
    p90Ms: round(pct(r.latencies, 90)),
    p99Ms: round(pct(r.latencies, 99)),
    maxMs: round(r.latencies.at(-1) ?? 0),
    stepP50Ms: r.stepP50,
    stepP99Ms: r.stepP99,
    shareOfMeasuredFloor: round(perSec / floor.measuredPerSec, 3),
    shareOfTheoreticalFloor: round(perSec / floor.theoreticalPerSec, 3),
    errors,
    errorKinds: r.errors,
    warmupLogins: r.warmupLogins,
    /** Statements (without BEGIN/COMMIT) the server sent during the window, per login completed in it. */
    sqlPerLoginUnderLoad: sql && r.logins ? round(sql.statements / r.logins, 2) : null,
    roundTripsPerLoginUnderLoad: sql && r.logins ? round((sql.statements + sql.begins + sql.commits + sql.rollbacks) / r.logins, 2) : null,
    cpu,
  };
}
type PeerRow = Awaited<ReturnType<typeof measurePeerRun>> & { attempts: Array<{ loginsPerSec: number; otherProcessesCores: number | undefined }> };

async function measurePeer(ctx: PeerContext, clients: number): Promise<PeerRow> {
  let best: Awaited<ReturnType<typeof measurePeerRun>> | undefined;
  const attempts: PeerRow['attempts'] = [];
  for (let i = 0; i <= ctx.retries; i++) {
    if (i > 0) {
      log(`Better Auth, ${clients} clients: other processes used ${best?.cpu?.otherProcessesCores} cores during the window; again`);
      await waitForIdle(ctx.waitIdleSeconds);
    }
    const row = await measurePeerRun(ctx, clients);
    attempts.push({ loginsPerSec: row.loginsPerSec, otherProcessesCores: row.cpu?.otherProcessesCores });
    if (!best || (row.cpu?.otherProcessesCores ?? 9) < (best.cpu?.otherProcessesCores ?? 9)) best = row;
    if ((best.cpu?.otherProcessesCores ?? 9) <= ctx.maxOtherCores) break;
  }
  log(`Better Auth, ${clients} clients: ${best!.loginsPerSec} logins/s, p50 ${best!.p50Ms} ms, p99 ${best!.p99Ms} ms, ${best!.errors} errors`);
  return { ...best!, attempts };
}

// --- the run ------------------------------------------------------------------------------------------

function betterAuthVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(benchDir, '..', 'node_modules', 'better-auth', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

export async function run(opts: RunOptions = {}): Promise<{ rows: Row[]; json: unknown }> {
  const started = new Date();
  const quick = opts.quick ?? false;
  const clientCounts = opts.clients?.length ? opts.clients : [8, 16];
  const seconds = opts.durationS ?? (quick ? 5 : 15);
  const warmupSeconds = opts.warmupS ?? (quick ? 2 : 3);
  const peerUsers = Math.max(opts.users ?? (quick ? 64 : 256), 2 * Math.max(...clientCounts));
  const waitIdleSeconds = opts.waitIdleS ?? 0;
  const retries = opts.retries ?? 0;
  const maxOtherCores = opts.maxOtherCores ?? 0.2;
  const pgUrl = opts.pgUrl ?? process.env.CALLWARDEN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const m = machine();
  const baVersion = betterAuthVersion();
  log(`Callwarden vs Better Auth ${baVersion}: ${m.nproc} cores, ${m.cpuModel}, node ${m.node}; clients ${clientCounts.join(', ')}; ${seconds} s each${quick ? ' (quick)' : ''}`);

  const busyBefore = await waitForIdle(waitIdleSeconds);
  const defaults = loadConfig({ CALLWARDEN_DATA_DIR: 'memory:' });
  const argon2 = { memoryKib: defaults.argon2MemoryKib, iterations: defaults.argon2Iterations, parallelism: defaults.argon2Parallelism };
  const floor = await argon2Floor(argon2, { floorSeconds: quick ? 1 : 3, retries, maxOtherCores, waitIdleSeconds });
  log(`argon2id floor: one verify ${floor.singleVerifyMs.median} ms -> ${cores} cores / t1 = ${floor.theoreticalPerSec}/s; measured ${floor.concurrent.map((c) => `${c.verifiesPerSec}/s @${c.inFlight}`).join(', ')}`);

  const dataDir = mkdtempSync(join(os.tmpdir(), 'callwarden-peer-bench-'));
  let cwDb: ThrowAwayPostgres | undefined;
  let baDb: ThrowAwayPostgres | undefined;
  let running: Running | undefined;
  let cwChild: ChildProcess | undefined;
  let baServer: PeerServer | undefined;
  let baChild: ChildProcess | undefined;
  const cleanup = async () => {
    cwChild?.kill();
    baChild?.kill();
    baServer?.stop();
    await running?.stop().catch((e: Error) => log('stop:', e.message));
    running = undefined;
    await new Promise((r) => setTimeout(r, 300));
    await cwDb?.drop().catch((e: Error) => log('drop database:', e.message));
    await baDb?.drop().catch((e: Error) => log('drop database:', e.message));
    cwDb = baDb = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  };
  const onSigint = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSigint);
  try {
    // Callwarden, as bench/signin.ts (--store postgres) sets it up
    cwDb = await throwAwayPostgres(pgUrl);
    const config = loadConfig({
      CALLWARDEN_DATA_DIR: join(dataDir, 'data'),
      DATABASE_URL: cwDb.url,
      CALLWARDEN_HOST: '127.0.0.1',
      PORT: '0',
      CALLWARDEN_LOG_LEVEL: 'silent',
      CALLWARDEN_IP_ATTEMPTS_PER_MINUTE: '1000000',
      CALLWARDEN_IDENTIFIER_ATTEMPTS_PER_MINUTE: '1000000',
      CALLWARDEN_AUDIT_SEAL_INTERVAL_MS: '1000',
    });
    running = await startServer(config);
    const totalSeconds = clientCounts.length * (seconds + warmupSeconds) + 10;
    const cwUsers = Math.max(64, Math.ceil((floor.measuredPerSec * 1.2 * totalSeconds) / (2 + totalSeconds / 30)));
    const seed0 = performance.now();
    const walked = await seedThroughApi(running);
    const [sanity, replayUser, ...cwLoadUsers] = await seedDirect(running.services, cwUsers + 2);
    const cwSeedS = round((performance.now() - seed0) / 1000);
    log(`Callwarden ${running.url} (PostgreSQL ${cwDb.version}): 1 user through the API and ${cwUsers + 2} directly in ${cwSeedS} s`);
    const cwSql = await statementsPerLogin(running, config, walked, sanity!);
    const cwReplay = await callwardenReplay(running.url, replayUser!);
    log(`Callwarden: ${cwSql.total} statements per login; replayed TOTP code ${cwReplay.replayAccepted ? 'ACCEPTED' : `refused (${cwReplay.replayStatus} ${cwReplay.replayCode})`}`);

    // Better Auth
    baDb = await throwAwayPostgres(pgUrl);
    baServer = await startPeerServer(baDb, argon2);
    const seed1 = performance.now();
    const [baSanity, baReplayUser, ...baLoadUsers] = await seedPeer(baServer.url, peerUsers + 2);
    const baSeedS = round((performance.now() - seed1) / 1000);
    log(`Better Auth ${baVersion} ${baServer.url}: tables ${baServer.tables.join(', ')}; ${peerUsers + 2} users signed up with TOTP in ${baSeedS} s`);
    const baSql = await peerStatementsPerLogin(baServer, baSanity!);
    const baReplay = await peerReplay(baServer.url, baReplayUser!);
    log(`Better Auth: ${baSql.total} statements (+ ${baSql.transactions} BEGIN/COMMIT) per login; replayed TOTP code ${baReplay.replayAccepted ? 'ACCEPTED' : `refused (${baReplay.replayStatus} ${baReplay.replayCode})`}`);

    // load, interleaved
    cwChild = startClient();
    await cwRequest(cwChild, { type: 'init', url: running.url, tenant: TENANT, password: PASSWORD, users: cwLoadUsers, marginMs: 5000 }, 'ready');
    baChild = fork(join(here, 'client.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await ipcRequest<FromPeerClient, 'ready'>(baChild, { type: 'init', url: baServer.url, password: PASSWORD, users: baLoadUsers } satisfies ToPeerClient, 'ready');
    const cwCtx = { child: cwChild, store: 'postgres' as const, pgdb: cwDb, floor, seconds, warmupSeconds, retries, maxOtherCores, waitIdleSeconds };
    const baCtx: PeerContext = { child: baChild, server: baServer, pgdb: baDb, floor, seconds, warmupSeconds, retries, maxOtherCores, waitIdleSeconds };
    const pairs: Array<{ clients: number; callwarden: RunRow; betterAuth: PeerRow }> = [];
    for (const c of clientCounts) {
      await waitForIdle(waitIdleSeconds);
      const callwarden = await measureClients(cwCtx, c);
      await waitForIdle(waitIdleSeconds);
      const betterAuth = await measurePeer(baCtx, c);
      pairs.push({ clients: c, callwarden, betterAuth });
    }
    cwChild.send({ type: 'exit' } satisfies ToClient);
    baChild.send({ type: 'exit' } satisfies ToPeerClient);
    cwChild = baChild = undefined;
    const pgVersion = cwDb.version;
    await cleanup();

    const json = {
      benchmark: 'signin-peer-better-auth',
      date: started.toISOString(),
      command: `npx tsx bench/peers/better-auth/run.ts${quick ? ' --quick' : ''} --clients ${clientCounts.join(',')} --seconds ${seconds}`,
      machine: { ...m, busyBeforeStart: round(busyBefore, 3) },
      source: srcDigest(),
      postgres: { version: pgVersion, url: pgUrl.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@'), databases: 'two throw-away databases (one per system) on the same server, dropped afterwards' },
      argon2Floor: floor,
      workload: { clients: clientCounts, seconds, warmupSeconds, quick, waitIdleSeconds, retries, maxOtherCores },
      callwarden: {
        setup: 'bench/signin.ts --store postgres: server in the parent process, audit sealing every 1 s, rate limits 1,000,000/min, pool 10',
        users: cwUsers,
        seedSeconds: cwSeedS,
        sqlPerLogin: cwSql,
        totpReplay: cwReplay,
      },
      betterAuth: {
        version: baVersion,
        setup: 'own process, node:http + toNodeHandler, emailAndPassword + twoFactor (TOTP: 6 digits, 30 s, window ±1), password hash/verify = argon2id via PasswordHasher (same parameters), rate limiting off, pool 10',
        argon2,
        tables: baServer.tables,
        migrationSql: baServer.migrationSql,
        users: peerUsers,
        seedSeconds: baSeedS,
        sqlPerLogin: baSql,
        totpReplay: baReplay,
      },
      runs: pairs.map((p) => ({ ...p, callwardenOverBetterAuth: p.betterAuth.loginsPerSec ? round(p.callwarden.loginsPerSec / p.betterAuth.loginsPerSec, 2) : null })),
    };

    const fl = floor.measuredPerSec;
    const rows: Row[] = [
      { name: 'argon2id floor (measured)', value: fl, unit: 'verifies/s', note: `m=${argon2.memoryKib} KiB t=${argon2.iterations} p=${argon2.parallelism}; one verify ${floor.singleVerifyMs.median} ms, ${cores} cores / t1 = ${floor.theoreticalPerSec}/s` },
    ];
    const disturbed = (x: { cpu?: { otherProcessesCores: number } | undefined }) =>
      x.cpu && x.cpu.otherProcessesCores > maxOtherCores ? `; DISTURBED: other processes used ${x.cpu.otherProcessesCores} cores` : '';
    for (const p of pairs) {
      const cw = p.callwarden;
      const ba = p.betterAuth;
      rows.push(
        { name: `Callwarden sign-in, ${p.clients} clients`, value: cw.loginsPerSec, unit: 'logins/s', floor: fl, ratio: round(cw.loginsPerSec / fl, 3), note: `p50 ${cw.p50Ms} ms, p99 ${cw.p99Ms} ms, ${cw.errors} errors${disturbed(cw)}` },
        { name: `Better Auth sign-in, ${p.clients} clients`, value: ba.loginsPerSec, unit: 'logins/s', floor: fl, ratio: round(ba.loginsPerSec / fl, 3), note: `p50 ${ba.p50Ms} ms, p99 ${ba.p99Ms} ms, ${ba.errors} errors${disturbed(ba)}` },
      );
      if (ba.loginsPerSec > 0) {
        const r = round(cw.loginsPerSec / ba.loginsPerSec, 2);
        const d = disturbed(cw) || disturbed(ba);
        rows.push({ name: `Callwarden / Better Auth, ${p.clients} clients`, value: r, unit: 'x', ratio: r, ...(d ? { note: `a window was disturbed${d.slice(d.indexOf(':'))}` } : {}) });
      }
    }
    rows.push(
      { name: 'SQL statements per login, Callwarden', value: cwSql.total, unit: 'statements', note: `${cwSql.writes} writes, no explicit transaction: ${cwSql.total} commits` },
      { name: 'SQL statements per login, Better Auth', value: baSql.total, unit: 'statements', note: `${baSql.writes} writes, ${baSql.transactions} transactions (${baSql.roundTrips} round trips with BEGIN/COMMIT), ${baSql.commits} commits (${baSql.writingCommits} writing)` },
      { name: 'TOTP code replayed on a new login, Callwarden', value: cwReplay.replayAccepted ? 1 : 0, unit: 'accepted (1/0)', note: cwReplay.replayAccepted ? 'accepted' : `refused: ${cwReplay.replayStatus} ${cwReplay.replayCode ?? ''}`.trim() },
      { name: 'TOTP code replayed on a new login, Better Auth', value: baReplay.replayAccepted ? 1 : 0, unit: 'accepted (1/0)', note: baReplay.replayAccepted ? `accepted: a second session from the same code ${baReplay.secondsApart} s later` : `refused: ${baReplay.replayStatus} ${baReplay.replayCode ?? ''}`.trim() },
    );
    return { rows, json };
  } catch (e) {
    await cleanup();
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

// --- standalone -----------------------------------------------------------------------------------------

type Json = Awaited<ReturnType<typeof run>>['json'];

/** The side-by-side table of a run's JSON. */
export function formatReport(json: Json): string {
  const j = json as any;
  const f: Floor = j.argon2Floor;
  const out: string[] = [];
  const pctOf = (x: number) => `${round(x * 100)}%`;
  out.push(`\nPassword + TOTP sign-in: Callwarden against Better Auth ${j.betterAuth.version}, PostgreSQL ${j.postgres.version}; ${j.machine.nproc} cores (${j.machine.cpuModel}), node ${j.machine.node}`);
  out.push(`argon2id m=${f.params.memoryKib} KiB t=${f.params.iterations} p=${f.params.parallelism} on both: one verify ${f.singleVerifyMs.median} ms; floor ${j.machine.nproc} cores / t1 = ${f.theoreticalPerSec}/s; ` +
    `measured ${f.concurrent.map((c) => `${c.verifiesPerSec}/s with ${c.inFlight} in flight`).join(', ')} -> floor ${f.measuredPerSec}/s`);
  out.push(`users: Callwarden ${j.callwarden.users} (sized for its TOTP replay ledger), Better Auth ${j.betterAuth.users}; ${j.workload.seconds} s windows after ${j.workload.warmupSeconds} s warm-up, Callwarden then Better Auth per client count\n`);
  const head = ['clients', 'Callwarden logins/s', 'p50 / p99 ms', 'of floor', 'Better Auth logins/s', 'p50 / p99 ms', 'of floor', 'Callwarden / Better Auth', 'errors (CW / BA)', 'other procs, cores (CW / BA)'];
  const limit = j.workload.maxOtherCores as number;
  const other = (x: any) => (x.cpu ? `${x.cpu.otherProcessesCores}${x.cpu.otherProcessesCores > limit ? ' DISTURBED' : ''}` : '-');
  out.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
  for (const r of j.runs) {
    const cw = r.callwarden;
    const ba = r.betterAuth;
    out.push(`| ${[r.clients, cw.loginsPerSec, `${cw.p50Ms} / ${cw.p99Ms}`, pctOf(cw.shareOfMeasuredFloor), ba.loginsPerSec, `${ba.p50Ms} / ${ba.p99Ms}`, pctOf(ba.shareOfMeasuredFloor), r.callwardenOverBetterAuth ?? '-', `${cw.errors} / ${ba.errors}`, `${other(cw)} / ${other(ba)}`].join(' | ')} |`);
  }
  out.push(`(a window is DISTURBED when other processes used more than ${limit} cores during it; its figures are low)`, '');
  const cpuHead = ['clients', 'system', 'server CPU ms/login', 'not argon2', 'event loop', 'PostgreSQL CPU ms/login', 'client CPU ms/login', 'machine busy', 'other procs (cores)'];
  out.push(`| ${cpuHead.join(' | ')} |`, `|${cpuHead.map(() => '---').join('|')}|`);
  for (const r of j.runs) {
    for (const [name, x] of [['Callwarden', r.callwarden], ['Better Auth', r.betterAuth]] as const) {
      const c = x.cpu;
      out.push(`| ${[r.clients, name, c?.serverCpuMsPerLogin ?? '-', c?.serverNonArgonCpuMsPerLogin ?? '-', c ? pctOf(c.serverEventLoopUtilization) : '-', c?.postgresCpuMsPerLogin ?? '-', c?.clientCpuMsPerLogin ?? '-', c ? pctOf(c.machineBusy) : '-', c?.otherProcessesCores ?? '-'].join(' | ')} |`);
    }
  }
  out.push('');
  const cs = j.callwarden.sqlPerLogin;
  const bs = j.betterAuth.sqlPerLogin;
  out.push(`SQL per login: Callwarden ${cs.total} statements (${cs.writes} writes; no explicit transaction, so ${cs.total} commits)`);
  out.push(`               Better Auth ${bs.total} statements (${bs.writes} writes) in ${bs.roundTrips} round trips: ${bs.transactions} BEGIN/COMMIT transactions; ${bs.commits} commits, ${bs.writingCommits} of them writing` +
    `; password step ${bs.perStep.password.statements}, TOTP step ${bs.perStep.factor.statements}`);
  for (const r of j.runs) {
    if (r.betterAuth.sqlPerLoginUnderLoad !== null || r.callwarden.sqlPerLoginUnderLoad !== null) out.push(`  under load, ${r.clients} clients: Callwarden ${r.callwarden.sqlPerLoginUnderLoad ?? '-'}, Better Auth ${r.betterAuth.sqlPerLoginUnderLoad ?? '-'} (${r.betterAuth.roundTripsPerLoginUnderLoad ?? '-'} with BEGIN/COMMIT)`);
  }
  out.push(`  Better Auth, password: [${bs.statements.password.join(', ')}]`);
  out.push(`  Better Auth, TOTP:     [${bs.statements.factor.join(', ')}]`);
  const rep = (x: any) => (x.replayAccepted ? `ACCEPTED (a second session from the same code, ${x.secondsApart} s later)` : `refused (${x.replayStatus}${x.replayCode ? ` ${x.replayCode}` : ''})`);
  out.push(`TOTP code replayed on a second login within the same 30 s step: Callwarden ${rep(j.callwarden.totpReplay)}; Better Auth ${rep(j.betterAuth.totpReplay)}`);
  return out.join('\n');
}

async function main() {
  const { values: a } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      clients: { type: 'string', multiple: true },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      users: { type: 'string' },
      'wait-idle': { type: 'string' },
      retries: { type: 'string' },
      'max-other-cores': { type: 'string' },
      'pg-url': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (a.help) {
    console.log(`usage: npx tsx bench/peers/better-auth/run.ts [--quick] [--clients N]... [--seconds S] [--warmup S] [--users U]
       [--wait-idle S] [--retries N] [--max-other-cores C] [--pg-url URL] [--out FILE]
  Callwarden and Better Auth (emailAndPassword + twoFactor, argon2id with Callwarden's parameters) on the
  same PostgreSQL, the same password + TOTP logins, interleaved per client count (default 8,16), beside the
  argon2id floor. --quick: 5 s windows, 2 s warm-up. --users: Better Auth users (default 256, quick 64).
  JSON goes to bench/results/peer-better-auth.json (or --out).`);
    return;
  }
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const clients = a.clients?.flatMap((c) => c.split(',')).map(Number);
  if (clients?.some((c) => !Number.isInteger(c) || c < 1)) throw new Error(`--clients: positive integers, not ${a.clients?.join(',')}`);
  const opts: RunOptions = { quick: a.quick ?? false };
  if (clients) opts.clients = clients;
  const set = <K extends keyof RunOptions>(k: K, v: RunOptions[K] | undefined) => {
    if (v !== undefined) opts[k] = v;
  };
  set('durationS', num(a.seconds));
  set('warmupS', num(a.warmup));
  set('users', num(a.users));
  set('waitIdleS', num(a['wait-idle']));
  set('retries', num(a.retries));
  set('maxOtherCores', num(a['max-other-cores']));
  set('pgUrl', a['pg-url']);
  const { rows, json } = await run(opts);
  const out = a.out ?? join(benchDir, 'results', 'peer-better-auth.json');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ ...(json as object), rows }, null, 2) + '\n');
  console.log(formatReport(json));
  console.log(`\nJSON: ${out}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
