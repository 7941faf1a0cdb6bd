/** RFC 4226 / RFC 6238 test vectors and the ±1 step match window (security-requirements.md, OTP / TOTP). */
import { describe, expect, it } from 'vitest';
import { TOTP_PERIOD, hotp, matchTotpStep, newTotpSecret, totpAt } from '../../src/methods/totp/core.js';

const SEED20 = Buffer.from('12345678901234567890', 'ascii');
const SEED32 = Buffer.from('12345678901234567890123456789012', 'ascii');
const SEED64 = Buffer.from('1234567890'.repeat(7).slice(0, 64), 'ascii');

describe('RFC 4226 HOTP', () => {
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  it.each(expected.map((code, counter) => ({ counter, code })))('counter $counter gives $code', ({ counter, code }) => {
    expect(hotp(SEED20, counter)).toBe(code);
  });
});

describe('RFC 6238 TOTP (8 digits, 30 s)', () => {
  const table: Array<[number, string, string, string]> = [
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ];
  const cases = table.flatMap(([t, sha1, sha256, sha512]) => [
    { t, algorithm: 'SHA1', seed: SEED20, code: sha1 },
    { t, algorithm: 'SHA256', seed: SEED32, code: sha256 },
    { t, algorithm: 'SHA512', seed: SEED64, code: sha512 },
  ]);
  it('uses seeds of the sizes the RFC names', () => {
    expect([SEED20.length, SEED32.length, SEED64.length]).toEqual([20, 32, 64]);
  });
  it.each(cases)('$algorithm at $t s gives $code', ({ t, algorithm, seed, code }) => {
    expect(totpAt(seed, new Date(t * 1000), { digits: 8, algorithm })).toBe(code);
  });
});

describe('matchTotpStep', () => {
  const secret = newTotpSecret();
  const now = new Date(1_750_000_015_000); // mid-step
  const step = Math.floor(now.getTime() / 1000 / TOTP_PERIOD);
  const codeAt = (offsetSteps: number) => totpAt(secret, new Date(now.getTime() + offsetSteps * TOTP_PERIOD * 1000));

  it('has a 160-bit secret from the CSPRNG', () => {
    expect(secret.length).toBe(20);
    expect(newTotpSecret().equals(secret)).toBe(false);
  });

  it('accepts the current step and returns it', () => {
    expect(matchTotpStep(secret, codeAt(0), now)).toBe(step);
  });

  it('accepts the previous and the next step (one step of drift)', () => {
    expect(matchTotpStep(secret, codeAt(-1), now)).toBe(step - 1);
    expect(matchTotpStep(secret, codeAt(1), now)).toBe(step + 1);
  });

  it('refuses codes two steps away', () => {
    for (const off of [-2, 2, -3, 3]) {
      const code = codeAt(off);
      // a code that happens to collide with one inside the window would be a legitimate match
      if ([-1, 0, 1].some((w) => codeAt(w) === code)) continue;
      expect(matchTotpStep(secret, code, now)).toBeNull();
    }
  });

  it('refuses strings that are not exactly 6 digits', () => {
    const code = codeAt(0);
    for (const bad of ['', code.slice(0, 5), code + '0', ` ${code}`, `${code.slice(0, 3)} ${code.slice(3)}`, `${code.slice(0, 3)}-${code.slice(3)}`, 'abcdef', '１２３４５６', totpAt(secret, now, { digits: 8 })]) {
      expect(matchTotpStep(secret, bad, now), JSON.stringify(bad)).toBeNull();
    }
  });

  it('refuses a code of another secret', () => {
    const other = newTotpSecret();
    const code = totpAt(other, now);
    if (![-1, 0, 1].some((w) => codeAt(w) === code)) expect(matchTotpStep(secret, code, now)).toBeNull();
  });
});
