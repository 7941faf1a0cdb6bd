/**
 * Step-by-step sign-in helpers for the security suite: each step on its own, so tests can replay,
 * race and mix steps the way an attacker would. They walk the real HTTP API like ./app.ts does.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Secret } from 'otpauth';
import { queryEvents, type AuditRecord } from '../../src/audit/query.js';
import { matchTotpStep, totpAt } from '../../src/methods/totp/core.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { vi } from 'vitest';
import { api, enrollTotp, json, signIn, STRONG, type TestApp } from './app.js';
import { postgresAvailable, type Backend } from './db.js';

const secretBytes = (base32: string) => Buffer.from(Secret.fromBase32(base32).buffer);

/** The code an authenticator app shows at `at`. */
export const totpFor = (secret: string, at: Date): string => totpAt(secretBytes(secret), at);

/** A well-formed code the server would refuse at `at` (it matches no step within the drift window). */
export function wrongTotp(secret: string, at: Date, seed = 0): string {
  for (let i = seed; ; i++) {
    const code = String((i * 7_919 + 123_456) % 1_000_000).padStart(6, '0');
    if (matchTotpStep(secretBytes(secret), code, at) === null) return code;
  }
}

export interface FlowHandle {
  id: string;
  token: string;
}

/** POST /v1/auth/flows; `remoteAddress` sets the client address the server sees. */
export async function startFlow(app: FastifyInstance, tenant: string, identifier: string, o: { remoteAddress?: string } = {}) {
  const res = await app.inject({ method: 'POST', url: '/v1/auth/flows', payload: { tenant, identifier }, ...(o.remoteAddress ? { remoteAddress: o.remoteAddress } : {}) });
  const body = json(res);
  return { res, body, flow: { id: body.flow?.id as string, token: body.flowToken as string } satisfies FlowHandle };
}

/** The password step; `next` is the flow with the token for the following step (when there is one). */
export async function passwordStep(app: FastifyInstance, f: FlowHandle, password: string) {
  const res = await api(app).post(`/v1/auth/flows/${f.id}/password`, { flow: f.token, body: { password } });
  const body = json(res);
  return { res, body, next: { id: f.id, token: body.flowToken as string } satisfies FlowHandle };
}

/** A second-factor step (totp or recovery_code). */
export function factorStep(app: FastifyInstance, f: FlowHandle, method: string, code: string) {
  return api(app).post(`/v1/auth/flows/${f.id}/factor`, { flow: f.token, body: { method, code } });
}

/** A new flow past the password step, waiting for a second factor. */
export async function atSecondFactor(app: FastifyInstance, tenant: string, email: string, password = STRONG): Promise<FlowHandle> {
  const { flow } = await startFlow(app, tenant, email);
  const pw = await passwordStep(app, flow, password);
  if (pw.res.statusCode !== 200 || pw.body.flow.state !== 'second_factor') throw new Error(`password step: ${pw.res.statusCode} ${pw.res.body}`);
  return pw.next;
}

/**
 * Enrolls TOTP for a signed-in user, then moves the clock past the step of the enrollment code, so
 * the next sign-in gets a fresh code.
 */
export async function withTotp(t: TestApp, token: string) {
  const r = await enrollTotp(t, token);
  t.clock.advance(31_000);
  return r;
}

/** Full sign-in with password and TOTP at the test clock's time; returns the session token. */
export async function signInTotp(t: TestApp, tenant: string, email: string, secret: string): Promise<string> {
  const r = await signIn(t.app, tenant, email, STRONG, secret, t.clock.now());
  if (r.res.statusCode !== 200 || !r.token) throw new Error(`sign-in: ${r.res.statusCode} ${r.res.body}`);
  return r.token;
}

/** Password-only sign-in (users without a second factor); returns the session token. */
export async function signInPassword(app: FastifyInstance, tenant: string, email: string, password = STRONG): Promise<string> {
  const r = await signIn(app, tenant, email, password);
  if (r.res.statusCode !== 200 || !r.token) throw new Error(`sign-in: ${r.res.statusCode} ${r.res.body}`);
  return r.token;
}

/** Re-authenticates a session (password, then TOTP when a secret is given); returns the new session token. */
export async function reauthenticate(t: TestApp, token: string, secret?: string): Promise<string> {
  const start = await api(t.app).post('/v1/me/reauth', { token });
  if (start.statusCode !== 201) throw new Error(`reauth: ${start.body}`);
  const pw = await passwordStep(t.app, { id: json(start).flow.id, token: json(start).flowToken }, STRONG);
  if (pw.res.statusCode !== 200) throw new Error(`reauth password: ${pw.res.body}`);
  if (!secret) return pw.body.session.token as string;
  const f = await factorStep(t.app, pw.next, 'totp', totpFor(secret, t.clock.now()));
  if (f.statusCode !== 200) throw new Error(`reauth totp: ${f.body}`);
  return json(f).session.token as string;
}

/** Saves the tenant policy with `change` applied to the current one (optimistic version included). */
export async function updatePolicy(t: TestApp, token: string, tenant: string, change: (p: Record<string, any>) => Record<string, any>) {
  const a = api(t.app);
  const cur = json(await a.get(`/v1/tenants/${tenant}/policy`, { token }));
  const res = await a.put(`/v1/tenants/${tenant}/policy`, { token, body: { version: cur.version, policy: change(structuredClone(cur.policy)) } });
  if (res.statusCode !== 200) throw new Error(`policy: ${res.body}`);
  return json(res);
}

/** Audit events of a tenant (newest first). */
export function auditEvents(t: TestApp, tenantId: string, filter: { type?: string; outcome?: string } = {}): Promise<AuditRecord[]> {
  return queryEvents(t.s.store.db, { tenantId, limit: 1000, ...filter });
}

/** Outbox messages to one recipient with one template. */
export async function notices(t: TestApp, recipient: string, template: string) {
  return (await t.s.store.outbox.list({ recipient, limit: 200 })).filter((m) => m.template === template);
}

/** Groups responses by "status code" for compact assertions. */
export function tally(responses: LightMyRequestResponse[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of responses) {
    const code = r.statusCode === 200 ? 'ok' : (json(r).code as string);
    const k = `${r.statusCode} ${code}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/**
 * Makes `obj[method]` wait `ms` before doing its work, so that parallel requests are all inside it at
 * once (over app.inject on PGlite a request can otherwise finish before the next one starts). Returns
 * the spy: its call count shows how many requests reached that point.
 */
export function widenRace<T extends object>(obj: T, method: keyof T & string, ms = 25) {
  const original = (obj[method] as (...a: unknown[]) => Promise<unknown>).bind(obj);
  return vi.spyOn(obj as Record<string, (...a: unknown[]) => Promise<unknown>>, method).mockImplementation(async (...args: unknown[]) => {
    await sleep(ms);
    return original(...args);
  });
}

/** Backends to run race tests on: PGlite always, PostgreSQL (a real connection pool) when reachable. */
export async function raceBackends(): Promise<Backend[]> {
  return (await postgresAvailable()) ? ['pglite', 'postgres'] : ['pglite'];
}
