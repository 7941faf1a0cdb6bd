/**
 * Threat: the losers of a race of one right code locking the real user out.
 * Found by outside testing (2026-12-01): 50 parallel submissions of one valid TOTP code gave one
 * session, and the 49 losers were counted as failures, so the real user's next sign-in was refused
 * with 429 for 271 s. A client that retries, a double click, a proxy that replays: the right code
 * sent many times at once is not a guessing attack.
 *
 * 50 submissions of one valid code at once (one connection each, last-byte sync): exactly 1 wins; the
 * 49 losers are answered as replays (the code is spent) or refused (throttled while the others are in
 * flight, or the flow already over), and none of them is a checked wrong answer: the method's counter
 * has 0 failures afterwards, no audit event says a wrong code was checked, and the real user signs in
 * again at once on a new flow (the authenticator's next code, no clock moved, no 429). The same for 50
 * parallel checks of one caller code: exactly one verified, the counter at 0, the flow's risk without
 * failed attempts, and the next verification of the customer passes at once.
 *
 * Fails when: a replay (a guard failure when the success is recorded) or a throttled refusal is
 * counted as a failure; a loser's attempt is not given back to the flow.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invitationToken, STRONG } from '../helpers/app.js';
import { callerFixture, lastCodeTo } from '../helpers/callers.js';
import { auditEvents, raceBackends, withTotp } from '../helpers/flows.js';
import { Attacker, tally, totpCode, type FlowHandle, type Reply } from './attacker.js';
import { startTarget, type Target } from './server.js';

describe.each(await raceBackends())('a race of one right code locks nobody out (%s)', (backend) => {
  let t: Target;
  let x: Attacker;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  let samId = '';
  let samSecret = '';

  beforeAll(async () => {
    t = await startTarget({ backend });
    x = new Attacker(t.url);
    f = await callerFixture(t);
    const inv = await x.post('/v1/tenants/acme/users', { token: f.admin, body: { email: 'sam@acme.test', roles: ['agent'] } });
    expect(inv.status, inv.text).toBe(201);
    samId = inv.json.id;
    expect((await x.post('/v1/invitations/accept', { body: { token: await invitationToken(t.s, 'sam@acme.test'), password: STRONG } })).status).toBe(200);
    samSecret = (await withTotp(t, await x.signIn('acme', 'sam@acme.test', STRONG))).secret;
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  const failures = async (subject: string) =>
    Number((await t.s.store.db.selectFrom('attempt_counters').select('failures').where('subject', '=', subject).executeTakeFirst())?.failures ?? 0);
  const wrongChecked = async (type: string) =>
    (await auditEvents(t, f.tenantId, { type, outcome: 'failure' })).filter((e) => /^wrong/.test(String((e.data as { reason?: unknown }).reason))).length;
  const losersOf = (replies: Reply[], allowed: RegExp) => {
    const c = tally(replies);
    expect(c['200 ok'], JSON.stringify(c)).toBe(1);
    const losers = replies.filter((r) => r.status !== 200);
    expect(losers).toHaveLength(49); // all accounted for (an empty list would pass .every)
    for (const r of losers) expect(`${r.status} ${r.code} ${r.json?.details?.reason}`, r.text).toMatch(allowed);
    return c;
  };

  it('50 parallel submissions of one valid TOTP code: 1 session, 49 replays or refusals, no failure, the user signs in at once', async () => {
    // the flows one after the other (parallel right passwords would be checks in flight on the password's counter)
    const flows: FlowHandle[] = [];
    for (let i = 0; i < 50; i++) flows.push(await x.pastPassword('acme', 'sam@acme.test', STRONG));
    const eventsBefore = await wrongChecked('auth.attempt');
    const code = totpCode(samSecret, t.clock.now());
    const replies = await x.lastByteSync(flows.map((fl) => ({ method: 'POST', path: `/v1/auth/flows/${fl.id}/factor`, o: { flow: fl.token, body: { method: 'totp', code } } })));
    expect(replies.filter((r) => r.status === 200).map((r) => typeof r.json.session?.token), JSON.stringify(tally(replies))).toEqual(['string']);
    expect(await failures(`f:${samId}:totp`), 'failures after the race').toBe(0);
    expect(await wrongChecked('auth.attempt')).toBe(eventsBefore);
    losersOf(replies, /^(401 invalid_factor code_used|429 too_many_attempts throttled)$/);

    // the real user, right away, on a new flow, with the authenticator's next code (the clock not moved)
    const next = await x.pastPassword('acme', 'sam@acme.test', STRONG);
    const again = await x.factor(next, 'totp', totpCode(samSecret, new Date(t.clock.now().getTime() + 30_000)));
    expect(again.status, again.text).toBe(200);
    expect(again.json.session.token).toEqual(expect.any(String));
  });

  it('50 parallel checks of one caller code: exactly one verified, no failed attempt, the next verification at once', async () => {
    const v = (vid: string) => `/v1/tenants/acme/verifications/${vid}`;
    const start = async (interactionId: string) => {
      const r = await x.post('/v1/tenants/acme/verifications', { token: f.agent, body: { customerId: f.customerId, interactionId } });
      expect(r.status, r.text).toBe(201);
      const sent = await x.post(`${v(r.json.id)}/codes`, { token: f.agent, body: { contactId: f.emailId, channel: 'email' } });
      expect(sent.status, sent.text).toBe(200);
      return { vid: r.json.id as string, code: await lastCodeTo(t, 'dana@example.com'), attempts: r.json.attemptsLeft as number };
    };
    const a = await start('right-code-race');
    const eventsBefore = await wrongChecked('verification.step');
    const replies = await x.lastByteSync(Array.from({ length: 50 }, () => ({ method: 'POST', path: `${v(a.vid)}/codes/check`, o: { token: f.agent, body: { code: a.code } } })));
    losersOf(replies, /^(401 invalid_factor code_used|409 flow_state \S+|429 too_many_attempts throttled|429 flow_failed flow_budget_spent)$/);
    expect(replies.find((r) => r.status === 200)!.json.state).toBe('verified');
    expect(await failures(`c:${f.customerId}:otp`), 'failures after the race').toBe(0);
    expect(await wrongChecked('verification.step')).toBe(eventsBefore);

    const after = await x.get(v(a.vid), { token: f.agent });
    expect(after.json.state).toBe('verified');
    expect(after.json.attemptsLeft).toBe(a.attempts);
    expect(after.json.risk.signals.map((s: { signal: string }) => s.signal)).not.toContain('failed_attempts');

    const b = await start('right-code-race-next');
    const ok = await x.post(`${v(b.vid)}/codes/check`, { token: f.agent, body: { code: b.code } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json.state).toBe('verified');
  });
});
