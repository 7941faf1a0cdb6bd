/** Per-IP limits through Redis: shared by every instance, and closed (503) when Redis is down. */
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import { createLimiters, limitIp } from '../../src/http/rate-limit.js';
import { REDIS_URL, redisAvailable } from '../helpers/redis.js';

const available = await redisAvailable();

describe.skipIf(!available)('rate limits on Redis', () => {
  const clients: Redis[] = [];
  const client = () => {
    const r = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    clients.push(r);
    return r;
  };
  afterAll(() => clients.forEach((c) => c.disconnect()));

  it('two instances share one budget per address (IPv6 counted per /64)', async () => {
    const a = createLimiters({ ipPerMinute: 5, identifierPerMinute: 5, redis: client() });
    const b = createLimiters({ ipPerMinute: 5, identifierPerMinute: 5, redis: client() });
    await new Promise((r) => setTimeout(r, 100));
    const prefix = `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}`;
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => limitIp(i % 2 ? a : b, `${prefix}::${i + 1}`)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused).toHaveLength(3);
    for (const r of refused) expect((r.reason as AppError).code).toBe('rate_limited');
  });

  it('fails closed when Redis does not answer', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
    clients.push(dead);
    const l = createLimiters({ ipPerMinute: 100, identifierPerMinute: 100, redis: dead });
    await expect(limitIp(l, '192.0.2.7')).rejects.toMatchObject({ code: 'unavailable' });
  });
});
