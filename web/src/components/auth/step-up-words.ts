/**
 * What a `step_up_required` error asks for, in words: "This needs a security key", "Confirm with
 * your second factor", "Your sign-in is more than 10 minutes old", and which action it was for.
 */
import type { ApiError } from '../../lib/api';

export type Lack = 'assurance_too_low' | 'not_phishing_resistant' | 'auth_too_old';

export interface Need {
  aal: 1 | 2 | 3;
  phishingResistant: boolean;
  maxAgeSeconds: number | null;
}

export interface StepUpAsk {
  missing: Lack[];
  need: Need;
}

const lacks: Lack[] = ['assurance_too_low', 'not_phishing_resistant', 'auth_too_old'];

/** The error's details, read defensively (an unknown shape asks for a second factor). */
export function stepUpAsk(e: Pick<ApiError, 'details'>): StepUpAsk {
  const d = (e.details ?? {}) as { missing?: unknown; reason?: unknown; need?: Partial<Record<keyof Need, unknown>> };
  const raw = Array.isArray(d.missing) ? d.missing : [d.reason];
  const missing = raw.filter((r): r is Lack => lacks.includes(r as Lack));
  const n = d.need ?? {};
  const aal = n.aal === 1 || n.aal === 2 || n.aal === 3 ? n.aal : 2;
  const age = typeof n.maxAgeSeconds === 'number' && n.maxAgeSeconds > 0 ? Math.min(86_400, Math.round(n.maxAgeSeconds)) : null;
  return { missing: missing.length ? missing : ['assurance_too_low'], need: { aal, phishingResistant: n.phishingResistant === true, maxAgeSeconds: age } };
}

/** True when only a security key or passkey can give what is asked. */
export const needsKey = (a: StepUpAsk) => a.need.phishingResistant || a.need.aal >= 3;

const minutesWords = (seconds: number) => {
  const m = Math.max(1, Math.round(seconds / 60));
  return m === 1 ? 'a minute' : `${m} minutes`;
};

/** One plain sentence per thing the session lacks, the most demanding first. */
export function askLines(a: StepUpAsk): string[] {
  const lines: string[] = [];
  if (a.missing.includes('not_phishing_resistant') || (a.missing.includes('assurance_too_low') && needsKey(a))) lines.push('This needs a security key');
  else if (a.missing.includes('assurance_too_low')) lines.push('Confirm with your second factor');
  if (a.missing.includes('auth_too_old') && a.need.maxAgeSeconds) lines.push(`Your sign-in is more than ${minutesWords(a.need.maxAgeSeconds)} old`);
  else if (a.missing.includes('auth_too_old')) lines.push('Your sign-in is too old for this');
  return lines;
}

/** What the user was doing, from the request that was refused. */
export function purposeOf(method: string, path: string): string {
  const p = path.split('?')[0] ?? '';
  if (/\/customers\/[^/]+\/reveal$/.test(p)) return 'reveal this customer detail';
  if (/\/approvals\/[^/]+\/approve$/.test(p)) return 'approve this factor reset';
  if (method === 'PUT' && /\/tenants\/[^/]+\/policy$/.test(p)) return 'save the policy';
  return 'continue';
}

/** The dialog's explanation under the headline. */
export function askExplain(a: StepUpAsk, purpose: string): string {
  const what = needsKey(a)
    ? 'a security key or passkey in this sign-in'
    : a.missing.includes('assurance_too_low')
      ? 'two-step verification in this sign-in'
      : 'a recent sign-in';
  const recent = a.need.maxAgeSeconds && !what.startsWith('a recent') ? `, within the last ${minutesWords(a.need.maxAgeSeconds)}` : a.need.maxAgeSeconds ? ` (within the last ${minutesWords(a.need.maxAgeSeconds)})` : '';
  return `Your organization asks for ${what}${recent} before you ${purpose}. Confirm it’s you and it will go ahead.`;
}
