/**
 * One-time codes sent to an on-file contact, by SMS, voice call or email (NIST out-of-band; SMS and
 * voice are "restricted"). A code is made by `challenge` (digits from the CSPRNG, valid for the
 * policy's minutes) and kept in the flow's `otp` ceremony slot only as an HMAC bound to the flow; a
 * resend replaces it without restoring the budget. A check compares in constant time; after
 * `maxChecks` wrong tries the code is dead; the right code again is not a failure.
 */
import { randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Aead } from '../../crypto/aead.js';
import { hmac } from '../../crypto/tokens.js';
import type { Policy } from '../../domain/policy.js';
import type { CeremonySlot, Method } from '../../engine/method.js';
import { codeAnswer, normalizeCode, type CodeAnswer } from '../shared.js';

export type CodeChannel = 'sms' | 'voice' | 'email';
export const OTP_SLOT = 'otp';
/** The credential kind of a staff user's verified phone number (its codes: otp_sms, otp_voice). */
export const STAFF_PHONE = 'phone';
/** The staff methods a verified phone number gives. */
export const phoneCodeMethods = ['otp_sms', 'otp_voice'] as const;
export const isPhoneCode = (k: string): k is (typeof phoneCodeMethods)[number] => (phoneCodeMethods as readonly string[]).includes(k);

export interface OtpSlot {
  id: string;
  hash: string;
  contactId: string;
  channel: CodeChannel;
  sentAt: string;
  expiresAt: string;
  consumedAt: string | null;
  wrong: number;
}

const codeHash = (key: Buffer, flowId: string, code: string) => hmac(key, `${flowId}:${code}`);

/** A new code for a flow: the slot to keep (no code in it) and the code to deliver. */
function newCode(key: Buffer, a: { flowId: string; contactId: string; channel: CodeChannel; policy: Policy; now: Date }): { slot: OtpSlot; code: string; expiresAt: Date } {
  let code = '';
  for (let i = 0; i < a.policy.verification.code.digits; i++) code += String(randomInt(10));
  const expiresAt = new Date(a.now.getTime() + a.policy.verification.code.ttlMinutes * 60_000);
  return {
    code,
    expiresAt,
    slot: { id: randomUUID(), hash: codeHash(key, a.flowId, code).toString('hex'), contactId: a.contactId, channel: a.channel, sentAt: a.now.toISOString(), expiresAt: expiresAt.toISOString(), consumedAt: null, wrong: 0 },
  };
}

function otpMethod(key: Buffer, channel: CodeChannel): Method<CodeAnswer> {
  return {
    kind: `otp_${channel}`,
    traits: { category: 'possession', aal: 2, phishingResistant: false, restricted: channel !== 'email', label: { sms: 'Code by text message', voice: 'Code by phone call', email: 'Code by email' }[channel] },
    // staff: SMS and voice only (to the number they verified when enrolling; email codes are for recovery, never a second factor)
    subjects: channel === 'email' ? ['customer'] : ['customer', 'user'],
    answer: codeAnswer,
    // one counter for the code family: the code is per flow, the subject's counter bounds guessing across calls
    counter: 'subject',
    slot: OTP_SLOT,
    needs: [],
    available: (f) => (f.contactKinds !== undefined ? f.contactKinds.includes(channel === 'email' ? 'email' : 'phone') : channel !== 'email' && f.credentialKinds.includes(STAFF_PHONE)),
    // a new code to the contact named (the caller of `challenge` has checked it is on file and eligible)
    challenge({ flow, policy, now, params }) {
      const c = newCode(key, { flowId: flow.id, contactId: String(params.contactId), channel, policy, now });
      return { ceremony: c.slot as unknown as CeremonySlot, deliver: { secret: c.code, expiresAt: c.expiresAt }, answerFrom: 'client' };
    },
    async verify({ flow, answer, ceremony, policy, now }) {
      const slot = ceremony as unknown as OtpSlot | undefined;
      if (!slot) return { ok: false, reason: 'no_code_sent', proven: `otp_${channel}` };
      const proven = `otp_${slot.channel}`;
      const code = normalizeCode(answer.code);
      const matches = /^\d{4,10}$/.test(code) && timingSafeEqual(codeHash(key, flow.id, code), Buffer.from(slot.hash, 'hex'));
      if (slot.consumedAt) {
        // the right code again (a double submit) is refused as used but is no failure: not counted,
        // refunded, no risk; anything else is a wrong answer
        return { ok: false, reason: 'code_used', proven, ...(matches && flow.completed_methods.includes(proven) ? { notCounted: true } : {}) };
      }
      if (new Date(slot.expiresAt) <= now) return { ok: false, reason: 'code_expired', proven };
      if (slot.wrong >= policy.verification.code.maxChecks) return { ok: false, reason: 'code_exhausted', proven };
      if (!matches) return { ok: false, reason: 'wrong_code', proven, ceremony: { ...slot, wrong: slot.wrong + 1 } as unknown as CeremonySlot };
      return { ok: true, proven, ceremony: { ...slot, consumedAt: now.toISOString() } as unknown as CeremonySlot };
    },
  };
}

export function otpMethods(deps: { aead: Aead }): Method<CodeAnswer>[] {
  // derived once (HKDF), not per code
  const key = deps.aead.derive('verification-codes');
  return (['sms', 'voice', 'email'] as const).map((c) => otpMethod(key, c));
}
