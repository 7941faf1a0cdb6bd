/** Consecutive-failure counters. `hit` is one atomic upsert: parallel attempts each count. */
import type { Db } from '../db.js';

export interface CounterState {
  /** Failures including the attempt just recorded. */
  failures: number;
  prevAttemptAt: Date | null;
  /** When a check last actually failed (set by `recordFailure`), the anchor of the backoff delay. */
  lastFailureAt: Date | null;
  lockedUntil: Date | null;
}

export class CounterRepo {
  constructor(private readonly db: Db) {}

  /** Records an attempt (counted as a failure until `reset`) and returns the state after it. */
  async hit(subject: string, now: Date): Promise<CounterState> {
    const row = await this.db
      .insertInto('attempt_counters')
      .values({ subject, failures: 1, last_attempt_at: now, prev_attempt_at: null })
      .onConflict((oc) =>
        oc.column('subject').doUpdateSet((eb) => ({
          failures: eb('attempt_counters.failures', '+', 1),
          prev_attempt_at: eb.ref('attempt_counters.last_attempt_at'),
          last_attempt_at: eb.ref('excluded.last_attempt_at'),
        })),
      )
      .returning(['failures', 'prev_attempt_at', 'last_failure_at', 'locked_until'])
      .executeTakeFirstOrThrow();
    return { failures: row.failures, prevAttemptAt: row.prev_attempt_at, lastFailureAt: row.last_failure_at, lockedUntil: row.locked_until };
  }

  async get(subject: string): Promise<CounterState | null> {
    const row = await this.db.selectFrom('attempt_counters').select(['failures', 'prev_attempt_at', 'last_failure_at', 'locked_until']).where('subject', '=', subject).executeTakeFirst();
    return row ? { failures: row.failures, prevAttemptAt: row.prev_attempt_at, lastFailureAt: row.last_failure_at, lockedUntil: row.locked_until } : null;
  }

  /** A success (or an administrator's reset) clears the count. */
  async reset(subject: string): Promise<void> {
    await this.db.deleteFrom('attempt_counters').where('subject', '=', subject).execute();
  }

  async resetPrefix(prefix: string): Promise<number> {
    const r = await this.db.deleteFrom('attempt_counters').where('subject', 'like', prefix.replace(/[\\%_]/g, '\\$&') + '%').executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Notes that a check failed now (the backoff counts from here). */
  async recordFailure(subject: string, now: Date): Promise<void> {
    await this.db.updateTable('attempt_counters').set({ last_failure_at: now }).where('subject', '=', subject).execute();
  }

  /** Temporary lock (PCI mode); the failure count is kept, so the hard cap still applies. */
  async lock(subject: string, until: Date): Promise<void> {
    await this.db.updateTable('attempt_counters').set({ locked_until: until }).where('subject', '=', subject).execute();
  }

  /** Counter states of many subjects at once: exact subjects and subject prefixes (for an admin's list). */
  async states(subjects: string[], prefixes: string[]): Promise<Array<{ subject: string } & CounterState>> {
    if (!subjects.length && !prefixes.length) return [];
    const rows = await this.db
      .selectFrom('attempt_counters')
      .select(['subject', 'failures', 'prev_attempt_at', 'last_failure_at', 'locked_until'])
      .where((eb) => eb.or([
        ...(subjects.length ? [eb('subject', 'in', subjects)] : []),
        ...prefixes.map((p) => eb('subject', 'like', p.replace(/[\\%_]/g, '\\$&') + '%')),
      ]))
      .execute();
    return rows.map((r) => ({ subject: r.subject, failures: r.failures, prevAttemptAt: r.prev_attempt_at, lastFailureAt: r.last_failure_at, lockedUntil: r.locked_until }));
  }
}
