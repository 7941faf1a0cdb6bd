/**
 * GET /v1/me/activity: the signed-in user's own recent sign-in activity, newest first, from the
 * audit log: sign-ins with their methods, failed password and factor attempts (also those made on
 * the identifier before anyone was identified) with where they came from, lockouts, factor changes,
 * recovery codes, password changes, revoked sessions and an administrator's unlock. Another user's
 * events, and attempts on the same address in another tenant, are not shown; no secret is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPolicy, lockoutRules } from '../../src/domain/policy.js';
import { backoffDelayMs } from '../../src/engine/gate.js';
import { api, enrollTotp, json, seed, signIn, STRONG, testApp, type TestApp } from '../helpers/app.js';
import { passwordStep, reauthenticate, startFlow, totpFor, updatePolicy, wrongTotp } from '../helpers/flows.js';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) ActivityTest/1.0';
const ATTACKER = '203.0.113.77';

interface Activity {
  id: number;
  type: string;
  outcome: string;
  at: string;
  ip: string | null;
  userAgent: string | null;
  methods?: string[];
  reason?: string;
}

describe('my recent sign-in activity', () => {
  let t: TestApp;
  let acme: Awaited<ReturnType<typeof seed>>;
  let globex: Awaited<ReturnType<typeof seed>>;
  const ana = 'ana@acme.test';
  const secrets: string[] = [];
  const activity = async (token: string, limit?: number) => {
    const r = await api(t.app).get(`/v1/me/activity${limit ? `?limit=${limit}` : ''}`, { token });
    expect(r.statusCode, r.body).toBe(200);
    secrets.forEach((x) => expect(r.body).not.toContain(x));
    return json(r).events as Activity[];
  };
  const inject = (method: 'POST', url: string, o: { flow?: string; body: object; ip?: string }) =>
    t.app.inject({ method, url, headers: { 'user-agent': UA, ...(o.flow ? { 'x-flow-token': o.flow } : {}) }, payload: o.body, ...(o.ip ? { remoteAddress: o.ip } : {}) });

  beforeAll(async () => {
    t = await testApp();
    acme = await seed(t, { tenant: 'acme', users: [{ email: 'boss@acme.test', roles: ['tenant_admin'] }, { email: ana, roles: ['agent'] }, { email: 'ben@acme.test', roles: ['agent'] }] });
    // the same address in another tenant is another account
    globex = await seed(t, { tenant: 'globex', users: [{ email: ana, roles: ['agent'] }] });
  }, 60_000);
  afterAll(() => t?.close());

  it('lists sign-ins, failed attempts, factor, recovery-code, password and session changes, newest first', async () => {
    const enrolled = await enrollTotp(t, acme.users[ana]!.token!);
    secrets.push(enrolled.secret, ...enrolled.recoveryCodes, STRONG);
    t.clock.advance(31_000);

    // someone guesses Ana's password from elsewhere (no one is identified yet at this step)
    const guess = 'summer2026-guess!';
    secrets.push(guess);
    const start = json(await inject('POST', '/v1/auth/flows', { body: { tenant: 'acme', identifier: 'ANA@acme.test' }, ip: ATTACKER }));
    expect((await inject('POST', `/v1/auth/flows/${start.flow.id}/password`, { flow: start.flowToken, body: { password: guess }, ip: ATTACKER })).statusCode).toBe(401);
    // not Ana's: a guess on Ben, and one on the same address in globex
    for (const [tenant, who] of [['acme', 'ben@acme.test'], ['globex', ana]] as const) {
      const other = await startFlow(t.app, tenant, who);
      expect((await passwordStep(t.app, other.flow, 'not the password at all')).res.statusCode).toBe(401);
    }

    // Ana signs in: password, a wrong code, then the right one
    const f = json(await inject('POST', '/v1/auth/flows', { body: { tenant: 'acme', identifier: ana } }));
    const pw = json(await inject('POST', `/v1/auth/flows/${f.flow.id}/password`, { flow: f.flowToken, body: { password: STRONG } }));
    expect(pw.flow.state).toBe('second_factor');
    const bad = wrongTotp(enrolled.secret, t.clock.now());
    secrets.push(bad);
    expect((await inject('POST', `/v1/auth/flows/${f.flow.id}/factor`, { flow: pw.flowToken, body: { method: 'totp', code: bad } })).statusCode).toBe(401);
    const code = totpFor(enrolled.secret, t.clock.now());
    const done = await inject('POST', `/v1/auth/flows/${f.flow.id}/factor`, { flow: pw.flowToken, body: { method: 'totp', code } });
    expect(done.statusCode, done.body).toBe(200);
    const session = json(done).session.token as string;
    secrets.push(session, acme.users[ana]!.token!);

    // new recovery codes, an old session revoked, a wrong and a right password change
    t.clock.advance(31_000);
    const fresh = await reauthenticate(t, session, enrolled.secret);
    secrets.push(fresh);
    const codes = await api(t.app).post('/v1/me/recovery-codes', { token: fresh });
    expect(codes.statusCode).toBe(200);
    secrets.push(...(json(codes).recoveryCodes as string[]));
    const sessions = json(await api(t.app).get('/v1/me/sessions', { token: fresh })).sessions as Array<{ id: string; current: boolean }>;
    const old = sessions.find((x) => !x.current)!;
    expect((await api(t.app).del(`/v1/me/sessions/${old.id}`, { token: fresh })).statusCode).toBe(200);
    expect((await api(t.app).post('/v1/me/password', { token: fresh, body: { currentPassword: 'not my password', newPassword: 'another long passphrase 99' } })).statusCode).toBe(401);
    expect((await api(t.app).post('/v1/me/password', { token: fresh, body: { currentPassword: STRONG, newPassword: 'another long passphrase 99' } })).statusCode).toBe(200);
    secrets.push('another long passphrase 99');

    const events = await activity(fresh);
    expect(events.map((e) => e.type)).toEqual([
      'password_changed',
      'password_change_failed',
      'session_revoked',
      'recovery_codes_regenerated',
      'reauthentication',
      'signin',
      'signin_failed',
      'signin_failed',
      'factor_added',
      'signin', // the first sign-in, with the password only (the seed's)
    ]);
    const ids = events.map((e) => e.id);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
    const [, , , , reauth, signin, wrongCode, guessed, factor, first] = events;
    expect(first).toMatchObject({ outcome: 'success', methods: ['pwd'] });
    expect(signin).toMatchObject({ outcome: 'success', methods: ['pwd', 'totp'], userAgent: UA, ip: '127.0.0.1' });
    expect(reauth).toMatchObject({ outcome: 'success', methods: ['pwd', 'totp'] });
    expect(wrongCode).toMatchObject({ outcome: 'failure', methods: ['totp'], userAgent: UA });
    expect(guessed).toMatchObject({ outcome: 'failure', methods: ['pwd'], reason: 'wrong_password', ip: ATTACKER, userAgent: UA });
    expect(factor).toMatchObject({ outcome: 'success', methods: ['totp'] });
    expect(events[1]).toMatchObject({ outcome: 'failure', reason: 'wrong_current_password' });
    for (const e of events) {
      expect(Object.keys(e).every((k) => ['id', 'type', 'outcome', 'at', 'ip', 'userAgent', 'methods', 'reason'].includes(k))).toBe(true);
      expect(Number.isNaN(Date.parse(e.at))).toBe(false);
    }

    // limit: the newest n
    expect((await activity(fresh, 2)).map((e) => e.id)).toEqual(ids.slice(0, 2));
    expect((await api(t.app).get('/v1/me/activity?limit=0', { token: fresh })).statusCode).toBe(400);

    // Ben, and the globex account with Ana's address, see only their own events
    const ben = await activity(acme.users['ben@acme.test']!.token!);
    expect(ben.map((e) => e.type)).toEqual(['signin_failed', 'signin']);
    const namesake = await activity(globex.users[ana]!.token!);
    expect(namesake.map((e) => e.type)).toEqual(['signin_failed', 'signin']);
    expect([...ben, ...namesake].some((e) => ids.includes(e.id))).toBe(false);
    // and the signed-out see nothing
    expect((await api(t.app).get('/v1/me/activity')).statusCode).toBe(401);
  });

  it('shows a lockout and the administrator unlocking the account', async () => {
    const boss = acme.users['boss@acme.test']!.token!;
    await updatePolicy(t, boss, 'acme', (p) => ({ ...p, pciMode: true }));
    const ben = 'ben@acme.test';
    const rules = lockoutRules(defaultPolicy());
    // Ben already has one failure on record; nine more reach the PCI threshold of ten
    for (let i = 1; i < 10; i++) {
      const wait = backoffDelayMs(i, rules);
      if (wait > 0) t.clock.advance(wait + 1_000);
      const r = await passwordStep(t.app, (await startFlow(t.app, 'acme', ben)).flow, `wrong password number ${i}`);
      expect(r.res.statusCode, r.res.body).toBe(401);
    }
    const locked = await passwordStep(t.app, (await startFlow(t.app, 'acme', ben)).flow, STRONG);
    expect(locked.body.details?.reason).toBe('locked');
    expect((await api(t.app).post(`/v1/tenants/acme/users/${acme.users[ben]!.id}/unlock`, { token: boss })).statusCode).toBe(200);

    const { token } = await signIn(t.app, 'acme', ben, STRONG);
    const events = await activity(token!);
    expect(events.slice(0, 3).map((e) => e.type)).toEqual(['signin', 'unlocked', 'locked_out']);
    expect(events[2]).toMatchObject({ outcome: 'failure', reason: 'locked', methods: ['pwd'] });
    expect(events.filter((e) => e.type === 'signin_failed')).toHaveLength(10);
    // the administrator's own activity does not list the unlock they did to Ben
    expect((await activity(boss)).map((e) => e.type)).not.toContain('unlocked');
  });
});
