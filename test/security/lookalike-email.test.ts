/**
 * Threat: look-alike or quoted email addresses delivering codes and setup links elsewhere (next-auth
 * advisory). Invitations refuse quoted local parts, non-ASCII look-alikes and other tricks; compatible
 * spellings (full-width, ligatures, case, spaces) are NFKC-folded to the one plain address, which is
 * where the setup link goes and what sign-in matches.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeEmail } from '../../src/domain/identifiers.js';
import { api, invitationToken, json, seed, STRONG, testApp, type TestApp } from '../helpers/app.js';
import { passwordStep, startFlow } from '../helpers/flows.js';

const REFUSED = [
  '"ana@evil.test"@acme.test', // quoted local part hiding another address
  '"ana"@acme.test',
  '"ana..x"@acme.test',
  '\u0430na@acme.test', // Cyrillic a
  'ana@\u0430cme.test', // Cyrillic a in the domain
  'ana@acme.t\u0435st', // Cyrillic e in the TLD
  '\u0130nes@acme.test', // dotted capital I: lower-cases to i + combining dot
  'ana\u200b@acme.test', // zero-width space
  'ana@acme.test@evil.test',
  'ana(comment)@acme.test',
  'ana@acme.test,evil@evil.test',
  'ana@[192.0.2.1]',
  'ana..b@acme.test',
];

/** Compatible spellings and the plain address they fold to. */
const FOLDED: Array<[string, string]> = [
  ['\uff22\uff25\uff2e@acme.test', 'ben@acme.test'], // full-width BEN
  ['\ufb01ona@acme.test', 'fiona@acme.test'], // fi ligature
  ['\u212aim@ACME.test ', 'kim@acme.test'], // Kelvin sign K
];

describe('normalizeEmail', () => {
  it('refuses quoted, look-alike and malformed addresses', () => {
    for (const raw of REFUSED) expect(normalizeEmail(raw), JSON.stringify(raw)).toBeNull();
  });

  it('folds compatible spellings to one plain ASCII address', () => {
    for (const [raw, plain] of FOLDED) expect(normalizeEmail(raw)).toBe(plain);
  });
});

describe('invitations and sign-in with look-alike addresses', () => {
  let t: TestApp;
  let seeded: Awaited<ReturnType<typeof seed>>;
  let token: string;

  beforeAll(async () => {
    t = await testApp();
    seeded = await seed(t, { users: [{ email: 'admin@acme.test', roles: ['tenant_admin'] }] });
    token = seeded.users['admin@acme.test']!.token!;
  });
  afterAll(() => t.close());

  const invite = (email: string) => api(t.app).post('/v1/tenants/acme/users', { token, body: { email, roles: ['agent'] } });
  const outboxSize = async () => (await t.s.store.outbox.list({ tenantId: seeded.tenantId, limit: 200 })).length;
  const emails = async () => (json(await api(t.app).get('/v1/tenants/acme/users', { token })).users as Array<{ email: string }>).map((u) => u.email);

  it('refuses to invite quoted and look-alike addresses, and sends nothing', async () => {
    const before = { outbox: await outboxSize(), users: await emails() };
    for (const raw of REFUSED) {
      const r = await invite(raw);
      expect(r.statusCode, JSON.stringify(raw)).toBe(400);
      expect(json(r).code).toBe('invalid_request');
      expect(json(r).details).toEqual({ field: 'email' });
    }
    expect(await outboxSize()).toBe(before.outbox);
    expect(await emails()).toEqual(before.users);
  });

  it('invites a compatible spelling as the plain address, once, and sends the link there', async () => {
    for (const [raw, plain] of FOLDED) {
      const r = await invite(raw);
      expect(r.statusCode).toBe(201);
      expect(json(r).email).toBe(plain);
      const [sent, ...more] = (await t.s.store.outbox.list({ recipient: plain, limit: 10 })).filter((m) => m.template === 'invitation');
      expect(sent).toBeDefined();
      expect(more).toHaveLength(0);
      expect(await t.s.store.outbox.list({ recipient: raw, limit: 10 })).toHaveLength(0);
      // Any other spelling of the same address is the same user.
      for (const again of [plain, plain.toUpperCase(), ` ${plain} `, raw]) {
        const dup = await invite(again);
        expect(dup.statusCode, again).toBe(409);
        expect(json(dup).code).toBe('already_exists');
      }
    }
  });

  it('signs in with any compatible spelling of the identifier', async () => {
    const accepted = await api(t.app).post('/v1/invitations/accept', { body: { token: await invitationToken(t.s, 'ben@acme.test'), password: STRONG } });
    expect(accepted.statusCode).toBe(200);
    expect(json(accepted).email).toBe('ben@acme.test');
    for (const spelling of ['\uff42\uff45\uff4e@\uff41\uff43\uff4d\uff45.test', 'BEN@acme.test', ' ben@acme.test ']) {
      const { flow } = await startFlow(t.app, 'acme', spelling);
      const pw = await passwordStep(t.app, flow, STRONG);
      expect(pw.res.statusCode, spelling).toBe(200);
      expect(json(await api(t.app).get('/v1/me', { token: pw.body.session.token })).email).toBe('ben@acme.test');
    }
    // A look-alike identifier names nobody: it fails like any unknown user.
    const { flow } = await startFlow(t.app, 'acme', 'b\u0435n@acme.test');
    const pw = await passwordStep(t.app, flow, STRONG);
    expect(pw.res.statusCode).toBe(401);
    expect(pw.body.code).toBe('invalid_credentials');
  });
});
