/**
 * Twilio-style voice webhooks: requests are signed the Twilio way (base64 HMAC-SHA1 with the auth
 * token over the full URL plus each POST parameter name and value, sorted by name), computed here
 * independently; a bad or missing signature is refused with 403. TwiML answers parse as XML with the
 * expected verbs, and a whole call (PIN, then an SMS code) ends with <Say> verified and <Hangup/>.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twilioSignature } from '../../src/http/twiml.js';
import { api, json, testApp, type TestApp } from '../helpers/app.js';
import { callerFixture, lastCodeTo } from '../helpers/callers.js';
import { parseXml, verbs, type XmlElement } from '../helpers/xml.js';

const AUTH_TOKEN = 'twilio-voice-test-token';
const PUBLIC_URL = 'https://callwarden.example.test';
const PATH = '/v1/ivr/twilio/acme/voice';

/** Twilio's algorithm, written out independently of the server's code. */
function sign(url: string, params: Record<string, string>, token = AUTH_TOKEN): string {
  let data = url;
  for (const k of Object.keys(params).sort()) data += k + params[k];
  return createHmac('sha1', token).update(Buffer.from(data, 'utf-8')).digest('base64');
}

describe('Twilio voice webhooks', () => {
  let t: TestApp;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  const bodies: string[] = [];

  const call = (params: Record<string, string>, o: { signature?: string | null; path?: string } = {}) => {
    const path = o.path ?? PATH;
    const signature = o.signature === undefined ? sign(PUBLIC_URL + path, params) : o.signature;
    return t.app
      .inject({
        method: 'POST',
        url: path,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature !== null ? { 'x-twilio-signature': signature } : {}) },
        payload: new URLSearchParams(params).toString(),
      })
      .then((r) => {
        bodies.push(r.body);
        return r;
      });
  };
  const twiml = async (params: Record<string, string>) => {
    const r = await call(params);
    expect(r.statusCode, r.body).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/xml/);
    const root = parseXml(r.body);
    expect(root.name).toBe('Response');
    return root;
  };
  const gather = (root: XmlElement) => {
    expect(verbs(root)).toEqual(['Gather', 'Say', 'Hangup']);
    const g = root.children[0]!;
    // the action is this webhook again, with the step of the call it answers (a repeated delivery of a step is answered once)
    expect(g.attrs).toMatchObject({ input: 'dtmf', action: expect.stringMatching(new RegExp(`^${(PUBLIC_URL + PATH).replace(/[.?]/g, '\\$&')}\\?step=[1-9]\\d*$`)), method: 'POST', finishOnKey: '#', timeout: '10' });
    expect(verbs(g)).toEqual(['Say']);
    return g.children[0]!.text;
  };
  const base = { AccountSid: 'AC00000000000000000000000000000000', To: '+15005550006', Direction: 'inbound', CallStatus: 'in-progress' };

  beforeAll(async () => {
    t = await testApp({ env: { CALLWARDEN_TWILIO_AUTH_TOKEN: AUTH_TOKEN, CALLWARDEN_PUBLIC_URL: PUBLIC_URL } });
    f = await callerFixture(t);
  });
  afterAll(() => t.close());

  it("signs exactly as Twilio does: the worked example of Twilio's security documentation", () => {
    const params = { CallSid: 'CA1234567890ABCDE', Caller: '+12349013030', Digits: '1234', From: '+12349013030', To: '+18005551212' };
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    expect(twilioSignature('12345', url, params)).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
    expect(sign(url, params, '12345')).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
  });

  it('refuses a missing or bad signature with 403 and an error body, and starts nothing', async () => {
    const params = { ...base, CallSid: 'CAbad0001', From: '+14155550134' };
    const refused = [
      await call(params, { signature: null }),
      await call(params, { signature: sign(PUBLIC_URL + PATH, params, 'another-token') }),
      await call(params, { signature: sign(PUBLIC_URL + PATH, { ...params, From: '+14155550199' }) }),
      await call(params, { signature: sign(PUBLIC_URL + '/v1/ivr/twilio/globex/voice', params) }),
      await call(params, { signature: sign(`http://127.0.0.1:3000${PATH}`, params) }),
    ];
    for (const r of refused) {
      expect(r.statusCode).toBe(403);
      expect(json(r)).toMatchObject({ code: 'forbidden', details: { reason: 'bad_signature' }, requestId: expect.any(String) });
    }
    expect(await t.s.store.flows.readLatestForInteraction(f.tenantId, 'CAbad0001', [], new Date()).then((c) => c?.flow)).toBeUndefined();
    const asJson = await t.app.inject({ method: 'POST', url: PATH, headers: { 'x-twilio-signature': sign(PUBLIC_URL + PATH, params) }, payload: params });
    expect(asJson.statusCode).toBe(415);
  });

  it('a valid signature is accepted; the signature covers every parameter sent and the query string', async () => {
    const params = { ...base, CallSid: 'CAok0001', From: '+14155550134', CallerName: 'DANA W & CO', StirVerstat: 'TN-Validation-Passed-B' };
    expect((await call(params)).statusCode).toBe(200);
    const withLevel = `${PATH}?level=high`;
    const r = await call({ ...base, CallSid: 'CAok0002', From: '+14155550134' }, { path: withLevel });
    expect(r.statusCode, r.body).toBe(200);
    const v = await t.s.store.flows.readLatestForInteraction(f.tenantId, 'CAok0002', [], new Date()).then((c) => c?.flow);
    expect(v).toMatchObject({ kind: 'verification', required_level: 'high', context: { channel: 'ivr', startedBy: { type: 'system' } } });
    const first = await t.s.store.flows.readLatestForInteraction(f.tenantId, 'CAok0001', [], new Date()).then((c) => c?.flow);
    expect(JSON.stringify(first!.context.risk)).toContain('partial attestation (B)');
  });

  it('a whole call: PIN, then an SMS code -> <Say> verified and <Hangup/>', async () => {
    const params = { ...base, CallSid: 'CAcall0001', From: '+14155550134', StirVerstat: 'TN-Validation-Passed-A' };
    expect(gather(await twiml(params))).toMatch(/enter your PIN, followed by the pound key/);
    expect(gather(await twiml({ ...params, Digits: '480613' }))).toMatch(/For a text message to your phone number ending in 0 1 3 4, press 1\./);
    const choice = await twiml({ ...params, Digits: '1' });
    expect(gather(choice)).toMatch(/^Thank you\. Please enter the 6-digit code we sent to your phone number ending in 0 1 3 4, followed by the pound key\./);
    const code = await lastCodeTo(t, '+14155550134');
    const wrong = await twiml({ ...params, Digits: code === '000000' ? '111111' : '000000' });
    expect(gather(wrong)).toMatch(/^That code is not correct\./);
    const done = await twiml({ ...params, Digits: code });
    expect(verbs(done)).toEqual(['Say', 'Hangup']);
    expect(done.children[0]!.text).toMatch(/verified/);
    for (const b of bodies) expect(b).not.toContain(code);

    const seen = await api(t.app).get('/v1/tenants/acme/interactions/CAcall0001/verification', { token: f.agent });
    expect(json(seen)).toMatchObject({ channel: 'ivr', state: 'verified', completedMethods: ['pin', 'otp_sms'] });
    expect(json(seen).risk.signals).toEqual(expect.arrayContaining([expect.objectContaining({ signal: 'attestation', points: 0 })]));
    // a late webhook for the finished call just says the result again
    expect(verbs(await twiml({ ...params, Digits: '1' }))).toEqual(['Say', 'Hangup']);
  });

  it('an unknown or withheld caller number hears a polite message and the call ends', async () => {
    for (const From of ['+14155550199', 'anonymous']) {
      const root = await twiml({ ...base, CallSid: `CAunknown-${From}`, From });
      expect(verbs(root)).toEqual(['Say', 'Hangup']);
      expect(root.children[0]!.text).toMatch(/could not find your account/);
    }
  });

  it('the XML reader used here refuses what is not well-formed', () => {
    expect(() => parseXml('<Response><Say>x</Response>')).toThrow();
    expect(() => parseXml('<Response><Say>a & b</Say></Response>')).toThrow();
    expect(() => parseXml('<Response/><Response/>')).toThrow();
    expect(parseXml('<?xml version="1.0"?><Response><Say>a &amp; b</Say><Hangup/></Response>').children[0]!.text).toBe('a & b');
  });
});
