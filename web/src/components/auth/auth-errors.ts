/**
 * Sign-in and re-authentication errors in words. Wording never tells whether an account exists: a
 * wrong password and an unknown email read the same, and lockouts speak of "this sign-in", not of
 * an account.
 */
import { ApiError } from '../../lib/api';
import { errorWords } from '../../lib/errors';
import { keyProblem } from './webauthn';

/** `key`: a security key as the second factor; `passkey`: a passwordless sign-in. */
export type AuthStep = 'identify' | 'password' | 'code' | 'enroll' | 'key' | 'passkey';

export interface AuthProblem {
  title: string;
  message: string;
  /** The flow cannot go on: offer "Start again". */
  restart?: boolean;
  /** Wait this long before trying again (rate limits and attempt delays). */
  retryAfterSeconds?: number;
}

/** "12 seconds", "a minute", "5 minutes". */
export function waitWords(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const mins = Math.ceil(seconds / 60);
  return mins === 1 ? 'a minute' : `${mins} minutes`;
}

const GENERIC = 'That did not work';

function attemptsNote(e: ApiError): string {
  const left = Number(e.details?.attemptsLeft);
  if (!Number.isFinite(left) || left > 3) return '';
  if (left <= 0) return '';
  return ` ${left} attempt${left === 1 ? '' : 's'} left before you need to start again.`;
}

export function authProblem(e: unknown, step: AuthStep): AuthProblem {
  const keyStep = step === 'key' || step === 'passkey';
  if (keyStep) {
    const k = keyProblem(e, step);
    if (k) return k;
  }
  if (!(e instanceof ApiError)) return { title: GENERIC, message: errorWords(e) };
  const retry = e.retryAfterSeconds ?? (typeof e.details?.retryAfterSeconds === 'number' ? e.details.retryAfterSeconds : undefined);
  switch (e.code) {
    case 'invalid_credentials':
      return { title: GENERIC, message: `Check your email address and password, and try again.${attemptsNote(e)}` };
    case 'invalid_factor':
      if (keyStep) return { title: GENERIC, message: `The ${step === 'passkey' ? 'passkey' : 'security key'} was not accepted. Try again, or use another sign-in method.${attemptsNote(e)}` };
      return step === 'enroll'
        ? { title: GENERIC, message: `That code was not accepted. Check that your phone sets its time automatically, then enter the newest code.${attemptsNote(e)}` }
        : { title: GENERIC, message: `That code was not accepted. Check it and try again; each code works only once.${attemptsNote(e)}` };
    case 'too_many_attempts':
      return { title: 'Please wait a moment', message: `Too many attempts. For your protection, this sign-in is paused.${retry ? '' : ' Wait a moment and try again.'}`, retryAfterSeconds: retry };
    case 'rate_limited':
      return { title: 'Please wait a moment', message: `Too many sign-in attempts in a short time.${retry ? '' : ' Wait a moment and try again.'}`, retryAfterSeconds: retry };
    case 'factor_locked':
      return { title: 'This method is locked', message: 'Too many failed attempts with this sign-in method. Use another method if you have one, or ask your administrator to unlock it.' };
    case 'flow_failed':
      return { title: 'Too many failed attempts', message: 'For your protection this sign-in was stopped. Start again to try once more.', restart: true };
    case 'flow_expired':
    case 'flow_invalid':
    case 'flow_state':
      return { title: 'This sign-in has expired', message: 'For your security, sign-in steps must be finished within a few minutes. Start again to continue.', restart: true };
    case 'not_found':
      return step === 'identify'
        ? { title: 'Organization not found', message: 'Check the organization name your administrator gave you (for example "acme").' }
        : { title: GENERIC, message: errorWords(e) };
    default:
      return { title: GENERIC, message: errorWords(e) };
  }
}
