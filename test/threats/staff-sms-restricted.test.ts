/**
 * Threat: SMS and voice codes are NIST "restricted" authenticators (SIM swap, interception, a code
 * sent to a number an attacker chose). Staff codes go only to a number the user verified when
 * enrolling it — never to one in the request, never to an unconfirmed one —, with the callers' send
 * limits; they never reach the top assurance level; the user is told the risk; a new number is a
 * new enrollment that the old number and the user's email hear about.
 *
 * Fails when: a sign-in code can be sent to a number that was not verified (or named in the
 * request), the resend cooldown is missing, a phone code gives more than AAL2, or a number change
 * is silent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, json, seed, testApp, type TestApp } from '../helpers/app.js';
import { lastCodeTo } from '../helpers/callers.js';
import { backends } from '../helpers/db.js';
import { atSecondFactor, factorStep, updatePolicy } from '../helpers/flows.js';

describe.each(await backends())('staff codes by SMS are restricted (%s)', (backend) => {
  let t: TestApp;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const tok = (e: string) => seeded.users[e]!.token!;
  beforeAll(async () => {
    t = await testApp({ backend });
    seeded = await seed(t, { users: [{ email: 'ada@acme.test', roles: ['tenant_admin'] }, { email: 'kim@acme.test', roles: ['agent'] }, { email: 'ivo@acme.test', roles: ['agent'] }] });
  });
  afterAll(() => t.close());
  const a = () => api(t.app);
  const enroll = (token: string, number: string) => a().post('/v1/me/factors/phone', { token, body: { number, channel: 'sms' } });

  it('needs the tenant to allow SMS codes; then binds only a number that answered its code, with the risk stated', async () => {
    expect((await enroll(tok('kim@acme.test'), '+1 415 555 0100')).statusCode).toBe(403);
    await updatePolicy(t, tok('ada@acme.test'), 'acme', (p) => ({ ...p, mfa: { ...p.mfa, allowedFactors: [...p.mfa.allowedFactors, 'otp_sms'] } }));
    expect((await enroll(tok('kim@acme.test'), 'not a number')).statusCode).toBe(400);
    const begin = await enroll(tok('kim@acme.test'), '+1 415 555 0100');
    expect(begin.statusCode, begin.body).toBe(201);
    expect(json(begin).warning).toMatch(/restricted method/);
    expect(json(begin).destination).not.toContain('4155550100');
    const code = await lastCodeTo(t, '+14155550100');
    const url = `/v1/me/factors/phone/${json(begin).enrollmentId}`;
    const wrong = await a().post(url, { token: tok('kim@acme.test'), body: { code: code === '000000' ? '111111' : '000000' } });
    expect([wrong.statusCode, json(wrong).details.reason]).toEqual([401, 'wrong_code']);
    const ok = await a().post(url, { token: tok('kim@acme.test'), body: { code } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect((await a().post(url, { token: tok('kim@acme.test'), body: { code } })).statusCode).toBeGreaterThanOrEqual(400); // once
    const factors = json(await a().get('/v1/me/factors', { token: tok('kim@acme.test') })).factors;
    expect(factors.map((f: { kind: string }) => f.kind)).toContain('phone');
  });

  it('a sign-in code goes only to the verified number, never one in the request; AAL2 at most', async () => {
    const flow = await atSecondFactor(t.app, 'acme', 'kim@acme.test');
    const view = json(await a().get(`/v1/auth/flows/${flow.id}`, { flow: flow.token }));
    expect(view.flow.options.map((o: { method: string }) => o.method)).toContain('otp_sms');
    const named = await a().post(`/v1/auth/flows/${flow.id}/codes`, { flow: flow.token, body: { channel: 'sms', to: '+14155550199' } });
    expect(named.statusCode).toBe(400);
    const before = (await t.s.store.outbox.list({ recipient: '+14155550199', limit: 10 })).length;
    const sent = await a().post(`/v1/auth/flows/${flow.id}/codes`, { flow: flow.token, body: { channel: 'sms' } });
    expect(sent.statusCode, sent.body).toBe(200);
    expect((await t.s.store.outbox.list({ recipient: '+14155550199', limit: 10 })).length).toBe(before);
    const [m] = await t.s.store.outbox.list({ recipient: '+14155550100', limit: 1 });
    expect(m?.template).toBe('signin_code_sms');
    const again = await a().post(`/v1/auth/flows/${flow.id}/codes`, { flow: flow.token, body: { channel: 'sms' } });
    expect([again.statusCode, json(again).details.reason]).toEqual([429, 'resend_cooldown']);
    const done = await factorStep(t.app, flow, 'otp_sms', await lastCodeTo(t, '+14155550100'));
    expect(done.statusCode, done.body).toBe(200);
    const me = json(await a().get('/v1/me', { token: json(done).session.token }));
    expect(me.session).toMatchObject({ aal: 2, methods: ['pwd', 'otp_sms'], phishingResistant: false });
  });

  it('an unconfirmed number receives no sign-in code', async () => {
    // ivo started an enrollment and never confirmed it; his sign-in has no phone code to send
    expect((await enroll(tok('ivo@acme.test'), '+1 415 555 0177')).statusCode).toBe(201);
    const totp = await a().post('/v1/me/factors/totp', { token: tok('ivo@acme.test') });
    expect(totp.statusCode).toBe(201); // a pending TOTP only: the password step completes, there is no code step at all
    const flow = await atSecondFactor(t.app, 'acme', 'kim@acme.test');
    const other = await a().post(`/v1/auth/flows/${flow.id}/codes`, { flow: flow.token, body: { channel: 'voice' } });
    expect([other.statusCode, json(other).details?.reason]).toEqual([400, 'method_not_allowed']); // voice is not allowed by the policy
    const ivoStart = json(await a().post('/v1/auth/flows', { body: { tenant: 'acme', identifier: 'ivo@acme.test' } }));
    const pw = json(await a().post(`/v1/auth/flows/${ivoStart.flow.id}/password`, { flow: ivoStart.flowToken, body: { password: 'correct horse battery staple 42' } }));
    expect(pw.flow.state).toBe('completed');
    expect(await t.s.store.outbox.list({ recipient: '+14155550177', limit: 10 }).then((r) => r.map((x) => x.template))).toEqual(['signin_code_sms']); // only the enrollment's own code
  });

  it('a new number is a new enrollment: the old number and the email are told, codes go to the new one', async () => {
    const begin = json(await enroll(tok('kim@acme.test'), '+1 415 555 0111'));
    const ok = await a().post(`/v1/me/factors/phone/${begin.enrollmentId}`, { token: tok('kim@acme.test'), body: { code: await lastCodeTo(t, '+14155550111') } });
    expect(ok.statusCode, ok.body).toBe(200);
    const [old] = await t.s.store.outbox.list({ recipient: '+14155550100', limit: 1 });
    expect(old?.template).toBe('phone_replaced');
    expect((await t.s.store.outbox.list({ recipient: 'kim@acme.test', limit: 5 })).map((x) => x.template)).toContain('factor_added');
    const factors = json(await a().get('/v1/me/factors', { token: tok('kim@acme.test') })).factors.filter((f: { kind: string }) => f.kind === 'phone');
    expect(factors).toHaveLength(1);
    t.clock.advance(61_000);
    const flow = await atSecondFactor(t.app, 'acme', 'kim@acme.test');
    expect((await a().post(`/v1/auth/flows/${flow.id}/codes`, { flow: flow.token, body: { channel: 'sms' } })).statusCode).toBe(200);
    const [fresh] = await t.s.store.outbox.list({ recipient: '+14155550111', limit: 1 });
    expect(fresh?.template).toBe('signin_code_sms');
  });

  it('an email code is never a second factor: the step refuses it and no policy can allow it', async () => {
    const flow = await atSecondFactor(t.app, 'acme', 'kim@acme.test');
    const r = await factorStep(t.app, flow, 'otp_email', '123456');
    expect([r.statusCode, json(r).code]).toEqual([400, 'invalid_request']);
    const cur = json(await a().get('/v1/tenants/acme/policy', { token: tok('ada@acme.test') }));
    const save = await a().put('/v1/tenants/acme/policy', { token: tok('ada@acme.test'), body: { version: cur.version, policy: { ...cur.policy, mfa: { ...cur.policy.mfa, allowedFactors: [...cur.policy.mfa.allowedFactors, 'otp_email'] } } } });
    expect([save.statusCode, json(save).code]).toEqual([400, 'invalid_policy']);
  });
});
