/**
 * Threat: OTP brute force with no limit (ZITADEL CVE-2024-32868; NIST RL-2: at most 100 consecutive
 * failures per authenticator, OBV-7: a new code/flow never resets the count). After 100 wrong TOTP
 * codes the right one is refused, however long the attacker waits and however many flows they open,
 * until an administrator unlocks the user.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPolicy, lockoutRules } from '../../src/domain/policy.js';
import { backoffDelayMs, factorSubject } from '../../src/flows/attempt-gate.js';
import { api, json, seed, testApp, type TestApp } from '../helpers/app.js';
import { atSecondFactor, factorStep, signInPassword, totpFor, withTotp, wrongTotp, type FlowHandle } from '../helpers/flows.js';

describe('TOTP brute-force cap', () => {
  let t: TestApp;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const ana = 'ana@acme.test';
  const boss = 'boss@acme.test';
  let secret: string;

  beforeAll(async () => {
    t = await testApp();
    seeded = await seed(t, { users: [{ email: ana, roles: ['agent'] }, { email: boss, roles: ['tenant_admin'] }] });
    secret = (await withTotp(t, seeded.users[ana]!.token!)).secret;
  });
  afterAll(() => t.close());

  const counter = async () => (await t.s.store.counters.get(factorSubject(seeded.users[ana]!.id, 'totp')))?.failures ?? 0;

  it('refuses the right code after 100 consecutive failures, across flows and waits, until an admin unlock', async () => {
    const rules = lockoutRules(defaultPolicy());
    const flowTtlMs = t.s.config.flowTtlSeconds * 1000;
    let flow: FlowHandle | undefined;
    let left = 0;
    let expiresAt = 0;

    // 100 wrong codes, each one actually checked: the clock skips every backoff delay, and a new flow
    // is opened whenever the current one has spent its budget (5 failed steps) or would expire.
    for (let i = 0; i < 100; i++) {
      const wait = backoffDelayMs(i, rules);
      if (wait > 0) t.clock.advance(wait + 1_000);
      if (!flow || left === 0 || t.clock.now().getTime() > expiresAt - 5_000) {
        flow = await atSecondFactor(t.app, 'acme', ana);
        left = t.s.config.flowAttemptBudget;
        expiresAt = t.clock.now().getTime() + flowTtlMs;
      }
      const r = await factorStep(t.app, flow, 'totp', wrongTotp(secret, t.clock.now(), i));
      expect(r.statusCode, `attempt ${i + 1}: ${r.body}`).toBe(401);
      expect(json(r).code).toBe('invalid_factor');
      left--;
    }
    expect(await counter()).toBe(100);

    // The 101st attempt, with the right code, after waiting out the longest backoff.
    t.clock.advance(rules.backoffMaxMs + 1_000);
    const right = await factorStep(t.app, await atSecondFactor(t.app, 'acme', ana), 'totp', totpFor(secret, t.clock.now()));
    expect(right.statusCode).toBe(423);
    expect(json(right).code).toBe('factor_locked');
    expect(json(right).session).toBeUndefined();

    // A day later, in a brand-new flow: asking again does not reset the count.
    t.clock.advance(24 * 3_600_000);
    const before = await counter();
    const flowAfter = await atSecondFactor(t.app, 'acme', ana);
    expect(await counter()).toBe(before);
    const later = await factorStep(t.app, flowAfter, 'totp', totpFor(secret, t.clock.now()));
    expect(later.statusCode).toBe(423);
    expect(json(later).code).toBe('factor_locked');

    // An administrator unlocks the user: the right code works again.
    const adminToken = await signInPassword(t.app, 'acme', boss);
    const unlock = await api(t.app).post(`/v1/tenants/acme/users/${seeded.users[ana]!.id}/unlock`, { token: adminToken });
    expect(unlock.statusCode).toBe(200);
    expect(await counter()).toBe(0);
    const after = await factorStep(t.app, await atSecondFactor(t.app, 'acme', ana), 'totp', totpFor(secret, t.clock.now()));
    expect(after.statusCode).toBe(200);
    expect(json(after).session.token).toEqual(expect.any(String));
  });

  it('refuses early attempts during backoff and still counts them', async () => {
    // After 5 failures each further attempt must wait; one made too early is refused unchecked.
    const rules = lockoutRules(defaultPolicy());
    for (let i = 0; i < rules.backoffAfter; i++) {
      const r = await factorStep(t.app, await atSecondFactor(t.app, 'acme', ana), 'totp', wrongTotp(secret, t.clock.now(), i));
      expect(r.statusCode).toBe(401);
    }
    const early = await factorStep(t.app, await atSecondFactor(t.app, 'acme', ana), 'totp', totpFor(secret, t.clock.now()));
    expect(early.statusCode).toBe(429);
    expect(json(early).code).toBe('too_many_attempts');
    expect(json(early).details.retryAfterSeconds).toBeGreaterThan(0);
    expect(await counter()).toBe(rules.backoffAfter + 1);
  });
});
