/**
 * Persisted sign-in flows. Every step first *claims* an attempt with one atomic UPDATE that also
 * checks the flow token, the expected state and the expiry; a success refunds it and moves the
 * state on with a new token in another atomic UPDATE guarded by the old state and token.
 */
import { sql, type Selectable } from 'kysely';
import type { Db } from '../db.js';
import type { AuthFlowsTable } from '../schema.js';

export type FlowRow = Selectable<AuthFlowsTable>;

export class FlowRepo {
  constructor(private readonly db: Db) {}

  create(f: Omit<FlowRow, 'completed_methods' | 'pending_factor_id'> & { completed_methods?: string[] }): Promise<FlowRow> {
    return this.db
      .insertInto('auth_flows')
      .values({ ...f, completed_methods: f.completed_methods ?? [], pending_factor_id: null })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  byId(id: string): Promise<FlowRow | undefined> {
    return this.db.selectFrom('auth_flows').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Spends one attempt of the flow's budget (it may go below zero: the caller refuses then). */
  claimAttempt(id: string, secretHash: Buffer, states: string[], now: Date): Promise<FlowRow | undefined> {
    return this.db
      .updateTable('auth_flows')
      .set((eb) => ({ attempts_left: eb('attempts_left', '-', 1), updated_at: now }))
      .where('id', '=', id)
      .where('secret_hash', '=', secretHash)
      .where('state', 'in', states)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
  }

  /**
   * Moves the flow on after a success; undefined when another request moved it first. With
   * `resetCounter`, the same statement clears that failure counter (the success that earned it).
   */
  advance(
    id: string,
    from: { state: string; secretHash: Buffer },
    to: { state: string; secretHash: Buffer; method?: string; userId?: string | null; pendingFactorId?: string | null; requiredAal?: number; refund: boolean; resetCounter?: string },
    now: Date,
  ): Promise<FlowRow | undefined> {
    const db = (to.resetCounter ? this.db.with('reset', (d) => d.deleteFrom('attempt_counters').where('subject', '=', to.resetCounter!)) : this.db) as Pick<Db, 'updateTable'>;
    return db
      .updateTable('auth_flows')
      .set((eb) => ({
        state: to.state,
        secret_hash: to.secretHash,
        completed_methods: to.method ? sql<string[]>`array_append(completed_methods, ${to.method})` : eb.ref('completed_methods'),
        attempts_left: to.refund ? eb('attempts_left', '+', 1) : eb.ref('attempts_left'),
        ...(to.userId !== undefined ? { user_id: to.userId } : {}),
        ...(to.pendingFactorId !== undefined ? { pending_factor_id: to.pendingFactorId } : {}),
        ...(to.requiredAal !== undefined ? { required_aal: to.requiredAal } : {}),
        updated_at: now,
      }))
      .where('id', '=', id)
      .where('state', '=', from.state)
      .where('secret_hash', '=', from.secretHash)
      .returningAll()
      .executeTakeFirst();
  }

  async setPendingFactor(id: string, secretHash: Buffer, factorId: string, now: Date): Promise<boolean> {
    const r = await this.db
      .updateTable('auth_flows')
      .set({ pending_factor_id: factorId, updated_at: now })
      .where('id', '=', id)
      .where('secret_hash', '=', secretHash)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async deleteExpired(before: Date): Promise<number> {
    const r = await this.db.deleteFrom('auth_flows').where('expires_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
