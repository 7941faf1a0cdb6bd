/**
 * Load generator for the Better Auth peer, run as a child process (forked by run.ts) so that its CPU
 * is charged neither to the server nor to the parent: the same shape as bench/signin-client.ts. N
 * clients over real HTTP (Node's fetch, keep-alive) each do complete logins: POST /sign-in/email
 * (password; answers with a two-factor challenge cookie), then POST /two-factor/verify-totp with the
 * code of the current 30 s step. Only logins that end with a session token count. A user is in at
 * most one login at a time. (Better Auth keeps no replay ledger, so unlike Callwarden's client this
 * one needs no step tickets: any code in the ±1 step window is accepted.)
 *
 * Protocol (process IPC): {type:'init'} -> 'ready'; {type:'run'} -> 'window-start', 'window-end',
 * 'result'; {type:'exit'}.
 */
import { performance } from 'node:perf_hooks';
import { hotp } from '../../../src/methods/totp/core.js';
import { pct, STEP_MS } from '../../lib/common.js';
import { CookieJar, passwordStep, totpStep } from './api.js';

export interface ClientInit {
  type: 'init';
  url: string;
  password: string;
  users: Array<{ email: string; secretHex: string }>;
}
export interface ClientRun {
  type: 'run';
  clients: number;
  seconds: number;
  warmupSeconds: number;
}
export type ToPeerClient = ClientInit | ClientRun | { type: 'exit' };

export interface PeerRunResult {
  type: 'result';
  clients: number;
  windowMs: number;
  logins: number;
  /** Full-login latencies (ms) of the logins completed inside the window, sorted. */
  latencies: number[];
  stepP50: { password: number; factor: number };
  stepP99: { password: number; factor: number };
  errors: Record<string, number>;
  warmupLogins: number;
  clientCpuMs: number;
}
export type FromPeerClient = { type: 'ready' } | { type: 'window-start' } | { type: 'window-end' } | PeerRunResult | { type: 'fatal'; message: string };

interface User {
  email: string;
  secret: Buffer;
}

class StepError extends Error {
  constructor(readonly key: string) {
    super(key);
  }
}

let init: ClientInit | undefined;
let idle: User[] = [];

async function run(m: ClientRun): Promise<PeerRunResult> {
  if (!init) throw new Error('not initialised');
  const { url: base, password } = init;
  const start = performance.now();
  const windowStart = start + m.warmupSeconds * 1000;
  const windowEnd = windowStart + m.seconds * 1000;
  const latencies: number[] = [];
  const steps = { password: [] as number[], factor: [] as number[] };
  const errors: Record<string, number> = {};
  let warmupLogins = 0;
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  let cpu: NodeJS.CpuUsage | undefined;
  // Both ends of the window on a timer: the parent samples the server's CPU and SQL counters then, so
  // the work of logins still in flight at the end (not counted) is not charged to the counted ones.
  // (bench/signin-client.ts sends window-end after its in-flight logins finish instead: a small upward
  // bias of Callwarden's CPU per login, about clients/2 logins' worth over the window.)
  const windowTimer = setTimeout(() => {
    cpuAtStart = process.cpuUsage();
    process.send!({ type: 'window-start' } satisfies FromPeerClient);
  }, Math.max(0, windowStart - performance.now()));
  const endTimer = setTimeout(() => {
    cpu = process.cpuUsage(cpuAtStart);
    process.send!({ type: 'window-end' } satisfies FromPeerClient);
  }, Math.max(0, windowEnd - performance.now()));

  const client = async () => {
    while (performance.now() < windowEnd) {
      const user = idle.shift();
      if (!user) throw new Error(`fewer users (${init!.users.length}) than clients (${m.clients})`);
      const jar = new CookieJar();
      const t0 = performance.now();
      let stage = 'password';
      try {
        const pw = await passwordStep(base, user.email, password, jar);
        const t1 = performance.now();
        if (pw.status !== 200) throw new StepError(`${pw.status} ${pw.json.code ?? ''}`);
        if (pw.json.twoFactorRedirect !== true) throw new StepError('no two-factor challenge');
        stage = 'factor';
        const code = hotp(user.secret, Math.floor(Date.now() / STEP_MS));
        const done = await totpStep(base, code, jar);
        const t2 = performance.now();
        if (done.status !== 200) throw new StepError(`${done.status} ${done.json.code ?? ''}`);
        if (typeof done.json.token !== 'string') throw new StepError('no session token');
        if (t2 >= windowStart && t2 <= windowEnd) {
          latencies.push(t2 - t0);
          steps.password.push(t1 - t0);
          steps.factor.push(t2 - t1);
        } else if (t2 < windowStart) warmupLogins++;
      } catch (e) {
        const end = performance.now();
        if (end >= windowStart && end <= windowEnd) {
          const key = `${stage}: ${e instanceof StepError ? e.key : ((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message)}`;
          errors[key] = (errors[key] ?? 0) + 1;
        }
      } finally {
        idle.push(user);
      }
    }
  };

  await Promise.all(Array.from({ length: m.clients }, client));
  clearTimeout(windowTimer);
  clearTimeout(endTimer);
  if (!cpu) {
    cpu = process.cpuUsage(cpuAtStart);
    process.send!({ type: 'window-end' } satisfies FromPeerClient);
  }
  latencies.sort((a, b) => a - b);
  steps.password.sort((a, b) => a - b);
  steps.factor.sort((a, b) => a - b);
  return {
    type: 'result',
    clients: m.clients,
    windowMs: m.seconds * 1000,
    logins: latencies.length,
    latencies,
    stepP50: { password: pct(steps.password, 50), factor: pct(steps.factor, 50) },
    stepP99: { password: pct(steps.password, 99), factor: pct(steps.factor, 99) },
    errors,
    warmupLogins,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
  };
}

process.on('message', (raw) => {
  const m = raw as ToPeerClient;
  if (m.type === 'init') {
    init = m;
    idle = m.users.map((u) => ({ email: u.email, secret: Buffer.from(u.secretHex, 'hex') }));
    process.send!({ type: 'ready' } satisfies FromPeerClient);
  } else if (m.type === 'run') {
    run(m).then(
      (r) => process.send!(r),
      (e: Error) => process.send!({ type: 'fatal', message: e.stack ?? e.message } satisfies FromPeerClient),
    );
  } else if (m.type === 'exit') {
    process.disconnect();
  }
});
