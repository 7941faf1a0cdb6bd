/**
 * TOTP (RFC 6238) on otpauth: secrets of 160 bits from the CSPRNG, 6 digits, 30 s step, SHA-1 (what
 * Google and Microsoft Authenticator support), and a match window of one step either side.
 */
import { randomBytes } from 'node:crypto';
import { Secret, TOTP, HOTP } from 'otpauth';

export const TOTP_PERIOD = 30;
export const TOTP_DIGITS = 6;

export const newTotpSecret = (): Buffer => randomBytes(20);

function totp(secret: Buffer, opts: { issuer?: string; label?: string; digits?: number; algorithm?: string } = {}): TOTP {
  return new TOTP({
    secret: new Secret({ buffer: new Uint8Array(secret).buffer }),
    digits: opts.digits ?? TOTP_DIGITS,
    period: TOTP_PERIOD,
    algorithm: opts.algorithm ?? 'SHA1',
    issuer: opts.issuer ?? 'Callwarden',
    label: opts.label ?? '',
  });
}

export const base32 = (secret: Buffer): string => new Secret({ buffer: new Uint8Array(secret).buffer }).base32;

export function otpauthUri(secret: Buffer, issuer: string, account: string): string {
  return totp(secret, { issuer, label: account }).toString();
}

/** The code for a moment (used by tests and tools). */
export function totpAt(secret: Buffer, at: Date, opts: { digits?: number; algorithm?: string } = {}): string {
  return totp(secret, opts).generate({ timestamp: at.getTime() });
}

export function hotp(secret: Buffer, counter: number, digits = TOTP_DIGITS): string {
  return new HOTP({ secret: new Secret({ buffer: new Uint8Array(secret).buffer }), digits }).generate({ counter });
}

/** The time step a code matches within ±1 step of `now`, or null. */
export function matchTotpStep(secret: Buffer, code: string, now: Date): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totp(secret).validate({ token: code, timestamp: now.getTime(), window: 1 });
  if (delta === null) return null;
  return Math.floor(now.getTime() / 1000 / TOTP_PERIOD) + delta;
}

/** The AAD a TOTP secret is sealed with: bound to its credential id. */
export const totpAad = (credentialId: string) => `totp:${credentialId}`;
