/**
 * Twilio voice plumbing: the request signature (X-Twilio-Signature = base64 HMAC-SHA1 with the auth
 * token over the full URL followed by each POST parameter's name and value, sorted by name) and the
 * TwiML answers built from an IVR prompt (`<Gather input="dtmf">` with a `<Say>`, or `<Say>` and
 * `<Hangup/>` at the end).
 */
import { createHmac } from 'node:crypto';
import { safeEqual } from '../crypto/tokens.js';

export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, k) => acc + k + params[k], url);
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** Constant-time check of a received signature; false without a token or a signature. */
export function validTwilioSignature(authToken: string, signature: string | undefined, url: string, params: Record<string, string>): boolean {
  if (!authToken || !signature) return false;
  return safeEqual(signature, twilioSignature(authToken, url, params));
}

const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
const HEAD = '<?xml version="1.0" encoding="UTF-8"?>';

/** Says the text and hangs up. */
export const sayAndHangUp = (text: string): string => `${HEAD}<Response><Say>${esc(text)}</Say><Hangup/></Response>`;

/**
 * A prompt as TwiML: gathers DTMF digits posted back to `action`, or ends the call when done. When
 * the caller keys nothing, Twilio goes on past the Gather: the call ends politely.
 */
export function promptTwiml(p: { prompt: string; done: boolean; expect: string }, action: string): string {
  if (p.done) return sayAndHangUp(p.prompt);
  const attrs = `input="dtmf" action="${esc(action)}" method="POST" finishOnKey="#" timeout="10"${p.expect === 'choice' ? ' numDigits="1"' : ''}`;
  return `${HEAD}<Response><Gather ${attrs}><Say>${esc(p.prompt)}</Say></Gather><Say>We did not receive any input. Goodbye.</Say><Hangup/></Response>`;
}
