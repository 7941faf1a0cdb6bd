/** Tenant administration over HTTP: invitations, roles, custom roles, disabling, audit access. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealAll } from '../../src/audit/seal.js';
import { api, invitationToken, json, seed, signIn, STRONG, testApp, type TestApp } from '../helpers/app.js';

describe('tenant administration', () => {
  let t: TestApp;
  let seeded: Awaited<ReturnType<typeof seed>>;
  let admin: string;
  const a = () => api(t.app);
  beforeAll(async () => {
    t = await testApp();
    seeded = await seed(t, { users: [{ email: 'boss@acme.test', roles: ['tenant_admin'] }, { email: 'ana@acme.test', roles: ['agent'] }] });
    admin = seeded.users['boss@acme.test']!.token!;
  });
  afterAll(() => t.close());

  it('invites with a one-time setup link; weak passwords are refused with reasons; the link works once', async () => {
    const inv = await a().post('/v1/tenants/acme/users', { token: admin, body: { email: 'New.Hire@Acme.test', displayName: 'New Hire', roles: ['agent'] } });
    expect(inv.statusCode).toBe(201);
    expect(json(inv)).toMatchObject({ email: 'new.hire@acme.test', status: 'invited', roles: ['agent'] });
    const dup = await a().post('/v1/tenants/acme/users', { token: admin, body: { email: 'new.hire@acme.test', roles: ['agent'] } });
    expect(json(dup).code).toBe('already_exists');
    const token = await invitationToken(t.s, 'new.hire@acme.test');
    const info = json(await a().post('/v1/invitations/inspect', { body: { token } }));
    expect(info).toMatchObject({ email: 'new.hire@acme.test', tenant: 'acme' });
    const weak = await a().post('/v1/invitations/accept', { body: { token, password: 'password123' } });
    expect(weak.statusCode).toBe(400);
    expect(json(weak).code).toBe('weak_password');
    expect(json(weak).details.reasons.map((r: { code: string }) => r.code)).toEqual(expect.arrayContaining(['too_short', 'common']));
    expect((await a().post('/v1/invitations/accept', { body: { token, password: STRONG } })).statusCode).toBe(200);
    const again = await a().post('/v1/invitations/accept', { body: { token, password: STRONG } });
    expect(again.statusCode).toBe(410);
    expect(json(again).code).toBe('invitation_invalid');
    expect((await signIn(t.app, 'acme', 'new.hire@acme.test', STRONG)).res.statusCode).toBe(200);
  });

  it('refuses unknown roles and the operator role; custom roles grant their permissions at once', async () => {
    const ana = json(await a().get('/v1/tenants/acme/users', { token: admin })).users.find((u: { email: string }) => u.email === 'ana@acme.test');
    const bad = await a().put(`/v1/tenants/acme/users/${ana.id}/roles`, { token: admin, body: { roles: ['platform_operator'] } });
    expect(bad.statusCode).toBe(400);
    const anaToken = seeded.users['ana@acme.test']!.token!;
    expect((await a().get('/v1/tenants/acme/audit', { token: anaToken })).statusCode).toBe(403);
    const role = await a().put('/v1/tenants/acme/roles/qa_reviewer', { token: admin, body: { description: 'Reviews calls', permissions: ['audit.read', 'users.read'] } });
    expect(role.statusCode).toBe(200);
    const badPerm = await a().put('/v1/tenants/acme/roles/x_role', { token: admin, body: { permissions: ['platform.tenants.manage'] } });
    expect(badPerm.statusCode).toBe(400);
    expect((await a().put(`/v1/tenants/acme/users/${ana.id}/roles`, { token: admin, body: { roles: ['agent', 'qa_reviewer'] } })).statusCode).toBe(200);
    expect((await a().get('/v1/tenants/acme/audit', { token: anaToken })).statusCode).toBe(200);
    expect((await a().del('/v1/tenants/acme/roles/qa_reviewer', { token: admin })).statusCode).toBe(200);
    expect((await a().get('/v1/tenants/acme/audit', { token: anaToken })).statusCode).toBe(403);
  });

  it('disabling a user ends their sessions at once and their password stops working', async () => {
    const id = seeded.users['ana@acme.test']!.id;
    const fresh = await signIn(t.app, 'acme', 'ana@acme.test', STRONG);
    expect((await a().get('/v1/me', { token: fresh.token })).statusCode).toBe(200);
    expect((await a().post(`/v1/tenants/acme/users/${id}/disable`, { token: admin })).statusCode).toBe(200);
    expect((await a().get('/v1/me', { token: fresh.token })).statusCode).toBe(401);
    const again = await signIn(t.app, 'acme', 'ana@acme.test', STRONG);
    expect(again.res.statusCode).toBe(401);
    expect(json(again.res).code).toBe('invalid_credentials');
    expect((await a().post(`/v1/tenants/acme/users/${id}/enable`, { token: admin })).statusCode).toBe(200);
    expect((await signIn(t.app, 'acme', 'ana@acme.test', STRONG)).res.statusCode).toBe(200);
  });

  it('audit: search and export are permission-gated and themselves audited; the chain verifies', async () => {
    const search = await a().get('/v1/tenants/acme/audit?type=user.disabled', { token: admin });
    expect(search.statusCode).toBe(200);
    const events = json(search).events;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'user.disabled', outcome: 'success', actorId: expect.any(String), targetId: seeded.users['ana@acme.test']!.id });
    const reads = await t.s.store.db.selectFrom('audit_events').select('type').where('type', '=', 'audit.read').execute();
    expect(reads.length).toBeGreaterThan(0);
    const exp = await a().get('/v1/tenants/acme/audit/export', { token: admin });
    expect(exp.headers['content-type']).toContain('application/x-ndjson');
    const lines = exp.body.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.map((l) => l.type)).toContain('user.invited');
    await sealAll(t.s);
    const verify = json(await a().get('/v1/tenants/acme/audit/verify', { token: admin }));
    expect(verify.ok).toBe(true);
  });

  it('the dev outbox is readable by admins with outbox.read, and absent in production mode', async () => {
    const box = await a().get('/v1/tenants/acme/outbox?recipient=new.hire@acme.test', { token: admin });
    expect(json(box).messages[0].template).toBe('invitation');
    const prod = await (await import('../helpers/app.js')).testApp({ env: { CALLWARDEN_MODE: 'production', CALLWARDEN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') } });
    try {
      expect((await api(prod.app).get('/v1/tenants/acme/outbox')).statusCode).toBe(404);
    } finally {
      await prod.close();
    }
  });
});
