/**
 * Threat: enrollment without fresh authentication (NIST BAA-2/3, ASVS 7.5.1). A stolen or unattended
 * session must not bind a new authenticator, remove one or mint recovery codes: after the policy's
 * re-authentication window (10 minutes by default) these answer 401 reauthentication_required and
 * change nothing; after re-authentication they work, and each change sends the user a notice.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, json, seed, testApp, type TestApp } from '../helpers/app.js';
import { notices, reauthenticate, signInPassword, signInTotp, totpFor, withTotp } from '../helpers/flows.js';

const ELEVEN_MINUTES = 11 * 60_000;

describe('enrollment without fresh authentication', () => {
  let t: TestApp;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const ana = 'ana@acme.test';
  const ben = 'ben@acme.test';
  let anaTotp: Awaited<ReturnType<typeof withTotp>>;

  beforeAll(async () => {
    t = await testApp();
    seeded = await seed(t, { users: [{ email: ana, roles: ['agent'] }, { email: ben, roles: ['agent'] }] });
    anaTotp = await withTotp(t, seeded.users[ana]!.token!);
  });
  afterAll(() => t.close());

  const x = () => api(t.app);
  const factors = async (token: string) => json(await x().get('/v1/me/factors', { token })).factors as Array<{ id: string; kind: string; remaining?: number }>;
  const expectStale = (r: LightMyRequestResponse) => {
    expect(r.statusCode, r.body).toBe(401);
    expect(json(r).code).toBe('reauthentication_required');
    expect(json(r).details.maxAgeSeconds).toBe(600);
  };

  it('refuses to add an authenticator app 11 minutes after sign-in, and allows it after re-authentication', async () => {
    const token = await signInPassword(t.app, 'acme', ben);
    const begun = await x().post('/v1/me/factors/totp', { token });
    expect(begun.statusCode).toBe(201); // fresh: allowed

    t.clock.advance(ELEVEN_MINUTES);
    expect((await x().get('/v1/me', { token })).statusCode).toBe(200); // the session itself is still alive
    expectStale(await x().post(`/v1/me/factors/totp/${json(begun).factorId}/confirm`, { token, body: { code: totpFor(json(begun).secret, t.clock.now()) } }));
    expectStale(await x().post('/v1/me/factors/totp', { token }));
    expect((await factors(token)).map((f) => f.kind)).not.toContain('totp');
    expect(await notices(t, ben, 'factor_added')).toHaveLength(0);

    const fresh = await reauthenticate(t, token);
    const again = await x().post('/v1/me/factors/totp', { token: fresh });
    expect(again.statusCode).toBe(201);
    const confirmed = await x().post(`/v1/me/factors/totp/${json(again).factorId}/confirm`, { token: fresh, body: { code: totpFor(json(again).secret, t.clock.now()) } });
    expect(confirmed.statusCode).toBe(200);
    expect((await factors(fresh)).map((f) => f.kind)).toContain('totp');
    expect(await notices(t, ben, 'factor_added')).toHaveLength(1);
  });

  it('refuses to remove a factor or regenerate recovery codes 11 minutes after sign-in, and allows both after re-authentication', async () => {
    const { secret, factorId, recoveryCodes } = anaTotp;
    expect(recoveryCodes).toHaveLength(10);
    const token = await signInTotp(t, 'acme', ana, secret);
    const sent = { removed: (await notices(t, ana, 'factor_removed')).length, regenerated: (await notices(t, ana, 'recovery_codes_regenerated')).length };

    t.clock.advance(ELEVEN_MINUTES);
    expectStale(await x().del(`/v1/me/factors/${factorId}`, { token }));
    expectStale(await x().post('/v1/me/recovery-codes', { token }));
    const unchanged = await factors(token);
    expect(unchanged.map((f) => f.id)).toContain(factorId);
    expect(unchanged.find((f) => f.kind === 'recovery_code')?.remaining).toBe(10);
    expect((await notices(t, ana, 'factor_removed')).length).toBe(sent.removed);
    expect((await notices(t, ana, 'recovery_codes_regenerated')).length).toBe(sent.regenerated);

    const fresh = await reauthenticate(t, token, secret);
    const regen = await x().post('/v1/me/recovery-codes', { token: fresh });
    expect(regen.statusCode).toBe(200);
    expect(json(regen).recoveryCodes).toHaveLength(10);
    expect(json(regen).recoveryCodes).not.toContain(recoveryCodes[0]);
    expect((await notices(t, ana, 'recovery_codes_regenerated')).length).toBe(sent.regenerated + 1);

    const removed = await x().del(`/v1/me/factors/${factorId}`, { token: fresh });
    expect(removed.statusCode).toBe(200);
    expect((await factors(fresh)).map((f) => f.id)).not.toContain(factorId);
    const removedNotices = await notices(t, ana, 'factor_removed');
    expect(removedNotices.length).toBe(sent.removed + 1);
    expect(removedNotices[0]!.channel).toBe('email');
  });
});
