/**
 * Threat: a captured WebAuthn answer is used again, or an answer is aimed at a challenge it was not
 * made for. Each challenge lives in one flow's ceremony slot, serves one answer and expires after
 * 300 s, so: the same assertion a second time is refused (no open challenge; not counted, nothing
 * issued); an assertion over another flow's challenge is a counted wrong answer; an answer after
 * the challenge expired is refused and must start over; ten parallel submissions of one assertion
 * issue one session.
 *
 * Fails when: the challenge is not single use, not bound to the flow, or not given an expiry; or
 * the signature counter of a parallel use is not compare-and-set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, testApp, type TestApp } from '../helpers/app.js';
import { backends } from '../helpers/db.js';
import { atSecondFactor, tally } from '../helpers/flows.js';
import { answerKey, keyOptions, keysTenant, ORIGIN, registerKey, SoftAuthenticator, startPasskey } from '../helpers/webauthn.js';

describe.each(await backends())('replayed assertions and foreign or expired challenges (%s)', (backend) => {
  let t: TestApp;
  const key = new SoftAuthenticator({ userVerification: true });
  beforeAll(async () => {
    t = await testApp({ backend });
    const w = await keysTenant(t, ['kim@acme.test']);
    expect((await registerKey(t, w.token('kim@acme.test'), key, { kind: 'passkey' })).res.statusCode).toBe(200);
  });
  afterAll(() => t.close());

  it('the same assertion twice: one session, then refused as having no challenge (not counted)', async () => {
    const flow = await atSecondFactor(t.app, 'acme', 'kim@acme.test');
    const assertion = await key.assert(await keyOptions(t, flow), { origin: ORIGIN });
    const first = await answerKey(t, flow, assertion);
    expect(first.statusCode, first.body).toBe(200);
    // the flow token was rotated: a replay with the old token is not even a valid flow
    const again = await answerKey(t, flow, assertion);
    expect(again.statusCode).toBe(401);
    expect(json(again).code).toBe('flow_invalid');
    // on a passwordless flow that is still open, a replayed assertion of another flow finds a fresh challenge
    const p = await startPasskey(t, 'acme');
    const r = await answerKey(t, p.flow, assertion);
    expect([r.statusCode, json(r).details.reason]).toEqual([401, 'wrong_challenge']);
  });

  it('an assertion over another flow’s challenge is a counted wrong answer', async () => {
    const a = await atSecondFactor(t.app, 'acme', 'kim@acme.test');
    const b = await atSecondFactor(t.app, 'acme', 'kim@acme.test');
    const forB = await key.assert(await keyOptions(t, b), { origin: ORIGIN });
    await keyOptions(t, a);
    const r = await answerKey(t, a, forB);
    expect([r.statusCode, json(r).code, json(r).details.reason, json(r).details.attemptsLeft]).toEqual([401, 'invalid_factor', 'wrong_challenge', 4]);
  });

  it('a challenge older than 300 s is refused (not counted) and a new one works', async () => {
    const flow = await atSecondFactor(t.app, 'acme', 'kim@acme.test');
    const old = await keyOptions(t, flow);
    t.clock.advance(301_000);
    const r = await answerKey(t, flow, await key.assert(old, { origin: ORIGIN }));
    expect([r.statusCode, json(r).details.reason, json(r).details.attemptsLeft]).toEqual([401, 'challenge_expired', 5]);
    const ok = await answerKey(t, flow, await key.assert(await keyOptions(t, flow), { origin: ORIGIN }));
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('asking for options again replaces the challenge: an answer to the first is refused', async () => {
    const flow = await atSecondFactor(t.app, 'acme', 'kim@acme.test');
    const first = await keyOptions(t, flow);
    await keyOptions(t, flow);
    const r = await answerKey(t, flow, await key.assert(first, { origin: ORIGIN }));
    expect(json(r).details.reason).toBe('wrong_challenge');
  });

  it('10 parallel submissions of one assertion: exactly one session', async () => {
    const p = await startPasskey(t, 'acme');
    const assertion = await key.assert(p.options, { origin: ORIGIN });
    const replies = await Promise.all(Array.from({ length: 10 }, () => answerKey(t, p.flow, assertion)));
    const c = tally(replies);
    expect(c['200 ok'], JSON.stringify(c)).toBe(1);
    for (const k of Object.keys(c)) expect(['200 ok', '401 invalid_factor', '401 flow_invalid', '409 flow_state', '429 too_many_attempts']).toContain(k);
  });
});
