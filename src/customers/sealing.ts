/**
 * Sensitive customer fields at rest: each value is an AES-256-GCM envelope whose associated data
 * names the customer and the field (`customer:<id>:<field>`), so a value copied onto another
 * customer or into another column does not open.
 */
import type { Aead } from '../crypto/aead.js';
import type { CustomerPatch } from '../storage/repositories/customers.js';
import type { NormalizedSensitive } from './fields.js';
import { nationalIdHint } from './masking.js';

export type SealedField = 'national_id' | 'date_of_birth' | 'card_last4';

const aad = (customerId: string, field: SealedField) => `customer:${customerId}:${field}`;

export const sealField = (aead: Aead, customerId: string, field: SealedField, value: string): Buffer => aead.seal(Buffer.from(value, 'utf8'), aad(customerId, field));

export const openField = (aead: Aead, customerId: string, field: SealedField, sealed: Buffer): string => aead.open(sealed, aad(customerId, field)).toString('utf8');

/** The column values of the sensitive fields present in `v` (null clears a field). */
export function sealSensitive(aead: Aead, customerId: string, v: NormalizedSensitive): CustomerPatch {
  const out: CustomerPatch = {};
  if (v.nationalId !== undefined) {
    out.national_id = v.nationalId === null ? null : sealField(aead, customerId, 'national_id', v.nationalId);
    out.national_id_hint = v.nationalId === null ? null : nationalIdHint(v.nationalId);
  }
  if (v.dateOfBirth !== undefined) out.date_of_birth = v.dateOfBirth === null ? null : sealField(aead, customerId, 'date_of_birth', v.dateOfBirth);
  if (v.cardLast4 !== undefined) out.card_last4 = v.cardLast4 === null ? null : sealField(aead, customerId, 'card_last4', v.cardLast4);
  return out;
}
