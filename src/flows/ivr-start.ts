/**
 * Starting an IVR verification: find the caller (by customer id, CRM id, or the calling number among
 * on-file phones; a number shared by several customers is refused rather than guessed), read the
 * STIR/SHAKEN verdict, start the verification on the `ivr` channel and return its first prompt.
 */
import { normalizePhone } from '../customers/fields.js';
import { AppError } from '../domain/errors.js';
import type { Origin, Services } from '../services/context.js';
import type { CustomerRow } from '../storage/repositories/customers.js';
import { ivrPrompt, type IvrPrompt } from './ivr-script.js';
import { beginVerification, type Actor, type VerificationView } from './verification.js';

export interface CallerLookup {
  customerId?: string;
  externalId?: string;
  /** The calling number; used to find the customer when no id is given, and as a risk signal. */
  callerAni?: string;
}

/** A phone number as stored on file (E.164), or null when it is not a usable number (withheld, SIP client). */
export const normalizeAni = (raw: string | undefined | null): string | null => (raw && /^\+?[\d\s().-]{7,20}$/.test(raw) ? normalizePhone(raw) : null);

export async function findCaller(s: Services, tenantId: string, q: CallerLookup): Promise<CustomerRow> {
  if (q.customerId) {
    const c = await s.store.customers.byId(tenantId, q.customerId);
    if (!c) throw new AppError('not_found', undefined, 'No such customer.');
    return c;
  }
  if (q.externalId) {
    const c = await s.store.customers.byExternalId(tenantId, q.externalId);
    if (!c) throw new AppError('not_found', undefined, 'No such customer.');
    return c;
  }
  const phone = normalizeAni(q.callerAni);
  if (!phone) throw new AppError('invalid_request', undefined, 'Name the customer (customerId or externalId) or pass the caller number.');
  const found = await s.store.customers.search(tenantId, { phone }, 2);
  if (found.length === 0) throw new AppError('not_found', undefined, 'No customer has this number on file.');
  if (found.length > 1) throw new AppError('conflict', { reason: 'ambiguous_number' }, 'Several customers have this number on file; name the customer.');
  return found[0]!;
}

/**
 * Twilio's StirVerstat: `TN-Validation-Passed-A|B|C` gives that attestation; a failed validation
 * counts as the weakest (C); absent or `No-TN-Validation` gives none.
 */
export function stirAttestation(verstat: string | undefined): 'A' | 'B' | 'C' | null {
  const m = /^TN-Validation-(Passed|Failed)(?:-([ABC]))?$/i.exec(verstat?.trim() ?? '');
  if (!m) return null;
  if (m[1]!.toLowerCase() === 'failed') return 'C';
  return (m[2]?.toUpperCase() as 'A' | 'B' | 'C' | undefined) ?? null;
}

export async function startIvrVerification(
  s: Services,
  a: { tenantId: string; lookup: CallerLookup; interactionId: string; level?: string; attestation?: 'A' | 'B' | 'C' | null; locale?: string; actor: Actor; origin: Origin },
): Promise<{ verification: VerificationView; prompt: IvrPrompt }> {
  const customer = await findCaller(s, a.tenantId, a.lookup);
  const { view: verification, state } = await beginVerification(s, {
    tenantId: a.tenantId,
    customerId: customer.id,
    interactionId: a.interactionId,
    ...(a.level ? { level: a.level } : {}),
    channel: 'ivr',
    actor: a.actor,
    callerAni: normalizeAni(a.lookup.callerAni),
    attestation: a.attestation ?? null,
    ...(a.locale ? { locale: a.locale } : {}),
    origin: a.origin,
  });
  // the first prompt from the flow just written (no read)
  return { verification, prompt: await ivrPrompt(s, { tenantId: a.tenantId, id: verification.id, read: state }) };
}
