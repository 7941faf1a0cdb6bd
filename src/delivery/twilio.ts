/**
 * SMS and voice through a Twilio-style REST API: form-encoded POSTs with HTTP basic auth to
 * {base}/2010-04-01/Accounts/{sid}/Messages.json (To, From, Body) and .../Calls.json (To, From, Twiml
 * `<Response><Say>…</Say></Response>`). The base URL is configurable (tests use a loopback peer).
 */
import { codeOf, DeliveryError, httpCall, type OutgoingMessage, type Provider } from './provider.js';

export interface TwilioOptions {
  baseUrl: string;
  accountSid: string;
  authToken: string;
  from: string;
  timeoutMs?: number;
}

const xmlEscape = (s: string): string =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

/** The TwiML a call speaks: the body, with a language attribute when the locale names a region (en-US). */
export function sayTwiml(text: string, locale = 'en'): string {
  const lang = /^[a-z]{2}-[A-Z]{2}$/.test(locale) ? ` language="${locale}"` : '';
  return `<Response><Say${lang}>${xmlEscape(text)}</Say></Response>`;
}

export function twilioProvider(o: TwilioOptions): Provider {
  const base = `${o.baseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(o.accountSid)}`;
  const auth = `Basic ${Buffer.from(`${o.accountSid}:${o.authToken}`).toString('base64')}`;
  const detail = (j: unknown) => codeOf((j as { code?: unknown } | undefined)?.code);

  async function post(resource: 'Messages' | 'Calls', fields: Record<string, string>): Promise<{ providerMessageId: string }> {
    const label = `twilio ${resource.toLowerCase()}`;
    const { json } = await httpCall(
      label,
      `${base}/${resource}.json`,
      {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams(fields).toString(),
      },
      { timeoutMs: o.timeoutMs, detail },
    );
    const sid = (json as { sid?: unknown } | undefined)?.sid;
    // Accepted but unreadable: it may have gone out, so it is not sent again.
    if (typeof sid !== 'string' || !sid) throw new DeliveryError('permanent', `${label}: accepted without a sid`);
    return { providerMessageId: sid };
  }

  return {
    name: 'twilio',
    channels: ['sms', 'voice'],
    send(msg: OutgoingMessage) {
      if (msg.channel === 'sms') return post('Messages', { To: msg.recipient, From: o.from, Body: msg.body });
      if (msg.channel === 'voice') return post('Calls', { To: msg.recipient, From: o.from, Twiml: sayTwiml(msg.body, msg.locale) });
      return Promise.reject(new DeliveryError('permanent', `twilio: channel ${msg.channel} not supported`));
    },
  };
}
