/**
 * Threat: rate-limit key evasion.
 * Advisory: Authelia CVE-2025-24806 (the regulation ban was keyed by the identifier as typed, so
 * signing in with another identifier of the same account, e.g. the email instead of the username,
 * started a fresh count); the same class with client addresses: every spelling of one IPv6 address,
 * and the 2^64 addresses a single subscriber holds in a /64, as new buckets.
 *
 * The server runs as documented behind an overwriting proxy (CALLWARDEN_TRUST_PROXY=true: the client
 * address comes from X-Forwarded-For), with 5 attempts per address and 8 sign-in starts per identifier
 * a minute. Over HTTP, the attacker rotates:
 *  - IPv6 addresses within one /64 and every spelling of them (zero-compressed, fully expanded, upper
 *    case, embedded IPv4, bracketed), and IPv4 addresses in IPv4-mapped IPv6 forms;
 *  - spellings of one account: case, surrounding whitespace, full-width letters, and of the tenant:
 *    case and whitespace; the tenant's id instead of its slug;
 * across the three authentication steps that are limited per address (start, password, second factor).
 * Each rotation must land in the same bucket: the 6th attempt from one /64 or one IPv4 address, the
 * 9th start for one account, and the 6th wrong password on one account are refused whatever the
 * spelling; a different /64, address or account is not affected. Callwarden has no usernames: the
 * email is the only identifier, and every spelling that reaches the account shares its counter
 * (spellings that do not reach it are other, non-existent accounts).
 *
 * From the former in-process suite: `rateLimitKeyForIp` itself (one key per /64 in any spelling, zone
 * ids and brackets included, IPv4-mapped forms as the IPv4 address, neighbours apart), and, with the
 * limits set through the configuration alone (CALLWARDEN_IP_ATTEMPTS_PER_MINUTE=5,
 * CALLWARDEN_IDENTIFIER_ATTEMPTS_PER_MINUTE=4), the 6th start from one /64 or one IPv4 address and the
 * 5th start for one identifier and tenant in any spelling refused, and identifier spellings sharing
 * the password counter.
 *
 * Fails when: the per-address key is the raw address (each spelling or each /64 neighbour is a fresh
 * bucket); the per-identifier key or the password counter is the identifier as typed; the tenant is
 * not normalized before keying; a step skips the per-address limit.
 */
import { RateLimiterRes } from 'rate-limiter-flexible';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rateLimitKeyForIp } from '../../src/domain/ip.js';
import { passwordSubject } from '../../src/engine/counter-keys.js';
import { createLimiters } from '../../src/http/rate-limit.js';
import { seed, STRONG } from '../helpers/app.js';
import { withTotp } from '../helpers/flows.js';
import { Attacker, totpCode, wrongCode } from './attacker.js';
import { startTarget, type Target } from './server.js';

describe('rate-limit key evasion', () => {
  let t: Target;
  let x: Attacker;
  let tenantId: string;
  let tia: Awaited<ReturnType<typeof withTotp>>;
  let seeding = true;
  let ipn = 0;
  /** A fresh client address for requests that should only meet the per-identifier limit. */
  const freshIp = () => `198.18.${Math.floor(++ipn / 250)}.${(ipn % 250) + 1}`;

  beforeAll(async () => {
    const limiters = createLimiters({ ipPerMinute: 5, identifierPerMinute: 8 });
    // the operator's seeding below goes through app.inject from 127.0.0.1: not the attacker, not counted
    for (const l of [limiters.ip, limiters.identifier]) {
      const consume = l.consume.bind(l);
      l.consume = (key, ...rest) => (seeding ? Promise.resolve(new RateLimiterRes()) : consume(key, ...rest));
    }
    t = await startTarget({ env: { CALLWARDEN_TRUST_PROXY: 'true' }, limiters });
    x = new Attacker(t.url);
    const seeded = await seed(t, { users: [{ email: 'ana@acme.test', roles: ['agent'] }, { email: 'tia@acme.test', roles: ['agent'] }, { email: 'zed@acme.test', roles: ['agent'] }] });
    tenantId = seeded.tenantId;
    tia = await withTotp(t, seeded.users['tia@acme.test']!.token!);
    seeding = false;
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  let probes = 0;
  const start = (xff: string, identifier = `probe-${++probes}@acme.test`, tenant = 'acme') => x.startFlow(tenant, identifier, { xff });

  it('every address of one IPv6 /64, in any spelling, shares one budget of 5 across the authentication steps', async () => {
    // start, password and second factor all count on the address
    const half = await x.pastPassword('acme', 'tia@acme.test', STRONG, { xff: '2001:db8:9:9::1' }); // 2 attempts
    expect((await x.factor(half, 'totp', wrongCode(tia.secret, t.clock.now()), { xff: '2001:0DB8:0009:0009:0000:0000:0000:0002' })).status).toBe(401); // 3
    expect((await start('2001:db8:9:9:ffff:ffff:ffff:ffff')).res.status).toBe(201); // 4
    expect((await start('2001:db8:9:9:0:0:c000:201')).res.status).toBe(201); // 5 (that is 2001:db8:9:9::192.0.2.1)
    for (const spelling of ['2001:db8:9:9::6', '2001:DB8:9:9::ABCD', '2001:db8:9:9::192.0.2.99', '[2001:db8:9:9::7]', '2001:db8:0009:0009::8']) {
      const r = await start(spelling);
      expect([r.res.status, r.res.code], spelling).toEqual([429, 'rate_limited']);
      expect(Number(r.res.headers['retry-after'])).toBeGreaterThan(0);
    }
    // the second factor from a neighbour, with the right code: refused too (and not checked)
    const f = await x.factor(half, 'totp', totpCode(tia.secret, t.clock.now()), { xff: '2001:db8:9:9::42' });
    expect([f.status, f.code]).toEqual([429, 'rate_limited']);
    // the next /64 is another subscriber
    expect((await start('2001:db8:9:a::1')).res.status).toBe(201);
  });

  it('an IPv4 address and its IPv4-mapped IPv6 spellings share one budget', async () => {
    for (const a of ['198.51.100.7', '::ffff:198.51.100.7', '::ffff:c633:6407', '0:0:0:0:0:ffff:c633:6407', '::FFFF:198.51.100.7']) {
      expect((await start(a)).res.status, a).toBe(201);
    }
    for (const a of ['198.51.100.7', '0000:0000:0000:0000:0000:ffff:198.51.100.7', '::ffff:C633:6407']) {
      expect((await start(a)).res.code, a).toBe('rate_limited');
    }
    expect((await start('198.51.100.8')).res.status).toBe(201);
  });

  it('every spelling of one account and of its tenant shares one budget of 8 sign-in starts', async () => {
    const spellings: Array<[string, string]> = [
      ['acme', 'zed@acme.test'], [' acme', 'ZED@acme.test '], ['ACME ', 'ｚｅｄ@acme.test'], ['Acme\t', '\tZed@ACME.test\n'],
      ['acme', 'Ｚed@acme.test'], ['ACME', 'zed@ＡＣＭＥ.test'], ['acme', 'ZeD@AcMe.TeSt'], ['aCmE', 'zed@acme.test\u3000'],
    ];
    for (const [tenant, id] of spellings) {
      const r = await start(freshIp(), id, tenant);
      expect(r.res.status, `${JSON.stringify(tenant)} ${JSON.stringify(id)}`).toBe(201);
    }
    for (const [tenant, id] of [['  acme  ', 'ＺＥＤ＠ａｃｍｅ．ｔｅｓｔ'], ['acme', 'zed@acme.test']]) {
      const r = await start(freshIp(), id, tenant);
      expect([r.res.status, r.res.code], id).toEqual([429, 'rate_limited']);
    }
    // another account is not affected; the tenant's id is no alternate key (the sign-in names a slug)
    expect((await start(freshIp(), 'yan@acme.test')).res.status).toBe(201);
    expect((await start(freshIp(), 'zed2@acme.test', tenantId)).res.status).toBe(404);
  });

  it('every spelling that reaches one account counts its wrong passwords on one counter', async () => {
    const spellings = ['ana@acme.test', 'ANA@ACME.TEST', ' ana@acme.test ', 'ａｎａ@acme.test', 'Ana@Acme.Test', 'ＡＮＡ＠ＡＣＭＥ．ＴＥＳＴ'];
    const answers: string[] = [];
    for (const [i, s] of spellings.entries()) {
      const { flow } = await start(freshIp(), s);
      const r = await x.password(flow, `wrong password ${i} here`, { xff: freshIp() });
      answers.push(`${r.res.status} ${r.res.code}`);
    }
    // 5 checked, the 6th must wait: the back-off of one counter, whichever spelling is used
    expect(answers).toEqual([...Array(5).fill('401 invalid_credentials'), '429 too_many_attempts']);
    // one counter for every spelling: the 5 checked wrong answers (the throttled 6th is not one)
    expect((await t.s.store.counters.get(`pw:${tenantId}:ana@acme.test`))?.failures).toBe(5);
    // and each of those spellings is the account (the right password, past the wait, signs in with one)
    t.clock.advance(120_000);
    const { flow } = await start(freshIp(), 'ＡＮＡ＠ＡＣＭＥ．ＴＥＳＴ');
    const ok = await x.password(flow, STRONG, { xff: freshIp() });
    expect(ok.res.status, ok.res.text).toBe(200);
    expect((await x.get('/v1/me', { token: ok.res.json.session.token, xff: freshIp() })).json.email).toBe('ana@acme.test');
    // spellings the server does not fold are other (non-existent) accounts: the right password fails there
    for (const other of ['ana@acme.test\u200b', 'аna@acme.test' /* Cyrillic а */, 'ana@acme.test.']) {
      const r = await x.password((await start(freshIp(), other)).flow, STRONG, { xff: freshIp() });
      expect(r.res.code, JSON.stringify(other)).toBe('invalid_credentials');
    }
  });
});

const SAME_64 = [
  '2001:db8:1:2::1',
  '2001:db8:1:2::2',
  '2001:db8:1:2:ffff:ffff:ffff:ffff',
  '2001:0db8:0001:0002:0000:0000:0000:0001',
  '2001:db8:1:2:0:0:0:1',
  '2001:DB8:1:2::ABCD',
  '2001:db8:1:2::1%eth0',
  '[2001:db8:1:2::1]',
  ' 2001:db8:1:2::1 ',
  '2001:db8:1:2::192.0.2.1',
  '2001:db8:1:2::',
];
const MAPPED = ['192.0.2.1', '::ffff:192.0.2.1', '::FFFF:192.0.2.1', '[::ffff:192.0.2.1]', '0:0:0:0:0:ffff:192.0.2.1', '::ffff:c000:201', '0000:0000:0000:0000:0000:FFFF:C000:0201'];

describe('rateLimitKeyForIp', () => {
  it('maps every address of one /64, in any spelling, to one key', () => {
    const keys = new Set(SAME_64.map(rateLimitKeyForIp));
    expect(keys.size, [...keys].join(' | ')).toBe(1);
    expect([...keys][0]).not.toMatch(/^invalid:/);
  });

  it('keeps different /64s apart', () => {
    const key = rateLimitKeyForIp(SAME_64[0]!);
    for (const other of ['2001:db8:1:3::1', '2001:db8:1::1', '2001:db8:2:2::1', '2001:db9:1:2::1']) expect(rateLimitKeyForIp(other), other).not.toBe(key);
  });

  it('counts IPv4-mapped IPv6 addresses, in any spelling, as the IPv4 address', () => {
    const keys = new Set(MAPPED.map(rateLimitKeyForIp));
    expect([...keys]).toEqual(['192.0.2.1']);
  });

  it('keeps different IPv4 addresses apart, mapped or not', () => {
    const pairs = [['192.0.2.1', '192.0.2.2'], ['::ffff:c000:201', '::ffff:c000:202'], ['::ffff:192.0.2.1', '198.51.100.1']];
    for (const [a, b] of pairs) expect(rateLimitKeyForIp(a!), `${a} vs ${b}`).not.toBe(rateLimitKeyForIp(b!));
  });
});

describe('per-address limit set by the configuration', () => {
  let t: Target;
  let x: Attacker;
  beforeAll(async () => {
    // the client address comes from X-Forwarded-For (the documented proxy setup); seeding runs from 127.0.0.1
    t = await startTarget({ env: { CALLWARDEN_IP_ATTEMPTS_PER_MINUTE: '5', CALLWARDEN_TRUST_PROXY: 'true' } });
    x = new Attacker(t.url);
    await seed(t);
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  const attempt = (xff: string) => x.startFlow('acme', 'someone@acme.test', { xff }).then((r) => r.res);

  it('refuses the 6th attempt from one IPv6 /64, however the addresses rotate', async () => {
    const addresses = ['2001:db8:9:9::1', '2001:db8:9:9::2', '2001:db8:9:9:abcd:1234:5678:9abc', '2001:0DB8:0009:0009:0000:0000:0000:0003', '2001:db8:9:9:ffff:ffff:ffff:ffff'];
    for (const a of addresses) expect((await attempt(a)).status, a).toBe(201);
    const sixth = await attempt('2001:db8:9:9::6');
    expect(sixth.status).toBe(429);
    expect(sixth.code).toBe('rate_limited');
    expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(0);
    // Another /64 has its own budget.
    expect((await attempt('2001:db8:9:a::1')).status).toBe(201);
  });

  it('refuses the 6th attempt from one IPv4 address, however it is spelled', async () => {
    for (const a of ['198.51.100.7', '::ffff:198.51.100.7', '::ffff:c633:6407', '0:0:0:0:0:ffff:c633:6407', '::FFFF:198.51.100.7']) expect((await attempt(a)).status, a).toBe(201);
    const sixth = await attempt('198.51.100.7');
    expect(sixth.status).toBe(429);
    expect(sixth.code).toBe('rate_limited');
    expect((await attempt('198.51.100.8')).status).toBe(201);
  });
});

describe('identifier variants', () => {
  let t: Target;
  let x: Attacker;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const variants = ['Ana@Acme.test ', ' ANA@ACME.TEST', 'ａｎａ@acme.test', 'ＡＮＡ＠ＡＣＭＥ．ＴＥＳＴ'];

  beforeAll(async () => {
    t = await startTarget();
    x = new Attacker(t.url);
    seeded = await seed(t, { users: [{ email: 'ana@acme.test', roles: ['agent'] }] });
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  it('share one password counter', async () => {
    for (const [i, v] of variants.entries()) {
      const { res, flow } = await x.startFlow('acme', v);
      expect(res.status).toBe(201);
      expect((await x.password(flow, `wrong password ${i} here`)).res.status).toBe(401);
    }
    expect((await t.s.store.counters.get(passwordSubject(seeded.tenantId, 'ana@acme.test')))?.failures).toBe(variants.length);
  });

  it('a full-width spelling signs in to the same account', async () => {
    const { flow } = await x.startFlow('acme', 'ＡＮＡ＠ＡＣＭＥ．ＴＥＳＴ');
    const pw = await x.password(flow, STRONG);
    expect(pw.res.status).toBe(200);
    const me = (await x.get('/v1/me', { token: pw.res.json.session.token })).json;
    expect(me.userId).toBe(seeded.users['ana@acme.test']!.id);
  });
});

describe('per-identifier limit on starting sign-ins, set by the configuration', () => {
  let t: Target;
  let x: Attacker;
  beforeAll(async () => {
    t = await startTarget({ env: { CALLWARDEN_IDENTIFIER_ATTEMPTS_PER_MINUTE: '4', CALLWARDEN_TRUST_PROXY: 'true' } });
    x = new Attacker(t.url);
    await seed(t);
  });
  afterAll(async () => {
    x.close();
    await t.close();
  });

  it('counts every spelling of the identifier and of the tenant in one bucket', async () => {
    // Spread over addresses so that only the identifier limit (4 a minute) applies.
    const spellings: Array<[string, string]> = [['acme', 'zed@acme.test'], [' acme', 'ZED@acme.test '], ['ACME ', 'ｚｅｄ@acme.test'], ['Acme\t', 'Zed@ACME.test']];
    for (const [i, [tenant, id]] of spellings.entries()) {
      const r = await x.startFlow(tenant, id, { xff: `198.18.0.${i + 1}` });
      expect(r.res.status, `${JSON.stringify(tenant)} ${id}`).toBe(201);
    }
    const fifth = await x.startFlow('  acme  ', 'ＺＥＤ＠ａｃｍｅ．ｔｅｓｔ', { xff: '198.18.0.9' });
    expect(fifth.res.status).toBe(429);
    expect(fifth.res.code).toBe('rate_limited');
    // A different identifier is not affected.
    expect((await x.startFlow('acme', 'yan@acme.test', { xff: '198.18.0.10' })).res.status).toBe(201);
  });
});
