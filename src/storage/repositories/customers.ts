/**
 * Customers (callers), their contact points and knowledge factors (PIN and security-question hashes).
 * Every read is scoped by tenant; sensitive columns arrive here already sealed and leave sealed.
 */
import type { Selectable, Transaction } from 'kysely';
import type { Db } from '../db.js';
import type { CustomerContactsTable, CustomerQuestionsTable, CustomersTable, DB } from '../schema.js';
import { auditRow, type AuditEvent } from './audit.js';

export type CustomerRow = Selectable<CustomersTable>;
export type ContactRow = Selectable<CustomerContactsTable>;
export type QuestionRow = Selectable<CustomerQuestionsTable>;

export interface ContactWrite {
  id: string;
  kind: 'phone' | 'email';
  value: string;
  label: string;
  verified: boolean;
}
export interface CustomerWrite {
  id: string;
  tenantId: string;
  externalId: string | null;
  name: string;
  accountNumber: string | null;
  nationalId: Buffer | null;
  nationalIdHint: string | null;
  dateOfBirth: Buffer | null;
  cardLast4: Buffer | null;
  contacts: ContactWrite[];
}
/** Columns to change; an absent key is left as it is. */
export type CustomerPatch = Partial<Pick<CustomersTable, 'external_id' | 'name' | 'account_number' | 'national_id' | 'national_id_hint' | 'date_of_birth' | 'card_last4'>>;
export interface ContactOps {
  add: ContactWrite[];
  update: Array<{ id: string; value?: string; label?: string }>;
  remove: string[];
}
export interface CustomerSearch {
  externalId?: string;
  accountNumber?: string;
  phone?: string;
  email?: string;
}
export interface ContactChange {
  before: ContactRow;
  after: ContactRow;
}

const contactRow = (tenantId: string, customerId: string, c: ContactWrite, now: Date) => ({
  id: c.id,
  tenant_id: tenantId,
  customer_id: customerId,
  kind: c.kind,
  value: c.value,
  label: c.label,
  verified_at: c.verified ? now : null,
  changed_at: now,
  created_at: now,
});

export class CustomerRepo {
  constructor(private readonly db: Db) {}

  /** Inserts a customer with its contacts (and the given audit events) in one transaction. */
  create(c: CustomerWrite, now: Date, events: AuditEvent[] = []): Promise<CustomerRow> {
    return this.db.transaction().execute(async (trx) => {
      const [row] = await this.insertAll(trx, [c], now);
      if (events.length) await trx.insertInto('audit_events').values(events.map(auditRow)).execute();
      return row!;
    });
  }

  /** Scoped lookup: a customer of another tenant is simply not found. */
  byId(tenantId: string, id: string): Promise<CustomerRow | undefined> {
    return this.db.selectFrom('customers').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  }

  byExternalId(tenantId: string, externalId: string): Promise<CustomerRow | undefined> {
    return this.db.selectFrom('customers').selectAll().where('tenant_id', '=', tenantId).where('external_id', '=', externalId).executeTakeFirst();
  }

  /** Contacts of one or several customers, oldest first. */
  contacts(customerIds: string | string[]): Promise<ContactRow[]> {
    const ids = Array.isArray(customerIds) ? customerIds : [customerIds];
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('customer_contacts').selectAll().where('customer_id', 'in', ids).orderBy('created_at').orderBy('id').execute();
  }

  /** Customers matching any of the given exact keys (phone and email already normalized). */
  search(tenantId: string, q: CustomerSearch, limit = 20): Promise<CustomerRow[]> {
    if (!q.externalId && !q.accountNumber && !q.phone && !q.email) return Promise.resolve([]);
    const byContact = (kind: 'phone' | 'email', value: string) =>
      this.db.selectFrom('customer_contacts').select('customer_id').where('tenant_id', '=', tenantId).where('kind', '=', kind).where('value', '=', value);
    return this.db
      .selectFrom('customers')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where((eb) =>
        eb.or([
          ...(q.externalId ? [eb('external_id', '=', q.externalId)] : []),
          ...(q.accountNumber ? [eb('account_number', '=', q.accountNumber)] : []),
          ...(q.phone ? [eb('id', 'in', byContact('phone', q.phone))] : []),
          ...(q.email ? [eb('id', 'in', byContact('email', q.email))] : []),
        ]),
      )
      .orderBy('name')
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  /**
   * Applies a patch and contact changes in one transaction. A contact whose value changes gets
   * changed_at = now and loses verified_at. Returns undefined when the customer is not in the tenant.
   */
  update(tenantId: string, id: string, patch: CustomerPatch, ops: ContactOps, now: Date) {
    return this.db.transaction().execute(async (trx) => {
      const customer = await trx.updateTable('customers').set({ ...patch, updated_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).returningAll().executeTakeFirst();
      if (!customer) return undefined;
      const before = await trx.selectFrom('customer_contacts').selectAll().where('customer_id', '=', id).forUpdate().execute();
      const removed = ops.remove.length ? await trx.deleteFrom('customer_contacts').where('customer_id', '=', id).where('id', 'in', ops.remove).returningAll().execute() : [];
      const changed: ContactChange[] = [];
      for (const u of ops.update) {
        const old = before.find((c) => c.id === u.id);
        if (!old) continue;
        const valueChanged = u.value !== undefined && u.value !== old.value;
        const after = await trx
          .updateTable('customer_contacts')
          .set({ label: u.label ?? old.label, ...(valueChanged ? { value: u.value, changed_at: now, verified_at: null } : {}) })
          .where('customer_id', '=', id)
          .where('id', '=', u.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        if (valueChanged) changed.push({ before: old, after });
      }
      const added = ops.add.length ? await trx.insertInto('customer_contacts').values(ops.add.map((c) => contactRow(tenantId, id, c, now))).returningAll().execute() : [];
      return { customer, changed, added, removed };
    });
  }

  // import

  /** Existing customers of a tenant named by any of these external ids or account numbers. */
  matchExisting(tenantId: string, externalIds: string[], accountNumbers: string[]) {
    if (externalIds.length === 0 && accountNumbers.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('customers')
      .select(['id', 'external_id', 'account_number'])
      .where('tenant_id', '=', tenantId)
      .where((eb) => eb.or([...(externalIds.length ? [eb('external_id', 'in', externalIds)] : []), ...(accountNumbers.length ? [eb('account_number', 'in', accountNumbers)] : [])]))
      .execute();
  }

  /**
   * Writes a batch in one transaction: new customers, patches of existing ones (their new contacts
   * are added; existing contacts are kept) and audit events. Any failure rolls the whole batch back.
   */
  async writeBatch(tenantId: string, b: { creates: CustomerWrite[]; updates: Array<{ id: string; patch: CustomerPatch; contacts: ContactWrite[] }>; events: AuditEvent[] }, now: Date): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (b.creates.length) await this.insertAll(trx, b.creates, now);
      for (const u of b.updates) {
        const r = await trx.updateTable('customers').set({ ...u.patch, updated_at: now }).where('tenant_id', '=', tenantId).where('id', '=', u.id).executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) throw new Error('customer vanished during import');
      }
      const contacts = b.updates.flatMap((u) => u.contacts.map((c) => contactRow(tenantId, u.id, c, now)));
      if (contacts.length) await trx.insertInto('customer_contacts').values(contacts).onConflict((oc) => oc.columns(['customer_id', 'kind', 'value']).doNothing()).execute();
      if (b.events.length) await trx.insertInto('audit_events').values(b.events.map(auditRow)).execute();
    });
  }

  // knowledge factors

  async setPin(customerId: string, hash: string, now: Date): Promise<void> {
    await this.db
      .insertInto('customer_pins')
      .values({ customer_id: customerId, hash, updated_at: now })
      .onConflict((oc) => oc.column('customer_id').doUpdateSet({ hash, updated_at: now }))
      .execute();
  }

  async pinHash(customerId: string): Promise<string | null> {
    const r = await this.db.selectFrom('customer_pins').select('hash').where('customer_id', '=', customerId).executeTakeFirst();
    return r?.hash ?? null;
  }

  /** Replaces the customer's security questions. */
  async replaceQuestions(customerId: string, qs: Array<{ id: string; question: string; answerHash: string }>, now: Date): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('customer_questions').where('customer_id', '=', customerId).execute();
      if (qs.length) {
        // created_at increases by a millisecond per question so that the order given is the order kept
        await trx
          .insertInto('customer_questions')
          .values(qs.map((q, i) => ({ id: q.id, customer_id: customerId, question: q.question, answer_hash: q.answerHash, created_at: new Date(now.getTime() + i) })))
          .execute();
      }
    });
  }

  questions(customerId: string): Promise<QuestionRow[]> {
    return this.db.selectFrom('customer_questions').selectAll().where('customer_id', '=', customerId).orderBy('created_at').execute();
  }

  private async insertAll(trx: Transaction<DB>, cs: CustomerWrite[], now: Date): Promise<CustomerRow[]> {
    const rows = await trx
      .insertInto('customers')
      .values(
        cs.map((c) => ({
          id: c.id,
          tenant_id: c.tenantId,
          external_id: c.externalId,
          name: c.name,
          account_number: c.accountNumber,
          national_id: c.nationalId,
          national_id_hint: c.nationalIdHint,
          date_of_birth: c.dateOfBirth,
          card_last4: c.cardLast4,
          created_at: now,
          updated_at: now,
        })),
      )
      .returningAll()
      .execute();
    const contacts = cs.flatMap((c) => c.contacts.map((x) => contactRow(c.tenantId, c.id, x, now)));
    if (contacts.length) await trx.insertInto('customer_contacts').values(contacts).execute();
    return rows;
  }
}
