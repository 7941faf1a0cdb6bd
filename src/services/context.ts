/**
 * The service context: configuration, storage, crypto, the factor registry and a clock, built once
 * per process and passed to every service. Tests build it with an in-memory store and a fake clock.
 */
import pino, { type Logger } from 'pino';
import type { Config } from '../config/load.js';
import { Aead } from '../crypto/aead.js';
import { PasswordHasher } from '../crypto/password-hash.js';
import { passwordFactor, type PasswordFactor } from '../factors/password.js';
import { recoveryCodes } from '../factors/recovery-codes.js';
import { FactorRegistry } from '../factors/registry.js';
import { totpFactor, userTotpStore } from '../factors/totp.js';
import { AttemptGate } from '../flows/attempt-gate.js';
import type { Store } from '../storage/store.js';

export type Clock = () => Date;

/** Where a request came from; recorded on audit events. */
export interface Origin {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  channel: 'api' | 'cli' | 'system';
}

export const cliOrigin: Origin = { ip: null, userAgent: null, requestId: null, channel: 'cli' };

export interface Services {
  config: Config;
  store: Store;
  hasher: PasswordHasher;
  aead: Aead;
  clock: Clock;
  registry: FactorRegistry;
  password: PasswordFactor;
  recovery: ReturnType<typeof recoveryCodes>;
  gate: AttemptGate;
  log: Logger;
}

export function createServices(config: Config, store: Store, opts: { clock?: Clock; log?: Logger } = {}): Services {
  const hasher = new PasswordHasher({ memoryKib: config.argon2MemoryKib, iterations: config.argon2Iterations, parallelism: config.argon2Parallelism });
  const aead = new Aead(config.encryptionKey);
  const password = passwordFactor({ hasher, users: store.users });
  const recovery = recoveryCodes({ factors: store.factors, pepper: aead.derive('recovery-codes') });
  const registry = new FactorRegistry()
    .register(password)
    .register(totpFactor({ aead, store: userTotpStore(store.factors), issuer: () => 'Callwarden' }))
    .register(recovery.factor);
  return {
    config,
    store,
    hasher,
    aead,
    clock: opts.clock ?? (() => new Date()),
    registry,
    password,
    recovery,
    gate: new AttemptGate(store.counters),
    log: opts.log ?? pino({ level: config.logLevel }),
  };
}
