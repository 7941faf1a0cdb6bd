/**
 * Threat: a phishing site relays the WebAuthn ceremony (VNB-2/3). The key signs the origin the
 * browser was on and the RP ID hash of the site it was asked for, so an assertion or a registration
 * made on another origin, or for another RP ID, never verifies — it is a counted wrong answer, and
 * the challenge it was aimed at is spent.
 *
 * Fails when: the origin or RP ID is not checked (the library called without expectedOrigin /
 * expectedRPID), or a refused answer leaves the challenge open for the relayed real one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, json, testApp, type TestApp } from '../helpers/app.js';
import { backends } from '../helpers/db.js';
import { atSecondFactor } from '../helpers/flows.js';
import { answerKey, keyOptions, keysTenant, ORIGIN, registerKey, SoftAuthenticator } from '../helpers/webauthn.js';

describe.each(await backends())('an assertion for another origin or RP ID (%s)', (backend) => {
  let t: TestApp;
  let w: Awaited<ReturnType<typeof keysTenant>>;
  const key = new SoftAuthenticator({ userVerification: false });
  beforeAll(async () => {
    t = await testApp({ backend });
    w = await keysTenant(t, ['kim@acme.test', 'ivo@acme.test']);
    expect((await registerKey(t, w.token('kim@acme.test'), key)).res.statusCode).toBe(200);
  });
  afterAll(() => t.close());

  const refused = async (o: { origin: string; rpId?: string }) => {
    const flow = await atSecondFactor(t.app, 'acme', 'kim@acme.test');
    const options = await keyOptions(t, flow);
    const r = await answerKey(t, flow, await key.assert(options, { origin: o.origin, ...(o.rpId ? { rpId: o.rpId } : {}) }));
    // the real key's answer to the same challenge afterwards: the challenge was spent by the refusal
    const late = await answerKey(t, flow, await key.assert(options, { origin: ORIGIN }));
    return { r, late, flow };
  };

  it('refuses an assertion made on another origin, counts it, and spends the challenge', async () => {
    const { r, late } = await refused({ origin: 'https://acme-login.example' });
    expect([r.statusCode, json(r).code, json(r).details.reason]).toEqual([401, 'invalid_factor', 'wrong_origin']);
    expect(json(r).details.attemptsLeft).toBe(4); // of 5: the right password gave its attempt back, this one is counted
    expect([late.statusCode, json(late).details.reason]).toEqual([401, 'no_challenge']);
  });

  it('refuses an assertion signed for another RP ID, even from the right origin', async () => {
    const { r } = await refused({ origin: ORIGIN, rpId: 'evil.example' });
    expect([r.statusCode, json(r).code, json(r).details.reason]).toEqual([401, 'invalid_factor', 'wrong_rp_id']);
  });

  it('refuses a registration made on another origin or for another RP ID: no key is bound', async () => {
    const other = new SoftAuthenticator();
    const a = await registerKey(t, w.token('ivo@acme.test'), other, { origin: 'https://acme-login.example' });
    expect([a.res.statusCode, a.body.details?.reason]).toEqual([401, 'wrong_origin']);
    const begin = json(await api(t.app).post('/v1/me/factors/webauthn', { token: w.token('ivo@acme.test'), body: { kind: 'security_key' } }));
    const credential = await other.register({ ...begin.options, rp: { ...begin.options.rp, id: 'evil.example' } }, { origin: ORIGIN });
    const b = await api(t.app).post(`/v1/me/factors/webauthn/${begin.registrationId}`, { token: w.token('ivo@acme.test'), body: { credential } });
    expect([b.statusCode, json(b).details?.reason]).toEqual([401, 'wrong_rp_id']);
    const factors = json(await api(t.app).get('/v1/me/factors', { token: w.token('ivo@acme.test') })).factors;
    expect(factors.filter((f: { kind: string }) => f.kind === 'webauthn')).toEqual([]);
  });
});
