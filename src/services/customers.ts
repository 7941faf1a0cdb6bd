/**
 * Customers: create, update, read (masked), search (through the lookup adapter) and reveal (a
 * permission plus a reason, audited without the value). Every change is audited without sensitive
 * values; a contact whose value changes gets changed_at = now, loses verified_at and is audited as
 * `customer.contact_changed` with masked old and new values.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../domain/errors.js';
import { FieldError, normalizeContacts, normalizeContactValue, normalizeSensitive, regionOf, type CustomerInput, type CustomerPatchInput } from '../customers/fields.js';
import { customerLookup, type CustomerRecord } from '../customers/lookup-adapter.js';
import { CARD_MASK, maskContact, maskDateOfBirth, maskNationalId } from '../customers/masking.js';
import { openField, sealSensitive } from '../customers/sealing.js';
import { normalizeEmail } from '../domain/identifiers.js';
import type { ContactRow, CustomerPatch, CustomerRow } from '../storage/repositories/customers.js';
import { audit, eventRecord, type EventInput } from './audit-log.js';
import type { Origin, Services } from './context.js';
import type { Actor } from './users.js';

interface Who {
  tenantId: string;
  actor: Actor;
  origin: Origin;
}

/** Field errors become 400 invalid_request with `details.issues`. */
export function fieldErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof FieldError) throw new AppError('invalid_request', { issues: e.issues }, `The customer is not valid: ${e.message}.`);
    throw e;
  }
}

/** A unique violation names the field that is taken. */
export function uniqueField(e: unknown): string | undefined {
  const err = e as { code?: string; constraint?: string; message?: string; detail?: string };
  if (err.code !== '23505') return undefined;
  const text = `${err.constraint ?? ''} ${err.message ?? ''} ${err.detail ?? ''}`;
  return /external_id/.test(text) ? 'externalId' : /account_number/.test(text) ? 'accountNumber' : /customer_contacts/.test(text) ? 'contacts' : 'unknown';
}

async function unique<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    const field = uniqueField(e);
    if (field) throw new AppError('already_exists', { field }, field === 'contacts' ? 'The customer already has that contact.' : `Another customer has this ${field === 'externalId' ? 'external id' : 'account number'}.`);
    throw e;
  }
}

export const maskedContact = (c: { id: string; kind: 'phone' | 'email'; value: string; label: string; verifiedAt: Date | null; changedAt: Date }) => ({
  id: c.id,
  kind: c.kind,
  value: maskContact(c.kind, c.value),
  label: c.label,
  verifiedAt: c.verifiedAt?.toISOString() ?? null,
  changedAt: c.changedAt.toISOString(),
});

/** The masked view of a customer: what agents and the API see. */
export async function customerView(s: Services, row: CustomerRow, contacts?: ContactRow[]) {
  const cs = contacts ?? (await s.store.customers.contacts(row.id));
  const [pin, questions, totp] = await Promise.all([s.store.customers.pinHash(row.id), s.store.customers.questions(row.id), s.store.credentials.active({ type: 'customer', id: row.id }, 'totp')]);
  return {
    id: row.id,
    externalId: row.external_id,
    name: row.name,
    accountNumber: row.account_number,
    nationalId: maskNationalId(row.national_id ? row.national_id_hint : null),
    dateOfBirth: row.date_of_birth ? maskDateOfBirth(openField(s.aead, row.id, 'date_of_birth', row.date_of_birth)) : null,
    cardLast4: row.card_last4 ? CARD_MASK : null,
    contacts: cs.map((c) => ({ ...maskedContact({ ...c, verifiedAt: c.verified_at, changedAt: c.changed_at }), createdAt: c.created_at.toISOString() })),
    pinSet: pin !== null,
    totpSet: totp !== undefined,
    questions: questions.map((q) => ({ id: q.id, question: q.question })),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
export type CustomerView = Awaited<ReturnType<typeof customerView>>;

const event = (w: Who, customerId: string, type: string, data: Record<string, unknown>): EventInput => ({
  tenantId: w.tenantId,
  type,
  outcome: 'success',
  actor: w.actor,
  target: { type: 'customer', id: customerId },
  origin: w.origin,
  data,
});

const presentFields = (o: Record<string, unknown>, names: string[]) => names.filter((n) => o[n] !== undefined && o[n] !== null);

export async function createCustomer(s: Services, a: Who & { input: CustomerInput }): Promise<CustomerView> {
  const now = s.clock();
  const region = regionOf(a.input.region);
  const { sensitive, contacts } = fieldErrors(() => ({ sensitive: normalizeSensitive(a.input, now), contacts: normalizeContacts(a.input.contacts ?? [], region) }));
  const id = randomUUID();
  const sealed = sealSensitive(s.aead, id, sensitive);
  const write = {
    id,
    tenantId: a.tenantId,
    externalId: a.input.externalId ?? null,
    name: a.input.name,
    accountNumber: a.input.accountNumber ?? null,
    nationalId: sealed.national_id ?? null,
    nationalIdHint: sealed.national_id_hint ?? null,
    dateOfBirth: sealed.date_of_birth ?? null,
    cardLast4: sealed.card_last4 ?? null,
    contacts: contacts.map((c) => ({ ...c, id: randomUUID() })),
  };
  const fields = presentFields({ ...a.input, ...sensitive }, ['externalId', 'accountNumber', 'nationalId', 'dateOfBirth', 'cardLast4']);
  const e = event(a, id, 'customer.created', { source: a.origin.channel, fields, contacts: write.contacts.map((c) => ({ id: c.id, kind: c.kind, value: maskContact(c.kind, c.value), verified: c.verified })) });
  const row = await unique(s.store.customers.create(write, now, [eventRecord(s, e)]));
  return customerView(s, row);
}

export async function updateCustomer(s: Services, a: Who & { id: string; input: CustomerPatchInput }): Promise<CustomerView> {
  const now = s.clock();
  const region = regionOf(a.input.region);
  const existing = await s.store.customers.byId(a.tenantId, a.id);
  if (!existing) throw new AppError('not_found');
  const before = await s.store.customers.contacts(a.id);
  const ops = a.input.contacts ?? { add: [], update: [], remove: [] };
  const unknown = [...ops.update.map((u) => u.id), ...ops.remove].filter((id) => !before.some((c) => c.id === id));
  if (unknown.length) throw new AppError('not_found', { contacts: unknown }, 'No such contact on this customer.');
  const { sensitive, add, update } = fieldErrors(() => ({
    sensitive: normalizeSensitive(a.input, now),
    add: normalizeContacts(ops.add, region, 'contacts.add').map((c) => ({ ...c, id: randomUUID(), verified: false })),
    update: ops.update.map((u, i) => {
      const kind = before.find((c) => c.id === u.id)!.kind;
      const value = u.value === undefined ? undefined : normalizeContactValue(kind, u.value, region);
      if (value === null) throw new FieldError([{ field: `contacts.update[${i}]`, message: kind === 'phone' ? `not a valid phone number for region ${region}` : 'not an email address we accept' }]);
      return { id: u.id, value, label: u.label };
    }),
  }));
  const patch: CustomerPatch = { ...sealSensitive(s.aead, a.id, sensitive) };
  if (a.input.name !== undefined) patch.name = a.input.name;
  if (a.input.externalId !== undefined) patch.external_id = a.input.externalId;
  if (a.input.accountNumber !== undefined) patch.account_number = a.input.accountNumber;
  const r = await unique(s.store.customers.update(a.tenantId, a.id, patch, { add, update, remove: ops.remove }, now));
  if (!r) throw new AppError('not_found');
  const fields = Object.keys(a.input).filter((k) => k !== 'region' && k !== 'contacts' && (a.input as Record<string, unknown>)[k] !== undefined);
  const events = [event(a, a.id, 'customer.updated', { fields, contactsAdded: r.added.length, contactsChanged: r.changed.length, contactsRemoved: r.removed.length })];
  for (const c of r.changed) events.push(event(a, a.id, 'customer.contact_changed', { contactId: c.after.id, kind: c.after.kind, from: maskContact(c.before.kind, c.before.value), to: maskContact(c.after.kind, c.after.value), wasVerified: c.before.verified_at !== null }));
  for (const c of r.added) events.push(event(a, a.id, 'customer.contact_added', { contactId: c.id, kind: c.kind, value: maskContact(c.kind, c.value) }));
  for (const c of r.removed) events.push(event(a, a.id, 'customer.contact_removed', { contactId: c.id, kind: c.kind, value: maskContact(c.kind, c.value) }));
  await audit(s, events);
  return customerView(s, r.customer);
}

export async function getCustomer(s: Services, tenantId: string, id: string): Promise<CustomerView> {
  const row = await s.store.customers.byId(tenantId, id);
  if (!row) throw new AppError('not_found');
  return customerView(s, row);
}

export const searchKeys = ['any', 'externalId', 'accountNumber', 'phone', 'email'] as const;

/** Exact-key search: external id, account number, phone (read in `region`) or email. Masked results. */
export async function searchCustomers(s: Services, a: { tenantId: string; q: string; by?: (typeof searchKeys)[number]; region?: string; limit?: number }) {
  const q = a.q.trim();
  const by = a.by ?? 'any';
  const want = (k: string) => by === 'any' || by === k;
  const phone = want('phone') && /\d/.test(q) ? normalizeContactValue('phone', q, regionOf(a.region)) : null;
  const email = want('email') && q.includes('@') ? normalizeEmail(q) : null;
  const found = await customerLookup(s.store).search(a.tenantId, {
    ...(want('externalId') ? { externalId: q } : {}),
    ...(want('accountNumber') ? { accountNumber: q } : {}),
    ...(phone ? { phone } : {}),
    ...(email ? { email } : {}),
    limit: a.limit ?? 20,
  });
  return found.map(summary);
}

export const summary = (r: CustomerRecord) => ({ id: r.id, externalId: r.externalId, name: r.name, accountNumber: r.accountNumber, contacts: r.contacts.map(maskedContact) });

export const revealableFields = ['nationalId', 'dateOfBirth', 'contact'] as const;

/** The clear value of one field, for a holder of customers.reveal with a reason; audited without the value. */
export async function revealField(s: Services, a: Who & { id: string; field: (typeof revealableFields)[number]; contactId?: string; reason: string }) {
  const row = await s.store.customers.byId(a.tenantId, a.id);
  if (!row) throw new AppError('not_found');
  let value: string | null = null;
  if (a.field === 'nationalId' && row.national_id) value = openField(s.aead, row.id, 'national_id', row.national_id);
  if (a.field === 'dateOfBirth' && row.date_of_birth) value = openField(s.aead, row.id, 'date_of_birth', row.date_of_birth);
  if (a.field === 'contact') {
    if (!a.contactId) throw new AppError('invalid_request', { field: 'contactId' }, 'Name the contact to reveal (contactId).');
    value = (await s.store.customers.contacts(row.id)).find((c) => c.id === a.contactId)?.value ?? null;
  }
  if (value === null) throw new AppError('not_found', { field: a.field }, 'That field is not set.');
  await audit(s, event(a, row.id, 'customer.field_revealed', { field: a.field, ...(a.contactId ? { contactId: a.contactId } : {}), reason: a.reason }));
  return { field: a.field, value };
}
