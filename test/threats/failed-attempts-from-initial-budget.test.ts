/**
 * Threat: a running verification's failed attempts rewritten by a policy change.
 * Found by outside testing (2026-12-01): the failed-attempt count (and the risk it feeds) of a running
 * verification was computed as "the policy's attempts now minus attempts left", so raising the
 * tenant's attempts from 5 to 10 made a caller with 2 wrong PINs read as 7 failed attempts (high
 * risk), and lowering it hid failures that had happened.
 *
 * A verification started under attempts=5 takes 2 wrong PINs; the tenant then sets attempts=10, later
 * attempts=3: the running flow's attemptsLeft, its failed-attempt signal ("2 failed attempt(s)", then
 * 3 after one more wrong PIN) and its score come from its own initial budget (flows.attempts_initial),
 * whatever the policy says now; a verification started after the change gets the new budget.
 *
 * Fails when: failed attempts are derived from the policy in force instead of the flow's stored
 * initial budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callerFixture } from '../helpers/callers.js';
import { backends } from '../helpers/db.js';
import { updatePolicy } from '../helpers/flows.js';
import { Attacker } from './attacker.js';
import { startTarget, type Target } from './server.js';

describe.each(await backends())('failed attempts from the flow initial budget (%s)', (backend) => {
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
  const read = async (vid: string) => (await x.get(v(vid), { token: f.agent })).json;
  const failedSignal = (view: { risk: { signals: Array<{ signal: string; points: number; detail: string }> } }) => view.risk.signals.find((s) => s.signal === 'failed_attempts');
  const setAttempts = (n: number) => updatePolicy(t, f.admin, 'acme', (p) => ({ ...p, verification: { ...p.verification, attempts: n } }));
  const wrongPin = async (vid: string, i: number) => {
    const r = await x.post(`${v(vid)}/pin`, { token: f.agent, body: { pin: String(135_790 + i) } });
    expect([r.status, r.code], r.text).toEqual([401, 'invalid_factor']);
    return r;
  };

  it('the running flow keeps its own budget when the policy changes (up, then down)', async () => {
    expect((await setAttempts(5)).policy.verification.attempts).toBe(5);
    const started = await x.post('/v1/tenants/acme/verifications', { token: f.agent, body: { customerId: f.customerId, interactionId: 'budget-change' } });
    expect(started.status, started.text).toBe(201);
    const vid = started.json.id as string;
    const start = await read(vid);
    expect(start.attemptsLeft).toBe(5);
    expect(failedSignal(start)).toBeUndefined();

    await wrongPin(vid, 0);
    await wrongPin(vid, 1);
    const two = await read(vid);
    expect(two.attemptsLeft).toBe(3);
    expect(failedSignal(two)).toEqual({ signal: 'failed_attempts', points: 20, detail: '2 failed attempt(s)' });
    expect(two.risk.score).toBe(start.risk.score + 20);

    // the tenant raises the budget: the running flow still shows its 2 failures
    expect((await setAttempts(10)).policy.verification.attempts).toBe(10);
    const raised = await read(vid);
    expect(raised.attemptsLeft).toBe(3);
    expect(failedSignal(raised)).toEqual({ signal: 'failed_attempts', points: 20, detail: '2 failed attempt(s)' });
    expect(raised.risk).toEqual(two.risk);

    // one more wrong PIN, counted from the flow's own 5
    const third = await wrongPin(vid, 2);
    expect(third.json.details.attemptsLeft).toBe(2);
    expect(failedSignal(await read(vid))?.detail).toBe('3 failed attempt(s)');

    // and lowered below what is left: still 3 failed, 2 left
    expect((await setAttempts(3)).policy.verification.attempts).toBe(3);
    const lowered = await read(vid);
    expect([lowered.state, lowered.attemptsLeft]).toEqual(['pending', 2]);
    expect(failedSignal(lowered)).toEqual({ signal: 'failed_attempts', points: 30, detail: '3 failed attempt(s)' });

    // a verification started now gets the new budget, and no failures
    const next = await x.post('/v1/tenants/acme/verifications', { token: f.agent, body: { customerId: f.customerId, interactionId: 'budget-change-next' } });
    expect(next.status, next.text).toBe(201);
    expect(next.json.attemptsLeft).toBe(3);
    expect(failedSignal(next.json)).toBeUndefined();
  });
});
