/**
 * A user's own recent sign-in activity, read from the audit log: sign-ins and re-authentications,
 * failed password and factor attempts (also those made on the user's identifier before anyone was
 * identified, which the log records with an anonymous actor), lockouts, factor changes, recovery
 * codes, password changes and revoked sessions. Only a fixed set of non-secret fields comes out.
 *
 * Three index-backed branches (migrations/0006_approvals.sql): the user as actor, the user as target
 * of an administrator's action, and anonymous failed attempts on the user's identifier.
 */
import { sql } from 'kysely';
import type { Db } from '../storage/db.js';

export type ActivityType =
  | 'signin'
  | 'signin_failed'
  | 'locked_out'
  | 'reauthentication'
  | 'reauthentication_failed'
  | 'factor_added'
  | 'factor_removed'
  | 'factors_reset'
  | 'unlocked'
  | 'recovery_codes_regenerated'
  | 'password_changed'
  | 'password_change_failed'
  | 'session_revoked';

export interface ActivityEvent {
  id: number;
  type: ActivityType;
  outcome: 'success' | 'failure';
  at: string;
  ip: string | null;
  userAgent: string | null;
  /** Sign-ins: the methods used; failed attempts: the method tried; factor changes: the factor kind. */
  methods?: string[];
  /** Failed attempts: why (wrong_password, locked, throttled, ...). */
  reason?: string;
}

/** Event types the user is the actor of. */
const AS_ACTOR = [
  'session.created', 'session.reauthenticated', 'session.revoked', 'auth.attempt', 'auth.reauth.attempt', 'factor.enrolled', 'factor.removed',
  'factor.recovery_codes_regenerated', 'user.password_changed', 'user.password_change',
];
/** Event types where an administrator acted on the user. */
const AS_TARGET = ['user.factors_reset', 'user.unlocked'];
const ATTEMPTS = ['auth.attempt', 'auth.reauth.attempt'];
const LOCKED = new Set(['locked', 'disabled']);

interface Row {
  id: number | string;
  type: string;
  outcome: string;
  occurred_at: Date;
  ip: string | null;
  user_agent: string | null;
  data: Record<string, unknown> | null;
}

export const MAX_ACTIVITY_LIMIT = 100;

export async function userActivity(db: Db, q: { tenantId: string; userId: string; email: string; limit: number }): Promise<ActivityEvent[]> {
  const n = Math.min(MAX_ACTIVITY_LIMIT, Math.max(1, Math.trunc(q.limit)));
  const cols = sql.raw('id, type, outcome, occurred_at, ip, user_agent, data');
  const r = await sql<Row>`
    SELECT * FROM (
      (SELECT ${cols} FROM audit_events
        WHERE tenant_id = ${q.tenantId} AND actor_id = ${q.userId} AND actor_type = 'user' AND type = ANY(${AS_ACTOR}::text[])
          AND (type NOT IN ('auth.attempt', 'auth.reauth.attempt', 'factor.enrolled') OR outcome = CASE WHEN type = 'factor.enrolled' THEN 'success' ELSE 'failure' END)
        ORDER BY id DESC LIMIT ${n})
      UNION
      (SELECT ${cols} FROM audit_events
        WHERE tenant_id = ${q.tenantId} AND target_type = 'user' AND target_id = ${q.userId} AND type = ANY(${AS_TARGET}::text[])
        ORDER BY id DESC LIMIT ${n})
      UNION
      (SELECT ${cols} FROM audit_events
        WHERE tenant_id = ${q.tenantId} AND type = ANY(${ATTEMPTS}::text[]) AND actor_type = 'anonymous' AND data ->> 'identifier' = ${q.email} AND outcome = 'failure'
        ORDER BY id DESC LIMIT ${n})
    ) mine ORDER BY id DESC LIMIT ${n}`.execute(db);
  return r.rows.flatMap((row) => {
    const e = toActivity(row);
    return e ? [e] : [];
  });
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= 64 ? v : undefined);
const strs = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, 10) : undefined);

function toActivity(row: Row): ActivityEvent | undefined {
  const d = row.data ?? {};
  const base = { id: Number(row.id), outcome: row.outcome === 'failure' ? ('failure' as const) : ('success' as const), at: row.occurred_at.toISOString(), ip: row.ip, userAgent: row.user_agent };
  const one = (v: unknown) => (str(v) ? { methods: [str(v)!] } : {});
  switch (row.type) {
    case 'session.created':
      return { ...base, type: 'signin', ...(strs(d.methods) ? { methods: strs(d.methods) } : {}) };
    case 'session.reauthenticated':
      return { ...base, type: 'reauthentication', ...(strs(d.methods) ? { methods: strs(d.methods) } : {}) };
    case 'auth.attempt':
    case 'auth.reauth.attempt': {
      const reason = str(d.reason);
      const type: ActivityType = reason && LOCKED.has(reason) ? 'locked_out' : row.type === 'auth.attempt' ? 'signin_failed' : 'reauthentication_failed';
      return { ...base, type, ...one(d.method), ...(reason ? { reason } : {}) };
    }
    case 'factor.enrolled':
      return { ...base, type: 'factor_added', ...one(d.kind) };
    case 'factor.removed':
      return { ...base, type: 'factor_removed', ...one(d.kind) };
    case 'user.factors_reset':
      return { ...base, type: 'factors_reset' };
    case 'user.unlocked':
      return { ...base, type: 'unlocked' };
    case 'factor.recovery_codes_regenerated':
      return { ...base, type: 'recovery_codes_regenerated' };
    case 'user.password_changed':
      return { ...base, type: 'password_changed' };
    case 'user.password_change':
      return { ...base, type: 'password_change_failed', ...(str(d.reason) ? { reason: str(d.reason) } : {}) };
    case 'session.revoked':
      return { ...base, type: 'session_revoked' };
    default:
      return undefined;
  }
}
