/**
 * Failure counters of authenticators (src/engine/gate.ts says how they are judged). `claim`
 * registers a check in flight (one atomic upsert: parallel checks see each other); `recordFailure`
 * adds a checked wrong answer; `release` takes back a claim that was refused or not checked; a
 * success (or an administrator) resets. Flows do the same inside their own claim and record
 * statements (./flow-claims.ts, ./flow-records.ts).
 */
import { sql } from 'kysely';
import type { CounterState } from '../../engine/gate.js';
import type { Db } from '../db.js';
import { IN_FLIGHT_STALE_MS } from '../../engine/flow.js';

export type { CounterState };

type Row = { failures: number; last_failure_at: Date | null; locked_until: Date | null; in_flight: number; prev_attempt_at: Date | null };
const state = (r: Row): CounterState => ({ failures: r.failures, lastFailureAt: r.last_failure_at, lockedUntil: r.locked_until, inFlight: r.in_flight, prevClaimAt: r.prev_attempt_at });

export class CounterRepo {
  constructor(private readonly db: Db) {}

  /** Registers a check in flight and returns the counter as it now is (this check included). */
  async claim(subject: string, now: Date): Promise<CounterState> {
    const stale = new Date(now.getTime() - IN_FLIGHT_STALE_MS);
    const r = await sql<Row>`
      INSERT INTO attempt_counters AS ac (subject, failures, last_attempt_at, in_flight, in_flight_at) VALUES (${subject}, 0, ${now}, 1, ${now})
      ON CONFLICT (subject) DO UPDATE SET
        last_attempt_at = EXCLUDED.last_attempt_at,
        prev_attempt_at = CASE WHEN ac.in_flight > 0 AND ac.in_flight_at > ${stale} THEN ac.in_flight_at END,
        in_flight = CASE WHEN ac.in_flight_at > ${stale} THEN ac.in_flight ELSE 0 END + 1,
        in_flight_at = EXCLUDED.in_flight_at
      RETURNING failures, last_failure_at, locked_until, in_flight, prev_attempt_at`.execute(this.db);
    return state(r.rows[0]!);
  }

  async get(subject: string): Promise<CounterState | null> {
    const row = await this.db.selectFrom('attempt_counters').select(['failures', 'last_failure_at', 'locked_until', 'in_flight', 'prev_attempt_at']).where('subject', '=', subject).executeTakeFirst();
    return row ? state(row) : null;
  }

  /** A checked wrong answer; `lockUntil` starts a timed lock (PCI). Returns the failures after it. */
  async recordFailure(subject: string, now: Date, lockUntil: Date | null = null): Promise<number> {
    const r = await this.db
      .updateTable('attempt_counters')
      .set((eb) => ({ failures: eb('failures', '+', 1), last_failure_at: now, in_flight: sql<number>`GREATEST(in_flight - 1, 0)`, locked_until: lockUntil ? lockUntil : eb.ref('locked_until') }))
      .where('subject', '=', subject)
      .returning('failures')
      .executeTakeFirst();
    return r?.failures ?? 0;
  }

  /** A claim that was refused or not checked leaves the in-flight count (never a failure). */
  async release(subject: string): Promise<void> {
    await this.db.updateTable('attempt_counters').set({ in_flight: sql<number>`GREATEST(in_flight - 1, 0)` }).where('subject', '=', subject).execute();
  }

  /** A success (or an administrator's reset) clears the count. */
  async reset(subject: string): Promise<void> {
    await this.db.deleteFrom('attempt_counters').where('subject', '=', subject).execute();
  }

  async resetPrefix(prefix: string): Promise<number> {
    const r = await this.db.deleteFrom('attempt_counters').where('subject', 'like', prefix.replace(/[\\%_]/g, '\\$&') + '%').executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Counter states of many subjects at once: exact subjects and subject prefixes (for an admin's list). */
  async states(subjects: string[], prefixes: string[]): Promise<Array<{ subject: string } & CounterState>> {
    if (!subjects.length && !prefixes.length) return [];
    const rows = await this.db
      .selectFrom('attempt_counters')
      .select(['subject', 'failures', 'last_failure_at', 'locked_until', 'in_flight', 'prev_attempt_at'])
      .where((eb) => eb.or([
        ...(subjects.length ? [eb('subject', 'in', subjects)] : []),
        ...prefixes.map((p) => eb('subject', 'like', p.replace(/[\\%_]/g, '\\$&') + '%')),
      ]))
      .execute();
    return rows.map((r) => ({ subject: r.subject, ...state(r) }));
  }
}
