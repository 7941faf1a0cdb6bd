/**
 * Threat: enrolling (or removing) an authenticator without fresh authentication.
 * Requirement: NIST SP 800-63B BAA-2/3 and ASVS 7.5.1 (adding or removing a factor needs fresh
 * authentication and sends a notice on an independent channel); the advisories listed with it are the
 * MFA-bypass ones, where a stolen or half-made session bound the attacker's own authenticator.
 *
 * The attacker has a stolen session (and, worse, the password too) and, over HTTP, tries to bind an
 * authenticator of their own, remove the victim's, or mint recovery codes: 11 minutes after sign-in
 * (the default window is 10), through a re-authentication they cannot finish, with a re-authentication
 * flow token on the enrollment routes, and with a sign-in flow that stopped at forced enrollment
 * before the victim enrolled. Every such change must be refused and change nothing; with real fresh
 * authentication the same changes work, and every binding, the first one at forced enrollment
 * included, tells the user by email.
 *
 * Fails when: `requireFreshAuth` is dropped from begin, confirm, remove or recovery codes (a stale
 * session gets 2xx); the re-authentication refreshes `auth_time` after the password alone; the forced
 * enrollment of a stale flow activates a second authenticator (no unique active factor per kind);
 * forced enrollment binds a factor silently (the finding fixed with this suite, see docs/threats.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invitationToken, seed, STRONG } from '../helpers/app.js';
import { notices as queued, updatePolicy, withTotp } from '../helpers/flows.js';
import { Attacker, totpCode, type Reply } from './attacker.js';
import { startTarget, type Target } from './server.js';
import { reauthenticate, signInTotp } from './steps.js';

const ELEVEN_MINUTES = 11 * 60_000;

describe('enrollment without fresh authentication', () => {
  let t: Target;
  let x: Attacker;
  let seeded: Awaited<ReturnType<typeof seed>>;
  let ana: Awaited<ReturnType<typeof withTotp>>;
  const admin = 'admin@acme.test';

  beforeAll(async () => {
    t = await startTarget();
    x = new Attacker(t.url);
    seeded = await seed(t, {
      users: [
        { email: admin, roles: ['tenant_admin'] },
        { email: 'ana@acme.test', roles: ['agent'] },
        { email: 'bob@acme.test', roles: ['agent'] },
        { email: 'sue@acme.test', roles: ['supervisor'] },
      ],
    });
    ana = await withTotp(t, seeded.users['ana@acme.test']!.token!);
    // supervisors must use MFA; sue has no factor yet, so her sign-in stops at forced enrollment
    await updatePolicy(t, seeded.users[admin]!.token!, 'acme', (p) => ({ ...p, mfa: { ...p.mfa, roles: { supervisor: 'required' } } }));
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  const stale = (r: Reply, what: string) => {
    expect([r.status, r.code], `${what}: ${r.text}`).toEqual([401, 'reauthentication_required']);
  };
  /** Templates of the messages queued for `email` (the dev outbox, read by an administrator over HTTP). */
  const notices = async (email: string) => {
    const token = await x.signIn('acme', admin, STRONG);
    return ((await x.get(`/v1/tenants/acme/outbox?recipient=${encodeURIComponent(email)}&limit=200`, { token })).json.messages as Array<{ template: string }>).map((m) => m.template).filter((n) => n !== 'invitation');
  };
  const kinds = async (token: string) => ((await x.get('/v1/me/factors', { token })).json.factors as Array<{ kind: string; remaining?: number }>).map((f) => `${f.kind}${f.remaining !== undefined ? `:${f.remaining}` : ''}`).sort();

  it('a stolen session, 11 minutes after sign-in, can neither bind, remove nor mint anything', async () => {
    // bob: a fresh session may start an enrollment, the stolen one may not finish it nor start another
    const bob = await x.signIn('acme', 'bob@acme.test', STRONG);
    const begun = await x.post('/v1/me/factors/totp', { token: bob });
    expect(begun.status).toBe(201);
    t.clock.advance(ELEVEN_MINUTES);
    expect((await x.get('/v1/me', { token: bob })).status).toBe(200); // the session itself still works
    stale(await x.post(`/v1/me/factors/totp/${begun.json.factorId}/confirm`, { token: bob, body: { code: totpCode(begun.json.secret, t.clock.now()) } }), 'confirm');
    stale(await x.post('/v1/me/factors/totp', { token: bob }), 'begin');
    stale(await x.post('/v1/me/recovery-codes', { token: bob }), 'recovery codes');
    expect(await kinds(bob)).toEqual([]);

    // ana: the stolen session cannot remove her authenticator or replace her recovery codes
    const session = await x.signIn('acme', 'ana@acme.test', STRONG, { secret: ana.secret, at: t.clock.now() });
    t.clock.advance(ELEVEN_MINUTES);
    const before = await kinds(session);
    stale(await x.del(`/v1/me/factors/${ana.factorId}`, { token: session }), 'remove');
    stale(await x.post('/v1/me/recovery-codes', { token: session }), 'recovery codes');
    expect(await kinds(session)).toEqual(before);
    expect(await notices('bob@acme.test')).toEqual([]);
    expect((await notices('ana@acme.test')).filter((n) => n !== 'factor_added')).toEqual([]); // only her own enrollment's notice
  });

  it('with the password too, the thief cannot freshen the session: re-authentication stops at the second factor', async () => {
    const session = await x.signIn('acme', 'ana@acme.test', STRONG, { secret: ana.secret, at: t.clock.now() });
    t.clock.advance(ELEVEN_MINUTES);
    const re = await x.post('/v1/me/reauth', { token: session });
    expect(re.status).toBe(201);
    const pw = await x.password({ id: re.json.flow.id, token: re.json.flowToken }, STRONG);
    expect(pw.res.json.flow.state).toBe('second_factor');
    expect(pw.res.json.session).toBeUndefined();
    // the re-authentication's tokens open no enrollment, in the flow or outside it
    for (const token of [re.json.flowToken, pw.next.token]) {
      const begin = await x.post(`/v1/auth/flows/${re.json.flow.id}/enroll/totp`, { flow: token });
      expect(begin.status, begin.text).toBeGreaterThanOrEqual(400);
      expect(begin.json.enrollment).toBeUndefined();
      expect((await x.post('/v1/me/factors/totp', { token })).status).toBe(401);
    }
    // the session is as stale as before
    stale(await x.del(`/v1/me/factors/${ana.factorId}`, { token: session }), 'remove after a half re-authentication');
    // and finishing it with a wrong code does not help either
    const wrong = await x.factor(pw.next, 'totp', '000000' === totpCode(ana.secret, t.clock.now()) ? '111111' : '000000');
    expect(wrong.status).toBe(401);
    stale(await x.post('/v1/me/recovery-codes', { token: session }), 'recovery codes after a failed re-authentication');
  });

  it('a sign-in flow that stopped at forced enrollment before the victim enrolled cannot bind a second authenticator', async () => {
    // the attacker, with sue's password, parks a flow at forced enrollment
    const parked = await x.pastPassword('acme', 'sue@acme.test', STRONG);
    expect((await x.get(`/v1/auth/flows/${parked.id}`, { flow: parked.token })).json.flow.state).toBe('enroll');
    // sue enrolls her own authenticator in her own flow
    const mine = await x.pastPassword('acme', 'sue@acme.test', STRONG);
    const qr = await x.post(`/v1/auth/flows/${mine.id}/enroll/totp`, { flow: mine.token });
    expect(qr.status).toBe(200);
    const done = await x.post(`/v1/auth/flows/${mine.id}/enroll/totp/confirm`, { flow: mine.token, body: { code: totpCode(qr.json.enrollment.secret, t.clock.now()) } });
    expect(done.status, done.text).toBe(200);
    const sue = done.json.session.token as string;
    // the parked flow now tries to bind the attacker's authenticator
    const evil = await x.post(`/v1/auth/flows/${parked.id}/enroll/totp`, { flow: parked.token });
    if (evil.status === 200) {
      const confirm = await x.post(`/v1/auth/flows/${parked.id}/enroll/totp/confirm`, { flow: parked.token, body: { code: totpCode(evil.json.enrollment.secret, t.clock.now()) } });
      expect(confirm.status, confirm.text).toBeGreaterThanOrEqual(400);
      expect(confirm.json.session).toBeUndefined();
    }
    expect(await kinds(sue)).toEqual(['recovery_code:10', 'totp']);
    // the attacker's secret never signs in; sue's does
    t.clock.advance(31_000);
    if (evil.status === 200) {
      const r = await x.factor(await x.pastPassword('acme', 'sue@acme.test', STRONG), 'totp', totpCode(evil.json.enrollment.secret, t.clock.now()));
      expect(r.status).toBe(401);
    }
    expect((await x.factor(await x.pastPassword('acme', 'sue@acme.test', STRONG), 'totp', totpCode(qr.json.enrollment.secret, t.clock.now()))).status).toBe(200);
  });

  it('binding the first authenticator at forced enrollment tells the user by email, as any other binding does', async () => {
    // whoever holds the password can do the forced enrollment: the owner of the mailbox must hear of it
    const adminToken = await x.signIn('acme', admin, STRONG);
    expect((await x.post('/v1/tenants/acme/users', { token: adminToken, body: { email: 'sid@acme.test', roles: ['supervisor'] } })).status).toBe(201);
    expect((await x.post('/v1/invitations/accept', { body: { token: await invitationToken(t.s, 'sid@acme.test'), password: STRONG } })).status).toBe(200);
    const flow = await x.pastPassword('acme', 'sid@acme.test', STRONG);
    const qr = await x.post(`/v1/auth/flows/${flow.id}/enroll/totp`, { flow: flow.token });
    const done = await x.post(`/v1/auth/flows/${flow.id}/enroll/totp/confirm`, { flow: flow.token, body: { code: totpCode(qr.json.enrollment.secret, t.clock.now()) } });
    expect(done.status, done.text).toBe(200);
    expect(await notices('sid@acme.test')).toEqual(['factor_added']);
  });

  it('with real fresh authentication (password and authenticator) the same changes work, each with a notice', async () => {
    const session = await x.signIn('acme', 'ana@acme.test', STRONG, { secret: ana.secret, at: t.clock.now() });
    t.clock.advance(ELEVEN_MINUTES);
    const re = await x.post('/v1/me/reauth', { token: session });
    const pw = await x.password({ id: re.json.flow.id, token: re.json.flowToken }, STRONG);
    const fresh = await x.factor(pw.next, 'totp', totpCode(ana.secret, t.clock.now()));
    expect(fresh.status, fresh.text).toBe(200);
    const token = fresh.json.session.token as string;
    expect((await x.post('/v1/me/recovery-codes', { token })).status).toBe(200);
    expect((await x.del(`/v1/me/factors/${ana.factorId}`, { token })).status).toBe(200);
    const sent = await notices('ana@acme.test');
    expect(sent).toEqual(expect.arrayContaining(['recovery_codes_regenerated', 'factor_removed']));
  });
});

describe('enrollment without fresh authentication: each change after re-authentication, with its notice', () => {
  let t: Target;
  let x: Attacker;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const ana = 'ana@acme.test';
  const ben = 'ben@acme.test';
  let anaTotp: Awaited<ReturnType<typeof withTotp>>;

  beforeAll(async () => {
    t = await startTarget();
    x = new Attacker(t.url);
    seeded = await seed(t, { users: [{ email: ana, roles: ['agent'] }, { email: ben, roles: ['agent'] }] });
    anaTotp = await withTotp(t, seeded.users[ana]!.token!);
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  const factors = async (token: string) => (await x.get('/v1/me/factors', { token })).json.factors as Array<{ id: string; kind: string; remaining?: number }>;
  const expectStale = (r: Reply) => {
    expect(r.status, r.text).toBe(401);
    expect(r.code).toBe('reauthentication_required');
    expect(r.json.details.maxAgeSeconds).toBe(600);
  };

  it('refuses to add an authenticator app 11 minutes after sign-in, and allows it after re-authentication', async () => {
    const token = await x.signIn('acme', ben, STRONG);
    const begun = await x.post('/v1/me/factors/totp', { token });
    expect(begun.status).toBe(201); // fresh: allowed

    t.clock.advance(ELEVEN_MINUTES);
    expect((await x.get('/v1/me', { token })).status).toBe(200); // the session itself is still alive
    expectStale(await x.post(`/v1/me/factors/totp/${begun.json.factorId}/confirm`, { token, body: { code: totpCode(begun.json.secret, t.clock.now()) } }));
    expectStale(await x.post('/v1/me/factors/totp', { token }));
    expect((await factors(token)).map((f) => f.kind)).not.toContain('totp');
    expect(await queued(t, ben, 'factor_added')).toHaveLength(0);

    const fresh = await reauthenticate(x, t, token);
    const again = await x.post('/v1/me/factors/totp', { token: fresh });
    expect(again.status).toBe(201);
    const confirmed = await x.post(`/v1/me/factors/totp/${again.json.factorId}/confirm`, { token: fresh, body: { code: totpCode(again.json.secret, t.clock.now()) } });
    expect(confirmed.status).toBe(200);
    expect((await factors(fresh)).map((f) => f.kind)).toContain('totp');
    expect(await queued(t, ben, 'factor_added')).toHaveLength(1);
  });

  it('refuses to remove a factor or regenerate recovery codes 11 minutes after sign-in, and allows both after re-authentication', async () => {
    const { secret, factorId, recoveryCodes } = anaTotp;
    expect(recoveryCodes).toHaveLength(10);
    const token = await signInTotp(x, t, 'acme', ana, secret);
    const sent = { removed: (await queued(t, ana, 'factor_removed')).length, regenerated: (await queued(t, ana, 'recovery_codes_regenerated')).length };

    t.clock.advance(ELEVEN_MINUTES);
    expectStale(await x.del(`/v1/me/factors/${factorId}`, { token }));
    expectStale(await x.post('/v1/me/recovery-codes', { token }));
    const unchanged = await factors(token);
    expect(unchanged.map((f) => f.id)).toContain(factorId);
    expect(unchanged.find((f) => f.kind === 'recovery_code')?.remaining).toBe(10);
    expect((await queued(t, ana, 'factor_removed')).length).toBe(sent.removed);
    expect((await queued(t, ana, 'recovery_codes_regenerated')).length).toBe(sent.regenerated);

    const fresh = await reauthenticate(x, t, token, secret);
    const regen = await x.post('/v1/me/recovery-codes', { token: fresh });
    expect(regen.status).toBe(200);
    expect(regen.json.recoveryCodes).toHaveLength(10);
    expect(regen.json.recoveryCodes).not.toContain(recoveryCodes[0]);
    expect((await queued(t, ana, 'recovery_codes_regenerated')).length).toBe(sent.regenerated + 1);

    const removed = await x.del(`/v1/me/factors/${factorId}`, { token: fresh });
    expect(removed.status).toBe(200);
    expect((await factors(fresh)).map((f) => f.id)).not.toContain(factorId);
    const removedNotices = await queued(t, ana, 'factor_removed');
    expect(removedNotices.length).toBe(sent.removed + 1);
    expect(removedNotices[0]!.channel).toBe('email');
  });
});
