/**
 * Customer fields: the zod shapes of customer input (API, import) and the normalizers that turn a
 * valid input into stored form. Phones become E.164 (libphonenumber-js, parsed in the request's
 * region, 'US' by default); emails go through normalizeEmail, which refuses look-alikes; national
 * ids keep letters and digits only; dates of birth are ISO dates; card last four is four digits.
 */
import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { z } from 'zod';
import { normalizeEmail } from '../domain/identifiers.js';

export const DEFAULT_REGION: CountryCode = 'US';
export const contactKinds = ['phone', 'email'] as const;
export type ContactKind = (typeof contactKinds)[number];

export const regionField = z
  .string()
  .regex(/^[A-Za-z]{2}$/)
  .refine((r) => isSupportedCountry(r.toUpperCase()), 'unknown region')
  .describe('ISO 3166 region used to read phone numbers written without a country code (default US)');

export const contactInput = z.object({
  kind: z.enum(contactKinds),
  value: z.string().min(1).max(254),
  label: z.string().trim().max(64).optional(),
  verified: z.boolean().optional().describe('The contact was verified by the source system (create and import only)'),
});

const sensitive = {
  nationalId: z.string().max(64).nullish().describe('National id (SSN or similar); stored encrypted, shown masked'),
  dateOfBirth: z.string().max(32).nullish().describe('YYYY-MM-DD; stored encrypted, shown as the year only'),
  cardLast4: z.string().max(8).nullish().describe('Last four digits of the card on file; stored encrypted, never shown'),
};

export const customerInput = z.object({
  externalId: z.string().trim().min(1).max(128).nullish().describe('Id in the CRM (unique in the tenant)'),
  name: z.string().trim().min(1).max(200),
  accountNumber: z.string().trim().min(1).max(64).nullish().describe('Unique in the tenant'),
  ...sensitive,
  contacts: z.array(contactInput).max(20).optional(),
  region: regionField.optional(),
});
export type CustomerInput = z.infer<typeof customerInput>;

export const customerPatchInput = z.object({
  externalId: z.string().trim().min(1).max(128).nullish(),
  name: z.string().trim().min(1).max(200).optional(),
  accountNumber: z.string().trim().min(1).max(64).nullish(),
  ...sensitive,
  contacts: z
    .object({
      add: z.array(contactInput.omit({ verified: true })).max(20).default([]),
      update: z.array(z.object({ id: z.uuid(), value: z.string().min(1).max(254).optional(), label: z.string().trim().max(64).optional() })).max(20).default([]),
      remove: z.array(z.uuid()).max(20).default([]),
    })
    .optional()
    .describe('Changing a value resets the contact: changed_at = now, verified_at cleared'),
  region: regionField.optional(),
});
export type CustomerPatchInput = z.infer<typeof customerPatchInput>;

/** A field-level problem, reported as `details.issues` or as an import line's message. */
export interface FieldIssue {
  field: string;
  message: string;
}
export class FieldError extends Error {
  constructor(readonly issues: FieldIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
  }
}

export const regionOf = (r: string | undefined): CountryCode => (r ? (r.toUpperCase() as CountryCode) : DEFAULT_REGION);

/** E.164, or null when it is not a valid number (numbers with an extension are refused). */
export function normalizePhone(raw: string, region: CountryCode = DEFAULT_REGION): string | null {
  const p = parsePhoneNumberFromString(raw.normalize('NFKC').trim(), region);
  if (!p || !p.isValid() || p.ext) return null;
  return p.number;
}

export function normalizeContactValue(kind: ContactKind, raw: string, region: CountryCode): string | null {
  return kind === 'phone' ? normalizePhone(raw, region) : normalizeEmail(raw);
}

/** Letters and digits only, upper case, 6 to 32 of them (so the last-four hint never is the whole id). */
export function normalizeNationalId(raw: string): string | null {
  const v = raw.normalize('NFKC').replace(/[\s.\-/]/g, '').toUpperCase();
  return /^[0-9A-Z]{6,32}$/.test(v) ? v : null;
}

/** YYYY-MM-DD of a real date between 1900 and today. */
export function normalizeDateOfBirth(raw: string, today: Date): string | null {
  const v = raw.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m) return null;
  const d = new Date(`${v}T00:00:00Z`);
  if (isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== v || Number(m[1]) < 1900 || d.getTime() > today.getTime()) return null;
  return v;
}

export function normalizeCardLast4(raw: string): string | null {
  const v = raw.trim();
  return /^\d{4}$/.test(v) ? v : null;
}

/** Security-question answers: NFKC, lower case, punctuation removed, whitespace collapsed. */
export function normalizeAnswer(raw: string): string {
  return raw.normalize('NFKC').toLowerCase().replace(/\p{P}/gu, '').replace(/\s+/g, ' ').trim();
}

export interface NormalizedContact {
  kind: ContactKind;
  value: string;
  label: string;
  verified: boolean;
}

/** Normalizes contacts; duplicates (the same number written twice) keep their first occurrence. */
export function normalizeContacts(list: Array<z.infer<typeof contactInput>>, region: CountryCode, field = 'contacts'): NormalizedContact[] {
  const issues: FieldIssue[] = [];
  const out = new Map<string, NormalizedContact>();
  list.forEach((c, i) => {
    const value = normalizeContactValue(c.kind, c.value, region);
    if (!value) return issues.push({ field: `${field}[${i}]`, message: c.kind === 'phone' ? `not a valid phone number for region ${region}` : 'not an email address we accept' });
    if (!out.has(`${c.kind}:${value}`)) out.set(`${c.kind}:${value}`, { kind: c.kind, value, label: c.label ?? '', verified: c.verified ?? false });
  });
  if (issues.length) throw new FieldError(issues);
  return [...out.values()];
}

export interface NormalizedSensitive {
  nationalId?: string | null;
  dateOfBirth?: string | null;
  cardLast4?: string | null;
}

/** Normalizes the sensitive fields present in the input (null clears, absent leaves as is). */
export function normalizeSensitive(input: { nationalId?: string | null; dateOfBirth?: string | null; cardLast4?: string | null }, today: Date): NormalizedSensitive {
  const issues: FieldIssue[] = [];
  const out: NormalizedSensitive = {};
  const one = (field: keyof NormalizedSensitive, fn: (v: string) => string | null, message: string) => {
    const raw = input[field];
    if (raw === undefined) return;
    if (raw === null || raw.trim() === '') return void (out[field] = null);
    const v = fn(raw);
    if (v === null) issues.push({ field, message });
    else out[field] = v;
  };
  one('nationalId', normalizeNationalId, 'must be 6 to 32 letters or digits (spaces and dashes are ignored)');
  one('dateOfBirth', (v) => normalizeDateOfBirth(v, today), 'must be a past date written YYYY-MM-DD');
  one('cardLast4', normalizeCardLast4, 'must be exactly four digits');
  if (issues.length) throw new FieldError(issues);
  return out;
}
