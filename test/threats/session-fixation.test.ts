/**
 * Threat: session fixation across factors.
 * Requirement: ASVS 7.2.4 (a new session token at every authentication and re-authentication), the
 * class named with the MFA advisories (better-auth GHSA-xg6x-h9c9-2m83, ZITADEL CVE-2025-64103),
 * where a session identifier fixed before or between factors ended up signed in.
 *
 * The attacker plants credentials before the victim signs in and waits for them to be upgraded:
 *  - a session cookie in the victim's browser (the attacker's own live session, and a value the
 *    attacker chose), sent with every step of the victim's sign-in;
 *  - a sign-in flow the attacker started for the victim and handed over (a link with the flow id and
 *    token), then polls with the token it kept;
 *  - a session token in the URL.
 * After each factor the flow token must be new and the old one dead; the session that comes out must
 * be new (id and token), go only to the response that completed the flow, and leave the planted
 * values as they were; a re-authentication must replace the token; logout must kill it.
 *
 * From the former in-process suite (ASVS 7.4.1, 7.4.2): a planted value sent as bearer and cookie at
 * every step is never adopted; re-authentication keeps the session id, moves `authTime` and retires
 * the old token; logout kills the bearer token and the cookie alike; disabling a user ends all of
 * their sessions at once, and enabling them again brings none back.
 *
 * Fails when: the server reuses a presented cookie as the new session (fixation); the flow keeps its
 * token across steps (the attacker's copy follows the victim's progress); GET /v1/auth/flows/{id}
 * discloses the session of a completed flow; re-authentication keeps the old token valid.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed, STRONG } from '../helpers/app.js';
import { withTotp } from '../helpers/flows.js';
import { Attacker, sessionCookie, totpCode, type Reply } from './attacker.js';
import { startTarget, type Target } from './server.js';
import { signInTotp } from './steps.js';

describe('session fixation', () => {
  let t: Target;
  let x: Attacker;
  let seeded: Awaited<ReturnType<typeof seed>>;
  let ana: Awaited<ReturnType<typeof withTotp>>;
  const victim = 'ana@acme.test';
  const attacker = 'mallory@acme.test';

  beforeAll(async () => {
    t = await startTarget();
    x = new Attacker(t.url);
    seeded = await seed(t, { users: [{ email: victim, roles: ['tenant_admin'] }, { email: attacker, roles: ['agent'] }] });
    ana = await withTotp(t, seeded.users[victim]!.token!);
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  const step = () => t.clock.advance(31_000); // a fresh TOTP step for the next sign-in
  const me = (token: string) => x.get('/v1/me', { token });

  it('a session cookie planted before sign-in is not the one after, and is not upgraded', async () => {
    const mallory = await x.signIn('acme', attacker, STRONG);
    const chosen = 'attacker-chosen-session-value-0123456789abcdef';
    for (const planted of [mallory, chosen]) {
      step();
      const cookie = `cw_session=${planted}`;
      const { flow } = await x.startFlow('acme', victim, { cookie });
      const pw = await x.password(flow, STRONG, { cookie });
      const done = await x.factor(pw.next, 'totp', totpCode(ana.secret, t.clock.now()), { cookie });
      expect(done.status, done.text).toBe(200);
      const issued = sessionCookie(done)!;
      expect(issued).toBe(done.json.session.token);
      expect(issued).not.toBe(planted);
      expect((await me(issued)).json.email).toBe(victim);
    }
    // the attacker's planted session is still the attacker's, at the level it had; the chosen value is nothing
    const still = await me(mallory);
    expect(still.json).toMatchObject({ email: attacker, session: { aal: 1, methods: ['pwd'] } });
    expect((await me(chosen)).status).toBe(401);
  });

  it('a flow the attacker started and handed to the victim is dead to the attacker after each step', async () => {
    step();
    const { flow: kept } = await x.startFlow('acme', victim); // the attacker keeps {id, token}, sends the victim the link
    const pw = await x.password(kept, STRONG); // the victim types her password into the planted flow
    expect(pw.res.status).toBe(200);
    expect(pw.next.token).not.toBe(kept.token); // a new flow token after the factor
    for (const [what, r] of [
      ['read', await x.get(`/v1/auth/flows/${kept.id}`, { flow: kept.token })],
      ['factor', await x.factor(kept, 'totp', totpCode(ana.secret, t.clock.now()))],
      ['password again', await x.post(`/v1/auth/flows/${kept.id}/password`, { flow: kept.token, body: { password: STRONG } })],
    ] as const) {
      expect([r.status, r.code], what).toEqual([401, 'flow_invalid']);
    }
    const done = await x.factor(pw.next, 'totp', totpCode(ana.secret, t.clock.now()));
    expect(done.status, done.text).toBe(200);
    expect(done.json.flowToken).toBeUndefined(); // no token for a step after the last
    // polling afterwards: the kept token is dead, and even the victim's last token reads no session
    expect((await x.get(`/v1/auth/flows/${kept.id}`, { flow: kept.token })).status).toBe(401);
    const late = await x.get(`/v1/auth/flows/${kept.id}`, { flow: pw.next.token });
    expect(late.json?.session).toBeUndefined();
    expect(sessionCookie(late)).toBeUndefined();
    expect(late.text).not.toContain(done.json.session.token);
  });

  it('every sign-in gets a new session id and token; the cookie is HttpOnly, SameSite=Strict', async () => {
    const sessions = [];
    for (let i = 0; i < 2; i++) {
      step();
      const { flow } = await x.startFlow('acme', victim);
      const pw = await x.password(flow, STRONG);
      const done = await x.factor(pw.next, 'totp', totpCode(ana.secret, t.clock.now()));
      sessions.push(done.json.session);
      const set = (done.headers['set-cookie'] ?? []).find((c) => c.startsWith('cw_session='))!;
      expect(set).toMatch(/; HttpOnly/i);
      expect(set).toMatch(/; SameSite=Strict/i);
      expect(set).toMatch(/; Path=\//i);
    }
    expect(sessions[0].id).not.toBe(sessions[1].id);
    expect(sessions[0].token).not.toBe(sessions[1].token);
    expect(Buffer.from(sessions[0].token, 'base64url').length).toBeGreaterThanOrEqual(32); // 256 bits
  });

  it('re-authentication replaces the token (the old one stops working), and logout kills it', async () => {
    step();
    const token = await x.signIn('acme', victim, STRONG, { secret: ana.secret, at: t.clock.now() });
    const id = (await me(token)).json.session.id;
    step();
    const re = await x.post('/v1/me/reauth', { token });
    const pw = await x.password({ id: re.json.flow.id, token: re.json.flowToken }, STRONG);
    const done = await x.factor(pw.next, 'totp', totpCode(ana.secret, t.clock.now()));
    expect(done.status, done.text).toBe(200);
    const fresh = done.json.session.token as string;
    expect(fresh).not.toBe(token);
    expect(sessionCookie(done)).toBe(fresh);
    expect((await me(token)).status).toBe(401);
    expect((await me(fresh)).json.session.id).toBe(id);

    const out = await x.post('/v1/auth/logout', { cookie: `cw_session=${fresh}` });
    expect(out.status).toBe(200);
    expect(sessionCookie(out)).toBe('');
    expect((await me(fresh)).status).toBe(401);
  });

  it('a session token is never taken from the URL', async () => {
    step();
    const token = await x.signIn('acme', victim, STRONG, { secret: ana.secret, at: t.clock.now() });
    for (const q of ['token', 'session', 'cw_session', 'access_token', 'sid']) {
      expect((await x.get(`/v1/me?${q}=${token}`)).status, q).toBe(401);
    }
  });
});

describe('session fixation: tokens at each step, re-authentication, logout, disabling', () => {
  let t: Target;
  let x: Attacker;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const ana = 'ana@acme.test';
  const boss = 'boss@acme.test';
  let secret: string;

  beforeAll(async () => {
    t = await startTarget();
    x = new Attacker(t.url);
    seeded = await seed(t, { users: [{ email: ana, roles: ['agent'] }, { email: boss, roles: ['tenant_admin'] }, { email: 'leo@acme.test', roles: ['agent'] }] });
    secret = (await withTotp(t, seeded.users[ana]!.token!)).secret;
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  const me = (token: string | undefined) => x.get('/v1/me', token === undefined ? {} : { token });
  const readFlow = (id: string, token: string) => x.get(`/v1/auth/flows/${id}`, { flow: token });
  const expectCode = (r: Reply, status: number, code: string) => {
    expect(r.status).toBe(status);
    expect(r.code).toBe(code);
  };

  it('changes the flow token after each successful step and refuses the old one', async () => {
    const start = await x.startFlow('acme', ana);
    const t0 = start.flow;
    expect((await readFlow(t0.id, t0.token)).status).toBe(200);

    const pw = await x.password(t0, STRONG);
    expect(pw.res.status).toBe(200);
    const t1 = pw.next;
    expect(t1.token).toEqual(expect.any(String));
    expect(t1.token).not.toBe(t0.token);
    expectCode(await readFlow(t0.id, t0.token), 401, 'flow_invalid');
    expectCode(await x.password(t0, STRONG).then((r) => r.res), 401, 'flow_invalid');
    expectCode(await x.factor(t0, 'totp', totpCode(secret, t.clock.now())), 401, 'flow_invalid');
    expect((await readFlow(t1.id, t1.token)).json.flow.state).toBe('second_factor');

    const done = await x.factor(t1, 'totp', totpCode(secret, t.clock.now()));
    expect(done.status).toBe(200);
    expect(done.json.flowToken).toBeUndefined();
    expectCode(await readFlow(t1.id, t1.token), 401, 'flow_invalid');
    // The session token is none of the flow tokens.
    expect([t0.token, t1.token]).not.toContain(done.json.session.token);
  });

  it('never adopts a session token the client brought along', async () => {
    t.clock.advance(31_000);
    const planted = 'planted-by-attacker-0123456789abcdef';
    const o = { cookie: `cw_session=${planted}`, token: planted };
    const start = (await x.post('/v1/auth/flows', { ...o, body: { tenant: 'acme', identifier: ana } })).json;
    const pw = (await x.post(`/v1/auth/flows/${start.flow.id}/password`, { ...o, flow: start.flowToken, body: { password: STRONG } })).json;
    const done = await x.post(`/v1/auth/flows/${start.flow.id}/factor`, { ...o, flow: pw.flowToken, body: { method: 'totp', code: totpCode(secret, t.clock.now()) } });
    expect(done.status).toBe(200);
    expect(done.json.session.token).not.toBe(planted);
    expect((await me(done.json.session.token)).status).toBe(200);
    expectCode(await me(planted), 401, 'unauthenticated');
  });

  it('issues a new session token on re-authentication and retires the old one', async () => {
    t.clock.advance(31_000);
    const old = await signInTotp(x, t, 'acme', ana, secret);
    const before = (await me(old)).json.session;

    t.clock.advance(31_000);
    const start = await x.post('/v1/me/reauth', { token: old });
    expect(start.status).toBe(201);
    const pw = await x.password({ id: start.json.flow.id, token: start.json.flowToken }, STRONG);
    expect(pw.res.json.flow.state).toBe('second_factor');
    expect(pw.res.json.session).toBeUndefined();
    expect((await me(old)).status).toBe(200); // nothing changes until re-authentication completes

    const done = await x.factor(pw.next, 'totp', totpCode(secret, t.clock.now()));
    expect(done.status).toBe(200);
    const fresh = done.json.session.token as string;
    expect(fresh).not.toBe(old);
    expect(String(done.headers['set-cookie'])).toContain(`cw_session=${fresh}`);

    expectCode(await me(old), 401, 'unauthenticated');
    const after = (await me(fresh)).json.session;
    expect(after.id).toBe(before.id);
    expect(new Date(after.authTime).getTime()).toBeGreaterThan(new Date(before.authTime).getTime());
  });

  it('revokes the session on logout, for the bearer token and the cookie', async () => {
    t.clock.advance(31_000);
    const bearer = await signInTotp(x, t, 'acme', ana, secret);
    expect((await me(bearer)).status).toBe(200);
    const out = await x.post('/v1/auth/logout', { token: bearer });
    expect(out.status).toBe(200);
    expectCode(await me(bearer), 401, 'unauthenticated');
    expectCode(await x.get('/v1/me', { cookie: `cw_session=${bearer}` }), 401, 'unauthenticated');

    t.clock.advance(31_000);
    const cookie = `cw_session=${await signInTotp(x, t, 'acme', ana, secret)}`;
    expect((await x.get('/v1/me', { cookie })).status).toBe(200);
    expect((await x.post('/v1/auth/logout', { cookie })).status).toBe(200);
    expectCode(await x.get('/v1/me', { cookie }), 401, 'unauthenticated');
  });

  it('ends every session of a user the moment the user is disabled', async () => {
    const leo = 'leo@acme.test';
    const sessions = [seeded.users[leo]!.token!, await x.signIn('acme', leo, STRONG)];
    for (const s of sessions) expect((await me(s)).status).toBe(200);
    const r = await x.post(`/v1/tenants/acme/users/${seeded.users[leo]!.id}/disable`, { token: seeded.users[boss]!.token! });
    expect(r.status).toBe(200);
    for (const s of sessions) expectCode(await me(s), 401, 'unauthenticated');
    // Enabling the user again does not bring the old sessions back.
    expect((await x.post(`/v1/tenants/acme/users/${seeded.users[leo]!.id}/enable`, { token: seeded.users[boss]!.token! })).status).toBe(200);
    for (const s of sessions) expectCode(await me(s), 401, 'unauthenticated');
  });
});
