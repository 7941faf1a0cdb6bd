/**
 * Staff sign-in and re-authentication as flow kinds on the engine: identify, password, then a
 * second factor chosen from the user's enrolled ones, or a forced enrollment when policy says so.
 * The engine claims, gates, verifies and records; this file says what a success leads to (the next
 * state, a new flow token after every factor) and what completing issues: a session (sign-in) or a
 * refreshed session with a new token (re-authentication), written in the statement that records
 * the last step. A half-signed-in client holds nothing a protected route accepts.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { hashToken, newToken } from '../crypto/tokens.js';
import { AppError } from '../domain/errors.js';
import { normalizeIdentifier } from '../domain/identifiers.js';
import { inGrace, mfaModeFor, sessionRules, type Policy } from '../domain/policy.js';
import { answerError } from '../engine/claim-errors.js';
import type { KindHooks, SuccessPlan } from '../engine/engine.js';
import { derivedState, type FlowRecord } from '../engine/flow.js';
import type { Account } from '../engine/method.js';
import { isPhoneCode, STAFF_PHONE } from '../methods/otp/index.js';
import { queueEmail, templates } from '../delivery/notices.js';
import type { Origin, Services } from '../services/context.js';
import type { IssuedSession, Principal } from '../services/sessions.js';
import type { ExtraWrite } from '../storage/repositories/flow-records.js';

export type FlowState = 'password' | 'passkey' | 'second_factor' | 'enroll' | 'completed' | 'failed' | 'expired';

export interface FlowView {
  id: string;
  kind: 'signin' | 'reauth';
  state: FlowState;
  expiresAt: string;
  attemptsLeft: number;
  requiredAal: number;
  completedMethods: string[];
  /** Second factors the user may use now (state second_factor). */
  options?: Array<{ method: string; label: string }>;
  /** Factor kinds the user may enroll now (state enroll). */
  enroll?: string[];
}

export interface StepResult {
  flow: FlowView;
  /** The token for the next step (a new one after every success). */
  flowToken?: string;
  session?: IssuedSession & { enrollmentDue?: boolean };
  /** Shown once, after a forced enrollment. */
  recoveryCodes?: string[];
  /** Shown once, when enrolling. */
  enrollment?: Record<string, unknown>;
}

type SigninKind = 'signin' | 'reauth';

export function view(f: FlowRecord, now: Date, extra: Partial<FlowView> = {}): FlowView {
  return {
    id: f.id,
    kind: f.kind as SigninKind,
    state: derivedState(f, now) as FlowState,
    expiresAt: f.expires_at.toISOString(),
    attemptsLeft: Math.max(0, f.attempts_left),
    requiredAal: Number(f.required_level),
    completedMethods: f.completed_methods,
    ...extra,
  };
}

/** The second factors this user may use now: allowed by policy and enrolled. */
export const secondFactors = (policy: Policy, a: Pick<Account, 'roles' | 'activeKinds'>) =>
  mfaModeFor(policy, a.roles) === 'off' ? [] : policy.mfa.allowedFactors.filter((k) => a.activeKinds.includes(isPhoneCode(k) ? STAFF_PHONE : k));

export const describe = (s: Services, kinds: string[]) => kinds.map((k) => ({ method: k, label: s.methods.get(k)?.traits.label ?? k }));

export async function createFlow(s: Services, f: { tenantSlug?: string; tenantId?: string; kind: SigninKind; identifier: string | null; userId: string | null; sessionId: string | null; requiredAal: number; origin: Origin; state?: 'password' | 'passkey' | 'second_factor'; ceremony?: Record<string, unknown>; completedMethods?: string[]; context?: Record<string, unknown> }): Promise<StepResult> {
  const now = s.clock();
  const token = newToken();
  const budget = s.config.flowAttemptBudget;
  const row = {
    id: randomUUID(),
    kind: f.kind,
    subject_type: f.userId ? ('user' as const) : null,
    subject_id: f.userId,
    identifier: f.identifier,
    secret_hash: hashToken(token),
    state: f.state ?? 'password',
    required_level: String(f.requiredAal),
    ...(f.ceremony ? { ceremony: f.ceremony } : {}),
    ...(f.completedMethods ? { completed_methods: f.completedMethods } : {}),
    attempts_initial: budget,
    attempts_left: budget,
    context: { ...f.context, ...(f.sessionId ? { sessionId: f.sessionId } : {}), ip: f.origin.ip, userAgent: f.origin.userAgent?.slice(0, 512) ?? null },
    created_at: now,
    updated_at: now,
    expires_at: new Date(now.getTime() + s.config.flowTtlSeconds * 1000),
  };
  const flow = f.tenantId ? await s.store.flows.create({ ...row, tenant_id: f.tenantId }) : await s.store.flows.createForSlug(f.tenantSlug!, row);
  if (!flow) throw new AppError('not_found', undefined, 'Unknown organization.');
  return { flow: view(flow, now), flowToken: token };
}

export function startSignin(s: Services, a: { tenant: string; identifier: string; origin: Origin }): Promise<StepResult> {
  const identifier = normalizeIdentifier(a.identifier).slice(0, 320);
  return createFlow(s, { tenantSlug: a.tenant.trim().toLowerCase(), kind: 'signin', identifier, userId: null, sessionId: null, requiredAal: 1, origin: a.origin });
}

/** Re-authentication of a signed-in user: the same steps, ending in a refreshed session. */
export function startReauth(s: Services, p: Principal, origin: Origin): Promise<StepResult> {
  return createFlow(s, { tenantId: p.tenantId, kind: 'reauth', identifier: p.userEmail, userId: p.userId, sessionId: p.id, requiredAal: p.aal, origin });
}

const ALL_STATES = ['password', 'passkey', 'second_factor', 'enroll'] as const;

/** A step-up flow offers only the methods that can give what was asked for (src/flows/step-up.ts). */
export function stepUpOffers(f: FlowRecord, method: string): boolean {
  const offered = (f.context.stepUp as { methods?: string[] } | undefined)?.methods;
  return !offered || offered.includes(method);
}

export async function getFlow(s: Services, id: string, token: string): Promise<StepResult> {
  const now = s.clock();
  const c = await s.engine.read({ flowId: id, secretHash: hashToken(token), states: ALL_STATES, kindNeeds: ['account'] }).catch(async (e: unknown) => {
    // a completed, failed or expired flow still reads (with its token), as before
    const f = await s.store.flows.byId(id);
    if (e instanceof AppError && e.code !== 'flow_invalid' && f && (f.kind === 'signin' || f.kind === 'reauth')) return { flow: f, loaded: {}, policy: null } as const;
    throw e;
  });
  const extra: Partial<FlowView> = {};
  if (c.policy && c.flow.state === 'second_factor' && c.loaded.account) extra.options = describe(s, secondFactors(s.engine.policy(c as never), c.loaded.account).filter((k) => stepUpOffers(c.flow, k)));
  if (c.flow.state === 'enroll') extra.enroll = ['totp'];
  return { flow: view(c.flow, now, extra) };
}

/** The kind's part of an attempt: events, errors, and the completion. */
export function hooks(s: Services, origin: Origin, allow: ((policy: Policy, account: Account, flow: FlowRecord) => void) | null, next: (c: Parameters<KindHooks<StepResult>['plan']>[0], account: Account) => Promise<SuccessPlan & { view?: Partial<FlowView>; token?: string; session?: SessionPlan }>): KindHooks<StepResult> {
  let token: string | undefined;
  let viewExtra: Partial<FlowView> = {};
  let session: SessionPlan | undefined;
  return {
    kindNeeds: ['account'],
    subject(c, _m, policy) {
      const f = c.flow;
      const a = c.loaded.account;
      if (f.state === 'password') return f.subject_id ? { type: 'user', id: f.subject_id, tenantId: f.tenant_id } : null;
      // passwordless: whoever holds the key the answer names; an unknown key or an account that
      // cannot sign in is checked against nobody (the same refusal as a bad signature)
      if (f.state === 'passkey') {
        if (!a || a.status !== 'active') return null;
        allow?.(policy, a, f);
        return { type: 'user', id: a.id, tenantId: f.tenant_id };
      }
      if (!a || a.id !== f.subject_id || a.status !== 'active') throw new AppError('flow_invalid', { reason: 'account_unusable' });
      allow?.(policy, a, f);
      return { type: 'user', id: a.id, tenantId: f.tenant_id };
    },
    attemptEvent(f, method, outcome, data = {}) {
      return {
        tenantId: f.tenant_id,
        type: f.kind === 'reauth' ? 'auth.reauth.attempt' : 'auth.attempt',
        outcome,
        actor: f.subject_id ? { type: 'user', id: f.subject_id } : { type: 'anonymous' },
        target: { type: 'flow', id: f.id },
        origin,
        data: { method, identifier: f.identifier, ...data },
      };
    },
    async plan(c) {
      const account = c.claimed.loaded.account!;
      const p = await next(c, account);
      token = p.token;
      viewExtra = p.view ?? {};
      session = p.session;
      return p;
    },
    async done(c) {
      const r: StepResult = { flow: view(c.recorded, c.now, viewExtra), ...(token ? { flowToken: token } : {}) };
      if (session) {
        // a refreshed session keeps its own absolute expiry and idle timeout
        const kept = c.recorded.extras.sess as { expires_at?: string; idle_timeout_s?: number } | null | undefined;
        const expiresAt = kept?.expires_at ? new Date(kept.expires_at) : session.expiresAt;
        const idleTimeoutS = kept?.idle_timeout_s ?? session.idleTimeoutS;
        r.session = { id: session.id, token: session.token, aal: session.aal, methods: session.methods, expiresAt, idleTimeoutS, ...(session.enrollmentDue ? { enrollmentDue: true } : {}) };
      }
      return r;
    },
    async already(c) {
      return { flow: view(c.flow, c.now) };
    },
    failure({ flow, reason, method, counted }) {
      // an attempt that was not counted was given back: the budget after the refund
      const attemptsLeft = Math.max(0, flow.attempts_left + (counted ? 0 : 1));
      return answerError({ method, reason, attemptsLeft });
    },
  };
}

interface SessionPlan {
  id: string;
  token: string;
  aal: number;
  methods: string[];
  expiresAt: Date;
  idleTimeoutS: number;
  enrollmentDue?: boolean;
}

/**
 * What completing a sign-in writes in the step's own statement: the session, the user's last
 * sign-in (and grace count) and the session event; for a re-authentication, the refreshed session
 * with a new token (required: a revoked session fails the whole statement).
 */
export function completion(s: Services, f: FlowRecord, user: Pick<Account, 'id' | 'tenantId'>, policy: Policy, methods: string[], origin: Origin, o: { grace: boolean; now: Date }): { session: SessionPlan; extra: ExtraWrite[]; events: SuccessPlan['events'] } {
  const now = o.now;
  const token = newToken();
  const aal = s.methods.aalFor(methods);
  const rules = sessionRules(policy);
  if (f.kind === 'reauth') {
    const sessionId = String(f.context.sessionId ?? '');
    if (!sessionId) throw new AppError('unauthenticated');
    return {
      session: { id: sessionId, token, aal, methods, expiresAt: now, idleTimeoutS: 0 },
      extra: [{ name: 'sess', required: true, returns: true, sql: sql`UPDATE sessions SET token_hash = ${hashToken(token)}, auth_time = ${now}, last_seen_at = ${now}, methods = ${methods}::text[], aal = ${aal} WHERE id = ${sessionId} AND revoked_at IS NULL RETURNING expires_at, idle_timeout_s` }],
      events: [{ tenantId: user.tenantId, type: 'session.reauthenticated', outcome: 'success', actor: { type: 'user', id: user.id }, target: { type: 'session', id: sessionId }, origin, data: { methods, aal } }],
    };
  }
  const id = randomUUID();
  const expiresAt = new Date(now.getTime() + rules.absoluteMs);
  const idleTimeoutS = Math.round(rules.idleMs / 1000);
  return {
    session: { id, token, aal, methods, expiresAt, idleTimeoutS },
    extra: [
      {
        name: 'sess',
        sql: sql`INSERT INTO sessions (id, token_hash, tenant_id, user_id, aal, methods, auth_time, created_at, last_seen_at, idle_timeout_s, expires_at, ip, user_agent)
                 VALUES (${id}, ${hashToken(token)}, ${user.tenantId}, ${user.id}, ${aal}, ${methods}::text[], ${now}, ${now}, ${now}, ${idleTimeoutS}, ${expiresAt}, ${origin.ip}, ${origin.userAgent?.slice(0, 512) ?? null}) RETURNING 1`,
      },
      {
        name: 'usr',
        sql: o.grace
          ? sql`UPDATE users SET last_signin_at = ${now}, grace_signins = grace_signins + 1, grace_started_at = coalesce(grace_started_at, ${now}) WHERE id = ${user.id} RETURNING 1`
          : sql`UPDATE users SET last_signin_at = ${now} WHERE id = ${user.id} RETURNING 1`,
      },
    ],
    events: [{ tenantId: user.tenantId, type: 'session.created', outcome: 'success', actor: { type: 'user', id: user.id }, target: { type: 'session', id }, origin, data: { methods, aal } }],
  };
}

export async function submitPassword(s: Services, a: { id: string; token: string; password: string; origin: Origin }): Promise<StepResult> {
  const r = await s.engine.attempt(
    { flowId: a.id, secretHash: hashToken(a.token), states: ['password'], method: s.methods.get('pwd')!, answer: { password: a.password } },
    hooks(s, a.origin, null, async (c, user) => {
      const options = secondFactors(c.policy, user);
      const mode = mfaModeFor(c.policy, user.roles);
      let next: 'completed' | 'second_factor' | 'enroll' = 'completed';
      let grace = false;
      if (options.length > 0) next = 'second_factor';
      else if (mode === 'required' && c.flow.kind === 'signin') {
        grace = inGrace(c.policy, user.graceStartedAt, user.graceSignins, c.now);
        if (!grace) next = 'enroll';
      }
      const base = { subject: { type: 'user' as const, id: user.id }, requiredLevel: next === 'completed' ? '1' : '2' };
      if (next !== 'completed') {
        const token = newToken();
        return { ...base, state: next, secretHash: hashToken(token), token, view: next === 'second_factor' ? { options: describe(s, options) } : { enroll: ['totp'] } };
      }
      const done = completion(s, c.flow, user, c.policy, c.completed, a.origin, { grace, now: c.now });
      return { ...base, state: 'completed', secretHash: hashToken(newToken()), resultId: done.session.id, events: done.events, extra: done.extra, session: { ...done.session, ...(grace ? { enrollmentDue: true } : {}) } };
    }),
  );
  return r;
}

export async function submitSecondFactor(s: Services, a: { id: string; token: string; method: string; code: string; origin: Origin }): Promise<StepResult> {
  const method = s.methods.for(a.method, 'user');
  // the method must be one this server has for staff and the policy allows; whether the user has it
  // enrolled is the method's answer (read with the claim)
  if (!method || method.kind === 'pwd') throw new AppError('invalid_request', { method: a.method }, 'That sign-in method is not available for this account.');
  // a method whose answer is not a typed code (a security key) has its own step
  if (!method.answer.safeParse({ code: a.code }).success) throw new AppError('invalid_request', { method: a.method }, 'That sign-in method is answered at its own step (a security key: /webauthn).');
  let recovery: { user: Account; left: number } | undefined;
  const notAvailable = () => new AppError('invalid_request', { method: a.method, reason: 'method_not_allowed' }, 'That sign-in method is not available for this account.');
  const r = await s.engine.attempt(
    { flowId: a.id, secretHash: hashToken(a.token), states: ['second_factor'], method, answer: { code: a.code } },
    hooks(
      s,
      a.origin,
      (policy, user, f) => {
        if (mfaModeFor(policy, user.roles) === 'off' || !(policy.mfa.allowedFactors as readonly string[]).includes(a.method)) throw notAvailable();
        if (!stepUpOffers(f, a.method)) throw notAvailable();
      },
      async (c, user) => {
        if (a.method === 'recovery_code' && c.verdict.ok) recovery = { user, left: Number(c.verdict.detail?.remaining ?? 0) };
        const done = completion(s, c.flow, user, c.policy, c.completed, a.origin, { grace: false, now: c.now });
        return { state: 'completed', secretHash: hashToken(newToken()), resultId: done.session.id, events: done.events, extra: done.extra, session: done.session };
      },
    ),
  );
  if (recovery) await queueEmail(s, { tenantId: recovery.user.tenantId, to: recovery.user.email, ...templates.recoveryCodeUsed({ remaining: recovery.left }) });
  return r;
}

/** Forced enrollment inside the flow: start a TOTP enrollment (shows the secret and QR code). */
export async function beginFlowEnrollment(s: Services, a: { id: string; token: string; origin: Origin }): Promise<StepResult> {
  const now = s.clock();
  const tokenHash = hashToken(a.token);
  const c = await s.engine.read({ flowId: a.id, secretHash: tokenHash, states: ['enroll'], kindNeeds: ['account'] });
  const user = c.loaded.account;
  if (!user || user.id !== c.flow.subject_id) throw new AppError('flow_invalid');
  const started = await s.totpEnrollment.begin({ tenantId: c.flow.tenant_id, type: 'user', id: user.id }, { account: `${user.email} (${c.tenantSlug})`, now });
  const set = await s.store.db
    .updateTable('flows')
    .set({ ceremony: sql`ceremony || ${JSON.stringify({ totp: { pendingId: started.pendingId } })}::jsonb` as never, updated_at: now })
    .where('id', '=', c.flow.id)
    .where('secret_hash', '=', tokenHash)
    .where('state', '=', 'enroll')
    .executeTakeFirst();
  if (Number(set.numUpdatedRows) !== 1) throw new AppError('flow_state');
  return { flow: view(c.flow, now, { enroll: ['totp'] }), enrollment: { factorId: started.pendingId, ...started.display } };
}

export async function confirmFlowEnrollment(s: Services, a: { id: string; token: string; code: string; origin: Origin }): Promise<StepResult> {
  const totp = s.methods.get('totp')!;
  // the pending credential the ceremony names, not the active one
  const method = { ...totp, needs: ['pending_credential'] as const };
  let enrolledUser: Account | undefined;
  const r = await s.engine.attempt(
    { flowId: a.id, secretHash: hashToken(a.token), states: ['enroll'], method, answer: { code: a.code } },
    hooks(s, a.origin, (_p, _u, f) => {
        if (!f.ceremony.totp?.pendingId) throw new AppError('flow_state', { reason: 'enrollment_not_started' }, 'Start the enrollment first.');
      }, async (c, user) => {
        enrolledUser = user;
        const done = completion(s, c.flow, user, c.policy, c.completed, a.origin, { grace: false, now: c.now });
        return {
          state: 'completed',
          secretHash: hashToken(newToken()),
          resultId: done.session.id,
          extra: done.extra,
          session: done.session,
          events: [
            { tenantId: user.tenantId, type: 'factor.enrolled', outcome: 'success', actor: { type: 'user', id: user.id }, target: { type: 'factor', id: String(c.flow.ceremony.totp?.pendingId) }, origin: a.origin, data: { kind: 'totp', forced: true } },
            ...(done.events ?? []),
          ],
        };
      }),
  );
  const user = enrolledUser!;
  const recoveryCodes = await s.recovery.issue({ tenantId: user.tenantId, id: user.id }, s.clock());
  // as for any other binding (self-service.ts): the mailbox owner hears of it, even if someone else
  // with the password did the enrolling
  await queueEmail(s, { tenantId: user.tenantId, to: user.email, ...templates.factorChanged({ action: 'added', label: 'Authenticator app' }) });
  return { ...r, recoveryCodes };
}
