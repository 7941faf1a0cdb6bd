/**
 * Staff password rules (NIST 800-63B rev 4 PV-1..PV-10, PCI DSS 8.3.6, ASVS 6.2.x): a minimum of 8
 * Unicode code points with a second factor and 15 without; PCI mode raises it to 12 and asks for a
 * letter and a digit; at most 256 code points; not a common password, not the user's identifier,
 * not one repeated character or a simple sequence; no control characters. Lengths are counted on
 * the NFC form, which is also what gets hashed; nothing is truncated or case-folded for storage.
 * Every problem found is reported, each with a stable code and a message for the user.
 */
import { isCommonPassword } from './blocklist.js';

export const PASSWORD_MAX_LENGTH = 256;

export interface PasswordContext {
  /** True when the password is used together with a second factor. */
  mfa: boolean;
  pciMode: boolean;
  /** The user's sign-in identifier (usually an email address). */
  identifier?: string;
  tenantName?: string;
}

export type PasswordProblemCode =
  | 'too_short'
  | 'too_long'
  | 'common'
  | 'contains_identifier'
  | 'repetitive'
  | 'pci_letters_digits'
  | 'control_characters';

export interface PasswordProblem {
  code: PasswordProblemCode;
  message: string;
}

export type PasswordCheckResult = { ok: true } | { ok: false; reasons: PasswordProblem[] };

/** The NFC form of the password: what is length-checked and what gets hashed. */
export function normalizePassword(pw: string): string {
  return pw.normalize('NFC');
}

/** Minimum length in code points for this context. */
export function minPasswordLength(ctx: Pick<PasswordContext, 'mfa' | 'pciMode'>): number {
  const base = ctx.mfa ? 8 : 15;
  return ctx.pciMode ? Math.max(12, base) : base;
}

/** One-line description of the rules, for forms and API errors. */
export function describePasswordRules(ctx: Pick<PasswordContext, 'mfa' | 'pciMode'>): string {
  const parts = [
    `At least ${minPasswordLength(ctx)} characters (at most ${PASSWORD_MAX_LENGTH})`,
    ...(ctx.pciMode ? ['at least one letter and one digit'] : []),
    'not a common password',
    'not containing your email address',
    'spaces and any other characters are allowed',
  ];
  return `${parts.join('; ')}.`;
}

/** C0 and C1 controls (tab and newline included), DEL, and unpaired surrogates. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]|\p{Cs}/u;
const SERVICE_NAME = 'callwarden';

function fold(s: string): string {
  return s.normalize('NFKC').toLowerCase();
}

function isDigit(cp: number): boolean {
  return cp >= 0x30 && cp <= 0x39;
}

/** One character repeated, a unit of up to 4 characters repeated, or a run like 1234/abcd/4321. */
function isRepetitive(cps: number[]): boolean {
  const n = cps.length;
  if (n < 3) return false;
  for (let unit = 1; unit <= 4 && unit * 2 <= n; unit++) {
    if (n % unit === 0 && cps.every((c, i) => c === cps[i % unit])) return true;
  }
  for (const step of [1, -1]) {
    const ok = cps.every((c, i) => {
      if (i === 0) return true;
      const prev = cps[i - 1]!;
      if (c - prev === step) return true;
      // Digit runs may wrap: 7890123 and 3210987.
      return isDigit(c) && isDigit(prev) && (c - prev + 10) % 10 === (step + 10) % 10;
    });
    if (ok) return true;
  }
  return false;
}

/** The context word the password contains, if any (each considered only when it has ≥ 4 chars). */
function containedContextWord(folded: string, ctx: PasswordContext): string | undefined {
  const words: Array<[string, string]> = [];
  if (ctx.identifier) {
    const id = fold(ctx.identifier).trim();
    words.push([id, 'your email address or user name']);
    const at = id.lastIndexOf('@');
    if (at > 0) {
      const local = id.slice(0, at);
      words.push([local, 'your email address']);
      const plus = local.indexOf('+');
      if (plus > 0) words.push([local.slice(0, plus), 'your email address']);
    }
  }
  if (ctx.tenantName) {
    const t = fold(ctx.tenantName).trim();
    words.push([t, 'the organization name'], [t.replace(/\s+/gu, ''), 'the organization name']);
  }
  words.push([SERVICE_NAME, 'the name of this service']);
  return words.find(([w]) => [...w].length >= 4 && folded.includes(w))?.[1];
}

export function checkPassword(password: string, ctx: PasswordContext): PasswordCheckResult {
  // Anything this long cannot come down to 256 code points; skip the work of normalizing it.
  if (password.length > PASSWORD_MAX_LENGTH * 16) {
    return { ok: false, reasons: [{ code: 'too_long', message: `Password must be at most ${PASSWORD_MAX_LENGTH} characters long.` }] };
  }
  const pw = normalizePassword(password);
  const cps = [...pw].map((ch) => ch.codePointAt(0)!);
  const length = cps.length;
  const min = minPasswordLength(ctx);
  const reasons: PasswordProblem[] = [];
  const add = (code: PasswordProblemCode, message: string): void => void reasons.push({ code, message });

  if (length < min) add('too_short', `Password must be at least ${min} characters long (it has ${length}).`);
  if (length > PASSWORD_MAX_LENGTH) add('too_long', `Password must be at most ${PASSWORD_MAX_LENGTH} characters long (it has ${length}).`);
  if (CONTROL.test(pw)) add('control_characters', 'Password must not contain control characters or invalid Unicode.');
  if (ctx.pciMode && !(/\p{L}/u.test(pw) && /\p{Nd}/u.test(pw))) {
    add('pci_letters_digits', 'Password must contain at least one letter and one digit.');
  }
  if (isCommonPassword(pw)) add('common', 'Password is one of the most common passwords.');
  const folded = fold(pw);
  const word = containedContextWord(folded, ctx);
  if (word) add('contains_identifier', `Password must not contain ${word}.`);
  if (isRepetitive([...folded].map((ch) => ch.codePointAt(0)!))) {
    add('repetitive', 'Password is a repeated character or pattern, or a simple sequence.');
  }
  return reasons.length === 0 ? { ok: true } : { ok: false, reasons };
}
