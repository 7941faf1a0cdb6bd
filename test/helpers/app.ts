/**
 * A Callwarden server for tests: in-memory PGlite (or a throw-away PostgreSQL database), a clock the
 * test can move, and small helpers that walk the real HTTP API (operator -> tenant -> invited user ->
 * password -> TOTP), so tests exercise what users do.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { loadConfig, type Config } from '../../src/config/load.js';
import { totpAt } from '../../src/methods/totp/core.js';
import { buildApp } from '../../src/http/app.js';
import { createServices, type Services } from '../../src/services/context.js';
import { createOperator } from '../../src/services/tenants.js';
import { Secret } from 'otpauth';
import { testStore, type Backend } from './db.js';

export const OPERATOR = { email: 'operator@callwarden.test', password: 'platform keeper passphrase 2026' };
export const STRONG = 'correct horse battery staple 42';

export interface TestApp {
  app: FastifyInstance;
  s: Services;
  clock: { now: () => Date; advance: (ms: number) => void };
  close(): Promise<void>;
}

export async function testApp(o: { backend?: Backend; env?: Record<string, string> } = {}): Promise<TestApp> {
  const store = await testStore(o.backend ?? 'pglite');
  const config: Config = loadConfig({
    CALLWARDEN_DATA_DIR: 'memory:',
    CALLWARDEN_LOG_LEVEL: 'silent',
    CALLWARDEN_ARGON2_MEMORY_KIB: '8192',
    CALLWARDEN_ARGON2_ITERATIONS: '1',
    CALLWARDEN_IP_ATTEMPTS_PER_MINUTE: '100000',
    CALLWARDEN_IDENTIFIER_ATTEMPTS_PER_MINUTE: '100000',
    ...o.env,
  });
  let offset = 0;
  const clock = { now: () => new Date(Date.now() + offset), advance: (ms: number) => void (offset += ms) };
  const s = createServices(config, store, { clock: clock.now });
  const app = await buildApp(s, { logger: false });
  return { app, s, clock, close: async () => { await app.close(); await store.close(); } };
}

export type Res = LightMyRequestResponse & { body: string };
export const json = (r: LightMyRequestResponse) => r.json() as Record<string, any>;

export function api(app: FastifyInstance) {
  const call = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, o: { token?: string; flow?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    app.inject({
      method,
      url,
      headers: { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...(o.flow ? { 'x-flow-token': o.flow } : {}), ...o.headers },
      ...(o.body !== undefined ? { payload: o.body as object } : {}),
    });
  return {
    get: (url: string, o?: Parameters<typeof call>[2]) => call('GET', url, o),
    post: (url: string, o?: Parameters<typeof call>[2]) => call('POST', url, { body: {}, ...o }),
    put: (url: string, o?: Parameters<typeof call>[2]) => call('PUT', url, o),
    patch: (url: string, o?: Parameters<typeof call>[2]) => call('PATCH', url, o),
    del: (url: string, o?: Parameters<typeof call>[2]) => call('DELETE', url, o),
  };
}

/** Password step (and a TOTP step when asked); returns the final response and the session token. */
export async function signIn(app: FastifyInstance, tenant: string, email: string, password: string, totpSecret?: string, at?: Date) {
  const a = api(app);
  const start = json(await a.post('/v1/auth/flows', { body: { tenant, identifier: email } }));
  const pw = await a.post(`/v1/auth/flows/${start.flow.id}/password`, { flow: start.flowToken, body: { password } });
  if (pw.statusCode !== 200 || !totpSecret || json(pw).flow.state !== 'second_factor') return { res: pw, token: json(pw).session?.token as string | undefined, flow: json(pw) };
  const code = totpAt(Buffer.from(Secret.fromBase32(totpSecret).buffer), at ?? new Date());
  const f = await a.post(`/v1/auth/flows/${start.flow.id}/factor`, { flow: json(pw).flowToken, body: { method: 'totp', code } });
  return { res: f, token: json(f).session?.token as string | undefined, flow: json(f) };
}

/** The setup token in the newest invitation to `email` (read through the dev outbox store). */
export async function invitationToken(s: Services, email: string): Promise<string> {
  const [m] = await s.store.outbox.list({ recipient: email, limit: 10 }).then((r) => r.filter((x) => x.template === 'invitation'));
  const token = /#token=([\w-]+)/.exec(m?.body ?? '')?.[1];
  if (!token) throw new Error(`no invitation for ${email}`);
  return token;
}

/** Operator + tenant + one user of each given role, all with passwords set. Returns tokens. */
export async function seed(t: TestApp, o: { tenant?: string; mfaMode?: 'off' | 'optional' | 'required'; users?: Array<{ email: string; roles: string[] }> } = {}) {
  const a = api(t.app);
  await createOperator(t.s, { email: OPERATOR.email, password: OPERATOR.password, origin: { ip: null, userAgent: null, requestId: null, channel: 'system' } }).catch((e: { code?: string }) => { if (e.code !== 'already_exists') throw e; });
  const op = await signIn(t.app, 'platform', OPERATOR.email, OPERATOR.password);
  const slug = o.tenant ?? 'acme';
  const created = await a.post('/v1/tenants', { token: op.token, body: { slug, name: `${slug} Contact Center`, mfaMode: o.mfaMode ?? 'optional' } });
  if (created.statusCode !== 201) throw new Error(`tenant: ${created.body}`);
  const users: Record<string, { id: string; token?: string }> = {};
  for (const u of o.users ?? []) {
    const inv = await a.post(`/v1/tenants/${slug}/users`, { token: op.token, body: { email: u.email, roles: u.roles } });
    if (inv.statusCode !== 201) throw new Error(`invite: ${inv.body}`);
    const acc = await a.post('/v1/invitations/accept', { body: { token: await invitationToken(t.s, u.email), password: STRONG } });
    if (acc.statusCode !== 200) throw new Error(`accept: ${acc.body}`);
    const si = await signIn(t.app, slug, u.email, STRONG);
    users[u.email] = { id: json(inv).id, token: si.token };
  }
  return { operatorToken: op.token!, tenant: slug, tenantId: json(created).tenant.id as string, users };
}

/** Enrolls TOTP for a signed-in user through the API; returns the base32 secret and recovery codes. */
export async function enrollTotp(t: TestApp, token: string) {
  const a = api(t.app);
  const begin = await a.post('/v1/me/factors/totp', { token });
  if (begin.statusCode !== 201) throw new Error(`enroll: ${begin.body}`);
  const b = json(begin);
  const code = totpAt(Buffer.from(Secret.fromBase32(b.secret).buffer), t.clock.now());
  const conf = await a.post(`/v1/me/factors/totp/${b.factorId}/confirm`, { token, body: { code } });
  if (conf.statusCode !== 200) throw new Error(`confirm: ${conf.body}`);
  return { secret: b.secret as string, recoveryCodes: json(conf).recoveryCodes as string[], factorId: b.factorId as string };
}
