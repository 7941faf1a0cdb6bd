/**
 * Threat: session fixation across factors.
 * Requirement: ASVS 7.2.4 (a new session token at every authentication and re-authentication), the
 * class named with the MFA advisories (better-auth GHSA-xg6x-h9c9-2m83, ZITADEL CVE-2025-64103),
 * where a session identifier fixed before or between factors ended up signed in.
 *
 * The attacker plants credentials before the victim signs in and waits for them to be upgraded:
 *  - a session cookie in the victim's browser (the attacker's own live session, and a value the
 *    attacker chose), sent with every step of the victim's sign-in;
 *  - a sign-in flow the attacker started for the victim and handed over (a link with the flow id and
 *    token), then polls with the token it kept;
 *  - a session token in the URL.
 * After each factor the flow token must be new and the old one dead; the session that comes out must
 * be new (id and token), go only to the response that completed the flow, and leave the planted
 * values as they were; a re-authentication must replace the token; logout must kill it.
 *
 * Fails when: the server reuses a presented cookie as the new session (fixation); the flow keeps its
 * token across steps (the attacker's copy follows the victim's progress); GET /v1/auth/flows/{id}
 * discloses the session of a completed flow; re-authentication keeps the old token valid.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed, STRONG } from '../helpers/app.js';
import { withTotp } from '../helpers/flows.js';
import { Attacker, sessionCookie, totpCode } from './attacker.js';
import { startTarget, type Target } from './server.js';

describe('session fixation', () => {
  let t: Target;
  let x: Attacker;
  let seeded: Awaited<ReturnType<typeof seed>>;
  let ana: Awaited<ReturnType<typeof withTotp>>;
  const victim = 'ana@acme.test';
  const attacker = 'mallory@acme.test';

  beforeAll(async () => {
    t = await startTarget();
    x = new Attacker(t.url);
    seeded = await seed(t, { users: [{ email: victim, roles: ['tenant_admin'] }, { email: attacker, roles: ['agent'] }] });
    ana = await withTotp(t, seeded.users[victim]!.token!);
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  const step = () => t.clock.advance(31_000); // a fresh TOTP step for the next sign-in
  const me = (token: string) => x.get('/v1/me', { token });

  it('a session cookie planted before sign-in is not the one after, and is not upgraded', async () => {
    const mallory = await x.signIn('acme', attacker, STRONG);
    const chosen = 'attacker-chosen-session-value-0123456789abcdef';
    for (const planted of [mallory, chosen]) {
      step();
      const cookie = `cw_session=${planted}`;
      const { flow } = await x.startFlow('acme', victim, { cookie });
      const pw = await x.password(flow, STRONG, { cookie });
      const done = await x.factor(pw.next, 'totp', totpCode(ana.secret, t.clock.now()), { cookie });
      expect(done.status, done.text).toBe(200);
      const issued = sessionCookie(done)!;
      expect(issued).toBe(done.json.session.token);
      expect(issued).not.toBe(planted);
      expect((await me(issued)).json.email).toBe(victim);
    }
    // the attacker's planted session is still the attacker's, at the level it had; the chosen value is nothing
    const still = await me(mallory);
    expect(still.json).toMatchObject({ email: attacker, session: { aal: 1, methods: ['pwd'] } });
    expect((await me(chosen)).status).toBe(401);
  });

  it('a flow the attacker started and handed to the victim is dead to the attacker after each step', async () => {
    step();
    const { flow: kept } = await x.startFlow('acme', victim); // the attacker keeps {id, token}, sends the victim the link
    const pw = await x.password(kept, STRONG); // the victim types her password into the planted flow
    expect(pw.res.status).toBe(200);
    expect(pw.next.token).not.toBe(kept.token); // a new flow token after the factor
    for (const [what, r] of [
      ['read', await x.get(`/v1/auth/flows/${kept.id}`, { flow: kept.token })],
      ['factor', await x.factor(kept, 'totp', totpCode(ana.secret, t.clock.now()))],
      ['password again', await x.post(`/v1/auth/flows/${kept.id}/password`, { flow: kept.token, body: { password: STRONG } })],
    ] as const) {
      expect([r.status, r.code], what).toEqual([401, 'flow_invalid']);
    }
    const done = await x.factor(pw.next, 'totp', totpCode(ana.secret, t.clock.now()));
    expect(done.status, done.text).toBe(200);
    expect(done.json.flowToken).toBeUndefined(); // no token for a step after the last
    // polling afterwards: the kept token is dead, and even the victim's last token reads no session
    expect((await x.get(`/v1/auth/flows/${kept.id}`, { flow: kept.token })).status).toBe(401);
    const late = await x.get(`/v1/auth/flows/${kept.id}`, { flow: pw.next.token });
    expect(late.json?.session).toBeUndefined();
    expect(sessionCookie(late)).toBeUndefined();
    expect(late.text).not.toContain(done.json.session.token);
  });

  it('every sign-in gets a new session id and token; the cookie is HttpOnly, SameSite=Strict', async () => {
    const sessions = [];
    for (let i = 0; i < 2; i++) {
      step();
      const { flow } = await x.startFlow('acme', victim);
      const pw = await x.password(flow, STRONG);
      const done = await x.factor(pw.next, 'totp', totpCode(ana.secret, t.clock.now()));
      sessions.push(done.json.session);
      const set = (done.headers['set-cookie'] ?? []).find((c) => c.startsWith('cw_session='))!;
      expect(set).toMatch(/; HttpOnly/i);
      expect(set).toMatch(/; SameSite=Strict/i);
      expect(set).toMatch(/; Path=\//i);
    }
    expect(sessions[0].id).not.toBe(sessions[1].id);
    expect(sessions[0].token).not.toBe(sessions[1].token);
    expect(Buffer.from(sessions[0].token, 'base64url').length).toBeGreaterThanOrEqual(32); // 256 bits
  });

  it('re-authentication replaces the token (the old one stops working), and logout kills it', async () => {
    step();
    const token = await x.signIn('acme', victim, STRONG, { secret: ana.secret, at: t.clock.now() });
    const id = (await me(token)).json.session.id;
    step();
    const re = await x.post('/v1/me/reauth', { token });
    const pw = await x.password({ id: re.json.flow.id, token: re.json.flowToken }, STRONG);
    const done = await x.factor(pw.next, 'totp', totpCode(ana.secret, t.clock.now()));
    expect(done.status, done.text).toBe(200);
    const fresh = done.json.session.token as string;
    expect(fresh).not.toBe(token);
    expect(sessionCookie(done)).toBe(fresh);
    expect((await me(token)).status).toBe(401);
    expect((await me(fresh)).json.session.id).toBe(id);

    const out = await x.post('/v1/auth/logout', { cookie: `cw_session=${fresh}` });
    expect(out.status).toBe(200);
    expect(sessionCookie(out)).toBe('');
    expect((await me(fresh)).status).toBe(401);
  });

  it('a session token is never taken from the URL', async () => {
    step();
    const token = await x.signIn('acme', victim, STRONG, { secret: ana.secret, at: t.clock.now() });
    for (const q of ['token', 'session', 'cw_session', 'access_token', 'sid']) {
      expect((await x.get(`/v1/me?${q}=${token}`)).status, q).toBe(401);
    }
  });
});
