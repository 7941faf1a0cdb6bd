/**
 * Load generator for bench/verification.ts, run as a child process (forked by it) so that its CPU is
 * not charged to the server process. Each client loops over complete verification flows over real
 * HTTP (Node's fetch, i.e. undici, keep-alive), playing both the agent and the customer:
 *
 *   1. POST /v1/tenants/:t/verifications             {customerId, interactionId}   (the agent starts)
 *   2. POST .../verifications/:id/codes              {contactId, channel: 'email'} (the code goes to the outbox)
 *   3. the customer reads the code: one SELECT on the target's outbox (the newest message to their
 *      address), through this process's own pg connection (PostgreSQL; the floor always) or, for
 *      PGlite, which lives inside the server process, through the parent over IPC (the parent runs
 *      the same SELECT on the store); or, when Callwarden's outbox keeps the code sealed, through the
 *      dev-mode outbox API (GET /v1/tenants/:t/outbox?recipient=..., an extra request to the server)
 *   4. POST .../verifications/:id/codes/check        {code}                        (the agent types it)
 *
 * A flow counts when the check answers 200 with state "verified". A customer is in at most one flow
 * at a time (an idle queue). Against Callwarden the client also keeps within the tenant policy's
 * limits, which the benchmark raises to their maxima: a destination gets at most 20 codes per fixed
 * 10-minute window and an agent sends at most 1,000 per minute, so customers and agents that reached
 * their share wait for the next window (counted as "limit-starved" time; 0 when the pools are big
 * enough). The floor has no limits.
 *
 * Protocol (process IPC): parent sends {type:'init'}, then {type:'run'} per measured run, then
 * {type:'exit'}; the child answers 'ready', 'window-start' / 'window-end' (the parent samples CPU over
 * exactly the measured window), 'read-code' requests (PGlite only) and 'result'.
 */
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { pct } from './lib/common.js';

export interface Customer {
  id: string;
  contactId: string;
  email: string;
}
export interface InitMessage {
  type: 'init';
  tenant: string;
  tenantId: string;
  agentTokens: string[];
  pools: { callwarden: Customer[]; floor: Customer[] };
  /** How the customer reads Callwarden's code: its database (readUrl, or the parent over IPC for PGlite) or the dev outbox API. */
  callwardenRead: { kind: 'db'; readUrl?: string } | { kind: 'api'; url: string; token: string };
  /** The floor's database (the customer's read of the floor's outbox). */
  floorReadUrl?: string;
  applicationName: string;
}
export interface RunMessage {
  type: 'run';
  target: 'callwarden' | 'floor';
  url: string;
  clients: number;
  seconds: number;
  warmupSeconds: number;
}
export type ToClient = InitMessage | RunMessage | { type: 'exit' } | { type: 'code'; id: number; body: string | null };

export type Stage = 'start' | 'send' | 'read' | 'check';
export interface RunResult {
  type: 'result';
  target: RunMessage['target'];
  clients: number;
  windowMs: number;
  flows: number;
  /** Full-flow latencies (ms) of the flows completed inside the window, sorted. */
  latencies: number[];
  stageP50: Record<Stage, number>;
  stageP99: Record<Stage, number>;
  errors: Record<string, number>;
  warmupFlows: number;
  /** Share of client time in the window spent waiting for a customer or agent under the limits. */
  starvedShare: number;
  clientCpuMs: number;
  /** SQL statements per request (x-sql-statements) of the flows in the window, per stage: mean, max and how many answers carried it; null without the header. */
  sqlPerRequest: Record<'start' | 'send' | 'check', SqlStat | null>;
}
export interface SqlStat {
  mean: number;
  max: number;
  samples: number;
}
export type FromClient =
  | { type: 'ready' }
  | { type: 'window-start' }
  | { type: 'window-end' }
  | { type: 'read-code'; id: number; tenantId: string; recipient: string }
  | RunResult
  | { type: 'fatal'; message: string };


/** The SELECT the customer runs: the newest message to their address (tenant-scoped, index outbox_tenant_time). */
export const READ_CODE_SQL = 'SELECT body FROM outbox WHERE tenant_id = $1 AND recipient = $2 ORDER BY created_at DESC LIMIT 1';
export const codeIn = (body: string | null | undefined) => /code is (\d{4,10})/.exec(body ?? '')?.[1];

class StageError extends Error {
  constructor(readonly key: string) {
    super(key);
  }
}

const DEST_WINDOW_MS = 600_000;
const DEST_MAX = 20;
const AGENT_WINDOW_MS = 60_000;
const AGENT_MAX = 1000;

interface CustomerState extends Customer {
  window: number;
  uses: number;
}
interface AgentState {
  token: string;
  window: number;
  uses: number;
}

/** Customers (one flow at a time each) and agents, within the policy's limits when `limited`. */
class Pool {
  #idle: CustomerState[];
  #agents: AgentState[];
  #next = 0;
  #waiters: Array<() => void> = [];
  constructor(customers: Customer[], tokens: string[], readonly limited: boolean) {
    this.#idle = customers.map((c) => ({ ...c, window: 0, uses: 0 }));
    this.#agents = tokens.map((token) => ({ token, window: 0, uses: 0 }));
  }
  take(now = Date.now()): { customer: CustomerState; agent: AgentState } | undefined {
    const dw = Math.floor(now / DEST_WINDOW_MS);
    const aw = Math.floor(now / AGENT_WINDOW_MS);
    let agent: AgentState | undefined;
    for (let i = 0; i < this.#agents.length && !agent; i++) {
      const a = this.#agents[(this.#next + i) % this.#agents.length]!;
      if (a.window !== aw) {
        a.window = aw;
        a.uses = 0;
      }
      if (!this.limited || a.uses < AGENT_MAX) {
        agent = a;
        this.#next = (this.#next + i + 1) % this.#agents.length;
      }
    }
    if (!agent) return undefined;
    const idx = this.#idle.findIndex((c) => !this.limited || c.window !== dw || c.uses < DEST_MAX);
    if (idx < 0) return undefined;
    const [customer] = this.#idle.splice(idx, 1) as [CustomerState];
    if (customer.window !== dw) {
      customer.window = dw;
      customer.uses = 0;
    }
    customer.uses++;
    agent.uses++;
    return { customer, agent };
  }
  release(c: CustomerState): void {
    this.#idle.push(c);
    for (const w of this.#waiters.splice(0)) w();
  }
  /** Resolves when a customer comes back, or after `ms` (a new limit window). */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      setTimeout(resolve, ms);
    });
  }
  wakeAll(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}

interface Tally {
  start: number[];
  send: number[];
  check: number[];
}

async function post(url: string, token: string, body: unknown, stage: Stage, tally: Tally): Promise<Record<string, any>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'user-agent': 'callwarden-bench' }, body: JSON.stringify(body) });
  const text = await res.text();
  const sql = res.headers.get('x-sql-statements');
  if (sql !== null && stage !== 'read') tally[stage].push(Number(sql));
  let json: Record<string, any> = {};
  try {
    json = JSON.parse(text) as Record<string, any>;
  } catch {
    /* not JSON */
  }
  if (res.status >= 300) throw new StageError(`${res.status} ${json.error?.code ?? json.code ?? text.slice(0, 60)}`);
  return json;
}

let init: InitMessage | undefined;
const readPools: Partial<Record<RunMessage['target'], pg.Pool>> = {};
let nextRead = 1;
const pendingReads = new Map<number, (body: string | null) => void>();

async function readCode(target: RunMessage['target'], tenantId: string, recipient: string): Promise<string | null> {
  const pool = readPools[target];
  if (pool) {
    const r = await pool.query<{ body: string }>(READ_CODE_SQL, [tenantId, recipient]);
    return r.rows[0]?.body ?? null;
  }
  if (target === 'floor') throw new StageError('no database for the floor\'s outbox');
  const how = init!.callwardenRead;
  if (how.kind === 'api') {
    const res = await fetch(`${how.url}/v1/tenants/${init!.tenant}/outbox?recipient=${encodeURIComponent(recipient)}&limit=1`, { headers: { authorization: `Bearer ${how.token}`, 'user-agent': 'callwarden-bench-customer' } });
    if (res.status !== 200) throw new StageError(`outbox API ${res.status}`);
    return ((await res.json()) as { messages?: Array<{ body?: string }> }).messages?.[0]?.body ?? null;
  }
  const id = nextRead++;
  return new Promise((resolve) => {
    pendingReads.set(id, resolve);
    process.send!({ type: 'read-code', id, tenantId, recipient } satisfies FromClient);
  });
}

async function run(m: RunMessage): Promise<RunResult> {
  if (!init) throw new Error('not initialised');
  const i = init;
  const pool = new Pool(m.target === 'callwarden' ? i.pools.callwarden : i.pools.floor, i.agentTokens, m.target === 'callwarden');
  const base = `${m.url}/v1/tenants/${i.tenant}/verifications`;
  const start = performance.now();
  const windowStart = start + m.warmupSeconds * 1000;
  const windowEnd = windowStart + m.seconds * 1000;
  const latencies: number[] = [];
  const stages: Record<Stage, number[]> = { start: [], send: [], read: [], check: [] };
  const sql: Tally = { start: [], send: [], check: [] };
  const errors: Record<string, number> = {};
  let warmupFlows = 0;
  let starvedMs = 0;
  let cpuAtStart: NodeJS.CpuUsage | undefined;

  const windowTimer = setTimeout(() => {
    cpuAtStart = process.cpuUsage();
    process.send!({ type: 'window-start' } satisfies FromClient);
  }, Math.max(0, windowStart - performance.now()));

  const client = async () => {
    for (;;) {
      if (performance.now() >= windowEnd) return;
      const ticket = pool.take();
      if (!ticket) {
        const w0 = performance.now();
        await pool.wait(Math.min(1000, Math.max(1, windowEnd - w0)));
        const w1 = performance.now();
        starvedMs += Math.max(0, Math.min(w1, windowEnd) - Math.max(w0, windowStart));
        continue;
      }
      const { customer, agent } = ticket;
      const tally: Tally = { start: [], send: [], check: [] };
      const t0 = performance.now();
      let stage: Stage = 'start';
      try {
        const v = await post(base, agent.token, { customerId: customer.id, interactionId: `bench-call-${randomUUID()}` }, 'start', tally);
        if (typeof v.id !== 'string') throw new StageError('no verification id');
        const t1 = performance.now();
        stage = 'send';
        await post(`${base}/${v.id}/codes`, agent.token, { contactId: customer.contactId, channel: 'email' }, 'send', tally);
        const t2 = performance.now();
        stage = 'read';
        const code = codeIn(await readCode(m.target, i.tenantId, customer.email));
        if (!code) throw new StageError('no code in the outbox');
        const t3 = performance.now();
        stage = 'check';
        const done = await post(`${base}/${v.id}/codes/check`, agent.token, { code }, 'check', tally);
        const t4 = performance.now();
        if (done.state !== 'verified') throw new StageError(`state ${done.state}`);
        if (t4 >= windowStart && t4 <= windowEnd) {
          latencies.push(t4 - t0);
          stages.start.push(t1 - t0);
          stages.send.push(t2 - t1);
          stages.read.push(t3 - t2);
          stages.check.push(t4 - t3);
          for (const k of ['start', 'send', 'check'] as const) sql[k].push(...tally[k]);
        } else if (t4 < windowStart) warmupFlows++;
      } catch (e) {
        const end = performance.now();
        if (end >= windowStart && end <= windowEnd) {
          const key = `${stage}: ${e instanceof StageError ? e.key : ((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message)}`;
          errors[key] = (errors[key] ?? 0) + 1;
        }
      } finally {
        pool.release(customer);
      }
    }
  };

  await Promise.all(Array.from({ length: m.clients }, client));
  clearTimeout(windowTimer);
  pool.wakeAll();
  const cpu = process.cpuUsage(cpuAtStart);
  process.send!({ type: 'window-end' } satisfies FromClient);
  latencies.sort((a, b) => a - b);
  for (const k of Object.keys(stages) as Stage[]) stages[k].sort((a, b) => a - b);
  const stat = (xs: number[]): SqlStat | null => (xs.length ? { mean: xs.reduce((a, b) => a + b, 0) / xs.length, max: xs.reduce((a, b) => Math.max(a, b), -Infinity), samples: xs.length } : null);
  return {
    type: 'result',
    target: m.target,
    clients: m.clients,
    windowMs: m.seconds * 1000,
    flows: latencies.length,
    latencies,
    stageP50: { start: pct(stages.start, 50), send: pct(stages.send, 50), read: pct(stages.read, 50), check: pct(stages.check, 50) },
    stageP99: { start: pct(stages.start, 99), send: pct(stages.send, 99), read: pct(stages.read, 99), check: pct(stages.check, 99) },
    errors,
    warmupFlows,
    starvedShare: starvedMs / (m.clients * m.seconds * 1000),
    clientCpuMs: (cpu.user + cpu.system) / 1000,
    sqlPerRequest: { start: stat(sql.start), send: stat(sql.send), check: stat(sql.check) },
  };
}

process.on('message', (raw) => {
  const m = raw as ToClient;
  if (m.type === 'init') {
    init = m;
    const open = (url: string) => {
      const p = new pg.Pool({ connectionString: url, max: 8, application_name: m.applicationName });
      p.on('error', () => undefined);
      return p;
    };
    if (m.callwardenRead.kind === 'db' && m.callwardenRead.readUrl) readPools.callwarden = open(m.callwardenRead.readUrl);
    if (m.floorReadUrl) readPools.floor = open(m.floorReadUrl);
    process.send!({ type: 'ready' } satisfies FromClient);
  } else if (m.type === 'run') {
    run(m).then(
      (r) => process.send!(r),
      (e: Error) => process.send!({ type: 'fatal', message: e.stack ?? e.message } satisfies FromClient),
    );
  } else if (m.type === 'code') {
    pendingReads.get(m.id)?.(m.body);
    pendingReads.delete(m.id);
  } else if (m.type === 'exit') {
    for (const p of Object.values(readPools)) void p?.end();
    process.disconnect();
  }
});
