import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, enrollTotp, json, seed, signIn, STRONG, testApp, type TestApp } from '../helpers/app.js';

describe('staff sign-in over HTTP', () => {
  let t: TestApp;
  let seeded: Awaited<ReturnType<typeof seed>>;
  beforeAll(async () => {
    t = await testApp();
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
    const me = await api(t.app).get('/v1/me', { token: r.token });
    expect(me.statusCode).toBe(200);
    expect(json(me).session.aal).toBe(2);
    expect(json(me).session.methods).toEqual(['pwd', 'totp']);
  });
});
