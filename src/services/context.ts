/**
 * The service context: configuration, storage, crypto, the methods and the flow engine and a clock, built once
 * per process and passed to every service. Tests build it with an in-memory store and a fake clock.
 */
import pino, { type Logger } from 'pino';
import type { Config } from '../config/load.js';
import { Aead } from '../crypto/aead.js';
import { PasswordHasher } from '../crypto/password-hash.js';
import { AttemptGate } from '../engine/attempt-gate.js';
import { FlowEngine } from '../engine/engine.js';
import type { MethodRegistry } from '../engine/registry.js';
import { registerMethods } from '../methods/index.js';
import { recoveryCodeIssuer } from '../methods/recovery-code/issue.js';
import type { TotpEnrollment } from '../methods/totp/enrollment.js';
import { claimFlow } from '../storage/repositories/flow-claims.js';
import { bindOutboxSealing } from '../storage/repositories/outbox.js';
import { recordFailure, recordSuccess, release } from '../storage/repositories/flow-records.js';
import { eventRecord } from './audit-log.js';
import { parseStoredPolicy } from './policies.js';
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
  /** Binding an authenticator app (self-service, forced enrollment, customer TOTP). */
  totpEnrollment: TotpEnrollment;
  /** The methods (one folder each, src/methods) and the engine that runs every flow. */
  methods: MethodRegistry;
  engine: FlowEngine;
  /** Security keys and passkeys: the relying party (RP ID and allowed origins) and the registration answer's method. */
  webauthn: { rp: ReturnType<typeof registerMethods>['rp']; registration: ReturnType<typeof registerMethods>['keyRegistration'] };
  /** The password method (its hash check serves password changes too). */
  password: ReturnType<typeof registerMethods>['password'];
  recovery: ReturnType<typeof recoveryCodeIssuer>;
  gate: AttemptGate;
  log: Logger;
}

export function createServices(config: Config, store: Store, opts: { clock?: Clock; log?: Logger } = {}): Services {
  const hasher = new PasswordHasher({ memoryKib: config.argon2MemoryKib, iterations: config.argon2Iterations, parallelism: config.argon2Parallelism });
  const aead = new Aead(config.encryptionKey);
  const recovery = recoveryCodeIssuer({ credentials: store.credentials, pepper: aead.derive('recovery-codes') });
  const clock = opts.clock ?? (() => new Date());
  // outbox rows are sealed with this process's key, whoever writes them
  bindOutboxSealing(store.db, aead);
  const { registry: methods, password, totpEnrollment, keyRegistration, rp } = registerMethods({ aead, hasher, credentials: store.credentials, rp: { rpId: config.webauthnRpId, origins: config.webauthnOrigins } });
  if (!totpEnrollment) throw new Error('the TOTP method has no enrollment');
  const db = store.db;
  const services = {} as Services;
  const engine = new FlowEngine({
    flows: {
      claim: (r) => claimFlow(db, r),
      byId: (id) => store.flows.byId(id),
      recordSuccess: (a) => recordSuccess(db, a),
      recordFailure: (a) => recordFailure(db, a),
      release: (a) => release(db, a),
    },
    event: (e) => eventRecord(services, e),
    policy: parseStoredPolicy,
    clock,
  });
  return Object.assign(services, {
    config,
    store,
    hasher,
    aead,
    clock,
    // the TOTP method's own enrollment (typed for its display: setup key, URI, QR code)
    totpEnrollment,
    methods,
    engine,
    webauthn: { rp, registration: keyRegistration },
    password,
    recovery,
    gate: new AttemptGate(store.counters),
    log: opts.log ?? pino({ level: config.logLevel }),
  });
}
