/**
 * Threat: a stolen security key used without its PIN or biometrics where the tenant requires user
 * verification (or for passwordless sign-in, which always does): the assertion's UV flag is not set,
 * so it is refused (a counted wrong answer) and no session is issued; the same key with UV passes,
 * and a key without UV registered under a policy that requires UV is refused at registration.
 *
 * Fails when: requireUserVerification is not passed to the library from the challenge, or the
 * policy's userVerification setting is not enforced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, json, testApp, type TestApp } from '../helpers/app.js';
import { backends } from '../helpers/db.js';
import { atSecondFactor } from '../helpers/flows.js';
import { allowKeys, answerKey, keyOptions, keysTenant, ORIGIN, registerKey, SoftAuthenticator } from '../helpers/webauthn.js';

describe.each(await backends())('user verification missing where it is required (%s)', (backend) => {
  let t: TestApp;
  let w: Awaited<ReturnType<typeof keysTenant>>;
  const key = new SoftAuthenticator({ userVerification: true });
  beforeAll(async () => {
    t = await testApp({ backend });
    w = await keysTenant(t, ['kim@acme.test', 'ivo@acme.test']);
    expect((await registerKey(t, w.token('kim@acme.test'), key)).res.statusCode).toBe(200);
  });
  afterAll(() => t.close());

  it('policy userVerification=required: the key without UV is refused, with UV it signs in', async () => {
    await allowKeys(t, w.token(w.admin), 'acme', { userVerification: 'required' });
    const flow = await atSecondFactor(t.app, 'acme', 'kim@acme.test');
    const options = await keyOptions(t, flow);
    expect(options.userVerification).toBe('required');
    const r = await answerKey(t, flow, await key.assert(options, { origin: ORIGIN, userVerification: false }));
    expect([r.statusCode, json(r).code, json(r).details.reason, json(r).details.attemptsLeft]).toEqual([401, 'invalid_factor', 'uv_required', 4]);
    expect(json(r).session).toBeUndefined();
    const ok = await answerKey(t, flow, await key.assert(await keyOptions(t, flow), { origin: ORIGIN }));
    expect(ok.statusCode, ok.body).toBe(200);
    expect(json(await api(t.app).get('/v1/me', { token: json(ok).session.token })).session.methods).toEqual(['pwd', 'webauthn_uv']);
  });

  it('policy userVerification=required: a key that cannot verify its user is not registered', async () => {
    const noUv = new SoftAuthenticator({ userVerification: false });
    const r = await registerKey(t, w.token('ivo@acme.test'), noUv);
    expect([r.res.statusCode, r.body.details?.reason]).toEqual([401, 'uv_required']);
    await allowKeys(t, w.token(w.admin), 'acme', { userVerification: 'preferred' });
  });
});
