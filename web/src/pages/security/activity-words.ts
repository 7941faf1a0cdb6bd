/** Account activity (GET /v1/me/activity) in words; unknown types are made readable rather than hidden. */
import { methodName, methodsInWords } from './format';
import type { ActivityEvent } from './types';

const words: Record<string, string> = {
  signin: 'Signed in',
  signin_failed: 'Failed sign-in attempt',
  locked_out: 'Sign-in blocked after too many attempts',
  reauthentication: 'Confirmed identity',
  reauthentication_failed: 'Failed identity confirmation',
  factors_reset: 'Sign-in methods reset by an administrator',
  unlocked: 'Unlocked by an administrator',
  recovery_codes_regenerated: 'New recovery codes created',
  password_changed: 'Password changed',
  password_change_failed: 'Password change failed',
  session_revoked: 'Session signed out',
};

const reasons: Record<string, string> = {
  wrong_password: 'wrong password',
  wrong_current_password: 'wrong current password',
  wrong: 'wrong code',
  replayed: 'code already used',
  malformed: 'incomplete code',
  not_enrolled: 'method not set up',
  locked: 'method locked',
  disabled: 'method locked',
  throttled: 'too many attempts',
  backoff: 'too many attempts',
  flow_budget_spent: 'too many attempts',
  enroll_wrong: 'wrong code during setup',
  invalid_assertion: 'key not recognized',
  uv_required: 'PIN or biometrics needed',
  wrong_origin: 'wrong web address',
  wrong_rp_id: 'wrong web address',
  wrong_challenge: 'expired key request',
  no_challenge: 'expired key request',
  challenge_expired: 'expired key request',
  counter_regression: 'key flagged as a possible copy',
  credential_suspended: 'key suspended',
  passwordless_off: 'passkey sign-in off',
};

export function activityTitle(e: Pick<ActivityEvent, 'type' | 'methods'>): string {
  const kind = e.methods?.[0];
  if (e.type === 'factor_added') return kind ? `${methodName(kind)} added` : 'Sign-in method added';
  if (e.type === 'factor_removed') return kind ? `${methodName(kind)} removed` : 'Sign-in method removed';
  const w = words[e.type];
  if (w) return w;
  const readable = e.type.replace(/[._]/g, ' ').trim();
  return readable ? readable[0]!.toUpperCase() + readable.slice(1) : 'Activity';
}

/** The second line: methods used or tried, and why an attempt failed. */
export function activityDetail(e: Pick<ActivityEvent, 'type' | 'methods' | 'reason'>): string {
  const parts: string[] = [];
  if (e.methods?.length && e.type !== 'factor_added' && e.type !== 'factor_removed') parts.push(methodsInWords(e.methods));
  if (e.reason) parts.push(reasons[e.reason] ?? e.reason.replace(/_/g, ' '));
  return parts.join(' · ');
}

export function outcomeBadge(outcome: string): { label: string; color: string } {
  if (outcome === 'success') return { label: 'Succeeded', color: 'teal' };
  if (outcome === 'failure') return { label: 'Failed', color: 'red' };
  return { label: 'Info', color: 'gray' };
}
