/**
 * A generic webhook provider: POSTs each message as JSON to a configured URL, signed Stripe-style with
 * a shared secret: header `x-callwarden-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.
 * Receivers check it with `verifyWebhookSignature` (constant-time, with a timestamp tolerance against
 * replays) and can de-duplicate on `x-callwarden-message-id`, which stays the same across retries.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { httpCall, type Channel, type OutgoingMessage, type Provider } from './provider.js';

export const SIGNATURE_HEADER = 'x-callwarden-signature';
export const MESSAGE_ID_HEADER = 'x-callwarden-message-id';

export interface WebhookOptions {
  url: string;
  secret: string;
  channels?: readonly Channel[];
  timeoutMs?: number;
  /** Milliseconds since the epoch, for the signature timestamp (tests inject a clock). */
  now?: () => number;
}

/** The JSON a receiver gets. */
export interface WebhookPayload {
  id: string;
  channel: Channel;
  to: string;
  subject: string;
  body: string;
  locale: string;
}

const hmac = (secret: string, timestamp: number, body: string): string => createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');

/** The signature header value for `body` at `timestamp` (unix seconds). */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${hmac(secret, timestamp, body)}`;
}

/**
 * True when `header` carries a v1 signature of exactly `body` (the raw request body, before any JSON
 * parsing) under `secret`, made within `toleranceSeconds` of `now`. Several v1 entries are allowed
 * (secret rotation); any one matching is enough.
 */
export function verifyWebhookSignature(o: { secret: string; header: string | undefined | null; body: string | Buffer; toleranceSeconds?: number; now?: number }): boolean {
  if (!o.header || !o.secret) return false;
  let timestamp: number | undefined;
  const candidates: string[] = [];
  for (const part of o.header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) candidates.push(value);
  }
  if (timestamp === undefined || candidates.length === 0) return false;
  const nowSeconds = Math.floor((o.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - timestamp) > (o.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(hmac(o.secret, timestamp, Buffer.isBuffer(o.body) ? o.body.toString('utf8') : o.body), 'hex');
  let ok = false;
  for (const c of candidates) ok = timingSafeEqual(expected, Buffer.from(c, 'hex')) || ok;
  return ok;
}

export function webhookProvider(o: WebhookOptions): Provider {
  const now = o.now ?? Date.now;
  return {
    name: 'webhook',
    channels: o.channels ?? ['sms', 'voice'],
    async send(msg: OutgoingMessage) {
      const payload: WebhookPayload = { id: msg.id, channel: msg.channel, to: msg.recipient, subject: msg.subject, body: msg.body, locale: msg.locale };
      const body = JSON.stringify(payload);
      const { json } = await httpCall(
        'webhook',
        o.url,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Callwarden-Webhook/1',
            [SIGNATURE_HEADER]: signWebhook(o.secret, body, Math.floor(now() / 1000)),
            [MESSAGE_ID_HEADER]: msg.id,
          },
          body,
        },
        { timeoutMs: o.timeoutMs },
      );
      const id = (json as { id?: unknown } | undefined)?.id;
      return { providerMessageId: typeof id === 'string' && id && id.length <= 200 ? id : msg.id };
    },
  };
}
