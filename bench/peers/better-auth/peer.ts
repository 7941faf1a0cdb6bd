/** The Better Auth side of the peer benchmark: its server process, seeding, SQL per login, and the replay probes on both systems. */
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


const here = dirname(fileURLToPath(import.meta.url));

export async function startPeerServer(pgdb: ThrowAwayPostgres, argon2: Floor['params']) {
  const child = fork(join(here, 'server.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = <T extends FromServer['type']>(msg: ToServer, until: T) => ipcRequest<FromServer, T>(child, msg, until);
  const ready = await ask({ type: 'init', pgUrl: pgdb.url, secret: randomBytes(32).toString('hex'), argon2, poolSize: 10 }, 'ready');
  return {
    child,
    url: ready.url,
    tables: ready.tables,
    migrationSql: ready.migrationSql,
    stats: () => ask({ type: 'stats' }, 'stats'),
    record: async (on: boolean) => (await ask({ type: 'record', on }, 'recorded')).statements,
    stop: () => {
      if (child.connected) child.send({ type: 'exit' } satisfies ToServer);
      setTimeout(() => child.kill(), 2000).unref();
    },
  };
}
export type PeerServer = Awaited<ReturnType<typeof startPeerServer>>;

const currentStep = () => Math.floor(Date.now() / STEP_MS);

/** Signs `n` users up through Better Auth's API (2x cores at a time); each ends with TOTP active. */
export async function seedPeer(base: string, n: number): Promise<LoadUser[]> {
  const users: LoadUser[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: cores * 2 }, async () => {
      for (let i = next++; i < n; i = next++) {
        const email = `agent${String(i).padStart(5, '0')}@bench.test`;
        const secret = await signUpWithTotp(base, email, PASSWORD, (s) => hotp(s, currentStep()));
        users[i] = { email, secretHex: secret.toString('hex') };
      }
    }),
  );
  return users;
}

/** Waits until at least `ms` remain in the current 30 s step (so two logins share it). */
export async function roomInStep(ms: number): Promise<void> {
  const left = (currentStep() + 1) * STEP_MS - Date.now();
  if (left < ms) await new Promise((r) => setTimeout(r, left + 50));
}

export const sqlDelta = (a: SqlCounters, b: SqlCounters): SqlCounters =>
  Object.fromEntries(Object.keys(a).map((k) => [k, b[k as keyof SqlCounters] - a[k as keyof SqlCounters]])) as unknown as SqlCounters;

/** One sequential login with every statement recorded, per request. */
export async function peerStatementsPerLogin(server: PeerServer, user: LoadUser) {
  const secret = Buffer.from(user.secretHex, 'hex');
  await roomInStep(5000);
  const jar = new CookieJar();
  const s0 = (await server.stats()).sql;
  await server.record(true);
  const pw = await passwordStep(server.url, user.email, PASSWORD, jar);
  const pwSql = await server.record(true);
  const s1 = (await server.stats()).sql;
  const done = await totpStep(server.url, hotp(secret, currentStep()), jar);
  const factorSql = await server.record(false);
  const s2 = (await server.stats()).sql;
  if (pw.status !== 200 || done.status !== 200 || typeof done.json.token !== 'string') throw new Error(`Better Auth sanity login: ${pw.status} ${done.status} ${JSON.stringify(done.json).slice(0, 200)}`);
  const perStep = { password: sqlDelta(s0, s1), factor: sqlDelta(s1, s2) };
  const total = sqlDelta(s0, s2);
  const labels = (list: string[]) => list.map((q) => (/^\s*(begin|commit|rollback)\b/i.test(q) ? q.trim().toUpperCase() : label(q)));
  return {
    /** Statements other than BEGIN/COMMIT. */
    total: total.statements,
    writes: total.writes,
    reads: total.statements - total.writes,
    /** Explicit transactions (BEGIN ... COMMIT). */
    transactions: total.begins,
    /** Everything sent to PostgreSQL, BEGIN and COMMIT included. */
    roundTrips: total.statements + total.begins + total.commits + total.rollbacks,
    /** Commits: statements outside a transaction (each commits on its own) plus the explicit COMMITs. */
    commits: total.autocommit + total.commits,
    /** Of those, the commits that write (a SELECT on its own commits nothing). */
    writingCommits: total.autocommitWrites + total.commits,
    perStep,
    statements: { password: labels(pwSql), factor: labels(factorSql) },
  };
}

/** The same code twice, on two fresh challenges of one user, within one 30 s step. */
export async function peerReplay(base: string, user: LoadUser) {
  const secret = Buffer.from(user.secretHex, 'hex');
  await roomInStep(10_000);
  const code = hotp(secret, currentStep());
  const t0 = performance.now();
  const first = await login(base, user.email, PASSWORD, code);
  const second = await login(base, user.email, PASSWORD, code);
  return {
    firstAccepted: first.ok,
    replayAccepted: second.ok,
    replayStatus: second.totp?.status ?? second.password.status,
    replayCode: (second.totp?.json.code as string | undefined) ?? null,
    secondsApart: round((performance.now() - t0) / 1000, 2),
  };
}

/** The same replay against Callwarden (three requests per login). */
export async function callwardenReplay(base: string, user: LoadUser) {
  const secret = Buffer.from(user.secretHex, 'hex');
  const post = async (path: string, body: unknown, flow?: string) => {
    const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...(flow ? { 'x-flow-token': flow } : {}) }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, any> };
  };
  const loginOnce = async (code: string) => {
    const a = await post('/v1/auth/flows', { tenant: TENANT, identifier: user.email });
    const b = await post(`/v1/auth/flows/${a.json.flow?.id}/password`, { password: PASSWORD }, a.json.flowToken);
    const c = await post(`/v1/auth/flows/${b.json.flow?.id}/factor`, { method: 'totp', code }, b.json.flowToken);
    return { ok: c.status === 200 && typeof c.json.session?.token === 'string', status: c.status, code: ((c.json.code ?? c.json.error?.code) as string | undefined) ?? null };
  };
  await roomInStep(10_000);
  const code = hotp(secret, currentStep());
  const t0 = performance.now();
  const first = await loginOnce(code);
  const second = await loginOnce(code);
  return { firstAccepted: first.ok, replayAccepted: second.ok, replayStatus: second.status, replayCode: second.code, secondsApart: round((performance.now() - t0) / 1000, 2) };
}
