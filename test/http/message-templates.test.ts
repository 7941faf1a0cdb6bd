/**
 * Message templates per tenant and locale through the API: admins (policy.write) read and replace
 * them, with validation (known placeholders, {{code}} in code messages, channels, one-line subjects)
 * and an audit event; code messages follow the verification's locale (or the tenant's default) in the
 * order tenant+locale, tenant+en, built-in locale, built-in en; notices use the tenant's wording too;
 * and a code message carries its expiry into the outbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, json, testApp, type TestApp } from '../helpers/app.js';
import { callerFixture } from '../helpers/callers.js';
import { auditEvents } from '../helpers/flows.js';

describe('message templates', () => {
  let t: TestApp;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  const url = '/v1/tenants/acme/templates';
  const put = (body: unknown, token = f.admin) => api(t.app).put(url, { token, body });
  const sms = (locale: string, body: string, subject = '') => ({ template: 'verification_code', locale, channel: 'sms', subject, body });

  beforeAll(async () => {
    t = await testApp();
    f = await callerFixture(t);
  });
  afterAll(() => t.close());

  /** Starts a verification (with a locale or none), sends a code on `channel`, returns the outbox row. */
  const codeMessage = async (o: { locale?: string; channel?: 'sms' | 'voice' | 'email' } = {}) => {
    t.clock.advance(600_000); // a new 10-minute window for the destination limit (5 sends)
    const v = await api(t.app).post('/v1/tenants/acme/verifications', { token: f.agent, body: { customerId: f.customerId, interactionId: `call-${Math.random()}`, ...(o.locale ? { locale: o.locale } : {}) } });
    expect(v.statusCode, v.body).toBe(201);
    const channel = o.channel ?? 'sms';
    const sent = await api(t.app).post(`/v1/tenants/acme/verifications/${json(v).id}/codes`, { token: f.agent, body: { contactId: channel === 'email' ? f.emailId : f.phoneId, channel } });
    expect(sent.statusCode, sent.body).toBe(200);
    const [m] = await t.s.store.outbox.list({ recipient: channel === 'email' ? 'dana@example.com' : '+14155550134', limit: 1 });
    return { ...m!, expiresAtSent: json(sent).expiresAt as string };
  };

  it('lists the built-in texts (en, es, fr for codes) and the placeholders; agents may not read them', async () => {
    expect((await api(t.app).get(url, { token: f.agent })).statusCode).toBe(403);
    const r = json(await api(t.app).get(url, { token: f.admin }));
    expect(r.defaultLocale).toBe('en');
    expect(r.templates).toEqual([]);
    const codes = r.builtin.filter((b: { template: string }) => b.template === 'verification_code');
    expect(codes.map((b: { locale: string; channel: string }) => `${b.locale}/${b.channel}`).sort()).toEqual(['en/email', 'en/sms', 'en/voice', 'es/email', 'es/sms', 'es/voice', 'fr/email', 'fr/sms', 'fr/voice']);
    expect(r.definitions).toContainEqual({ template: 'verification_code', channels: ['sms', 'voice', 'email'], placeholders: ['code', 'minutes', 'tenantName'], required: ['code'] });
  });

  it('the built-in texts follow the locale: English by default, Spanish and French on request, digits spoken one by one', async () => {
    const en = await codeMessage();
    expect(en.body).toMatch(/^Your acme Contact Center verification code is \d{6}\. It expires in 10 minutes\./);
    expect(en.locale).toBe('en');
    expect(en.expires_at?.toISOString()).toBe(en.expiresAtSent);
    const es = await codeMessage({ locale: 'es-mx' });
    expect(es.body).toMatch(/^Su código de verificación de acme Contact Center es \d{6}\. Caduca en 10 minutos\./);
    expect(es.locale).toBe('es-MX');
    const fr = await codeMessage({ locale: 'fr', channel: 'email' });
    expect(fr.subject).toBe('Votre code de vérification acme Contact Center');
    expect(fr.body).toMatch(/^Votre code de vérification acme Contact Center est \d{6}\./);
    const voice = await codeMessage({ locale: 'de', channel: 'voice' });
    expect(voice.body).toMatch(/^This is acme Contact Center\. Your verification code is (\d \d \d \d \d \d)\. Again: \1\.$/);
    expect(voice.locale).toBe('en');
  });

  it('refuses unknown placeholders, a code message without {{code}}, wrong channels and multi-line subjects', async () => {
    const bad = await put({
      templates: [
        sms('en', 'Code: {{code}} from {{agentName}}'),
        sms('es', 'Llame a {{tenantName}}'),
        { template: 'invitation', locale: 'en', channel: 'sms', subject: '', body: '{{link}}' },
        { template: 'verification_code', locale: 'fr', channel: 'email', subject: 'Code\nBcc: x@evil.test', body: '{{code}}' },
        sms('english', '{{code}}'),
        sms('de', 'Code {{code} ist gültig'),
        { template: 'welcome', locale: 'en', channel: 'email', subject: 'Hi', body: 'Hi' },
      ],
    });
    expect(bad.statusCode).toBe(400);
    const issues = json(bad).details.issues.map((i: { field: string; message: string }) => `${i.field}: ${i.message}`);
    expect(issues).toEqual(expect.arrayContaining([
      expect.stringMatching(/^templates\[0\]\.body: unknown placeholder \{\{agentName\}\}/),
      'templates[1].body: must contain {{code}}',
      expect.stringMatching(/^templates\[2\]\.channel: invitation is sent by email only/),
      'templates[3].subject: one line only',
      expect.stringMatching(/^templates\[4\]\.locale/),
      'templates[5].body: a placeholder is malformed; write {{name}}',
      expect.stringMatching(/^templates\[6\]\.template: unknown template/),
    ]));
    expect((await put({ templates: [sms('en', '{{code}}')] }, f.agent)).statusCode).toBe(403);
  });

  it("uses the tenant's wording: tenant+locale, then tenant+en, before the built-in translations; audited", async () => {
    const saved = await put({ templates: [sms('es', 'Código de {{tenantName}}: {{code}} ({{minutes}} min)'), sms('en', '{{tenantName}} code: {{code}}. Never share it.', 'unused for SMS')] });
    expect(saved.statusCode, saved.body).toBe(200);
    expect(json(saved).templates.map((x: { locale: string }) => x.locale)).toEqual(['en', 'es']);
    expect((await codeMessage({ locale: 'es-AR' })).body).toMatch(/^Código de acme Contact Center: \d{6} \(10 min\)$/);
    expect((await codeMessage({ locale: 'fr' })).body).toMatch(/^acme Contact Center code: \d{6}\. Never share it\.$/);
    expect((await codeMessage({ locale: 'fr', channel: 'email' })).body).toMatch(/^Votre code de vérification/); // no tenant email text: built-in
    const [event] = await auditEvents(t, f.tenantId, { type: 'templates.updated' });
    expect(event!.data).toEqual({ set: ['verification_code/es/sms', 'verification_code/en/sms'], removed: [] });
    expect(JSON.stringify(event)).not.toContain('Never share it');
  });

  it('replacing the set removes what is left out; the default locale applies when a verification names none', async () => {
    const r = await put({ defaultLocale: 'FR', templates: [sms('es', 'Código de {{tenantName}}: {{code}} ({{minutes}} min)')] });
    expect(r.statusCode, r.body).toBe(200);
    expect(json(r)).toMatchObject({ defaultLocale: 'fr', templates: [{ locale: 'es', channel: 'sms' }] });
    const [event] = await auditEvents(t, f.tenantId, { type: 'templates.updated' });
    expect(event!.data).toEqual({ set: [], removed: ['verification_code/en/sms'], defaultLocale: { from: 'en', to: 'fr' } });
    const m = await codeMessage();
    expect(m.body).toMatch(/^Votre code de vérification acme Contact Center est \d{6}\./);
    expect(m.locale).toBe('fr');
    expect((await put({ defaultLocale: 'en', templates: [] })).statusCode).toBe(200);
  });

  it('notices use the tenant wording too, filled in as plain text', async () => {
    const saved = await put({
      templates: [{ template: 'invitation', locale: 'en', channel: 'email', subject: 'Welcome to {{tenantName}}', body: 'Hello! <b>Not markup</b>. Your link (valid {{hours}} h): {{link}}' }],
    });
    expect(saved.statusCode, saved.body).toBe(200);
    const inv = await api(t.app).post('/v1/tenants/acme/users', { token: f.admin, body: { email: 'new.hire@acme.test', roles: ['agent'] } });
    expect(inv.statusCode, inv.body).toBe(201);
    const [m] = await t.s.store.outbox.list({ recipient: 'new.hire@acme.test', limit: 1 });
    expect(m).toMatchObject({ template: 'invitation', subject: 'Welcome to acme Contact Center', locale: 'en' });
    expect(m!.body).toMatch(/^Hello! <b>Not markup<\/b>\. Your link \(valid \d+ h\): https?:\/\/\S+#token=[\w-]+$/);
  });
});
