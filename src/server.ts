/**
 * Runs the server: opens the store, applies migrations, bootstraps the operator on an empty store,
 * starts the HTTP listener, the background audit sealer and the delivery worker, and shuts down
 * cleanly on a signal.
 */
import type { FastifyInstance } from 'fastify';
import { sealAll } from './audit/seal.js';
import type { Config } from './config/load.js';
import { Redis } from 'ioredis';
import { startDelivery } from './delivery/setup.js';
import { buildApp } from './http/app.js';
import { createLimiters } from './http/rate-limit.js';
import { createServices, type Services } from './services/context.js';
import { sweep } from './services/maintenance.js';
import { createOperator } from './services/tenants.js';
import { openDatabase } from './storage/db.js';
import { migrate } from './storage/migrate.js';
import { createStore } from './storage/store.js';

export interface Running {
  app: FastifyInstance;
  services: Services;
  url: string;
  stop(): Promise<void>;
}

export async function openServices(config: Config): Promise<Services> {
  const database = await openDatabase({ url: config.databaseUrl || undefined, dataDir: config.dataDir });
  const applied = await migrate(database.db);
  const services = createServices(config, createStore(database));
  if (applied.length) services.log.info({ applied }, 'migrations applied');
  return services;
}

export async function startServer(config: Config, opts: { services?: Services } = {}): Promise<Running> {
  const s = opts.services ?? (await openServices(config));
  if (config.mode === 'dev' && config.generatedKey) s.log.warn('dev mode: using a generated encryption key kept in the data directory; set CALLWARDEN_ENCRYPTION_KEY and CALLWARDEN_MODE=production for real use');
  if (config.bootstrapAdminEmail) {
    try {
      const r = await createOperator(s, { email: config.bootstrapAdminEmail, password: config.bootstrapAdminPassword, origin: { ip: null, userAgent: null, requestId: null, channel: 'system' }, onlyIfEmpty: true });
      if (r.created) s.log.info({ email: config.bootstrapAdminEmail }, 'platform operator created');
    } catch (e) {
      // Several instances starting together on an empty store all try; one wins and the others meet
      // its rows (a duplicate platform tenant or operator). Only an error on a still-empty store is real.
      if ((await s.store.tenants.list()).length === 0) throw e;
      s.log.info({ email: config.bootstrapAdminEmail, reason: (e as Error).message }, 'platform operator bootstrapped by another instance');
    }
  }
  // Rate limits shared by every instance through Redis when configured (they fail closed if it is down).
  // commandTimeout: a Redis that accepts connections but does not answer (frozen, overloaded, a
  // half-open connection) must refuse attempts promptly too, not hold each one until the client gives up.
  const redis = config.redisUrl ? new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 1000 }) : undefined;
  redis?.on('error', (err: Error) => s.log.warn({ err: { message: err.message } }, 'redis error'));
  if (!redis && s.store.kind === 'postgres') s.log.warn('REDIS_URL is not set: rate limits are counted in this process only; with several instances set REDIS_URL so that they share them');
  const limiters = createLimiters({ ipPerMinute: config.ipAttemptsPerMinute, identifierPerMinute: config.identifierAttemptsPerMinute, redis });
  const app = await buildApp(s, { limiters });
  const address = await app.listen({ host: config.host, port: config.port });
  let sealing = false;
  const timer =
    config.auditSealIntervalMs > 0
      ? setInterval(() => {
          if (sealing) return;
          sealing = true;
          sealAll(s)
            .catch((err: Error) => s.log.error({ err: { message: err.message } }, 'audit sealing failed'))
            .finally(() => {
              sealing = false;
            });
        }, config.auditSealIntervalMs)
      : undefined;
  timer?.unref();
  const sweeper =
    config.sweepIntervalMs > 0
      ? setInterval(() => {
          sweep(s).then(
            (r) => s.log.debug(r, 'retention sweep'),
            (err: Error) => s.log.error({ err: { message: err.message } }, 'retention sweep failed'),
          );
        }, config.sweepIntervalMs)
      : undefined;
  sweeper?.unref();
  const delivery = startDelivery(s);
  s.log.info({ url: address, store: s.store.kind }, 'callwarden listening');
  return {
    app,
    services: s,
    url: address,
    async stop() {
      if (timer) clearInterval(timer);
      if (sweeper) clearInterval(sweeper);
      await app.close();
      await delivery?.stop();
      redis?.disconnect();
      await sealAll(s).catch(() => 0);
      await s.store.close();
    },
  };
}
