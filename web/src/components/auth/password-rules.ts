/**
 * The password rules in words (mirroring the server's: 8 characters with a second factor, 15
 * without, 12 and a letter and a digit in PCI mode; at most 256; not common; not the email), and the
 * checks a form can show live. The server has the last word (weak_password with its reasons).
 */
export interface PasswordRules {
  mfa: boolean;
  pciMode: boolean;
}

export const minLength = (r: PasswordRules) => Math.max(r.pciMode ? 12 : 0, r.mfa ? 8 : 15);

export interface RuleCheck {
  label: string;
  /** undefined: only the server can tell (shown as a plain rule). */
  met: boolean | undefined;
  /** A failure that more typing will not fix (shown as a problem right away). */
  broken?: boolean;
}

const codePoints = (s: string) => [...s.normalize('NFC')].length;

export function passwordChecks(pw: string, r: PasswordRules, email?: string): RuleCheck[] {
  const n = codePoints(pw);
  const min = minLength(r);
  const local = email?.split('@')[0]?.toLowerCase() ?? '';
  const checks: RuleCheck[] = [{ label: `At least ${min} characters (${n > 256 ? 'at most 256' : `${n} so far`})`, met: pw ? n >= min && n <= 256 : false }];
  if (r.pciMode) checks.push({ label: 'At least one letter and one digit', met: /\p{L}/u.test(pw) && /\d/.test(pw) });
  const containsEmail = !!pw && !!email && (pw.toLowerCase().includes(email.toLowerCase()) || (local.length >= 4 && pw.toLowerCase().includes(local)));
  checks.push({ label: 'Does not contain your email address', met: pw && email ? !containsEmail : undefined, broken: containsEmail });
  checks.push({ label: 'Not a common or easily guessed password', met: undefined });
  return checks;
}

/** The server's weak_password reasons as sentences. */
export function weakPasswordReasons(details: Record<string, unknown> | undefined): string[] {
  const reasons = details?.reasons;
  if (!Array.isArray(reasons)) return [];
  return reasons.map((r) => (r && typeof r === 'object' && 'message' in r ? String((r as { message: unknown }).message) : '')).filter(Boolean);
}
