/**
 * Threat: a session usable after the first factor only (better-auth GHSA-xg6x-h9c9-2m83, ZITADEL
 * CVE-2025-64103). After the password step of a user who has TOTP, nothing the client holds (flow
 * tokens, flow id) opens any protected route, as a bearer token, as the session cookie or as the
 * flow header. The routes come from the OpenAPI document, so a new route is covered automatically.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, json, seed, STRONG, testApp, type TestApp } from '../helpers/app.js';
import { passwordStep, startFlow, withTotp } from '../helpers/flows.js';

/**
 * Routes anyone may call (sign-in steps, setup links, health) and the IVR routes, which take a tenant
 * API key or a Twilio signature instead of a session (checked below): everything else needs a session.
 */
const IVR = /^\/v1\/ivr\//;
const PUBLIC = [/^\/healthz$/, /^\/readyz$/, /^\/v1\/auth\//, /^\/v1\/invitations\//, /^\/v1\/tenants\/\{tenant\}\/jwks\.json$/, /^\/v1\/assertions\/check$/, IVR];

/** Valid bodies for protected routes that take one, so the request reaches authentication. */
const BODIES: Record<string, unknown> = {
  'POST /v1/tenants': { slug: 'evil', name: 'Evil' },
  'POST /v1/me/password': { currentPassword: STRONG, newPassword: 'another long passphrase 99' },
  'POST /v1/me/factors/totp/{factorId}/confirm': { code: '123456' },
  'PUT /v1/tenants/{tenant}/policy': { version: 1, policy: {} },
  'POST /v1/tenants/{tenant}/policy/preview': { policy: {} },
  'POST /v1/tenants/{tenant}/users': { email: 'mallory@acme.test', roles: ['tenant_admin'] },
  'PUT /v1/tenants/{tenant}/users/{userId}/roles': { roles: ['tenant_admin'] },
  'PUT /v1/tenants/{tenant}/roles/{name}': { permissions: ['users.read'] },
};

describe('half-signed-in session', () => {
  let t: TestApp;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const admin = 'admin@acme.test';
  let factorId: string;

  beforeAll(async () => {
    t = await testApp();
    seeded = await seed(t, { users: [{ email: admin, roles: ['tenant_admin'] }] });
    factorId = (await withTotp(t, seeded.users[admin]!.token!)).factorId;
  });
  afterAll(() => t.close());

  /** Every protected operation from the OpenAPI document (or those matching `only`), with its path parameters filled in. */
  async function protectedRoutes(only?: RegExp) {
    await t.app.ready();
    const doc = t.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    const params: Record<string, string> = { tenant: 'acme', userId: seeded.users[admin]!.id, factorId, sessionId: randomUUID(), name: 'custom_role', id: randomUUID(), keyId: randomUUID() };
    return Object.entries(doc.paths)
      .filter(([path]) => (only ? only.test(path) : !PUBLIC.some((re) => re.test(path))))
      .flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => {
          const method = m.toUpperCase() as 'GET' | 'POST' | 'PUT' | 'DELETE';
          const key = `${method} ${path}`;
          const url = path.replace(/\{(\w+)\}/g, (_, p: string) => params[p] ?? `missing-${p}`);
          const body = BODIES[key] ?? (method === 'POST' ? {} : undefined);
          return { key, method, url, body };
        }),
      );
  }

  it('covers the routes that matter', async () => {
    const keys = (await protectedRoutes()).map((r) => r.key);
    expect(keys.length).toBeGreaterThan(25);
    for (const k of ['GET /v1/me', 'GET /v1/me/factors', 'GET /v1/me/sessions', 'POST /v1/me/factors/totp', 'GET /v1/tenants/{tenant}/users', 'PUT /v1/tenants/{tenant}/policy', 'GET /v1/tenants/{tenant}/audit', 'POST /v1/tenants/{tenant}/api-keys']) {
      expect(keys).toContain(k);
    }
  });

  it('a full staff session (bearer or cookie) opens no IVR route: they take an API key or a Twilio signature', async () => {
    const token = seeded.users[admin]!.token!;
    const routes = await protectedRoutes(IVR);
    expect(routes.map((r) => r.key)).toEqual(expect.arrayContaining(['POST /v1/ivr/verifications', 'GET /v1/ivr/verifications/{id}/prompt', 'POST /v1/ivr/verifications/{id}/digits', 'POST /v1/ivr/twilio/{tenant}/voice']));
    const failures: string[] = [];
    for (const r of routes) {
      const twilio = r.key.includes('/twilio/');
      for (const headers of [{ authorization: `Bearer ${token}` }, { cookie: `cw_session=${token}` }]) {
        const res = await t.app.inject({ method: r.method, url: r.url, headers, ...(r.body !== undefined ? { payload: r.body as object } : {}) });
        const want = twilio ? [403, 'forbidden'] : [401, 'unauthenticated'];
        if (res.statusCode !== want[0] || json(res).code !== want[1]) failures.push(`${r.key} with ${Object.keys(headers)[0]}: ${res.statusCode} ${res.body.slice(0, 120)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('after the password step only, no token works on any protected route', async () => {
    // The real session of this administrator opens the routes (so a 401 below means something).
    const control = await api(t.app).get('/v1/tenants/acme/users', { token: seeded.users[admin]!.token });
    expect(control.statusCode).toBe(200);

    const start = await startFlow(t.app, 'acme', admin);
    const pw = await passwordStep(t.app, start.flow, STRONG);
    expect(pw.res.statusCode).toBe(200);
    expect(pw.body.flow.state).toBe('second_factor');
    expect(pw.body.session).toBeUndefined();
    expect(String(pw.res.headers['set-cookie'] ?? '')).not.toMatch(/cw_session=[^;]/);

    // A half-finished re-authentication hands out nothing usable either.
    const re = await api(t.app).post('/v1/me/reauth', { token: seeded.users[admin]!.token });
    const rePw = await passwordStep(t.app, { id: json(re).flow.id, token: json(re).flowToken }, STRONG);
    expect(rePw.body.flow.state).toBe('second_factor');

    const held = [start.flow.token, pw.next.token, start.flow.id, rePw.next.token];
    for (const h of held) expect(h).toEqual(expect.any(String));
    const ways = (h: string): Array<Record<string, string>> => [{ authorization: `Bearer ${h}` }, { cookie: `cw_session=${h}` }, { 'x-flow-token': h }];

    const routes = await protectedRoutes();
    const failures: string[] = [];
    for (const r of routes) {
      for (const h of held) {
        for (const headers of ways(h)) {
          const res = await t.app.inject({ method: r.method, url: r.url, headers, ...(r.body !== undefined ? { payload: r.body as object } : {}) });
          const code = res.statusCode === 401 ? json(res).code : undefined;
          if (res.statusCode !== 401 || code !== 'unauthenticated') failures.push(`${r.key} with ${Object.keys(headers)[0]}: ${res.statusCode} ${res.body.slice(0, 120)}`);
        }
      }
    }
    expect(failures).toEqual([]);

    // Nothing was changed by those requests.
    const users = json(await api(t.app).get('/v1/tenants/acme/users', { token: seeded.users[admin]!.token })).users as Array<{ email: string }>;
    expect(users.map((u) => u.email)).not.toContain('mallory@acme.test');
  });
});
