/**
 * A small Callwarden cluster for the multi-instance test: real `callwarden serve` processes on free
 * loopback ports, Debian's nginx in front of them (configured from docs/examples/nginx.conf, the
 * documented example), and an HTTP client that can speak to one instance directly or go through
 * nginx from a chosen loopback source address.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const NGINX_EXAMPLE = join(ROOT, 'docs/examples/nginx.conf');

/** Debian's nginx, or undefined when it is not installed. */
export function nginxBinary(): string | undefined {
  if (existsSync('/usr/sbin/nginx')) return '/usr/sbin/nginx';
  const r = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * How to run `callwarden serve`: the compiled CLI (bin/callwarden.js) when dist/ is built and not older
 * than src/ (a stale build would test old code), else the sources through tsx.
 */
export function serveCommand(): { args: string[]; kind: 'dist' | 'src' } {
  const compiled = join(ROOT, 'dist/cli/main.js');
  const forced = process.env.CALLWARDEN_TEST_SERVE;
  const fresh = existsSync(compiled) && statSync(compiled).mtimeMs >= newestMtime(join(ROOT, 'src'));
  if (forced === 'dist' || (forced !== 'src' && fresh)) return { kind: 'dist', args: [join(ROOT, 'bin/callwarden.js'), 'serve'] };
  return { kind: 'src', args: ['--import', 'tsx', join(ROOT, 'test/multi-instance/serve-entry.ts'), 'serve'] };
}

/** A free TCP port on 127.0.0.1 (free when asked; whoever binds it next may still race us). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Children still running; signalled to stop if this process exits without stopping them (a crashed test worker). */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGTERM');
});
function track(p: ChildProcess): ChildProcess {
  children.add(p);
  p.once('exit', () => children.delete(p));
  return p;
}

async function waitExit(p: ChildProcess, ms: number): Promise<boolean> {
  if (p.exitCode !== null || p.signalCode !== null) return true;
  return Promise.race([new Promise<boolean>((resolve) => p.once('exit', () => resolve(true))), sleep(ms).then(() => false)]);
}

/** Stops a child we started: `signal`, then SIGKILL after `graceMs`. */
async function stopChild(p: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.kill(signal);
  if (!(await waitExit(p, graceMs))) {
    p.kill('SIGKILL');
    await waitExit(p, 2000);
  }
}

export type LogLine = Record<string, unknown> & { msg?: string; reqId?: string };

export interface Instance {
  name: string;
  url: string;
  port: number;
  proc: ChildProcess;
  logs: LogLine[];
  stderr: string[];
  /** True when this instance logged `request completed` for a request with this id. */
  served(requestId: string): boolean;
  stop(): Promise<void>;
}

/** Starts `callwarden serve` with `env` (PORT=0: it picks a free port and logs its URL). */
export function startInstance(name: string, env: Record<string, string>, timeoutMs = 60_000): Promise<Instance> {
  const { args } = serveCommand();
  const proc = track(spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] }));
  const logs: LogLine[] = [];
  const stderr: string[] = [];
  const completed = new Set<string>();
  return new Promise<Instance>((resolve, reject) => {
    const instance = (url: string): Instance => ({
      name,
      url,
      port: Number(new URL(url).port),
      proc,
      logs,
      stderr,
      served: (id) => completed.has(id),
      stop: () => stopChild(proc, 'SIGTERM', 8000),
    });
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${timeoutMs} ms\n${stderr.join('').slice(-2000)}`));
    }, timeoutMs);
    let buffered = '';
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = { msg: text };
        }
        logs.push(line);
        if (line.msg === 'request completed' && typeof line.reqId === 'string') completed.add(line.reqId);
        if (line.msg === 'callwarden listening' && typeof line.url === 'string') {
          clearTimeout(timer);
          resolve(instance(line.url));
        }
      }
    });
    proc.stderr!.setEncoding('utf8').on('data', (c: string) => stderr.push(c));
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready\n${stderr.join('').slice(-3000)}\n${logs.slice(-5).map((l) => JSON.stringify(l)).join('\n')}`));
    });
  });
}

/**
 * The documented nginx example with this run's addresses: its `listen` line becomes `listenPort` on
 * 127.0.0.1 and the `server` lines of `upstream callwarden` become one line per instance (keeping the
 * parameters of the example's first line).
 */
export function nginxConfig(template: string, listenPort: number, upstreams: string[]): string {
  const upstream = /(upstream callwarden \{\n)([\s\S]*?)(\n\s*\})/.exec(template);
  if (!upstream) throw new Error('docs/examples/nginx.conf has no "upstream callwarden { ... }" block');
  const lines = upstream[2]!.split('\n');
  const servers = lines.filter((l) => /^\s*server\s+\S+:\d+/.test(l));
  if (servers.length === 0) throw new Error('the upstream block of docs/examples/nginx.conf lists no server');
  const first = /^(\s*)server\s+\S+:\d+(.*)$/.exec(servers[0]!)!;
  const mine = upstreams.map((u) => `${first[1]}server ${u}${first[2]}`);
  const body = lines.flatMap((l) => (l === servers[0] ? mine : servers.includes(l) ? [] : [l])).join('\n');
  let out = template.slice(0, upstream.index) + upstream[1] + body + template.slice(upstream.index + upstream[1]!.length + upstream[2]!.length);
  const listens = out.match(/^\s*listen\s+[^;]+;/gm) ?? [];
  if (listens.length !== 1) throw new Error(`docs/examples/nginx.conf should have one listen line, has ${listens.length}`);
  out = out.replace(/^(\s*)listen\s+[^;]+;/m, `$1listen 127.0.0.1:${listenPort};`);
  return out;
}

export interface Nginx {
  url: string;
  port: number;
  dir: string;
  config: string;
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * Runs nginx in the foreground with the example config in a temp prefix, listening on `port` (default:
 * a free one, retried if taken meanwhile); ready when /healthz answers through it.
 */
export async function startNginx(binary: string, upstreams: string[], port?: number): Promise<Nginx> {
  const template = readFileSync(NGINX_EXAMPLE, 'utf8');
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < (port ? 1 : 3); attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'cw-nginx-'));
    // workers run as an unprivileged user when the test runs as root: let them reach the prefix
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'logs'));
    mkdirSync(join(dir, 'temp'));
    const listen = port ?? (await freePort());
    const config = nginxConfig(template, listen, upstreams);
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, config);
    const stderr: string[] = [];
    const proc = track(spawn(binary, ['-p', `${dir}/`, '-c', conf, '-g', `daemon off; pid ${dir}/nginx.pid;`], { stdio: ['ignore', 'ignore', 'pipe'] }));
    proc.stderr!.setEncoding('utf8').on('data', (c: string) => stderr.push(c));
    const errorLog = () => {
      try {
        return readFileSync(join(dir, 'logs/error.log'), 'utf8');
      } catch {
        return '';
      }
    };
    const stop = async () => {
      await stopChild(proc, 'SIGTERM', 5000);
      rmSync(dir, { recursive: true, force: true });
    };
    const url = `http://127.0.0.1:${listen}`;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && proc.exitCode === null) {
      const ok = await call({ name: 'nginx', base: url, viaProxy: true }, 'GET', '/healthz').then((r) => r.status === 200, () => false);
      if (ok) return { url, port: listen, dir, config, errorLog, stop };
      await sleep(100);
    }
    lastError = new Error(`nginx did not start: ${stderr.join('')} ${errorLog()}`.trim());
    await stop();
    if (!/in use/i.test(lastError.message)) break;
  }
  throw lastError;
}

// ---------------------------------------------------------------------------------------------
// HTTP

/** Where a request goes: an instance directly, or nginx. */
export interface Target {
  name: string;
  base: string;
  viaProxy: boolean;
}

export interface CallOptions {
  token?: string;
  flow?: string;
  body?: unknown;
  /**
   * The client address the server should see. Directly: sent as X-Forwarded-For (the instances trust
   * the proxy header). Through nginx: the loopback source address the connection is made from (nginx
   * overwrites X-Forwarded-For with it). Default: a fresh address per request.
   */
  ip?: string;
  /** Through nginx: an X-Forwarded-For the client sends, which nginx must not pass on. */
  spoofForwardedFor?: string;
  requestId?: string;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  body: Record<string, any>;
}

/** A random client address: 10.x.y.z sent as X-Forwarded-For, or a 127.x.y.z source address through nginx (never 127.0.0.1). */
export const freshClientIp = (viaProxy: boolean): string =>
  viaProxy ? `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}` : `10.${randomInt(0, 256)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;

export function call(target: Target, method: string, path: string, o: CallOptions = {}): Promise<Reply> {
  const ip = o.ip ?? freshClientIp(target.viaProxy);
  const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
  const headers: Record<string, string> = {
    ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
    ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
    ...(o.flow ? { 'x-flow-token': o.flow } : {}),
    ...(o.requestId ? { 'x-request-id': o.requestId } : {}),
    ...(!target.viaProxy ? { 'x-forwarded-for': ip } : o.spoofForwardedFor ? { 'x-forwarded-for': o.spoofForwardedFor } : {}),
  };
  const url = new URL(path, target.base);
  return new Promise<Reply>((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers, agent: false, ...(target.viaProxy ? { localAddress: ip } : {}), timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Record<string, any> = {};
          try {
            body = text ? (JSON.parse(text) as Record<string, any>) : {};
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${target.name}${path} timed out`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** "status code" → count, for compact assertions and messages. */
export function tally(replies: Reply[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of replies) {
    const k = `${r.status} ${r.status < 300 ? 'ok' : String(r.body.code ?? r.text.slice(0, 40))}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
