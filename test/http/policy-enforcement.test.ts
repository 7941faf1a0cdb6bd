/** Tenant MFA policy drives sign-in: off / optional / required, role overrides, grace periods, forced enrollment. */
import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpAt } from '../../src/methods/totp/core.js';
import { api, enrollTotp, json, OPERATOR, seed, signIn, STRONG, testApp, type TestApp } from '../helpers/app.js';

describe('tenant MFA policy at sign-in', () => {
  let t: TestApp;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const a = () => api(t.app);
  /** A fresh operator session (the tests move the clock past idle timeouts). */
  const op = async () => (await signIn(t.app, 'platform', OPERATOR.email, OPERATOR.password)).token!;
  const policy = async () => json(await a().get('/v1/tenants/acme/policy', { token: await op() }));
  const save = async (p: Record<string, unknown>) => {
    const cur = await policy();
    const r = await a().put('/v1/tenants/acme/policy', { token: await op(), body: { version: cur.version, policy: p } });
    expect(r.statusCode, r.body).toBe(200);
    return json(r);
  };

  beforeAll(async () => {
    t = await testApp();
    seeded = await seed(t, { mfaMode: 'optional', users: [{ email: 'agent@acme.test', roles: ['agent'] }, { email: 'admin@acme.test', roles: ['tenant_admin'] }] });
  });
  afterAll(() => t.close());

  it('optional: a user without a factor gets an aal1 session from the password', async () => {
    const r = await signIn(t.app, 'acme', 'agent@acme.test', STRONG);
    expect(r.res.statusCode).toBe(200);
    expect(r.flow.session.aal).toBe(1);
  });

  it('a role override makes MFA required for tenant_admin only: forced enrollment', async () => {
    await save({ mfa: { mode: 'optional', roles: { tenant_admin: 'required' } } });
    const agent = await signIn(t.app, 'acme', 'agent@acme.test', STRONG);
    expect(agent.flow.session.aal).toBe(1);

    const start = json(await a().post('/v1/auth/flows', { body: { tenant: 'acme', identifier: 'admin@acme.test' } }));
    const pw = json(await a().post(`/v1/auth/flows/${start.flow.id}/password`, { flow: start.flowToken, body: { password: STRONG } }));
    expect(pw.flow.state).toBe('enroll');
    expect(pw.session).toBeUndefined();
    const begin = await a().post(`/v1/auth/flows/${start.flow.id}/enroll/totp`, { flow: pw.flowToken });
    expect(begin.statusCode, begin.body).toBe(200);
    const e = json(begin).enrollment;
    expect(e.otpauthUri).toMatch(/^otpauth:\/\/totp\/.*secret=/);
    expect(e.qrSvg).toMatch(/^<svg/);
    expect(Secret.fromBase32(e.secret).bytes.length).toBe(20); // 160 bits
    const wrong = await a().post(`/v1/auth/flows/${start.flow.id}/enroll/totp/confirm`, { flow: pw.flowToken, body: { code: '000000' } });
    expect(wrong.statusCode).toBe(401);
    const code = totpAt(Buffer.from(Secret.fromBase32(e.secret).bytes), t.clock.now());
    const done = json(await a().post(`/v1/auth/flows/${start.flow.id}/enroll/totp/confirm`, { flow: pw.flowToken, body: { code } }));
    expect(done.flow.state).toBe('completed');
    expect(done.session.aal).toBe(2);
    expect(done.recoveryCodes).toHaveLength(10);
  });

  it('required with a grace period of 2 sign-ins: two password-only sign-ins, then enrollment', async () => {
    await save({ mfa: { mode: 'required', grace: { signins: 2 } } });
    for (let i = 0; i < 2; i++) {
      const r = await signIn(t.app, 'acme', 'agent@acme.test', STRONG);
      expect(r.flow.flow.state).toBe('completed');
      expect(r.flow.session.enrollmentDue).toBe(true);
    }
    const third = await signIn(t.app, 'acme', 'agent@acme.test', STRONG);
    expect(third.flow.flow.state).toBe('enroll');
  });

  it('required with a grace period in days counts from the first grace sign-in', async () => {
    const inv = await a().post('/v1/tenants/acme/users', { token: await op(), body: { email: 'late@acme.test', roles: ['agent'] } });
    expect(inv.statusCode).toBe(201);
    const { invitationToken } = await import('../helpers/app.js');
    expect((await a().post('/v1/invitations/accept', { body: { token: await invitationToken(t.s, 'late@acme.test'), password: STRONG } })).statusCode).toBe(200);
    await save({ mfa: { mode: 'required', grace: { days: 3 } } });
    expect((await signIn(t.app, 'acme', 'late@acme.test', STRONG)).flow.flow.state).toBe('completed');
    t.clock.advance(2 * 86_400_000);
    expect((await signIn(t.app, 'acme', 'late@acme.test', STRONG)).flow.flow.state).toBe('completed');
    t.clock.advance(2 * 86_400_000);
    expect((await signIn(t.app, 'acme', 'late@acme.test', STRONG)).flow.flow.state).toBe('enroll');
  });

  it('mode off: even an enrolled user signs in with the password alone', async () => {
    await save({ mfa: { mode: 'optional' } });
    const s = await signIn(t.app, 'acme', 'agent@acme.test', STRONG);
    await enrollTotp(t, s.token!);
    expect((await signIn(t.app, 'acme', 'agent@acme.test', STRONG)).flow.flow.state).toBe('second_factor');
    await save({ mfa: { mode: 'off' } });
    const r = await signIn(t.app, 'acme', 'agent@acme.test', STRONG);
    expect(r.flow.flow.state).toBe('completed');
    expect(r.flow.session.aal).toBe(1);
  });

  it('policy changes are validated, versioned, audited, and a stale version is refused', async () => {
    const cur = await policy();
    const bad = await a().put('/v1/tenants/acme/policy', { token: await op(), body: { version: cur.version, policy: { mfa: { mode: 'sometimes' } } } });
    expect(bad.statusCode).toBe(400);
    expect(json(bad).code).toBe('invalid_policy');
    const unknownRole = await a().put('/v1/tenants/acme/policy', { token: await op(), body: { version: cur.version, policy: { mfa: { roles: { wizard: 'required' } } } } });
    expect(json(unknownRole).details.issues[0].path).toBe('mfa.roles.wizard');
    const saved = await save({ mfa: { mode: 'required' }, pciMode: true });
    expect(saved.version).toBe(cur.version + 1);
    const stale = await a().put('/v1/tenants/acme/policy', { token: await op(), body: { version: cur.version, policy: {} } });
    expect(stale.statusCode).toBe(409);
    const events = await t.s.store.db.selectFrom('audit_events').selectAll().where('type', '=', 'policy.changed').orderBy('id', 'desc').execute();
    const changes = (events[0]!.data as { changes: Array<{ path: string }> }).changes.map((c) => c.path);
    expect(changes).toEqual(expect.arrayContaining(['mfa.mode', 'pciMode']));
  });

  it('preview names the users a change would force to enroll', async () => {
    const r = await a().post('/v1/tenants/acme/policy/preview', { token: await op(), body: { policy: { mfa: { mode: 'required' } } } });
    expect(r.statusCode).toBe(200);
    const p = json(r);
    expect(p.mfaRequiredAfter).toBe(p.users);
    expect(p.mustEnroll.map((u: { email: string }) => u.email)).toContain('late@acme.test');
    expect(p.mustEnroll.map((u: { email: string }) => u.email)).not.toContain('agent@acme.test');
  });
});
