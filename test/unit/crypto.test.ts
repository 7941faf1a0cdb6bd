/** Secrets at rest (AES-256-GCM), tokens, constant-time comparison, recovery codes and argon2id. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Aead } from '../../src/crypto/aead.js';
import { PasswordHasher } from '../../src/crypto/password-hash.js';
import { hashToken, hmac, newToken, safeEqual } from '../../src/crypto/tokens.js';
import { RECOVERY_CODE_COUNT, newRecoveryCode } from '../../src/methods/recovery-code/index.js';
import { normalizeCode } from '../../src/methods/shared.js';

describe('Aead (AES-256-GCM)', () => {
  const aead = new Aead(randomBytes(32));
  const secret = randomBytes(20);

  it('round-trips with the same associated data', () => {
    const sealed = aead.seal(secret, 'totp:f1');
    expect(aead.open(sealed, 'totp:f1').equals(secret)).toBe(true);
    expect(sealed.length).toBe(1 + 12 + secret.length + 16);
    expect(sealed.includes(secret)).toBe(false);
  });

  it('uses a fresh nonce each time', () => {
    expect(aead.seal(secret, 'a').equals(aead.seal(secret, 'a'))).toBe(false);
  });

  it('fails with other associated data (a secret copied onto another row)', () => {
    expect(() => aead.open(aead.seal(secret, 'totp:f1'), 'totp:f2')).toThrow();
  });

  it('fails when any byte is changed', () => {
    const sealed = aead.seal(secret, 'x');
    for (const i of [1, 12, 13, sealed.length - 17, sealed.length - 1]) {
      const t = Buffer.from(sealed);
      t[i]! ^= 0x01;
      expect(() => aead.open(t, 'x'), `byte ${i}`).toThrow();
    }
  });

  it('fails on a truncated envelope, another version or another key', () => {
    const sealed = aead.seal(secret, 'x');
    expect(() => aead.open(sealed.subarray(0, 28), 'x')).toThrow(/not a sealed value/);
    const v2 = Buffer.from(sealed);
    v2[0] = 2;
    expect(() => aead.open(v2, 'x')).toThrow(/not a sealed value/);
    expect(() => new Aead(randomBytes(32)).open(sealed, 'x')).toThrow();
  });

  it('needs a 32-byte key', () => {
    expect(() => new Aead(randomBytes(16))).toThrow(/32-byte/);
  });

  it('derive() gives a stable 32-byte sub-key per purpose, different per purpose and per key', () => {
    const key = randomBytes(32);
    const a = new Aead(key);
    expect(a.derive('recovery-codes')).toHaveLength(32);
    expect(a.derive('recovery-codes').equals(new Aead(key).derive('recovery-codes'))).toBe(true);
    expect(a.derive('recovery-codes').equals(a.derive('other'))).toBe(false);
    expect(a.derive('recovery-codes').equals(new Aead(randomBytes(32)).derive('recovery-codes'))).toBe(false);
    expect(a.derive('recovery-codes').equals(key)).toBe(false);
  });
});

describe('tokens', () => {
  it('newToken: 256 bits from the CSPRNG, base64url, 43 characters', () => {
    const tokens = Array.from({ length: 200 }, () => newToken());
    for (const t of tokens) {
      expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(t, 'base64url')).toHaveLength(32);
    }
    expect(new Set(tokens).size).toBe(tokens.length);
    // every base64url character shows up across 200 tokens (~8,600 characters): not a narrow alphabet
    expect(new Set(tokens.join('')).size).toBe(64);
  });

  it('newToken(n) carries n bytes', () => {
    expect(Buffer.from(newToken(16), 'base64url')).toHaveLength(16);
  });

  it('hashToken is SHA-256: 32 bytes, deterministic, distinct per token', () => {
    const t = newToken();
    expect(hashToken(t)).toHaveLength(32);
    expect(hashToken(t).equals(hashToken(t))).toBe(true);
    expect(hashToken(t).equals(hashToken(newToken()))).toBe(false);
    expect(hashToken('abc').toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('hmac depends on the key', () => {
    expect(hmac(randomBytes(32), 'v').equals(hmac(randomBytes(32), 'v'))).toBe(false);
  });

  it('safeEqual compares values of any length', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
    expect(safeEqual('', 'a')).toBe(false);
    const b = randomBytes(32);
    expect(safeEqual(b, Buffer.from(b))).toBe(true);
    expect(safeEqual(b, randomBytes(32))).toBe(false);
    expect(safeEqual(Buffer.from('abc'), 'abc')).toBe(true);
  });
});

describe('recovery codes', () => {
  it('are xxxx-xxxx-xxxx from an alphabet without look-alikes, 10 per set', () => {
    expect(RECOVERY_CODE_COUNT).toBe(10);
    const codes = Array.from({ length: 500 }, newRecoveryCode);
    for (const c of codes) expect(c).toMatch(/^[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}$/);
    expect(codes.join('')).not.toMatch(/[01ilo]/);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('normalize dashes, spaces, dots and case to one form', () => {
    const code = newRecoveryCode();
    const plain = code.replace(/-/g, '');
    const typed = [code, plain, code.toUpperCase(), ` ${code.replace(/-/g, ' ')} `, code.replace(/-/g, '.'), `${plain.slice(0, 6)}\t${plain.slice(6)}`, code.replace(/-/g, '- ')];
    for (const t of typed) expect(normalizeCode(t).toLowerCase(), JSON.stringify(t)).toBe(plain);
  });

  it('folds full-width characters (NFKC)', () => {
    expect(normalizeCode('ＡＢＣＤ－２３４５').toLowerCase()).toBe('abcd2345');
  });
});

describe('PasswordHasher (argon2id)', () => {
  const params = { memoryKib: 8192, iterations: 1, parallelism: 1 };
  const hasher = new PasswordHasher(params);

  function phc(hash: string) {
    const m = /^\$(argon2(?:id|i|d))\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(hash);
    expect(m, hash).not.toBeNull();
    const [, alg, v, mm, t, p, salt, digest] = m!;
    return { alg, v: Number(v), m: Number(mm), t: Number(t), p: Number(p), salt: Buffer.from(salt!, 'base64'), digest: Buffer.from(digest!, 'base64') };
  }

  it('hashes with argon2id and the configured m, t, p, with a random salt', async () => {
    const h = await hasher.hash('correct horse battery staple');
    expect(phc(h)).toMatchObject({ alg: 'argon2id', v: 19, m: 8192, t: 1, p: 1 });
    expect(phc(h).salt.length).toBeGreaterThanOrEqual(16);
    expect(phc(h).digest.length).toBeGreaterThanOrEqual(32);
    const other = new PasswordHasher({ memoryKib: 9216, iterations: 2, parallelism: 2 });
    expect(phc(await other.hash('x'))).toMatchObject({ alg: 'argon2id', m: 9216, t: 2, p: 2 });
    expect(await hasher.hash('same')).not.toBe(await hasher.hash('same'));
  });

  it('verifies the right password only, never truncating or case-folding', async () => {
    const pw = 'Tr0ub4dor&3 ' + 'x'.repeat(100) + ' 🔑';
    const h = await hasher.hash(pw);
    expect(await hasher.verify(h, pw)).toBe(true);
    expect(await hasher.verify(h, pw.toLowerCase())).toBe(false);
    expect(await hasher.verify(h, pw.slice(0, -1))).toBe(false);
    expect(await hasher.verify(h, pw + ' ')).toBe(false);
  });

  it('verify(null, x) is false (and does not throw); a malformed hash is false', async () => {
    expect(await hasher.verify(null, 'anything')).toBe(false);
    expect(await hasher.verify(null, '')).toBe(false);
    expect(await hasher.verify('not-a-hash', 'x')).toBe(false);
  });
});
