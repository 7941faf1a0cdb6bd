/**
 * Load generator for bench/scale.ts, run as a child process (forked by it) so that its CPU is not
 * charged to the server process. Each run is a fixed number of operations at a fixed concurrency
 * over real HTTP (Node's fetch, keep-alive) against one of the servers (one per database size):
 *
 *   signin        POST /v1/auth/flows, POST .../password, POST .../factor with the TOTP code of the
 *                 current step; every login uses a user that has not signed in yet, so no TOTP step
 *                 is ever replayed. Latency: the three requests.
 *   verification  POST /v1/tenants/:t/verifications {customerId, interactionId}, POST .../codes
 *                 (email), the customer reads the code (one SELECT on the outbox through this
 *                 process's own pg connection), POST .../codes/check. Latency: start + send + check
 *                 (the customer's read is reported separately and left out). A customer is in at most
 *                 one flow at a time; customers and agents are taken round-robin.
 *   search        GET /v1/tenants/:t/customers?by=phone&q=<E.164> for a random real customer; the
 *                 answer must hold exactly that customer.
 *
 * The first `warmup` operations of a run are not measured. Protocol (IPC): {type:'init'}, then
 * {type:'run'} per run, then {type:'exit'}; the child answers 'ready' and 'result'.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { hotp, TOTP_PERIOD } from '../src/methods/totp/core.js';

// As in bench/verification-client.ts (not imported: importing it would install its IPC handler here).
const READ_CODE_SQL = 'SELECT body FROM outbox WHERE tenant_id = $1 AND recipient = $2 ORDER BY created_at DESC LIMIT 1';
const codeIn = (body: string | null | undefined) => /code is (\d{4,10})/.exec(body ?? '')?.[1];

export interface ScaleCustomer {
  id: string;
  emailContactId: string;
  email: string;
  phone: string;
}
export interface ScaleTarget {
  url: string;
  tenant: string;
  tenantId: string;
  password: string;
  /** Users with an active TOTP factor that have never signed in (each is used once). */
  users: Array<{ email: string; secretHex: string }>;
  agentTokens: string[];
  customers: ScaleCustomer[];
  /** PostgreSQL URL for the customer's read of the code. */
  readUrl: string;
}
export type Op = 'signin' | 'verification' | 'search';
export type ToClient =
  | { type: 'init'; targets: Record<string, ScaleTarget> }
  | { type: 'run'; target: string; op: Op; count: number; warmup: number; concurrency: number }
  | { type: 'exit' };
export interface ScaleRunResult {
  type: 'result';
  target: string;
  op: Op;
  /** Measured operations that succeeded, and their latencies (ms), sorted. */
  latencies: number[];
  /** Per step (ms, sorted): signin flows/password/factor; verification start/send/read/check; search: request. */
  steps: Record<string, number[]>;
  errors: Record<string, number>;
  /** Failures among the unmeasured operations. */
  warmupErrors: Record<string, number>;
  /** Wall time of the measured part (from the first measured operation's start to the last's end). */
  wallMs: number;
  clientCpuMs: number;
}
export type FromClient = { type: 'ready' } | ScaleRunResult | { type: 'fatal'; message: string };

class OpError extends Error {
  constructor(readonly key: string) {
    super(key);
  }
}

async function call(url: string, init: { method?: string; token?: string; flow?: string; body?: unknown }, what: string): Promise<Record<string, any>> {
  const headers: Record<string, string> = { 'user-agent': 'callwarden-bench' };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.flow) headers['x-flow-token'] = init.flow;
  const res = await fetch(url, { method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'), headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
  const text = await res.text();
  let json: Record<string, any> = {};
  try {
    json = JSON.parse(text) as Record<string, any>;
  } catch {
    /* not JSON */
  }
  if (res.status >= 300) throw new OpError(`${what}: ${res.status} ${json.error?.code ?? json.code ?? text.slice(0, 60)}`);
  return json;
}

let targets: Record<string, ScaleTarget> = {};
const state = new Map<string, { nextUser: number; nextAgent: number; idle: ScaleCustomer[]; read: pg.Pool }>();

function stateOf(name: string) {
  let st = state.get(name);
  if (!st) {
    const t = targets[name]!;
    const read = new pg.Pool({ connectionString: t.readUrl, max: 8, application_name: 'callwarden-bench-customer' });
    read.on('error', () => undefined);
    st = { nextUser: 0, nextAgent: 0, idle: [...t.customers], read };
    state.set(name, st);
  }
  return st;
}

type Timed = { total: number; steps: Record<string, number> };

async function signin(t: ScaleTarget, st: ReturnType<typeof stateOf>): Promise<Timed> {
  const user = t.users[st.nextUser++];
  if (!user) throw new OpError('no unused user left');
  const t0 = performance.now();
  const started = await call(`${t.url}/v1/auth/flows`, { body: { tenant: t.tenant, identifier: user.email } }, 'flows');
  const t1 = performance.now();
  const pw = await call(`${t.url}/v1/auth/flows/${started.flow?.id}/password`, { flow: started.flowToken, body: { password: t.password } }, 'password');
  const t2 = performance.now();
  const code = hotp(Buffer.from(user.secretHex, 'hex'), Math.floor(Date.now() / (TOTP_PERIOD * 1000)));
  const done = await call(`${t.url}/v1/auth/flows/${started.flow?.id}/factor`, { flow: pw.flowToken ?? started.flowToken, body: { method: 'totp', code } }, 'factor');
  const t3 = performance.now();
  if (typeof done.session?.token !== 'string') throw new OpError(`factor: no session (${done.flow?.state})`);
  return { total: t3 - t0, steps: { flows: t1 - t0, password: t2 - t1, factor: t3 - t2 } };
}

async function verification(t: ScaleTarget, st: ReturnType<typeof stateOf>): Promise<Timed> {
  const customer = st.idle.shift();
  if (!customer) throw new OpError('no idle customer (more clients than customers)');
  const token = t.agentTokens[st.nextAgent++ % t.agentTokens.length]!;
  try {
    const base = `${t.url}/v1/tenants/${t.tenant}/verifications`;
    const t0 = performance.now();
    const v = await call(base, { token, body: { customerId: customer.id, interactionId: `bench-call-${randomUUID()}` } }, 'start');
    const t1 = performance.now();
    await call(`${base}/${v.id}/codes`, { token, body: { contactId: customer.emailContactId, channel: 'email' } }, 'send');
    const t2 = performance.now();
    const body = (await st.read.query<{ body: string }>(READ_CODE_SQL, [t.tenantId, customer.email])).rows[0]?.body;
    const code = codeIn(body);
    if (!code) throw new OpError('read: no code in the outbox');
    const t3 = performance.now();
    const done = await call(`${base}/${v.id}/codes/check`, { token, body: { code } }, 'check');
    const t4 = performance.now();
    if (done.state !== 'verified') throw new OpError(`check: state ${done.state}`);
    return { total: t2 - t0 + (t4 - t3), steps: { start: t1 - t0, send: t2 - t1, read: t3 - t2, check: t4 - t3 } };
  } finally {
    st.idle.push(customer);
  }
}

async function search(t: ScaleTarget, st: ReturnType<typeof stateOf>): Promise<Timed> {
  const customer = t.customers[Math.floor(Math.random() * t.customers.length)]!;
  const token = t.agentTokens[st.nextAgent++ % t.agentTokens.length]!;
  const t0 = performance.now();
  const r = await call(`${t.url}/v1/tenants/${t.tenant}/customers?by=phone&q=${encodeURIComponent(customer.phone)}`, { token }, 'search');
  const t1 = performance.now();
  const found = r.customers as Array<{ id: string }> | undefined;
  if (found?.length !== 1 || found[0]!.id !== customer.id) throw new OpError(`search: ${found?.length ?? 0} results`);
  return { total: t1 - t0, steps: { request: t1 - t0 } };
}

async function run(m: Extract<ToClient, { type: 'run' }>): Promise<ScaleRunResult> {
  const t = targets[m.target];
  if (!t) throw new Error(`unknown target ${m.target}`);
  const st = stateOf(m.target);
  const fn = m.op === 'signin' ? signin : m.op === 'verification' ? verification : search;
  const latencies: number[] = [];
  const steps: Record<string, number[]> = {};
  const errors: Record<string, number> = {};
  const warmupErrors: Record<string, number> = {};
  const total = m.warmup + m.count;
  let issued = 0;
  let measuredStart = Infinity;
  let measuredEnd = 0;
  let cpu0: NodeJS.CpuUsage | undefined;
  await Promise.all(
    Array.from({ length: m.concurrency }, async () => {
      while (issued < total) {
        const i = issued++;
        const measured = i >= m.warmup;
        if (measured && !cpu0) cpu0 = process.cpuUsage();
        const s0 = performance.now();
        try {
          const r = await fn(t, st);
          if (measured) {
            latencies.push(r.total);
            for (const [k, v] of Object.entries(r.steps)) (steps[k] ??= []).push(v);
          }
        } catch (e) {
          const key = e instanceof OpError ? e.key : ((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message);
          const into = measured ? errors : warmupErrors;
          into[key] = (into[key] ?? 0) + 1;
        }
        if (measured) {
          measuredStart = Math.min(measuredStart, s0);
          measuredEnd = Math.max(measuredEnd, performance.now());
        }
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  for (const v of Object.values(steps)) v.sort((a, b) => a - b);
  return { type: 'result', target: m.target, op: m.op, latencies, steps, errors, warmupErrors, wallMs: Math.max(0, measuredEnd - measuredStart), clientCpuMs: (cpu.user + cpu.system) / 1000 };
}

process.on('message', (raw) => {
  const m = raw as ToClient;
  if (m.type === 'init') {
    targets = m.targets;
    process.send!({ type: 'ready' } satisfies FromClient);
  } else if (m.type === 'run') {
    run(m).then(
      (r) => process.send!(r),
      (e: Error) => process.send!({ type: 'fatal', message: e.stack ?? e.message } satisfies FromClient),
    );
  } else if (m.type === 'exit') {
    void Promise.all([...state.values()].map((s) => s.read.end())).finally(() => process.disconnect());
  }
});
