/**
 * Customers over HTTP: create and masked reads, search by normalized phone and email, contact changes
 * (changed_at, verified_at, audit), reveal (permission, reason, audit without the value), agent and
 * cross-tenant access, PIN rules, normalized security answers, sealed columns and import.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAnswer, checkPin } from '../../src/services/customer-knowledge.js';
import { api, json, seed, testApp, type TestApp } from '../helpers/app.js';

const DANA = {
  externalId: 'crm-1001',
  name: 'Dana Caller',
  accountNumber: 'ACC-77001',
  nationalId: '123-45-6789',
  dateOfBirth: '1984-04-12',
  cardLast4: '4242',
  contacts: [
    { kind: 'phone', value: '+1 415 555 0134', label: 'mobile', verified: true },
    { kind: 'email', value: 'Dana.Caller@Example.com' },
  ],
};
const PLAINTEXT = ['123456789', '123-45-6789', '1984-04-12', '4242', '4155550134', 'dana.caller'];

describe('customers', () => {
  let t: TestApp;
  let acme: Awaited<ReturnType<typeof seed>>;
  let globex: Awaited<ReturnType<typeof seed>>;
  let admin: string;
  let agent: string;
  let dana: Record<string, any>;
  const a = () => api(t.app);
  const base = '/v1/tenants/acme/customers';
  const patch = (url: string, token: string, body: unknown) => t.app.inject({ method: 'PATCH', url, headers: { authorization: `Bearer ${token}` }, payload: body as object });
  const audits = (type: string) => t.s.store.db.selectFrom('audit_events').selectAll().where('type', '=', type).orderBy('id').execute();

  beforeAll(async () => {
    t = await testApp();
    acme = await seed(t, { users: [{ email: 'boss@acme.test', roles: ['tenant_admin'] }, { email: 'ana@acme.test', roles: ['agent'] }] });
    globex = await seed(t, { tenant: 'globex', users: [{ email: 'boss@globex.test', roles: ['tenant_admin'] }] });
    admin = acme.users['boss@acme.test']!.token!;
    agent = acme.users['ana@acme.test']!.token!;
    const r = await a().post(base, { token: admin, body: DANA });
    expect(r.statusCode, r.body).toBe(201);
    dana = json(r);
  });
  afterAll(() => t.close());

  it('creates a customer and shows sensitive fields and contacts masked only', async () => {
    expect(dana).toMatchObject({ externalId: 'crm-1001', name: 'Dana Caller', accountNumber: 'ACC-77001', nationalId: '***-**-6789', dateOfBirth: '1984-**-**', cardLast4: '••••', pinSet: false, questions: [] });
    expect(dana.contacts.map((c: { value: string }) => c.value).sort()).toEqual(['+1 •••-•••-0134', 'd•••@example.com']);
    const read = await a().get(`${base}/${dana.id}`, { token: agent });
    expect(read.statusCode).toBe(200);
    expect(json(read)).toEqual(dana);
    for (const p of PLAINTEXT) expect(read.body.toLowerCase()).not.toContain(p);
    const [created] = await audits('customer.created');
    expect(created).toMatchObject({ target_id: dana.id, actor_id: acme.users['boss@acme.test']!.id });
    for (const p of PLAINTEXT) expect(JSON.stringify(created!.data).toLowerCase()).not.toContain(p);
  });

  it('refuses invalid fields and duplicates with reasons', async () => {
    const bad = await a().post(base, { token: admin, body: { name: 'X', nationalId: '12', dateOfBirth: '2199-01-01', contacts: [{ kind: 'phone', value: '12' }, { kind: 'email', value: 'pаypal@example.com' }] } });
    expect(bad.statusCode).toBe(400);
    expect(json(bad).details.issues.map((i: { field: string }) => i.field).sort()).toEqual(['dateOfBirth', 'nationalId']);
    const contacts = await a().post(base, { token: admin, body: { name: 'X', contacts: [{ kind: 'phone', value: '12' }] } });
    expect(json(contacts).details.issues[0].field).toBe('contacts[0]');
    const lookalike = await a().post(base, { token: admin, body: { name: 'X', contacts: [{ kind: 'email', value: 'pаypal@example.com' }] } });
    expect(lookalike.statusCode).toBe(400);
    const dup = await a().post(base, { token: admin, body: { name: 'Other', externalId: 'crm-1001' } });
    expect(dup.statusCode).toBe(409);
    expect(json(dup).details).toEqual({ field: 'externalId' });
    expect(json(await a().post(base, { token: admin, body: { name: 'Other', accountNumber: 'ACC-77001' } })).details).toEqual({ field: 'accountNumber' });
  });

  it('searches by phone in another format (region US and GB), email, external id and account number', async () => {
    const find = async (q: string, extra = '') => json(await a().get(`${base}?q=${encodeURIComponent(q)}${extra}`, { token: agent })).customers.map((c: { id: string }) => c.id);
    expect(await find('(415) 555-0134', '&region=US')).toEqual([dana.id]);
    expect(await find('415.555.0134')).toEqual([dana.id]);
    expect(await find('+14155550134', '&by=phone')).toEqual([dana.id]);
    expect(await find('DANA.CALLER@example.COM')).toEqual([dana.id]);
    expect(await find('crm-1001')).toEqual([dana.id]);
    expect(await find('ACC-77001', '&by=accountNumber')).toEqual([dana.id]);
    expect(await find('crm-1001', '&by=phone')).toEqual([]);
    const uk = json(await a().post(base, { token: admin, body: { name: 'Una', region: 'GB', contacts: [{ kind: 'phone', value: '020 7946 0018' }] } }));
    expect(uk.contacts[0].value).toBe('+44 ••-••••-0018');
    expect(await find('020 7946 0018', '&region=GB')).toEqual([uk.id]);
    expect(await find('020 7946 0018')).toEqual([]);
    const res = json(await a().get(`${base}?q=crm-1001`, { token: agent })).customers[0];
    expect(res.contacts.map((c: { value: string }) => c.value).sort()).toEqual(['+1 •••-•••-0134', 'd•••@example.com']);
  });

  it('changing a contact value sets changed_at, clears verified_at and is audited masked', async () => {
    const phone = dana.contacts.find((c: { kind: string }) => c.kind === 'phone');
    expect(phone.verifiedAt).not.toBeNull();
    t.clock.advance(60_000);
    const r = await patch(`${base}/${dana.id}`, admin, { name: 'Dana Caller-Reyes', contacts: { update: [{ id: phone.id, value: '(415) 555-0188' }] } });
    expect(r.statusCode, r.body).toBe(200);
    const after = json(r).contacts.find((c: { id: string }) => c.id === phone.id);
    expect(after).toMatchObject({ value: '+1 •••-•••-0188', verifiedAt: null });
    expect(Date.parse(after.changedAt)).toBeGreaterThan(Date.parse(phone.changedAt));
    const email = json(r).contacts.find((c: { kind: string }) => c.kind === 'email');
    expect(email.changedAt).toBe(dana.contacts.find((c: { kind: string }) => c.kind === 'email').changedAt);
    const [changed] = await audits('customer.contact_changed');
    expect(changed!.data).toMatchObject({ contactId: phone.id, kind: 'phone', from: '+1 •••-•••-0134', to: '+1 •••-•••-0188', wasVerified: true });
    const [updated] = await audits('customer.updated');
    expect(updated!.data).toMatchObject({ fields: ['name'], contactsChanged: 1 });
    const unknown = await patch(`${base}/${dana.id}`, admin, { contacts: { remove: ['00000000-0000-4000-8000-000000000000'] } });
    expect(unknown.statusCode).toBe(404);
  });

  it('reveal needs customers.reveal and a reason, and is audited without the value', async () => {
    const url = `${base}/${dana.id}/reveal`;
    expect((await a().post(url, { token: agent, body: { field: 'nationalId', reason: 'caller asked' } })).statusCode).toBe(403);
    expect((await a().post(url, { token: admin, body: { field: 'nationalId', reason: '   ' } })).statusCode).toBe(400);
    expect((await a().post(url, { token: admin, body: { field: 'nationalId' } })).statusCode).toBe(400);
    expect((await a().post(url, { token: admin, body: { field: 'cardLast4', reason: 'curious' } })).statusCode).toBe(400);
    const ok = await a().post(url, { token: admin, body: { field: 'nationalId', reason: 'fraud review #42' } });
    expect(ok.statusCode).toBe(200);
    expect(json(ok)).toEqual({ field: 'nationalId', value: '123456789' });
    expect(json(await a().post(url, { token: admin, body: { field: 'dateOfBirth', reason: 'KYC' } })).value).toBe('1984-04-12');
    const events = await audits('customer.field_revealed');
    expect(events.map((e) => e.data)).toEqual([{ field: 'nationalId', reason: 'fraud review #42' }, { field: 'dateOfBirth', reason: 'KYC' }]);
    for (const e of events) expect(JSON.stringify(e)).not.toMatch(/123456789|1984-04-12/);
  });

  it('an agent reads and searches but cannot write, set knowledge or reveal', async () => {
    const id = dana.id;
    expect((await a().get(`${base}/${id}`, { token: agent })).statusCode).toBe(200);
    expect((await a().post(base, { token: agent, body: { name: 'Nope' } })).statusCode).toBe(403);
    expect((await patch(`${base}/${id}`, agent, { name: 'Nope' })).statusCode).toBe(403);
    expect((await a().put(`${base}/${id}/pin`, { token: agent, body: { pin: '8352' } })).statusCode).toBe(403);
    expect((await a().put(`${base}/${id}/questions`, { token: agent, body: { questions: [{ question: 'Pet?', answer: 'x' }, { question: 'City?', answer: 'y' }] } })).statusCode).toBe(403);
    expect((await a().post(`${base}/import`, { token: agent, body: { format: 'csv', data: 'name\nX' } })).statusCode).toBe(403);
    expect((await a().post(`${base}/${id}/reveal`, { token: agent, body: { field: 'dateOfBirth', reason: 'x' } })).statusCode).toBe(403);
  });

  it("tenant B gets 404 for tenant A's customer, however it is named", async () => {
    const b = globex.users['boss@globex.test']!.token!;
    const id = dana.id;
    for (const ref of ['acme', acme.tenantId]) {
      expect((await a().get(`/v1/tenants/${ref}/customers/${id}`, { token: b })).statusCode).toBe(404);
      expect((await a().post(`/v1/tenants/${ref}/customers/${id}/reveal`, { token: b, body: { field: 'nationalId', reason: 'x' } })).statusCode).toBe(404);
    }
    for (const r of [
      await a().get(`/v1/tenants/globex/customers/${id}`, { token: b }),
      await patch(`/v1/tenants/globex/customers/${id}`, b, { name: 'Mallory' }),
      await a().post(`/v1/tenants/globex/customers/${id}/reveal`, { token: b, body: { field: 'nationalId', reason: 'x' } }),
      await a().put(`/v1/tenants/globex/customers/${id}/pin`, { token: b, body: { pin: '8352' } }),
    ]) expect(r.statusCode).toBe(404);
    expect(json(await a().get('/v1/tenants/globex/customers?q=crm-1001', { token: b })).customers).toEqual([]);
    expect(json(await a().get(`${base}/${id}`, { token: admin })).name).toBe('Dana Caller-Reyes');
  });

  it('refuses trivial and personal PINs; stores an accepted one as argon2id', async () => {
    const url = `${base}/${dana.id}/pin`;
    const refused = ['0000', '1111', '1234', '4321', '123456', '7890', '1212', '1004', '2000', '6969', '1122', '2580', '0188', '1984', '0412', '19840412', '12a4', '123', '123456789'];
    for (const pin of refused) {
      const r = await a().put(url, { token: admin, body: { pin } });
      expect(r.statusCode, pin).toBe(400);
      expect(json(r).details.field, pin).toBe('pin');
    }
    expect(json(await a().put(url, { token: admin, body: { pin: '0188' } })).details.reasons.map((r: { code: string }) => r.code)).toEqual(['personal']);
    expect((await a().put(url, { token: admin, body: { pin: '8352' } })).statusCode).toBe(200);
    expect(await t.s.store.customers.pinHash(dana.id)).toMatch(/^\$argon2id\$/);
    expect(await checkPin(t.s, { tenantId: acme.tenantId, id: dana.id }, '8352')).toBe(true);
    expect(await checkPin(t.s, { tenantId: acme.tenantId, id: dana.id }, '8353')).toBe(false);
    expect(await checkPin(t.s, { tenantId: globex.tenantId, id: dana.id }, '8352')).toBe(false);
    expect(json(await a().get(`${base}/${dana.id}`, { token: agent })).pinSet).toBe(true);
    expect((await audits('customer.pin_set')).map((e) => e.data)).toEqual([{}]);
  });

  it('normalizes security answers ("  Fluffy! " matches "fluffy") and needs at least two questions', async () => {
    const url = `${base}/${dana.id}/questions`;
    expect((await a().put(url, { token: admin, body: { questions: [{ question: "First pet's name?", answer: 'Fluffy' }] } })).statusCode).toBe(400);
    const r = await a().put(url, { token: admin, body: { questions: [{ question: "First pet's name?", answer: '  Fluffy! ' }, { question: 'City of birth?', answer: 'São   Paulo' }] } });
    expect(r.statusCode, r.body).toBe(200);
    const [pet, city] = json(r).questions as Array<{ id: string }>;
    const who = { tenantId: acme.tenantId, id: dana.id };
    expect(await checkAnswer(t.s, { ...who, questionId: pet!.id }, 'fluffy')).toBe(true);
    expect(await checkAnswer(t.s, { ...who, questionId: pet!.id }, 'FLUFFY.')).toBe(true);
    expect(await checkAnswer(t.s, { ...who, questionId: pet!.id }, 'fluffy dog')).toBe(false);
    expect(await checkAnswer(t.s, { ...who, questionId: city!.id }, 'são paulo')).toBe(true);
    const read = json(await a().get(`${base}/${dana.id}`, { token: agent }));
    expect(read.questions.map((q: { question: string }) => q.question)).toEqual(["First pet's name?", 'City of birth?']);
    expect(JSON.stringify(read)).not.toMatch(/fluffy/i);
  });

  it('seals sensitive columns: the raw bytea holds no plaintext and does not open on another customer', async () => {
    const row = await t.s.store.db.selectFrom('customers').selectAll().where('id', '=', dana.id).executeTakeFirstOrThrow();
    for (const col of [row.national_id!, row.date_of_birth!, row.card_last4!]) {
      expect(col).toBeInstanceOf(Buffer);
      for (const p of ['123456789', '1984-04-12', '4242', '6789']) expect(col.includes(Buffer.from(p))).toBe(false);
    }
    expect(row.national_id_hint).toBe('6789');
    const other = json(await a().post(base, { token: admin, body: { name: 'Copy Target' } }));
    await t.s.store.db.updateTable('customers').set({ national_id: row.national_id, national_id_hint: '6789' }).where('id', '=', other.id).execute();
    const stolen = await a().post(`${base}/${other.id}/reveal`, { token: admin, body: { field: 'nationalId', reason: 'test' } });
    expect(stolen.statusCode).toBe(500);
  });

  it('imports CSV through the API: good rows written, bad lines reported, existing external ids updated', async () => {
    const data = ['external_id,name,account_number,phone,email,date_of_birth', 'crm-2001,Eve,ACC-2001,(415) 555-0101,eve@example.com,1990-01-02', 'crm-2002,Finn,ACC-2002,not-a-phone,,', 'crm-1001,Dana Imported,,415 555 0177,,'].join('\n');
    const r = await a().post(`${base}/import`, { token: admin, body: { format: 'csv', data } });
    expect(r.statusCode, r.body).toBe(200);
    expect(json(r)).toEqual({ created: 1, updated: 1, errors: [{ line: 3, message: expect.stringContaining('phone') }] });
    const d = json(await a().get(`${base}/${dana.id}`, { token: admin }));
    expect(d.name).toBe('Dana Imported');
    expect(d.contacts.map((c: { value: string }) => c.value)).toContain('+1 •••-•••-0177');
    expect(d.nationalId).toBe('***-**-6789');
    const bad = await a().post(`${base}/import`, { token: admin, body: { format: 'csv', data: 'name,nationl_id\nX,1' } });
    expect(bad.statusCode).toBe(400);
    expect(json(bad).details.columns).toEqual(['nationl_id']);
  });
});
