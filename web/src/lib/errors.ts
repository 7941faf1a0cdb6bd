/** Error codes in words for people. The server's own safe message is the fallback. */
import type { ApiError } from './api';

/** Codes whose wording the console replaces; for the rest the server's safe message is already words. */
const words: Record<string, string> = {
  network: 'The server could not be reached. Check your connection and try again.',
  unauthenticated: 'Your session has ended. Please sign in again.',
  internal: 'Something went wrong on our side. Please try again.',
  unavailable: 'The service is temporarily unavailable. Please try again shortly.',
};

export function describeError(e: Pick<ApiError, 'code' | 'message' | 'retryAfterSeconds'>): string {
  const base = words[e.code] ?? (e.message || 'Something went wrong.');
  if (e.retryAfterSeconds && ['rate_limited', 'too_many_attempts', 'factor_locked'].includes(e.code)) {
    const mins = Math.ceil(e.retryAfterSeconds / 60);
    return `${base} Try again in ${mins <= 1 ? 'a minute' : `${mins} minutes`}.`;
  }
  return base;
}

/** Any thrown value in words. */
export function errorWords(e: unknown): string {
  if (e && typeof e === 'object' && 'words' in e) return String((e as { words: string }).words);
  return 'Something went wrong. Please try again.';
}
