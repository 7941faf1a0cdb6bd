/** Twilio-style provider against a loopback peer: the request it makes, and how failures are classified. */
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryError } from '../../src/delivery/provider.js';
import { sayTwiml, twilioProvider } from '../../src/delivery/twilio.js';
import { DeliveryWorker } from '../../src/delivery/worker.js';
import { testStore } from '../helpers/db.js';
import { deadUrl, httpPeer, manualClock, queueMessage, type HttpPeer } from './peers.js';

const SID = 'AC0123456789abcdef';
const TOKEN = 'twilio-auth-token';
const msg = { id: 'm-1', channel: 'sms' as const, recipient: '+15550100', subject: 'Code', body: 'Your code is 493817 & <ok>', locale: 'en' };

let peer: HttpPeer | undefined;
afterEach(async () => {
  await peer?.close();
  peer = undefined;
});

const provider = (baseUrl: string, timeoutMs?: number) => twilioProvider({ baseUrl, accountSid: SID, authToken: TOKEN, from: '+15550199', timeoutMs });
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as DeliveryError);

describe('twilio provider', () => {
  it('sends an SMS: POST Messages.json, basic auth, form-encoded To/From/Body', async () => {
    peer = await httpPeer(() => ({ status: 201, json: { sid: 'SM123', status: 'queued' } }));
    expect(await provider(peer.url).send(msg)).toEqual({ providerMessageId: 'SM123' });
    const [r] = peer.received;
    expect(r!.method).toBe('POST');
    expect(r!.path).toBe(`/2010-04-01/Accounts/${SID}/Messages.json`);
    expect(r!.headers.authorization).toBe(`Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`);
    expect(r!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(r!.body))).toEqual({ To: '+15550100', From: '+15550199', Body: msg.body });
  });

  it('places a voice call: POST Calls.json with escaped TwiML <Say>', async () => {
    peer = await httpPeer(() => ({ status: 201, json: { sid: 'CA123' } }));
    expect(await provider(peer.url + '/').send({ ...msg, channel: 'voice', locale: 'en-GB' })).toEqual({ providerMessageId: 'CA123' });
    const [r] = peer.received;
    expect(r!.path).toBe(`/2010-04-01/Accounts/${SID}/Calls.json`);
    const form = Object.fromEntries(new URLSearchParams(r!.body));
    expect(form).toMatchObject({ To: '+15550100', From: '+15550199' });
    expect(form.Twiml).toBe('<Response><Say language="en-GB">Your code is 493817 &amp; &lt;ok&gt;</Say></Response>');
    expect(sayTwiml('a"b', 'en')).toBe('<Response><Say>a&quot;b</Say></Response>');
  });

  it.each([
    [500, 'retryable'],
    [503, 'retryable'],
    [429, 'retryable'],
    [400, 'permanent'],
    [401, 'permanent'],
    [404, 'permanent'],
  ] as const)('HTTP %i is %s, with the Twilio error code and without the body', async (status, kind) => {
    peer = await httpPeer(() => ({ status, json: { code: 21211, message: `Invalid 'To': ${msg.body}` } }));
    const e = await failure(provider(peer.url).send(msg));
    expect(e).toBeInstanceOf(DeliveryError);
    expect(e.kind).toBe(kind);
    expect(e.message).toBe(`twilio messages: HTTP ${status} (21211)`);
  });

  it('network errors and timeouts are retryable', async () => {
    const refused = await failure(provider(await deadUrl()).send(msg));
    expect(refused.kind).toBe('retryable');
    expect(refused.message).toMatch(/network error/);
    peer = await httpPeer(() => ({ status: 201, json: { sid: 'late' }, delayMs: 1_000 }));
    const slow = await failure(provider(peer.url, 100).send(msg));
    expect(slow).toMatchObject({ kind: 'retryable', message: 'twilio messages: timed out' });
  });

  it('through the worker: 500 is retried later, 400 fails the message', async () => {
    const store = await testStore('pglite');
    const clock = manualClock();
    try {
      peer = await httpPeer((r) => (new URLSearchParams(r.body).get('To') === '+15550500' ? { status: 500 } : { status: 400, json: { code: 21211 } }));
      const worker = new DeliveryWorker({ outbox: store.outbox, providers: [provider(peer.url)], clock: clock.now });
      const flaky = await queueMessage(store, { recipient: '+15550500', now: clock.now() });
      const bad = await queueMessage(store, { tenantId: flaky.tenantId, recipient: '+1555bad', now: clock.now() });
      expect(await worker.runOnce()).toEqual({ claimed: 2, sent: 0, retried: 1, failed: 1 });
      expect(await store.outbox.get(flaky.id)).toMatchObject({ status: 'pending', attempts: 1, provider: 'twilio', last_error: 'twilio messages: HTTP 500', next_attempt_at: new Date(clock.now().getTime() + 5_000) });
      expect(await store.outbox.get(bad.id)).toMatchObject({ status: 'failed', attempts: 1, provider: 'twilio', last_error: 'twilio messages: HTTP 400 (21211)', sent_at: null });
      clock.advance(5_000);
      expect(await worker.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
      expect(peer.received).toHaveLength(3);
    } finally {
      await store.close();
    }
  });
});
