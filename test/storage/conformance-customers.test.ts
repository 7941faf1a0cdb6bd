/** Storage conformance, CustomerRepo: the same contract on PGlite and PostgreSQL. */
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContactWrite, CustomerWrite } from '../../src/storage/repositories/customers.js';
import type { Store } from '../../src/storage/store.js';
import { backends, testStore } from '../helpers/db.js';
import { at, range, seedTenant, uniq } from '../helpers/fixtures.js';
import { withMac } from '../../src/audit/mac.js';
import { TEST_KEYS } from '../helpers/audit-chain.js';

const BACKENDS = await backends();

const phone = (n: string, o: Partial<ContactWrite> = {}): ContactWrite => ({ id: randomUUID(), kind: 'phone', value: `+1415555${n}`, label: '', verified: false, ...o });
const email = (v: string, o: Partial<ContactWrite> = {}): ContactWrite => ({ id: randomUUID(), kind: 'email', value: v, label: '', verified: false, ...o });

function customer(tenantId: string, o: Partial<CustomerWrite> = {}): CustomerWrite {
  return { id: randomUUID(), tenantId, externalId: `crm-${uniq()}`, name: 'Dana Caller', accountNumber: `ACC-${uniq()}`, nationalId: randomBytes(40), nationalIdHint: '6789', dateOfBirth: null, cardLast4: null, contacts: [], ...o };
}

describe.each(BACKENDS)('storage conformance on %s', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await testStore(backend);
  });
  afterAll(async () => {
    await store?.close();
  });

  describe('CustomerRepo', () => {
    it('create stores the customer and its contacts; reads are scoped by tenant', async () => {
      const t = await seedTenant(store);
      const other = await seedTenant(store);
      const now = new Date();
      const c = customer(t.id, { contacts: [phone('0134', { verified: true, label: 'mobile' }), email('dana@example.com')] });
      const row = await store.customers.create(c, now);
      expect(row).toMatchObject({ id: c.id, tenant_id: t.id, external_id: c.externalId, national_id_hint: '6789' });
      expect(Buffer.compare(row.national_id!, c.nationalId!)).toBe(0);
      expect((await store.customers.byId(t.id, c.id))?.name).toBe('Dana Caller');
      expect(await store.customers.byId(other.id, c.id)).toBeUndefined();
      expect((await store.customers.byExternalId(t.id, c.externalId!))?.id).toBe(c.id);
      expect(await store.customers.byExternalId(other.id, c.externalId!)).toBeUndefined();
      const contacts = await store.customers.contacts(c.id);
      expect(contacts.map((x) => [x.kind, x.value, x.label]).sort()).toEqual([
        ['email', 'dana@example.com', ''],
        ['phone', '+14155550134', 'mobile'],
      ]);
      expect(contacts.find((x) => x.kind === 'phone')!.verified_at?.getTime()).toBe(now.getTime());
      expect(contacts.find((x) => x.kind === 'email')!.verified_at).toBeNull();
      expect(contacts.every((x) => x.changed_at.getTime() === now.getTime())).toBe(true);
    });

    it('external id and account number are unique per tenant (several customers may have none)', async () => {
      const t = await seedTenant(store);
      const other = await seedTenant(store);
      const a = customer(t.id);
      await store.customers.create(a, new Date());
      await expect(store.customers.create(customer(t.id, { externalId: a.externalId }), new Date())).rejects.toMatchObject({ code: '23505' });
      await expect(store.customers.create(customer(t.id, { accountNumber: a.accountNumber }), new Date())).rejects.toMatchObject({ code: '23505' });
      await store.customers.create(customer(other.id, { externalId: a.externalId, accountNumber: a.accountNumber }), new Date());
      for (const _ of range(3)) await store.customers.create(customer(t.id, { externalId: null, accountNumber: null }), new Date());
      // the same contact twice on one customer is refused; a failed create leaves nothing behind
      const dup = customer(t.id, { contacts: [phone('0199'), phone('0199')] });
      await expect(store.customers.create(dup, new Date())).rejects.toMatchObject({ code: '23505' });
      expect(await store.customers.byId(t.id, dup.id)).toBeUndefined();
    });

    it('search finds by external id, account number, phone or email, within the tenant only', async () => {
      const t = await seedTenant(store);
      const other = await seedTenant(store);
      const mail = `x-${uniq()}@example.com`;
      const a = customer(t.id, { name: 'Ann', contacts: [phone('0111'), email(mail)] });
      const b = customer(t.id, { name: 'Ben', contacts: [phone('0111')] });
      const c = customer(other.id, { name: 'Cat', contacts: [phone('0111')] });
      for (const x of [a, b, c]) await store.customers.create(x, new Date());
      expect((await store.customers.search(t.id, { phone: '+14155550111' })).map((r) => r.name)).toEqual(['Ann', 'Ben']);
      expect((await store.customers.search(t.id, { email: mail })).map((r) => r.id)).toEqual([a.id]);
      expect((await store.customers.search(t.id, { externalId: b.externalId! })).map((r) => r.id)).toEqual([b.id]);
      expect((await store.customers.search(t.id, { accountNumber: a.accountNumber!, externalId: b.externalId! })).map((r) => r.id)).toEqual([a.id, b.id]);
      expect(await store.customers.search(t.id, {})).toEqual([]);
      expect(await store.customers.search(t.id, { phone: '+14155550111' }, 1)).toHaveLength(1);
      expect((await store.customers.search(other.id, { externalId: a.externalId! }))).toEqual([]);
      expect((await store.customers.contacts([a.id, b.id])).length).toBe(3);
    });

    it('update: a changed contact value sets changed_at and clears verified_at; label-only changes do not', async () => {
      const t = await seedTenant(store);
      const created = new Date('2026-01-01T00:00:00Z');
      const p = phone('0134', { verified: true });
      const e = email(`y-${uniq()}@example.com`, { verified: true });
      const gone = phone('0135');
      const c = customer(t.id, { contacts: [p, e, gone] });
      await store.customers.create(c, created);
      const later = at(created, 3600);
      const r = await store.customers.update(t.id, c.id, { name: 'Dana R. Caller', national_id: null, national_id_hint: null }, { add: [email(`z-${uniq()}@example.com`)], update: [{ id: p.id, value: '+14155550199' }, { id: e.id, label: 'work' }], remove: [gone.id] }, later);
      expect(r?.customer).toMatchObject({ name: 'Dana R. Caller', national_id: null, national_id_hint: null });
      expect(r?.customer.updated_at.getTime()).toBe(later.getTime());
      expect(r?.changed.map((x) => [x.before.value, x.after.value])).toEqual([['+14155550134', '+14155550199']]);
      expect(r?.added).toHaveLength(1);
      expect(r?.removed.map((x) => x.id)).toEqual([gone.id]);
      const after = await store.customers.contacts(c.id);
      const ph = after.find((x) => x.id === p.id)!;
      expect(ph).toMatchObject({ value: '+14155550199', verified_at: null });
      expect(ph.changed_at.getTime()).toBe(later.getTime());
      const em = after.find((x) => x.id === e.id)!;
      expect(em.label).toBe('work');
      expect(em.verified_at?.getTime()).toBe(created.getTime());
      expect(em.changed_at.getTime()).toBe(created.getTime());
      expect(after).toHaveLength(3);
      // another tenant cannot update it
      const other = await seedTenant(store);
      expect(await store.customers.update(other.id, c.id, { name: 'Mallory' }, { add: [], update: [], remove: [] }, later)).toBeUndefined();
      expect((await store.customers.byId(t.id, c.id))?.name).toBe('Dana R. Caller');
    });

    it('PIN upsert, questions replace (order kept), and cascade on delete', async () => {
      const t = await seedTenant(store);
      const c = customer(t.id, { contacts: [phone('0100')] });
      await store.customers.create(c, new Date());
      expect(await store.customers.pinHash(c.id)).toBeNull();
      await store.customers.setPin(c.id, 'hash-1', new Date());
      await store.customers.setPin(c.id, 'hash-2', new Date());
      expect(await store.customers.pinHash(c.id)).toBe('hash-2');
      const qs = range(3).map((i) => ({ id: randomUUID(), question: `Question ${i}?`, answerHash: `h${i}` }));
      await store.customers.replaceQuestions(c.id, qs, new Date());
      await store.customers.replaceQuestions(c.id, qs.slice(1), new Date());
      expect((await store.customers.questions(c.id)).map((q) => q.question)).toEqual(['Question 2?', 'Question 3?']);
      await sql`DELETE FROM customers WHERE id = ${c.id}`.execute(store.db);
      expect(await store.customers.contacts(c.id)).toEqual([]);
      expect(await store.customers.questions(c.id)).toEqual([]);
      expect(await store.customers.pinHash(c.id)).toBeNull();
    });

    it('writeBatch creates and updates in one transaction; a failing batch writes nothing', async () => {
      const t = await seedTenant(store);
      const existing = customer(t.id, { contacts: [phone('0150')] });
      await store.customers.create(existing, new Date());
      const fresh = customer(t.id, { contacts: [phone('0151')] });
      const now = new Date();
      const event = withMac(TEST_KEYS, { tenantId: t.id, type: 'customer.created', outcome: 'success' as const, actor: { type: 'cli' as const }, target: { type: 'customer', id: fresh.id }, at: now });
      await store.customers.writeBatch(t.id, { creates: [fresh], updates: [{ id: existing.id, patch: { name: 'Renamed' }, contacts: [phone('0150'), phone('0152')] }], events: [event] }, now);
      expect((await store.customers.byId(t.id, fresh.id))?.name).toBe('Dana Caller');
      expect((await store.customers.byId(t.id, existing.id))?.name).toBe('Renamed');
      expect((await store.customers.contacts(existing.id)).map((x) => x.value).sort()).toEqual(['+14155550150', '+14155550152']);
      expect((await store.customers.matchExisting(t.id, [fresh.externalId!], [existing.accountNumber!])).map((r) => r.id).sort()).toEqual([existing.id, fresh.id].sort());
      const audits = await store.db.selectFrom('audit_events').select('type').where('tenant_id', '=', t.id).execute();
      expect(audits.map((a) => a.type)).toEqual(['customer.created']);

      const ok = customer(t.id);
      const clash = customer(t.id, { accountNumber: existing.accountNumber });
      await expect(store.customers.writeBatch(t.id, { creates: [ok, clash], updates: [{ id: existing.id, patch: { name: 'Never' }, contacts: [] }], events: [] }, now)).rejects.toMatchObject({ code: '23505' });
      expect(await store.customers.byId(t.id, ok.id)).toBeUndefined();
      expect((await store.customers.byId(t.id, existing.id))?.name).toBe('Renamed');
    });
  });
});
