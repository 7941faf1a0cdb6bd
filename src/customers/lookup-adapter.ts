/**
 * How Callwarden finds customers. The built-in adapter reads the customer tables; a center whose
 * customers live in a CRM can plug in its own adapter (see docs/customers.md). Records carry raw
 * contact values (delivery needs them); services mask them before anything leaves the server.
 */
import type { CustomerRepo, ContactRow, CustomerRow } from '../storage/repositories/customers.js';
import type { Store } from '../storage/store.js';
import type { ContactKind } from './fields.js';

export interface CustomerContactRecord {
  id: string;
  kind: ContactKind;
  /** E.164 phone or normalized email. */
  value: string;
  label: string;
  verifiedAt: Date | null;
  changedAt: Date;
}

export interface CustomerRecord {
  /** The Callwarden customer id; null for a CRM record not (yet) known to Callwarden. */
  id: string | null;
  externalId: string | null;
  name: string;
  accountNumber: string | null;
  contacts: CustomerContactRecord[];
}

/** Exact keys; phone is E.164 and email normalized by the caller. Empty query: no results. */
export interface CustomerQuery {
  externalId?: string;
  accountNumber?: string;
  phone?: string;
  email?: string;
  limit?: number;
}

export interface CustomerLookupAdapter {
  readonly name: string;
  findByExternalId(tenantId: string, externalId: string): Promise<CustomerRecord | null>;
  search(tenantId: string, query: CustomerQuery): Promise<CustomerRecord[]>;
}

export const contactRecord = (c: ContactRow): CustomerContactRecord => ({ id: c.id, kind: c.kind, value: c.value, label: c.label, verifiedAt: c.verified_at, changedAt: c.changed_at });

function records(rows: CustomerRow[], contacts: ContactRow[]): CustomerRecord[] {
  return rows.map((r) => ({
    id: r.id,
    externalId: r.external_id,
    name: r.name,
    accountNumber: r.account_number,
    contacts: contacts.filter((c) => c.customer_id === r.id).map(contactRecord),
  }));
}

/** The adapter over Callwarden's own customer tables. */
export function builtinLookup(repo: CustomerRepo): CustomerLookupAdapter {
  return {
    name: 'builtin',
    async findByExternalId(tenantId, externalId) {
      const row = await repo.byExternalId(tenantId, externalId);
      return row ? records([row], await repo.contacts(row.id))[0]! : null;
    },
    async search(tenantId, q) {
      const rows = await repo.search(tenantId, q, Math.min(q.limit ?? 20, 100));
      return records(rows, await repo.contacts(rows.map((r) => r.id)));
    },
  };
}

const plugged = new WeakMap<Store, CustomerLookupAdapter>();

/** Replaces the lookup adapter of a running set of services (e.g. `setCustomerLookup(services.store, crm)`). */
export function setCustomerLookup(store: Store, adapter: CustomerLookupAdapter): void {
  plugged.set(store, adapter);
}

/** The adapter in use: a plugged one, or the built-in one. */
export function customerLookup(store: Store): CustomerLookupAdapter {
  return plugged.get(store) ?? builtinLookup(store.customers);
}
