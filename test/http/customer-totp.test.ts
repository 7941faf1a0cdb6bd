/**
 * The customer's own authenticator app: bound by an admin (customers.write) through begin + confirm,
 * then listed as an available method and checked in a verification with method 'totp': a step is
 * accepted once per customer (no replay across calls), failures count per customer across
 * verifications (the attempt gate), the secret is sealed at rest and shown only once, tenants are
 * isolated, and unbinding removes the method.
 */
import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, json, seed, testApp, type TestApp } from '../helpers/app.js';
import { callerFixture } from '../helpers/callers.js';
import { backends } from '../helpers/db.js';
import { totpFor, wrongTotp } from '../helpers/flows.js';

describe.each(await backends())('customer authenticator app (%s)', (backend) => {
  let t: TestApp;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  let secret: string;
  const responses: string[] = [];
  const call = async (method: 'get' | 'post' | 'del', url: string, token: string, body?: unknown) => {
    const r = await api(t.app)[method](url, { token, ...(body !== undefined ? { body } : {}) });
    responses.push(r.body);
    return r;
  };
  const totpUrl = () => `/v1/tenants/acme/customers/${f.customerId}/totp`;
  const start = async (interactionId: string) => json(await call('post', '/v1/tenants/acme/verifications', f.agent, { customerId: f.customerId, interactionId }));
  const check = (id: string, code: string) => call('post', `/v1/tenants/acme/verifications/${id}/totp`, f.agent, { code });
  const methods = (v: Record<string, any>) => (v.available as Array<{ method: string }>).map((m) => m.method);

  beforeAll(async () => {
    t = await testApp({ backend });
    f = await callerFixture(t);
  });
  afterAll(() => t.close());

  it('an agent cannot bind one (customers.write); an admin gets the secret, URI and QR code once', async () => {
    expect((await call('post', totpUrl(), f.agent, {})).statusCode).toBe(403);
    const begin = await call('post', totpUrl(), f.admin, {});
    expect(begin.statusCode, begin.body).toBe(201);
    const b = json(begin);
    secret = b.secret;
    expect(b.otpauthUri).toMatch(/^otpauth:\/\/totp\/acme%20Contact%20Center:Dana%20Whitfield\?/);
    expect(b.otpauthUri).toContain(`secret=${secret}`);
    expect(b.qrSvg).toMatch(/^<svg/);
    // pending: not yet a method, and not on the customer
    expect(methods(await start('call-pending'))).not.toContain('totp');
    expect(json(await call('get', `/v1/tenants/acme/customers/${f.customerId}`, f.agent)).totpSet).toBe(false);

    const wrong = await call('post', `${totpUrl()}/${b.factorId}/confirm`, f.admin, { code: wrongTotp(secret, t.clock.now()) });
    expect(wrong.statusCode).toBe(401);
    expect(json(wrong).code).toBe('invalid_factor');
    const ok = await call('post', `${totpUrl()}/${b.factorId}/confirm`, f.admin, { code: totpFor(secret, t.clock.now()) });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(json(ok)).toEqual({ factorId: b.factorId, active: true });
    expect(json(await call('get', `/v1/tenants/acme/customers/${f.customerId}`, f.agent)).totpSet).toBe(true);
    expect((await call('post', totpUrl(), f.admin, {})).statusCode).toBe(409); // one at a time
  });

  it('the secret is sealed at rest and appears in no other response nor in the audit log', async () => {
    const [row] = await t.s.store.db.selectFrom('credentials').selectAll().where('subject_type', '=', 'customer').where('subject_id', '=', f.customerId).execute();
    expect(row).toMatchObject({ kind: 'totp', status: 'active' });
    const raw = Buffer.from(Secret.fromBase32(secret).bytes);
    expect(row!.material!.includes(raw)).toBe(false);
    const audit = JSON.stringify(await t.s.store.db.selectFrom('audit_events').selectAll().where('tenant_id', '=', f.tenantId).execute());
    expect(audit).toContain('customer.totp_enrolled');
    expect(audit).not.toContain(secret);
    expect(responses.filter((r) => r.includes(secret))).toHaveLength(1);
  });

  it('verifies a caller with the code their app shows; the same code cannot be used on another call', async () => {
    t.clock.advance(31_000);
    const v = await start('call-totp-1');
    expect(methods(v)).toContain('totp');
    const code = totpFor(secret, t.clock.now());
    const ok = await check(v.id, code);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(json(ok)).toMatchObject({ state: 'verified', completedMethods: ['totp'], status: { satisfied: true } });
    const claims = json(await api(t.app).post('/v1/assertions/check', { token: f.agent, body: { assertion: json(ok).assertion } }));
    expect(claims).toMatchObject({ valid: true, claims: { amr: ['totp'], sub: f.customerId } });

    const again = await start('call-totp-2');
    const replay = await check(again.id, code);
    expect(replay.statusCode).toBe(401);
    expect(json(replay).details).toMatchObject({ reason: 'code_used', attemptsLeft: 4 });
    const steps = await t.s.store.db.selectFrom('totp_used_steps').select('subject_id').where('subject_id', '=', f.customerId).execute();
    expect(steps.length).toBeGreaterThanOrEqual(2); // enrollment and verification, keyed by the customer
  });

  it('failures count per customer across verifications, and the gate throttles the next attempt', async () => {
    t.clock.advance(31_000);
    const now = t.clock.now();
    const v1 = await start('call-guess-1');
    for (let i = 0; i < 4; i++) expect((await check(v1.id, wrongTotp(secret, now, i))).statusCode).toBe(401);
    const v2 = await start('call-guess-2');
    // only checked wrong answers count (the replay above did not): 4 + 1 = 5 consecutive failures, the backoff threshold
    expect((await check(v2.id, wrongTotp(secret, now, 4))).statusCode).toBe(401);
    const throttled = await check(v2.id, totpFor(secret, now));
    expect(throttled.statusCode).toBe(429);
    expect(json(throttled)).toMatchObject({ code: 'too_many_attempts', details: { reason: 'throttled' } });
    const failures = await t.s.store.db.selectFrom('attempt_counters').selectAll().where('subject', '=', `c:${f.customerId}:totp`).executeTakeFirst();
    // the throttled attempt was refused, not checked: it adds nothing
    expect(failures?.failures).toBe(5);
    t.clock.advance(31_000); // past the backoff; a right code resets the count
    const v3 = await start('call-guess-3');
    const ok = await check(v3.id, totpFor(secret, t.clock.now()));
    expect(ok.statusCode, ok.body).toBe(200);
    expect((await t.s.store.db.selectFrom('attempt_counters').selectAll().where('subject', '=', `c:${f.customerId}:totp`).executeTakeFirst())?.failures ?? 0).toBe(0);
  });

  it("another tenant's admin cannot bind, confirm or remove this customer's app (404)", async () => {
    const other = await seed(t, { tenant: 'globex', users: [{ email: 'boss@globex.test', roles: ['tenant_admin'] }] });
    const boss = other.users['boss@globex.test']!.token!;
    expect((await call('post', `/v1/tenants/globex/customers/${f.customerId}/totp`, boss, {})).statusCode).toBe(404);
    expect((await call('del', `/v1/tenants/globex/customers/${f.customerId}/totp`, boss)).statusCode).toBe(404);
    expect((await call('post', `/v1/tenants/acme/customers/${f.customerId}/totp`, boss, {})).statusCode).toBe(404);
  });

  it('unbinding removes the method; a check then fails with no_totp', async () => {
    expect((await call('del', totpUrl(), f.agent)).statusCode).toBe(403);
    expect((await call('del', totpUrl(), f.admin)).statusCode).toBe(200);
    expect((await call('del', totpUrl(), f.admin)).statusCode).toBe(404);
    t.clock.advance(31_000);
    const v = await start('call-after-removal');
    expect(methods(v)).not.toContain('totp');
    const r = await check(v.id, totpFor(secret, t.clock.now()));
    expect(r.statusCode).toBe(401);
    expect(json(r).details.reason).toBe('no_totp');
    expect(await t.s.store.db.selectFrom('credentials').selectAll().where('subject_type', '=', 'customer').where('subject_id', '=', f.customerId).execute()).toEqual([]);
  });
});
