/**
 * Load generator for bench/signin.ts, run as a child process (forked by it) so that its CPU is not
 * charged to the server process. It drives complete sign-ins over real HTTP (Node's fetch, i.e.
 * undici, keep-alive): POST /v1/auth/flows, POST password, POST factor with a fresh TOTP code.
 *
 * TOTP codes are never replayed: the server's ledger accepts each 30 s time step once per user, and
 * a code within ±1 step of the server's clock. A ticket is (user, step) with step in that window and
 * above every step the user has used; a user is in at most one login at a time. The previous step
 * (c-1) is only handed out while more than `marginMs` remain in the current step, so a ticket stays
 * valid until its factor request arrives. When no user has an unused step in the window, clients wait
 * (counted as "ledger-starved" time) until a user returns or the next step begins.
 *
 * Protocol (process IPC): parent sends {type:'init'}, then {type:'run'} per measured run, then
 * {type:'exit'}; the child answers 'ready', 'window-start' / 'window-end' (so the parent can sample
 * server CPU over exactly the measured window) and 'result'.
 */
import { performance } from 'node:perf_hooks';
import { hotp, TOTP_PERIOD } from '../src/methods/totp/core.js';
import { pct } from './lib/common.js';

export interface InitMessage {
  type: 'init';
  url: string;
  tenant: string;
  password: string;
  users: Array<{ email: string; secretHex: string }>;
  marginMs: number;
}
export interface RunMessage {
  type: 'run';
  clients: number;
  seconds: number;
  warmupSeconds: number;
}
export type ToClient = InitMessage | RunMessage | { type: 'exit' };

export interface StepLatency {
  flows: number[];
  password: number[];
  factor: number[];
}
export interface RunResult {
  type: 'result';
  clients: number;
  windowMs: number;
  logins: number;
  /** Full-login latencies (ms) of the logins completed inside the window, sorted. */
  latencies: number[];
  stepP50: { flows: number; password: number; factor: number };
  stepP99: { flows: number; password: number; factor: number };
  errors: Record<string, number>;
  /** Logins completed during warm-up (not counted). */
  warmupLogins: number;
  /** Share of client time in the window spent waiting for an unused TOTP step (0 = never). */
  starvedShare: number;
  clientCpuMs: number;
  stepsUsed: { previous: number; current: number; next: number };
  /** Mean SQL statements per successful login from the server's x-sql-statements header (null without it). */
  sqlPerLogin: number | null;
}
export type FromClient = { type: 'ready' } | { type: 'window-start' } | { type: 'window-end' } | RunResult | { type: 'fatal'; message: string };

const STEP_MS = TOTP_PERIOD * 1000;

interface UserState {
  email: string;
  secret: Buffer;
  /** Lowest step this user has not used yet. */
  next: number;
}

class Tickets {
  #idle: UserState[];
  #waiters: Array<() => void> = [];
  #timer: NodeJS.Timeout | undefined;
  used = { previous: 0, current: 0, next: 0 };
  constructor(users: UserState[], readonly marginMs: number) {
    this.#idle = [...users];
  }

  /** A user with an unused step in the window, or undefined. */
  take(now = Date.now()): { user: UserState; step: number } | undefined {
    const c = Math.floor(now / STEP_MS);
    const remaining = (c + 1) * STEP_MS - now;
    const lo = remaining > this.marginMs ? c - 1 : c;
    const hi = c + 1;
    for (let i = 0; i < this.#idle.length; i++) {
      const u = this.#idle[i]!;
      if (u.next > hi) continue;
      this.#idle.splice(i, 1);
      const step = Math.max(u.next, lo);
      u.next = step + 1;
      if (step < c) this.used.previous++;
      else if (step === c) this.used.current++;
      else this.used.next++;
      return { user: u, step };
    }
    return undefined;
  }

  release(u: UserState): void {
    this.#idle.push(u);
    // Wake every waiter (at most one per client): a stale one may already have timed out.
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves when a user comes back or the next time step begins. */
  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      if (!this.#timer) {
        const now = Date.now();
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          for (const w of this.#waiters.splice(0)) w();
        }, (Math.floor(now / STEP_MS) + 1) * STEP_MS - now + 5);
      }
    });
  }

  wakeAll(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}


class StepError extends Error {
  constructor(readonly key: string) {
    super(key);
  }
}

/** Statements the server reports per request (x-sql-statements, dev mode), summed per login. */
interface SqlTally {
  seen: number;
  total: number;
}

async function post(tally: SqlTally, url: string, body: unknown, flowToken?: string): Promise<Record<string, any>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'callwarden-bench' };
  if (flowToken) headers['x-flow-token'] = flowToken;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  const sql = res.headers.get('x-sql-statements');
  if (sql !== null) {
    tally.seen++;
    tally.total += Number(sql);
  }
  let json: Record<string, any> = {};
  try {
    json = JSON.parse(text) as Record<string, any>;
  } catch {
    /* not JSON */
  }
  if (res.status >= 300) throw new StepError(`${res.status} ${json.error?.code ?? json.code ?? text.slice(0, 40)}`);
  return json;
}

let init: InitMessage | undefined;
let tickets: Tickets | undefined;

async function run(m: RunMessage): Promise<RunResult> {
  if (!init || !tickets) throw new Error('not initialised');
  const base = init.url;
  const t = tickets;
  const start = performance.now();
  const windowStart = start + m.warmupSeconds * 1000;
  const windowEnd = windowStart + m.seconds * 1000;
  const latencies: number[] = [];
  const steps: StepLatency = { flows: [], password: [], factor: [] };
  const errors: Record<string, number> = {};
  let warmupLogins = 0;
  let sqlLogins = 0;
  let sqlStatements = 0;
  let starvedMs = 0;
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  const usedBefore = { ...t.used };

  const windowTimer = setTimeout(() => {
    cpuAtStart = process.cpuUsage();
    process.send!({ type: 'window-start' } satisfies FromClient);
  }, Math.max(0, windowStart - performance.now()));

  const client = async () => {
    for (;;) {
      const now = performance.now();
      if (now >= windowEnd) return;
      const ticket = t.take();
      if (!ticket) {
        const w0 = performance.now();
        await Promise.race([t.wait(), new Promise((r) => setTimeout(r, Math.max(1, windowEnd - w0)))]);
        const w1 = performance.now();
        starvedMs += Math.max(0, Math.min(w1, windowEnd) - Math.max(w0, windowStart));
        continue;
      }
      const { user, step } = ticket;
      const tally: SqlTally = { seen: 0, total: 0 };
      const t0 = performance.now();
      let stage = 'flows';
      try {
        const started = await post(tally, `${base}/v1/auth/flows`, { tenant: init!.tenant, identifier: user.email });
        const t1 = performance.now();
        stage = 'password';
        const pw = await post(tally, `${base}/v1/auth/flows/${started.flow.id}/password`, { password: init!.password }, started.flowToken);
        const t2 = performance.now();
        if (pw.flow?.state !== 'second_factor') throw new StepError(`state ${pw.flow?.state}`);
        stage = 'factor';
        const code = hotp(user.secret, step);
        const done = await post(tally, `${base}/v1/auth/flows/${pw.flow.id}/factor`, { method: 'totp', code }, pw.flowToken);
        const t3 = performance.now();
        if (done.flow?.state !== 'completed' || typeof done.session?.token !== 'string') throw new StepError(`no session (${done.flow?.state})`);
        if (t3 >= windowStart && t3 <= windowEnd) {
          latencies.push(t3 - t0);
          if (tally.seen === 3) {
            sqlLogins++;
            sqlStatements += tally.total;
          }
          steps.flows.push(t1 - t0);
          steps.password.push(t2 - t1);
          steps.factor.push(t3 - t2);
        } else if (t3 < windowStart) warmupLogins++;
      } catch (e) {
        const end = performance.now();
        if (end >= windowStart && end <= windowEnd) {
          const key = `${stage}: ${e instanceof StepError ? e.key : ((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message)}`;
          errors[key] = (errors[key] ?? 0) + 1;
        }
      } finally {
        t.release(user);
      }
    }
  };

  await Promise.all(Array.from({ length: m.clients }, client));
  clearTimeout(windowTimer);
  t.wakeAll();
  const cpu = process.cpuUsage(cpuAtStart);
  process.send!({ type: 'window-end' } satisfies FromClient);
  latencies.sort((a, b) => a - b);
  for (const k of ['flows', 'password', 'factor'] as const) steps[k].sort((a, b) => a - b);
  return {
    type: 'result',
    clients: m.clients,
    windowMs: m.seconds * 1000,
    logins: latencies.length,
    latencies,
    stepP50: { flows: pct(steps.flows, 50), password: pct(steps.password, 50), factor: pct(steps.factor, 50) },
    stepP99: { flows: pct(steps.flows, 99), password: pct(steps.password, 99), factor: pct(steps.factor, 99) },
    errors,
    warmupLogins,
    starvedShare: starvedMs / (m.clients * m.seconds * 1000),
    clientCpuMs: (cpu.user + cpu.system) / 1000,
    stepsUsed: { previous: t.used.previous - usedBefore.previous, current: t.used.current - usedBefore.current, next: t.used.next - usedBefore.next },
    sqlPerLogin: sqlLogins ? sqlStatements / sqlLogins : null,
  };
}

process.on('message', (raw) => {
  const m = raw as ToClient;
  if (m.type === 'init') {
    init = m;
    tickets = new Tickets(
      m.users.map((u) => ({ email: u.email, secret: Buffer.from(u.secretHex, 'hex'), next: Number.NEGATIVE_INFINITY })),
      m.marginMs,
    );
    process.send!({ type: 'ready' } satisfies FromClient);
  } else if (m.type === 'run') {
    run(m).then(
      (r) => process.send!(r),
      (e: Error) => process.send!({ type: 'fatal', message: e.stack ?? e.message } satisfies FromClient),
    );
  } else if (m.type === 'exit') {
    process.disconnect();
  }
});
