/** The number of SQL statements a sign-in costs is a budget: a change that adds statements shows here. */
import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpAt } from '../../src/factors/totp-core.js';
import { api, enrollTotp, json, seed, STRONG, testApp, type TestApp } from '../helpers/app.js';

describe('SQL statements per request', () => {
  let t: TestApp;
  let secret: string;
  let token: string;
  beforeAll(async () => {
    t = await testApp();
    const seeded = await seed(t, { users: [{ email: 'ana@acme.test', roles: ['agent'] }] });
    secret = (await enrollTotp(t, seeded.users['ana@acme.test']!.token!)).secret;
    t.clock.advance(31_000);
  });
  afterAll(() => t.close());

  const count = (r: { headers: Record<string, unknown> }) => Number(r.headers['x-sql-statements']);

  it('a password + TOTP sign-in takes 2 + 3 + 5 statements, and an authenticated read takes 1', async () => {
    const a = api(t.app);
    const start = await a.post('/v1/auth/flows', { body: { tenant: 'acme', identifier: 'ana@acme.test' } });
    const pw = await a.post(`/v1/auth/flows/${json(start).flow.id}/password`, { flow: json(start).flowToken, body: { password: STRONG } });
    const code = totpAt(Buffer.from(Secret.fromBase32(secret).bytes), t.clock.now());
    const f = await a.post(`/v1/auth/flows/${json(start).flow.id}/factor`, { flow: json(pw).flowToken, body: { method: 'totp', code } });
    expect(f.statusCode).toBe(200);
    token = json(f).session.token;
    expect([count(start), count(pw), count(f)]).toEqual([2, 3, 5]);
    expect(count(await a.get('/v1/me', { token }))).toBe(1);
  });

  it('a wrong password costs the claim, the failure stamp and the audit event', async () => {
    const a = api(t.app);
    const start = await a.post('/v1/auth/flows', { body: { tenant: 'acme', identifier: 'ana@acme.test' } });
    const pw = await a.post(`/v1/auth/flows/${json(start).flow.id}/password`, { flow: json(start).flowToken, body: { password: 'wrong wrong wrong' } });
    expect(pw.statusCode).toBe(401);
    expect(count(pw)).toBe(3);
  });
});
