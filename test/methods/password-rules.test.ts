/**
 * Password rules: NIST 800-63B rev 4 lengths (8 with MFA, 15 without), PCI DSS 8.3.6 (12, letters
 * and digits), code-point counting, the 256 maximum, blocklist, identifier and repetition checks.
 */
import { describe, expect, it } from 'vitest';
import { dictionary } from '@zxcvbn-ts/language-common';
import {
  checkPassword,
  describePasswordRules,
  minPasswordLength,
  normalizePassword,
  type PasswordCheckResult,
  type PasswordContext,
} from '../../src/methods/password/rules.js';
import { isCommonPassword } from '../../src/methods/password/blocklist.js';

const MFA: PasswordContext = { mfa: true, pciMode: false };
const SOLO: PasswordContext = { mfa: false, pciMode: false };
const PCI_MFA: PasswordContext = { mfa: true, pciMode: true };
const PCI_SOLO: PasswordContext = { mfa: false, pciMode: true };

function codes(r: PasswordCheckResult): string[] {
  return r.ok ? [] : r.reasons.map((p) => p.code).sort();
}

describe('minimum length (PV-1)', () => {
  it('is 8 with a second factor, 15 without', () => {
    expect(minPasswordLength(MFA)).toBe(8);
    expect(minPasswordLength(SOLO)).toBe(15);
    expect(checkPassword('vbn-tq7x', MFA)).toEqual({ ok: true });
    expect(codes(checkPassword('vbn-tq7', MFA))).toEqual(['too_short']);
    expect(codes(checkPassword('vbn-tq7x', SOLO))).toEqual(['too_short']);
    expect(checkPassword('vbn-tq7x-lmw-ro', SOLO)).toEqual({ ok: true });
    expect(codes(checkPassword('vbn-tq7x-lmw-r', SOLO))).toEqual(['too_short']);
  });

  it('says what the minimum is', () => {
    const r = checkPassword('short', SOLO);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reasons[0]!.message).toMatch(/at least 15 characters/);
  });

  it('rejects the empty password', () => {
    expect(codes(checkPassword('', MFA))).toEqual(['too_short']);
  });
});

describe('counting code points after NFC (PV-2, ASVS 6.2.9)', () => {
  it('counts an emoji once', () => {
    const pw = 'kx😀😀😀😀😀q'; // 8 code points, 13 UTF-16 units
    expect(pw.length).toBe(13);
    expect(checkPassword(pw, MFA)).toEqual({ ok: true });
    expect(codes(checkPassword('kx😀😀😀😀q', MFA))).toEqual(['too_short']);
  });

  it('counts a decomposed accent as one character after NFC', () => {
    const decomposed = 'cafe\u0301-zq'; // "café-zq": 7 code points in NFC, 8 in NFD
    expect(normalizePassword(decomposed)).toBe('caf\u00e9-zq');
    expect(codes(checkPassword(decomposed, MFA))).toEqual(['too_short']);
    expect(checkPassword('cafe\u0301-zqw', MFA)).toEqual({ ok: true });
  });

  it('normalizes to NFC without case-folding or trimming', () => {
    expect(normalizePassword('  MiXeD Cafe\u0301  ')).toBe('  MiXeD Caf\u00e9  ');
  });

  it('allows spaces and any printable Unicode', () => {
    expect(checkPassword('correct horse battery staple', SOLO)).toEqual({ ok: true });
    expect(checkPassword('пароль зимой в лесу', SOLO)).toEqual({ ok: true });
  });
});

describe('maximum length (PV-7)', () => {
  const phrase = (n: number): string => {
    const words = 'amber fjord quill nimbus tavern zephyr lantern orbit '.repeat(10);
    return words.slice(0, n);
  };
  it('accepts 64 and 256 code points, rejects 257', () => {
    expect(phrase(64)).toHaveLength(64);
    expect(checkPassword(phrase(64), SOLO)).toEqual({ ok: true });
    expect(checkPassword(phrase(256), SOLO)).toEqual({ ok: true });
    const r = checkPassword(phrase(257), SOLO);
    expect(codes(r)).toEqual(['too_long']);
    if (!r.ok) expect(r.reasons[0]!.message).toMatch(/at most 256/);
  });

  it('counts emoji code points toward the maximum', () => {
    expect(checkPassword('🔑'.repeat(128) + 'a'.repeat(128), SOLO)).toEqual({ ok: true });
    expect(codes(checkPassword('🔑'.repeat(129) + 'a'.repeat(128), SOLO))).toEqual(['too_long']);
  });

  it('rejects a huge input cheaply', () => {
    expect(codes(checkPassword('x'.repeat(1_000_000), MFA))).toEqual(['too_long']);
  });
});

describe('PCI mode (PCI DSS 8.3.6)', () => {
  it('needs 12 characters with MFA and 15 without', () => {
    expect(minPasswordLength(PCI_MFA)).toBe(12);
    expect(minPasswordLength(PCI_SOLO)).toBe(15);
    expect(checkPassword('vbn7tq-xlmw2', PCI_MFA)).toEqual({ ok: true });
    expect(codes(checkPassword('vbn7tq-xlmw', PCI_MFA))).toEqual(['too_short']);
    expect(codes(checkPassword('vbn7tq-xlmw2', PCI_SOLO))).toEqual(['too_short']);
  });

  it('needs at least one letter and one digit', () => {
    expect(codes(checkPassword('amber fjord quill', PCI_MFA))).toEqual(['pci_letters_digits']);
    expect(codes(checkPassword('9137 4406 2281', PCI_MFA))).toEqual(['pci_letters_digits']);
    expect(checkPassword('amber fjord 7 quill', PCI_MFA)).toEqual({ ok: true });
    // Outside PCI mode there are no composition rules (PV-3).
    expect(checkPassword('amber fjord quill', MFA)).toEqual({ ok: true });
  });
});

describe('blocklist (PV-8..10)', () => {
  it('holds the package list', () => {
    expect(dictionary.passwords.length).toBeGreaterThan(40_000);
    for (const pw of ['password', 'qwerty123', 'password1', 'iloveyou', '1qaz2wsx3edc4rfv']) {
      expect(dictionary.passwords).toContain(pw);
      expect(isCommonPassword(pw)).toBe(true);
    }
  });

  it('matches case-insensitively and after NFKC', () => {
    expect(isCommonPassword('Password1')).toBe(true);
    expect(isCommonPassword('QWERTY123')).toBe(true);
    expect(isCommonPassword('ｐａｓｓｗｏｒｄ')).toBe(true); // full-width letters
    expect(isCommonPassword('amber fjord quill')).toBe(false);
  });

  it('refuses common passwords that meet the length rule, and says why', () => {
    for (const pw of ['password', 'qwerty123', 'Password1', 'iloveyou']) {
      const r = checkPassword(pw, MFA);
      expect(codes(r)).toEqual(['common']);
      if (!r.ok) expect(r.reasons[0]!.message).toMatch(/one of the most common passwords/);
    }
    expect(codes(checkPassword('1qaz2wsx3edc4rfv', SOLO))).toEqual(['common']);
    expect(codes(checkPassword('qwerty123456', PCI_MFA))).toEqual(['common']);
  });
});

describe('context words', () => {
  const ctx: PasswordContext = { ...MFA, identifier: 'Jane.Doe+work@Example.com', tenantName: 'Acme Health' };
  it('rejects the email, its local part, or the part before +tag, case-insensitively', () => {
    expect(codes(checkPassword('xx-jane.doe+work@example.com', ctx))).toEqual(['contains_identifier']);
    expect(codes(checkPassword('my JANE.DOE+WORK pass', ctx))).toEqual(['contains_identifier']);
    expect(codes(checkPassword('hello jane.doe 42', ctx))).toEqual(['contains_identifier']);
  });

  it('ignores local parts shorter than 4 characters', () => {
    expect(checkPassword('bob is my name ok', { ...MFA, identifier: 'bob@example.com' })).toEqual({ ok: true });
    expect(codes(checkPassword('my bob@example.com', { ...MFA, identifier: 'bob@example.com' }))).toEqual(['contains_identifier']);
  });

  it('rejects the tenant name and the service name', () => {
    const r = checkPassword('i work at acmehealth', ctx);
    expect(codes(r)).toEqual(['contains_identifier']);
    if (!r.ok) expect(r.reasons[0]!.message).toMatch(/organization name/);
    expect(codes(checkPassword('Acme Health rocks', ctx))).toEqual(['contains_identifier']);
    expect(codes(checkPassword('my CallWarden login', MFA))).toEqual(['contains_identifier']);
  });
});

describe('repetitive and sequential passwords', () => {
  it('rejects one repeated character and simple sequences', () => {
    for (const pw of ['zzzzzzzz', 'ZZZZzzzz', '        ', '😀😀😀😀😀😀😀😀', 'abcdefghi', 'ABCDEFGHI', 'ihgfedcba', '23456789', '98765432', '7890123456', '3210987654', 'mnopqrstuvwxyz']) {
      expect(codes(checkPassword(pw, MFA)), pw).toContain('repetitive');
    }
  });

  it('rejects a short unit repeated over the whole password', () => {
    expect(codes(checkPassword('xqxqxqxq', MFA))).toContain('repetitive');
    expect(codes(checkPassword('k9!zk9!zk9!z', MFA))).toContain('repetitive');
  });

  it('accepts passwords that merely contain a run', () => {
    expect(checkPassword('abcdefgh!', MFA)).toEqual({ ok: true });
    expect(checkPassword('zzzzzzzz7', MFA)).toEqual({ ok: true });
    expect(checkPassword('abcdeabcdeabcde', SOLO)).toEqual({ ok: true });
  });
});

describe('control characters', () => {
  it('rejects C0, DEL and C1 controls and unpaired surrogates', () => {
    for (const cc of ['\u0000', '\t', '\n', '\u001b', '\u007f', '\u0085', '\u009f', '\ud800']) {
      const r = checkPassword(`amber${cc}fjord`, MFA);
      expect(codes(r), JSON.stringify(cc)).toEqual(['control_characters']);
    }
    expect(checkPassword('amber\u00a0fjord', MFA)).toEqual({ ok: true }); // no-break space is fine
  });
});

describe('reporting', () => {
  it('reports several problems at once, each with a message', () => {
    const r = checkPassword('pass\u0000', { mfa: false, pciMode: true, identifier: 'pass@example.com' });
    expect(codes(r)).toEqual(['contains_identifier', 'control_characters', 'pci_letters_digits', 'too_short']);
    const r2 = checkPassword('12345678', PCI_MFA);
    expect(codes(r2)).toEqual(['common', 'pci_letters_digits', 'repetitive', 'too_short']);
    for (const res of [r, r2]) {
      if (res.ok) throw new Error('expected problems');
      for (const p of res.reasons) expect(p.message.length).toBeGreaterThan(10);
    }
  });

  it('describes the rules in one line', () => {
    expect(describePasswordRules(MFA)).toMatch(/^At least 8 characters .*not a common password/);
    expect(describePasswordRules(SOLO)).toMatch(/^At least 15 characters/);
    expect(describePasswordRules(PCI_MFA)).toMatch(/^At least 12 characters.*one letter and one digit/);
    expect(describePasswordRules(MFA)).not.toMatch(/\n/);
  });
});
