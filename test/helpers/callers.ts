/** Caller-verification fixtures: a tenant with an agent, an admin and one customer with contacts, PIN and questions. */
import { api, json, seed, type TestApp } from './app.js';

export async function callerFixture(t: TestApp, o: { tenant?: string } = {}) {
  const tenant = o.tenant ?? 'acme';
  const seeded = await seed(t, { tenant, users: [{ email: `agent@${tenant}.test`, roles: ['agent'] }, { email: `admin@${tenant}.test`, roles: ['tenant_admin'] }] });
  const admin = seeded.users[`admin@${tenant}.test`]!.token!;
  const agent = seeded.users[`agent@${tenant}.test`]!.token!;
  const created = await api(t.app).post(`/v1/tenants/${tenant}/customers`, {
    token: admin,
    body: { externalId: 'CRM-7', name: 'Dana Whitfield', contacts: [{ kind: 'phone', value: '+1 415 555 0134' }, { kind: 'email', value: 'dana@example.com' }] },
  });
  if (created.statusCode !== 201) throw new Error(created.body);
  const c = json(created);
  const phoneId = (c.contacts as Array<{ id: string; kind: string }>).find((x) => x.kind === 'phone')!.id;
  const emailId = (c.contacts as Array<{ id: string; kind: string }>).find((x) => x.kind === 'email')!.id;
  await api(t.app).put(`/v1/tenants/${tenant}/customers/${c.id}/pin`, { token: admin, body: { pin: '480613' } });
  await api(t.app).put(`/v1/tenants/${tenant}/customers/${c.id}/questions`, {
    token: admin,
    body: { questions: [{ question: 'Name of your first pet?', answer: 'Fluffy' }, { question: 'City you were born in?', answer: 'Sacramento' }] },
  });
  return { ...seeded, admin, agent, customerId: c.id as string, phoneId, emailId };
}

/** The code of the newest outbox message to `recipient` (what the customer would read). */
export async function lastCodeTo(t: TestApp, recipient: string): Promise<string> {
  const [m] = await t.s.store.outbox.list({ recipient, limit: 1 });
  const code = /code is (\d{6})/.exec(m?.body ?? '')?.[1];
  if (!code) throw new Error(`no code to ${recipient}`);
  return code;
}
