/**
 * The sign-in hot path in as few statements as its guarantees allow. `claimStep` is one statement
 * that (1) spends an attempt of the flow's budget, checking token, state and expiry, (2) records the
 * attempt on the factor's failure counter (every attempt counts, also one refused for a spent budget:
 * the first claims are the ones within budget, so the refused ones cannot crowd them out), and (3) reads the
 * tenant's policy in force, the account named by the flow and its active factor kinds: what
 * FlowRepo.claimAttempt, CounterRepo.hit, TenantRepo.currentPolicy, UserRepo.byEmail and
 * FactorRepo.activeKinds do, with the same atomicity, in one round trip. The counter subjects it builds
 * are those of passwordSubject / factorSubject (src/flows/attempt-gate.ts); the conformance suite checks it.
 */
import { sql } from 'kysely';
import type { Db } from '../db.js';
import type { CounterState } from './counters.js';
import type { FlowRow } from './flows.js';

/** Whose failure counter an attempt goes on: the password of (tenant, identifier), or a user's factor. */
export type CounterKey = { kind: 'password' } | { kind: 'factor'; method: string };

export interface StepAccount {
  id: string;
  tenantId: string;
  email: string;
  roles: string[];
  status: 'invited' | 'active' | 'disabled';
  passwordHash: string | null;
  graceStartedAt: Date | null;
  graceSignins: number;
  activeKinds: string[];
}

export interface ClaimedStep {
  flow: FlowRow;
  policy: { version: number; raw: unknown };
  /** The counter after this attempt; null only for a factor step of a flow without a user (never in practice). */
  counter: (CounterState & { subject: string }) | null;
  account: StepAccount | undefined;
}

export class SigninStepRepo {
  constructor(private readonly db: Db) {}

  async claimStep(a: { id: string; secretHash: Buffer; states: string[]; now: Date; counter: CounterKey }): Promise<ClaimedStep | undefined> {
    const isPassword = a.counter.kind === 'password';
    const method = a.counter.kind === 'factor' ? a.counter.method : '';
    const r = await sql<FlowRow & Record<string, unknown>>`
      WITH f AS (
        UPDATE auth_flows SET attempts_left = attempts_left - 1, updated_at = ${a.now}
        WHERE id = ${a.id} AND secret_hash = ${a.secretHash} AND state = ANY(${a.states}::text[]) AND expires_at > ${a.now}
        RETURNING *
      ), c AS (
        INSERT INTO attempt_counters AS ac (subject, failures, last_attempt_at, prev_attempt_at)
        SELECT CASE WHEN ${isPassword} THEN 'pw:' || f.tenant_id || ':' || f.identifier ELSE 'f:' || f.user_id || ':' || ${method}::text END, 1, ${a.now}::timestamptz, NULL::timestamptz
        FROM f WHERE ${isPassword} OR f.user_id IS NOT NULL
        ON CONFLICT (subject) DO UPDATE SET failures = ac.failures + 1, prev_attempt_at = ac.last_attempt_at, last_attempt_at = EXCLUDED.last_attempt_at
        RETURNING subject, failures, prev_attempt_at, last_failure_at, locked_until
      )
      SELECT f.*, p.version AS p_version, p.policy AS p_policy,
             c.subject AS c_subject, c.failures AS c_failures, c.prev_attempt_at AS c_prev_attempt_at, c.last_failure_at AS c_last_failure_at, c.locked_until AS c_locked_until,
             u.id AS u_id, u.tenant_id AS u_tenant_id, u.email AS u_email, u.roles AS u_roles, u.status AS u_status, u.password_hash AS u_password_hash,
             u.grace_started_at AS u_grace_started_at, u.grace_signins AS u_grace_signins,
             (SELECT coalesce(array_agg(fa.kind), '{}') FROM factors fa WHERE fa.user_id = u.id AND fa.status = 'active') AS u_active_kinds
      FROM f
      JOIN tenants t ON t.id = f.tenant_id
      JOIN tenant_policies p ON p.tenant_id = t.id AND p.version = t.policy_version
      LEFT JOIN c ON true
      LEFT JOIN users u ON u.tenant_id = f.tenant_id AND u.email = f.identifier`.execute(this.db);
    const row = r.rows[0];
    if (!row) return undefined;
    const pick = (prefix: string) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
      return out;
    };
    // no auth_flows column starts with p_, c_ or u_, so the rest of the row is the flow
    const flow = Object.fromEntries(Object.entries(row).filter(([k]) => !/^(p|c|u)_/.test(k))) as unknown as FlowRow;
    const c = pick('c_');
    const u = pick('u_');
    return {
      flow,
      policy: { version: Number(row.p_version), raw: row.p_policy },
      counter: c.subject
        ? { subject: String(c.subject), failures: Number(c.failures), prevAttemptAt: (c.prev_attempt_at as Date | null) ?? null, lastFailureAt: (c.last_failure_at as Date | null) ?? null, lockedUntil: (c.locked_until as Date | null) ?? null }
        : null,
      account: u.id
        ? {
            id: String(u.id),
            tenantId: String(u.tenant_id),
            email: String(u.email),
            roles: u.roles as string[],
            status: u.status as StepAccount['status'],
            passwordHash: (u.password_hash as string | null) ?? null,
            graceStartedAt: (u.grace_started_at as Date | null) ?? null,
            graceSignins: Number(u.grace_signins),
            activeKinds: (u.active_kinds as string[]) ?? [],
          }
        : undefined,
    };
  }
}
