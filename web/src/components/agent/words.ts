/** The agent desktop's vocabulary: methods, requirements, states, risk signals and step errors in words. */
import { ApiError } from '../../lib/api';
import { errorWords } from '../../lib/errors';
import type { CallerMethod, LevelStatus, Requirement, VerificationState } from './types';

export const methodWords: Record<CallerMethod, string> = {
  otp_sms: 'Text message code',
  otp_voice: 'Voice call code',
  otp_email: 'Email code',
  totp: 'Authenticator app',
  pin: 'PIN',
  question: 'Security question',
};

export const requirementWords = (r: Requirement): string =>
  r === 'possession' ? 'Something they have (a code)' : r === 'knowledge' ? 'Something they know (PIN or question)' : methodWords[r];

export const categoryOf: Record<CallerMethod, 'possession' | 'knowledge'> = {
  otp_sms: 'possession',
  otp_voice: 'possession',
  otp_email: 'possession',
  totp: 'possession',
  pin: 'knowledge',
  question: 'knowledge',
};

/** True when completing `m` would meet a requirement still missing in some alternative of the level. */
export function helps(m: CallerMethod, status: LevelStatus): boolean {
  return status.alternatives.some((a) => a.missing.includes(m) || a.missing.includes(categoryOf[m]));
}

export const stateWords: Record<VerificationState, { label: string; color: string }> = {
  pending: { label: 'In progress', color: 'blue' },
  verified: { label: 'Verified', color: 'green' },
  failed: { label: 'Failed', color: 'red' },
  expired: { label: 'Expired', color: 'gray' },
  canceled: { label: 'Canceled', color: 'gray' },
};

export const levelWords = (level: string): string =>
  level === 'standard' ? 'Standard' : level === 'high' ? 'High' : level.charAt(0).toUpperCase() + level.slice(1).replace(/_/g, ' ');

export const riskColor = { low: 'green', medium: 'yellow', high: 'red' } as const;

export const signalTitles: Record<string, string> = {
  ani_match: 'Caller number',
  attestation: 'Caller ID attestation',
  recent_contact_change: 'Contact changes',
  customer_velocity: 'Verifications of this customer',
  ani_velocity: 'Verifications from this number',
  failed_attempts: 'Failed attempts',
};

export const sentence = (s: string) => (s ? s.charAt(0).toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? '' : '.') : s);

/** m:ss for a number of seconds (never negative). */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export const timeOf = (iso: string) => new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
export const dateTimeOf = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

const codeReasons: Record<string, string> = {
  wrong_code: 'That code is not correct.',
  code_expired: 'That code has expired. Send a new one.',
  code_used: 'That code was already used.',
  code_exhausted: 'That code had too many wrong tries. Send a new one.',
  malformed: 'That is not a code (check the digits).',
  wrong_pin: 'That PIN is not correct.',
  wrong_answer: 'That answer is not correct.',
  no_totp: 'The caller has no authenticator app bound.',
  no_pin: 'The caller has no PIN set.',
  no_code_sent: 'No code has been sent yet. Send one first.',
};

/** A refused step in words for the agent, with the attempts left when the server says. */
export function stepErrorWords(e: unknown): string {
  if (!(e instanceof ApiError)) return errorWords(e);
  const d = (e.details ?? {}) as { reason?: string; attemptsLeft?: number; state?: string; retryAfterSeconds?: number };
  const left = typeof d.attemptsLeft === 'number' ? ` ${d.attemptsLeft === 1 ? '1 attempt' : `${d.attemptsLeft} attempts`} left.` : '';
  switch (e.code) {
    case 'invalid_factor':
      if (d.state === 'failed') return 'That was not correct, and no attempts are left: this verification has failed.';
      return (d.reason && codeReasons[d.reason] ? codeReasons[d.reason] : e.message || 'That is not correct.') + left;
    case 'too_many_attempts':
      if (d.reason === 'resend_cooldown') return `Wait ${d.retryAfterSeconds ?? e.retryAfterSeconds ?? 60} s before sending another code.`;
      return errorWords(e);
    case 'flow_failed':
      return 'Too many failed attempts: this verification has failed.';
    case 'flow_expired':
      return 'This verification has expired. Start again.';
    case 'flow_state':
      return d.state ? 'This verification is already over.' : e.message;
    case 'contact_recently_changed':
      return 'This contact was changed recently, so it cannot receive codes. Choose another contact or method.';
    default:
      return errorWords(e);
  }
}

/** True when the error means the flow itself is over (refresh the view to show why). */
export const endsFlow = (e: unknown) =>
  e instanceof ApiError && (e.code === 'flow_expired' || (e.code === 'flow_state' && !!(e.details as { state?: string } | undefined)?.state) || (e.details as { state?: string } | undefined)?.state === 'failed' || e.code === 'flow_failed');
