/**
 * Shared pieces of the fault suite (`npm run test:faults`): a PostgreSQL server and a Redis of the
 * test's own (so that they can be stopped, restarted and frozen without touching the shared ones),
 * a tenant set up over the HTTP API of real `callwarden serve` processes (test/multi-instance/
 * cluster.ts), timed requests, and the consistency checks every scenario ends with (no half-written
 * verification or sign-in flow, every event a client saw committed is stored, the audit chain
 * verifies once everything is sealed).
 *
 * The scenarios need PostgreSQL's server binaries (/usr/lib/postgresql/<version>/bin), redis-server
 * and the PostgreSQL on 127.0.0.1:5432 (for throw-away databases); without them a scenario is skipped,
 * except in CI (CI set), where a missing one fails the suite.
 */
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

export const inCi = !!process.env.CI && process.env.CI !== 'false';

export const OPERATOR = { email: 'ops@faults.test', password: 'faults are facts of life 2026' };
export const PASSWORD = 'correct horse battery staple 42';

/** Environment shared by every instance of the suite (cheap argon2, limits out of the way unless a test lowers them). */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    CALLWARDEN_MODE: 'dev', // the dev outbox API is how the clients read codes and setup links
    CALLWARDEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    CALLWARDEN_HOST: '127.0.0.1',
    CALLWARDEN_TRUST_PROXY: 'true',
    CALLWARDEN_BOOTSTRAP_ADMIN_EMAIL: OPERATOR.email,
    CALLWARDEN_BOOTSTRAP_ADMIN_PASSWORD: OPERATOR.password,
    CALLWARDEN_ARGON2_MEMORY_KIB: '8192',
    CALLWARDEN_ARGON2_ITERATIONS: '1',
    CALLWARDEN_IP_ATTEMPTS_PER_MINUTE: '100000',
    CALLWARDEN_IDENTIFIER_ATTEMPTS_PER_MINUTE: '100000',
    CALLWARDEN_LOG_LEVEL: 'info',
    CALLWARDEN_AUDIT_SEAL_INTERVAL_MS: '200',
    CALLWARDEN_DELIVERY_INTERVAL_MS: '200',
    ...extra,
  };
}

/** Fails in CI, or returns the reason to skip elsewhere. */
export function requirements(have: Record<string, boolean>, suite: string): { ready: boolean; missing: string[] } {
  const missing = Object.entries(have).filter(([, ok]) => !ok).map(([name]) => name);
  if (missing.length && inCi) throw new Error(`CI needs ${missing.join(', ')} for the fault suite (${suite})`);
  if (missing.length) console.warn(`${suite}: skipped, missing ${missing.join(', ')}`);
  return { ready: missing.length === 0, missing };
}

// ---------------------------------------------------------------------------------------------
// Timing

/** Prints phase timings as the scenario goes, and a summary line at the end. */
export function stopwatch(name: string) {
  const t0 = Date.now();
  let last = t0;
  const phases: Record<string, number> = {};
  return {
    /** Milliseconds since the scenario started. */
    now: () => Date.now() - t0,
    lap(phase: string) {
      const t = Date.now();
      phases[phase] = t - last;
      last = t;
    },
    summary() {
      const total = Date.now() - t0;
      console.info(`${name}: ${(total / 1000).toFixed(1)} s in all; ${Object.entries(phases).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')}`);
      return { totalMs: total, phases };
    },
  };
}

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

// ---------------------------------------------------------------------------------------------
// HTTP

export interface Timed extends Reply {
  ms: number;
  requestId: string;
}

/** Give up waiting for an answer after this long (the request is left to itself): a hang shows as status 0. */
export const CLIENT_TIMEOUT_MS = 15_000;

/** A call that never throws: a network error or no answer within `timeoutMs` comes back as status 0 with the error text. */
export async function timed(target: Target, method: string, path: string, o: CallOptions & { timeoutMs?: number } = {}): Promise<Timed> {
  const requestId = o.requestId ?? randomUUID();
  const t0 = performance.now();
  const limit = o.timeoutMs ?? CLIENT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  try {
    const r = await Promise.race([
      call(target, method, path, { ...o, requestId }),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${limit} ms`)), limit))),
    ]);
    return { ...r, ms: performance.now() - t0, requestId };
  } catch (e) {
    return { status: 0, headers: {}, text: (e as Error).message, body: { code: 'network_error', message: (e as Error).message }, ms: performance.now() - t0, requestId };
  } finally {
    clearTimeout(timer);
  }
}

export const post = (t: Target, path: string, body: unknown = {}, o: CallOptions & { timeoutMs?: number } = {}) => timed(t, 'POST', path, { ...o, body });
export const get = (t: Target, path: string, o: CallOptions & { timeoutMs?: number } = {}) => timed(t, 'GET', path, o);

export function expectStatus(r: Reply, status: number, what: string): Record<string, any> {
  if (r.status !== status) throw new Error(`${what}: ${r.status} ${r.text.slice(0, 500)}`);
  return r.body;
}

/** Password-only sign-in; returns the session token. */
export async function signIn(t: Target, tenant: string, email: string, password = PASSWORD): Promise<string> {
  const start = expectStatus(await post(t, '/v1/auth/flows', { tenant, identifier: email }), 201, `start ${email}`);
  const pw = expectStatus(await post(t, `/v1/auth/flows/${start.flow.id}/password`, { password }, { flow: start.flowToken }), 200, `password ${email}`);
  if (pw.flow.state !== 'completed') throw new Error(`sign-in of ${email} stopped at ${pw.flow.state}`);
  return pw.session.token as string;
}

/** Distinct, valid, fictional (555-01xx) phone numbers. */
export function phoneNumber(i: number): string {
  const areas = ['415', '212', '312', '646', '718', '617', '206', '303'];
  return `+1${areas[Math.floor(i / 100) % areas.length]}55501${String(i % 100).padStart(2, '0')}`;
}

export interface Customer {
  id: string;
  phone: string;
  phoneId: string;
}

export interface Tenant {
  slug: string;
  op: string;
  admin: string;
  agents: string[];
  agentEmails: string[];
  customers: Customer[];
}

/**
 * Over the API of `t` (and `other` for the reads, when given): the bootstrapped operator signs in,
 * creates a tenant (MFA optional), invites an administrator and `agents` agents who accept their
 * setup links and sign in with a password, relaxes the caller-code send limits (no resend cooldown,
 * high per-agent and per-tenant send rates: the load is many calls, not abuse), and creates
 * `customers` customers, each with a phone number of its own so that the outbox read by recipient
 * gives each flow its own code.
 */
export async function setupTenant(t: Target, o: { slug?: string; agents?: number; customers?: number; other?: Target } = {}): Promise<Tenant> {
  const slug = o.slug ?? 'acme';
  const reader = o.other ?? t;
  const op = await signIn(t, 'platform', OPERATOR.email, OPERATOR.password);
  expectStatus(await post(t, '/v1/tenants', { slug, name: `${slug} contact center`, mfaMode: 'optional' }, { token: op }), 201, 'tenant');
  const invite = async (email: string, roles: string[]) => {
    expectStatus(await post(t, `/v1/tenants/${slug}/users`, { email, roles }, { token: op }), 201, `invite ${email}`);
    const box = expectStatus(await get(reader, `/v1/tenants/${slug}/outbox?recipient=${encodeURIComponent(email)}`, { token: op }), 200, 'outbox');
    const token = /token=([\w-]+)/.exec(box.messages.find((m: { template: string }) => m.template === 'invitation')?.body ?? '')?.[1];
    if (!token) throw new Error(`no setup link for ${email}`);
    expectStatus(await post(t, '/v1/invitations/accept', { token, password: PASSWORD }), 200, `accept ${email}`);
  };
  const adminEmail = `admin@${slug}.test`;
  await invite(adminEmail, ['tenant_admin']);
  const agentEmails = Array.from({ length: o.agents ?? 2 }, (_, i) => `agent${i}@${slug}.test`);
  for (const e of agentEmails) await invite(e, ['agent']);
  const admin = await signIn(t, slug, adminEmail);
  const agents: string[] = [];
  for (const e of agentEmails) agents.push(await signIn(reader, slug, e));

  const cur = expectStatus(await get(t, `/v1/tenants/${slug}/policy`, { token: admin }), 200, 'policy');
  const policy = structuredClone(cur.policy);
  policy.verification = {
    ...policy.verification,
    code: { ...policy.verification.code, resendCooldownSeconds: 0, sendsPerDestinationPer10Min: 20 },
    limits: { sendsPerAgentPerMinute: 1000, sendsPerTenantPerMinute: 100_000 },
    risk: { ...policy.verification.risk, stepUpAtScore: 100 },
  };
  expectStatus(await timed(t, 'PUT', `/v1/tenants/${slug}/policy`, { token: admin, body: { version: cur.version, policy } }), 200, 'policy');

  const customers: Customer[] = [];
  const n = o.customers ?? 0;
  for (let i = 0; i < n; i += 8) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(8, n - i) }, (_, j) =>
        post(i % 16 ? reader : t, `/v1/tenants/${slug}/customers`, { externalId: `CRM-${i + j}`, name: `Customer ${i + j}`, contacts: [{ kind: 'phone', value: phoneNumber(i + j) }] }, { token: admin }),
      ),
    );
    for (const [j, r] of batch.entries()) {
      const c = expectStatus(r, 201, `customer ${i + j}`);
      const phone = (c.contacts as Array<{ id: string; kind: string; value?: string }>).find((x) => x.kind === 'phone')!;
      customers.push({ id: c.id, phone: phoneNumber(i + j), phoneId: phone.id });
    }
  }
  return { slug, op, admin, agents, agentEmails, customers };
}

/** The newest caller code sent to `phone`, read through the dev outbox API. */
export async function readCode(t: Target, tenant: Tenant, phone: string): Promise<{ code?: string; reply: Timed }> {
  const reply = await get(t, `/v1/tenants/${tenant.slug}/outbox?recipient=${encodeURIComponent(phone)}&limit=1`, { token: tenant.admin });
  const code = reply.status === 200 ? /code is (\d{6})/.exec(reply.body.messages?.[0]?.body ?? '')?.[1] : undefined;
  return { code, reply };
}

// ---------------------------------------------------------------------------------------------
// Checks

/** Waits until every audit event is sealed (by whichever sealer runs), then verifies the chains. */
export async function sealedAndVerified(db: Db, timeoutMs = 15_000): Promise<{ report: VerifyReport; unsealed: number; sealed: number; waitedMs: number }> {
  const t0 = Date.now();
  let unsealed = -1;
  while (Date.now() - t0 < timeoutMs) {
    unsealed = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_events WHERE chain_seq IS NULL`.execute(db)).rows[0]!.n;
    if (unsealed === 0) break;
    await sleep(100);
  }
  const report = await verifyChain(db);
  return { report, unsealed, sealed: report.tenants.reduce((n, t) => n + t.sealed, 0), waitedMs: Date.now() - t0 };
}

/** What a client saw committed: a 2xx answer and the audit event types that answer promises. */
export interface Seen {
  requestId: string;
  types: string[];
  targetId?: string;
}

/** The events of `seen` missing from audit_events (matched on request id and type). */
export async function missingEvents(db: Db, seen: Seen[]): Promise<Seen[]> {
  if (seen.length === 0) return [];
  const rows = await sql<{ request_id: string; type: string; target_id: string | null }>`
    SELECT request_id, type, target_id FROM audit_events WHERE request_id = ANY(${seen.map((s) => s.requestId)}::text[])`.execute(db);
  const have = new Set(rows.rows.map((r) => `${r.request_id} ${r.type}`));
  return seen.filter((s) => s.types.some((t) => !have.has(`${s.requestId} ${t}`)));
}

export interface VerificationAudit {
  verifications: number;
  byState: Record<string, number>;
  /** Flows whose rows disagree with each other: described one per line. */
  problems: string[];
  /** Flows created but never reported to a client (a crash between the row and its event): pending, no code, no event. */
  abandoned: number;
}

/**
 * Every caller verification of the tenant must be whole: verified <=> verified_at and assertion id set
 * <=> the level's method recorded <=> its code consumed <=> one `verification.verified` event;
 * a pending flow has no recorded method and no consumed code; every code row has its outbox message
 * (each customer here has a phone number of its own) and its `verification.code_sent` event.
 */
export async function verificationConsistency(db: Db, tenantSlug: string): Promise<VerificationAudit> {
  const rows = await sql<{
    id: string;
    state: string;
    completed_methods: string[];
    verified_at: Date | null;
    assertion_id: string | null;
    attempts_left: number;
    codes: number;
    consumed: number;
    started_events: number;
    verified_events: number;
    step_successes: number;
    code_sent_events: number;
  }>`
    SELECT v.id, v.state, v.completed_methods, v.verified_at, v.assertion_id, v.attempts_left,
      (SELECT count(*)::int FROM verification_codes c WHERE c.verification_id = v.id) AS codes,
      (SELECT count(*)::int FROM verification_codes c WHERE c.verification_id = v.id AND c.consumed_at IS NOT NULL) AS consumed,
      (SELECT count(*)::int FROM audit_events e WHERE e.target_id = v.id::text AND e.type = 'verification.started') AS started_events,
      (SELECT count(*)::int FROM audit_events e WHERE e.target_id = v.id::text AND e.type = 'verification.verified') AS verified_events,
      (SELECT count(*)::int FROM audit_events e WHERE e.target_id = v.id::text AND e.type = 'verification.step' AND e.outcome = 'success') AS step_successes,
      (SELECT count(*)::int FROM audit_events e WHERE e.target_id = v.id::text AND e.type = 'verification.code_sent') AS code_sent_events
    FROM verifications v JOIN tenants t ON t.id = v.tenant_id
    WHERE t.slug = ${tenantSlug}`.execute(db);
  const problems: string[] = [];
  const byState: Record<string, number> = {};
  let abandoned = 0;
  for (const v of rows.rows) {
    byState[v.state] = (byState[v.state] ?? 0) + 1;
    const say = (what: string) => problems.push(`${v.id} (${v.state}, methods ${JSON.stringify(v.completed_methods)}, codes ${v.codes}, consumed ${v.consumed}, events started/step/verified ${v.started_events}/${v.step_successes}/${v.verified_events}): ${what}`);
    if (v.state === 'verified') {
      if (!v.verified_at || !v.assertion_id) say('verified without verified_at or assertion id');
      if (!v.completed_methods.includes('otp_sms')) say('verified without the method recorded');
      if (v.consumed !== 1) say('verified, but not exactly one code consumed');
      if (v.verified_events !== 1) say('verified, but not exactly one verification.verified event');
      if (v.step_successes < 1) say('verified without a successful step event');
    } else if (v.state === 'pending') {
      if (v.completed_methods.length) say('pending with a method recorded (the level is met by one code)');
      if (v.consumed) say('pending with a consumed code');
      if (v.verified_at || v.assertion_id) say('pending with verification stamps');
      if (v.verified_events || v.step_successes) say('pending with success events');
      if (v.started_events === 0) {
        if (v.codes === 0) abandoned++;
        else say('codes sent for a flow with no verification.started event');
      }
    } else say(`unexpected state ${v.state}`);
    if (v.started_events > 1) say('more than one verification.started event');
    if (v.code_sent_events !== v.codes) say(`${v.codes} codes but ${v.code_sent_events} verification.code_sent events`);
  }
  // every code row has its message: per phone number, as many outbox messages as codes
  const pairs = await sql<{ recipient: string; codes: number; messages: number }>`
    WITH c AS (
      SELECT ct.value AS recipient, count(*)::int AS n FROM verification_codes vc JOIN customer_contacts ct ON ct.id = vc.contact_id
      JOIN tenants t ON t.id = vc.tenant_id WHERE t.slug = ${tenantSlug} GROUP BY ct.value
    ), m AS (
      SELECT o.recipient, count(*)::int AS n FROM outbox o JOIN tenants t ON t.id = o.tenant_id
      WHERE t.slug = ${tenantSlug} AND o.template LIKE 'verification_code_%' GROUP BY o.recipient
    )
    SELECT coalesce(c.recipient, m.recipient) AS recipient, coalesce(c.n, 0) AS codes, coalesce(m.n, 0) AS messages
    FROM c FULL JOIN m ON m.recipient = c.recipient`.execute(db);
  for (const p of pairs.rows) if (p.codes !== p.messages) problems.push(`${p.recipient}: ${p.codes} code rows but ${p.messages} outbox messages`);
  return { verifications: rows.rows.length, byState, problems, abandoned };
}

export interface SigninAudit {
  flows: number;
  byState: Record<string, number>;
  problems: string[];
  /**
   * Flows marked completed whose session was never issued: the connection died between the flow's
   * step and the session's statement (two statements; see docs/faults.md). Nothing was issued and
   * nothing logged as a success; the flow's token is gone, so the client starts again. Counted, not
   * a failure.
   */
  deadEnds: number;
}

/**
 * Every sign-in flow must be whole: a flow still at the password step has no success recorded; a
 * successful step has exactly one `auth.attempt` success event, written in one statement with its
 * session and `session.created`, so a success event always comes with its session.
 */
export async function signinConsistency(db: Db, tenantSlug: string): Promise<SigninAudit> {
  const rows = await sql<{ id: string; state: string; completed_methods: string[]; successes: number; sessions_from_flow: number }>`
    SELECT f.id, f.state, f.completed_methods,
      (SELECT count(*)::int FROM audit_events e WHERE e.target_id = f.id::text AND e.type = 'auth.attempt' AND e.outcome = 'success') AS successes,
      (SELECT count(*)::int FROM audit_events e JOIN audit_events s ON s.request_id = e.request_id AND s.type = 'session.created'
        WHERE e.target_id = f.id::text AND e.type = 'auth.attempt' AND e.outcome = 'success') AS sessions_from_flow
    FROM auth_flows f JOIN tenants t ON t.id = f.tenant_id
    WHERE t.slug = ${tenantSlug} AND f.kind = 'signin'`.execute(db);
  const problems: string[] = [];
  const byState: Record<string, number> = {};
  let deadEnds = 0;
  for (const f of rows.rows) {
    byState[f.state] = (byState[f.state] ?? 0) + 1;
    const say = (what: string) => problems.push(`flow ${f.id} (${f.state}, methods ${JSON.stringify(f.completed_methods)}, success events ${f.successes}, sessions ${f.sessions_from_flow}): ${what}`);
    if (f.state === 'password') {
      if (f.completed_methods.length || f.successes) say('still at the password step with a success recorded');
    } else if (f.state === 'completed') {
      if (f.successes === 0 && f.sessions_from_flow === 0) deadEnds++;
      else if (f.successes !== 1 || f.sessions_from_flow !== 1) say('completed without exactly one success event and its session');
    }
  }
  return { flows: rows.rows.length, byState, problems, deadEnds };
}

/** p50 / p95 / max of a list of milliseconds. */
export function percentiles(ms: number[]): { n: number; p50: number; p95: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]!) : 0);
  return { n: s.length, p50: at(0.5), p95: at(0.95), max: s.length ? Math.round(s[s.length - 1]!) : 0 };
}

// ---------------------------------------------------------------------------------------------
// A provider that can fail

export type PeerMode = 'ok' | 'unavailable' | 'refusing';

export interface PeerRequest {
  at: number;
  messageId: string;
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface FlakyPeer {
  url: string;
  port: number;
  requests: PeerRequest[];
  mode(): PeerMode;
  /** 'ok': 200; 'unavailable': 503; 'refusing': the port is closed (connections refused). */
  set(mode: PeerMode): Promise<void>;
  close(): Promise<void>;
}

/** An SMS/webhook provider on a fixed loopback port whose availability the test switches. */
export async function flakyPeer(messageIdHeader: string): Promise<FlakyPeer> {
  const { createServer } = await import('node:http');
  const port = await freePort();
  const requests: PeerRequest[] = [];
  let mode: PeerMode = 'ok';
  const t0 = Date.now();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = mode === 'ok' ? 200 : 503;
      const messageId = String(req.headers[messageIdHeader] ?? '');
      requests.push({ at: Date.now() - t0, messageId, status, body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status === 200 ? { id: `rcv-${messageId}` } : { error: 'service_unavailable' }));
    });
  });
  const listen = () => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const unlisten = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    mode: () => mode,
    async set(next) {
      if (next === mode) return;
      if (next === 'refusing') await unlisten();
      else if (mode === 'refusing') await listen();
      mode = next;
    },
    async close() {
      if (mode !== 'refusing') await unlisten();
      mode = 'refusing';
    },
  };
}
