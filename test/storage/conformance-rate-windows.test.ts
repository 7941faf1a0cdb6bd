/** Fixed-window counters, plain and sharded: every use counted once, also in parallel. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/storage/store.js';
import { backends, testStore } from '../helpers/db.js';
import { range, uniq } from '../helpers/fixtures.js';

describe.each(await backends())('rate windows on %s', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await testStore(backend);
  });
  afterAll(() => store?.close());

  it('counts uses in the current window and starts again in the next', async () => {
    const key = `k:${uniq()}`;
    const now = new Date('2030-01-01T00:00:10Z');
    expect((await store.rateWindows.hit(key, 60_000, now)).count).toBe(1);
    expect((await store.rateWindows.hit(key, 60_000, new Date(now.getTime() + 40_000))).count).toBe(2);
    const next = await store.rateWindows.hit(key, 60_000, new Date(now.getTime() + 60_000));
    expect(next.count).toBe(1);
    expect(next.resetAt.toISOString()).toBe('2030-01-01T00:02:00.000Z');
  });

  it('a sharded counter sums its shards: 40 parallel uses count 40', async () => {
    const key = `t:${uniq()}`;
    const now = new Date();
    const r = await Promise.all(range(40).map(() => store.rateWindows.hitSharded(key, 8, 60_000, now)));
    expect(Math.max(...r.map((x) => x.count))).toBeLessThanOrEqual(40);
    expect((await store.rateWindows.hitSharded(key, 8, 60_000, now)).count).toBe(41);
    const rows = await store.db.selectFrom('rate_windows').select(['key', 'count']).where('key', 'like', `${key}#%`).execute();
    expect(rows.reduce((a, x) => a + x.count, 0)).toBe(41);
    expect(rows.length).toBeGreaterThan(1);
  });
});
