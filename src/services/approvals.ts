/**
 * Dual control for factor resets: one administrator asks (with a reason), a different administrator
 * approves, and only then are the user's second factors removed. A request lives 24 hours. The
 * approval and the reset (factors removed, failure counters cleared, sessions revoked, the notice to
 * the user, the audit events) are one transaction that starts with the atomic decision, so two
 * approvers racing give one reset, and a request can never be approved by the one who made it.
 */
import { randomUUID } from 'node:crypto';
import { templates } from '../delivery/notices.js';
import { AppError } from '../domain/errors.js';
import { ApprovalRepo, type ApprovalDetail, type ApprovalRow } from '../storage/repositories/approvals.js';
import { AuditRepo } from '../storage/repositories/audit.js';
import { CounterRepo } from '../storage/repositories/counters.js';
import { CredentialRepo } from '../storage/repositories/credentials.js';
import { OutboxRepo } from '../storage/repositories/outbox.js';
import { SessionRepo } from '../storage/repositories/sessions.js';
import type { ApprovalStatus } from '../storage/schema-approvals.js';
import { eventRecord, type EventInput } from './audit-log.js';
import type { Origin, Services } from './context.js';
import { renderMessage } from './templates.js';

export const APPROVAL_TTL_MS = 24 * 3_600_000;

/** Someone a request names. */
export interface Person {
  id: string;
  email: string;
}

export interface ApprovalView {
  id: string;
  kind: 'factor_reset';
  status: ApprovalStatus;
  reason: string;
  createdAt: string;
  expiresAt: string;
  target: Person;
  requestedBy: Person;
  decidedBy?: Person;
  decidedAt?: string;
  decisionReason?: string;
}

/** A pending request past its expiry reads as expired. */
export function approvalStatus(r: Pick<ApprovalRow, 'status' | 'expires_at'>, now: Date): ApprovalStatus {
  return r.status === 'pending' && r.expires_at <= now ? 'expired' : r.status;
}

export function approvalView(d: ApprovalDetail, now: Date): ApprovalView {
  return {
    id: d.id,
    kind: d.kind,
    status: approvalStatus(d, now),
    reason: d.reason,
    createdAt: d.created_at.toISOString(),
    expiresAt: d.expires_at.toISOString(),
    target: { id: d.target_user_id, email: d.target_email },
    requestedBy: { id: d.requested_by, email: d.requested_by_email },
    ...(d.decided_by ? { decidedBy: { id: d.decided_by, email: d.decided_by_email ?? '' } } : {}),
    ...(d.decided_at ? { decidedAt: d.decided_at.toISOString() } : {}),
    ...(d.decision_reason ? { decisionReason: d.decision_reason } : {}),
  };
}

const cleanReason = (raw: string | undefined, min: number): string | null => {
  const r = (raw ?? '').replace(/\s+/g, ' ').trim();
  if (r.length === 0 && min === 0) return null;
  if (r.length < min || r.length > 500) throw new AppError('invalid_request', { field: 'reason' }, `Give a reason of ${min} to 500 characters.`);
  return r;
};

const event = (a: { tenantId: string; type: string; actor: string; targetUser: string; origin: Origin; data: Record<string, unknown> }): EventInput => ({
  tenantId: a.tenantId,
  type: a.type,
  outcome: 'success',
  actor: { type: 'user', id: a.actor },
  target: { type: 'user', id: a.targetUser },
  origin: a.origin,
  data: a.data,
});

/** Asks for a reset of a user's second factors; a different administrator must approve it. */
export async function requestFactorReset(s: Services, a: { tenantId: string; targetUserId: string; reason: string; requester: Person; origin: Origin }): Promise<ApprovalView> {
  const reason = cleanReason(a.reason, 5)!;
  if (a.requester.id === a.targetUserId) throw new AppError('conflict', undefined, 'You cannot request a reset of your own sign-in methods; ask another administrator.');
  const target = await s.store.users.byId(a.tenantId, a.targetUserId);
  if (!target) throw new AppError('not_found');
  const now = s.clock();
  const row = await s.store.db.transaction().execute(async (trx) => {
    const created = await new ApprovalRepo(trx).create({
      id: randomUUID(), tenantId: a.tenantId, kind: 'factor_reset', targetUserId: target.id, requestedBy: a.requester.id, reason, now, expiresAt: new Date(now.getTime() + APPROVAL_TTL_MS),
    });
    if (created) {
      await new AuditRepo(trx).append(eventRecord(s, event({ tenantId: a.tenantId, type: 'approval.factor_reset_requested', actor: a.requester.id, targetUser: target.id, origin: a.origin, data: { approvalId: created.id, reason } })));
    }
    return created;
  });
  if (!row) throw new AppError('conflict', { reason: 'already_pending' }, 'A factor reset for this user is already waiting for approval.');
  return approvalView({ ...row, target_email: target.email, requested_by_email: a.requester.email, decided_by_email: null }, now);
}

export async function listApprovals(s: Services, tenantId: string, status: 'pending' | 'all'): Promise<ApprovalView[]> {
  const now = s.clock();
  const rows = await s.store.approvals.list(tenantId, status === 'pending' ? { pendingAt: now } : {});
  return rows.map((r) => approvalView(r, now));
}

export async function getApproval(s: Services, tenantId: string, id: string): Promise<ApprovalView> {
  const r = await s.store.approvals.byId(tenantId, id);
  if (!r) throw new AppError('not_found');
  return approvalView(r, s.clock());
}

type Action = 'approve' | 'reject' | 'cancel';

/** Why a decision was refused: not found, already over, or not this person's to make. */
function refusal(r: ApprovalDetail | undefined, who: string, action: Action, now: Date): AppError {
  if (!r) return new AppError('not_found');
  const status = approvalStatus(r, now);
  if (status !== 'pending') return new AppError('conflict', { status }, status === 'expired' ? 'This request has expired.' : `This request was already ${status}.`);
  if (action === 'cancel' && r.requested_by !== who) return new AppError('forbidden', undefined, 'Only the administrator who made this request can cancel it.');
  if (action !== 'cancel' && r.requested_by === who) {
    return new AppError('forbidden', undefined, action === 'approve' ? 'A second administrator must approve this request.' : 'Cancel your own request instead of rejecting it.');
  }
  if (action === 'approve' && r.target_user_id === who) return new AppError('forbidden', undefined, 'You cannot approve a reset of your own sign-in methods.');
  return new AppError('conflict', undefined, 'This request was decided by someone else just now.');
}

/** Approves a pending request and, in the same transaction, resets the user's factors. */
export async function approveRequest(s: Services, a: { tenantId: string; id: string; approver: Person; origin: Origin }): Promise<ApprovalView> {
  const repo = s.store.approvals;
  const before = await repo.byId(a.tenantId, a.id);
  const now = s.clock();
  if (!before || approvalStatus(before, now) !== 'pending' || before.requested_by === a.approver.id || before.target_user_id === a.approver.id) throw refusal(before, a.approver.id, 'approve', now);
  // the notice's text is read before the transaction (it reads the tenant's templates)
  const notice = templates.factorChanged({ action: 'removed', label: 'all sign-in methods (reset by an administrator)' });
  const text = await renderMessage(s, { tenantId: a.tenantId, template: notice.template, channel: 'email', vars: notice.vars });
  const decided = await s.store.db.transaction().execute(async (trx) => {
    const row = await new ApprovalRepo(trx).decide({ tenantId: a.tenantId, id: a.id, decider: a.approver.id, status: 'approved', now, notTarget: true });
    if (!row) return undefined;
    const target = row.target_user_id;
    const removed = await new CredentialRepo(trx).removeAll({ type: 'user', id: target });
    await new CounterRepo(trx).resetPrefix(`f:${target}:`);
    const sessions = await new SessionRepo(trx).revokeAll(target, now);
    await new OutboxRepo(trx).add({ id: randomUUID(), tenantId: a.tenantId, channel: 'email', recipient: before.target_email, template: notice.template, subject: text.subject, body: text.body, locale: text.locale, now });
    const common = { tenantId: a.tenantId, actor: a.approver.id, targetUser: target, origin: a.origin };
    await new AuditRepo(trx).append([
      eventRecord(s, event({ ...common, type: 'approval.factor_reset_approved', data: { approvalId: row.id, requestedBy: row.requested_by } })),
      eventRecord(s, event({ ...common, type: 'user.factors_reset', data: { approvalId: row.id, requestedBy: row.requested_by, factorsRemoved: removed, sessionsRevoked: sessions } })),
    ]);
    return row;
  });
  if (!decided) throw refusal(await repo.byId(a.tenantId, a.id), a.approver.id, 'approve', now);
  return approvalView({ ...before, ...decided, decided_by_email: a.approver.email }, now);
}

/** Rejects (another administrator) or cancels (the requester) a pending request. */
export async function closeRequest(s: Services, a: { tenantId: string; id: string; action: 'reject' | 'cancel'; by: Person; reason?: string; origin: Origin }): Promise<ApprovalView> {
  const reason = cleanReason(a.reason, 0);
  const now = s.clock();
  const row = await s.store.db.transaction().execute(async (trx) => {
    const repo = new ApprovalRepo(trx);
    const r =
      a.action === 'reject'
        ? await repo.decide({ tenantId: a.tenantId, id: a.id, decider: a.by.id, status: 'rejected', now, reason })
        : await repo.cancel({ tenantId: a.tenantId, id: a.id, requester: a.by.id, now, reason });
    if (r) {
      const type = a.action === 'reject' ? 'approval.factor_reset_rejected' : 'approval.factor_reset_canceled';
      await new AuditRepo(trx).append(eventRecord(s, event({ tenantId: a.tenantId, type, actor: a.by.id, targetUser: r.target_user_id, origin: a.origin, data: { approvalId: r.id, ...(reason ? { reason } : {}) } })));
    }
    return r;
  });
  const detail = await s.store.approvals.byId(a.tenantId, a.id);
  if (!row || !detail) throw refusal(detail, a.by.id, a.action, now);
  return approvalView(detail, now);
}
