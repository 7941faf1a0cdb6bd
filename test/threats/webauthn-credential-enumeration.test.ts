/**
 * Threat: probing passwordless sign-in to learn which credential IDs exist, or whose they are. An
 * unknown credential ID, a real one with a forged signature, another tenant's key and a key of a
 * disabled account get the same status, code and reason (`invalid_assertion`); none signs anyone in.
 *
 * Fails when: an unknown credential is told apart (a 404, or another reason), or the credential is
 * looked up across tenants.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, json, seed, testApp, type TestApp } from '../helpers/app.js';
import { backends } from '../helpers/db.js';
import { allowKeys, answerKey, keysTenant, ORIGIN, registerKey, SoftAuthenticator, startPasskey } from '../helpers/webauthn.js';

describe.each(await backends())('credential IDs never enumerate users (%s)', (backend) => {
  let t: TestApp;
  let w: Awaited<ReturnType<typeof keysTenant>>;
  const kims = new SoftAuthenticator();
  const globex = new SoftAuthenticator();
  const disabled = new SoftAuthenticator();
  beforeAll(async () => {
    t = await testApp({ backend });
    w = await keysTenant(t, ['kim@acme.test', 'old@acme.test']);
    expect((await registerKey(t, w.token('kim@acme.test'), kims, { kind: 'passkey' })).res.statusCode).toBe(200);
    expect((await registerKey(t, w.token('old@acme.test'), disabled, { kind: 'passkey' })).res.statusCode).toBe(200);
    const g = await seed(t, { tenant: 'globex', users: [{ email: 'gus@globex.test', roles: ['tenant_admin'] }] });
    await allowKeys(t, g.users['gus@globex.test']!.token!, 'globex');
    expect((await registerKey(t, g.users['gus@globex.test']!.token!, globex, { kind: 'passkey' })).res.statusCode).toBe(200);
    expect((await api(t.app).post(`/v1/tenants/acme/users/${w.users['old@acme.test']!.id}/disable`, { token: w.token(w.admin) })).statusCode).toBe(200);
  });
  afterAll(() => t.close());

  it('unknown key, forged signature, another tenant’s key, a disabled account: one answer', async () => {
    const stranger = new SoftAuthenticator();
    await stranger.register({ challenge: 'AAAA', rp: { id: 'localhost', name: 'x' }, user: { id: 'bm9ib2R5', name: 'nobody' } }, { origin: ORIGIN });
    const answers = [];
    for (const [auth, o] of [
      [stranger, {}],
      [globex, {}],
      [disabled, {}],
    ] as const) {
      const p = await startPasskey(t, 'acme');
      answers.push(await answerKey(t, p.flow, await auth.assert(p.options, { origin: ORIGIN, ...o })));
    }
    // kim's real credential ID with a signature from another key
    const p = await startPasskey(t, 'acme');
    const real = await kims.assert(p.options, { origin: ORIGIN });
    const forged = await stranger.assert(p.options, { origin: ORIGIN });
    answers.push(await answerKey(t, p.flow, { ...forged, id: real.id, rawId: real.rawId, response: { ...forged.response, userHandle: real.response.userHandle } }));
    const seen = answers.map((r) => [r.statusCode, json(r).code, json(r).details?.reason, json(r).message]);
    expect(new Set(seen.map((x) => JSON.stringify(x))).size, JSON.stringify(seen)).toBe(1);
    expect(seen[0]!.slice(0, 3)).toEqual([401, 'invalid_factor', 'invalid_assertion']);
    // and kim's real answer still works
    const q = await startPasskey(t, 'acme');
    expect((await answerKey(t, q.flow, await kims.assert(q.options, { origin: ORIGIN }))).statusCode).toBe(200);
  });
});
