/**
 * Bulk import of customers from CSV or JSON lines. Lines are validated like API input; valid rows
 * are written in batches, each in one transaction. A row with an external id that exists updates
 * that customer (without one, the account number is the key); otherwise it creates one. Updates
 * set the fields given and add new contacts, never clearing or removing anything. When a batch
 * fails (e.g. an account number taken by another customer), its rows are retried one by one, so a
 * bad row is reported and never half-written, and the good rows around it are kept.
 */
import { randomUUID } from 'node:crypto';
import { customerInput, FieldError, normalizeContacts, normalizeSensitive, regionOf, type NormalizedContact, type NormalizedSensitive } from '../customers/fields.js';
import { parseImport, type ImportFormat, type ImportLine } from '../customers/import-format.js';
import { sealSensitive } from '../customers/sealing.js';
import type { CustomerWrite } from '../storage/repositories/customers.js';
import { audit, eventRecord } from './audit-log.js';
import type { Origin, Services } from './context.js';
import { uniqueField } from './customers.js';
import type { Actor } from './users.js';

export interface ImportResult {
  created: number;
  updated: number;
  errors: Array<{ line: number; message: string }>;
}

interface Row {
  line: number;
  externalId: string | null;
  accountNumber: string | null;
  name: string;
  sensitive: NormalizedSensitive;
  contacts: NormalizedContact[];
}

export interface ImportArgs {
  tenantId: string;
  format: ImportFormat;
  text: string;
  region?: string;
  actor: Actor;
  origin: Origin;
  batchSize?: number;
  /** Called after each batch with lines done and lines in all. */
  onProgress?: (done: number, total: number) => void;
}

/** Validates one line; returns the row or the message to report. */
function prepare(l: ImportLine, region: string | undefined, today: Date): Row | string {
  if (l.error) return l.error;
  const parsed = customerInput.safeParse(l.input);
  if (!parsed.success) return parsed.error.issues.map((i) => `${i.path.join('.') || 'line'}: ${i.message}`).join('; ');
  const v = parsed.data;
  try {
    return {
      line: l.line,
      externalId: v.externalId ?? null,
      accountNumber: v.accountNumber ?? null,
      name: v.name,
      sensitive: normalizeSensitive(v, today),
      contacts: normalizeContacts(v.contacts ?? [], regionOf(v.region ?? region)),
    };
  } catch (e) {
    if (e instanceof FieldError) return e.message;
    throw e;
  }
}

export async function importCustomers(s: Services, a: ImportArgs): Promise<ImportResult> {
  const lines = parseImport(a.format, a.text);
  const result: ImportResult = { created: 0, updated: 0, errors: [] };
  const size = a.batchSize ?? 250;
  const now = s.clock();
  const event = (row: Row, id: string, type: string) =>
    eventRecord(s, { tenantId: a.tenantId, type, outcome: 'success', actor: a.actor, target: { type: 'customer', id }, origin: a.origin, data: { source: 'import', line: row.line, fields: Object.keys(row.sensitive), contacts: row.contacts.length } });

  const write = async (rows: Row[]): Promise<void> => {
    const existing = await s.store.customers.matchExisting(
      a.tenantId,
      rows.flatMap((r) => (r.externalId ? [r.externalId] : [])),
      rows.flatMap((r) => (!r.externalId && r.accountNumber ? [r.accountNumber] : [])),
    );
    const creates: CustomerWrite[] = [];
    const updates: Array<{ id: string; patch: ReturnType<typeof sealSensitive>; contacts: CustomerWrite['contacts'] }> = [];
    const events = [];
    for (const r of rows) {
      const match = r.externalId ? existing.find((e) => e.external_id === r.externalId) : r.accountNumber ? existing.find((e) => e.account_number === r.accountNumber) : undefined;
      const contacts = r.contacts.map((c) => ({ ...c, id: randomUUID() }));
      if (match) {
        updates.push({ id: match.id, patch: { name: r.name, ...(r.accountNumber ? { account_number: r.accountNumber } : {}), ...sealSensitive(s.aead, match.id, r.sensitive) }, contacts });
        events.push(event(r, match.id, 'customer.updated'));
      } else {
        const id = randomUUID();
        const sealed = sealSensitive(s.aead, id, r.sensitive);
        creates.push({
          id,
          tenantId: a.tenantId,
          externalId: r.externalId,
          name: r.name,
          accountNumber: r.accountNumber,
          nationalId: sealed.national_id ?? null,
          nationalIdHint: sealed.national_id_hint ?? null,
          dateOfBirth: sealed.date_of_birth ?? null,
          cardLast4: sealed.card_last4 ?? null,
          contacts,
        });
        events.push(event(r, id, 'customer.created'));
      }
    }
    try {
      await s.store.customers.writeBatch(a.tenantId, { creates, updates, events }, now);
      result.created += creates.length;
      result.updated += updates.length;
    } catch (e) {
      if (rows.length > 1) {
        for (const r of rows) await write([r]);
        return;
      }
      const field = uniqueField(e);
      if (!field) throw e;
      result.errors.push({ line: rows[0]!.line, message: field === 'accountNumber' ? 'account number already belongs to another customer' : field === 'externalId' ? 'external id already belongs to another customer' : 'conflicts with an existing customer' });
    }
  };

  for (let i = 0; i < lines.length; i += size) {
    const rows: Row[] = [];
    for (const l of lines.slice(i, i + size)) {
      const r = prepare(l, a.region, now);
      if (typeof r === 'string') result.errors.push({ line: l.line, message: r });
      else rows.push(r);
    }
    if (rows.length) await write(rows);
    a.onProgress?.(Math.min(i + size, lines.length), lines.length);
  }
  result.errors.sort((x, y) => x.line - y.line);
  await audit(s, {
    tenantId: a.tenantId,
    type: 'customer.import_completed',
    outcome: result.errors.length && result.created + result.updated === 0 ? 'failure' : 'success',
    actor: a.actor,
    target: { type: 'tenant', id: a.tenantId },
    origin: a.origin,
    data: { format: a.format, lines: lines.length, created: result.created, updated: result.updated, failed: result.errors.length },
  });
  return result;
}
