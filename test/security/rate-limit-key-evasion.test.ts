/**
 * Threat: rate-limit key evasion through address or identifier spellings (Authelia CVE-2025-24806).
 * Every spelling of one client address (IPv6 counted per /64, IPv4-mapped counted as IPv4) and of one
 * identifier (case, spaces, full-width letters, tenant spelling) lands in one bucket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rateLimitKeyForIp } from '../../src/domain/ip.js';
import { passwordSubject } from '../../src/flows/attempt-gate.js';
import { api, json, seed, STRONG, testApp, type TestApp } from '../helpers/app.js';
import { passwordStep, startFlow } from '../helpers/flows.js';

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
    for (const [x, y] of pairs) expect(rateLimitKeyForIp(x!), `${x} vs ${y}`).not.toBe(rateLimitKeyForIp(y!));
  });
});

describe('per-address limit over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp({ env: { CALLWARDEN_IP_ATTEMPTS_PER_MINUTE: '5' } });
    await seed(t);
  });
  afterAll(() => t.close());

  const attempt = (remoteAddress: string) => startFlow(t.app, 'acme', 'someone@acme.test', { remoteAddress }).then((r) => r.res);

  it('refuses the 6th attempt from one IPv6 /64, however the addresses rotate', async () => {
    const addresses = ['2001:db8:9:9::1', '2001:db8:9:9::2', '2001:db8:9:9:abcd:1234:5678:9abc', '2001:0DB8:0009:0009:0000:0000:0000:0003', '2001:db8:9:9:ffff:ffff:ffff:ffff'];
    for (const a of addresses) expect((await attempt(a)).statusCode, a).toBe(201);
    const sixth = await attempt('2001:db8:9:9::6');
    expect(sixth.statusCode).toBe(429);
    expect(json(sixth).code).toBe('rate_limited');
    expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(0);
    // Another /64 has its own budget.
    expect((await attempt('2001:db8:9:a::1')).statusCode).toBe(201);
  });

  it('refuses the 6th attempt from one IPv4 address, however it is spelled', async () => {
    for (const a of ['198.51.100.7', '::ffff:198.51.100.7', '::ffff:c633:6407', '0:0:0:0:0:ffff:c633:6407', '::FFFF:198.51.100.7']) expect((await attempt(a)).statusCode, a).toBe(201);
    const sixth = await attempt('198.51.100.7');
    expect(sixth.statusCode).toBe(429);
    expect(json(sixth).code).toBe('rate_limited');
    expect((await attempt('198.51.100.8')).statusCode).toBe(201);
  });
});

describe('identifier variants', () => {
  let t: TestApp;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const variants = ['Ana@Acme.test ', ' ANA@ACME.TEST', 'ａｎａ@acme.test', 'ＡＮＡ＠ＡＣＭＥ．ＴＥＳＴ'];

  beforeAll(async () => {
    t = await testApp();
    seeded = await seed(t, { users: [{ email: 'ana@acme.test', roles: ['agent'] }] });
  });
  afterAll(() => t.close());

  it('share one password counter', async () => {
    for (const [i, v] of variants.entries()) {
      const { res, flow } = await startFlow(t.app, 'acme', v);
      expect(res.statusCode).toBe(201);
      expect((await passwordStep(t.app, flow, `wrong password ${i} here`)).res.statusCode).toBe(401);
    }
    expect((await t.s.store.counters.get(passwordSubject(seeded.tenantId, 'ana@acme.test')))?.failures).toBe(variants.length);
  });

  it('a full-width spelling signs in to the same account', async () => {
    const { flow } = await startFlow(t.app, 'acme', 'ＡＮＡ＠ＡＣＭＥ．ＴＥＳＴ');
    const pw = await passwordStep(t.app, flow, STRONG);
    expect(pw.res.statusCode).toBe(200);
    const me = json(await api(t.app).get('/v1/me', { token: pw.body.session.token }));
    expect(me.userId).toBe(seeded.users['ana@acme.test']!.id);
  });
});

describe('per-identifier limit on starting sign-ins', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp({ env: { CALLWARDEN_IDENTIFIER_ATTEMPTS_PER_MINUTE: '4' } });
    await seed(t);
  });
  afterAll(() => t.close());

  it('counts every spelling of the identifier and of the tenant in one bucket', async () => {
    // Spread over addresses so that only the identifier limit (4 a minute) applies.
    const spellings: Array<[string, string]> = [['acme', 'zed@acme.test'], [' acme', 'ZED@acme.test '], ['ACME ', 'ｚｅｄ@acme.test'], ['Acme\t', 'Zed@ACME.test']];
    for (const [i, [tenant, id]] of spellings.entries()) {
      const r = await startFlow(t.app, tenant, id, { remoteAddress: `198.18.0.${i + 1}` });
      expect(r.res.statusCode, `${JSON.stringify(tenant)} ${id}`).toBe(201);
    }
    const fifth = await startFlow(t.app, '  acme  ', 'ＺＥＤ＠ａｃｍｅ．ｔｅｓｔ', { remoteAddress: '198.18.0.9' });
    expect(fifth.res.statusCode).toBe(429);
    expect(json(fifth.res).code).toBe('rate_limited');
    // A different identifier is not affected.
    expect((await startFlow(t.app, 'acme', 'yan@acme.test', { remoteAddress: '198.18.0.10' })).res.statusCode).toBe(201);
  });
});
