/**
 * Threat: SMS pumping (toll fraud): an attacker makes the service send as many texts or calls as it
 * can, ideally to numbers whose termination fees the attacker collects.
 * Requirement: "Throttle sends per account, per destination, per IP and per tenant (SMS pumping)";
 * Twilio Verify's 5 sends per destination per 10 minutes; ServiceNow's 10 per agent and 100 per
 * tenant a minute.
 *
 * Callwarden never sends to a number taken from a request: a code goes to an on-file contact chosen
 * by id (and the IVR, found by the caller's number, only to numbers on file). So the attacker, an
 * insider or a stolen agent session or IVR key, pumps what is on file, over HTTP:
 *  - one number, through many verifications, agents, the IVR and other customers sharing that number
 *    (spelled differently when it was entered): 5 sends in 10 minutes, then 429 destination_limit;
 *  - one agent, many customers: 10 sends a minute, then 429 agent_limit and an alert in the audit log;
 *  - the IVR key (no per-agent limit: it serves every call), many customers: the tenant's cap a minute
 *    (100 by default; 20 set for the test), then 429 tenant_limit and an alert;
 *  - one verification: a resend only after 60 s, by the agent or by "star" on the IVR keypad;
 *  - the IVR with numbers that are not on file, and the Twilio webhook without its signature: nothing sent.
 * Every refused send leaves no message in the outbox. A premium-rate number on file is bound by the
 * same caps. There is no country allow-list or premium-rate block (a gap, see docs/threats.md): the
 * test pins that the caps hold for such a number, and keeps passing if a block is added.
 *
 * Fails when: the destination key is the contact id or the raw input (a shared or re-spelled number
 * gets a fresh budget); a limit is checked after the message is queued; the IVR skips the per-tenant
 * limit; a refused send still writes to the outbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invitationToken, STRONG } from '../helpers/app.js';
import { callerFixture } from '../helpers/callers.js';
import { Attacker, type Reply } from './attacker.js';
import { startTarget, type Target } from './server.js';

describe('SMS pumping', () => {
  let t: Target;
  let x: Attacker;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  let apiKey: string;
  let admin: string;
  let interactions = 0;

  beforeAll(async () => {
    t = await startTarget();
    x = new Attacker(t.url);
    f = await callerFixture(t);
    admin = f.admin;
    apiKey = (await x.post('/v1/tenants/acme/api-keys', { token: admin, body: { name: 'ivr', scopes: ['ivr'] } })).json.key;
    for (const email of ['amy@acme.test', 'bea@acme.test']) {
      expect((await x.post('/v1/tenants/acme/users', { token: admin, body: { email, roles: ['agent'] } })).status).toBe(201);
      expect((await x.post('/v1/invitations/accept', { body: { token: await invitationToken(t.s, email), password: STRONG } })).status).toBe(200);
    }
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  /** A customer with one phone (no PIN: the IVR offers the code menu at once). */
  async function customer(phone: string, name = 'Pumped') {
    const r = await x.post('/v1/tenants/acme/customers', { token: admin, body: { name, contacts: [{ kind: 'phone', value: phone }] } });
    return r;
  }
  /** An agent starts a verification and sends an SMS code to the customer's phone. */
  async function agentSend(agent: string, c: { id: string; contacts: Array<{ id: string }> }): Promise<Reply> {
    const v = await x.post('/v1/tenants/acme/verifications', { token: agent, body: { customerId: c.id, interactionId: `call-${++interactions}` } });
    expect(v.status, v.text).toBe(201);
    return x.post(`/v1/tenants/acme/verifications/${v.json.id}/codes`, { token: agent, body: { contactId: c.contacts[0]!.id, channel: 'sms' } });
  }
  /** The IVR answers a call for the customer and the caller presses 1 (a text message). */
  async function ivrSend(customerId: string): Promise<Reply> {
    const v = await x.post('/v1/ivr/verifications', { token: apiKey, body: { customerId, interactionId: `ivr-${++interactions}` } });
    expect(v.status, v.text).toBe(201);
    expect(v.json.prompt.step).toBe('choice');
    return x.post(`/v1/ivr/verifications/${v.json.verification.id}/digits`, { token: apiKey, body: { digits: '1' } });
  }
  const sentTo = async (phone: string) => ((await x.get(`/v1/tenants/acme/outbox?recipient=${encodeURIComponent(phone)}&limit=200`, { token: admin })).json.messages as unknown[]).length;
  const alerts = async () => ((await x.get('/v1/tenants/acme/audit?type=verification.send_limit_alert&limit=1000', { token: admin })).json.events as Array<{ data: { reason: string } }>).map((e) => e.data.reason);
  const refusedAs = (r: Reply) => `${r.status} ${r.json?.details?.reason ?? r.code}`;
  /**
   * The limits are fixed windows aligned on the clock (minutes, ten minutes): moves the server clock to
   * 1 s into the next ten-minute window, so that a test's sends all fall in one window.
   */
  const freshWindows = () => {
    const into = t.clock.now().getTime() % 600_000;
    t.clock.advance(600_000 - into + 1000);
  };

  it('one number: 5 sends in 10 minutes across agents, the IVR, and customers sharing it however it was typed', async () => {
    freshWindows();
    const phone = '+14155550150';
    const a = (await customer('+1 (415) 555-0150', 'First')).json;
    const b = (await customer('415.555.0150', 'Shares the number')).json;
    expect(b.contacts[0].value).toMatch(/0150$/);
    const amy = await x.signIn('acme', 'amy@acme.test', STRONG);
    const bea = await x.signIn('acme', 'bea@acme.test', STRONG);
    const results = [
      await agentSend(amy, a), await agentSend(bea, b), await agentSend(amy, b),
      await ivrSend(a.id), await agentSend(bea, a),
      await agentSend(amy, a), await agentSend(bea, b),
    ];
    expect(results.slice(0, 3).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(results[3]!.json).toMatchObject({ accepted: true, sent: { channel: 'sms' } });
    expect(results[4]!.status).toBe(200);
    expect(results.slice(5).map(refusedAs)).toEqual(['429 destination_limit', '429 destination_limit']);
    const ivrRefused = await ivrSend(b.id);
    expect(ivrRefused.json).toMatchObject({ accepted: false, notice: 'We cannot send a code right now.' });
    expect(await sentTo(phone)).toBe(5);
    // ten minutes later the number may get codes again
    t.clock.advance(10 * 60_000 + 1000);
    expect((await agentSend(amy, a)).status).toBe(200);
  });

  it('one agent: 10 sends a minute to different numbers, then refused with an alert', async () => {
    freshWindows();
    const amy = await x.signIn('acme', 'amy@acme.test', STRONG);
    const replies: Reply[] = [];
    for (let i = 0; i < 12; i++) replies.push(await agentSend(amy, (await customer(`+1415555${String(160 + i).padStart(4, '0')}`)).json));
    expect(replies.map((r) => r.status)).toEqual([...Array(10).fill(200), 429, 429]);
    expect(refusedAs(replies[10]!)).toBe('429 agent_limit');
    expect(await sentTo('+14155550170')).toBe(0);
    expect(await alerts()).toContain('agent_limit');
    // another agent is not affected
    const bea = await x.signIn('acme', 'bea@acme.test', STRONG);
    expect((await agentSend(bea, (await customer('+14155550190')).json)).status).toBe(200);
  });

  it("the IVR key (no per-agent limit): the tenant's sends a minute are capped, then refused with an alert", async () => {
    // the default cap is 100 a minute; this tenant sets 20 to keep the test short (the same code path)
    const policy = (await x.get('/v1/tenants/acme/policy', { token: admin })).json;
    expect(policy.policy.verification.limits.sendsPerTenantPerMinute).toBe(100);
    const set = (n: number, version: number) =>
      x.put('/v1/tenants/acme/policy', { token: admin, body: { version, policy: { ...policy.policy, verification: { ...policy.policy.verification, limits: { ...policy.policy.verification.limits, sendsPerTenantPerMinute: n } } } } });
    const saved = await set(20, policy.version);
    expect(saved.status, saved.text).toBe(200);
    try {
      // five customers imported at once, found by the IVR from their CRM ids (at most 5 sends each)
      const rows = Array.from({ length: 5 }, (_, i) => JSON.stringify({ externalId: `PUMP-${i}`, name: `Pumped ${i}`, phone: `+1415555${String(200 + i).padStart(4, '0')}` }));
      const imported = await x.post('/v1/tenants/acme/customers/import', { token: admin, body: { format: 'jsonl', data: rows.join('\n') } });
      expect(imported.json).toMatchObject({ created: 5, errors: [] });
      freshWindows(); // (the calls below take well under the 59 s left in the window)
      let sent = 0;
      let refused: Reply | undefined;
      for (let i = 0; i < 25 && !refused; i++) {
        const v = await x.post('/v1/ivr/verifications', { token: apiKey, body: { externalId: `PUMP-${i % 5}`, interactionId: `ivr-${++interactions}` } });
        expect(v.json.prompt?.step, v.text).toBe('choice');
        const r = await x.post(`/v1/ivr/verifications/${v.json.verification.id}/digits`, { token: apiKey, body: { digits: '1' } });
        if (r.json.accepted) sent++;
        else refused = r;
      }
      expect(sent).toBe(20);
      expect(refused!.json.notice).toBe('We cannot send a code right now.');
      expect(await alerts()).toContain('tenant_limit');
      // the agents are bound by the tenant's limit too
      const bea = await x.signIn('acme', 'bea@acme.test', STRONG);
      expect(refusedAs(await agentSend(bea, (await customer('+14155550230')).json))).toBe('429 tenant_limit');
    } finally {
      expect((await set(100, saved.json.version)).status).toBe(200);
    }
  });

  it('one verification: a resend only after 60 s, by the agent or from the keypad', async () => {
    freshWindows();
    const amy = await x.signIn('acme', 'amy@acme.test', STRONG);
    const c = (await customer('+14155550240')).json;
    const v = await x.post('/v1/tenants/acme/verifications', { token: amy, body: { customerId: c.id, interactionId: 'call-resend' } });
    const send = () => x.post(`/v1/tenants/acme/verifications/${v.json.id}/codes`, { token: amy, body: { contactId: c.contacts[0].id, channel: 'sms' } });
    expect((await send()).status).toBe(200);
    expect(refusedAs(await send())).toBe('429 resend_cooldown');
    const star = await x.post(`/v1/ivr/verifications/${v.json.id}/digits`, { token: apiKey, body: { digits: '*#' } });
    expect(star.json).toMatchObject({ accepted: false, notice: 'Please wait a moment before asking for a new code.' });
    expect(await sentTo('+14155550240')).toBe(1);
  });

  it('numbers not on file get nothing: an unknown caller, and the Twilio webhook without its signature', async () => {
    const unknown = await x.post('/v1/ivr/verifications', { token: apiKey, body: { callerAni: '+19005550123', interactionId: 'ivr-unknown' } });
    expect(unknown.status).toBe(404);
    const tw = await x.post('/v1/ivr/twilio/acme/voice', { raw: 'CallSid=CA1&From=%2B14155550134&Digits=1', contentType: 'application/x-www-form-urlencoded', headers: { 'x-twilio-signature': 'forged' } });
    expect(tw.status).toBe(403);
    expect(await sentTo('+19005550123')).toBe(0);
    // a body naming a destination is not a thing the API takes
    const amy = await x.signIn('acme', 'amy@acme.test', STRONG);
    const v = await x.post('/v1/tenants/acme/verifications', { token: amy, body: { customerId: f.customerId, interactionId: 'call-dest' } });
    const r = await x.post(`/v1/tenants/acme/verifications/${v.json.id}/codes`, { token: amy, body: { to: '+19005550123', channel: 'sms' } });
    expect(r.status).toBe(400);
  });

  it('a premium-rate number on file is bound by the same caps (no country or premium block exists yet)', async () => {
    freshWindows();
    const premium = '+449098790000'; // UK premium rate (09xx)
    const created = await customer(premium, 'Premium');
    if (created.status !== 201) {
      // a future block of premium numbers: refused when put on file, which is also fine
      expect(created.status).toBe(400);
      return;
    }
    const people = [created.json];
    for (let i = 0; i < 2; i++) people.push((await customer('+44 909 879 0000', `Premium ${i}`)).json);
    const amy = await x.signIn('acme', 'amy@acme.test', STRONG);
    const bea = await x.signIn('acme', 'bea@acme.test', STRONG);
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await agentSend(i % 2 ? amy : bea, people[i % 3])).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(await sentTo(premium)).toBe(5);
  });

  it('straddling a window boundary, one number gets at most twice its cap in a moment (fixed windows; see docs/threats.md)', async () => {
    const c = (await customer('+14155550250')).json;
    const into = t.clock.now().getTime() % 600_000;
    t.clock.advance(600_000 - into - 2000); // 2 s before a ten-minute boundary
    const amy = await x.signIn('acme', 'amy@acme.test', STRONG);
    const bea = await x.signIn('acme', 'bea@acme.test', STRONG);
    let sent = 0;
    for (let i = 0; i < 6; i++) if ((await agentSend(i % 2 ? amy : bea, c)).status === 200) sent++;
    t.clock.advance(3000); // the next window
    for (let i = 0; i < 6; i++) if ((await agentSend(i % 2 ? amy : bea, c)).status === 200) sent++;
    // today exactly 10 (5 in each window); a sliding window would allow 5: both pass
    expect(sent).toBeGreaterThanOrEqual(5);
    expect(sent).toBeLessThanOrEqual(10);
    expect(await sentTo('+14155550250')).toBe(sent);
  });
});
