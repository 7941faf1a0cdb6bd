/**
 * Threat (found testing the running system from outside): the authorization scheme compared
 * case-sensitively. RFC 9110 11.1 makes the scheme name case-insensitive, so `Authorization: bearer
 * <token>` is the same credential as `Bearer <token>`. A server that only knows `Bearer ` refuses
 * clients that spell it otherwise (some HTTP libraries and proxies lower-case it), and two layers
 * that disagree on the spelling are a classic way for one of them to skip a check.
 *
 * Over real HTTP: a staff session token and a tenant API key each work with `bearer`, `BEARER` and
 * `bEaReR` (also with a tab or several spaces after the scheme) exactly as with `Bearer`; another
 * scheme (`Basic`, `Token`) or a scheme without a token still answers 401.
 *
 * Fails when: sessionToken (src/http/auth.ts) or requireApiKey (src/http/api-key-auth.ts) match the
 * scheme name case-sensitively.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callerFixture } from '../helpers/callers.js';
import { Attacker } from './attacker.js';
import { startTarget, type Target } from './server.js';

describe('bearer scheme is case-insensitive', () => {
  let t: Target;
  let x: Attacker;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  let key: string;

  beforeAll(async () => {
    t = await startTarget();
    x = new Attacker(t.url);
    f = await callerFixture(t);
    const k = await x.post('/v1/tenants/acme/api-keys', { token: f.admin, body: { name: 'IVR', scopes: ['ivr'] } });
    expect(k.status, k.text).toBe(201);
    key = k.json.key as string;
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  const spellings = (token: string) => [`Bearer ${token}`, `bearer ${token}`, `BEARER ${token}`, `bEaReR ${token}`, `bearer\t${token}`, `bearer   ${token}`];

  it('a session token works with every spelling of the scheme', async () => {
    for (const authorization of spellings(f.agent)) {
      const r = await x.get('/v1/me', { headers: { authorization } });
      expect(r.status, `${JSON.stringify(authorization.slice(0, 9))}: ${r.text}`).toBe(200);
      expect(r.json.user?.email ?? r.json.email).toBe('agent@acme.test');
    }
  });

  it('an API key works with every spelling of the scheme', async () => {
    let n = 0;
    for (const authorization of spellings(key)) {
      const r = await x.post('/v1/ivr/verifications', { headers: { authorization }, body: { customerId: f.customerId, interactionId: `call-bearer-${n++}` } });
      expect(r.status, `${JSON.stringify(authorization.slice(0, 9))}: ${r.text}`).toBe(201);
    }
  });

  it('other schemes and a scheme without a token are still refused', async () => {
    for (const authorization of [`Basic ${f.agent}`, `Token ${f.agent}`, 'bearer', 'bearer ', `Bearer${f.agent}`]) {
      const me = await x.get('/v1/me', { headers: { authorization } });
      expect(me.status, authorization.slice(0, 12)).toBe(401);
      expect(me.code).toBe('unauthenticated');
    }
    for (const authorization of [`Basic ${key}`, 'bearer ', `Bearer${key}`]) {
      const ivr = await x.post('/v1/ivr/verifications', { headers: { authorization }, body: { customerId: f.customerId, interactionId: 'call-bearer-x' } });
      expect(ivr.status).toBe(401);
    }
  });
});
