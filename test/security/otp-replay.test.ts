/**
 * Threat: OTP replay (Vault CVE-2025-6014, the OpenBao whitespace variant; RFC 6238 5.2, ASVS 6.5.1,
 * NIST SFOV-4). A TOTP code is accepted once: not again in another flow, not in a re-typed form, and
 * not twice when the same code races itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, json, seed, testApp, type TestApp } from '../helpers/app.js';
import { atSecondFactor, auditEvents, factorStep, raceBackends, tally, totpFor, widenRace, withTotp } from '../helpers/flows.js';

describe('OTP replay', () => {
  let t: TestApp;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const ana = 'ana@acme.test';

  beforeAll(async () => {
    t = await testApp();
    seeded = await seed(t, { users: [{ email: ana, roles: ['agent'] }] });
  });
  afterAll(() => t.close());

  it('refuses a code that completed a sign-in, in a new flow and in whitespace/dash variants', async () => {
    const { secret } = await withTotp(t, seeded.users[ana]!.token!);
    const code = totpFor(secret, t.clock.now());

    const first = await factorStep(t.app, await atSecondFactor(t.app, 'acme', ana), 'totp', code);
    expect(first.statusCode).toBe(200);
    expect(json(first).session.token).toEqual(expect.any(String));

    const again = await atSecondFactor(t.app, 'acme', ana);
    const variants = [code, `${code.slice(0, 3)} ${code.slice(3)}`, ` ${code} `, `${code.slice(0, 3)}-${code.slice(3)}`];
    for (const v of variants) {
      const r = await factorStep(t.app, again, 'totp', v);
      expect(r.statusCode, `variant ${JSON.stringify(v)}`).toBe(401);
      expect(json(r).code).toBe('invalid_factor');
      expect(json(r).session).toBeUndefined();
    }
    // Each variant was normalized and recognized as the used code (not refused as malformed).
    const reasons = (await auditEvents(t, seeded.tenantId, { type: 'auth.attempt', outcome: 'failure' }))
      .filter((e) => e.targetId === again.id)
      .map((e) => (e.data as { reason?: string }).reason);
    expect(reasons).toEqual(variants.map(() => 'replayed'));

    // The same flow still accepts the next, unused code: only the replay was refused.
    t.clock.advance(30_000);
    const fresh = totpFor(secret, t.clock.now());
    expect(fresh).not.toBe(code);
    const ok = await factorStep(t.app, again, 'totp', fresh);
    expect(ok.statusCode).toBe(200);
    expect(json(ok).session.token).toEqual(expect.any(String));
  });
});

describe.each(await raceBackends())('OTP replay by racing one code (%s)', (backend) => {
  let t: TestApp;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const ben = 'ben@acme.test';
  const cy = 'cy@acme.test';

  beforeAll(async () => {
    t = await testApp({ backend });
    seeded = await seed(t, { users: [ben, cy].map((email) => ({ email, roles: ['agent'] })) });
  });
  afterAll(() => t.close());

  const liveSessions = async (token: string) => {
    const r = await api(t.app).get('/v1/me/sessions', { token });
    expect(r.statusCode).toBe(200);
    return (json(r).sessions as unknown[]).length;
  };

  it('50 parallel submissions of one valid code on one flow yield exactly one session', async () => {
    const { secret } = await withTotp(t, seeded.users[ben]!.token!);
    const before = await liveSessions(seeded.users[ben]!.token!);
    const flow = await atSecondFactor(t.app, 'acme', ben);
    const code = totpFor(secret, t.clock.now());
    const verify = widenRace(t.s.registry.get('totp')!, 'verify');
    const results = await Promise.all(Array.from({ length: 50 }, () => factorStep(t.app, flow, 'totp', code)));
    const checks = verify.mock.calls.length;
    verify.mockRestore();

    const winners = results.filter((r) => r.statusCode === 200 && typeof json(r).session?.token === 'string');
    expect(winners, JSON.stringify(tally(results))).toHaveLength(1);
    // Every other request was refused with one of the expected errors (no 5xx, no second session).
    for (const k of Object.keys(tally(results)).filter((k) => k !== '200 ok')) {
      expect(['401 invalid_factor', '401 flow_invalid', '409 flow_state', '429 flow_failed', '429 too_many_attempts']).toContain(k);
    }
    // The race was real: several requests were checking the code at the same time.
    expect(checks).toBeGreaterThan(1);
    expect(await liveSessions(json(winners[0]!).session.token)).toBe(before + 1);
  });

  it('one code raced across 10 parallel flows yields exactly one session', async () => {
    const { secret } = await withTotp(t, seeded.users[cy]!.token!);
    const before = await liveSessions(seeded.users[cy]!.token!);
    const flows = await Promise.all(Array.from({ length: 10 }, () => atSecondFactor(t.app, 'acme', cy)));
    const code = totpFor(secret, t.clock.now());
    const verify = widenRace(t.s.registry.get('totp')!, 'verify');
    const results = await Promise.all(flows.map((f) => factorStep(t.app, f, 'totp', code)));
    const checks = verify.mock.calls.length;
    verify.mockRestore();
    expect(checks).toBeGreaterThan(1);
    const winners = results.filter((r) => r.statusCode === 200);
    expect(winners, JSON.stringify(tally(results))).toHaveLength(1);
    expect(await liveSessions(json(winners[0]!).session.token)).toBe(before + 1);
  });
});
