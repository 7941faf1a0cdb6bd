/** The policy's `stepUp` settings in words: the three sensitive actions, the levels, one summary line. */

export type StepUpAction = 'reveal' | 'factorReset' | 'policyChange';

export interface Assurance {
  aal: 1 | 2 | 3;
  phishingResistant: boolean;
  maxAgeMinutes: number | null;
}

export const stepUpActions: Record<StepUpAction, { label: string; explain: string }> = {
  reveal: { label: 'Revealing a masked customer detail', explain: 'An agent or administrator shows a national ID, date of birth or contact in full.' },
  factorReset: { label: 'Approving a factor reset', explain: 'A second administrator approves removing every sign-in method of a user.' },
  policyChange: { label: 'Changing this policy', explain: 'Saving a new version of this policy.' },
};

export const levelWords: Record<string, { label: string; short: string; explain: string }> = {
  '1': { label: 'Any sign-in', short: 'any sign-in', explain: 'The password alone is enough.' },
  '2': { label: 'Two-step verification', short: 'two-step verification', explain: 'A second factor (authenticator app or security key) in this sign-in.' },
  '3': { label: 'Security key with two steps', short: 'a security key with a second factor', explain: 'A device-bound security key as part of two-step verification (AAL3).' },
};

/** "Asks for two-step verification, a phishing-resistant method, within 10 minutes." */
export function stepUpSummary(v: unknown): string {
  const a = (v ?? {}) as Partial<Assurance>;
  const parts: string[] = [];
  if (a.aal === 2 || a.aal === 3) parts.push(levelWords[String(a.aal)]!.short);
  if (a.phishingResistant) parts.push('a security key or passkey');
  if (typeof a.maxAgeMinutes === 'number') parts.push(`a sign-in within the last ${a.maxAgeMinutes} minute${a.maxAgeMinutes === 1 ? '' : 's'}`);
  return parts.length ? `Asks for ${parts.join(', ')}.` : 'No extra confirmation: any signed-in person with the permission can do it.';
}
