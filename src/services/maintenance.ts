/**
 * Retention: removes what has served its purpose, so tables that every sign-in touches stay small
 * (an index on every expiry column keeps each sweep cheap). Audit events are not touched here.
 *  - sign-in flows a day after they expired;
 *  - TOTP replay-ledger entries older than 10 minutes (a code is only valid ±30 s);
 *  - sessions 30 days after they expired or were revoked (kept a while for the activity view);
 *  - used or expired invitations after 30 days;
 *  - failure counters idle for a day that never reached the hard cap (unknown identifiers, old typos);
 *    counters at the cap stay until an administrator unlocks them;
 *  - send-limit windows older than a day;
 *  - webhook receipts (repeated-delivery answers) older than a day;
 *  - and the outbox keeps no secret past its message's expiry: an expired message that was never
 *    sent has its sealed text dropped (src/storage/repositories/outbox.ts `redactExpired`).
 * (The last two are not counted in the result.)
 */
import type { Services } from './context.js';

export interface SweepResult {
  flows: number;
  totpSteps: number;
  sessions: number;
  invitations: number;
  counters: number;
  rateWindows: number;
}

const DAY = 86_400_000;

export async function sweep(s: Services, maxConsecutiveFailures = 100): Promise<SweepResult> {
  const now = s.clock().getTime();
  const db = s.store.db;
  const n = (r: { numDeletedRows: bigint }) => Number(r.numDeletedRows);
  const flows = await s.store.flows.deleteExpired(['signin', 'reauth'], new Date(now - DAY));
  const totpSteps = n(await db.deleteFrom('totp_used_steps').where('used_at', '<', new Date(now - 10 * 60_000)).executeTakeFirst());
  const sessions = n(
    await db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('expires_at', '<', new Date(now - 30 * DAY)), eb('revoked_at', '<', new Date(now - 30 * DAY))]))
      .executeTakeFirst(),
  );
  const invitations = n(
    await db
      .deleteFrom('invitations')
      .where((eb) => eb.or([eb('expires_at', '<', new Date(now - 30 * DAY)), eb('used_at', '<', new Date(now - 30 * DAY))]))
      .executeTakeFirst(),
  );
  const counters = n(
    await db
      .deleteFrom('attempt_counters')
      .where('last_attempt_at', '<', new Date(now - DAY))
      .where('failures', '<', maxConsecutiveFailures)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', new Date(now))]))
      .executeTakeFirst(),
  );
  const rateWindows = await s.store.rateWindows.purge(new Date(now - DAY));
  await s.store.webhookReceipts.purge(new Date(now - DAY));
  await s.store.outbox.redactExpired(new Date(now));
  return { flows, totpSteps, sessions, invitations, counters, rateWindows };
}
