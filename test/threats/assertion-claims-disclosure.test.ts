/**
 * Threat (found testing the running system from outside): `POST /v1/assertions/check` handed the
 * claims of any assertion to anyone. An assertion that leaks (a CRM log, a browser extension, a
 * copied support ticket) told an unauthenticated stranger the customer id, the CRM id, the call id,
 * the methods used and the tenant; and the endpoint could not say whether the assertion was for the
 * call the CRM has on screen, so a CRM that trusted "valid: true" accepted a verification of another
 * call.
 *
 * Over real HTTP: without credentials the answer is only `valid` (and `reason` when not valid);
 * the claims go to a session of the signing tenant holding verifications.read, or to an API key of
 * that tenant, and not to another tenant's session or key; an `interactionId` that is not the
 * assertion's makes it not valid with reason `interaction_mismatch`, for everyone; a credential
 * that is not valid answers 401.
 *
 * Fails when: the route returns checkAssertion's claims without looking at the caller, or ignores
 * `interactionId` (src/http/routes/verifications.ts, src/services/assertions.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callerFixture, lastCodeTo } from '../helpers/callers.js';
import { Attacker } from './attacker.js';
import { startTarget, type Target } from './server.js';

describe('assertion check discloses claims only to the signing tenant', () => {
  let t: Target;
  let x: Attacker;
  let acme: Awaited<ReturnType<typeof callerFixture>>;
  let globex: Awaited<ReturnType<typeof callerFixture>>;
  let assertion: string;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTarget();
    x = new Attacker(t.url);
    acme = await callerFixture(t);
    globex = await callerFixture(t, { tenant: 'globex' });
    for (const [slug, f] of [['acme', acme], ['globex', globex]] as const) {
      const k = await x.post(`/v1/tenants/${slug}/api-keys`, { token: f.admin, body: { name: 'CRM', scopes: ['ivr'] } });
      expect(k.status, k.text).toBe(201);
      keys[slug] = k.json.key as string;
    }
    const v = await x.post('/v1/tenants/acme/verifications', { token: acme.agent, body: { customerId: acme.customerId, interactionId: 'call-claims-1' } });
    expect(v.status, v.text).toBe(201);
    const sent = await x.post(`/v1/tenants/acme/verifications/${v.json.id}/codes`, { token: acme.agent, body: { contactId: acme.phoneId, channel: 'sms' } });
    expect(sent.status, sent.text).toBe(200);
    const ok = await x.post(`/v1/tenants/acme/verifications/${v.json.id}/codes/check`, { token: acme.agent, body: { code: await lastCodeTo(t, '+14155550134') } });
    expect(ok.status, ok.text).toBe(200);
    assertion = ok.json.assertion as string;
    expect(assertion).toEqual(expect.any(String));
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  const check = (o: { token?: string; interactionId?: string } = {}) =>
    x.post('/v1/assertions/check', { ...(o.token ? { token: o.token } : {}), body: { assertion, ...(o.interactionId ? { interactionId: o.interactionId } : {}) } });

  it('an unauthenticated caller learns only whether it is valid', async () => {
    const r = await check();
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({ valid: true });
    for (const leak of [acme.customerId, acme.tenantId, 'CRM-7', 'call-claims-1', 'otp_sms']) expect(r.text).not.toContain(leak);
    const forged = await x.post('/v1/assertions/check', { body: { assertion: assertion.slice(0, -4) + (assertion.endsWith('AAAA') ? 'BBBB' : 'AAAA') } });
    expect(forged.json).toMatchObject({ valid: false, reason: expect.any(String) });
    expect(forged.json.claims).toBeUndefined();
  });

  it("the signing tenant's agent session and API key get the claims", async () => {
    for (const token of [acme.agent, keys.acme!]) {
      const r = await check({ token });
      expect(r.status, r.text).toBe(200);
      expect(r.json).toMatchObject({ valid: true, claims: { sub: acme.customerId, tid: acme.tenantId, cid: 'CRM-7', interaction_id: 'call-claims-1', amr: ['otp_sms'] } });
    }
    const lower = await x.post('/v1/assertions/check', { headers: { authorization: `bearer ${acme.agent}` }, body: { assertion } });
    expect(lower.json.claims?.sub).toBe(acme.customerId);
  });

  it("another tenant's session or key does not", async () => {
    for (const token of [globex.agent, globex.admin, keys.globex!]) {
      const r = await check({ token });
      expect(r.status, r.text).toBe(200);
      expect(r.json).toEqual({ valid: true });
    }
  });

  it('the interaction the CRM expects is checked, for everyone', async () => {
    expect((await check({ interactionId: 'call-claims-1' })).json).toEqual({ valid: true });
    expect((await check({ token: acme.agent, interactionId: 'call-claims-1' })).json).toMatchObject({ valid: true, claims: { interaction_id: 'call-claims-1' } });
    for (const token of [undefined, acme.agent, keys.acme!]) {
      const r = await check({ token, interactionId: 'call-other-2' });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ valid: false, reason: 'interaction_mismatch' });
    }
  });

  it('a credential that is not valid is refused, not treated as anonymous', async () => {
    for (const token of ['not-a-session-token-0000000000', 'cwk_00000000_notakey']) {
      const r = await check({ token });
      expect(r.status).toBe(401);
      expect(r.code).toBe('unauthenticated');
    }
  });
});
