/**
 * Threat: a session usable after the first factor only.
 * Advisories: better-auth GHSA-xg6x-h9c9-2m83, ZITADEL CVE-2025-64103 (in both, what a client held
 * after the first factor was accepted where a fully signed-in session was required).
 *
 * Attack, over real HTTP against a listening server: sign in with the right password of users who
 * must give a second factor (one at the second-factor step, one forced to enroll, one half-way through
 * a re-authentication), keep every value the server handed out on the way (flow ids, flow tokens,
 * request ids, any cookie), and present each of them, every way a credential can travel (bearer,
 * lower-case bearer, session cookie, flow header, query string), on every operation the running
 * server lists in /openapi.json, and on the HEAD twin of every GET. Nothing but 401 may come back, and
 * nothing may change.
 *
 * From the former in-process suite: with the operations of the running server's document and valid
 * bodies for the routes that take one (so that a refusal is authentication, not validation), the
 * tokens and id of a flow stopped after the password step and of a half-finished re-authentication,
 * as bearer, cookie and flow header, answer 401 `unauthenticated` everywhere; and a full staff
 * session opens no IVR route (they take an API key or a Twilio signature).
 *
 * Fails when: the password step sets a session cookie or returns a session (the better-auth bug);
 * `requireSession` accepts a flow token (e.g. looks flows up by hash as a fallback); a route forgets
 * its session hook (it answers 2xx or 404-after-auth instead of 401).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed, STRONG } from '../helpers/app.js';
import { updatePolicy, withTotp } from '../helpers/flows.js';
import { Attacker, fill, sessionCookie, type Operation, type Reply } from './attacker.js';
import { startTarget, type Target } from './server.js';

/** Operations anyone may call: sign-in steps, setup links, health, public keys (assertion JWKS, audit checkpoint keys), the assertion check. */
const PUBLIC = [/^\/healthz$/, /^\/readyz$/, /^\/v1\/auth\//, /^\/v1\/invitations\//, /^\/v1\/tenants\/\{tenant\}\/jwks\.json$/, /^\/v1\/audit\/keys$/, /^\/v1\/assertions\/check$/];

describe('MFA bypass with what the first factor gave', () => {
  let t: Target;
  let x: Attacker;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const admin = 'admin@acme.test';
  const agent = 'agent@acme.test';
  let adminToken: string;
  let factorId: string;
  let ops: Operation[];

  beforeAll(async () => {
    t = await startTarget();
    x = new Attacker(t.url);
    seeded = await seed(t, { users: [{ email: admin, roles: ['tenant_admin'] }, { email: agent, roles: ['agent'] }] });
    adminToken = seeded.users[admin]!.token!;
    factorId = (await withTotp(t, adminToken)).factorId;
    // agents must use MFA and have none: their sign-in stops at forced enrollment
    await updatePolicy(t, adminToken, 'acme', (p) => ({ ...p, mfa: { ...p.mfa, roles: { agent: 'required' } } }));
    ops = await x.operations();
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  const params = () => ({ tenant: 'acme', userId: seeded.users[admin]!.id, factorId, sessionId: randomUUID(), name: 'custom_role', id: randomUUID(), keyId: randomUUID(), interactionId: 'call-1' });
  const isPublic = (o: Operation) => PUBLIC.some((re) => re.test(o.path));

  it('the running server lists the routes that matter, and the public ones declare themselves', async () => {
    const keys = ops.map((o) => `${o.method} ${o.path}`);
    expect(keys.length).toBeGreaterThan(60);
    for (const k of ['GET /v1/me', 'POST /v1/me/factors/totp', 'DELETE /v1/me/factors/{factorId}', 'POST /v1/me/recovery-codes', 'GET /v1/tenants/{tenant}/users', 'PUT /v1/tenants/{tenant}/policy', 'POST /v1/tenants/{tenant}/api-keys', 'GET /v1/tenants/{tenant}/audit', 'POST /v1/ivr/verifications']) {
      expect(keys).toContain(k);
    }
    // the public allow-list is not a blanket: it covers few operations, none under /v1/me or /v1/tenants/{tenant}/ but the JWKS
    const pub = ops.filter(isPublic).map((o) => `${o.method} ${o.path}`);
    // (15 before security keys; passkey sign-in added three /v1/auth routes: the passkey start, a flow's
    // key challenge and answer; staff codes one: sending a sign-in code to the enrolled number)
    expect(pub.length).toBeLessThan(19);
    expect(pub.filter((k) => /\/v1\/me|\/v1\/tenants\/\{tenant\}\/(?!jwks)/.test(k))).toEqual([]);
  });

  it('the password step hands out no session: no token in the body, no session cookie', async () => {
    const { res: start, flow } = await x.startFlow('acme', admin);
    const pw = await x.password(flow, STRONG);
    expect(pw.res.status).toBe(200);
    expect(pw.res.json.flow.state).toBe('second_factor');
    expect(pw.res.json.session).toBeUndefined();
    for (const r of [start, pw.res]) {
      expect(sessionCookie(r)).toBeUndefined();
      expect(r.text).not.toMatch(/"session"|"token"/);
    }
    // reading the flow back gives no session either
    const read = await x.get(`/v1/auth/flows/${flow.id}`, { flow: pw.next.token });
    expect(read.status).toBe(200);
    expect(read.json.session).toBeUndefined();
    expect(sessionCookie(read)).toBeUndefined();
  });

  it('nothing obtained after the password step opens any protected operation, in any way it is presented', async () => {
    // the administrator's real session opens the routes: a 401 below means something
    expect((await x.get('/v1/tenants/acme/users', { token: adminToken })).status).toBe(200);
    const policyBefore = (await x.get('/v1/tenants/acme/policy', { token: adminToken })).json.version as number;

    // what the attacker holds: the admin at the second-factor step, the agent at forced enrollment,
    // a re-authentication of the admin's session stopped after its password step
    // what the attacker holds, by when it was handed out: before the password step (flow starts),
    // after it (the tokens for the second factor, for forced enrollment, for a re-authentication's
    // second factor), and the flow ids
    const before = new Set<string>();
    const after = new Set<string>();
    const ids = new Set<string>();
    const keep = (r: Reply, into: Set<string>) => {
      if (typeof r.json?.flowToken === 'string') into.add(r.json.flowToken);
      if (typeof r.json?.flow?.id === 'string') ids.add(r.json.flow.id);
      const c = sessionCookie(r);
      if (c) after.add(c);
    };
    for (const email of [admin, agent]) {
      const { res, flow } = await x.startFlow('acme', email);
      keep(res, before);
      const pw = await x.password(flow, STRONG);
      expect(pw.res.status).toBe(200);
      expect(pw.res.json.flow.state).toBe(email === admin ? 'second_factor' : 'enroll');
      keep(pw.res, after);
      if (email === agent) keep(await x.post(`/v1/auth/flows/${flow.id}/enroll/totp`, { flow: pw.next.token }), after); // the QR step of enrollment
    }
    const re = await x.post('/v1/me/reauth', { token: adminToken });
    keep(re, before);
    const rePw = await x.password({ id: re.json.flow.id, token: re.json.flowToken }, STRONG);
    expect(rePw.res.json.flow.state).toBe('second_factor');
    keep(rePw.res, after);
    expect([before.size, after.size, ids.size]).toEqual([3, 3, 3]);

    type Way = { name: string; o: Parameters<Attacker['send']>[2]; query?: string };
    const ways = (h: string): Way[] => [
      { name: 'bearer', o: { token: h } },
      { name: 'cookie', o: { cookie: `cw_session=${h}` } },
      { name: 'lower-case bearer', o: { headers: { authorization: `bearer ${h}` } } },
      { name: 'flow header', o: { flow: h } },
      { name: 'query', o: {}, query: `?token=${encodeURIComponent(h)}&session=${encodeURIComponent(h)}&access_token=${encodeURIComponent(h)}` },
    ];
    /** Tokens from after the password step: every way, HEAD too; earlier tokens and ids: as a session travels. */
    const tries = (op: Operation): Array<[string, Way]> => [
      ...[...after].flatMap((h) => (op.method === 'HEAD' ? ways(h).slice(0, 2) : ways(h)).map((w) => [h, w] as [string, Way])),
      ...(op.method === 'HEAD' ? [] : [...before, ...ids].flatMap((h) => ways(h).slice(0, 2).map((w) => [h, w] as [string, Way]))),
    ];
    const targets = ops.filter((o) => !isPublic(o)).flatMap((o) => (o.method === 'GET' ? [o, { ...o, method: 'HEAD' as const }] : [o]));
    const failures: string[] = [];
    const jobs: Array<() => Promise<void>> = [];
    for (const op of targets) {
      const url = fill(op.path, params());
      const body = ['POST', 'PUT', 'PATCH'].includes(op.method) ? { body: {} } : {};
      // IVR routes want an API key (401); the Twilio webhook a signature (403); everything else a session (401)
      const want = op.path.includes('/twilio/') ? 403 : 401;
      const code = op.method === 'HEAD' ? undefined : want === 403 ? 'forbidden' : 'unauthenticated';
      for (const [, w] of tries(op)) {
        jobs.push(async () => {
          const r = await x.send(op.method, url + (w.query ?? ''), { ...body, ...w.o });
          if (r.status !== want || (code && r.code !== code)) failures.push(`${op.method} ${op.path} with ${w.name}: ${r.status} ${r.text.slice(0, 100)}`);
        });
      }
    }
    // 16 at a time over the keep-alive pool
    for (let i = 0; i < jobs.length; i += 16) await Promise.all(jobs.slice(i, i + 16).map((j) => j()));
    expect(jobs.length).toBeGreaterThan(1500);
    expect(failures).toEqual([]);

    // and nothing changed
    const users = (await x.get('/v1/tenants/acme/users', { token: adminToken })).json.users as Array<{ email: string }>;
    expect(users.map((u) => u.email).sort()).toEqual([admin, agent]);
    expect((await x.get('/v1/tenants/acme/api-keys', { token: adminToken })).json.apiKeys).toEqual([]);
    expect((await x.get('/v1/tenants/acme/policy', { token: adminToken })).json.version).toBe(policyBefore);
    expect((await x.get('/v1/me/factors', { token: adminToken })).json.factors.map((f: { kind: string }) => f.kind).sort()).toEqual(['recovery_code', 'totp']);
  });

  it('logging out with a half-signed-in flow token gives nothing and leaves the second factor required', async () => {
    const half = await x.pastPassword('acme', admin, STRONG);
    const out = await x.post('/v1/auth/logout', { token: half.token, cookie: `cw_session=${half.token}` });
    expect(out.status).toBe(200);
    expect(out.json).toEqual({ ok: true });
    expect(sessionCookie(out)).toBe(''); // only the clearing cookie
    const read = await x.get(`/v1/auth/flows/${half.id}`, { flow: half.token });
    expect(read.json.flow.state).toBe('second_factor');
    expect(read.json.session).toBeUndefined();
  });
});

/**
 * Routes anyone may call (sign-in steps, setup links, health) and the IVR routes, which take a tenant
 * API key or a Twilio signature instead of a session (checked below): everything else needs a session.
 */
const IVR = /^\/v1\/ivr\//;
const OPEN = [...PUBLIC, IVR];

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
  let t: Target;
  let x: Attacker;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const admin = 'admin@acme.test';
  let factorId: string;

  beforeAll(async () => {
    t = await startTarget();
    x = new Attacker(t.url);
    seeded = await seed(t, { users: [{ email: admin, roles: ['tenant_admin'] }] });
    factorId = (await withTotp(t, seeded.users[admin]!.token!)).factorId;
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  /** Every protected operation of the running server's /openapi.json (or those matching `only`), with its path parameters filled in. */
  async function protectedRoutes(only?: RegExp) {
    const params: Record<string, string> = { tenant: 'acme', userId: seeded.users[admin]!.id, factorId, sessionId: randomUUID(), name: 'custom_role', id: randomUUID(), keyId: randomUUID() };
    return (await x.operations())
      .filter((o) => (only ? only.test(o.path) : !OPEN.some((re) => re.test(o.path))))
      .map((o) => {
        const key = `${o.method} ${o.path}`;
        return { key, method: o.method, url: fill(o.path, params), body: BODIES[key] ?? (o.method === 'POST' ? {} : undefined) };
      });
  }
  const send = (r: Awaited<ReturnType<typeof protectedRoutes>>[number], o: Parameters<Attacker['send']>[2]) => x.send(r.method, r.url, { ...o, ...(r.body !== undefined ? { body: r.body } : {}) });

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
      for (const [name, o] of [['authorization', { token }], ['cookie', { cookie: `cw_session=${token}` }]] as const) {
        const res = await send(r, o);
        const want = twilio ? [403, 'forbidden'] : [401, 'unauthenticated'];
        if (res.status !== want[0] || res.code !== want[1]) failures.push(`${r.key} with ${name}: ${res.status} ${res.text.slice(0, 120)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('after the password step only, no token works on any protected route', async () => {
    // The real session of this administrator opens the routes (so a 401 below means something).
    const control = await x.get('/v1/tenants/acme/users', { token: seeded.users[admin]!.token! });
    expect(control.status).toBe(200);

    const start = await x.startFlow('acme', admin);
    const pw = await x.password(start.flow, STRONG);
    expect(pw.res.status).toBe(200);
    expect(pw.res.json.flow.state).toBe('second_factor');
    expect(pw.res.json.session).toBeUndefined();
    expect(String(pw.res.headers['set-cookie'] ?? '')).not.toMatch(/cw_session=[^;]/);

    // A half-finished re-authentication hands out nothing usable either.
    const re = await x.post('/v1/me/reauth', { token: seeded.users[admin]!.token! });
    const rePw = await x.password({ id: re.json.flow.id, token: re.json.flowToken }, STRONG);
    expect(rePw.res.json.flow.state).toBe('second_factor');

    const held = [start.flow.token, pw.next.token, start.flow.id, rePw.next.token];
    for (const h of held) expect(h).toEqual(expect.any(String));
    const ways = (h: string): Array<[string, Parameters<Attacker['send']>[2]]> => [['authorization', { token: h }], ['cookie', { cookie: `cw_session=${h}` }], ['x-flow-token', { flow: h }]];

    const routes = await protectedRoutes();
    const failures: string[] = [];
    for (const r of routes) {
      for (const h of held) {
        for (const [name, o] of ways(h)) {
          const res = await send(r, o);
          if (res.status !== 401 || res.code !== 'unauthenticated') failures.push(`${r.key} with ${name}: ${res.status} ${res.text.slice(0, 120)}`);
        }
      }
    }
    expect(failures).toEqual([]);

    // Nothing was changed by those requests.
    const users = (await x.get('/v1/tenants/acme/users', { token: seeded.users[admin]!.token! })).json.users as Array<{ email: string }>;
    expect(users.map((u) => u.email)).not.toContain('mallory@acme.test');
  });
});
