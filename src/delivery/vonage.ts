/**
 * SMS through a Vonage-style API: POST {base}/sms/json with a JSON body {api_key, api_secret, from, to,
 * text}. Vonage answers HTTP 200 even for refusals: `messages[0].status === '0'` means accepted; status
 * 1 (throttled) and 5 (internal error) are retried, any other status is permanent. Vonage numbers are
 * E.164 without the leading '+'. Voice is not offered (Vonage voice needs an application and JWTs).
 */
import { DeliveryError, httpCall, type OutgoingMessage, type Provider } from './provider.js';

export interface VonageOptions {
  baseUrl: string;
  apiKey: string;
  apiSecret: string;
  from: string;
  timeoutMs?: number;
}

interface VonageAnswer {
  messages?: Array<{ status?: unknown; 'message-id'?: unknown; 'error-text'?: unknown }>;
}

const RETRYABLE_STATUS = new Set(['1', '5']);

/** Text outside printable ASCII needs Vonage's unicode mode (otherwise it is mangled). */
const needsUnicode = (text: string): boolean => /[^\x20-\x7E\r\n]/.test(text);

export function vonageProvider(o: VonageOptions): Provider {
  const url = `${o.baseUrl.replace(/\/+$/, '')}/sms/json`;
  return {
    name: 'vonage',
    channels: ['sms'],
    async send(msg: OutgoingMessage) {
      if (msg.channel !== 'sms') throw new DeliveryError('permanent', `vonage: channel ${msg.channel} not supported`);
      const payload = {
        api_key: o.apiKey,
        api_secret: o.apiSecret,
        from: o.from,
        to: msg.recipient.replace(/^\+/, ''),
        text: msg.body,
        ...(needsUnicode(msg.body) ? { type: 'unicode' } : {}),
      };
      const { json } = await httpCall(
        'vonage sms',
        url,
        { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(payload) },
        { timeoutMs: o.timeoutMs },
      );
      const first = (json as VonageAnswer | undefined)?.messages?.[0];
      if (!first) throw new DeliveryError('permanent', 'vonage sms: accepted without a message status');
      const status = String(first.status ?? '');
      if (status !== '0') {
        const text = typeof first['error-text'] === 'string' ? `: ${first['error-text'].slice(0, 80)}` : '';
        throw new DeliveryError(RETRYABLE_STATUS.has(status) ? 'retryable' : 'permanent', `vonage sms: status ${status || '?'}${text}`);
      }
      const id = first['message-id'];
      if (typeof id !== 'string' || !id) throw new DeliveryError('permanent', 'vonage sms: accepted without a message-id');
      return { providerMessageId: id };
    },
  };
}
