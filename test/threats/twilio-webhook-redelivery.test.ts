/**
 * Threat (found testing the running system from outside): a webhook delivered twice changed state
 * twice. Twilio delivers a voice webhook again when it thinks the first delivery failed (a timeout,
 * a reset connection), and a duplicate can arrive while the first copy is still being handled. Each
 * copy was handled: a wrong PIN counted two failures (a caller locked out sooner, by the network),
 * and a right answer delivered twice moved the call a step past the caller.
 *
 * Against a real server, signed the Twilio way: a delivery of a step (same CallSid and `step`, the
 * marker Callwarden puts on its Gather actions) or of a request with the same
 * `I-Twilio-Idempotency-Token` is answered with byte-for-byte the same TwiML, sequentially and
 * in parallel, while the verification counts one attempt and moves one step; a new step is
 * handled as new.
 *
 * Fails when: the route handles every delivery (no receipt claimed in webhook_receipts before
 * handling, src/http/routes/twilio-voice.ts and src/http/webhook-once.ts), or a concurrent copy is
 * handled instead of waiting for the first copy's answer.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callerFixture } from '../helpers/callers.js';
import { parseXml } from '../helpers/xml.js';
import { Attacker, parallel, type Reply } from './attacker.js';
import { startTarget, type Target } from './server.js';

const AUTH_TOKEN = 'redelivery-twilio-token';
const PUBLIC_URL = 'https://callwarden.example.test';
const PATH = '/v1/ivr/twilio/acme/voice';

const sign = (url: string, params: Record<string, string>) => {
  let data = url;
  for (const k of Object.keys(params).sort()) data += k + params[k];
  return createHmac('sha1', AUTH_TOKEN).update(Buffer.from(data, 'utf-8')).digest('base64');
};

describe('Twilio webhook delivered twice', () => {
  let t: Target;
  let x: Attacker;
  let f: Awaited<ReturnType<typeof callerFixture>>;

  beforeAll(async () => {
    t = await startTarget({ backend: 'postgres', env: { CALLWARDEN_TWILIO_AUTH_TOKEN: AUTH_TOKEN, CALLWARDEN_PUBLIC_URL: PUBLIC_URL } });
    x = new Attacker(t.url);
    f = await callerFixture(t);
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  /** One delivery: `path` relative to the server (with its query), signed over the public URL. */
  const deliver = (path: string, params: Record<string, string>, token?: string, fresh = false): Promise<Reply> =>
    x.post(path, {
      raw: new URLSearchParams(params).toString(),
      contentType: 'application/x-www-form-urlencoded',
      headers: { 'x-twilio-signature': sign(PUBLIC_URL + path, params), ...(token ? { 'i-twilio-idempotency-token': token } : {}) },
      fresh,
    });
  /** The path of the Gather action in a TwiML answer. */
  const actionOf = (r: Reply) => {
    expect(r.status, r.text).toBe(200);
    const action = parseXml(r.text).children[0]?.attrs.action;
    expect(action, r.text).toMatch(/^https:\/\/callwarden\.example\.test\//);
    return action!.slice(PUBLIC_URL.length);
  };
  const view = async (callSid: string) => {
    const r = await x.get(`/v1/tenants/acme/interactions/${callSid}/verification`, { token: f.agent });
    expect(r.status, r.text).toBe(200);
    return r.json as { attemptsLeft: number; completedMethods: string[]; state: string };
  };
  it('a step delivered twice, one after the other: the same answer, one attempt counted', async () => {
    const call = { CallSid: 'CAredeliver0001', From: '+14155550134', To: '+15005550006' };
    const first = actionOf(await deliver(PATH, call));
    expect(first).toBe(`${PATH}?step=1`);
    const before = await view(call.CallSid);
    const wrong = { ...call, Digits: '111111' };
    const a = await deliver(first, wrong);
    const b = await deliver(first, wrong);
    expect(b.status).toBe(200);
    expect(b.text).toBe(a.text);
    expect(a.text).toMatch(/not correct/i);
    const after = await view(call.CallSid);
    expect(after.attemptsLeft).toBe(before.attemptsLeft - 1);
    // the caller's next entry (the next step) is handled as new
    const next = actionOf(a);
    expect(next).toBe(`${PATH}?step=2`);
    const right = await deliver(next, { ...call, Digits: '480613' });
    expect(right.text).not.toBe(a.text);
    expect((await view(call.CallSid)).completedMethods).toEqual(['pin']);
    expect((await view(call.CallSid)).attemptsLeft).toBe(after.attemptsLeft);
  });

  it('a step delivered many times at once: every copy gets the same answer, the call moves one step', async () => {
    const call = { CallSid: 'CAredeliver0002', From: '+14155550134', To: '+15005550006' };
    const first = actionOf(await deliver(PATH, call));
    const before = await view(call.CallSid);
    const wrong = await parallel(8, () => deliver(first, { ...call, Digits: '222222' }, undefined, true));
    for (const r of wrong) {
      expect(r.status, r.text).toBe(200);
      expect(r.text).toBe(wrong[0]!.text);
    }
    expect((await view(call.CallSid)).attemptsLeft).toBe(before.attemptsLeft - 1);
    const step2 = actionOf(wrong[0]!);
    const right = await parallel(8, () => deliver(step2, { ...call, Digits: '480613' }, undefined, true));
    for (const r of right) expect(r.text).toBe(right[0]!.text);
    expect(right[0]!.text).toMatch(/press 1/); // the channel choice: the step after the PIN, not beyond
    const v = await view(call.CallSid);
    expect(v.completedMethods).toEqual(['pin']);
    expect(v.attemptsLeft).toBe(before.attemptsLeft - 1);
    // and the choice delivered twice sends one code
    const step3 = actionOf(right[0]!);
    const outbox = async () => (await t.s.store.outbox.list({ recipient: '+14155550134', limit: 200 })).length;
    const queued = await outbox();
    const choice = await parallel(4, () => deliver(step3, { ...call, Digits: '1' }, undefined, true));
    for (const r of choice) expect(r.text).toBe(choice[0]!.text);
    expect(await outbox()).toBe(queued + 1);
  });

  it("the same idempotency token on the number's own URL: answered once", async () => {
    const call = { CallSid: 'CAredeliver0003', From: '+14155550134', To: '+15005550006' };
    await deliver(PATH, call, 'idem-start-0003');
    const before = await view(call.CallSid);
    const wrong = { ...call, Digits: '333333' };
    const copies = [await deliver(PATH, wrong, 'idem-pin-0003'), ...(await parallel(4, () => deliver(PATH, wrong, 'idem-pin-0003', true)))];
    for (const r of copies) {
      expect(r.status, r.text).toBe(200);
      expect(r.text).toBe(copies[0]!.text);
    }
    expect((await view(call.CallSid)).attemptsLeft).toBe(before.attemptsLeft - 1);
    // another token is another request
    await deliver(PATH, wrong, 'idem-pin-0003b');
    expect((await view(call.CallSid)).attemptsLeft).toBe(before.attemptsLeft - 2);
  });

  it('receipts are purged by the retention sweep after a day', async () => {
    const { sweep } = await import('../../src/services/maintenance.js');
    const count = async () => (await t.s.store.db.selectFrom('webhook_receipts').select('key').execute()).length;
    expect(await count()).toBeGreaterThan(0);
    await sweep(t.s);
    expect(await count()).toBeGreaterThan(0);
    t.clock.advance(25 * 3_600_000);
    await sweep(t.s);
    expect(await count()).toBe(0);
  });
});
