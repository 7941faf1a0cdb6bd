/**
 * Threat: one-time-code replay.
 * Advisories: Vault CVE-2025-6014 (a used TOTP code accepted again), and the OpenBao variant in which
 * the same code with whitespace around it was a "different" code to the used-code cache and passed.
 *
 * The attacker has the victim's password and a code the victim already used (shoulder-surfed, phished,
 * read from a log), and replays it over HTTP in every spelling a normalizer might fold onto the same
 * digits or not: spaces around and inside, tabs and newlines, no-break and ideographic spaces, dashes
 * and dots, full-width, mathematical, circled and superscript digits (NFKC folds those to ASCII),
 * Arabic-Indic, Persian and Devanagari digits (NFKC does not), a plus sign, a leading zero, a
 * zero-width space, a NUL. Then N spellings of one *fresh* code race on N flows. The same for caller
 * codes (bound to their verification, dead after use or after a resend), the customer's own
 * authenticator across calls, and staff recovery codes.
 *
 * Every replay must be refused, and every spelling that the server folds onto the digits must be
 * refused *as a replay* (the audit log says `replayed`), which proves normalization happens before
 * the used-code check, the OpenBao bug being the other order. Of parallel spellings of one code,
 * exactly one wins.
 *
 * From the former in-process suite: with the default back-off, a used code and its whitespace and
 * dash variants are refused in a new flow (each audited as `replayed`) while that flow still accepts
 * the next unused code; and, on PGlite and on PostgreSQL, 50 parallel submissions of one code on one
 * flow, and one code on 10 parallel flows, give exactly one session, with the code check widened (a
 * spy that waits inside `verify`) so that several requests are inside it at once.
 *
 * Fails when: the replay ledger is keyed by the submitted string instead of the time step; a used
 * caller code is not marked consumed; a caller code is not bound to its verification; a recovery
 * code is compared after a normalization the spend does not share.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invitationToken, seed, STRONG } from '../helpers/app.js';
import { callerFixture, lastCodeTo } from '../helpers/callers.js';
import { auditEvents, raceBackends, updatePolicy, widenRace, withTotp } from '../helpers/flows.js';
import { Attacker, parallel, tally, totpCode, type FlowHandle, inTurn } from './attacker.js';
import { startTarget, type Target } from './server.js';
import { atSecondFactor } from './steps.js';

/** Spellings of `c` (six ASCII digits), with whether the server is expected to fold them onto `c`. */
function spellings(c: string): Array<[string, string, boolean]> {
  const map = (base: number) => [...c].map((d) => String.fromCodePoint(base + Number(d))).join('');
  return [
    ['as is', c, true],
    ['leading space', ` ${c}`, true],
    ['trailing space', `${c} `, true],
    ['tab and newline', `\t${c}\n`, true],
    ['inner space', `${c.slice(0, 3)} ${c.slice(3)}`, true],
    ['no-break space', `${c.slice(0, 3)}\u00a0${c.slice(3)}`, true],
    ['ideographic space', `\u3000${c}`, true],
    ['dash', `${c.slice(0, 3)}-${c.slice(3)}`, true],
    ['dots', `${c.slice(0, 2)}.${c.slice(2, 4)}.${c.slice(4)}`, true],
    ['full-width', map(0xff10), true],
    ['mathematical bold', map(0x1d7ce), true],
    ['half full-width', c.slice(0, 3) + map(0xff10).slice(3), true],
    ['superscript', [...c].map((d) => '⁰¹²³⁴⁵⁶⁷⁸⁹'[Number(d)]).join(''), true],
    ['Arabic-Indic', map(0x0660), false],
    ['Persian', map(0x06f0), false],
    ['Devanagari', map(0x0966), false],
    ['plus sign', `+${c}`, false],
    ['leading zero', `0${c}`, false],
    ['zero-width space', `${c}\u200b`, false],
  ];
}

describe('OTP replay', () => {
  let t: Target;
  let x: Attacker;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  let vic: Awaited<ReturnType<typeof withTotp>>;
  const victim = 'vic@acme.test';
  let apiKey: string;

  beforeAll(async () => {
    t = await startTarget();
    x = new Attacker(t.url);
    f = await callerFixture(t);
    expect((await x.post('/v1/tenants/acme/users', { token: f.admin, body: { email: victim, roles: ['agent'] } })).status).toBe(201);
    await x.post('/v1/invitations/accept', { body: { token: await invitationToken(t.s, victim), password: STRONG } });
    vic = await withTotp(t, await x.signIn('acme', victim, STRONG));
    // the back-off (after 5 failures) would refuse replays unseen; raised here so that every one reaches the check
    await updatePolicy(t, f.admin, 'acme', (p) => ({ ...p, lockout: { ...p.lockout, backoffAfter: 100 } }));
    apiKey = (await x.post('/v1/tenants/acme/api-keys', { token: f.admin, body: { name: 'ivr', scopes: ['ivr'] } })).json.key;
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  /** Why each failed sign-in step of these flows failed, from the audit log (read over HTTP). */
  async function reasons(flows: FlowHandle[]): Promise<string[]> {
    const admin = await x.signIn('acme', 'admin@acme.test', STRONG);
    const r = await x.get('/v1/tenants/acme/audit?type=auth.attempt&outcome=failure&limit=1000', { token: admin });
    const events = r.json.events as Array<{ targetId: string; data: { reason: string } }>;
    return flows.map((fl) => events.filter((e) => e.targetId === fl.id).map((e) => e.data.reason).join(',') || 'none');
  }

  it('staff TOTP: a used code is refused in every spelling, each folded spelling as a replay', async () => {
    const code = totpCode(vic.secret, t.clock.now());
    const first = await x.factor(await x.pastPassword('acme', victim, STRONG), 'totp', code);
    expect(first.status, first.text).toBe(200);

    const list = spellings(code);
    const flows: FlowHandle[] = [];
    for (const [name, s] of list) {
      const fl = await x.pastPassword('acme', victim, STRONG);
      flows.push(fl);
      const r = await x.factor(fl, 'totp', s);
      expect([r.status, r.code], name).toEqual([401, 'invalid_factor']);
      expect(r.json.session, name).toBeUndefined();
    }
    expect(await reasons(flows)).toEqual(list.map(([, , folds]) => (folds ? 'code_used' : 'malformed')));
    // a NUL never reaches the check at all
    const nul = await x.factor(await x.pastPassword('acme', victim, STRONG), 'totp', `${code}\u0000`);
    expect([nul.status, nul.code]).toEqual([400, 'invalid_request']);
  });

  it('staff TOTP: of every spelling of one fresh code, raced on as many flows, exactly one signs in', async () => {
    t.clock.advance(30_000);
    const code = totpCode(vic.secret, t.clock.now());
    const list = spellings(code);
    const flows = await inTurn(list.length, () => x.pastPassword('acme', victim, STRONG));
    const replies = await parallel(list.length, (i) => x.factor(flows[i]!, 'totp', list[i]![1], { fresh: true }));
    expect(tally(replies)).toEqual({ '200 ok': 1, [`401 invalid_factor`]: list.length - 1 });
    expect(list[replies.findIndex((r) => r.status === 200)]![2]).toBe(true); // the winner is a spelling that folds
  });

  it('staff recovery codes: spent once, whatever the case, dashes or width; raced spellings give one sign-in', async () => {
    const [used, fresh] = vic.recoveryCodes as [string, string];
    expect((await x.factor(await x.pastPassword('acme', victim, STRONG), 'recovery_code', used)).status).toBe(200);
    const variants = (c: string) => [c, c.toUpperCase(), c.replace(/-/g, ''), ` ${c.replace(/-/g, ' ')} `, [...c].map((ch) => (ch === '-' ? '-' : String.fromCodePoint(ch.codePointAt(0)! + 0xfee0))).join('')];
    for (const v of variants(used)) {
      const r = await x.factor(await x.pastPassword('acme', victim, STRONG), 'recovery_code', v);
      expect([r.status, r.code], v).toEqual([401, 'invalid_factor']);
    }
    const flows = await inTurn(5, () => x.pastPassword('acme', victim, STRONG));
    const raced = await parallel(5, (i) => x.factor(flows[i]!, 'recovery_code', variants(fresh)[i]!, { fresh: true }));
    expect(tally(raced)).toEqual({ '200 ok': 1, '401 invalid_factor': 4 });
  });

  const v = (id: string) => `/v1/tenants/acme/verifications/${id}`;
  async function verification(interactionId: string, agent: string, level = 'high') {
    const r = await x.post('/v1/tenants/acme/verifications', { token: agent, body: { customerId: f.customerId, interactionId, level } });
    expect(r.status, r.text).toBe(201);
    return r.json.id as string;
  }
  async function sendSms(id: string, agent: string) {
    const r = await x.post(`${v(id)}/codes`, { token: agent, body: { contactId: f.phoneId, channel: 'sms' } });
    expect(r.status, r.text).toBe(200);
    return lastCodeTo(t, '+14155550134');
  }

  it('caller codes: dead once used in any spelling, bound to their verification, dead after a resend', async () => {
    const agent = await x.signIn('acme', 'agent@acme.test', STRONG);
    // "high": possession plus knowledge, so the verification stays pending after the code and can be replayed against
    const a = await verification('call-replay-a', agent);
    const code = await sendSms(a, agent);
    const ok = await x.post(`${v(a)}/codes/check`, { token: agent, body: { code } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json).toMatchObject({ state: 'pending', completedMethods: ['otp_sms'] });
    const seen: string[] = [];
    for (const [, s] of spellings(code).slice(0, 4)) {
      const r = await x.post(`${v(a)}/codes/check`, { token: agent, body: { code: s } });
      seen.push(`${r.status} ${r.json.details?.reason}`);
    }
    expect(seen).toEqual(Array(4).fill('401 code_used'));

    // bound to the verification it was sent for: verification B has its own live code, A's is wrong there
    t.clock.advance(61_000);
    const b = await verification('call-replay-b', agent);
    const codeB = await sendSms(b, agent);
    if (codeB !== code) {
      const cross = await x.post(`${v(b)}/codes/check`, { token: agent, body: { code } });
      expect([cross.status, cross.json.details.reason]).toEqual([401, 'wrong_code']);
    }
    // a resend replaces B's code: the old one is dead, through the IVR too
    t.clock.advance(61_000);
    const codeB2 = await sendSms(b, agent);
    if (codeB2 !== codeB) {
      const old = await x.post(`${v(b)}/codes/check`, { token: agent, body: { code: codeB } });
      expect([old.status, old.json.details.reason]).toEqual([401, 'wrong_code']); // only the newest code is compared
      const ivr = await x.post(`/v1/ivr/verifications/${b}/digits`, { token: apiKey, body: { digits: `${codeB}#` } });
      expect(ivr.json).toMatchObject({ accepted: false, notice: 'That code is not correct.' });
    }
    const live = await x.post(`${v(b)}/codes/check`, { token: agent, body: { code: ` ${codeB2.slice(0, 3)} ${codeB2.slice(3)} ` } });
    expect(live.status, live.text).toBe(200);
  });

  it("the customer's authenticator: a code read out on one call is refused on the next, in any spelling", async () => {
    const agent = await x.signIn('acme', 'agent@acme.test', STRONG);
    const admin = await x.signIn('acme', 'admin@acme.test', STRONG);
    const bound = await x.post(`/v1/tenants/acme/customers/${f.customerId}/totp`, { token: admin, body: {} });
    expect(bound.status, bound.text).toBe(201);
    const confirmed = await x.post(`/v1/tenants/acme/customers/${f.customerId}/totp/${bound.json.factorId}/confirm`, { token: admin, body: { code: totpCode(bound.json.secret, t.clock.now()) } });
    expect(confirmed.status, confirmed.text).toBe(200);
    t.clock.advance(30_000);
    const code = totpCode(bound.json.secret, t.clock.now());
    const first = await verification('call-totp-1', agent);
    expect((await x.post(`${v(first)}/totp`, { token: agent, body: { code } })).status).toBe(200);
    const reasons: string[] = [];
    for (const [i, [, s]] of spellings(code).slice(0, 4).entries()) {
      const next = await verification(`call-totp-2-${i}`, agent);
      const r = await x.post(`${v(next)}/totp`, { token: agent, body: { code: s } });
      reasons.push(`${r.status} ${r.json.details?.reason}`);
    }
    expect(reasons).toEqual(Array(4).fill('401 code_used'));
  });
});

describe('OTP replay in a new flow', () => {
  let t: Target;
  let x: Attacker;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const ana = 'ana@acme.test';

  beforeAll(async () => {
    t = await startTarget();
    x = new Attacker(t.url);
    seeded = await seed(t, { users: [{ email: ana, roles: ['agent'] }] });
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  it('refuses a code that completed a sign-in, in a new flow and in whitespace/dash variants', async () => {
    const { secret } = await withTotp(t, seeded.users[ana]!.token!);
    const code = totpCode(secret, t.clock.now());

    const first = await x.factor(await atSecondFactor(x, 'acme', ana), 'totp', code);
    expect(first.status).toBe(200);
    expect(first.json.session.token).toEqual(expect.any(String));

    const again = await atSecondFactor(x, 'acme', ana);
    const variants = [code, `${code.slice(0, 3)} ${code.slice(3)}`, ` ${code} `, `${code.slice(0, 3)}-${code.slice(3)}`];
    for (const v of variants) {
      const r = await x.factor(again, 'totp', v);
      expect(r.status, `variant ${JSON.stringify(v)}`).toBe(401);
      expect(r.code).toBe('invalid_factor');
      expect(r.json.session).toBeUndefined();
    }
    // Each variant was normalized and recognized as the used code (not refused as malformed).
    const reasons = (await auditEvents(t, seeded.tenantId, { type: 'auth.attempt', outcome: 'failure' }))
      .filter((e) => e.targetId === again.id)
      .map((e) => (e.data as { reason?: string }).reason);
    expect(reasons).toEqual(variants.map(() => 'code_used'));

    // The same flow still accepts the next, unused code: only the replay was refused.
    t.clock.advance(30_000);
    const fresh = totpCode(secret, t.clock.now());
    expect(fresh).not.toBe(code);
    const ok = await x.factor(again, 'totp', fresh);
    expect(ok.status).toBe(200);
    expect(ok.json.session.token).toEqual(expect.any(String));
  });
});

describe.each(await raceBackends())('OTP replay by racing one code (%s)', (backend) => {
  let t: Target;
  let x: Attacker;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const ben = 'ben@acme.test';
  const cy = 'cy@acme.test';

  beforeAll(async () => {
    t = await startTarget({ backend });
    x = new Attacker(t.url);
    seeded = await seed(t, { users: [ben, cy].map((email) => ({ email, roles: ['agent'] })) });
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  const liveSessions = async (token: string) => {
    const r = await x.get('/v1/me/sessions', { token });
    expect(r.status).toBe(200);
    return (r.json.sessions as unknown[]).length;
  };

  it('50 parallel submissions of one valid code on one flow yield exactly one session', async () => {
    const { secret } = await withTotp(t, seeded.users[ben]!.token!);
    const before = await liveSessions(seeded.users[ben]!.token!);
    const flow = await atSecondFactor(x, 'acme', ben);
    const code = totpCode(secret, t.clock.now());
    const verify = widenRace(t.s.methods.get('totp')!, 'verify');
    const results = await parallel(50, () => x.factor(flow, 'totp', code, { fresh: true }));
    const checks = verify.mock.calls.length;
    verify.mockRestore();

    const winners = results.filter((r) => r.status === 200 && typeof r.json?.session?.token === 'string');
    expect(winners, JSON.stringify(tally(results))).toHaveLength(1);
    // Every other request was refused with one of the expected errors (no 5xx, no second session).
    const others = Object.keys(tally(results)).filter((k) => k !== '200 ok');
    expect(others.length).toBeGreaterThan(0);
    for (const k of others) {
      expect(['401 invalid_factor', '401 flow_invalid', '409 flow_state', '429 flow_failed', '429 too_many_attempts']).toContain(k);
    }
    // The race was real: several requests were checking the code at the same time.
    expect(checks).toBeGreaterThan(1);
    expect(await liveSessions(winners[0]!.json.session.token)).toBe(before + 1);
  });

  it('one code raced across 10 parallel flows yields exactly one session', async () => {
    const { secret } = await withTotp(t, seeded.users[cy]!.token!);
    const before = await liveSessions(seeded.users[cy]!.token!);
    // the flows are set up one after another: ten password steps at once are judged as a sequence of
    // ten checks (the in-flight ones count as failures), so past the back-off threshold some would be
    // throttled; the race under test is the TOTP one below
    const flows: Awaited<ReturnType<typeof atSecondFactor>>[] = [];
    for (let i = 0; i < 10; i++) flows.push(await atSecondFactor(x, 'acme', cy));
    const code = totpCode(secret, t.clock.now());
    const verify = widenRace(t.s.methods.get('totp')!, 'verify');
    const results = await Promise.all(flows.map((f) => x.factor(f, 'totp', code, { fresh: true })));
    const checks = verify.mock.calls.length;
    verify.mockRestore();
    expect(checks).toBeGreaterThan(1);
    const winners = results.filter((r) => r.status === 200);
    expect(winners, JSON.stringify(tally(results))).toHaveLength(1);
    expect(await liveSessions(winners[0]!.json.session.token)).toBe(before + 1);
  });
});
