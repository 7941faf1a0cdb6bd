/** Fixed-window counters (sends per destination, per agent, per tenant). */
import { sql } from 'kysely';
import type { Db } from '../db.js';

/** Fixed-window counters: `hit` adds one use to the current window and returns the count in it. */
export class RateWindowRepo {
  constructor(private readonly db: Db) {}

  async hit(key: string, windowMs: number, now: Date): Promise<{ count: number; resetAt: Date }> {
    const start = new Date(Math.floor(now.getTime() / windowMs) * windowMs);
    const r = await this.db
      .insertInto('rate_windows')
      .values({ key, window_start: start, count: 1 })
      .onConflict((oc) => oc.columns(['key', 'window_start']).doUpdateSet((eb) => ({ count: eb('rate_windows.count', '+', 1) })))
      .returning('count')
      .executeTakeFirstOrThrow();
    return { count: r.count, resetAt: new Date(start.getTime() + windowMs) };
  }

  /**
   * A counter many requests share (e.g. per tenant) without a hot row: the use goes on one of
   * `shards` rows chosen at random, and the statement returns the sum over all of them.
   */
  async hitSharded(key: string, shards: number, windowMs: number, now: Date): Promise<{ count: number; resetAt: Date }> {
    const start = new Date(Math.floor(now.getTime() / windowMs) * windowMs);
    const mine = `${key}#${Math.floor(Math.random() * shards)}`;
    const keys = Array.from({ length: shards }, (_, i) => `${key}#${i}`).filter((k) => k !== mine);
    const r = await sql<{ total: number }>`
      WITH up AS (
        INSERT INTO rate_windows (key, window_start, count) VALUES (${mine}, ${start}, 1)
        ON CONFLICT (key, window_start) DO UPDATE SET count = rate_windows.count + 1
        RETURNING count)
      SELECT ((SELECT count FROM up) + coalesce((SELECT sum(count) FROM rate_windows WHERE key = ANY(${keys}::text[]) AND window_start = ${start}), 0))::int AS total`.execute(this.db);
    return { count: r.rows[0]?.total ?? 0, resetAt: new Date(start.getTime() + windowMs) };
  }

  async purge(before: Date): Promise<number> {
    const r = await this.db.deleteFrom('rate_windows').where('window_start', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
