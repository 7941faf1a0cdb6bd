/** Webhook provider and its Stripe-style signature: what a receiver gets and how it verifies it. */
import { afterEach, describe, expect, it } from 'vitest';
import { MESSAGE_ID_HEADER, SIGNATURE_HEADER, signWebhook, verifyWebhookSignature, webhookProvider } from '../../src/delivery/webhook.js';
import { httpPeer, type HttpPeer } from './peers.js';

const SECRET = 'whsec_0123456789abcdef0123456789abcdef';
const NOW = Date.parse('2026-03-01T09:00:00Z');
const T = Math.floor(NOW / 1000);
const msg = { id: '7f0c1a52-1111-4c1e-9a57-000000000001', channel: 'sms' as const, recipient: '+15550100', subject: 'Code', body: 'Your code is 493817', locale: 'fr' };

let peer: HttpPeer | undefined;
afterEach(async () => {
  await peer?.close();
  peer = undefined;
});

describe('webhook provider', () => {
  it('POSTs the message as JSON with a signature the receiver verifies', async () => {
    peer = await httpPeer((r) => ({ json: verifyWebhookSignature({ secret: SECRET, header: r.headers[SIGNATURE_HEADER] as string, body: r.body, now: NOW }) ? { id: 'rcv-9' } : {} }));
    const p = webhookProvider({ url: `${peer.url}/hooks/callwarden`, secret: SECRET, now: () => NOW });
    expect(await p.send(msg)).toEqual({ providerMessageId: 'rcv-9' });
    const [r] = peer.received;
    expect(r!.method).toBe('POST');
    expect(r!.path).toBe('/hooks/callwarden');
    expect(r!.headers['content-type']).toBe('application/json');
    expect(r!.headers[MESSAGE_ID_HEADER]).toBe(msg.id);
    expect(r!.headers[SIGNATURE_HEADER]).toMatch(new RegExp(`^t=${T},v1=[0-9a-f]{64}$`));
    expect(JSON.parse(r!.body)).toEqual({ id: msg.id, channel: 'sms', to: '+15550100', subject: 'Code', body: msg.body, locale: 'fr' });
  });

  it('uses the message id when the receiver returns none; 5xx retryable, 4xx permanent', async () => {
    peer = await httpPeer((_r, i) => (i === 0 ? {} : i === 1 ? { status: 502 } : { status: 422 }));
    const p = webhookProvider({ url: peer.url, secret: SECRET });
    expect(await p.send(msg)).toEqual({ providerMessageId: msg.id });
    await expect(p.send(msg)).rejects.toMatchObject({ kind: 'retryable', message: 'webhook: HTTP 502' });
    await expect(p.send(msg)).rejects.toMatchObject({ kind: 'permanent', message: 'webhook: HTTP 422' });
  });
});

describe('verifyWebhookSignature', () => {
  const body = JSON.stringify({ id: 'x', body: 'Your code is 493817' });
  const header = signWebhook(SECRET, body, T);
  const verify = (o: Partial<Parameters<typeof verifyWebhookSignature>[0]>) => verifyWebhookSignature({ secret: SECRET, header, body, now: NOW, ...o });

  it('accepts the signed body, as a string or a Buffer', () => {
    expect(verify({})).toBe(true);
    expect(verify({ body: Buffer.from(body) })).toBe(true);
  });

  it('refuses a tampered body, another secret, or a missing/garbled header', () => {
    expect(verify({ body: body.replace('493817', '000000') })).toBe(false);
    expect(verify({ body: body + ' ' })).toBe(false);
    expect(verify({ secret: SECRET + 'x' })).toBe(false);
    expect(verify({ header: undefined })).toBe(false);
    expect(verify({ header: 'v1=' + header.split('v1=')[1] })).toBe(false);
    expect(verify({ header: `t=${T},v1=zz` })).toBe(false);
    expect(verify({ header: header.replace(`t=${T}`, `t=${T + 1}`) })).toBe(false);
  });

  it('refuses a signature outside the tolerance (replay), accepts one inside', () => {
    expect(verify({ now: NOW + 301_000 })).toBe(false);
    expect(verify({ now: NOW - 301_000 })).toBe(false);
    expect(verify({ now: NOW + 299_000 })).toBe(true);
    expect(verify({ now: NOW + 3_600_000, toleranceSeconds: 3_600 })).toBe(true);
  });

  it('accepts any matching v1 among several (secret rotation)', () => {
    const other = signWebhook('another-secret-0123456789abcdef012345', body, T).split(',')[1];
    expect(verify({ header: `${header.split(',')[0]},${other},${header.split(',')[1]}` })).toBe(true);
    expect(verify({ header: `${header.split(',')[0]},${other}` })).toBe(false);
  });
});
