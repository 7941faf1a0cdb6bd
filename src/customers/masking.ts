/**
 * Masked forms of customer data, the only forms agents see: national id `***-**-1234` (last four
 * kept as a hint column), date of birth `1984-**-**` (year only), card last four `••••` (a knowledge
 * answer, never shown), phone `+1 •••-•••-4567` (country code and last four), email `a•••@example.com`.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { ContactKind } from './fields.js';

export const CARD_MASK = '••••';

export const maskNationalId = (hint: string | null): string | null => (hint ? `***-**-${hint}` : null);

export const maskDateOfBirth = (iso: string): string => `${iso.slice(0, 4)}-**-**`;

/** The last four characters of a normalized national id: what the mask shows. */
export const nationalIdHint = (normalized: string): string => normalized.slice(-4);

export function maskPhone(e164: string): string {
  const p = parsePhoneNumberFromString(e164);
  if (!p) return `•••${e164.slice(-4)}`;
  const cc = `+${p.countryCallingCode}`;
  const rest = p.formatInternational().slice(cc.length).trim();
  const total = rest.replace(/\D/g, '').length;
  let seen = 0;
  const masked = rest.replace(/\d/g, (d) => (++seen > total - 4 ? d : '•')).replace(/[\s-]+/g, '-');
  return `${cc} ${masked}`;
}

export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '•••';
  return `${email[0]}•••${email.slice(at)}`;
}

export const maskContact = (kind: ContactKind, value: string): string => (kind === 'phone' ? maskPhone(value) : maskEmail(value));
