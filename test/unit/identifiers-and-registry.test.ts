/** Email identifier normalization (look-alike and quoted addresses) and assurance from completed methods. */
import { describe, expect, it } from 'vitest';
import type { Aead } from '../../src/crypto/aead.js';
import type { PasswordHasher } from '../../src/crypto/password-hash.js';
import { normalizeEmail, normalizeIdentifier } from '../../src/domain/identifiers.js';
import type { Method } from '../../src/engine/method.js';
import { MethodRegistry } from '../../src/engine/registry.js';
import { passwordMethod } from '../../src/methods/password/index.js';
import { recoveryCodeMethod } from '../../src/methods/recovery-code/index.js';
import { totpMethod } from '../../src/methods/totp/index.js';

describe('normalizeEmail', () => {
  it.each([
    ['Alice@Example.COM', 'alice@example.com'],
    ['  bob@example.org\t\n', 'bob@example.org'],
    ['Ａｌｉｃｅ@ｅｘａｍｐｌｅ.ｃｏｍ', 'alice@example.com'], // full-width, NFKC-folded
    ['carol＠example.com', 'carol@example.com'], // full-width @
    ['ﬁnance@example.com', 'finance@example.com'], // ligature
    ['first.last+tag@sub.example.co.uk', 'first.last+tag@sub.example.co.uk'],
    ['o_k%x-y@example.io', 'o_k%x-y@example.io'],
  ])('%j -> %s', (raw, expected) => {
    expect(normalizeEmail(raw)).toBe(expected);
  });

  it('gives one key for every way of typing the same address', () => {
    const forms = ['dave@example.com', 'DAVE@EXAMPLE.COM', ' Dave@Example.com ', 'ｄａｖｅ@example.com'];
    expect(new Set(forms.map(normalizeEmail))).toEqual(new Set(['dave@example.com']));
  });

  it.each([
    ['"alice"@example.com', 'quoted local part'],
    ['"a b"@example.com', 'quoted local part with a space'],
    ['"alice@evil.com"@example.com', 'quoted local part hiding another address'],
    ['álice@example.com', 'non-ASCII local part'],
    ['аlice@example.com', 'Cyrillic look-alike a'],
    ['alice@exаmple.com', 'Cyrillic look-alike in the domain'],
    ['bob@exämple.com', 'non-ASCII domain'],
    ['İnci@example.com', 'dotted capital I (lower-cases to i + combining dot)'],
    ['a..b@example.com', 'consecutive dots in the local part'],
    ['a@example..com', 'consecutive dots in the domain'],
    ['.alice@example.com', 'leading dot'],
    ['alice.@example.com', 'trailing dot in the local part'],
    ['alice@example.com.', 'trailing dot in the domain'],
    ['alice@@example.com', 'two @'],
    ['alice@evil.com@example.com', 'two addresses'],
    ['alice example@example.com', 'inner space'],
    ['alice@localhost', 'no top-level domain'],
    ['alice@[127.0.0.1]', 'address literal'],
    ['alice(comment)@example.com', 'comment'],
    ['<alice@example.com>', 'angle brackets'],
    ['alice@example.com\u0000', 'NUL'],
    ['', 'empty'],
    [`${'a'.repeat(65)}@example.com`, 'local part over 64 characters (RFC 5321)'],
    [`a@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(60)}.com`, 'over 254 characters'],
  ])('refuses %j (%s)', (raw) => {
    expect(normalizeEmail(raw)).toBeNull();
  });

  it('normalizeIdentifier folds, trims and lower-cases without validating', () => {
    expect(normalizeIdentifier('  ＡＧＥＮＴ-7 ')).toBe('agent-7');
    expect(normalizeEmail(`${'a'.repeat(64)}@example.com`)).toBe(`${'a'.repeat(64)}@example.com`);
  });
});

describe('MethodRegistry.aalFor', () => {
  const none = {} as never;
  const pwd = passwordMethod({ hasher: none as PasswordHasher });
  const totp = totpMethod({ aead: none as Aead });
  const recovery = recoveryCodeMethod({ pepper: Buffer.alloc(32) });
  const registry = new MethodRegistry().register(pwd).register(totp).register(recovery);

  it('declares the traits the levels come from', () => {
    expect(registry.traits().map(({ kind, category, aal }) => ({ kind, category, aal }))).toEqual([
      { kind: 'pwd', category: 'knowledge', aal: 1 },
      { kind: 'totp', category: 'possession', aal: 2 },
      { kind: 'recovery_code', category: 'possession', aal: 2 },
    ]);
  });

  it.each([
    [[], 0],
    [['pwd'], 1],
    [['totp'], 1],
    [['recovery_code'], 1],
    [['totp', 'recovery_code'], 1], // two possession factors: still one category
    [['pwd', 'totp'], 2],
    [['totp', 'pwd'], 2],
    [['pwd', 'recovery_code'], 2],
    [['pwd', 'pwd'], 1],
    [['pwd', 'pwd', 'totp', 'totp'], 2],
    [['pwd', 'unknown'], 1],
    [['unknown', 'other'], 0],
  ] as Array<[string[], number]>)('%j -> AAL%i', (methods, aal) => {
    expect(registry.aalFor(methods)).toBe(aal);
  });

  it('never reaches AAL3 without a phishing-resistant AAL3 factor', () => {
    const key: Method<unknown> = { ...(totp as Method<unknown>), kind: 'hw', traits: { ...totp.traits, category: 'possession', aal: 3, phishingResistant: true } };
    const r = new MethodRegistry().register(pwd).register(totp).register(key);
    expect(r.aalFor(['pwd', 'totp'])).toBe(2);
    expect(r.aalFor(['pwd', 'hw'])).toBe(3);
    expect(r.aalFor(['hw'])).toBe(1);
  });

  it('refuses registering a kind twice', () => {
    expect(() => new MethodRegistry().register(pwd).register(pwd)).toThrow(/twice/);
  });
});
