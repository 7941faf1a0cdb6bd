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

/** p50 / p95 / max of a list of milliseconds. */
export function percentiles(ms: number[]): { n: number; p50: number; p95: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]!) : 0);
  return { n: s.length, p50: at(0.5), p95: at(0.95), max: s.length ? Math.round(s[s.length - 1]!) : 0 };
}

export * from './consistency.js';
export * from './flaky-peer.js';
export * from './own-services.js';
