/**
 * The number of SQL statements a request costs is a budget (issue: every request of a flow does at
 * most 3, the session read included, in at most one commit; a caller verification's start + send +
 * check at most 9). The counts are exact, so a change that adds a statement to a step shows here.
 */
import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twilioSignature } from '../../src/http/twiml.js';
import { totpAt } from '../../src/methods/totp/core.js';
import { api, enrollTotp, json, seed, STRONG, testApp, type TestApp } from '../helpers/app.js';
import { callerFixture, lastCodeTo } from '../helpers/callers.js';
import { atSecondFactor } from '../helpers/flows.js';
import { answerKey, keysTenant, ORIGIN, registerKey, SoftAuthenticator } from '../helpers/webauthn.js';

const count = (r: { headers: Record<string, unknown> }) => Number(r.headers['x-sql-statements']);

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

  it('a password + TOTP sign-in takes 1 + 2 + 2 statements, and an authenticated read takes 1', async () => {
    const a = api(t.app);
    const start = await a.post('/v1/auth/flows', { body: { tenant: 'acme', identifier: 'ana@acme.test' } });
    const pw = await a.post(`/v1/auth/flows/${json(start).flow.id}/password`, { flow: json(start).flowToken, body: { password: STRONG } });
    const code = totpAt(Buffer.from(Secret.fromBase32(secret).bytes), t.clock.now());
    const f = await a.post(`/v1/auth/flows/${json(start).flow.id}/factor`, { flow: json(pw).flowToken, body: { method: 'totp', code } });
    expect(f.statusCode).toBe(200);
    token = json(f).session.token;
    // start: the flow for the tenant's slug; password and factor: the claim, then the record
    // (advance + counter reset + events, and on the last step the session and last sign-in)
    expect([count(start), count(pw), count(f)]).toEqual([1, 2, 2]);
    expect(count(await a.get('/v1/me', { token }))).toBe(1);
  });

  it('a wrong password costs the claim and the failure (counter + event in one statement)', async () => {
    const a = api(t.app);
    const start = await a.post('/v1/auth/flows', { body: { tenant: 'acme', identifier: 'ana@acme.test' } });
    const pw = await a.post(`/v1/auth/flows/${json(start).flow.id}/password`, { flow: json(start).flowToken, body: { password: 'wrong wrong wrong' } });
    expect(pw.statusCode).toBe(401);
    expect(count(pw)).toBe(2);
  });
});

describe('SQL statements per caller-verification request', () => {
  let t: TestApp;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  beforeAll(async () => {
    t = await testApp();
    f = await callerFixture(t);
  });
  afterAll(() => t.close());

  const verify = async (interactionId: string) => {
    const a = api(t.app);
    const start = await a.post('/v1/tenants/acme/verifications', { token: f.agent, body: { customerId: f.customerId, interactionId } });
    const id = json(start).id as string;
    await a.post(`/v1/tenants/acme/verifications/${id}/codes`, { token: f.agent, body: { contactId: f.phoneId, channel: 'sms' } });
    const check = await a.post(`/v1/tenants/acme/verifications/${id}/codes/check`, { token: f.agent, body: { code: await lastCodeTo(t, '+14155550134') } });
    return { start, check };
  };

  it("the tenant's first assertion in a process also reads (once: creates) its signing key", async () => {
    const { check } = await verify('call-warm-up');
    expect(json(check).state).toBe('verified');
    // read the current key, none: create it and read it back; afterwards it is cached in the process
    expect(count(check)).toBe(6);
    t.clock.advance(61_000);
  });

  it('start + send + check is 3 + 3 + 3 statements (session read, claim, record), 9 in all', async () => {
    const a = api(t.app);
    const start = await a.post('/v1/tenants/acme/verifications', { token: f.agent, body: { customerId: f.customerId, interactionId: 'call-budget-1' } });
    expect(start.statusCode).toBe(201);
    const id = json(start).id as string;
    const send = await a.post(`/v1/tenants/acme/verifications/${id}/codes`, { token: f.agent, body: { contactId: f.phoneId, channel: 'sms' } });
    expect(send.statusCode).toBe(200);
    const code = await lastCodeTo(t, '+14155550134');
    const check = await a.post(`/v1/tenants/acme/verifications/${id}/codes/check`, { token: f.agent, body: { code } });
    expect(check.statusCode).toBe(200);
    expect(json(check).state).toBe('verified');
    expect([count(start), count(send), count(check)]).toEqual([3, 3, 3]);
    // reading it back: the session and one statement
    expect(count(await a.get(`/v1/tenants/acme/verifications/${id}`, { token: f.agent }))).toBe(2);
  });

  it('a wrong code costs the session, the claim and the failure', async () => {
    const a = api(t.app);
    const start = await a.post('/v1/tenants/acme/verifications', { token: f.agent, body: { customerId: f.customerId, interactionId: 'call-budget-2' } });
    const id = json(start).id as string;
    t.clock.advance(61_000);
    await a.post(`/v1/tenants/acme/verifications/${id}/codes`, { token: f.agent, body: { contactId: f.emailId, channel: 'email' } });
    const check = await a.post(`/v1/tenants/acme/verifications/${id}/codes/check`, { token: f.agent, body: { code: '000000' } });
    expect(check.statusCode).toBe(401);
    expect(count(check)).toBe(3);
  });
});

describe('SQL statements per IVR request (API key and Twilio webhook)', () => {
  const PUBLIC_URL = 'https://callwarden.example.test';
  const TOKEN = 'statement-budget-twilio-token';
  let t: TestApp;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  let key: string;
  beforeAll(async () => {
    t = await testApp({ env: { CALLWARDEN_TWILIO_AUTH_TOKEN: TOKEN, CALLWARDEN_PUBLIC_URL: PUBLIC_URL } });
    f = await callerFixture(t);
    key = json(await api(t.app).post('/v1/tenants/acme/api-keys', { token: f.admin, body: { name: 'IVR', scopes: ['ivr'] } })).key;
    // the tenant's first assertion in this process creates its signing key (counted above): a warm-up
    const a = api(t.app);
    const warm = json(await a.post('/v1/tenants/acme/verifications', { token: f.agent, body: { customerId: f.customerId, interactionId: 'call-warm-up' } })).id as string;
    await a.post(`/v1/tenants/acme/verifications/${warm}/codes`, { token: f.agent, body: { contactId: f.emailId, channel: 'email' } });
    const checked = await a.post(`/v1/tenants/acme/verifications/${warm}/codes/check`, { token: f.agent, body: { code: await lastCodeTo(t, 'dana@example.com') } });
    expect(json(checked).state).toBe('verified');
    t.clock.advance(61_000);
  });
  afterAll(() => t.close());

  const ivr = (method: 'GET' | 'POST', url: string, body?: object) => t.app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(body ? { payload: body } : {}) });

  /** A whole IVR call (wrong PIN, PIN, menu, wrong code, code), with or without the prompts' refs: the statements of each request. */
  async function ivrCall(interactionId: string, withRef: boolean) {
    t.clock.advance(120_000);
    const started = await ivr('POST', '/v1/ivr/verifications', { callerAni: '+14155550134', interactionId, attestation: 'A' });
    expect(started.statusCode, started.body).toBe(201);
    const id = json(started).verification.id as string;
    let ref = json(started).prompt.ref as string;
    const prompt = await ivr('GET', `/v1/ivr/verifications/${id}/prompt`);
    const digits = async (d: string, expected: object) => {
      const r = await ivr('POST', `/v1/ivr/verifications/${id}/digits`, { digits: d, ...(withRef ? { ref } : {}) });
      expect(r.statusCode, r.body).toBe(200);
      expect(json(r)).toMatchObject(expected);
      ref = json(r).ref;
      return count(r);
    };
    const wrongPin = await digits('111111#', { accepted: false, step: 'pin' });
    const pin = await digits('480613#', { accepted: true, step: 'choice' });
    const choice = await digits('1', { accepted: true, step: 'code' });
    const code = await lastCodeTo(t, '+14155550134');
    const wrongCode = await digits(code === '000000' ? '111111#' : '000000#', { accepted: false, step: 'code' });
    const right = await digits(`${code}#`, { accepted: true, result: 'verified' });
    expect(ref).toBeUndefined(); // done: nothing more to key
    return { start: count(started), prompt: count(prompt), wrongPin, pin, choice, wrongCode, right };
  }

  it('the JSON step API: the key (1), the step decided from the stored flow (1), then the claim and the record (2)', async () => {
    // start: the key, the caller found by the calling number, the start's read, the flow with its
    // event (the first prompt comes from the flow just written); every step's next prompt comes from
    // what the step's own statements left, never from a second read
    expect(await ivrCall('call-ivr-budget', false)).toEqual({ start: 4, prompt: 2, wrongPin: 4, pin: 4, choice: 4, wrongCode: 4, right: 4 });
  });

  it("with the prompt's ref sent back, a step is the key (1), the claim and the record (2): 3", async () => {
    expect(await ivrCall('call-ivr-budget-ref', true)).toEqual({ start: 4, prompt: 2, wrongPin: 3, pin: 3, choice: 3, wrongCode: 3, right: 3 });
  });

  // the header is set before the route stores the delivery's answer (its onSend hook runs later): the
  // stored answer is the 6th statement of a step, and the repeat below proves it was stored
  it('a Twilio webhook step: the tenant, the receipt claimed, the call\'s flow with its customer, the claim and the record (5, then the answer stored)', async () => {
    t.clock.advance(120_000);
    const PATH = '/v1/ivr/twilio/acme/voice';
    const base = { AccountSid: 'AC00000000000000000000000000000000', To: '+15005550006', Direction: 'inbound', CallStatus: 'in-progress', CallSid: 'CAbudget01', From: '+14155550134', StirVerstat: 'TN-Validation-Passed-A' };
    const call = (params: Record<string, string>, path: string) =>
      t.app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(TOKEN, PUBLIC_URL + path, params) }, payload: new URLSearchParams(params).toString() });
    const nextPath = (twiml: string) => `${PATH}?step=${/step=(\d+)/.exec(twiml)![1]}`;
    const first = await call(base, PATH);
    const pin = await call({ ...base, Digits: '480613' }, nextPath(first.body));
    expect(pin.body).toMatch(/press 1/);
    const again = await call({ ...base, Digits: '480613' }, nextPath(first.body));
    expect(again.body).toBe(pin.body); // a repeated delivery: answered from its receipt
    expect([count(pin), count(again)]).toEqual([5, 3]);
  });
});

describe('SQL statements per security-key step', () => {
  let t: TestApp;
  let keyToken: string;
  const key = new SoftAuthenticator({ userVerification: true });
  beforeAll(async () => {
    t = await testApp();
    const w = await keysTenant(t, ['kim@acme.test']);
    keyToken = w.token('kim@acme.test');
  });
  afterAll(() => t.close());

  it('registration: begin and finish', async () => {
    const r = await registerKey(t, keyToken, key, { kind: 'passkey' });
    expect(r.res.statusCode, r.res.body).toBe(200);
    const begin = await api(t.app).post('/v1/me/factors/webauthn', { token: keyToken, body: { kind: 'passkey' } });
    const credential = await new SoftAuthenticator().register(json(begin).options, { origin: ORIGIN });
    const finish = await api(t.app).post(`/v1/me/factors/webauthn/${json(begin).registrationId}`, { token: keyToken, body: { credential } });
    expect(finish.statusCode, finish.body).toBe(200);
    // begin: session, policy, the user's keys (excluded), the flow with its event; finish: session, policy
    // (fresh authentication), the claim, the record (key + flow + event in one), the notice (its template
    // read, the outbox row), whether recovery codes exist. Registering is rare; signing in is the hot path.
    expect([count(begin), count(finish)]).toEqual([4, 7]);
  });

  it('second factor: options (the flow, the keys allowed, the challenge written), then the claim and the record', async () => {
    const flow = await atSecondFactor(t.app, 'acme', 'kim@acme.test');
    const options = await api(t.app).post(`/v1/auth/flows/${flow.id}/webauthn/options`, { flow: flow.token });
    const done = await answerKey(t, flow, await key.assert(json(options).options, { origin: ORIGIN, credentialId: key.credentialIds[0]! }));
    expect(done.statusCode, done.body).toBe(200);
    expect([count(options), count(done)]).toEqual([3, 2]);
  });

  it('passwordless: the flow with its challenge (1), then the claim and the record (2)', async () => {
    const start = await api(t.app).post('/v1/auth/passkey', { body: { tenant: 'acme' } });
    const done = await answerKey(t, { id: json(start).flow.id, token: json(start).flowToken }, await key.assert(json(start).options, { origin: ORIGIN }));
    expect(done.statusCode, done.body).toBe(200);
    expect([count(start), count(done)]).toEqual([1, 2]);
  });
});
