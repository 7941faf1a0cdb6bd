/**
 * Threat: a burst of parallel guesses slipping past the back-off.
 * Found by outside testing (2026-12-01): after 5 failures, a burst of 25 parallel wrong codes had
 * 5-25 of them checked, because every request read the counter before any of them wrote it; at the
 * back-off's ceiling about 25 guesses got checked every 5 minutes instead of one.
 *
 * After 5 checked failures (each back-off waited out, so each was really checked), the attacker sends
 * 25 wrong answers at once, one TCP connection each, the last bytes back to back. Exactly one of them
 * may be checked per back-off interval: the method's `failures` in attempt_counters goes up by
 * exactly 1, exactly one new audit event says a wrong answer was checked (outcome failure, reason
 * wrong_*), and the 24 others are refused with 429 too_many_attempts, reason throttled, and count
 * nothing. Three rounds: right after the first interval, after the second (twice as long) and at the
 * ceiling (where the old code let the whole burst through). For a staff user's TOTP second factor,
 * for a caller's PIN, and for the password step (the counter of an email address).
 *
 * The tenant's back-off starts at 60 s (ceiling 120 s), so that the seconds the burst itself takes on
 * a busy machine never amount to a new interval; the waits are made with the server's clock.
 *
 * Fails when: attempts are judged from the count of checked failures alone (parallel requests all
 * see the same count and all pass); refused attempts are counted as failures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invitationToken, STRONG } from '../helpers/app.js';
import { callerFixture } from '../helpers/callers.js';
import { auditEvents, raceBackends, updatePolicy, withTotp } from '../helpers/flows.js';
import { Attacker, parallel, tally, wrongCode, type FlowHandle, type Reply } from './attacker.js';
import { startTarget, type Target } from './server.js';

const BASE_S = 60;
const MAX_S = 120;
/** The waits before each burst: the first interval (after 5 failures), the second (after 6), the ceiling (after 7). */
const WAITS_S = [BASE_S, 2 * BASE_S, MAX_S];

describe.each(await raceBackends())('the back-off holds under concurrency (%s)', (backend) => {
  let t: Target;
  let x: Attacker;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  let tomId = '';
  let tomSecret = '';

  beforeAll(async () => {
    t = await startTarget({ backend });
    x = new Attacker(t.url);
    f = await callerFixture(t);
    await updatePolicy(t, f.admin, 'acme', (p) => ({ ...p, lockout: { ...p.lockout, backoffAfter: 5, backoffBaseSeconds: BASE_S, backoffMaxSeconds: MAX_S } }));
    for (const email of ['tom@acme.test', 'pat@acme.test']) {
      const inv = await x.post('/v1/tenants/acme/users', { token: f.admin, body: { email, roles: ['agent'] } });
      expect(inv.status, inv.text).toBe(201);
      if (email === 'tom@acme.test') tomId = inv.json.id;
      expect((await x.post('/v1/invitations/accept', { body: { token: await invitationToken(t.s, email), password: STRONG } })).status).toBe(200);
    }
    tomSecret = (await withTotp(t, await x.signIn('acme', 'tom@acme.test', STRONG))).secret;
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  const failures = async (subject: string) =>
    Number((await t.s.store.db.selectFrom('attempt_counters').select('failures').where('subject', '=', subject).executeTakeFirst())?.failures ?? 0);
  /** Audit events saying a wrong answer was checked (outcome failure, reason wrong_*) of this event type. */
  const checkedWrong = async (type: string) =>
    (await auditEvents(t, f.tenantId, { type, outcome: 'failure' })).filter((e) => /^wrong/.test(String((e.data as { reason?: unknown }).reason))).length;

  /**
   * Five checked failures, each after its back-off, then per wait of WAITS_S: the wait, and a burst of 25
   * wrong answers (one connection each, last-byte sync) of which exactly one is checked.
   */
  async function attack(o: {
    subject: string;
    eventType: string;
    /** One wrong answer, sequentially (must be checked: the gate is open). */
    one: (i: number) => Promise<Reply>;
    /** The 25 requests of a burst (fresh flows where the kind needs them). */
    burst: (round: number) => Promise<Array<{ method: string; path: string; o: Record<string, unknown> }>>;
    wrongStatus: string;
  }) {
    for (let i = 0; i < 5; i++) {
      const r = await o.one(i);
      expect(`${r.status} ${r.code}`, `failure ${i + 1}: ${r.text}`).toBe(o.wrongStatus);
    }
    expect(await failures(o.subject)).toBe(5);
    for (const [round, wait] of WAITS_S.entries()) {
      t.clock.advance(wait * 1000 + 1000);
      const reqs = await o.burst(round);
      expect(reqs).toHaveLength(25);
      const failuresBefore = await failures(o.subject);
      const eventsBefore = await checkedWrong(o.eventType);
      const replies = await x.lastByteSync(reqs);
      const c = tally(replies);
      expect(c, `round ${round + 1}`).toEqual({ [o.wrongStatus]: 1, '429 too_many_attempts': 24 });
      const refused = replies.filter((r) => r.status === 429);
      expect(refused).toHaveLength(24);
      for (const r of refused) expect(r.json.details.reason, r.text).toBe('throttled');
      expect(await failures(o.subject), `round ${round + 1}: failures counted`).toBe(failuresBefore + 1);
      expect(await checkedWrong(o.eventType), `round ${round + 1}: wrong answers checked (audit)`).toBe(eventsBefore + 1);
    }
    expect(await failures(o.subject)).toBe(5 + WAITS_S.length);
  }

  it('TOTP second factor: one check per interval of 25 parallel wrong codes', async () => {
    const pastPassword = () => x.pastPassword('acme', 'tom@acme.test', STRONG);
    const factorReq = (fl: FlowHandle, code: string) => ({ method: 'POST', path: `/v1/auth/flows/${fl.id}/factor`, o: { flow: fl.token, body: { method: 'totp', code } } });
    await attack({
      subject: `f:${tomId}:totp`,
      eventType: 'auth.attempt',
      wrongStatus: '401 invalid_factor',
      one: async (i) => x.factor(await pastPassword(), 'totp', wrongCode(tomSecret, t.clock.now(), i)),
      // one flow per request: no flow's own budget (5) plays a part. The flows are made one after the
      // other: right passwords in parallel are checks in flight on the password's counter too
      burst: async (round) => {
        const flows: FlowHandle[] = [];
        for (let i = 0; i < 25; i++) flows.push(await pastPassword());
        return flows.map((fl, i) => factorReq(fl, wrongCode(tomSecret, t.clock.now(), 100 * (round + 1) + i)));
      },
    });
  });

  it("a caller's PIN: one check per interval of 25 parallel wrong PINs", async () => {
    let n = 0;
    const start = async () => {
      const r = await x.post('/v1/tenants/acme/verifications', { token: f.agent, body: { customerId: f.customerId, interactionId: `pin-burst-${n++}` } });
      expect(r.status, r.text).toBe(201);
      return r.json.id as string;
    };
    const pin = (vid: string, i: number) => ({ method: 'POST', path: `/v1/tenants/acme/verifications/${vid}/pin`, o: { token: f.agent, body: { pin: String(111_111 + i * 7) } } });
    await attack({
      subject: `c:${f.customerId}:pin`,
      eventType: 'verification.step',
      wrongStatus: '401 invalid_factor',
      one: async (i) => {
        const p = pin(await start(), i);
        return x.post(p.path, p.o);
      },
      burst: async (round) => {
        const vids = await parallel(25, () => start());
        return vids.map((vid, i) => pin(vid, 100 * (round + 1) + i));
      },
    });
  });

  it('the password step of an email address: one check per interval of 25 parallel wrong passwords', async () => {
    const email = 'pat@acme.test';
    const pw = (fl: FlowHandle, i: number) => ({ method: 'POST', path: `/v1/auth/flows/${fl.id}/password`, o: { flow: fl.token, body: { password: `not the password ${i}` } } });
    await attack({
      subject: `pw:${f.tenantId}:${email}`,
      eventType: 'auth.attempt',
      wrongStatus: '401 invalid_credentials',
      one: async (i) => (await x.password((await x.startFlow('acme', email)).flow, `not the password ${i}`)).res,
      burst: async (round) => {
        const flows = await parallel(25, () => x.startFlow('acme', email).then((r) => r.flow));
        return flows.map((fl, i) => pw(fl, 100 * (round + 1) + i));
      },
    });
    // the real user, after the current back-off, still signs in
    t.clock.advance(MAX_S * 1000 + 1000);
    const ok = await x.password((await x.startFlow('acme', email)).flow, STRONG);
    expect(ok.res.status, ok.res.text).toBe(200);
    expect(await failures(`pw:${f.tenantId}:${email}`)).toBe(0);
  });
});
