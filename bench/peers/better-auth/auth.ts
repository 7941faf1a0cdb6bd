/**
 * The Better Auth instance under test: emailAndPassword + the twoFactor plugin (TOTP), on a pg Pool
 * (Better Auth wraps it in Kysely's PostgresDialect), with password hashing replaced by argon2id
 * through Callwarden's own PasswordHasher (@node-rs/argon2, the same parameters as the Callwarden
 * server in the same run). Shared by the server process (server.ts) and the migration step.
 */
import type { BetterAuthOptions } from 'better-auth';
import { twoFactor } from 'better-auth/plugins/two-factor';
import pg from 'pg';
import { PasswordHasher, type Argon2Params } from '../../../src/crypto/password-hash.js';

export interface AuthSettings {
  /** The throw-away database. */
  pgUrl: string;
  /** http://127.0.0.1:PORT: Better Auth's baseURL (its only trusted origin). */
  baseURL: string;
  secret: string;
  argon2: Argon2Params;
  /** pg pool size; Callwarden's default is 10 (src/storage/db.ts). */
  poolSize: number;
}

/** Better Auth's API lives under this path (its default). */
export const BASE_PATH = '/api/auth';

export function authOptions(s: AuthSettings, pool = new pg.Pool({ connectionString: s.pgUrl, max: s.poolSize, connectionTimeoutMillis: 5000 })) {
  const hasher = new PasswordHasher(s.argon2);
  pool.on('error', () => undefined);
  return {
    appName: 'Callwarden bench peer',
    baseURL: s.baseURL,
    basePath: BASE_PATH,
    secret: s.secret,
    database: pool,
    emailAndPassword: {
      enabled: true,
      password: {
        hash: (password: string) => hasher.hash(password),
        verify: ({ hash, password }: { hash: string; password: string }) => hasher.verify(hash, password),
      },
    },
    plugins: [twoFactor({ issuer: 'Callwarden bench peer' })],
    // Callwarden's limits are raised to 1,000,000/min for its run; Better Auth's are switched off
    // (its twoFactor plugin allows 3 requests per 10 s per address and path, and every client is 127.0.0.1).
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    logger: { disabled: true },
  } satisfies BetterAuthOptions;
}
