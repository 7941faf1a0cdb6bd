/**
 * Per-client-address and per-identifier limits on authentication endpoints. In memory on one
 * instance; shared through Redis when REDIS_URL is set, so every instance counts the same.
 */
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../domain/errors.js';
import { rateLimitKeyForIp } from '../domain/ip.js';

export interface Limiters {
  ip: RateLimiterAbstract;
  identifier: RateLimiterAbstract;
}

export function createLimiters(o: { ipPerMinute: number; identifierPerMinute: number; redis?: Redis }): Limiters {
  const make = (keyPrefix: string, points: number) =>
    o.redis ? new RateLimiterRedis({ storeClient: o.redis, keyPrefix: `cw:${keyPrefix}`, points, duration: 60, useRedisPackage: false }) : new RateLimiterMemory({ keyPrefix, points, duration: 60 });
  return { ip: make('ip', o.ipPerMinute), identifier: make('ident', o.identifierPerMinute) };
}

async function consume(limiter: RateLimiterAbstract, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (e) {
    if (e instanceof RateLimiterRes) throw new AppError('rate_limited', { retryAfterSeconds: Math.max(1, Math.ceil(e.msBeforeNext / 1000)) });
    // the shared store failed: fail closed rather than let attempts through uncounted
    throw new AppError('unavailable');
  }
}

export const limitIp = (l: Limiters, ip: string) => consume(l.ip, rateLimitKeyForIp(ip));
export const limitIdentifier = (l: Limiters, tenant: string, identifier: string) => consume(l.identifier, `${tenant}:${identifier}`);

/**
 * A route hook (`onRequest`) for attempt routes (sign-in steps, caller-verification checks and sends,
 * the IVR step API and webhook): the per-address budget is spent before the body is parsed and the handler runs, so a refused
 * attempt (429 rate_limited) is never checked. The limiters are read per request.
 */
export const ipLimited = (l: Limiters) => async (req: FastifyRequest): Promise<void> => limitIp(l, req.ip);
