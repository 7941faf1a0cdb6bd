/**
 * Threat: session fixation across factors and sessions that outlive their end (ASVS 7.2.4, 7.4.1,
 * 7.4.2). The flow token changes at every successful step and the old one is refused; re-authentication
 * issues a new session token and retires the old one; logout and disabling the user end the session
 * at once.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, json, seed, STRONG, testApp, type TestApp } from '../helpers/app.js';
import { factorStep, passwordStep, signInPassword, signInTotp, startFlow, totpFor, withTotp } from '../helpers/flows.js';

describe('session fixation', () => {
  let t: TestApp;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const ana = 'ana@acme.test';
  const boss = 'boss@acme.test';
  let secret: string;

  beforeAll(async () => {
    t = await testApp();
    seeded = await seed(t, { users: [{ email: ana, roles: ['agent'] }, { email: boss, roles: ['tenant_admin'] }, { email: 'leo@acme.test', roles: ['agent'] }] });
    secret = (await withTotp(t, seeded.users[ana]!.token!)).secret;
  });
  afterAll(() => t.close());

  const me = (token: string | undefined) => api(t.app).get('/v1/me', { token });
  const readFlow = (id: string, token: string) => api(t.app).get(`/v1/auth/flows/${id}`, { flow: token });
  const expectCode = (r: LightMyRequestResponse, status: number, code: string) => {
    expect(r.statusCode).toBe(status);
    expect(json(r).code).toBe(code);
  };

  it('changes the flow token after each successful step and refuses the old one', async () => {
    const start = await startFlow(t.app, 'acme', ana);
    const t0 = start.flow;
    expect((await readFlow(t0.id, t0.token)).statusCode).toBe(200);

    const pw = await passwordStep(t.app, t0, STRONG);
    expect(pw.res.statusCode).toBe(200);
    const t1 = pw.next;
    expect(t1.token).toEqual(expect.any(String));
    expect(t1.token).not.toBe(t0.token);
    expectCode(await readFlow(t0.id, t0.token), 401, 'flow_invalid');
    expectCode(await passwordStep(t.app, t0, STRONG).then((r) => r.res), 401, 'flow_invalid');
    expectCode(await factorStep(t.app, t0, 'totp', totpFor(secret, t.clock.now())), 401, 'flow_invalid');
    expect(json(await readFlow(t1.id, t1.token)).flow.state).toBe('second_factor');

    const done = await factorStep(t.app, t1, 'totp', totpFor(secret, t.clock.now()));
    expect(done.statusCode).toBe(200);
    expect(json(done).flowToken).toBeUndefined();
    expectCode(await readFlow(t1.id, t1.token), 401, 'flow_invalid');
    // The session token is none of the flow tokens.
    expect([t0.token, t1.token]).not.toContain(json(done).session.token);
  });

  it('never adopts a session token the client brought along', async () => {
    t.clock.advance(31_000);
    const planted = 'planted-by-attacker-0123456789abcdef';
    const headers = { cookie: `cw_session=${planted}`, authorization: `Bearer ${planted}` };
    const x = api(t.app);
    const start = json(await x.post('/v1/auth/flows', { headers, body: { tenant: 'acme', identifier: ana } }));
    const pw = json(await x.post(`/v1/auth/flows/${start.flow.id}/password`, { headers, flow: start.flowToken, body: { password: STRONG } }));
    const done = await x.post(`/v1/auth/flows/${start.flow.id}/factor`, { headers, flow: pw.flowToken, body: { method: 'totp', code: totpFor(secret, t.clock.now()) } });
    expect(done.statusCode).toBe(200);
    expect(json(done).session.token).not.toBe(planted);
    expect((await me(json(done).session.token)).statusCode).toBe(200);
    expectCode(await me(planted), 401, 'unauthenticated');
  });

  it('issues a new session token on re-authentication and retires the old one', async () => {
    t.clock.advance(31_000);
    const old = await signInTotp(t, 'acme', ana, secret);
    const before = json(await me(old)).session;

    t.clock.advance(31_000);
    const start = await api(t.app).post('/v1/me/reauth', { token: old });
    expect(start.statusCode).toBe(201);
    const pw = await passwordStep(t.app, { id: json(start).flow.id, token: json(start).flowToken }, STRONG);
    expect(pw.body.flow.state).toBe('second_factor');
    expect(pw.body.session).toBeUndefined();
    expect((await me(old)).statusCode).toBe(200); // nothing changes until re-authentication completes

    const done = await factorStep(t.app, pw.next, 'totp', totpFor(secret, t.clock.now()));
    expect(done.statusCode).toBe(200);
    const fresh = json(done).session.token as string;
    expect(fresh).not.toBe(old);
    expect(String(done.headers['set-cookie'])).toContain(`cw_session=${fresh}`);

    expectCode(await me(old), 401, 'unauthenticated');
    const after = json(await me(fresh)).session;
    expect(after.id).toBe(before.id);
    expect(new Date(after.authTime).getTime()).toBeGreaterThan(new Date(before.authTime).getTime());
  });

  it('revokes the session on logout, for the bearer token and the cookie', async () => {
    t.clock.advance(31_000);
    const bearer = await signInTotp(t, 'acme', ana, secret);
    expect((await me(bearer)).statusCode).toBe(200);
    const out = await api(t.app).post('/v1/auth/logout', { token: bearer });
    expect(out.statusCode).toBe(200);
    expectCode(await me(bearer), 401, 'unauthenticated');
    expectCode(await api(t.app).get('/v1/me', { headers: { cookie: `cw_session=${bearer}` } }), 401, 'unauthenticated');

    t.clock.advance(31_000);
    const cookie = await signInTotp(t, 'acme', ana, secret);
    const headers = { cookie: `cw_session=${cookie}` };
    expect((await api(t.app).get('/v1/me', { headers })).statusCode).toBe(200);
    expect((await api(t.app).post('/v1/auth/logout', { headers })).statusCode).toBe(200);
    expectCode(await api(t.app).get('/v1/me', { headers }), 401, 'unauthenticated');
  });

  it('ends every session of a user the moment the user is disabled', async () => {
    const leo = 'leo@acme.test';
    const sessions = [seeded.users[leo]!.token!, await signInPassword(t.app, 'acme', leo)];
    for (const s of sessions) expect((await me(s)).statusCode).toBe(200);
    const r = await api(t.app).post(`/v1/tenants/acme/users/${seeded.users[leo]!.id}/disable`, { token: seeded.users[boss]!.token });
    expect(r.statusCode).toBe(200);
    for (const s of sessions) expectCode(await me(s), 401, 'unauthenticated');
    // Enabling the user again does not bring the old sessions back.
    expect((await api(t.app).post(`/v1/tenants/acme/users/${seeded.users[leo]!.id}/enable`, { token: seeded.users[boss]!.token })).statusCode).toBe(200);
    for (const s of sessions) expectCode(await me(s), 401, 'unauthenticated');
  });
});
