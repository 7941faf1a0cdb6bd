/** Opaque random tokens (sessions, flows, invitations) and their stored hashes. */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 bits from the CSPRNG, base64url. */
export const newToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/** Tokens are stored as SHA-256: they carry 256 bits, so a fast hash is enough. */
export const hashToken = (token: string): Buffer => createHash('sha256').update(token).digest();

export const hmac = (key: Buffer, value: string): Buffer => createHmac('sha256', key).update(value).digest();

/** Constant-time equality for secrets of any length (compares digests of equal length). */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}
