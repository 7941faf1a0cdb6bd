/**
 * Caller-verification flows and their one-time codes. Like sign-in flows, every check first claims
 * one attempt of the flow's shared budget in one atomic UPDATE (state, expiry and tenant checked in
 * the same statement); a success refunds it. A code is spent with one UPDATE ... WHERE consumed_at
 * IS NULL, so of parallel checks of one code exactly one wins.
 */
import { sql, type Selectable } from 'kysely';
import type { Db } from '../db.js';
import type { VerificationCodesTable, VerificationsTable } from '../schema-verification.js';

export type VerificationRow = Selectable<VerificationsTable>;
export type CodeRow = Selectable<VerificationCodesTable>;

export class VerificationRepo {
  constructor(private readonly db: Db) {}

  create(v: Omit<VerificationRow, 'completed_methods' | 'asked_question_id' | 'failed_question_ids' | 'assertion_id' | 'verified_at' | 'risk' | 'locale'> & { risk: unknown; locale?: string | null }): Promise<VerificationRow> {
    return this.db
      .insertInto('verifications')
      .values({ ...v, locale: v.locale ?? null, risk: JSON.stringify(v.risk), completed_methods: [], failed_question_ids: [] })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Scoped read: another tenant's verification is not found. */
  byId(tenantId: string, id: string): Promise<VerificationRow | undefined> {
    return this.db.selectFrom('verifications').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  }

  latestForInteraction(tenantId: string, interactionId: string): Promise<VerificationRow | undefined> {
    return this.db.selectFrom('verifications').selectAll().where('tenant_id', '=', tenantId).where('interaction_id', '=', interactionId).orderBy('created_at', 'desc').limit(1).executeTakeFirst();
  }

  /** Verifications started for this customer since `since` (velocity). */
  async countSince(tenantId: string, customerId: string, since: Date): Promise<number> {
    const r = await this.db
      .selectFrom('verifications')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('customer_id', '=', customerId)
      .where('created_at', '>=', since)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Verifications from this caller number since `since` (velocity). */
  async countFromAni(tenantId: string, ani: string, since: Date): Promise<number> {
    const r = await this.db
      .selectFrom('verifications')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('caller_ani', '=', ani)
      .where('created_at', '>=', since)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Spends one attempt of a pending, unexpired flow (may go below zero: the caller refuses then). */
  claimAttempt(tenantId: string, id: string, now: Date): Promise<VerificationRow | undefined> {
    return this.db
      .updateTable('verifications')
      .set((eb) => ({ attempts_left: eb('attempts_left', '-', 1), updated_at: now }))
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
  }

  /** Records a completed method and refunds the claimed attempt. */
  addMethod(id: string, method: string, now: Date): Promise<VerificationRow | undefined> {
    return this.db
      .updateTable('verifications')
      .set((eb) => ({
        completed_methods: sql<string[]>`CASE WHEN ${method} = ANY(completed_methods) THEN completed_methods ELSE array_append(completed_methods, ${method}) END`,
        attempts_left: eb('attempts_left', '+', 1),
        asked_question_id: null,
        updated_at: now,
      }))
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .returningAll()
      .executeTakeFirst();
  }

  markVerified(id: string, assertionId: string, now: Date): Promise<VerificationRow | undefined> {
    return this.db
      .updateTable('verifications')
      .set({ state: 'verified', verified_at: now, assertion_id: assertionId, updated_at: now })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .returningAll()
      .executeTakeFirst();
  }

  cancel(tenantId: string, id: string, now: Date): Promise<VerificationRow | undefined> {
    return this.db.updateTable('verifications').set({ state: 'canceled', updated_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).where('state', '=', 'pending').returningAll().executeTakeFirst();
  }

  async setRisk(id: string, risk: unknown): Promise<void> {
    await this.db.updateTable('verifications').set({ risk: JSON.stringify(risk) }).where('id', '=', id).execute();
  }

  async askQuestion(id: string, questionId: string | null, failedQuestionId?: string): Promise<void> {
    await this.db
      .updateTable('verifications')
      .set({
        asked_question_id: questionId,
        ...(failedQuestionId ? { failed_question_ids: sql<string[]>`array_append(failed_question_ids, ${failedQuestionId}::uuid)` } : {}),
      })
      .where('id', '=', id)
      .execute();
  }

  /** Replaces the flow's live code with a new one (a resend supersedes; the budget is untouched). */
  async putCode(c: Omit<CodeRow, 'superseded_at' | 'consumed_at'>): Promise<void> {
    const inTransaction = (fn: (trx: Db) => Promise<void>) => (this.db.isTransaction ? fn(this.db) : this.db.transaction().execute(fn));
    await inTransaction(async (trx) => {
      await trx
        .updateTable('verification_codes')
        .set({ superseded_at: c.created_at })
        .where('verification_id', '=', c.verification_id)
        .where('consumed_at', 'is', null)
        .where('superseded_at', 'is', null)
        .execute();
      await trx.insertInto('verification_codes').values({ ...c, superseded_at: null, consumed_at: null }).execute();
    });
  }

  lastCode(verificationId: string): Promise<CodeRow | undefined> {
    return this.db.selectFrom('verification_codes').selectAll().where('verification_id', '=', verificationId).orderBy('created_at', 'desc').limit(1).executeTakeFirst();
  }

  /** Spends the code if it is still live; false when another check spent it first. */
  async consumeCode(id: string, now: Date): Promise<boolean> {
    const r = await this.db
      .updateTable('verification_codes')
      .set({ consumed_at: now })
      .where('id', '=', id)
      .where('consumed_at', 'is', null)
      .where('superseded_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}

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
