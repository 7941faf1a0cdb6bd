/**
 * The IVR step API and tenant API keys: keys are created (shown once, stored hashed), listed without
 * secrets and revoked; a wrong or revoked key, or a staff session, gets 401; tenant B's key cannot
 * touch tenant A's customers (404); a full IVR run (PIN, then an SMS code) verifies the caller, the
 * code never appears in an answer, and the agent sees the result on the same interaction.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, json, seed, testApp, type TestApp } from '../helpers/app.js';
import { callerFixture, lastCodeTo } from '../helpers/callers.js';

describe('IVR step API with tenant API keys', () => {
  let t: TestApp;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  let key: string;
  const bodies: string[] = [];
  const ivr = async (method: 'GET' | 'POST', url: string, k: string | undefined, body?: object) => {
    const r = await t.app.inject({ method, url, headers: k ? { authorization: `Bearer ${k}` } : {}, ...(body ? { payload: body } : {}) });
    bodies.push(r.body);
    return r;
  };
  const newKey = async (tenant: string, token: string, name = 'IVR') => {
    const r = await api(t.app).post(`/v1/tenants/${tenant}/api-keys`, { token, body: { name, scopes: ['ivr'] } });
    expect(r.statusCode, r.body).toBe(201);
    return json(r) as { key: string; apiKey: { id: string; prefix: string } };
  };

  beforeAll(async () => {
    t = await testApp();
    f = await callerFixture(t);
    key = (await newKey('acme', f.admin)).key;
  });
  afterAll(() => t.close());

  it('an administrator creates, lists and revokes keys; the key is shown once and stored hashed', async () => {
    const created = await newKey('acme', f.admin, 'Lobby IVR');
    expect(created.key).toMatch(/^cwk_[0-9a-f]{8}_[\w-]{43}$/);
    expect(created.apiKey).toMatchObject({ name: 'Lobby IVR', prefix: created.key.slice(0, 12), scopes: ['ivr'], revokedAt: null });
    const list = await api(t.app).get('/v1/tenants/acme/api-keys', { token: f.admin });
    expect(list.statusCode).toBe(200);
    expect(json(list).apiKeys.map((k: { id: string }) => k.id)).toContain(created.apiKey.id);
    expect(list.body).not.toContain(created.key.slice(13));
    const row = await t.s.store.db.selectFrom('api_keys').selectAll().where('id', '=', created.apiKey.id).executeTakeFirstOrThrow();
    expect(Buffer.from(row.key_hash).equals(createHash('sha256').update(created.key).digest())).toBe(true);
    const events = await t.s.store.db.selectFrom('audit_events').selectAll().where('type', 'in', ['api_key.created', 'api_key.revoked']).execute();
    expect(events.length).toBeGreaterThan(0);
    expect(JSON.stringify(events)).not.toContain(created.key.slice(13));
    // agents do not manage keys
    expect((await api(t.app).get('/v1/tenants/acme/api-keys', { token: f.agent })).statusCode).toBe(403);
    expect((await api(t.app).post('/v1/tenants/acme/api-keys', { token: f.agent, body: { name: 'x', scopes: ['ivr'] } })).statusCode).toBe(403);
    // revoke: the key stops working at once; a second revoke is a conflict
    const start = (k: string) => ivr('POST', '/v1/ivr/verifications', k, { customerId: f.customerId, interactionId: 'call-revoke' });
    expect((await start(created.key)).statusCode).toBe(201);
    const revoked = await api(t.app).post(`/v1/tenants/acme/api-keys/${created.apiKey.id}/revoke`, { token: f.admin });
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect(json(revoked).revokedAt).toEqual(expect.any(String));
    expect((await start(created.key)).statusCode).toBe(401);
    expect((await api(t.app).post(`/v1/tenants/acme/api-keys/${created.apiKey.id}/revoke`, { token: f.admin })).statusCode).toBe(409);
    expect(json(await api(t.app).get('/v1/tenants/acme/api-keys', { token: f.admin })).apiKeys.find((k: { id: string }) => k.id === created.apiKey.id).lastUsedAt).toEqual(expect.any(String));
  });

  it('no key, a wrong key or a staff session gets 401', async () => {
    const url = '/v1/ivr/verifications';
    const body = { customerId: f.customerId, interactionId: 'call-401' };
    expect((await ivr('POST', url, undefined, body)).statusCode).toBe(401);
    expect((await ivr('POST', url, 'cwk_deadbeef_nottherealsecretnottherealsecretnotthereal', body)).statusCode).toBe(401);
    expect((await ivr('POST', url, key.slice(0, -2) + 'xx', body)).statusCode).toBe(401);
    const session = await ivr('POST', url, f.admin, body);
    expect(session.statusCode).toBe(401);
    expect(json(session).code).toBe('unauthenticated');
    const cookie = await t.app.inject({ method: 'POST', url, headers: { cookie: `cw_session=${f.agent}` }, payload: body });
    expect(cookie.statusCode).toBe(401);
    // and a key opens no staff route
    expect((await api(t.app).get('/v1/tenants/acme/customers', { token: key })).statusCode).toBe(401);
  });

  it("tenant B's key cannot touch tenant A's customers or verifications (404)", async () => {
    const a = await ivr('POST', '/v1/ivr/verifications', key, { customerId: f.customerId, interactionId: 'call-a' });
    expect(a.statusCode).toBe(201);
    const vid = json(a).verification.id as string;
    const b = await seed(t, { tenant: 'globex', users: [{ email: 'admin@globex.test', roles: ['tenant_admin'] }] });
    const bKey = (await newKey('globex', b.users['admin@globex.test']!.token!)).key;
    for (const lookup of [{ customerId: f.customerId }, { externalId: 'CRM-7' }, { callerAni: '+14155550134' }]) {
      expect((await ivr('POST', '/v1/ivr/verifications', bKey, { ...lookup, interactionId: 'steal' })).statusCode).toBe(404);
    }
    expect((await ivr('GET', `/v1/ivr/verifications/${vid}/prompt`, bKey)).statusCode).toBe(404);
    expect((await ivr('POST', `/v1/ivr/verifications/${vid}/digits`, bKey, { digits: '480613#' })).statusCode).toBe(404);
    expect((await ivr('GET', `/v1/ivr/verifications/${vid}/prompt`, key)).statusCode).toBe(200);
  });

  it('a full IVR run: PIN, then an SMS code -> verified; the agent sees it on the interaction', async () => {
    const started = await ivr('POST', '/v1/ivr/verifications', key, { callerAni: '+14155550134', interactionId: 'call-ivr-1', attestation: 'A' });
    expect(started.statusCode, started.body).toBe(201);
    const { verification: v, prompt } = json(started);
    expect(v).toMatchObject({ channel: 'ivr', state: 'pending', customerId: f.customerId, risk: { level: 'low' } });
    expect(prompt).toMatchObject({ step: 'pin', expect: 'pin', finishOnKey: '#', done: false });
    const digits = (d: string) => ivr('POST', `/v1/ivr/verifications/${v.id}/digits`, key, { digits: d });

    const wrong = json(await digits('111111#'));
    expect(wrong).toMatchObject({ accepted: false, notice: 'That PIN is not correct.', step: 'pin' });
    const pin = json(await digits('480613#'));
    expect(pin).toMatchObject({ accepted: true, step: 'choice', expect: 'choice', completedMethods: ['pin'] });
    expect(pin.options.map((o: { digit: string }) => o.digit)).toEqual(['1', '2', '3']);
    expect(pin.prompt).toContain('ending in 0 1 3 4');
    const chosen = json(await digits('1'));
    expect(chosen).toMatchObject({ accepted: true, step: 'code', expect: 'code', sent: { channel: 'sms', destination: expect.stringContaining('0134') } });
    expect(json(await ivr('GET', `/v1/ivr/verifications/${v.id}/prompt`, key))).toMatchObject({ step: 'code' });
    const code = await lastCodeTo(t, '+14155550134');
    const done = json(await digits(`${code}#`));
    expect(done).toMatchObject({ accepted: true, done: true, result: 'verified', state: 'verified', completedMethods: ['pin', 'otp_sms'], assertion: expect.any(String) });
    expect(json(await ivr('GET', `/v1/ivr/verifications/${v.id}/prompt`, key))).toMatchObject({ done: true, result: 'verified', expect: 'none' });
    for (const body of bodies) expect(body).not.toContain(code);

    const seen = await api(t.app).get('/v1/tenants/acme/interactions/call-ivr-1/verification', { token: f.agent });
    expect(seen.statusCode).toBe(200);
    expect(json(seen)).toMatchObject({ id: v.id, channel: 'ivr', state: 'verified', completedMethods: ['pin', 'otp_sms'] });
    const started_by = await t.s.store.db.selectFrom('audit_events').select(['actor_type', 'actor_id']).where('type', '=', 'verification.started').where('target_id', '=', v.id).executeTakeFirstOrThrow();
    expect(started_by.actor_type).toBe('api_key');
  });

  it('after two wrong PINs the script offers a code; star asks for a new one after the cooldown', async () => {
    t.clock.advance(61_000);
    const v = json(await ivr('POST', '/v1/ivr/verifications', key, { externalId: 'CRM-7', interactionId: 'call-ivr-2' })).verification;
    const digits = async (d: string) => json(await ivr('POST', `/v1/ivr/verifications/${v.id}/digits`, key, { digits: d }));
    expect((await digits('000001#')).step).toBe('pin');
    expect(await digits('000002#')).toMatchObject({ step: 'choice', attemptsLeft: 3 });
    expect((await digits('9')).notice).toBe('That is not one of the choices.');
    expect(await digits('2')).toMatchObject({ step: 'code', sent: { channel: 'voice' } });
    expect(await digits('*')).toMatchObject({ accepted: false, notice: 'Please wait a moment before asking for a new code.', step: 'code' });
    t.clock.advance(61_000);
    expect(await digits('*#')).toMatchObject({ accepted: true, sent: { channel: 'voice' }, step: 'code' });
    const [call] = await t.s.store.outbox.list({ recipient: '+14155550134', limit: 1 });
    const code = /code is ([\d ]+)\./.exec(call!.body)![1]!.replace(/ /g, '');
    expect(await digits(code)).toMatchObject({ result: 'verified', completedMethods: ['otp_voice'] });
  });
});
