/**
 * Threat: cross-tenant object access and missing authorization (ZITADEL org-scope advisories; ASVS
 * 8.2.2, 8.2.3, 8.3.1, 8.4.1). Tenant A's administrator never reads or changes tenant B's users,
 * policy or audit log (404, whichever way the object is named); an agent is refused admin routes in
 * its own tenant (403); a removed role stops working on the very next request.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, json, seed, testApp, type TestApp } from '../helpers/app.js';

describe('cross-tenant access and permissions', () => {
  let t: TestApp;
  let a: Awaited<ReturnType<typeof seed>>;
  let b: Awaited<ReturnType<typeof seed>>;
  const adminA = 'admin@acme.test';
  const agentA = 'agent@acme.test';
  const deputyA = 'deputy@acme.test';
  const userB = 'bo@globex.test';

  beforeAll(async () => {
    t = await testApp();
    a = await seed(t, { tenant: 'acme', users: [{ email: adminA, roles: ['tenant_admin'] }, { email: agentA, roles: ['agent'] }, { email: deputyA, roles: ['tenant_admin'] }] });
    b = await seed(t, { tenant: 'globex', users: [{ email: userB, roles: ['agent'] }, { email: 'boss@globex.test', roles: ['tenant_admin'] }] });
  });
  afterAll(() => t.close());

  const tokenA = () => a.users[adminA]!.token;
  /** A valid body, so that each refusal below is the tenant boundary and not validation. */
  const bodyFor = (action: string) => (action === 'reset-factors' ? { reason: 'Lost phone, verified by call-back' } : {});

  it("answers 404 to tenant A's admin for tenant B's users, policy and audit", async () => {
    const x = api(t.app);
    const bUser = b.users[userB]!.id;
    // The same requests on A's own objects succeed, so each 404 below is the tenant boundary.
    expect((await x.get(`/v1/tenants/acme/users/${a.users[agentA]!.id}`, { token: tokenA() })).statusCode).toBe(200);
    expect((await x.get('/v1/tenants/acme/policy', { token: tokenA() })).statusCode).toBe(200);
    expect((await x.get('/v1/tenants/acme/audit', { token: tokenA() })).statusCode).toBe(200);

    const policyB = json(await x.get('/v1/tenants/globex/policy', { token: b.users['boss@globex.test']!.token }));
    const attempts: Array<[string, Promise<LightMyRequestResponse>]> = [];
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
      ...['disable', 'unlock', 'reset-factors'].map((p): [string, Promise<LightMyRequestResponse>] => [`POST ${p} B user via acme`, x.post(`/v1/tenants/acme/users/${bUser}/${p}`, { token: tokenA(), body: bodyFor(p) })]),
    );
    const wrong: string[] = [];
    for (const [name, p] of attempts) {
      const r = await p;
      if (r.statusCode !== 404 || json(r).code !== 'not_found') wrong.push(`${name}: ${r.statusCode} ${r.body.slice(0, 100)}`);
    }
    expect(wrong).toEqual([]);

    // Tenant B is unchanged: its user is active with the same role, its policy at the same version.
    const bossB = b.users['boss@globex.test']!.token;
    const seen = json(await x.get(`/v1/tenants/globex/users/${bUser}`, { token: bossB }));
    expect(seen.status).toBe('active');
    expect(seen.roles).toEqual(['agent']);
    expect(json(await x.get('/v1/tenants/globex/policy', { token: bossB })).version).toBe(policyB.version);
    expect((await x.get('/v1/me', { token: b.users[userB]!.token })).statusCode).toBe(200);
    const listB = json(await x.get('/v1/tenants/globex/users', { token: bossB })).users as Array<{ email: string }>;
    expect(listB.map((u) => u.email)).not.toContain('mole@globex.test');
  });

  it('answers 403 to an agent calling admin routes in its own tenant', async () => {
    const x = api(t.app);
    const token = a.users[agentA]!.token;
    const policy = json(await x.get('/v1/tenants/acme/policy', { token: tokenA() }));
    const calls: Array<[string, Promise<LightMyRequestResponse>]> = [
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
      if (r.statusCode !== 403 || json(r).code !== 'forbidden') wrong.push(`${name}: ${r.statusCode} ${r.body.slice(0, 100)}`);
    }
    expect(wrong).toEqual([]);
    // Own self-service still works, and nothing changed.
    expect((await x.get('/v1/me', { token })).statusCode).toBe(200);
    expect(json(await x.get(`/v1/tenants/acme/users/${a.users[agentA]!.id}`, { token: tokenA() })).roles).toEqual(['agent']);
    expect(json(await x.get('/v1/tenants/acme/policy', { token: tokenA() })).version).toBe(policy.version);
  });

  it('applies a removed role on the very next request', async () => {
    const x = api(t.app);
    const deputy = a.users[deputyA]!;
    expect((await x.get('/v1/tenants/acme/users', { token: deputy.token })).statusCode).toBe(200);
    const demote = await x.put(`/v1/tenants/acme/users/${deputy.id}/roles`, { token: tokenA(), body: { roles: ['agent'] } });
    expect(demote.statusCode).toBe(200);
    const next = await x.get('/v1/tenants/acme/users', { token: deputy.token });
    expect(next.statusCode).toBe(403);
    expect(json(next).code).toBe('forbidden');
    // The session itself is still valid: only the permission went away.
    expect((await x.get('/v1/me', { token: deputy.token })).statusCode).toBe(200);
  });
});
