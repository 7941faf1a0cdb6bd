/**
 * Caller verification end to end: an agent starts a verification; the code goes to a real SMTP
 * sink and a Twilio-shaped HTTP peer on loopback; the code read there completes the flow; the signed
 * assertion verifies offline against the tenant's JWKS; and the code appears in no API response,
 * log line or audit row.
 */
import { Writable } from 'node:stream';
import { createLocalJWKSet, jwtVerify } from 'jose';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDelivery } from '../../src/delivery/setup.js';
import type { DeliveryWorker } from '../../src/delivery/worker.js';
import { buildApp } from '../../src/http/app.js';
import { createServices } from '../../src/services/context.js';
import { httpPeer, type HttpPeer } from '../delivery/peers.js';
import { api, json, seed, signIn, STRONG, testApp, type TestApp } from '../helpers/app.js';
import { smtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

describe('caller verification with real delivery', () => {
  let t: TestApp;
  let peer: HttpPeer;
  let smtp: SmtpSink | undefined;
  let worker: DeliveryWorker | undefined;
  let mails: string[] = [];
  const logLines: string[] = [];
  const responses: string[] = [];
  let agent: string;
  let customerId: string;
  let phoneId: string;
  let emailId: string;

  const a = () => {
    const base = api(t.app);
    const keep = async (r: Promise<{ body: string }>) => {
      const res = await r;
      responses.push(res.body);
      return res as Awaited<typeof r> & { statusCode: number; json(): Record<string, any> };
    };
    return {
      get: (url: string) => keep(base.get(url, { token: agent })),
      post: (url: string, body: unknown = {}) => keep(base.post(url, { token: agent, body })),
    };
  };

  beforeAll(async () => {
    smtp = await smtpSink();
    mails = smtp.mails;
    peer = await httpPeer(() => ({ status: 201, json: { sid: 'SM0123456789abcdef0123456789abcdef' } }));
    const base = await testApp({
      env: {
        CALLWARDEN_SMTP_URL: smtp.url,
        CALLWARDEN_MAIL_FROM: 'Acme <no-reply@acme.test>',
        CALLWARDEN_SMS_PROVIDER: 'twilio',
        CALLWARDEN_TWILIO_BASE_URL: peer.url,
        CALLWARDEN_TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
        CALLWARDEN_TWILIO_AUTH_TOKEN: 'twilio-test-token',
        CALLWARDEN_TWILIO_FROM: '+15005550006',
        CALLWARDEN_DELIVERY_INTERVAL_MS: '0',
        CALLWARDEN_LOG_LEVEL: 'trace',
      },
    });
    // the same store and clock, with every log line captured
    await base.app.close();
    const sink = new Writable({ write: (c, _e, cb) => { logLines.push(String(c)); cb(); } });
    const s = createServices(base.s.config, base.s.store, { clock: base.clock.now, log: pino({ level: 'trace' }, sink) });
    t = { ...base, s, app: await buildApp(s) };
    worker = startDelivery(s);
    const seeded = await seed(t, { users: [{ email: 'agent@acme.test', roles: ['agent'] }, { email: 'admin@acme.test', roles: ['tenant_admin'] }] });
    agent = seeded.users['agent@acme.test']!.token!;
    const admin = seeded.users['admin@acme.test']!.token!;
    const created = await api(t.app).post('/v1/tenants/acme/customers', {
      token: admin,
      body: { externalId: 'CRM-1001', name: 'Dana Whitfield', accountNumber: '77001234', contacts: [{ kind: 'phone', value: '+1 415 555 0134' }, { kind: 'email', value: 'dana@example.com' }] },
    });
    expect(created.statusCode, created.body).toBe(201);
    customerId = json(created).id;
    const contacts = json(created).contacts as Array<{ id: string; kind: string }>;
    phoneId = contacts.find((c) => c.kind === 'phone')!.id;
    emailId = contacts.find((c) => c.kind === 'email')!.id;
    expect((await api(t.app).put(`/v1/tenants/acme/customers/${customerId}/pin`, { token: admin, body: { pin: '480613' } })).statusCode).toBe(200);
  });

  afterAll(async () => {
    await worker?.stop();
    await t.close();
    await peer.close();
    await smtp?.close();
  });

  const start = async (interactionId: string, extra: Record<string, unknown> = {}) => {
    const r = await a().post('/v1/tenants/acme/verifications', { customerId, interactionId, ...extra });
    expect(r.statusCode, r.body).toBe(201);
    return r.json();
  };
  const smsCodes = () => peer.received.map((r) => /code is (\d{6})/.exec(new URLSearchParams(r.body).get('Body') ?? '')?.[1]).filter((c): c is string => !!c);

  it('sends an SMS code through the Twilio-shaped peer; the code read there verifies the caller', async () => {
    const v = await start('call-0001', { callerAni: '+14155550134', attestation: 'A' });
    expect(v).toMatchObject({ state: 'pending', level: 'standard', risk: { level: 'low' } });
    expect(v.available.map((m: { method: string }) => m.method)).toEqual(expect.arrayContaining(['otp_sms', 'otp_email', 'pin']));
    const sent = await a().post(`/v1/tenants/acme/verifications/${v.id}/codes`, { contactId: phoneId, channel: 'sms' });
    expect(sent.statusCode, sent.body).toBe(200);
    expect(sent.json()).toMatchObject({ sent: true, destination: expect.stringContaining('0134') });
    await worker!.drain();
    const form = new URLSearchParams(peer.received.at(-1)!.body);
    expect(peer.received.at(-1)!.path).toBe('/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json');
    expect(form.get('To')).toBe('+14155550134');
    const code = smsCodes().at(-1)!;
    const wrong = await a().post(`/v1/tenants/acme/verifications/${v.id}/codes/check`, { code: code === '000000' ? '111111' : '000000' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().details.attemptsLeft).toBe(4);
    const ok = await a().post(`/v1/tenants/acme/verifications/${v.id}/codes/check`, { code });
    expect(ok.statusCode, ok.body).toBe(200);
    const done = ok.json();
    expect(done).toMatchObject({ state: 'verified', completedMethods: ['otp_sms'], status: { satisfied: true } });

    // the assertion verifies offline against the tenant's JWKS, and on the server
    const keys = await api(t.app).get('/v1/tenants/acme/jwks.json');
    const { payload, protectedHeader } = await jwtVerify(done.assertion, createLocalJWKSet(json(keys) as { keys: [] }), { audience: 'callwarden:caller-verification' });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({ sub: customerId, cid: 'CRM-1001', interaction_id: 'call-0001', amr: ['otp_sms'], level: 'standard' });
    expect(json(await api(t.app).post('/v1/assertions/check', { body: { assertion: done.assertion } }))).toMatchObject({ valid: true });
    const forged = done.assertion.slice(0, -4) + (done.assertion.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(json(await api(t.app).post('/v1/assertions/check', { body: { assertion: forged } })).valid).toBe(false);

    // an expired verification stays readable as verified/expired, never "not found"
    t.clock.advance(16 * 60_000);
    expect((await a().get(`/v1/tenants/acme/verifications/${v.id}`)).json().state).toBe('verified');
  });

  it('sends an email code over SMTP', async () => {
    const v = await start('call-0002');
    expect((await a().post(`/v1/tenants/acme/verifications/${v.id}/codes`, { contactId: emailId, channel: 'email' })).statusCode).toBe(200);
    await worker!.drain();
    const mail = mails.at(-1)!;
    expect(mail).toMatch(/^To: dana@example\.com/m);
    const code = /code is (\d{6})/.exec(mail)![1]!;
    const ok = await a().post(`/v1/tenants/acme/verifications/${v.id}/codes/check`, { code });
    expect(ok.json()).toMatchObject({ state: 'verified', completedMethods: ['otp_email'] });
  });

  it('the codes appear in no API response, log line or audit row', async () => {
    const codes = [...smsCodes(), ...mails.map((m) => /code is (\d{6})/.exec(m)?.[1]).filter((c): c is string => !!c)];
    expect(codes.length).toBeGreaterThanOrEqual(2);
    const audit = JSON.stringify(await t.s.store.db.selectFrom('audit_events').selectAll().execute());
    const logs = logLines.join('');
    expect(logs).toContain('verification');
    for (const code of codes) {
      for (const body of responses) expect(body).not.toContain(code);
      expect(audit).not.toContain(code);
      expect(logs).not.toContain(code);
    }
  });

  it('refuses a contact that is not on file and a contact changed one day ago', async () => {
    const v = await start('call-0003');
    const stranger = await a().post(`/v1/tenants/acme/verifications/${v.id}/codes`, { contactId: '00000000-0000-4000-8000-000000000000', channel: 'sms' });
    expect(stranger.statusCode).toBe(404);
    const other = await api(t.app).post('/v1/tenants/acme/verifications', { token: agent, body: { customerId, interactionId: 'x', destination: '+15550000000' } });
    expect(other.statusCode).toBe(201); // unknown fields are ignored: there is no way to name a destination
    t.clock.advance(60_000);
    const adminToken = (await signIn(t.app, 'acme', 'admin@acme.test', STRONG)).token!;
    const changed = await api(t.app).patch(`/v1/tenants/acme/customers/${customerId}`, { token: adminToken, body: { contacts: { update: [{ id: phoneId, value: '+1 415 555 0199' }] } } });
    expect(changed.statusCode, changed.body).toBe(200);
    t.clock.advance(86_400_000); // one day later
    agent = (await signIn(t.app, 'acme', 'agent@acme.test', STRONG)).token!;
    const v2 = await start('call-0004');
    expect(v2.risk.signals.map((s: { signal: string }) => s.signal)).toContain('recent_contact_change');
    const refused = await a().post(`/v1/tenants/acme/verifications/${v2.id}/codes`, { contactId: phoneId, channel: 'sms' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('contact_recently_changed');
  });
});
