/**
 * Dual-control requests (an action one administrator asks for and a different one approves). Every
 * decision is one UPDATE ... WHERE status = 'pending' AND expires_at > now, with the rule on who may
 * decide in the same WHERE clause, so of racing decisions exactly one gets the row back. At most one
 * request per target and kind is pending (a partial unique index); an expired one is marked
 * 'expired' when a new request replaces it.
 */
import type { Selectable } from 'kysely';
import type { Db } from '../db.js';
import type { ApprovalKind, ApprovalRequestsTable } from '../schema-approvals.js';

export type ApprovalRow = Selectable<ApprovalRequestsTable>;

/** A request with the email addresses of the people it names. */
export interface ApprovalDetail extends ApprovalRow {
  target_email: string;
  requested_by_email: string;
  decided_by_email: string | null;
}

export class ApprovalRepo {
  constructor(private readonly db: Db) {}

  private inTransaction<T>(fn: (trx: Db) => Promise<T>): Promise<T> {
    return this.db.isTransaction ? fn(this.db) : this.db.transaction().execute(fn);
  }

  /**
   * Opens a pending request. Returns undefined when the target already has a pending, unexpired
   * request of this kind (also when another one is inserted concurrently: the unique index decides).
   */
  create(r: { id: string; tenantId: string; kind: ApprovalKind; targetUserId: string; requestedBy: string; reason: string; now: Date; expiresAt: Date }): Promise<ApprovalRow | undefined> {
    return this.inTransaction(async (trx) => {
      await trx
        .updateTable('approval_requests')
        .set({ status: 'expired' })
        .where('target_user_id', '=', r.targetUserId)
        .where('kind', '=', r.kind)
        .where('status', '=', 'pending')
        .where('expires_at', '<=', r.now)
        .execute();
      return trx
        .insertInto('approval_requests')
        .values({
          id: r.id, tenant_id: r.tenantId, kind: r.kind, target_user_id: r.targetUserId, requested_by: r.requestedBy, reason: r.reason,
          status: 'pending', created_at: r.now, expires_at: r.expiresAt,
        })
        .onConflict((oc) => oc.columns(['target_user_id', 'kind']).where('status', '=', 'pending').doNothing())
        .returningAll()
        .executeTakeFirst();
    });
  }

  private detail() {
    return this.db
      .selectFrom('approval_requests as a')
      .innerJoin('users as t', 't.id', 'a.target_user_id')
      .innerJoin('users as r', 'r.id', 'a.requested_by')
      .leftJoin('users as d', 'd.id', 'a.decided_by')
      .selectAll('a')
      .select(['t.email as target_email', 'r.email as requested_by_email', 'd.email as decided_by_email']);
  }

  /** Scoped read: another tenant's request is not found. */
  byId(tenantId: string, id: string): Promise<ApprovalDetail | undefined> {
    return this.detail().where('a.tenant_id', '=', tenantId).where('a.id', '=', id).executeTakeFirst();
  }

  /** Newest first; with `pendingAt`, only requests still open at that moment. */
  list(tenantId: string, o: { pendingAt?: Date; limit?: number } = {}): Promise<ApprovalDetail[]> {
    let q = this.detail().where('a.tenant_id', '=', tenantId);
    if (o.pendingAt) q = q.where('a.status', '=', 'pending').where('a.expires_at', '>', o.pendingAt);
    return q.orderBy('a.created_at', 'desc').orderBy('a.id').limit(o.limit ?? 200).execute();
  }

  /**
   * Approves or rejects a pending, unexpired request, if the decider is not the requester (and, with
   * `notTarget`, not the request's target either). Undefined when the row was not eligible.
   */
  decide(d: { tenantId: string; id: string; decider: string; status: 'approved' | 'rejected'; now: Date; reason?: string | null; notTarget?: boolean }): Promise<ApprovalRow | undefined> {
    let q = this.db
      .updateTable('approval_requests')
      .set({ status: d.status, decided_by: d.decider, decided_at: d.now, decision_reason: d.reason ?? null })
      .where('tenant_id', '=', d.tenantId)
      .where('id', '=', d.id)
      .where('status', '=', 'pending')
      .where('expires_at', '>', d.now)
      .where('requested_by', '<>', d.decider);
    if (d.notTarget) q = q.where('target_user_id', '<>', d.decider);
    return q.returningAll().executeTakeFirst();
  }

  /** Withdraws a pending, unexpired request; only its requester may. Undefined when not eligible. */
  cancel(c: { tenantId: string; id: string; requester: string; now: Date; reason?: string | null }): Promise<ApprovalRow | undefined> {
    return this.db
      .updateTable('approval_requests')
      .set({ status: 'canceled', decided_by: c.requester, decided_at: c.now, decision_reason: c.reason ?? null })
      .where('tenant_id', '=', c.tenantId)
      .where('id', '=', c.id)
      .where('status', '=', 'pending')
      .where('expires_at', '>', c.now)
      .where('requested_by', '=', c.requester)
      .returningAll()
      .executeTakeFirst();
  }
}
