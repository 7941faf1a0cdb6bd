/**
 * Threat: a cloned security key. An authenticator with a signature counter increases it with every
 * use; an assertion whose counter is not above the stored one means two copies of the key exist.
 * Such an assertion is refused (a counted wrong answer), the credential is flagged
 * (`counter_regression`, shown to the user and the admin) and a `factor.flagged` security event is
 * written. An admin can suspend a key at once: a suspended key signs in nobody until resumed.
 *
 * Fails when: the counter is not compared (or the library's exception is swallowed as a plain
 * failure without the flag), the flag or its event is not written, or suspension is not enforced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, json, testApp, type TestApp } from '../helpers/app.js';
import { backends } from '../helpers/db.js';
import { atSecondFactor, auditEvents } from '../helpers/flows.js';
import { answerKey, keyOptions, keysTenant, ORIGIN, registerKey, SoftAuthenticator } from '../helpers/webauthn.js';

describe.each(await backends())('a counter going backwards, and suspended keys (%s)', (backend) => {
  let t: TestApp;
  let w: Awaited<ReturnType<typeof keysTenant>>;
  const key = new SoftAuthenticator({ userVerification: false, counter: 10 });
  let factorId: string;
  let userId: string;
  beforeAll(async () => {
    t = await testApp({ backend });
    w = await keysTenant(t, ['kim@acme.test']);
    const reg = await registerKey(t, w.token('kim@acme.test'), key);
    expect(reg.res.statusCode).toBe(200);
    factorId = reg.body.factorId;
    userId = w.users['kim@acme.test']!.id;
  });
  afterAll(() => t.close());

  it('a use with a higher counter passes; one with a lower counter is refused, flagged and audited', async () => {
    const f1 = await atSecondFactor(t.app, 'acme', 'kim@acme.test');
    expect((await answerKey(t, f1, await key.assert(await keyOptions(t, f1), { origin: ORIGIN }))).statusCode).toBe(200); // counter 11
    const f2 = await atSecondFactor(t.app, 'acme', 'kim@acme.test');
    const r = await answerKey(t, f2, await key.assert(await keyOptions(t, f2), { origin: ORIGIN, counter: 5 }));
    expect([r.statusCode, json(r).code, json(r).details.reason, json(r).details.attemptsLeft]).toEqual([401, 'invalid_factor', 'counter_regression', 4]);
    const mine = json(await api(t.app).get('/v1/me/factors', { token: w.token('kim@acme.test') })).factors.find((f: { id: string }) => f.id === factorId);
    expect(mine.key.flags).toEqual(['counter_regression']);
    const admin = json(await api(t.app).get(`/v1/tenants/acme/users/${userId}`, { token: w.token(w.admin) }));
    expect(admin.factors.find((f: { id: string }) => f.id === factorId).key.flags).toEqual(['counter_regression']);
    const flagged = await auditEvents(t, w.tenantId, { type: 'factor.flagged' });
    expect(flagged.map((e) => [e.targetId, (e.data as { flag: string }).flag])).toEqual([[factorId, 'counter_regression']]);
    // the same counter again (not above the stored 11) is refused too
    const f3 = await atSecondFactor(t.app, 'acme', 'kim@acme.test');
    expect(json(await answerKey(t, f3, await key.assert(await keyOptions(t, f3), { origin: ORIGIN, counter: 11 }))).details.reason).toBe('counter_regression');
  });

  it('an admin suspends the key: refused until resumed; the user is told by email', async () => {
    const a = api(t.app);
    // a challenge opened before the suspension: the answer that comes after it is refused
    const flow = await atSecondFactor(t.app, 'acme', 'kim@acme.test');
    const options = await keyOptions(t, flow);
    const s = await a.post(`/v1/tenants/acme/users/${userId}/factors/${factorId}/suspend`, { token: w.token(w.admin) });
    expect(s.statusCode, s.body).toBe(200);
    const r = await answerKey(t, flow, await key.assert(options, { origin: ORIGIN, counter: 50 }));
    expect([r.statusCode, json(r).details.reason]).toEqual([401, 'credential_suspended']);
    // and a suspended key is no longer offered
    const later = await atSecondFactor(t.app, 'acme', 'kim@acme.test');
    const none = await a.post(`/v1/auth/flows/${later.id}/webauthn/options`, { flow: later.token });
    expect([none.statusCode, json(none).details.reason]).toEqual([400, 'method_not_allowed']);
    expect(json(await a.get('/v1/me/factors', { token: w.token('kim@acme.test') })).factors.find((f: { id: string }) => f.id === factorId).suspended).toBe(true);
    expect((await a.post(`/v1/tenants/acme/users/${userId}/factors/${factorId}/suspend`, { token: w.token(w.admin) })).statusCode).toBe(409);
    expect((await a.post(`/v1/tenants/acme/users/${userId}/factors/${factorId}/resume`, { token: w.token(w.admin) })).statusCode).toBe(200);
    const again = await atSecondFactor(t.app, 'acme', 'kim@acme.test');
    const ok = await answerKey(t, again, await key.assert(await keyOptions(t, again), { origin: ORIGIN, counter: 60 }));
    expect(ok.statusCode, ok.body).toBe(200);
    const mails = await t.s.store.outbox.list({ recipient: 'kim@acme.test', limit: 50 });
    expect(mails.map((m) => m.template)).toEqual(expect.arrayContaining(['factor_suspended', 'factor_resumed']));
    // an agent cannot suspend keys
    expect((await a.post(`/v1/tenants/acme/users/${userId}/factors/${factorId}/suspend`, { token: w.token('kim@acme.test') })).statusCode).toBe(403);
  });
});
