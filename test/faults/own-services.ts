/** The fault suite's own PostgreSQL server and Redis, which its scenarios stop, restart and freeze (never the shared ones). */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { verifyChain, type VerifyReport } from '../../src/audit/verify.js';
import type { Db } from '../../src/storage/db.js';
import { call, freePort, type CallOptions, type Reply, type Target } from '../multi-instance/cluster.js';

// ---------------------------------------------------------------------------------------------
// Processes of our own: PostgreSQL and Redis

const ours = new Set<() => void>();
process.once('exit', () => {
  for (const stop of ours) stop();
});

/** The bin directory of the newest PostgreSQL server installed (Debian layout), or undefined. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin/initdb')) && existsSync(join(root, v, 'bin/pg_ctl')) && existsSync(join(root, v, 'bin/postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

export function redisServerBinary(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** initdb refuses to run as root: as root, PostgreSQL's tools run as the `postgres` OS user. */
function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<{ code: number | null; out: string }> {
  const [c, a] = asPostgres(cmd, args);
  return new Promise((resolve, reject) => {
    const p = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.once('error', reject);
    // 'exit', not 'close': the postmaster that pg_ctl leaves running must not keep us waiting
    p.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

export interface OwnPostgres {
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust authentication on loopback). */
  url: string;
  port: number;
  dir: string;
  /** `pg_ctl stop -m <mode>`; resolves when the server is down. */
  stop(mode?: 'smart' | 'fast' | 'immediate'): Promise<void>;
  /** `pg_ctl start -w` on the same port and data; resolves when it accepts connections. */
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  destroy(): Promise<void>;
  log(): string;
}

/**
 * A PostgreSQL server of our own: initdb into a temp dir (owned by `postgres` when we are root), the
 * unix socket in that dir, TCP on a free loopback port, trust authentication, no fsync (a test server).
 */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql/*/bin');
  const dir = mkdtempSync(join(tmpdir(), 'cw-faults-pg-'));
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  mkdirSync(sock);
  if (isRoot()) {
    const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gids = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (ids.status !== 0) throw new Error('running as root, but there is no `postgres` OS user to run initdb as');
    for (const p of [dir, sock]) chownSync(p, Number(ids.stdout.trim()), Number(gids.stdout.trim()));
  }
  const init = await run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  if (init.code !== 0) throw new Error(`initdb failed: ${init.out}`);
  const port = await freePort();
  const logFile = join(dir, 'postgres.log');
  const options = [`-p ${port}`, `-k ${sock}`, "-c listen_addresses=127.0.0.1", '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off', '-c max_connections=80', '-c shared_buffers=32MB'].join(' ');
  const pgCtl = join(bin, 'pg_ctl');
  const start = async () => {
    const r = await run(pgCtl, ['-D', data, '-l', logFile, '-w', '-t', '30', '-o', options, 'start']);
    if (r.code !== 0) throw new Error(`pg_ctl start failed: ${r.out}\n${readLog()}`);
  };
  const stop = async (mode: 'smart' | 'fast' | 'immediate' = 'fast') => {
    const r = await run(pgCtl, ['-D', data, '-m', mode, '-w', '-t', '30', 'stop']);
    if (r.code !== 0) throw new Error(`pg_ctl stop failed: ${r.out}`);
  };
  const readLog = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const emergency = () => {
    const [c, a] = asPostgres(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
    spawnSync(c, a, { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  ours.add(emergency);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    stop,
    start,
    log: readLog,
    async destroy() {
      ours.delete(emergency);
      await stop('immediate').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface OwnRedis {
  url: string;
  port: number;
  proc(): ChildProcess | undefined;
  /** SIGTERM, and waits for the process to end (the port refuses connections afterwards). */
  stop(): Promise<void>;
  /** Starts redis-server again on the same port (empty: nothing is saved). */
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: the port accepts connections but nothing answers. */
  freeze(): void;
  thaw(): void;
  destroy(): Promise<void>;
}

/** One PING over a raw socket: true when Redis answers +PONG within `ms`. */
export function redisPing(port: number, ms = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(ms, () => done(false));
    s.once('error', () => done(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d: Buffer) => done(d.toString().startsWith('+PONG')));
  });
}

/** redis-server of our own on a free port, no persistence, in a temp dir. */
export async function startOwnRedis(): Promise<OwnRedis> {
  const binary = redisServerBinary();
  if (!binary) throw new Error('redis-server is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'cw-faults-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const p = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
    child = p;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (p.exitCode !== null) throw new Error(`redis-server exited (${p.exitCode}) on port ${port}`);
      if (await redisPing(port, 500)) return;
      await sleep(50);
    }
    throw new Error(`redis-server did not answer on port ${port}`);
  };
  const stop = async () => {
    const p = child;
    child = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill('SIGCONT');
    p.kill('SIGTERM');
    await Promise.race([exited, sleep(5000).then(() => p.kill('SIGKILL'))]);
    await exited;
  };
  const emergency = () => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  ours.add(emergency);
  await start();
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    proc: () => child,
    stop,
    start,
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    async destroy() {
      ours.delete(emergency);
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
