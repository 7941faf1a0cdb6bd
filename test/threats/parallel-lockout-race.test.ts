/**
 * Threat: parallel requests beating the lockout.
 * Advisory: ZITADEL CVE-2023-47111 (concurrent requests each read the failure count before any of
 * them wrote it, so N parallel guesses were counted as one).
 *
 * The attacker opens hundreds of TCP connections, writes a wrong password, a wrong TOTP code or a
 * wrong caller code on each but for its last byte, then sends the last bytes back to back (the
 * "last-byte sync" race), so that the requests arrive together and overlap inside the server. A burst
 * must be judged as a sequence (issue 9): the checks in flight count as failures for the ones after
 * them, so with the default back-off (after 5 failures) exactly 5 of a burst are checked and counted —
 * no lost update (the counter equals the checked wrong answers) and no more checks than a sequence
 * would get; the rest are refused (429 throttled) and never counted, so nobody locks an account by
 * naming it. Near the hard cap (99 failures) a burst gets exactly one check, after which the method
 * is disabled (423) and the right secret is refused too. A flow's budget (5) and a verification's
 * budget (5) admit exactly 5 of a burst. Of 50 parallel right caller codes exactly one wins. Run on
 * PostgreSQL with a pool of 20 connections, where the requests really do run at once, when it answers
 * on 127.0.0.1:5432 (always in CI); else on PGlite, which runs one statement at a time (the same
 * guarantees, weaker evidence). On PostgreSQL the test also checks that the server really had many of
 * the requests in flight together.
 *
 * A second part (from the former in-process suite) runs on both backends, with the code check and
 * the password hash widened (a spy that waits inside `verify`, so that the parallel requests are all
 * inside it at once): of 20 parallel wrong codes on one flow with a budget of 20, exactly the 5 a
 * sequence allows are checked and counted; with the default budget exactly 5 of 20 reach the check,
 * 5 are counted and all 20 audited (5 `wrong_code`, 15 `flow_budget_spent`); of 20 parallel wrong
 * passwords the 5 checked are counted on the password counter.
 *
 * Fails when: the counter is read and then written (a lost update undercounts the burst); checks in
 * flight are not counted (a burst gets 20 checks where a sequence gets 5); refused attempts are
 * counted (the counter exceeds the checks); the budget check is a read followed by an update (more
 * than 5 get through); the code is consumed without a conditional update (several successes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordSubject, factorSubject } from '../../src/engine/counter-keys.js';
import { invitationToken, seed, STRONG } from '../helpers/app.js';
import { callerFixture, lastCodeTo } from '../helpers/callers.js';
import { auditEvents, raceBackends, updatePolicy, widenRace, withTotp } from '../helpers/flows.js';
import { Attacker, parallel, tally, totpCode, wrongCode, type FlowHandle } from './attacker.js';
import { startTarget, type Target } from './server.js';
import { atSecondFactor } from './steps.js';

const backend = (await raceBackends()).includes('postgres') ? 'postgres' : 'pglite';

/**
 * A back-off of 60 s after 5 failures: the seconds a burst takes on a loaded machine never open a
 * new interval, so "judged as a sequence" is exactly 5 checks, whatever the machine.
 */
const slowBackoff = (t: Target, admin: string) =>
  updatePolicy(t, admin, 'acme', (p) => ({ ...p, lockout: { ...p.lockout, backoffAfter: 5, backoffBaseSeconds: 60, backoffMaxSeconds: 3600 } }));

describe(`parallel attempts against the lockout (${backend})`, () => {
  let t: Target;
  let x: Attacker;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  let tom: Awaited<ReturnType<typeof withTotp>>;
  const id = (email: string) => f.users[email]?.id ?? ids[email]!;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTarget({ backend });
    x = new Attacker(t.url);
    f = await callerFixture(t);
    await slowBackoff(t, f.admin);
    for (const email of ['pat@acme.test', 'tom@acme.test', 'uma@acme.test']) {
      const inv = await x.post('/v1/tenants/acme/users', { token: f.admin, body: { email, roles: ['agent'] } });
      ids[email] = inv.json.id;
      expect((await x.post('/v1/invitations/accept', { body: { token: await invitationToken(t.s, email), password: STRONG } })).status).toBe(200);
    }
    tom = await withTotp(t, await x.signIn('acme', 'tom@acme.test', STRONG));
    // requests in flight inside the server at once, as the server sees them
    t.app.server.on('request', (_req, res) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      res.on('close', () => inFlight--);
    });
  });
  let inFlight = 0;
  let peak = 0;
  const burst = async <T>(fn: () => Promise<T>): Promise<T> => {
    peak = 0;
    const out = await fn();
    // PostgreSQL: the requests wait on its pool of 20 connections together; PGlite runs one statement at a
    // time in the server's own thread, so requests there barely overlap (the counts are what matter)
    if (backend === 'postgres') expect(peak, 'requests the server had in flight together').toBeGreaterThanOrEqual(5);
    return out;
  };
  afterAll(async () => {
    x.close();
    await t.close();
  });

  const failures = async (subject: string) => (await t.s.store.counters.get(subject))?.failures;

  it('200 parallel wrong passwords on 200 sockets: judged as a sequence, exactly 5 checked and counted, the rest throttled', async () => {
    const flows = await parallel(200, () => x.startFlow('acme', 'pat@acme.test').then((r) => r.flow));
    const before = x.sockets.size;
    const replies = await burst(() => x.lastByteSync(flows.map((fl, i) => ({ method: 'POST', path: `/v1/auth/flows/${fl.id}/password`, o: { flow: fl.token, body: { password: `not the password ${i}` } } }))));
    expect(x.sockets.size - before).toBeGreaterThanOrEqual(200); // one connection each
    expect(await failures(passwordSubject(f.tenantId, 'pat@acme.test'))).toBe(5);
    expect(tally(replies)).toEqual({ '401 invalid_credentials': 5, '429 too_many_attempts': 195 });
  });

  it('near the hard cap a burst of 200 gets exactly one check; then the method is disabled and the right password refused', async () => {
    const subject = passwordSubject(f.tenantId, 'pat@acme.test');
    // 99 checked failures, the last one long ago (its back-off has passed)
    await t.s.store.db.updateTable('attempt_counters').set({ failures: 99, last_failure_at: new Date(t.clock.now().getTime() - 2 * 3_600_000), in_flight: 0 }).where('subject', '=', subject).execute();
    const flows = await parallel(200, () => x.startFlow('acme', 'pat@acme.test').then((r) => r.flow));
    const replies = await burst(() => x.lastByteSync(flows.map((fl, i) => ({ method: 'POST', path: `/v1/auth/flows/${fl.id}/password`, o: { flow: fl.token, body: { password: `not the password ${i}` } } }))));
    expect(await failures(subject)).toBe(100);
    const c = tally(replies);
    expect(c['401 invalid_credentials']).toBe(1);
    expect((c['423 factor_locked'] ?? 0) + (c['429 too_many_attempts'] ?? 0)).toBe(199);
    // the right password is refused now
    const right = await x.password((await x.startFlow('acme', 'pat@acme.test')).flow, STRONG);
    expect([right.res.status, right.res.code]).toEqual([423, 'factor_locked']);
  });

  it('200 parallel wrong TOTP codes over 40 flows: 5 checked and counted, none over a flow budget, the rest throttled; the right code after the back-off works', async () => {
    // the flows past the password one after another (right passwords at once would be judged as a
    // sequence of possible failures and throttled); the race under test is the codes'
    const flows: FlowHandle[] = [];
    for (let i = 0; i < 40; i++) flows.push(await x.pastPassword('acme', 'tom@acme.test', STRONG));
    const replies = await burst(() => x.lastByteSync(Array.from({ length: 200 }, (_, i) => ({ method: 'POST', path: `/v1/auth/flows/${flows[i % 40]!.id}/factor`, o: { flow: flows[i % 40]!.token, body: { method: 'totp', code: wrongCode(tom.secret, t.clock.now(), i) } } }))));
    expect(await failures(factorSubject(id('tom@acme.test'), 'totp'))).toBe(5);
    const c = tally(replies);
    expect(c['429 flow_failed'] ?? 0).toBe(0); // refused attempts are refunded: within every budget
    expect(c).toEqual({ '401 invalid_factor': 5, '429 too_many_attempts': 195 });
    // nobody was locked out: once the back-off (60 s after 5 failures) has passed, the right code signs in
    t.clock.advance(61_000);
    const right = await x.factor(await x.pastPassword('acme', 'tom@acme.test', STRONG), 'totp', totpCode(tom.secret, t.clock.now()));
    expect(right.status).toBe(200);
    expect(await failures(factorSubject(id('tom@acme.test'), 'totp'))).toBeUndefined();
  });

  it('100 parallel wrong codes on one flow: exactly 5 within its budget, those 5 counted', async () => {
    const uma = await withTotp(t, await x.signIn('acme', 'uma@acme.test', STRONG));
    const flow = await x.pastPassword('acme', 'uma@acme.test', STRONG);
    const replies = await burst(() => x.lastByteSync(Array.from({ length: 100 }, (_, i) => ({ method: 'POST', path: `/v1/auth/flows/${flow.id}/factor`, o: { flow: flow.token, body: { method: 'totp', code: wrongCode(uma.secret, t.clock.now(), i) } } }))));
    const c = tally(replies);
    expect(c['429 flow_failed']).toBe(95);
    expect((c['401 invalid_factor'] ?? 0) + (c['429 too_many_attempts'] ?? 0)).toBe(5);
    expect(await failures(factorSubject(id('uma@acme.test'), 'totp'))).toBe(5);
    const read = await x.get(`/v1/auth/flows/${flow.id}`, { flow: flow.token });
    expect(read.json.flow).toMatchObject({ state: 'failed', attemptsLeft: 0 });
  });

  it('caller codes: of 100 parallel wrong codes exactly 5 are checked; of 50 parallel right codes exactly 1 wins', async () => {
    const v = (vid: string) => `/v1/tenants/acme/verifications/${vid}`;
    const start = async (interactionId: string) => {
      const r = await x.post('/v1/tenants/acme/verifications', { token: f.agent, body: { customerId: f.customerId, interactionId } });
      expect((await x.post(`${v(r.json.id)}/codes`, { token: f.agent, body: { contactId: f.emailId, channel: 'email' } })).status).toBe(200);
      return { vid: r.json.id as string, code: await lastCodeTo(t, 'dana@example.com') };
    };
    const a = await start('race-wrong');
    const notIt = (i: number) => String((Number(a.code) + 1 + i) % 1_000_000).padStart(6, '0');
    const wrong = await burst(() => x.lastByteSync(Array.from({ length: 100 }, (_, i) => ({ method: 'POST', path: `${v(a.vid)}/codes/check`, o: { token: f.agent, body: { code: notIt(i) } } }))));
    // the 95 unchecked are refused as throttled while others are in flight, or as the spent budget
    // (flow_failed, as for staff) once the flow has failed
    const w = tally(wrong);
    for (const k of Object.keys(w)) expect(['401 invalid_factor', '429 too_many_attempts', '429 flow_failed']).toContain(k);
    expect([w['401 invalid_factor'], (w['429 too_many_attempts'] ?? 0) + (w['429 flow_failed'] ?? 0)], JSON.stringify(w)).toEqual([5, 95]);
    const after = await x.post(`${v(a.vid)}/codes/check`, { token: f.agent, body: { code: a.code } });
    expect([after.status, after.code]).toEqual([429, 'flow_failed']);

    t.clock.advance(61_000);
    const b = await start('race-right');
    const right = await burst(() => x.lastByteSync(Array.from({ length: 50 }, () => ({ method: 'POST', path: `${v(b.vid)}/codes/check`, o: { token: f.agent, body: { code: b.code } } }))));
    const c = tally(right);
    expect(c['200 ok']).toBe(1);
    expect(right.find((r) => r.status === 200)!.json.state).toBe('verified');
    const losers = Object.keys(c).filter((k) => k !== '200 ok');
    expect(losers.reduce((n, k) => n + c[k]!, 0), JSON.stringify(c)).toBe(49); // the 49 others are all accounted for (an empty list would pass .every)
    expect(losers.every((k) => /^(401 invalid_factor|409 flow_state|429 too_many_attempts)$/.test(k)), JSON.stringify(c)).toBe(true);
  });
});

const admin = { email: 'adm@acme.test', roles: ['tenant_admin'] };
const users = [
  { email: 'ana@acme.test', roles: ['agent'] },
  { email: 'ben@acme.test', roles: ['agent'] },
  { email: 'cy@acme.test', roles: ['agent'] },
];

/** 20 different wrong codes submitted at once on one flow, one connection each; returns the replies and how many reached the code check. */
async function burst20(t: Target, x: Attacker, secret: string, flow: FlowHandle) {
  const codes = Array.from({ length: 20 }, (_, i) => wrongCode(secret, t.clock.now(), i));
  const verify = widenRace(t.s.methods.get('totp')!, 'verify');
  const results = await Promise.all(codes.map((c) => x.factor(flow, 'totp', c, { fresh: true })));
  const checked = verify.mock.calls.length;
  verify.mockRestore();
  return { results, checked };
}

describe.each(await raceBackends())('parallel attempts against lockout, the check widened (%s)', (backend) => {
  describe('with a flow budget of 20', () => {
    let t: Target;
    let x: Attacker;
    let seeded: Awaited<ReturnType<typeof seed>>;
    beforeAll(async () => {
      t = await startTarget({ backend, env: { CALLWARDEN_FLOW_ATTEMPTS: '20' } });
      x = new Attacker(t.url);
      seeded = await seed(t, { users: [users[0]!, admin] });
      await slowBackoff(t, seeded.users[admin.email]!.token!);
    });
    afterAll(async () => {
      x.close();
      await t.close();
    });

    it('of 20 parallel wrong codes on one flow, exactly the 5 a sequence allows are checked and counted', async () => {
      const ana = seeded.users['ana@acme.test']!;
      const { secret } = await withTotp(t, ana.token!);
      const { results, checked } = await burst20(t, x, secret, await atSecondFactor(x, 'acme', 'ana@acme.test'));
      const byStatus = tally(results);
      expect(byStatus['200 ok'], JSON.stringify(byStatus)).toBeUndefined();
      expect(Object.keys(byStatus).length).toBeGreaterThan(0);
      for (const k of Object.keys(byStatus)) expect(['401 invalid_factor', '429 too_many_attempts']).toContain(k);
      expect(checked).toBe(5);
      expect(byStatus).toEqual({ '401 invalid_factor': 5, '429 too_many_attempts': 15 });
      expect((await t.s.store.counters.get(factorSubject(ana.id, 'totp')))?.failures).toBe(5);
    });
  });

  describe('with the default flow budget (5)', () => {
    let t: Target;
    let x: Attacker;
    let seeded: Awaited<ReturnType<typeof seed>>;
    beforeAll(async () => {
      t = await startTarget({ backend });
      x = new Attacker(t.url);
      seeded = await seed(t, { users: [...users.slice(1), admin] });
      await slowBackoff(t, seeded.users[admin.email]!.token!);
    });
    afterAll(async () => {
      x.close();
      await t.close();
    });

    it('lets exactly 5 of 20 parallel codes reach the check, counts those 5 and audits all 20 attempts', async () => {
      const ben = seeded.users['ben@acme.test']!;
      const { secret } = await withTotp(t, ben.token!);
      const flow = await atSecondFactor(x, 'acme', 'ben@acme.test');
      const { results, checked } = await burst20(t, x, secret, flow);

      expect(tally(results)).toEqual({ '401 invalid_factor': 5, '429 flow_failed': 15 });
      expect(checked).toBe(5);
      expect((await t.s.store.counters.get(factorSubject(ben.id, 'totp')))?.failures).toBe(5);
      // Every attempt, checked or refused for the spent budget, left a failure in the audit log.
      const events = (await auditEvents(t, seeded.tenantId, { type: 'auth.attempt', outcome: 'failure' })).filter((e) => e.targetId === flow.id);
      const reasons = events.map((e) => (e.data as { reason: string }).reason).sort();
      expect(reasons).toEqual([...Array(15).fill('flow_budget_spent'), ...Array(5).fill('wrong_code')]);
    });

    it('of 20 parallel wrong passwords, counts the 5 checked on the password counter', async () => {
      const email = 'cy@acme.test';
      const flows = await parallel(20, () => x.startFlow('acme', email));
      const hasher = widenRace(t.s.hasher, 'verify');
      const results = await Promise.all(flows.map(({ flow }, i) => x.password(flow, `wrong password number ${i}`, { fresh: true })));
      const checked = hasher.mock.calls.length;
      hasher.mockRestore();

      const byStatus = tally(results.map((r) => r.res));
      expect(byStatus['200 ok'], JSON.stringify(byStatus)).toBeUndefined();
      expect(Object.keys(byStatus).length).toBeGreaterThan(0);
      for (const k of Object.keys(byStatus)) expect(['401 invalid_credentials', '429 too_many_attempts']).toContain(k);
      expect(checked).toBe(5);
      expect((await t.s.store.counters.get(passwordSubject(seeded.tenantId, email)))?.failures).toBe(5);
    });
  });
});
