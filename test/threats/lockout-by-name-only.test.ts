/**
 * Threat: locking a staff account out knowing only its email address.
 * Found by outside testing (2026-12-01): on a PCI tenant (locked for 30 minutes after 10 failures) an
 * attacker who knew an email address locked the account's password in 0.4 s, because attempts the
 * back-off refused were counted as failures too. NIST SP 800-63B 3.2.2 lets a verifier throttle
 * instead of lock; PCI DSS 8.3.4 asks for the lock after 10 *attempts* that were checked.
 *
 * Only checked wrong answers count toward the lock. The attacker hammers the password step of
 * ana@acme.test with parallel bursts (25 at once, one connection each) and sequential wrong passwords,
 * without waiting: the first 5 are checked (no back-off yet), every later one is refused, 429
 * too_many_attempts, reason throttled (never locked), and `failures` stays at 5 however many were
 * sent; no lock is written. The real user, after waiting the back-off the last refusal named, signs in.
 * Reaching 10 checked failures, and so the lock, takes the back-off waits (60 + 120 + 240 + 300 + 300
 * seconds here): after them the lock does come, for the right password too.
 *
 * The tenant's back-off starts at 60 s so that the seconds the hammering takes on a busy machine never
 * open a new interval (the default 1 s base would let a handful more through, still far from 10).
 *
 * Fails when: throttled or refused attempts add to `failures` (the hammering reaches 10 and locks).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed, STRONG } from '../helpers/app.js';
import { raceBackends, updatePolicy } from '../helpers/flows.js';
import { Attacker, parallel, tally, type Reply } from './attacker.js';
import { startTarget, type Target } from './server.js';

const BASE_S = 60;
const MAX_S = 300;
const ana = 'ana@acme.test';

describe.each(await raceBackends())('only checked wrong answers count toward a lock (%s)', (backend) => {
  let t: Target;
  let x: Attacker;
  let seeded: Awaited<ReturnType<typeof seed>>;

  beforeAll(async () => {
    t = await startTarget({ backend });
    x = new Attacker(t.url);
    seeded = await seed(t, { users: [{ email: 'boss@acme.test', roles: ['tenant_admin'] }, { email: ana, roles: ['agent'] }] });
    const saved = await updatePolicy(t, seeded.users['boss@acme.test']!.token!, 'acme', (p) => ({ ...p, pciMode: true, lockout: { ...p.lockout, backoffAfter: 5, backoffBaseSeconds: BASE_S, backoffMaxSeconds: MAX_S } }));
    expect(saved.policy.pciMode).toBe(true);
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  const subject = () => `pw:${seeded.tenantId}:${ana}`;
  const counter = async () => t.s.store.db.selectFrom('attempt_counters').select(['failures', 'locked_until']).where('subject', '=', subject()).executeTakeFirst();
  const failures = async () => Number((await counter())?.failures ?? 0);
  const tryPassword = async (password: string) => (await x.password((await x.startFlow('acme', ana)).flow, password)).res;
  const burst = async (n: number, tag: string) => {
    const flows = await parallel(n, () => x.startFlow('acme', ana).then((r) => r.flow));
    return x.lastByteSync(flows.map((fl, i) => ({ method: 'POST', path: `/v1/auth/flows/${fl.id}/password`, o: { flow: fl.token, body: { password: `guess ${tag} ${i}` } } })));
  };

  it('hammering an email address cannot lock the account faster than the back-off; the real user signs in after it', async () => {
    const replies: Reply[] = [];
    // 4 bursts of 25 and 50 one after the other, the first burst hitting a fresh counter
    for (let b = 0; b < 4; b++) replies.push(...(await burst(25, `b${b}`)));
    for (let i = 0; i < 50; i++) replies.push(await tryPassword(`sequential guess ${i}`));
    expect(replies).toHaveLength(150);
    const c = tally(replies);
    expect(c, JSON.stringify(c)).toEqual({ '401 invalid_credentials': 5, '429 too_many_attempts': 145 });
    for (const r of replies.filter((r) => r.status === 429)) expect(r.json.details.reason, r.text).toBe('throttled');
    expect(await failures(), 'checked failures after 150 attempts').toBe(5);
    expect((await counter())?.locked_until ?? null).toBeNull();

    // throttled attempts add nothing
    for (let i = 0; i < 10; i++) expect((await tryPassword(`more ${i}`)).status).toBe(429);
    expect(await failures()).toBe(5);

    // the real user waits the back-off the last refusal named and signs in
    const last = replies[replies.length - 1]!;
    const retry = Number(last.json.details.retryAfterSeconds);
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(BASE_S);
    t.clock.advance(retry * 1000 + 1000);
    const ok = await tryPassword(STRONG);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json.session.token).toEqual(expect.any(String));
    expect(await failures()).toBe(0);
  });

  it('10 checked failures, and the PCI lock, take the back-off waits', async () => {
    let waited = 0;
    for (let i = 0; i < 10; i++) {
      const wait = i < 5 ? 0 : Math.min(BASE_S * 2 ** (i - 5), MAX_S);
      if (wait > 0) {
        // one second early: still refused, and not counted
        t.clock.advance(wait * 1000 - 1000);
        const early = await tryPassword(`too early ${i}`);
        expect([early.status, early.json.details.reason], early.text).toEqual([429, 'throttled']);
        expect(await failures()).toBe(i);
        t.clock.advance(2000);
        waited += wait + 1;
      }
      const r = await tryPassword(`patient guess ${i}`);
      expect(`${r.status} ${r.code}`, `checked failure ${i + 1}: ${r.text}`).toBe('401 invalid_credentials');
      expect(await failures()).toBe(i + 1);
    }
    expect(waited).toBeGreaterThanOrEqual(60 + 120 + 240 + 300 + 300);
    const locked = await tryPassword(STRONG);
    expect([locked.status, locked.code, locked.json.details.reason], locked.text).toEqual([429, 'too_many_attempts', 'locked']);
    expect((await counter())?.locked_until).not.toBeNull();
  });
});
