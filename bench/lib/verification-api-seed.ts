/**
 * The verification benchmark's tenant, agents and customers, through the public HTTP API as far as
 * it goes (so the seeding does not depend on the services' internals, which the flow-engine rewrite
 * replaces): the platform operator (createOperator, as `callwarden` does at first start), then over
 * HTTP the operator's sign-in, the tenant, its policy with the verification send limits raised to
 * their maxima (so the benchmark measures the path, not the limiter), agents (invite, accept with a
 * password, sign in; the invitation's link read from the dev-mode outbox API) and two customers. The
 * load customers, thousands of them, go straight through CustomerRepo.writeBatch (the importer's
 * write), each with one email contact whose changed_at is the customer's creation time (a first
 * binding is not a "recent change", so codes may go to it).
 */
import { randomUUID } from 'node:crypto';
import type { Running } from '../../src/server.js';
import type { Services } from '../../src/services/context.js';
import { createOperator } from '../../src/services/tenants.js';
import type { CustomerWrite } from '../../src/storage/repositories/customers.js';
import type { Customer } from '../verification-client.js';
import { fail, OPERATOR, PASSWORD, systemOrigin, TENANT } from './common.js';

async function http(base: string, method: string, path: string, o: { token?: string; flow?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.flow) headers['x-flow-token'] = o.flow;
  const res = await fetch(base + path, { method, headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
  const json = (await res.json().catch(() => ({}))) as Record<string, any>;
  return { status: res.status, json };
}

const expect = (r: { status: number; json: unknown }, status: number, what: string) => {
  if (r.status !== status) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json as Record<string, any>;
};

async function passwordSignIn(base: string, tenant: string, email: string, password: string): Promise<string> {
  const start = await http(base, 'POST', '/v1/auth/flows', { body: { tenant, identifier: email } });
  const pw = await http(base, 'POST', `/v1/auth/flows/${start.json.flow?.id}/password`, { flow: start.json.flowToken, body: { password } });
  const token = pw.json.session?.token;
  if (typeof token !== 'string') throw new Error(`sign-in of ${email}: ${pw.status} ${JSON.stringify(pw.json)}`);
  return token;
}

/** The verification limits the benchmark sets (the policy schema's maxima; src/domain/verification-policy.ts). */
export const RAISED_LIMITS = {
  limits: { sendsPerAgentPerMinute: 1000, sendsPerTenantPerMinute: 100_000 },
  code: { sendsPerDestinationPer10Min: 20, resendCooldownSeconds: 0 },
};

export interface ApiSetup {
  tenantId: string;
  operatorToken: string;
  policyVersion: number;
  verificationPolicy: Record<string, unknown>;
  agent: { userId: string; email: string; token: string };
  /** Customers created through the API (warm-up and recorded flows). */
  customers: Customer[];
}

export async function setupThroughApi(running: Running): Promise<ApiSetup> {
  const s = running.services;
  const base = running.url;
  await createOperator(s, { ...OPERATOR, origin: systemOrigin });
  const op = await passwordSignIn(base, 'platform', OPERATOR.email, OPERATOR.password);
  const created = expect(await http(base, 'POST', '/v1/tenants', { token: op, body: { slug: TENANT, name: 'Bench Contact Center', mfaMode: 'optional' } }), 201, 'create tenant');
  const tenantId = created.tenant.id as string;

  const current = expect(await http(base, 'GET', `/v1/tenants/${TENANT}/policy`, { token: op }), 200, 'read policy');
  const policy = current.policy as Record<string, any>;
  const verification = { ...policy.verification, limits: { ...policy.verification?.limits, ...RAISED_LIMITS.limits }, code: { ...policy.verification?.code, ...RAISED_LIMITS.code } };
  const saved = expect(await http(base, 'PUT', `/v1/tenants/${TENANT}/policy`, { token: op, body: { version: current.version, policy: { ...policy, verification } } }), 200, 'save policy');

  const email = 'agent@bench.test';
  const invited = expect(await http(base, 'POST', `/v1/tenants/${TENANT}/users`, { token: op, body: { email, roles: ['agent'] } }), 201, 'invite agent');
  const setupToken = (await invitationToken(running, op, email)) ?? fail('no invitation in the outbox');
  expect(await http(base, 'POST', '/v1/invitations/accept', { body: { token: setupToken, password: PASSWORD } }), 200, 'accept invitation');
  const token = await passwordSignIn(base, TENANT, email, PASSWORD);

  const customers: Customer[] = [];
  for (const [i, name] of ['Dana Whitfield', 'Ravi Chandran'].entries()) {
    const c = expect(
      await http(base, 'POST', `/v1/tenants/${TENANT}/customers`, { token: op, body: { externalId: `CRM-API-${i}`, name, contacts: [{ kind: 'email', value: `api-customer-${i}@example.com` }] } }),
      201,
      'create customer',
    );
    const contact = (c.contacts as Array<{ id: string; kind: string; value?: string }>).find((x) => x.kind === 'email') ?? fail('customer without email contact');
    customers.push({ id: c.id as string, contactId: contact.id, email: `api-customer-${i}@example.com` });
  }
  return {
    tenantId,
    operatorToken: op,
    policyVersion: saved.version as number,
    verificationPolicy: saved.policy.verification as Record<string, unknown>,
    agent: { userId: invited.id as string, email, token },
    customers,
  };
}

/** The setup token of `email`'s invitation: from the dev-mode outbox API (public), else the outbox repository. */
async function invitationToken(running: Running, operatorToken: string, email: string): Promise<string | undefined> {
  const find = (bodies: Array<string | undefined>) => bodies.map((b) => /#token=([\w-]+)/.exec(b ?? '')?.[1]).find(Boolean);
  const r = await http(running.url, 'GET', `/v1/tenants/${TENANT}/outbox?recipient=${encodeURIComponent(email)}&limit=10`, { token: operatorToken });
  const viaApi = r.status === 200 ? find(((r.json.messages ?? []) as Array<{ template?: string; body?: string }>).filter((m) => m.template === 'invitation').map((m) => m.body)) : undefined;
  if (viaApi) return viaApi;
  return find((await running.services.store.outbox.list({ recipient: email, limit: 10 })).filter((m) => m.template === 'invitation').map((m) => m.body));
}

/**
 * `n` more agents through the public API only, as an operator would add them: invite, accept with a
 * password, sign in (password only; the tenant's MFA mode is optional). Returns their session tokens.
 * Slower than seedAgents (two argon2id operations each) but independent of the services' internals.
 */
export async function apiAgents(running: Running, operatorToken: string, n: number, concurrency = 4): Promise<string[]> {
  const tokens: string[] = new Array<string>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) {
        const i = next++;
        const email = `agent${String(i).padStart(4, '0')}@bench.test`;
        expect(await http(running.url, 'POST', `/v1/tenants/${TENANT}/users`, { token: operatorToken, body: { email, roles: ['agent'] } }), 201, `invite ${email}`);
        const setupToken = (await invitationToken(running, operatorToken, email)) ?? fail(`no invitation for ${email} in the outbox`);
        expect(await http(running.url, 'POST', '/v1/invitations/accept', { body: { token: setupToken, password: PASSWORD } }), 200, `accept ${email}`);
        tokens[i] = await passwordSignIn(running.url, TENANT, email, PASSWORD);
      }
    }),
  );
  return tokens;
}

/** `n` customers with one email contact each, 500 per transaction (CustomerRepo.writeBatch, as the importer writes them). */
export async function seedCustomers(s: Services, tenantId: string, prefix: string, n: number): Promise<Customer[]> {
  const out: Customer[] = [];
  const BATCH = 500;
  for (let from = 0; from < n; from += BATCH) {
    const creates: CustomerWrite[] = [];
    for (let i = from; i < Math.min(n, from + BATCH); i++) {
      const id = randomUUID();
      const contactId = randomUUID();
      const email = `${prefix}${String(i).padStart(5, '0')}@example.com`;
      creates.push({
        id, tenantId, externalId: `${prefix.toUpperCase()}-${i}`, name: `Customer ${prefix}${i}`, accountNumber: null,
        nationalId: null, nationalIdHint: null, dateOfBirth: null, cardLast4: null,
        contacts: [{ id: contactId, kind: 'email', value: email, label: '', verified: false }],
      });
      out.push({ id, contactId, email });
    }
    await s.store.customers.writeBatch(tenantId, { creates, updates: [], events: [] }, s.clock());
  }
  return out;
}
