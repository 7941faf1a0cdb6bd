/**
 * Threat: look-alike or quoted email addresses that match an account but deliver its messages elsewhere.
 * Advisories: next-auth GHSA-5jpx-9hw9-2fx4 (`"e@attacker.com"@victim.com` was delivered by the mail
 * library's address parser to e@attacker.com) and GHSA-7rqj-j65f-68wh (an address with a full-width
 * `＠` passed a single-`@` check made before Unicode normalization; the mailer then normalized it into
 * two `@` and delivered elsewhere): an address matched one account while the link went to another
 * mailbox.
 *
 * A real SMTP server listens on 127.0.0.1 and records every envelope recipient (RCPT TO); the outbox
 * worker delivers through it, so "where did it go" is what SMTP saw. The attacker then:
 *  - with no account at all, sends crafted identifiers (quoted local parts, comments, comma and
 *    semicolon lists, CRLF header injection, angle brackets, IP literals, percent routing, trailing
 *    dots, Cyrillic look-alikes, zero-width characters, plus-addressing, case and full-width) to every
 *    public step that takes one: no message is ever sent, and only the spellings the server folds
 *    onto the same plain address reach the account;
 *  - as a tenant administrator, invites such addresses next to an existing user, and, with
 *    customers.write, puts them on a customer as the contact that receives codes: refused, or folded
 *    onto one plain address, or (plus-addressing, percent) a separate mailbox of its own;
 *  - then triggers every message that goes to an account or a contact (setup link, recovery-code
 *    notice, caller code): each one reaches exactly one SMTP recipient, the stored plain address.
 *
 * And, from the former in-process suite: `normalizeEmail` itself on quoted, look-alike and compatible
 * spellings (NFKC: full-width letters, ligatures, the Kelvin sign), an invitation of each refused with
 * nothing queued, a compatible spelling invited once as its plain address, and sign-in with any
 * compatible spelling of the identifier.
 *
 * Fails when: `normalizeEmail` accepts quoted, commented, listed or non-ASCII addresses (nodemailer
 * would split `a@x, b@y` into two recipients), or validates before folding (tried: a loose
 * `normalizeEmail` fails three of these tests); a message is addressed from request input instead of
 * the stored address; sign-in matches an identifier that is not folded the same way as the stored one.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providersFromConfig } from '../../src/delivery/setup.js';
import { DeliveryWorker } from '../../src/delivery/worker.js';
import { normalizeEmail } from '../../src/domain/identifiers.js';
import { invitationToken, seed, STRONG } from '../helpers/app.js';
import { callerFixture } from '../helpers/callers.js';
import { withTotp } from '../helpers/flows.js';
import { Attacker } from './attacker.js';
import { startTarget, type Target } from './server.js';

/** Addresses that hide another mailbox or are not plain ASCII. */
const CRAFTED = [
  '"ana@acme.test"@evil.test',
  '"ana"@acme.test',
  'ana@acme.test,evil@evil.test',
  'ana@acme.test;evil@evil.test',
  'ana@acme.test evil@evil.test',
  'ana@acme.test\r\nBcc: evil@evil.test',
  'ana@acme.test>, <evil@evil.test',
  'Ana <evil@evil.test>',
  '<ana@acme.test>',
  'ana(comment)@acme.test',
  'ana@acme.test(evil@evil.test)',
  'ana@acme.test@evil.test',
  'ana@[127.0.0.1]',
  'ana@acme.test.',
  '\u0430na@acme.test', // Cyrillic а
  'ana@acm\u0435.test', // Cyrillic е
  'ana\u200b@acme.test', // zero-width space
  'ana@acme.test\u200b',
  'ana\u00ad@acme.test', // soft hyphen
  'evil@evil.test\uff20acme.test', // full-width @: two @ once normalized
  '"evil@evil.test"\uff20acme.test',
  'evil@evil.test\ufe6bacme.test', // small commercial at
];
/** Spellings the server folds onto ana@acme.test (the same mailbox). */
const FOLDED = ['ANA@ACME.TEST', ' ana@acme.test ', '\uff41\uff4e\uff41@acme.test', 'Ana@Acme.Test', 'ana\uff20acme.test'];

describe('look-alike email addresses', () => {
  let t: Target;
  let x: Attacker;
  let smtp: SMTPServer;
  let worker: DeliveryWorker;
  let f: Awaited<ReturnType<typeof callerFixture>>;
  let ana: Awaited<ReturnType<typeof withTotp>>;
  const rcpt: string[][] = [];

  beforeAll(async () => {
    smtp = new SMTPServer({
      logger: false,
      disabledCommands: ['STARTTLS', 'AUTH'],
      onData(stream, session, cb) {
        stream.on('data', () => undefined);
        stream.on('end', () => {
          rcpt.push(session.envelope.rcptTo.map((r) => r.address));
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const port = (smtp.server.address() as AddressInfo).port;
    t = await startTarget({ env: { CALLWARDEN_SMTP_URL: `smtp://127.0.0.1:${port}`, CALLWARDEN_MAIL_FROM: 'Callwarden <no-reply@callwarden.test>' } });
    worker = new DeliveryWorker({ outbox: t.s.store.outbox, providers: providersFromConfig(t.s.config), clock: t.s.clock });
    x = new Attacker(t.url);
    f = await callerFixture(t);
    expect((await x.post('/v1/tenants/acme/users', { token: f.admin, body: { email: 'ana@acme.test', roles: ['agent'] } })).status).toBe(201);
    expect((await x.post('/v1/invitations/accept', { body: { token: await invitationToken(t.s, 'ana@acme.test'), password: STRONG } })).status).toBe(200);
    ana = await withTotp(t, await x.signIn('acme', 'ana@acme.test', STRONG));
    await deliver(); // the setup messages so far
    rcpt.length = 0;
  });
  afterAll(async () => {
    x.close();
    await worker.stop();
    await t.close();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
  });

  /** Runs the outbox worker until nothing is due; returns the recipients SMTP saw meanwhile. */
  async function deliver(): Promise<string[][]> {
    const before = rcpt.length;
    const r = await worker.drain();
    expect(r.failed, 'no message failed to deliver').toBe(0);
    return rcpt.slice(before);
  }

  it('crafted identifiers at the public sign-in steps send nothing, and only folded spellings reach the account', async () => {
    for (const id of CRAFTED) {
      const { res, flow } = await x.startFlow('acme', id);
      if (res.status !== 201) {
        expect(res.status, JSON.stringify(id)).toBe(400); // (a bare CR or LF never reaches the flow)
        continue;
      }
      const pw = await x.password(flow, STRONG);
      expect(pw.res.code, JSON.stringify(id)).toBe('invalid_credentials'); // not ana's account
    }
    for (const id of FOLDED) {
      t.clock.advance(1000);
      const pw = await x.password((await x.startFlow('acme', id)).flow, STRONG);
      expect(pw.res.json.flow?.state, JSON.stringify(id)).toBe('second_factor'); // ana's account
    }
    expect(await deliver()).toEqual([]);
  });

  it('a recovery-code sign-in through a folded spelling notifies the stored address only', async () => {
    const flow = await x.pastPassword('acme', '\uff21\uff2e\uff21@ACME.test', STRONG);
    expect((await x.factor(flow, 'recovery_code', ana.recoveryCodes[0]!)).status).toBe(200);
    expect(await deliver()).toEqual([['ana@acme.test']]);
  });

  it('an administrator cannot invite a look-alike of an existing user; crafted addresses are refused', async () => {
    const admin = await x.signIn('acme', 'admin@acme.test', STRONG);
    for (const email of CRAFTED) {
      const r = await x.post('/v1/tenants/acme/users', { token: admin, body: { email, roles: ['agent'] } });
      expect([r.status, r.code], JSON.stringify(email)).toEqual([400, 'invalid_request']);
    }
    for (const email of FOLDED) {
      const r = await x.post('/v1/tenants/acme/users', { token: admin, body: { email, roles: ['tenant_admin'] } });
      expect([r.status, r.code], JSON.stringify(email)).toEqual([409, 'already_exists']);
    }
    expect(await deliver()).toEqual([]);
  });

  it('plus and percent addresses are mailboxes of their own: their setup links go there and nowhere else', async () => {
    const admin = await x.signIn('acme', 'admin@acme.test', STRONG);
    for (const email of ['ana+evil@acme.test', 'ana%evil.test@acme.test']) {
      const r = await x.post('/v1/tenants/acme/users', { token: admin, body: { email, roles: ['agent'] } });
      expect(r.status, r.text).toBe(201);
      expect(r.json.email).toBe(email);
      expect(await deliver()).toEqual([[email]]);
      // and that account is not ana's: her password does not open it (it has none yet), nor does it open hers
      expect((await x.password((await x.startFlow('acme', email)).flow, STRONG)).res.code).toBe('invalid_credentials');
    }
  });

  it("crafted addresses cannot become a customer's contact; a code goes to exactly the one stored address", async () => {
    const admin = await x.signIn('acme', 'admin@acme.test', STRONG);
    for (const value of CRAFTED.map((a) => a.replace(/ana/g, 'dana').replace('acme.test', 'example.com'))) {
      const r = await x.post('/v1/tenants/acme/customers', { token: admin, body: { name: 'Look Alike', contacts: [{ kind: 'email', value }] } });
      expect([r.status, r.code], JSON.stringify(value)).toEqual([400, 'invalid_request']);
      const p = await x.patch(`/v1/tenants/acme/customers/${f.customerId}`, { token: admin, body: { contacts: { add: [{ kind: 'email', value }] } } });
      expect(p.status, JSON.stringify(value)).toBe(400);
    }
    const folded = await x.post('/v1/tenants/acme/customers', { token: admin, body: { name: 'Folded', contacts: [{ kind: 'email', value: ' \uff24ANA2@Example.COM ' }] } });
    expect(folded.status, folded.text).toBe(201);
    const agent = await x.signIn('acme', 'agent@acme.test', STRONG);
    const v = await x.post('/v1/tenants/acme/verifications', { token: agent, body: { customerId: folded.json.id, interactionId: 'call-folded' } });
    const sent = await x.post(`/v1/tenants/acme/verifications/${v.json.id}/codes`, { token: agent, body: { contactId: folded.json.contacts[0].id, channel: 'email' } });
    expect(sent.status, sent.text).toBe(200);
    expect(await deliver()).toEqual([['dana2@example.com']]);
  });
});

/** Refused by `normalizeEmail` (and so as invitations). */
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
const FOLDED_TO: Array<[string, string]> = [
  ['\uff22\uff25\uff2e@acme.test', 'ben@acme.test'], // full-width BEN
  ['\ufb01ona@acme.test', 'fiona@acme.test'], // fi ligature
  ['\u212aim@ACME.test ', 'kim@acme.test'], // Kelvin sign K
];

describe('normalizeEmail', () => {
  it('refuses quoted, look-alike and malformed addresses', () => {
    for (const raw of REFUSED) expect(normalizeEmail(raw), JSON.stringify(raw)).toBeNull();
  });

  it('folds compatible spellings to one plain ASCII address', () => {
    for (const [raw, plain] of FOLDED_TO) expect(normalizeEmail(raw)).toBe(plain);
  });
});

describe('invitations and sign-in with look-alike addresses', () => {
  let t: Target;
  let x: Attacker;
  let seeded: Awaited<ReturnType<typeof seed>>;
  let token: string;

  beforeAll(async () => {
    t = await startTarget();
    x = new Attacker(t.url);
    seeded = await seed(t, { users: [{ email: 'admin@acme.test', roles: ['tenant_admin'] }] });
    token = seeded.users['admin@acme.test']!.token!;
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  const invite = (email: string) => x.post('/v1/tenants/acme/users', { token, body: { email, roles: ['agent'] } });
  const outboxSize = async () => (await t.s.store.outbox.list({ tenantId: seeded.tenantId, limit: 200 })).length;
  const emails = async () => ((await x.get('/v1/tenants/acme/users', { token })).json.users as Array<{ email: string }>).map((u) => u.email);

  it('refuses to invite quoted and look-alike addresses, and sends nothing', async () => {
    const before = { outbox: await outboxSize(), users: await emails() };
    for (const raw of REFUSED) {
      const r = await invite(raw);
      expect(r.status, JSON.stringify(raw)).toBe(400);
      expect(r.code).toBe('invalid_request');
      expect(r.json.details).toEqual({ field: 'email' });
    }
    expect(await outboxSize()).toBe(before.outbox);
    expect(await emails()).toEqual(before.users);
  });

  it('invites a compatible spelling as the plain address, once, and sends the link there', async () => {
    for (const [raw, plain] of FOLDED_TO) {
      const r = await invite(raw);
      expect(r.status).toBe(201);
      expect(r.json.email).toBe(plain);
      const [sent, ...more] = (await t.s.store.outbox.list({ recipient: plain, limit: 10 })).filter((m) => m.template === 'invitation');
      expect(sent).toBeDefined();
      expect(more).toHaveLength(0);
      expect(await t.s.store.outbox.list({ recipient: raw, limit: 10 })).toHaveLength(0);
      // Any other spelling of the same address is the same user.
      for (const again of [plain, plain.toUpperCase(), ` ${plain} `, raw]) {
        const dup = await invite(again);
        expect(dup.status, again).toBe(409);
        expect(dup.code).toBe('already_exists');
      }
    }
  });

  it('signs in with any compatible spelling of the identifier', async () => {
    const accepted = await x.post('/v1/invitations/accept', { body: { token: await invitationToken(t.s, 'ben@acme.test'), password: STRONG } });
    expect(accepted.status).toBe(200);
    expect(accepted.json.email).toBe('ben@acme.test');
    for (const spelling of ['\uff42\uff45\uff4e@\uff41\uff43\uff4d\uff45.test', 'BEN@acme.test', ' ben@acme.test ']) {
      const { flow } = await x.startFlow('acme', spelling);
      const pw = await x.password(flow, STRONG);
      expect(pw.res.status, spelling).toBe(200);
      expect((await x.get('/v1/me', { token: pw.res.json.session.token })).json.email).toBe('ben@acme.test');
    }
    // A look-alike identifier names nobody: it fails like any unknown user.
    const { flow } = await x.startFlow('acme', 'b\u0435n@acme.test');
    const pw = await x.password(flow, STRONG);
    expect(pw.res.status).toBe(401);
    expect(pw.res.code).toBe('invalid_credentials');
  });
});
