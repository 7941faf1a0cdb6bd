/**
 * Threat: parallel requests beating the lockout.
 * Advisory: ZITADEL CVE-2023-47111 (concurrent requests each read the failure count before any of
 * them wrote it, so N parallel guesses were counted as one).
 *
 * The attacker opens hundreds of TCP connections, writes a wrong password, a wrong TOTP code or a
 * wrong caller code on each but for its last byte, then sends the last bytes back to back (the
 * "last-byte sync" race), so that the requests arrive together and overlap inside the server. Every attempt
 * must be counted, exactly: the counter equals the number sent; since attempts are judged from the
 * count before them, exactly the attempts past the hard cap (100) are refused as locked, and the right
 * secret afterwards is refused too. A flow's budget (5) and a verification's budget (5) admit exactly
 * 5 of a burst. Of 50 parallel right caller codes exactly one wins. Run on PostgreSQL with a pool of
 * 20 connections, where the requests really do run at once, when it answers on 127.0.0.1:5432 (always
 * in CI); else on PGlite, which runs one statement at a time (the same guarantees, weaker evidence;
 * test/security/parallel-lockout.test.ts covers both in-process). On PostgreSQL the test also checks
 * that the server really had many of the requests in flight together.
 *
 * Fails when: the counter is read and then written (a lost update undercounts the burst); the budget
 * check is a read followed by an update (more than 5 get through); the code is consumed without a
 * conditional update (several successes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordSubject, factorSubject } from '../../src/flows/attempt-gate.js';
import { invitationToken, STRONG } from '../helpers/app.js';
import { callerFixture, lastCodeTo } from '../helpers/callers.js';
import { raceBackends, withTotp } from '../helpers/flows.js';
import { Attacker, parallel, tally, totpCode, wrongCode } from './attacker.js';
import { startTarget, type Target } from './server.js';

const backend = (await raceBackends()).includes('postgres') ? 'postgres' : 'pglite';

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

  it('200 parallel wrong passwords on 200 sockets: 200 counted, exactly the 100 past the cap refused as locked', async () => {
    const flows = await parallel(200, () => x.startFlow('acme', 'pat@acme.test').then((r) => r.flow));
    const before = x.sockets.size;
    const replies = await burst(() => x.lastByteSync(flows.map((fl, i) => ({ method: 'POST', path: `/v1/auth/flows/${fl.id}/password`, o: { flow: fl.token, body: { password: `not the password ${i}` } } }))));
    expect(x.sockets.size - before).toBeGreaterThanOrEqual(200); // one connection each
    expect(await failures(passwordSubject(f.tenantId, 'pat@acme.test'))).toBe(200);
    const c = tally(replies);
    expect(c['423 factor_locked']).toBe(100);
    expect((c['401 invalid_credentials'] ?? 0) + (c['429 too_many_attempts'] ?? 0)).toBe(100);
    expect(Object.keys(c).sort()).toEqual(expect.arrayContaining(['401 invalid_credentials', '423 factor_locked']));
    // the right password is refused now
    const right = await x.password((await x.startFlow('acme', 'pat@acme.test')).flow, STRONG);
    expect([right.res.status, right.res.code]).toEqual([423, 'factor_locked']);
  });

  it('200 parallel wrong TOTP codes over 40 flows: 200 counted, 100 refused as locked, each flow admitting its 5', async () => {
    const flows = await parallel(40, () => x.pastPassword('acme', 'tom@acme.test', STRONG));
    const replies = await burst(() => x.lastByteSync(Array.from({ length: 200 }, (_, i) => ({ method: 'POST', path: `/v1/auth/flows/${flows[i % 40]!.id}/factor`, o: { flow: flows[i % 40]!.token, body: { method: 'totp', code: wrongCode(tom.secret, t.clock.now(), i) } } }))));
    expect(await failures(factorSubject(id('tom@acme.test'), 'totp'))).toBe(200);
    const c = tally(replies);
    expect(c['423 factor_locked']).toBe(100);
    expect(c['429 flow_failed'] ?? 0).toBe(0); // 5 per flow: within every budget
    expect((c['401 invalid_factor'] ?? 0) + (c['429 too_many_attempts'] ?? 0)).toBe(100);
    const right = await x.factor(await x.pastPassword('acme', 'tom@acme.test', STRONG), 'totp', totpCode(tom.secret, t.clock.now()));
    expect([right.status, right.code]).toEqual([423, 'factor_locked']);
  });

  it('100 parallel wrong codes on one flow: exactly 5 within its budget, all 100 counted', async () => {
    const uma = await withTotp(t, await x.signIn('acme', 'uma@acme.test', STRONG));
    const flow = await x.pastPassword('acme', 'uma@acme.test', STRONG);
    const replies = await burst(() => x.lastByteSync(Array.from({ length: 100 }, (_, i) => ({ method: 'POST', path: `/v1/auth/flows/${flow.id}/factor`, o: { flow: flow.token, body: { method: 'totp', code: wrongCode(uma.secret, t.clock.now(), i) } } }))));
    const c = tally(replies);
    expect(c['429 flow_failed']).toBe(95);
    expect((c['401 invalid_factor'] ?? 0) + (c['429 too_many_attempts'] ?? 0)).toBe(5);
    expect(await failures(factorSubject(id('uma@acme.test'), 'totp'))).toBe(100);
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
    expect(tally(wrong)).toEqual({ '400 invalid_code': 5, '429 too_many_attempts': 95 });
    const after = await x.post(`${v(a.vid)}/codes/check`, { token: f.agent, body: { code: a.code } });
    expect([after.status, after.code]).toEqual([429, 'too_many_attempts']);

    t.clock.advance(61_000);
    const b = await start('race-right');
    const right = await burst(() => x.lastByteSync(Array.from({ length: 50 }, () => ({ method: 'POST', path: `${v(b.vid)}/codes/check`, o: { token: f.agent, body: { code: b.code } } }))));
    const c = tally(right);
    expect(c['200 ok']).toBe(1);
    expect(right.find((r) => r.status === 200)!.json.state).toBe('verified');
    expect(Object.keys(c).filter((k) => k !== '200 ok').every((k) => /^(400 invalid_code|409 flow_state|429 too_many_attempts)$/.test(k)), JSON.stringify(c)).toBe(true);
  });
});
