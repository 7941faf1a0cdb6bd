/**
 * Security keys and passkeys for staff over the HTTP API (a software authenticator checked by
 * @simplewebauthn/server): registration from the security page, second factor after the password,
 * passwordless sign-in with a passkey, and the assurance each proves (a device-bound key with the
 * password is AAL3; a passkey that verified its user is AAL3 alone when device-bound, AAL2 when
 * synced; phishing resistance recorded on the session).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, json, seed, STRONG, testApp, type TestApp } from '../helpers/app.js';
import { backends } from '../helpers/db.js';
import { atSecondFactor } from '../helpers/flows.js';
import { allowKeys, answerKey, keyOptions, ORIGIN, registerKey, SoftAuthenticator, startPasskey } from '../helpers/webauthn.js';

describe.each(await backends())('security keys and passkeys (%s)', (backend) => {
  let t: TestApp;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const admin = 'ada@acme.test';
  beforeAll(async () => {
    t = await testApp({ backend });
    seeded = await seed(t, { users: [{ email: admin, roles: ['tenant_admin'] }, { email: 'kim@acme.test', roles: ['agent'] }, { email: 'lea@acme.test', roles: ['agent'] }, { email: 'max@acme.test', roles: ['agent'] }] });
  });
  afterAll(() => t.close());
  const tokenOf = (email: string) => seeded.users[email]!.token!;

  it('refuses to register a key until the tenant allows security keys', async () => {
    const r = await api(t.app).post('/v1/me/factors/webauthn', { token: tokenOf('kim@acme.test'), body: { kind: 'security_key' } });
    expect([r.statusCode, json(r).code]).toEqual([403, 'forbidden']);
  });

  it('a security key: registered and named, then the second factor after the password (AAL3, phishing-resistant)', async () => {
    await allowKeys(t, tokenOf(admin), 'acme');
    const key = new SoftAuthenticator({ userVerification: false, transports: ['usb', 'nfc'] });
    const reg = await registerKey(t, tokenOf('kim@acme.test'), key, { label: 'YubiKey 5 NFC' });
    expect(reg.res.statusCode, reg.res.body).toBe(200);
    expect(reg.body).toMatchObject({ label: 'YubiKey 5 NFC', deviceType: 'singleDevice' });
    expect(reg.body.recoveryCodes).toHaveLength(10);
    expect(reg.options.excludeCredentials).toEqual([]);
    const factors = json(await api(t.app).get('/v1/me/factors', { token: tokenOf('kim@acme.test') })).factors;
    expect(factors.find((f: { kind: string }) => f.kind === 'webauthn')).toMatchObject({ label: 'YubiKey 5 NFC', key: { deviceType: 'singleDevice', userVerified: false, flags: [] } });

    const flow = await atSecondFactor(t.app, 'acme', 'kim@acme.test');
    const view = json(await api(t.app).get(`/v1/auth/flows/${flow.id}`, { flow: flow.token }));
    expect(view.flow.options.map((o: { method: string }) => o.method)).toContain('webauthn');
    const options = await keyOptions(t, flow);
    expect(options.allowCredentials.map((c) => c.id)).toEqual(key.credentialIds);
    expect(options.userVerification).toBe('preferred');
    const done = await answerKey(t, flow, await key.assert(options, { origin: ORIGIN }));
    expect(done.statusCode, done.body).toBe(200);
    expect(json(done).flow.state).toBe('completed');
    const me = json(await api(t.app).get('/v1/me', { token: json(done).session.token }));
    expect(me.session).toMatchObject({ aal: 3, methods: ['pwd', 'webauthn'] });
    // a second key: the first is excluded from its options, so one key is not bound twice
    const again = await api(t.app).post('/v1/me/factors/webauthn', { token: tokenOf('kim@acme.test'), body: { kind: 'security_key' } });
    expect(json(again).options.excludeCredentials.map((c: { id: string }) => c.id)).toEqual(key.credentialIds);
  });

  it('a passkey signs in alone: no password, the key names the user (device-bound: AAL3)', async () => {
    const passkey = new SoftAuthenticator({ userVerification: true, attachment: 'platform', transports: ['internal'] });
    const reg = await registerKey(t, tokenOf('lea@acme.test'), passkey, { kind: 'passkey' });
    expect(reg.res.statusCode, reg.res.body).toBe(200);
    expect(reg.options.authenticatorSelection).toMatchObject({ residentKey: 'required', userVerification: 'required' });
    const { flow, options } = await startPasskey(t, 'acme');
    expect(options.allowCredentials).toEqual([]);
    const done = await answerKey(t, flow, await passkey.assert(options, { origin: ORIGIN }));
    expect(done.statusCode, done.body).toBe(200);
    const me = json(await api(t.app).get('/v1/me', { token: json(done).session.token }));
    expect(me).toMatchObject({ email: 'lea@acme.test', session: { aal: 3, methods: ['webauthn_uv'] } });
  });

  it('a synced passkey signs in at AAL2 (never AAL3)', async () => {
    const synced = new SoftAuthenticator({ userVerification: true, backupEligible: true, backupState: true, attachment: 'platform', transports: ['internal', 'hybrid'] });
    const reg = await registerKey(t, tokenOf('max@acme.test'), synced, { kind: 'passkey' });
    expect(reg.body.deviceType).toBe('multiDevice');
    const { flow, options } = await startPasskey(t, 'acme');
    const done = await answerKey(t, flow, await synced.assert(options, { origin: ORIGIN }));
    expect(done.statusCode, done.body).toBe(200);
    const me = json(await api(t.app).get('/v1/me', { token: json(done).session.token }));
    expect(me.session).toMatchObject({ aal: 2, methods: ['webauthn_synced_uv'] });
  });

  it('passwordless needs user verification: a key that did not verify its user is refused', async () => {
    const key = new SoftAuthenticator({ userVerification: false });
    const tom = (await seed(t, { tenant: 'acme2', users: [{ email: 'tom@acme2.test', roles: ['tenant_admin'] }] })).users['tom@acme2.test']!.token!;
    await allowKeys(t, tom, 'acme2');
    expect((await registerKey(t, tom, key)).res.statusCode).toBe(200);
    const { flow, options } = await startPasskey(t, 'acme2');
    const r = await answerKey(t, flow, await key.assert(options, { origin: ORIGIN }));
    expect([r.statusCode, json(r).code, json(r).details.reason]).toEqual([401, 'invalid_factor', 'uv_required']);
  });

  it('a tenant can switch passwordless off; keys still serve as the second factor', async () => {
    await allowKeys(t, tokenOf(admin), 'acme', { passwordless: false });
    const passkey = new SoftAuthenticator({ userVerification: true, attachment: 'platform' });
    expect((await registerKey(t, tokenOf('lea@acme.test'), passkey, { kind: 'passkey' })).res.statusCode).toBe(200);
    const { flow, options } = await startPasskey(t, 'acme');
    const r = await answerKey(t, flow, await passkey.assert(options, { origin: ORIGIN }));
    expect([r.statusCode, json(r).details.reason]).toEqual([400, 'passwordless_off']);
    const second = await atSecondFactor(t.app, 'acme', 'lea@acme.test', STRONG);
    const ok = await answerKey(t, second, await passkey.assert(await keyOptions(t, second), { origin: ORIGIN, credentialId: passkey.credentialIds[0]! }));
    expect(ok.statusCode, ok.body).toBe(200);
    await allowKeys(t, tokenOf(admin), 'acme', { passwordless: true });
  });
});
