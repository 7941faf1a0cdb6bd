/** Caller one-time codes: attempt cap, resend that does not reset, races, send limits, tenant isolation. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, json, seed, testApp, type TestApp } from '../helpers/app.js';
import { callerFixture, lastCodeTo } from '../helpers/callers.js';
import { backends } from '../helpers/db.js';

describe.each(await backends())('caller codes (%s)', (backend) => {
  let t: TestApp;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  const post = (url: string, body: unknown = {}, token = f.agent) => api(t.app).post(url, { token, body });
  const start = async (interactionId: string) => json(await post('/v1/tenants/acme/verifications', { customerId: f.customerId, interactionId }));
  const base = (id: string) => `/v1/tenants/acme/verifications/${id}`;

  beforeAll(async () => {
    t = await testApp({ backend });
    f = await callerFixture(t);
  });
  afterAll(() => t.close());

  it('the 6th check fails with max attempts, and a resend does not reset the count', async () => {
    const v = await start('call-cap');
    expect((await post(`${base(v.id)}/codes`, { contactId: f.phoneId, channel: 'sms' })).statusCode).toBe(200);
    for (let i = 0; i < 3; i++) expect((await post(`${base(v.id)}/codes/check`, { code: '000001' })).statusCode).toBe(401);
    const early = await post(`${base(v.id)}/codes`, { contactId: f.phoneId, channel: 'sms' });
    expect(early.statusCode).toBe(429); // 60 s resend cooldown
    t.clock.advance(61_000);
    expect((await post(`${base(v.id)}/codes`, { contactId: f.phoneId, channel: 'sms' })).statusCode).toBe(200);
    const code = await lastCodeTo(t, '+14155550134');
    for (let i = 0; i < 2; i++) expect((await post(`${base(v.id)}/codes/check`, { code: code === '000002' ? '000003' : '000002' })).statusCode).toBe(401);
    const sixth = await post(`${base(v.id)}/codes/check`, { code });
    expect(sixth.statusCode).toBe(429);
    expect(json(sixth).details).toMatchObject({ state: 'failed', reason: 'flow_budget_spent' });
    expect(json(await api(t.app).get(base(v.id), { token: f.agent })).state).toBe('failed');
  });

  it('50 parallel checks of the right code give exactly one success', async () => {
    t.clock.advance(61_000);
    const v = await start('call-race');
    expect((await post(`${base(v.id)}/codes`, { contactId: f.emailId, channel: 'email' })).statusCode).toBe(200);
    const code = await lastCodeTo(t, 'dana@example.com');
    const results = await Promise.all(Array.from({ length: 50 }, () => post(`${base(v.id)}/codes/check`, { code })));
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(1);
    expect(json(results.find((r) => r.statusCode === 200)!).state).toBe('verified');
  });

  it('PIN plus a question satisfies the standard level; a wrong answer brings a fallback question', async () => {
    const v = await start('call-knowledge');
    const pin = json(await post(`${base(v.id)}/pin`, { pin: '4806 13#' }));
    expect(pin).toMatchObject({ state: 'pending', completedMethods: ['pin'] });
    const q1 = json(await post(`${base(v.id)}/question`));
    const wrong = await post(`${base(v.id)}/question/answer`, { answer: 'not it' });
    expect(wrong.statusCode).toBe(401);
    const q2 = json(await post(`${base(v.id)}/question`));
    expect(q2.questionId).not.toBe(q1.questionId);
    expect(q2.fallback).toBe(true);
    const answer = q2.question.includes('pet') ? '  FLUFFY! ' : 'sacramento';
    const done = json(await post(`${base(v.id)}/question/answer`, { answer }));
    expect(done).toMatchObject({ state: 'verified', completedMethods: ['pin', 'question'] });
  });

  it('a question alone never verifies, and the high level needs possession plus knowledge', async () => {
    const v = json(await post('/v1/tenants/acme/verifications', { customerId: f.customerId, interactionId: 'call-high', level: 'high' }));
    const q = json(await post(`${base(v.id)}/question`));
    const answered = json(await post(`${base(v.id)}/question/answer`, { answer: q.question.includes('pet') ? 'fluffy' : 'Sacramento' }));
    expect(answered.state).toBe('pending');
    expect(answered.status.alternatives[0]).toMatchObject({ met: ['knowledge'], missing: ['possession'] });
  });

  it('per-agent send limits raise an alert event', async () => {
    const sends = [];
    for (let i = 0; i < 11; i++) {
      const v = await start(`call-burst-${i}`);
      sends.push(await post(`${base(v.id)}/codes`, { contactId: i % 2 ? f.phoneId : f.emailId, channel: i % 2 ? 'sms' : 'email' }));
    }
    const limited = sends.filter((r) => r.statusCode === 429);
    expect(limited.length).toBeGreaterThan(0);
    const reasons = limited.map((r) => json(r).details.reason);
    expect(reasons.some((r) => r === 'agent_limit' || r === 'destination_limit')).toBe(true);
    const alerts = await t.s.store.db.selectFrom('audit_events').selectAll().where('type', '=', 'verification.send_limit_alert').execute();
    expect(alerts.length + reasons.filter((r) => r === 'destination_limit').length).toBeGreaterThan(0);
  });

  it("tenant B cannot start or read verifications of tenant A's customers (404)", async () => {
    const v = await start('call-isolation');
    const b = await seed(t, { tenant: 'globex', users: [{ email: 'agent@globex.test', roles: ['agent', 'tenant_admin'] }] });
    const bAgent = b.users['agent@globex.test']!.token!;
    expect((await api(t.app).get(`/v1/tenants/acme/verifications/${v.id}`, { token: bAgent })).statusCode).toBe(404);
    expect((await api(t.app).get(`/v1/tenants/globex/verifications/${v.id}`, { token: bAgent })).statusCode).toBe(404);
    expect((await post('/v1/tenants/globex/verifications', { customerId: f.customerId, interactionId: 'steal' }, bAgent)).statusCode).toBe(404);
    expect((await post('/v1/tenants/acme/verifications', { customerId: f.customerId, interactionId: 'steal' }, bAgent)).statusCode).toBe(404);
  });
});

describe('caller risk as the verification goes on', () => {
  it('failed attempts show in the risk breakdown of the flow', async () => {
    const t = await testApp();
    try {
      const f = await callerFixture(t);
      const v = json(await api(t.app).post('/v1/tenants/acme/verifications', { token: f.agent, body: { customerId: f.customerId, interactionId: 'call-risk' } }));
      expect(v.risk.signals.map((s: { signal: string }) => s.signal)).not.toContain('failed_attempts');
      for (let i = 0; i < 2; i++) await api(t.app).post(`/v1/tenants/acme/verifications/${v.id}/pin`, { token: f.agent, body: { pin: '111111' } });
      const now = json(await api(t.app).get(`/v1/tenants/acme/verifications/${v.id}`, { token: f.agent }));
      expect(now.risk.signals).toContainEqual({ signal: 'failed_attempts', points: 20, detail: '2 failed attempt(s)' });
      expect(now.risk.score).toBe(v.risk.score + 20);
    } finally {
      await t.close();
    }
  });
});
