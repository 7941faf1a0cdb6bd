/** Vonage-style provider against a loopback peer: the JSON it posts and how its answers are read. */
import { afterEach, describe, expect, it } from 'vitest';
import type { DeliveryError } from '../../src/delivery/provider.js';
import { vonageProvider } from '../../src/delivery/vonage.js';
import { httpPeer, type HttpPeer } from './peers.js';

const msg = { id: 'm-1', channel: 'sms' as const, recipient: '+4915550100', subject: 'Code', body: 'Your code is 493817', locale: 'en' };
const accepted = (id = 'vonage-1') => ({ json: { 'message-count': '1', messages: [{ to: '4915550100', 'message-id': id, status: '0' }] } });

let peer: HttpPeer | undefined;
afterEach(async () => {
  await peer?.close();
  peer = undefined;
});

const provider = (baseUrl: string) => vonageProvider({ baseUrl, apiKey: 'key-1', apiSecret: 'secret-1', from: 'Callwarden' });
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as DeliveryError);

describe('vonage provider', () => {
  it('POSTs /sms/json with api_key, api_secret, from, to (no +) and text', async () => {
    peer = await httpPeer(() => accepted('0A000000123'));
    expect(await provider(peer.url).send(msg)).toEqual({ providerMessageId: '0A000000123' });
    const [r] = peer.received;
    expect(r!.method).toBe('POST');
    expect(r!.path).toBe('/sms/json');
    expect(r!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(r!.body)).toEqual({ api_key: 'key-1', api_secret: 'secret-1', from: 'Callwarden', to: '4915550100', text: msg.body });
  });

  it('asks for unicode when the text needs it', async () => {
    peer = await httpPeer(() => accepted());
    await provider(peer.url).send({ ...msg, body: 'Ihr Code lautet 493817 – gültig 5 Minuten' });
    expect(JSON.parse(peer.received[0]!.body)).toMatchObject({ type: 'unicode' });
  });

  it.each([
    ['1', 'retryable'], // throttled
    ['5', 'retryable'], // internal error
    ['2', 'permanent'], // missing parameters
    ['4', 'permanent'], // invalid credentials
    ['6', 'permanent'], // invalid message
  ] as const)('messages[0].status %s (HTTP 200) is %s', async (status, kind) => {
    peer = await httpPeer(() => ({ json: { messages: [{ status, 'error-text': 'Refused' }] } }));
    const e = await failure(provider(peer.url).send(msg));
    expect(e).toMatchObject({ kind, message: `vonage sms: status ${status}: Refused` });
  });

  it('HTTP 500 is retryable, 400 permanent; an answer without messages is not sent again', async () => {
    peer = await httpPeer((_r, i) => (i === 0 ? { status: 500 } : i === 1 ? { status: 400 } : { json: {} }));
    expect(await failure(provider(peer.url).send(msg))).toMatchObject({ kind: 'retryable', status: 500 });
    expect(await failure(provider(peer.url).send(msg))).toMatchObject({ kind: 'permanent', status: 400 });
    expect(await failure(provider(peer.url).send(msg))).toMatchObject({ kind: 'permanent', message: 'vonage sms: accepted without a message status' });
  });

  it('offers SMS only', async () => {
    expect(provider('http://127.0.0.1:1').channels).toEqual(['sms']);
    expect(await failure(provider('http://127.0.0.1:1').send({ ...msg, channel: 'voice' }))).toMatchObject({ kind: 'permanent' });
  });
});
