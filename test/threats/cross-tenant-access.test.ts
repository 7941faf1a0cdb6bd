/**
 * Threat: cross-tenant object access.
 * Advisories: the ZITADEL organization-scope advisories (objects of one organization read or changed
 * through an API call scoped to another); ASVS 8.2.2, 8.4.1 (tenant B never reads A's objects: 404).
 *
 * The attacker is a full administrator of tenant A (and, separately, an agent of A) and knows the ids
 * of tenant B's objects: users, approvals, customers and their contacts, verifications and their
 * interaction ids, API keys, custom roles, sessions, audit actors, outbox recipients. Over HTTP, each
 * id goes through A's paths (read, change, act), and B's paths are tried directly with every spelling
 * of B's tenant reference (the slug in capitals and percent-encoded and padded, the id upper-cased,
 * braced and as a URN). A's IVR key is tried on B's verifications and callers.
 *
 * Every answer must be 404 (or 400 for a malformed reference), never 2xx and never 403 (which would
 * confirm the object exists), and nothing of B may change.
 *
 * A second part (merged from the former in-process suite) covers authorization inside a tenant: an
 * agent calling administrator routes of its own tenant gets 403, and a removed role stops working on
 * the very next request (ASVS 8.2.1, 8.3.1).
 *
 * Fails when: `tenantFor` lets a principal into another tenant; a repository reads or updates by id
 * without the tenant; a permission check runs before the tenant check (403 instead of 404); a lookup
 * (search, interaction, IVR caller) is not scoped to the key's or the path's tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed, STRONG } from '../helpers/app.js';
import { callerFixture } from '../helpers/callers.js';
import { Attacker, type Reply } from './attacker.js';
import { startTarget, type Target } from './server.js';

interface Side {
  f: Awaited<ReturnType<typeof callerFixture>>;
  admin2: string;
  verification: string;
  interaction: string;
  approval: string;
  keyId: string;
  key: string;
  sessionId: string;
  loneCustomer: string;
}

describe('cross-tenant access', () => {
  let t: Target;
  let x: Attacker;
  let A: Side;
  let B: Side;

  async function side(tenant: string): Promise<Side> {
    const f = await callerFixture(t, { tenant });
    const admin = f.admin;
    // a second administrator (for a pending approval), a custom role, an API key, a verification, a customer only this tenant has
    const role = await x.put(`/v1/tenants/${tenant}/roles/${tenant}_only`, { token: admin, body: { permissions: ['users.read'] } });
    expect(role.status, role.text).toBe(200);
    const approval = await x.post(`/v1/tenants/${tenant}/users/${f.users[`agent@${tenant}.test`]!.id}/reset-factors`, { token: admin, body: { reason: 'lost their phone today' } });
    expect(approval.status, approval.text).toBe(202);
    const key = await x.post(`/v1/tenants/${tenant}/api-keys`, { token: admin, body: { name: 'ivr', scopes: ['ivr'] } });
    const interaction = `call-${tenant}`;
    const v = await x.post(`/v1/tenants/${tenant}/verifications`, { token: f.agent, body: { customerId: f.customerId, interactionId: interaction } });
    expect(v.status, v.text).toBe(201);
    const phone = tenant === 'acme' ? '+14155550101' : '+14155550199';
    const lone = await x.post(`/v1/tenants/${tenant}/customers`, { token: admin, body: { externalId: `${tenant.toUpperCase()}-ONLY`, name: 'Lone Customer', contacts: [{ kind: 'phone', value: phone }] } });
    expect(lone.status, lone.text).toBe(201);
    const me = await x.get('/v1/me', { token: f.agent });
    return { f, admin2: admin, verification: v.json.id, interaction, approval: approval.json.approval.id, keyId: key.json.apiKey.id, key: key.json.key, sessionId: me.json.session.id, loneCustomer: lone.json.id };
  }

  beforeAll(async () => {
    t = await startTarget();
    x = new Attacker(t.url);
    A = await side('acme');
    B = await side('globex');
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  const refused = (r: Reply) => r.status === 404 || (r.status === 400 && r.code === 'invalid_request');
  const bUser = () => B.f.users['agent@globex.test']!.id;

  /** Requests naming B's objects, under the tenant reference `ref`. */
  function attacks(ref: string): Array<[string, string, unknown?]> {
    const c = B.f.customerId;
    const v = B.verification;
    return [
      ['GET', `/v1/tenants/${ref}`],
      ['GET', `/v1/tenants/${ref}/users`],
      ['GET', `/v1/tenants/${ref}/users/${bUser()}`],
      ['PUT', `/v1/tenants/${ref}/users/${bUser()}/roles`, { roles: ['tenant_admin'] }],
      ['POST', `/v1/tenants/${ref}/users/${bUser()}/disable`, {}],
      ['POST', `/v1/tenants/${ref}/users/${bUser()}/enable`, {}],
      ['POST', `/v1/tenants/${ref}/users/${bUser()}/unlock`, {}],
      ['POST', `/v1/tenants/${ref}/users/${bUser()}/resend-invitation`, {}],
      ['POST', `/v1/tenants/${ref}/users/${bUser()}/reset-factors`, { reason: 'cross tenant attempt' }],
      ['GET', `/v1/tenants/${ref}/approvals`],
      ['GET', `/v1/tenants/${ref}/approvals/${B.approval}`],
      ['POST', `/v1/tenants/${ref}/approvals/${B.approval}/approve`, {}],
      ['POST', `/v1/tenants/${ref}/approvals/${B.approval}/reject`, {}],
      ['POST', `/v1/tenants/${ref}/approvals/${B.approval}/cancel`, {}],
      ['GET', `/v1/tenants/${ref}/customers/${c}`],
      ['GET', `/v1/tenants/${ref}/customers?q=GLOBEX-ONLY`],
      ['PATCH', `/v1/tenants/${ref}/customers/${c}`, { name: 'Renamed By A' }],
      ['POST', `/v1/tenants/${ref}/customers/${c}/reveal`, { field: 'contact', contactId: B.f.phoneId, reason: 'curious' }],
      ['PUT', `/v1/tenants/${ref}/customers/${c}/pin`, { pin: '739104' }],
      ['PUT', `/v1/tenants/${ref}/customers/${c}/questions`, { questions: [{ question: 'q1?', answer: 'a1' }, { question: 'q2?', answer: 'a2' }] }],
      ['POST', `/v1/tenants/${ref}/customers/${c}/totp`, {}],
      ['DELETE', `/v1/tenants/${ref}/customers/${c}/totp`],
      ['POST', `/v1/tenants/${ref}/verifications`, { customerId: c, interactionId: 'call-from-a' }],
      ['GET', `/v1/tenants/${ref}/verifications/${v}`],
      ['GET', `/v1/tenants/${ref}/verifications/${v}/events`],
      ['GET', `/v1/tenants/${ref}/interactions/${B.interaction}/verification`],
      ['POST', `/v1/tenants/${ref}/verifications/${v}/codes`, { contactId: B.f.phoneId, channel: 'sms' }],
      ['POST', `/v1/tenants/${ref}/verifications/${v}/codes/check`, { code: '123456' }],
      ['POST', `/v1/tenants/${ref}/verifications/${v}/pin`, { pin: '480613' }],
      ['POST', `/v1/tenants/${ref}/verifications/${v}/totp`, { code: '123456' }],
      ['POST', `/v1/tenants/${ref}/verifications/${v}/question`, {}],
      ['POST', `/v1/tenants/${ref}/verifications/${v}/question/answer`, { answer: 'Fluffy' }],
      ['POST', `/v1/tenants/${ref}/verifications/${v}/cancel`, {}],
      ['GET', `/v1/tenants/${ref}/api-keys`],
      ['POST', `/v1/tenants/${ref}/api-keys`, { name: 'planted', scopes: ['ivr'] }],
      ['POST', `/v1/tenants/${ref}/api-keys/${B.keyId}/revoke`, {}],
      ['GET', `/v1/tenants/${ref}/roles`],
      ['PUT', `/v1/tenants/${ref}/roles/globex_only`, { permissions: ['users.read', 'users.update'] }],
      ['DELETE', `/v1/tenants/${ref}/roles/globex_only`],
      ['GET', `/v1/tenants/${ref}/policy`],
      ['PUT', `/v1/tenants/${ref}/policy`, { version: 1, policy: {} }],
      ['GET', `/v1/tenants/${ref}/templates`],
      ['GET', `/v1/tenants/${ref}/audit`],
      ['GET', `/v1/tenants/${ref}/audit/export`],
      ['GET', `/v1/tenants/${ref}/audit/verify`],
      ['GET', `/v1/tenants/${ref}/outbox`],
    ];
  }

  async function run(token: string, list: Array<[string, string, unknown?]>, ok: (r: Reply) => boolean) {
    const bad: string[] = [];
    await Promise.all(
      list.map(async ([method, path, body]) => {
        const r = await x.send(method, path, { token, ...(body !== undefined ? { body } : {}) });
        if (!ok(r)) bad.push(`${method} ${path}: ${r.status} ${r.text.slice(0, 90)}`);
      }),
    );
    return bad;
  }

  it("B's objects through B's paths, in every spelling of B's tenant reference, are not found for A's administrator and agent", async () => {
    const id = B.f.tenantId;
    const refs = ['globex', 'GLOBEX', id, id.toUpperCase(), '%47LObex', 'globex%20', `%7B${id}%7D`, `urn:uuid:${id}`];
    const bad: string[] = [];
    // A's administrator (every permission in A) with every spelling; A's agent (few permissions: a 403 would leak) with two
    for (const ref of refs) bad.push(...(await run(A.f.admin, attacks(ref), refused)));
    for (const ref of ['globex', id]) bad.push(...(await run(A.f.agent, attacks(ref), refused)));
    expect(bad).toEqual([]);
  });

  it("B's object ids through A's own paths are not found", async () => {
    // (role names are per tenant: PUT /v1/tenants/acme/roles/globex_only makes a role of A's own, checked below not to touch B's)
    const bad = await run(A.f.admin, attacks('acme').filter(([, p]) => /[0-9a-f]{8}-|call-globex|GLOBEX-ONLY/.test(p)), (r) => {
      // the search answers 200 with nothing of B's in it; everything else 404
      if (r.status === 200 && r.json?.customers) return r.json.customers.length === 0;
      return r.status === 404;
    });
    expect(bad).toEqual([]);
    // an id given in the body: B's customer for a new verification, B's contact on A's verification
    const start = await x.post('/v1/tenants/acme/verifications', { token: A.f.agent, body: { customerId: B.f.customerId, interactionId: 'call-x' } });
    expect(start.status).toBe(404);
    const send = await x.post(`/v1/tenants/acme/verifications/${A.verification}/codes`, { token: A.f.agent, body: { contactId: B.f.phoneId, channel: 'sms' } });
    expect(send.status).toBe(404);
    const reveal = await x.post(`/v1/tenants/acme/customers/${A.f.customerId}/reveal`, { token: A.f.admin, body: { field: 'contact', contactId: B.f.phoneId, reason: 'curious' } });
    expect(reveal.status, reveal.text).toBe(404);
    // B's session through A's self-service
    expect((await x.del(`/v1/me/sessions/${B.sessionId}`, { token: A.f.admin })).status).toBe(404);
    // B's actors and recipients in A's audit log and outbox: nothing
    const audit = await x.get(`/v1/tenants/acme/audit?actorId=${B.f.users['admin@globex.test']!.id}`, { token: A.f.admin });
    expect(audit.json.events).toEqual([]);
    const box = await x.get('/v1/tenants/acme/outbox?recipient=agent@globex.test', { token: A.f.admin });
    expect(box.json.messages).toEqual([]);
  });

  it("A's IVR key reaches none of B's verifications or callers", async () => {
    const bad: string[] = [];
    const tries: Array<[string, string, unknown?]> = [
      ['GET', `/v1/ivr/verifications/${B.verification}/prompt`],
      ['POST', `/v1/ivr/verifications/${B.verification}/digits`, { digits: '480613#' }],
      ['POST', '/v1/ivr/verifications', { customerId: B.f.customerId, interactionId: 'ivr-x' }],
      ['POST', '/v1/ivr/verifications', { externalId: 'GLOBEX-ONLY', interactionId: 'ivr-x' }],
      ['POST', '/v1/ivr/verifications', { callerAni: '+14155550199', interactionId: 'ivr-x' }],
    ];
    for (const [method, path, body] of tries) {
      const r = await x.send(method, path, { token: A.key, ...(body !== undefined ? { body } : {}) });
      if (r.status !== 404) bad.push(`${method} ${path} ${JSON.stringify(body ?? '')}: ${r.status} ${r.text.slice(0, 80)}`);
    }
    expect(bad).toEqual([]);
    // the shared phone number (on file in both tenants) finds A's own customer only
    const shared = await x.post('/v1/ivr/verifications', { token: A.key, body: { callerAni: '+14155550134', interactionId: 'ivr-shared' } });
    expect(shared.status, shared.text).toBe(201);
    expect(shared.json.verification.customerId).toBe(A.f.customerId);
  });

  it('nothing of B changed', async () => {
    const admin = await x.signIn('globex', 'admin@globex.test', STRONG);
    const user = await x.get(`/v1/tenants/globex/users/${bUser()}`, { token: admin });
    expect(user.json).toMatchObject({ status: 'active', roles: ['agent'] });
    expect((await x.get(`/v1/tenants/globex/approvals/${B.approval}`, { token: admin })).json.approval.status).toBe('pending');
    expect((await x.get(`/v1/tenants/globex/customers/${B.f.customerId}`, { token: admin })).json).toMatchObject({ name: 'Dana Whitfield', totpSet: false });
    expect((await x.get(`/v1/tenants/globex/verifications/${B.verification}`, { token: admin })).json).toMatchObject({ state: 'pending', completedMethods: [] });
    expect((await x.get(`/v1/tenants/globex/roles`, { token: admin })).json.roles.find((r: { name: string }) => r.name === 'globex_only').permissions).toEqual(['users.read']);
    expect((await x.get('/v1/tenants/globex/api-keys', { token: admin })).json.apiKeys.map((k: { name: string; revokedAt: string | null }) => `${k.name}:${k.revokedAt}`)).toEqual(['ivr:null']);
    expect((await x.get(`/v1/ivr/verifications/${B.verification}/prompt`, { token: B.key })).status).toBe(200);
    expect((await x.get('/v1/me', { token: B.f.agent })).status).toBe(200);
    const codes = (await x.get('/v1/tenants/globex/outbox?recipient=%2B14155550134', { token: admin })).json.messages;
    expect(codes).toEqual([]);
  });
});

describe('cross-tenant access and permissions', () => {
  let t: Target;
  let x: Attacker;
  let a: Awaited<ReturnType<typeof seed>>;
  let b: Awaited<ReturnType<typeof seed>>;
  const adminA = 'admin@acme.test';
  const agentA = 'agent@acme.test';
  const deputyA = 'deputy@acme.test';
  const userB = 'bo@globex.test';

  beforeAll(async () => {
    t = await startTarget();
    x = new Attacker(t.url);
    a = await seed(t, { tenant: 'acme', users: [{ email: adminA, roles: ['tenant_admin'] }, { email: agentA, roles: ['agent'] }, { email: deputyA, roles: ['tenant_admin'] }] });
    b = await seed(t, { tenant: 'globex', users: [{ email: userB, roles: ['agent'] }, { email: 'boss@globex.test', roles: ['tenant_admin'] }] });
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  const tokenA = () => a.users[adminA]!.token;
  /** A valid body, so that each refusal below is the tenant boundary and not validation. */
  const bodyFor = (action: string) => (action === 'reset-factors' ? { reason: 'Lost phone, verified by call-back' } : {});

  it("answers 404 to tenant A's admin for tenant B's users, policy and audit", async () => {
    const bUser = b.users[userB]!.id;
    // The same requests on A's own objects succeed, so each 404 below is the tenant boundary.
    expect((await x.get(`/v1/tenants/acme/users/${a.users[agentA]!.id}`, { token: tokenA() })).status).toBe(200);
    expect((await x.get('/v1/tenants/acme/policy', { token: tokenA() })).status).toBe(200);
    expect((await x.get('/v1/tenants/acme/audit', { token: tokenA() })).status).toBe(200);

    const policyB = (await x.get('/v1/tenants/globex/policy', { token: b.users['boss@globex.test']!.token })).json;
    const attempts: Array<[string, Promise<Reply>]> = [];
    for (const ref of ['globex', 'GLOBEX', b.tenantId]) {
      attempts.push(
        [`GET tenant ${ref}`, x.get(`/v1/tenants/${ref}`, { token: tokenA() })],
        [`GET users ${ref}`, x.get(`/v1/tenants/${ref}/users`, { token: tokenA() })],
        [`GET user ${ref}`, x.get(`/v1/tenants/${ref}/users/${bUser}`, { token: tokenA() })],
        [`PUT roles ${ref}`, x.put(`/v1/tenants/${ref}/users/${bUser}/roles`, { token: tokenA(), body: { roles: ['tenant_admin'] } })],
        [`POST invite ${ref}`, x.post(`/v1/tenants/${ref}/users`, { token: tokenA(), body: { email: 'mole@globex.test', roles: ['tenant_admin'] } })],
        [`GET policy ${ref}`, x.get(`/v1/tenants/${ref}/policy`, { token: tokenA() })],
        [`PUT policy ${ref}`, x.put(`/v1/tenants/${ref}/policy`, { token: tokenA(), body: { version: policyB.version, policy: { ...policyB.policy, mfa: { mode: 'off' } } } })],
        [`GET audit ${ref}`, x.get(`/v1/tenants/${ref}/audit`, { token: tokenA() })],
        [`GET audit export ${ref}`, x.get(`/v1/tenants/${ref}/audit/export`, { token: tokenA() })],
        [`GET audit verify ${ref}`, x.get(`/v1/tenants/${ref}/audit/verify`, { token: tokenA() })],
      );
      for (const action of ['disable', 'unlock', 'reset-factors', 'resend-invitation']) {
        attempts.push([`POST ${action} ${ref}`, x.post(`/v1/tenants/${ref}/users/${bUser}/${action}`, { token: tokenA(), body: bodyFor(action) })]);
      }
      attempts.push([`GET approvals ${ref}`, x.get(`/v1/tenants/${ref}/approvals?status=all`, { token: tokenA() })]);
    }
    // B's user named through A's own tenant path is not found either.
    attempts.push(
      ['GET B user via acme', x.get(`/v1/tenants/acme/users/${bUser}`, { token: tokenA() })],
      ['PUT B roles via acme', x.put(`/v1/tenants/acme/users/${bUser}/roles`, { token: tokenA(), body: { roles: ['tenant_admin'] } })],
      ...['disable', 'unlock', 'reset-factors'].map((p): [string, Promise<Reply>] => [`POST ${p} B user via acme`, x.post(`/v1/tenants/acme/users/${bUser}/${p}`, { token: tokenA(), body: bodyFor(p) })]),
    );
    const wrong: string[] = [];
    for (const [name, p] of attempts) {
      const r = await p;
      if (r.status !== 404 || r.code !== 'not_found') wrong.push(`${name}: ${r.status} ${r.text.slice(0, 100)}`);
    }
    expect(wrong).toEqual([]);

    // Tenant B is unchanged: its user is active with the same role, its policy at the same version.
    const bossB = b.users['boss@globex.test']!.token;
    const seen = (await x.get(`/v1/tenants/globex/users/${bUser}`, { token: bossB })).json;
    expect(seen.status).toBe('active');
    expect(seen.roles).toEqual(['agent']);
    expect((await x.get('/v1/tenants/globex/policy', { token: bossB })).json.version).toBe(policyB.version);
    expect((await x.get('/v1/me', { token: b.users[userB]!.token })).status).toBe(200);
    const listB = (await x.get('/v1/tenants/globex/users', { token: bossB })).json.users as Array<{ email: string }>;
    expect(listB.map((u) => u.email)).not.toContain('mole@globex.test');
  });

  it('answers 403 to an agent calling admin routes in its own tenant', async () => {
    const token = a.users[agentA]!.token;
    const policy = (await x.get('/v1/tenants/acme/policy', { token: tokenA() })).json;
    const calls: Array<[string, Promise<Reply>]> = [
      ['list users', x.get('/v1/tenants/acme/users', { token })],
      ['invite', x.post('/v1/tenants/acme/users', { token, body: { email: 'friend@acme.test', roles: ['tenant_admin'] } })],
      ['write policy', x.put('/v1/tenants/acme/policy', { token, body: { version: policy.version, policy: { ...policy.policy, mfa: { mode: 'off' } } } })],
      ['read audit', x.get('/v1/tenants/acme/audit', { token })],
      ['export audit', x.get('/v1/tenants/acme/audit/export', { token })],
      ['grant self admin', x.put(`/v1/tenants/acme/users/${a.users[agentA]!.id}/roles`, { token, body: { roles: ['tenant_admin'] } })],
      ['unlock', x.post(`/v1/tenants/acme/users/${a.users[adminA]!.id}/unlock`, { token })],
    ];
    const wrong: string[] = [];
    for (const [name, p] of calls) {
      const r = await p;
      if (r.status !== 403 || r.code !== 'forbidden') wrong.push(`${name}: ${r.status} ${r.text.slice(0, 100)}`);
    }
    expect(wrong).toEqual([]);
    // Own self-service still works, and nothing changed.
    expect((await x.get('/v1/me', { token })).status).toBe(200);
    expect((await x.get(`/v1/tenants/acme/users/${a.users[agentA]!.id}`, { token: tokenA() })).json.roles).toEqual(['agent']);
    expect((await x.get('/v1/tenants/acme/policy', { token: tokenA() })).json.version).toBe(policy.version);
  });

  it('applies a removed role on the very next request', async () => {
    const deputy = a.users[deputyA]!;
    expect((await x.get('/v1/tenants/acme/users', { token: deputy.token })).status).toBe(200);
    const demote = await x.put(`/v1/tenants/acme/users/${deputy.id}/roles`, { token: tokenA(), body: { roles: ['agent'] } });
    expect(demote.status).toBe(200);
    const next = await x.get('/v1/tenants/acme/users', { token: deputy.token });
    expect(next.status).toBe(403);
    expect(next.code).toBe('forbidden');
    // The session itself is still valid: only the permission went away.
    expect((await x.get('/v1/me', { token: deputy.token })).status).toBe(200);
  });
});
