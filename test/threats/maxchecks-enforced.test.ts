/**
 * Threat: guessing one caller code past its check limit.
 * Found by review (issue 9): `verification.code.maxChecks` was validated, documented and editable in
 * the console, but enforced nowhere, so a code could be guessed at for as long as the flow's budget
 * and the back-off allowed, whatever the tenant had set.
 *
 * With maxChecks=2 set through the policy API: after 2 wrong tries of one code, even the right code is
 * refused (401 invalid_factor, reason code_exhausted), again and again, until a new code is sent; the
 * new code then verifies. With maxChecks=3, the right code after 2 wrong tries still verifies (the
 * limit is the policy's, and exact).
 *
 * Fails when: the number of wrong tries of a code is not kept with the code, or is not compared with
 * the policy's maxChecks before the code is matched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callerFixture, lastCodeTo } from '../helpers/callers.js';
import { backends } from '../helpers/db.js';
import { updatePolicy } from '../helpers/flows.js';
import { Attacker } from './attacker.js';
import { startTarget, type Target } from './server.js';

describe.each(await backends())('verification.code.maxChecks is enforced (%s)', (backend) => {
  let t: Target;
  let x: Attacker;
  let f: Awaited<ReturnType<typeof callerFixture>>;

  beforeAll(async () => {
    t = await startTarget({ backend });
    x = new Attacker(t.url);
    f = await callerFixture(t);
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  const v = (vid: string) => `/v1/tenants/acme/verifications/${vid}`;
  const setMaxChecks = async (n: number) => {
    const saved = await updatePolicy(t, f.admin, 'acme', (p) => ({ ...p, verification: { ...p.verification, attempts: 10, code: { ...p.verification.code, maxChecks: n } } }));
    expect(saved.policy.verification.code.maxChecks).toBe(n);
    // the policy as the API now reads it
    expect((await x.get('/v1/tenants/acme/policy', { token: f.admin })).json.policy.verification.code.maxChecks).toBe(n);
  };
  const start = async (interactionId: string) => {
    const r = await x.post('/v1/tenants/acme/verifications', { token: f.agent, body: { customerId: f.customerId, interactionId } });
    expect(r.status, r.text).toBe(201);
    return r.json.id as string;
  };
  const send = async (vid: string) => {
    const r = await x.post(`${v(vid)}/codes`, { token: f.agent, body: { contactId: f.emailId, channel: 'email' } });
    expect(r.status, r.text).toBe(200);
    return lastCodeTo(t, 'dana@example.com');
  };
  const check = (vid: string, code: string) => x.post(`${v(vid)}/codes/check`, { token: f.agent, body: { code } });
  const notIt = (code: string, i: number) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0');
  const expectRefused = (r: Awaited<ReturnType<typeof check>>, reason: string) => expect([r.status, r.code, r.json?.details?.reason], r.text).toEqual([401, 'invalid_factor', reason]);

  it('maxChecks=2: after 2 wrong tries the right code is refused (code_exhausted) until a new code is sent', async () => {
    await setMaxChecks(2);
    const vid = await start('max-checks-2');
    const code = await send(vid);
    expectRefused(await check(vid, notIt(code, 0)), 'wrong_code');
    expectRefused(await check(vid, notIt(code, 1)), 'wrong_code');
    for (let i = 0; i < 2; i++) expectRefused(await check(vid, code), 'code_exhausted');
    const view = (await x.get(v(vid), { token: f.agent })).json;
    expect([view.state, view.completedMethods]).toEqual(['pending', []]);

    // a new code (after the resend cooldown) is checked afresh
    t.clock.advance(61_000);
    const fresh = await send(vid);
    const ok = await check(vid, fresh);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json.state).toBe('verified');
  });

  it('maxChecks=3: the right code after 2 wrong tries verifies', async () => {
    await setMaxChecks(3);
    const vid = await start('max-checks-3');
    const code = await send(vid);
    expectRefused(await check(vid, notIt(code, 0)), 'wrong_code');
    expectRefused(await check(vid, notIt(code, 1)), 'wrong_code');
    const ok = await check(vid, code);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json.state).toBe('verified');
  });
});
