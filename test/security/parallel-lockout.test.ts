/**
 * Threat: parallel requests beating lockout (ZITADEL CVE-2023-47111; RFC 4226 7.3, ASVS 15.4.2).
 * N parallel wrong attempts count N failures on the authenticator's counter, and a flow's attempt
 * budget holds under a burst: the check-and-act is atomic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { factorSubject, passwordSubject } from '../../src/flows/attempt-gate.js';
import { seed, testApp, type TestApp } from '../helpers/app.js';
import { atSecondFactor, auditEvents, factorStep, passwordStep, raceBackends, startFlow, tally, widenRace, withTotp, wrongTotp } from '../helpers/flows.js';

const users = [
  { email: 'ana@acme.test', roles: ['agent'] },
  { email: 'ben@acme.test', roles: ['agent'] },
  { email: 'cy@acme.test', roles: ['agent'] },
];

/** 20 different wrong codes submitted at once on one flow; returns the responses and how many reached the code check. */
async function burst(t: TestApp, secret: string, flow: { id: string; token: string }) {
  const codes = Array.from({ length: 20 }, (_, i) => wrongTotp(secret, t.clock.now(), i));
  const verify = widenRace(t.s.registry.get('totp')!, 'verify');
  const results = await Promise.all(codes.map((c) => factorStep(t.app, flow, 'totp', c)));
  const checked = verify.mock.calls.length;
  verify.mockRestore();
  return { results, checked };
}

describe.each(await raceBackends())('parallel attempts against lockout (%s)', (backend) => {
  describe('with a flow budget of 20', () => {
    let t: TestApp;
    let seeded: Awaited<ReturnType<typeof seed>>;
    beforeAll(async () => {
      t = await testApp({ backend, env: { CALLWARDEN_FLOW_ATTEMPTS: '20' } });
      seeded = await seed(t, { users: [users[0]!] });
    });
    afterAll(() => t.close());

    it('20 parallel wrong codes on one flow count 20 failures', async () => {
      const ana = seeded.users['ana@acme.test']!;
      const { secret } = await withTotp(t, ana.token!);
      const { results, checked } = await burst(t, secret, await atSecondFactor(t.app, 'acme', 'ana@acme.test'));
      const byStatus = tally(results);
      expect(byStatus['200 ok'], JSON.stringify(byStatus)).toBeUndefined();
      for (const k of Object.keys(byStatus)) expect(['401 invalid_factor', '429 too_many_attempts']).toContain(k);
      expect(checked).toBeGreaterThan(1);
      expect((await t.s.store.counters.get(factorSubject(ana.id, 'totp')))?.failures).toBe(20);
    });
  });

  describe('with the default flow budget (5)', () => {
    let t: TestApp;
    let seeded: Awaited<ReturnType<typeof seed>>;
    beforeAll(async () => {
      t = await testApp({ backend });
      seeded = await seed(t, { users: users.slice(1) });
    });
    afterAll(() => t.close());

    it('lets exactly 5 of 20 parallel codes reach the check, and counts all 20 attempts', async () => {
      const ben = seeded.users['ben@acme.test']!;
      const { secret } = await withTotp(t, ben.token!);
      const flow = await atSecondFactor(t.app, 'acme', 'ben@acme.test');
      const { results, checked } = await burst(t, secret, flow);

      expect(tally(results)).toEqual({ '401 invalid_factor': 5, '429 flow_failed': 15 });
      expect(checked).toBe(5);
      expect((await t.s.store.counters.get(factorSubject(ben.id, 'totp')))?.failures).toBe(20);
      // Every attempt, checked or refused for the spent budget, left a failure in the audit log.
      const events = (await auditEvents(t, seeded.tenantId, { type: 'auth.attempt', outcome: 'failure' })).filter((e) => e.targetId === flow.id);
      const reasons = events.map((e) => (e.data as { reason: string }).reason).sort();
      expect(reasons).toEqual([...Array(15).fill('flow_budget_spent'), ...Array(5).fill('wrong')]);
    });

    it('counts every one of 20 parallel wrong passwords on the password counter', async () => {
      const email = 'cy@acme.test';
      const flows = await Promise.all(Array.from({ length: 20 }, () => startFlow(t.app, 'acme', email)));
      const hasher = widenRace(t.s.hasher, 'verify');
      const results = await Promise.all(flows.map(({ flow }, i) => passwordStep(t.app, flow, `wrong password number ${i}`)));
      const checked = hasher.mock.calls.length;
      hasher.mockRestore();

      const byStatus = tally(results.map((r) => r.res));
      expect(byStatus['200 ok'], JSON.stringify(byStatus)).toBeUndefined();
      for (const k of Object.keys(byStatus)) expect(['401 invalid_credentials', '429 too_many_attempts']).toContain(k);
      expect(checked).toBeGreaterThan(1);
      expect((await t.s.store.counters.get(passwordSubject(seeded.tenantId, email)))?.failures).toBe(20);
    });
  });
});
