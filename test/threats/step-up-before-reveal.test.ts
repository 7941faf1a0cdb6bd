/**
 * Threat: a session that proved too little, or proved it too long ago (a password alone; a laptop
 * left signed in), reveals a customer's masked data. With the tenant's `stepUp.reveal` policy the
 * reveal answers `step_up_required` naming what is missing and what is needed; a step-up flow asks
 * only for that (a second factor; only a security key when a phishing-resistant method is asked),
 * refreshes the session, and the retried reveal succeeds. Nothing is revealed, or audited as
 * revealed, before.
 *
 * Fails when: the route does not check the session's assurance, methods or auth time; the step-up
 * flow accepts a method that cannot give what was asked; or it does not refresh the session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, enrollTotp, json, testApp, type TestApp } from '../helpers/app.js';
import { callerFixture } from '../helpers/callers.js';
import { backends } from '../helpers/db.js';
import { auditEvents, factorStep, totpFor, updatePolicy } from '../helpers/flows.js';
import { allowKeys, answerKey, keyOptions, ORIGIN, registerKey, SoftAuthenticator } from '../helpers/webauthn.js';

describe.each(await backends())('step-up before revealing a masked field (%s)', (backend) => {
  let t: TestApp;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  let admin: string;
  let secret: string;
  beforeAll(async () => {
    t = await testApp({ backend });
    f = await callerFixture(t);
    admin = f.admin;
  });
  afterAll(() => t.close());

  const reveal = (token: string) => api(t.app).post(`/v1/tenants/acme/customers/${f.customerId}/reveal`, { token, body: { field: 'contact', contactId: f.phoneId, reason: 'caller disputes a charge' } });
  const stepUp = (token: string, need: object) => api(t.app).post('/v1/me/step-up', { token, body: need });
  const revealed = async () => (await auditEvents(t, f.tenantId, { type: 'customer.field_revealed' })).length;

  it('AAL2 within 10 minutes: a password-only session is refused, names the need, and steps up with a second factor', async () => {
    await updatePolicy(t, admin, 'acme', (p) => ({ ...p, stepUp: { ...p.stepUp, reveal: { aal: 2, phishingResistant: false, maxAgeMinutes: 10 } } }));
    const r = await reveal(admin);
    expect([r.statusCode, json(r).code, json(r).details.reason]).toEqual([401, 'step_up_required', 'assurance_too_low']);
    expect(json(r).details).toMatchObject({ missing: ['assurance_too_low'], need: { aal: 2, phishingResistant: false, maxAgeSeconds: 600 }, session: { aal: 1, phishingResistant: false } });
    expect(json(r).value).toBeUndefined();
    // no second factor yet: nothing can give AAL2
    const none = await stepUp(admin, json(r).details.need);
    expect([none.statusCode, json(none).details.reason]).toEqual([409, 'step_up_unavailable']);
    secret = (await enrollTotp(t, admin)).secret;
    t.clock.advance(31_000);
    const flow = await stepUp(admin, json(r).details.need);
    expect(flow.statusCode, flow.body).toBe(201);
    expect(json(flow).flow).toMatchObject({ kind: 'reauth', state: 'second_factor', completedMethods: ['pwd'] });
    expect(json(flow).flow.options.map((o: { method: string }) => o.method)).toEqual(['totp']);
    const done = await factorStep(t.app, { id: json(flow).flow.id, token: json(flow).flowToken }, 'totp', totpFor(secret, t.clock.now()));
    expect(done.statusCode, done.body).toBe(200);
    admin = json(done).session.token;
    expect(json(await api(t.app).get('/v1/me', { token: admin })).session).toMatchObject({ aal: 2, methods: ['pwd', 'totp'] });
    expect(await revealed()).toBe(0);
    const ok = await reveal(admin);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(json(ok).value).toMatch(/4155550134/);
  });

  it('the same session 11 minutes later: too old, one factor again refreshes it', async () => {
    t.clock.advance(11 * 60_000);
    const r = await reveal(admin);
    expect([r.statusCode, json(r).details.missing]).toEqual([401, ['auth_too_old']]);
    const flow = json(await stepUp(admin, json(r).details.need));
    const done = await factorStep(t.app, { id: flow.flow.id, token: flow.flowToken }, 'totp', totpFor(secret, t.clock.now()));
    expect(done.statusCode, done.body).toBe(200);
    admin = json(done).session.token;
    expect((await reveal(admin)).statusCode).toBe(200);
  });

  it('phishing-resistant: an authenticator app is not enough; the step-up offers and takes only a security key', async () => {
    await allowKeys(t, admin, 'acme');
    await updatePolicy(t, admin, 'acme', (p) => ({ ...p, stepUp: { ...p.stepUp, reveal: { aal: 2, phishingResistant: true, maxAgeMinutes: null } } }));
    const key = new SoftAuthenticator({ userVerification: false });
    expect((await registerKey(t, admin, key)).res.statusCode).toBe(200);
    const r = await reveal(admin);
    expect([r.statusCode, json(r).details.missing]).toEqual([401, ['not_phishing_resistant']]);
    const flow = json(await stepUp(admin, json(r).details.need));
    expect(flow.flow.options.map((o: { method: string }) => o.method)).toEqual(['webauthn']);
    const handle = { id: flow.flow.id, token: flow.flowToken };
    const totp = await factorStep(t.app, handle, 'totp', totpFor(secret, t.clock.now()));
    expect([totp.statusCode, json(totp).details.reason]).toEqual([400, 'method_not_allowed']);
    const done = await answerKey(t, handle, await key.assert(await keyOptions(t, handle), { origin: ORIGIN }));
    expect(done.statusCode, done.body).toBe(200);
    admin = json(done).session.token;
    expect(json(await api(t.app).get('/v1/me', { token: admin })).session).toMatchObject({ phishingResistant: true, methods: ['pwd', 'totp', 'webauthn'], aal: 3 });
    expect((await reveal(admin)).statusCode).toBe(200);
  });
});
