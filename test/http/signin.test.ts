import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, enrollTotp, json, seed, signIn, STRONG, testApp, type TestApp } from '../helpers/app.js';
import { backends } from '../helpers/db.js';

describe.each(await backends())('staff sign-in over HTTP (%s)', (backend) => {
  let t: TestApp;
  let seeded: Awaited<ReturnType<typeof seed>>;
  beforeAll(async () => {
    t = await testApp({ backend });
    seeded = await seed(t, { users: [{ email: 'ana@acme.test', roles: ['agent'] }] });
  });
  afterAll(() => t.close());

  it('signs in with password + TOTP after enrollment, and the session is aal2', async () => {
    const token = seeded.users['ana@acme.test']!.token!;
    const { secret, recoveryCodes } = await enrollTotp(t, token);
    expect(recoveryCodes).toHaveLength(10);
    t.clock.advance(31_000);
    const r = await signIn(t.app, 'acme', 'ana@acme.test', STRONG, secret, t.clock.now());
    expect(r.res.statusCode).toBe(200);
    expect(r.res.headers['set-cookie']).toMatch(/cw_session=[\w-]{40,}; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Strict/);
    const me = await api(t.app).get('/v1/me', { token: r.token });
    expect(me.statusCode).toBe(200);
    expect(json(me).session.aal).toBe(2);
    expect(json(me).session.methods).toEqual(['pwd', 'totp']);
  });

  it('records every attempt in the audit log without secrets', async () => {
    const a = api(t.app);
    const start = json(await a.post('/v1/auth/flows', { body: { tenant: 'acme', identifier: 'ana@acme.test' } }));
    const bad = await a.post(`/v1/auth/flows/${start.flow.id}/password`, { flow: start.flowToken, body: { password: 'not the password at all' } });
    expect(bad.statusCode).toBe(401);
    const rows = await t.s.store.db.selectFrom('audit_events').selectAll().where('type', '=', 'auth.attempt').execute();
    expect(rows.some((r) => r.outcome === 'failure' && (r.data as { reason?: string }).reason === 'wrong_password')).toBe(true);
    const all = JSON.stringify(await t.s.store.db.selectFrom('audit_events').selectAll().execute());
    expect(all).not.toContain('not the password at all');
    expect(all).not.toContain(STRONG);
    expect(all).not.toContain(start.flowToken);
  });
});
