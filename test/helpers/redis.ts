/** Redis for tests (127.0.0.1:6379): required in CI (CI=true), skipped elsewhere when it does not answer. */
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.CALLWARDEN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let reachable: Promise<boolean> | undefined;
export function redisAvailable(): Promise<boolean> {
  reachable ??= (async () => {
    const r = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await r.connect();
      await r.ping();
      return true;
    } catch (e) {
      if (process.env.CI === 'true') throw new Error(`Redis is required in CI but unreachable at ${REDIS_URL}: ${(e as Error).message}`);
      return false;
    } finally {
      r.disconnect();
    }
  })();
  return reachable;
}
