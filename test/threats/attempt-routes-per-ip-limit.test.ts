/**
 * Threat (found testing the running system from outside): attempt routes without a per-address
 * limit. Sign-in steps spent the per-IP budget, but checking a caller's code, PIN, security answer or
 * authenticator code, sending a code, the IVR step API and the Twilio voice webhook did not: from one
 * address an attacker with an agent session, an IVR key or a stream of signed webhooks could spread
 * guesses over many verifications (each with its own attempt budget) or pump codes, unthrottled.
 *
 * Against a real server that takes the client address from X-Forwarded-For (behind a proxy), with a
 * per-address budget of N attempts a minute: for each attempt route, N requests from one address
 * are answered by the route (whatever it says), the N+1st is refused with 429 `rate_limited` (the
 * registered code, no route-specific reason), and the same request from another address is
 * answered by the route again.
 *
 * Fails when: a route of src/http/routes/{verifications,ivr,twilio-voice}.ts has no `ipLimited`
 * hook (src/http/rate-limit.ts), or the hook keys on something else than the client address.
 */
import { createHmac } from 'node:crypto';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLimiters } from '../../src/http/rate-limit.js';
import { callerFixture } from '../helpers/callers.js';
import { Attacker, type Reply } from './attacker.js';
import { startTarget, type Target } from './server.js';

const N = 3;
const AUTH_TOKEN = 'per-ip-limit-twilio-token';
const PUBLIC_URL = 'https://callwarden.example.test';

const signTwilio = (url: string, params: Record<string, string>) => {
  let data = url;
  for (const k of Object.keys(params).sort()) data += k + params[k];
  return createHmac('sha1', AUTH_TOKEN).update(Buffer.from(data, 'utf-8')).digest('base64');
};

/** The per-address refusal: 429 rate_limited with a retry time and no reason of a route's own limits (send cooldowns say why). */
const refusedPerIp = (r: Reply) => r.status === 429 && r.code === 'rate_limited' && r.json?.details?.reason === undefined;

describe('per-IP limits on every attempt route', () => {
  let t: Target;
  let x: Attacker;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  let key: string;
  const limiters = createLimiters({ ipPerMinute: 100_000, identifierPerMinute: 100_000 });
  let address = 10;

  beforeAll(async () => {
    t = await startTarget({ limiters, env: { CALLWARDEN_TRUST_PROXY: 'true', CALLWARDEN_TWILIO_AUTH_TOKEN: AUTH_TOKEN, CALLWARDEN_PUBLIC_URL: PUBLIC_URL } });
    x = new Attacker(t.url);
    f = await callerFixture(t);
    const k = await x.post('/v1/tenants/acme/api-keys', { token: f.admin, body: { name: 'IVR', scopes: ['ivr'] } });
    expect(k.status, k.text).toBe(201);
    key = k.json.key as string;
    // seeding is done: from here on every address has N attempts a minute
    limiters.ip = new RateLimiterMemory({ keyPrefix: 'per-ip-test', points: N, duration: 60 });
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  let calls = 0;
  const verification = async () => {
    const r = await x.post('/v1/tenants/acme/verifications', { token: f.agent, xff: '192.0.2.250', body: { customerId: f.customerId, interactionId: `call-ip-${calls++}` } });
    expect(r.status, r.text).toBe(201);
    return r.json.id as string;
  };

  /** N attempts from one address pass the limit, the N+1st is refused, another address is answered. */
  async function expectLimited(attempt: (xff: string, i: number) => Promise<Reply>) {
    const ip = `203.0.113.${address++}`;
    for (let i = 0; i < N; i++) {
      const r = await attempt(ip, i);
      expect(refusedPerIp(r), `attempt ${i + 1}: ${r.status} ${r.text.slice(0, 200)}`).toBe(false);
      // the agent's session was accepted (a wrong answer is 401 invalid_factor, never unauthenticated)
      expect(r.code).not.toBe('unauthenticated');
    }
    const over = await attempt(ip, N);
    expect(over.status, over.text.slice(0, 200)).toBe(429);
    expect(over.code).toBe('rate_limited');
    expect(over.json.details).toMatchObject({ retryAfterSeconds: expect.any(Number) });
    expect(refusedPerIp(over)).toBe(true);
    const other = await attempt(`198.51.100.${address++}`, N + 1);
    expect(refusedPerIp(other), `${other.status} ${other.text.slice(0, 200)}`).toBe(false);
  }

  const agentPost = (path: string, body: unknown) => (xff: string) => x.post(path, { token: f.agent, xff, body });

  it('sending a code', async () => {
    const id = await verification();
    await expectLimited(agentPost(`/v1/tenants/acme/verifications/${id}/codes`, { contactId: f.phoneId, channel: 'sms' }));
  });

  it('checking a code', async () => {
    const id = await verification();
    await expectLimited(agentPost(`/v1/tenants/acme/verifications/${id}/codes/check`, { code: '000000' }));
  });

  it('checking a PIN', async () => {
    await expectLimited(async (xff) => x.post(`/v1/tenants/acme/verifications/${await verification()}/pin`, { token: f.agent, xff, body: { pin: '111111' } }));
  });

  it("checking the customer's authenticator code", async () => {
    const id = await verification();
    await expectLimited(agentPost(`/v1/tenants/acme/verifications/${id}/totp`, { code: '000000' }));
  });

  it('asking a security question and checking the answer', async () => {
    const id = await verification();
    await expectLimited((xff) => x.post(`/v1/tenants/acme/verifications/${id}/question`, { token: f.agent, xff }));
    const other = await verification();
    expect((await x.post(`/v1/tenants/acme/verifications/${other}/question`, { token: f.agent, xff: '192.0.2.251' })).status).toBe(200);
    await expectLimited(agentPost(`/v1/tenants/acme/verifications/${other}/question/answer`, { answer: 'not the answer' }));
  });

  it('the IVR step API: starting a verification and keying digits', async () => {
    const ivr = (path: string, body: unknown) => (xff: string) => x.post(path, { token: key, xff, body });
    await expectLimited((xff, i) => ivr('/v1/ivr/verifications', { customerId: f.customerId, interactionId: `ivr-ip-${address}-${i}` })(xff));
    const started = await x.post('/v1/ivr/verifications', { token: key, xff: '192.0.2.252', body: { customerId: f.customerId, interactionId: 'ivr-ip-digits' } });
    expect(started.status, started.text).toBe(201);
    await expectLimited(ivr(`/v1/ivr/verifications/${started.json.verification.id}/digits`, { digits: '111111#' }));
  });

  it('the Twilio voice webhook', async () => {
    const path = '/v1/ivr/twilio/acme/voice';
    await expectLimited((xff, i) => {
      const params = { CallSid: `CAperip${address}x${i}`, From: '+14155550134', To: '+15005550006' };
      return x.post(path, { xff, raw: new URLSearchParams(params).toString(), contentType: 'application/x-www-form-urlencoded', headers: { 'x-twilio-signature': signTwilio(PUBLIC_URL + path, params) } });
    });
  });
});
