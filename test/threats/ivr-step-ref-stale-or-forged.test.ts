/**
 * Threat: the IVR step API's `ref` (the step a prompt asked for, sent back with the digits so the step
 * needs no read of the flow first) used to make the server take a step the stored flow does not ask
 * for: a stale ref replayed after the flow moved on, an edited ref, another verification's ref, or a
 * ref naming a contact the menu does not offer. Each must be harmless: an unsigned or foreign ref is
 * ignored (the step is decided from the stored flow, as without a ref); a signed ref the flow no
 * longer matches is refused unchecked (nothing counted, nothing sent) and the current prompt is said.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealRef } from '../../src/flows/ivr-ref.js';
import { api, json, testApp, type TestApp } from '../helpers/app.js';
import { callerFixture } from '../helpers/callers.js';

const count = (r: { headers: Record<string, unknown> }) => Number(r.headers['x-sql-statements']);

describe('IVR step refs: stale, edited, foreign or forged', () => {
  let t: TestApp;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  let key: string;
  let calls = 0;
  beforeAll(async () => {
    t = await testApp();
    f = await callerFixture(t);
    key = json(await api(t.app).post('/v1/tenants/acme/api-keys', { token: f.admin, body: { name: 'IVR', scopes: ['ivr'] } })).key;
  });
  afterAll(() => t.close());

  const ivr = (method: 'GET' | 'POST', url: string, body?: object) => t.app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(body ? { payload: body } : {}) });
  const start = async () => {
    t.clock.advance(120_000); // past the resend cooldown and the PIN back-off of earlier calls
    const r = await ivr('POST', '/v1/ivr/verifications', { callerAni: '+14155550134', interactionId: `call-ref-${calls++}`, attestation: 'A' });
    expect(r.statusCode, r.body).toBe(201);
    return { id: json(r).verification.id as string, ref: json(r).prompt.ref as string };
  };
  const digits = (id: string, d: string, ref?: string) => ivr('POST', `/v1/ivr/verifications/${id}/digits`, { digits: d, ...(ref ? { ref } : {}) });
  const outbox = async () => Number((await t.s.store.db.selectFrom('outbox').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const attemptsLeft = async (id: string) => json(await ivr('GET', `/v1/ivr/verifications/${id}/prompt`)).attemptsLeft as number;

  it('a stale ref (the PIN prompt, after the PIN was accepted) is refused unchecked, and the current prompt is said', async () => {
    const v = await start();
    const pin = await digits(v.id, '480613#', v.ref);
    expect(json(pin)).toMatchObject({ accepted: true, step: 'choice' });
    const before = { left: await attemptsLeft(v.id), sent: await outbox() };
    // the old ref says "PIN": keying a PIN again must not be checked, nor "1" taken as a menu choice
    const replay = await digits(v.id, '480613#', v.ref);
    expect(replay.statusCode, replay.body).toBe(200);
    expect(json(replay)).toMatchObject({ accepted: false, step: 'choice', completedMethods: ['pin'] });
    expect(json(replay).ref).toEqual(expect.any(String));
    expect(count(replay)).toBe(3); // the key, the claim (refused by the ref's check), the release
    expect({ left: await attemptsLeft(v.id), sent: await outbox() }).toEqual(before);
    // the current prompt's ref works
    const chosen = await digits(v.id, '1', json(replay).ref);
    expect(json(chosen)).toMatchObject({ accepted: true, step: 'code', sent: { channel: 'sms' } });
    expect(await outbox()).toBe(before.sent + 1);
  });

  it('an edited ref, or another verification\'s, is ignored: the step is decided from the stored flow', async () => {
    const v = await start();
    const other = await start();
    const [body, mac] = v.ref.split('.');
    const edited = `${Buffer.from(JSON.stringify({ id: v.id, step: 'code', target: { channel: 'sms', contactId: f.phoneId } })).toString('base64url')}.${mac}`;
    expect(body).not.toBe(edited.split('.')[0]);
    const wrong = await digits(v.id, '111111#', edited);
    // taken as the PIN the stored flow asks for (a wrong one), with the read a ref would have saved
    expect(json(wrong)).toMatchObject({ accepted: false, step: 'pin', notice: 'That PIN is not correct.' });
    expect(count(wrong)).toBe(4);
    const foreign = await digits(v.id, '480613#', other.ref);
    expect(json(foreign)).toMatchObject({ accepted: true, step: 'choice', completedMethods: ['pin'] });
    expect(count(foreign)).toBe(4);
    expect(json(await ivr('GET', `/v1/ivr/verifications/${other.id}/prompt`))).toMatchObject({ step: 'pin', completedMethods: [] });
  });

  it('a signed ref giving a digit another meaning than the menu does, or naming a contact it does not offer, sends nothing', async () => {
    const v = await start();
    const pin = await digits(v.id, '480613#', v.ref);
    expect(json(pin)).toMatchObject({ step: 'choice' });
    const sent = await outbox();
    // as if the server had offered something else (refs signed with the server's own key): "1" as an
    // email (the menu's 1 is a text message), and "1" to a contact that is not on file
    for (const option of [{ digit: '1', channel: 'email' as const, contactId: f.emailId }, { digit: '1', channel: 'sms' as const, contactId: randomUUID() }]) {
      const forged = sealRef(t.s.aead, { id: v.id, step: 'choice', options: [option] });
      const r = await digits(v.id, '1', forged);
      expect(json(r)).toMatchObject({ accepted: false, step: 'choice' });
      expect(await outbox()).toBe(sent);
    }
  });
});
