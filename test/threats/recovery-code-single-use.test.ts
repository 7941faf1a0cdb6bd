/**
 * Threat: recovery-code reuse (NIST SRC-4/5, look-up secrets are single use). A recovery code signs
 * in once: not again, not in another spelling, and not twice when raced; every use tells the user
 * by email.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, json, seed, testApp, type TestApp } from '../helpers/app.js';
import { atSecondFactor, factorStep, notices, raceBackends, tally, widenRace, withTotp } from '../helpers/flows.js';

describe.each(await raceBackends())('recovery codes are single use (%s)', (backend) => {
  let t: TestApp;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const ana = 'ana@acme.test';
  let codes: string[];

  beforeAll(async () => {
    t = await testApp({ backend });
    seeded = await seed(t, { users: [{ email: ana, roles: ['agent'] }] });
    codes = (await withTotp(t, seeded.users[ana]!.token!)).recoveryCodes;
  });
  afterAll(() => t.close());

  const remaining = async (token: string) =>
    (json(await api(t.app).get('/v1/me/factors', { token })).factors as Array<{ kind: string; remaining?: number }>).find((f) => f.kind === 'recovery_code')?.remaining;
  const used = async () => (await notices(t, ana, 'recovery_code_used')).length;

  it('signs in once with a code, never twice, whatever its spelling', async () => {
    const code = codes[0]!;
    const first = await factorStep(t.app, await atSecondFactor(t.app, 'acme', ana), 'recovery_code', code);
    expect(first.statusCode).toBe(200);
    expect(json(first).session.methods).toEqual(['pwd', 'recovery_code']);
    expect(await used()).toBe(1);
    const [newest] = await notices(t, ana, 'recovery_code_used');
    expect(newest!.body).toContain('9 unused codes remain');

    const flow = await atSecondFactor(t.app, 'acme', ana);
    const bare = code.replace(/-/g, '');
    for (const v of [code, code.toUpperCase(), bare, ` ${bare.slice(0, 6)} ${bare.slice(6)} `]) {
      const r = await factorStep(t.app, flow, 'recovery_code', v);
      expect(r.statusCode, `variant ${JSON.stringify(v)}`).toBe(401);
      expect(json(r).code).toBe('invalid_factor');
    }
    expect(await used()).toBe(1);

    // An unused code still works on that same flow: only the used one was refused.
    const next = await factorStep(t.app, flow, 'recovery_code', codes[1]!);
    expect(next.statusCode).toBe(200);
    expect(await used()).toBe(2);
    expect(await remaining(json(next).session.token)).toBe(8);
  });

  it('10 parallel uses of one code yield one session and spend one code', async () => {
    // the flows are made one after another: right passwords sent in parallel for one account would be
    // judged as a sequence of possible failures (throttled); the race under test is the code's
    const flows = [];
    for (let i = 0; i < 10; i++) flows.push(await atSecondFactor(t.app, 'acme', ana));
    const before = await used();
    const verify = widenRace(t.s.methods.get('recovery_code')!, 'verify');
    const results = await Promise.all(flows.map((f) => factorStep(t.app, f, 'recovery_code', codes[2]!)));
    const checks = verify.mock.calls.length;
    verify.mockRestore();

    expect(checks).toBeGreaterThan(1);
    const winners = results.filter((r) => r.statusCode === 200 && json(r).session?.token);
    expect(winners, JSON.stringify(tally(results))).toHaveLength(1);
    for (const k of Object.keys(tally(results)).filter((k) => k !== '200 ok')) expect(['401 invalid_factor', '429 too_many_attempts']).toContain(k);
    expect(await remaining(json(winners[0]!).session.token)).toBe(7);
    expect(await used()).toBe(before + 1);
  });
});
