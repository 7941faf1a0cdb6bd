/**
 * Identifier normalization: one account, one key, whatever form it is typed in. Email identifiers
 * are NFKC-folded, trimmed and lower-cased, and must then be plain ASCII with no quoted local part,
 * so look-alike or quoted addresses cannot name another mailbox.
 */
const EMAIL = /^[a-z0-9](?:[a-z0-9._%+-]{0,62}[a-z0-9_%+-])?@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export function normalizeIdentifier(raw: string): string {
  return raw.normalize('NFKC').trim().toLowerCase();
}

/** Returns the normalized email, or null when it is not an address we accept. */
export function normalizeEmail(raw: string): string | null {
  const v = normalizeIdentifier(raw);
  if (v.length > 254 || !EMAIL.test(v) || v.includes('..')) return null;
  return v;
}

/** Tenant slugs: lower-case letters, digits and dashes. */
export const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
