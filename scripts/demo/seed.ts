/**
 * Realistic demo data through the public API, for screenshots and for trying the console: a contact
 * center tenant with staff in each role (MFA enrolled), customers with on-file contacts, PINs and
 * questions, a few verifications, a pending factor-reset approval and the audit trail these leave.
 */
import { Client, signIn } from './client.js';

export const DEMO_PASSWORD = 'harbor lantern orbit 2026';

export interface DemoStaff {
  email: string;
  name: string;
  roles: string[];
  token?: string;
  totpSecret?: string;
}

export const demoStaff: DemoStaff[] = [
  { email: 'maya.okafor@northwind.example', name: 'Maya Okafor', roles: ['tenant_admin'] },
  { email: 'daniel.reyes@northwind.example', name: 'Daniel Reyes', roles: ['tenant_admin'] },
  { email: 'priya.nair@northwind.example', name: 'Priya Nair', roles: ['supervisor'] },
  { email: 'tom.becker@northwind.example', name: 'Tom Becker', roles: ['agent'] },
  { email: 'lucia.ferrari@northwind.example', name: 'Lucia Ferrari', roles: ['agent'] },
  { email: 'sam.whitaker@northwind.example', name: 'Sam Whitaker', roles: ['agent'] },
  { email: 'grace.liu@northwind.example', name: 'Grace Liu', roles: ['auditor'] },
];

export const demoCustomers = [
  { externalId: 'CRM-100245', name: 'Dana Whitfield', accountNumber: 'NW-4410-2291', nationalId: '512-44-6789', dateOfBirth: '1984-06-12', cardLast4: '4242', phone: '+1 415 555 0134', email: 'dana.whitfield@example.com' },
  { externalId: 'CRM-100246', name: 'Marcus Lindqvist', accountNumber: 'NW-4410-3307', nationalId: '623-11-0457', dateOfBirth: '1979-02-03', cardLast4: '1881', phone: '+1 628 555 0172', email: 'marcus.l@example.net' },
  { externalId: 'CRM-100251', name: 'Aisha Rahman', accountNumber: 'NW-4410-5120', nationalId: '401-72-3315', dateOfBirth: '1991-11-27', cardLast4: '0093', phone: '+1 510 555 0148', email: 'aisha.rahman@example.org' },
  { externalId: 'CRM-100263', name: 'Robert Delgado', accountNumber: 'NW-4411-0042', nationalId: '288-30-9921', dateOfBirth: '1966-08-19', cardLast4: '7310', phone: '+1 408 555 0199', email: 'rdelgado@example.com' },
  { externalId: 'CRM-100270', name: 'Hannah Kowalski', accountNumber: 'NW-4411-1876', nationalId: '377-58-2046', dateOfBirth: '1988-04-30', cardLast4: '5567', phone: '+1 650 555 0121', email: 'hannah.k@example.com' },
  { externalId: 'CRM-100288', name: 'Daniel Whitman', accountNumber: 'NW-4411-2230', nationalId: '455-09-7712', dateOfBirth: '1972-12-08', cardLast4: '3001', phone: '+1 925 555 0163', email: 'd.whitman@example.net' },
];

export async function seedDemo(base: string, operator: { email: string; password: string }) {
  const anon = new Client(base);
  const op = anon.as((await signIn(anon, 'platform', operator.email, operator.password)).token);
  await op.post('/v1/tenants', { slug: 'northwind', name: 'Northwind Contact Center', mfaMode: 'required' });
  await op.post('/v1/tenants', { slug: 'bluebay', name: 'BlueBay Telecom Partner Desk', mfaMode: 'optional' });
  await op.post('/v1/tenants', { slug: 'harbor-health', name: 'Harbor Health Member Services', mfaMode: 'off' });

  const staff = demoStaff.map((u) => ({ ...u }));
  for (const u of staff) {
    await op.post('/v1/tenants/northwind/users', { email: u.email, displayName: u.name, roles: u.roles });
    const outbox = await op.get(`/v1/tenants/northwind/outbox?recipient=${encodeURIComponent(u.email)}`);
    const body = (outbox.messages ?? outbox.items ?? []).map((m: { body: string }) => m.body).join('\n');
    const setup = /#token=([\w-]+)/.exec(body)?.[1];
    if (!setup) throw new Error(`no setup link for ${u.email}`);
    await anon.post('/v1/invitations/accept', { token: setup, password: DEMO_PASSWORD });
    const si = await signIn(anon, 'northwind', u.email, DEMO_PASSWORD);
    u.token = si.token;
    u.totpSecret = si.totpSecret;
  }
  // one invited user who has not set up yet
  await op.post('/v1/tenants/northwind/users', { email: 'new.hire@northwind.example', displayName: 'Jordan Blake', roles: ['agent'] });
  const admin = anon.as(staff[0]!.token!);
  const sam = staff.find((u) => u.name === 'Sam Whitaker')!;
  await admin.post(`/v1/tenants/northwind/users/${(await userId(admin, sam.email))}/disable`);

  const customers: Array<{ id: string; name: string; contacts: Array<{ id: string; kind: string }> }> = [];
  for (const c of demoCustomers) {
    const created = await admin.post('/v1/tenants/northwind/customers', {
      externalId: c.externalId, name: c.name, accountNumber: c.accountNumber, nationalId: c.nationalId, dateOfBirth: c.dateOfBirth, cardLast4: c.cardLast4,
      contacts: [{ kind: 'phone', value: c.phone, label: 'Mobile', verified: true }, { kind: 'email', value: c.email, label: 'Personal', verified: true }],
    });
    customers.push(created as never);
    await admin.put(`/v1/tenants/northwind/customers/${created.id}/pin`, { pin: '480613' });
    await admin.put(`/v1/tenants/northwind/customers/${created.id}/questions`, {
      questions: [{ question: 'Name of your first pet?', answer: 'Fluffy' }, { question: 'City you were born in?', answer: 'Sacramento' }],
    });
  }
  return { staff, customers, operator: op };
}

async function userId(c: Client, email: string): Promise<string> {
  const r = await c.get('/v1/tenants/northwind/users?limit=500');
  const u = (r.users as Array<{ id: string; email: string }>).find((x) => x.email === email);
  if (!u) throw new Error(`no user ${email}`);
  return u.id;
}
