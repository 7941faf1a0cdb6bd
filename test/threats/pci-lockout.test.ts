/**
 * Threat: password guessing against a PCI tenant (PCI DSS 8.3.4: lock after at most 10 attempts for
 * at least 30 minutes). With pciMode on, the 10th wrong password locks the account for 30 minutes;
 * during the lock even the right password is refused (with a truthful retry-after); after it, the
 * right password works. Other accounts are not affected.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPolicy, lockoutRules } from '../../src/domain/policy.js';
import { backoffDelayMs } from '../../src/engine/gate.js';
import { json, seed, STRONG, testApp, type TestApp } from '../helpers/app.js';
import { passwordStep, startFlow, updatePolicy, type FlowHandle } from '../helpers/flows.js';

const MINUTE = 60_000;

describe('PCI-mode lockout', () => {
  let t: TestApp;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const ana = 'ana@acme.test';
  const ben = 'ben@acme.test';

  beforeAll(async () => {
    t = await testApp();
    seeded = await seed(t, { users: [{ email: 'boss@acme.test', roles: ['tenant_admin'] }, { email: ana, roles: ['agent'] }, { email: ben, roles: ['agent'] }] });
    const saved = await updatePolicy(t, seeded.users['boss@acme.test']!.token!, 'acme', (p) => ({ ...p, pciMode: true }));
    expect(saved.policy.pciMode).toBe(true);
  });
  afterAll(() => t.close());

  const tryPassword = async (email: string, password: string) => (await passwordStep(t.app, (await startFlow(t.app, 'acme', email)).flow, password)).res;
  const expectLocked = (r: LightMyRequestResponse, min: number, max: number) => {
    expect(r.statusCode, r.body).toBe(429);
    expect(json(r).code).toBe('too_many_attempts');
    expect(json(r).details.reason).toBe('locked');
    const retry = json(r).details.retryAfterSeconds as number;
    expect(retry).toBeGreaterThanOrEqual(min);
    expect(retry).toBeLessThanOrEqual(max);
    expect(Number(r.headers['retry-after'])).toBe(retry);
    expect(json(r).session).toBeUndefined();
  };

  it('locks the account for 30 minutes after 10 wrong passwords, even against the right one', async () => {
    const rules = lockoutRules(defaultPolicy());
    let flow: FlowHandle | undefined;
    let left = 0;
    for (let i = 0; i < 10; i++) {
      // skip the backoff delays, so every one of the 10 attempts is really checked
      const wait = backoffDelayMs(i, rules);
      if (wait > 0) t.clock.advance(wait + 1_000);
      if (!flow || left === 0) {
        flow = (await startFlow(t.app, 'acme', ana)).flow;
        left = t.s.config.flowAttemptBudget;
      }
      const r = await passwordStep(t.app, flow, `wrong password number ${i}`);
      expect(r.res.statusCode, `attempt ${i + 1}: ${r.res.body}`).toBe(401);
      expect(r.body.code).toBe('invalid_credentials');
      left--;
    }

    expectLocked(await tryPassword(ana, STRONG), 29 * 60, 30 * 60);
    // Another account of the tenant signs in as usual.
    expect((await tryPassword(ben, STRONG)).statusCode).toBe(200);

    t.clock.advance(29 * MINUTE);
    expectLocked(await tryPassword(ana, STRONG), 1, 60);

    t.clock.advance(2 * MINUTE); // 31 minutes after the lock started
    const after = await tryPassword(ana, STRONG);
    expect(after.statusCode, after.body).toBe(200);
    expect(json(after).session.token).toEqual(expect.any(String));
  });

  it('does not let attempts made during the lock extend it or be checked', async () => {
    for (let i = 0; i < 10; i++) {
      if (i > 0) t.clock.advance(5 * MINUTE); // past any backoff delay
      expect((await tryPassword(ben, `wrong password number ${i}`)).statusCode).toBe(401);
    }
    // A dozen tries during the lock, the right password among them: all refused unchecked.
    for (let i = 0; i < 12; i++) expectLocked(await tryPassword(ben, i === 6 ? STRONG : `guess ${i} during lock`), 29 * 60, 30 * 60);
    t.clock.advance(31 * MINUTE);
    expect((await tryPassword(ben, STRONG)).statusCode).toBe(200);
  });
});
