/**
 * Staff sign-in (and re-authentication) as a persisted flow: identify, password, then a second factor
 * chosen from the user's enrolled ones, or a forced enrollment when policy says so. Each step claims
 * one attempt of the flow's shared budget, goes through the factor's attempt gate, and on success
 * moves the flow on with a new flow token (a new id after each factor). The session is issued only
 * when the flow completes, so a half-signed-in client holds nothing a protected route accepts.
 */
import { randomUUID } from 'node:crypto';
import { hashToken, newToken, safeEqual } from '../crypto/tokens.js';
import { AppError } from '../domain/errors.js';
import { normalizeIdentifier } from '../domain/identifiers.js';
import { inGrace, lockoutRules, mfaModeFor, type Policy } from '../domain/policy.js';
import { queueEmail, templates } from '../delivery/notices.js';
import { audit, type EventInput } from '../services/audit-log.js';
import type { Origin, Services } from '../services/context.js';
import { currentPolicy, parseStoredPolicy } from '../services/policies.js';
import { issueSession, type IssuedSession, type Principal } from '../services/sessions.js';
import type { FlowRow } from '../storage/repositories/flows.js';
import type { CounterKey, StepAccount } from '../storage/repositories/signin-steps.js';
import type { UserRow } from '../storage/repositories/users.js';
import type { GateVerdict } from './attempt-gate.js';
import { claimError, gateError } from './flow-errors.js';
import { flowState, type FlowState, type StoredState } from './signin-states.js';

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

const deny = (e: AppError): never => {
  throw e;
};

function view(s: Services, f: FlowRow, now: Date, extra: Partial<FlowView> = {}): FlowView {
  return {
    id: f.id,
    kind: f.kind,
    state: flowState(f, now),
    expiresAt: f.expires_at.toISOString(),
    attemptsLeft: Math.max(0, f.attempts_left),
    requiredAal: f.required_aal,
    completedMethods: f.completed_methods,
    ...extra,
  };
}

async function secondFactorOptions(s: Services, user: Pick<UserRow, 'id' | 'roles'>, policy: Policy): Promise<string[]> {
  if (mfaModeFor(policy, user.roles) === 'off') return [];
  const kinds = await s.store.factors.activeKinds(user.id);
  return policy.mfa.allowedFactors.filter((k) => kinds.includes(k));
}

const describe = (s: Services, kinds: string[]) => kinds.map((k) => ({ method: k, label: s.registry.get(k)?.label ?? k }));

/** Persists a new flow in state `password` with a fresh token, budget and expiry. */
async function createFlow(s: Services, f: { tenantId: string; kind: 'signin' | 'reauth'; identifier: string; userId: string | null; sessionId: string | null; requiredAal: number; origin: Origin }): Promise<StepResult> {
  const now = s.clock();
  const token = newToken();
  const flow = await s.store.flows.create({
    id: randomUUID(),
    tenant_id: f.tenantId,
    kind: f.kind,
    secret_hash: hashToken(token),
    state: 'password',
    identifier: f.identifier,
    user_id: f.userId,
    session_id: f.sessionId,
    required_aal: f.requiredAal,
    attempts_left: s.config.flowAttemptBudget,
    ip: f.origin.ip,
    user_agent: f.origin.userAgent?.slice(0, 512) ?? null,
    created_at: now,
    updated_at: now,
    expires_at: new Date(now.getTime() + s.config.flowTtlSeconds * 1000),
  });
  return { flow: view(s, flow, now), flowToken: token };
}

export async function startSignin(s: Services, a: { tenant: string; identifier: string; origin: Origin }): Promise<StepResult> {
  const tenant = await s.store.tenants.bySlug(a.tenant.trim().toLowerCase());
  if (!tenant || tenant.disabled_at) throw new AppError('not_found', undefined, 'Unknown organization.');
  const identifier = normalizeIdentifier(a.identifier).slice(0, 320);
  return createFlow(s, { tenantId: tenant.id, kind: 'signin', identifier, userId: null, sessionId: null, requiredAal: 1, origin: a.origin });
}

/** Re-authentication of a signed-in user: the same steps, ending in a refreshed session. */
export function startReauth(s: Services, p: Principal, origin: Origin): Promise<StepResult> {
  return createFlow(s, { tenantId: p.tenantId, kind: 'reauth', identifier: p.userEmail, userId: p.userId, sessionId: p.id, requiredAal: p.aal, origin });
}

export async function getFlow(s: Services, id: string, token: string): Promise<StepResult> {
  const now = s.clock();
  const h = hashToken(token);
  const f = await s.store.flows.byId(id);
  const err = claimError(f, h, now);
  if (!f || err.code === 'flow_invalid') throw err;
  const extra: Partial<FlowView> = {};
  if (f.state === 'second_factor' && f.user_id) {
    const user = await s.store.users.byId(f.tenant_id, f.user_id);
    const { policy } = await currentPolicy(s, f.tenant_id);
    if (user) extra.options = describe(s, await secondFactorOptions(s, user, policy));
  }
  if (f.state === 'enroll') extra.enroll = ['totp'];
  return { flow: view(s, f, now, extra) };
}

/**
 * Claims an attempt of the flow's budget, records it on the factor's failure counter and judges it,
 * reading the policy and the account in the same statement; throws when refused.
 */
async function claim(s: Services, a: { id: string; token: string; states: StoredState[]; counter: CounterKey; method: string; origin: Origin }) {
  const now = s.clock();
  const tokenHash = hashToken(a.token);
  const step = (await s.store.steps.claimStep({ id: a.id, secretHash: tokenHash, states: a.states, now, counter: a.counter })) ?? deny(claimError(await s.store.flows.byId(a.id), tokenHash, now));
  const { flow, account } = step;
  const policy = parseStoredPolicy(flow.tenant_id, step.policy.version, step.policy.raw);
  const rules = lockoutRules(policy);
  const refuse = async (e: AppError, reason: string): Promise<never> => {
    await attemptEvent(s, flow, a.method, 'failure', a.origin, { reason });
    throw e;
  };
  if (flow.attempts_left < 0 || !step.counter) return refuse(new AppError('flow_failed'), 'flow_budget_spent');
  const subject = step.counter.subject;
  const verdict = await s.gate.judge(subject, step.counter, rules, now);
  if (!verdict.allowed) await refuse(gateError(verdict), verdict.reason);
  return { flow, account, policy, rules, subject, verdict, now, tokenHash };
}

function attemptEvent(s: Services, f: FlowRow, method: string, outcome: 'success' | 'failure', origin: Origin, data: Record<string, unknown> = {}) {
  return audit(s, attemptEventInput(f, method, outcome, origin, data));
}

function attemptEventInput(f: FlowRow, method: string, outcome: 'success' | 'failure', origin: Origin, data: Record<string, unknown> = {}): EventInput {
  return {
    tenantId: f.tenant_id,
    type: f.kind === 'reauth' ? 'auth.reauth.attempt' : 'auth.attempt',
    outcome,
    actor: f.user_id ? { type: 'user', id: f.user_id } : { type: 'anonymous' },
    target: { type: 'flow', id: f.id },
    origin,
    data: { method, identifier: f.identifier, ...data },
  };
}

async function failed(s: Services, c: { flow: FlowRow; subject: string; verdict: GateVerdict; rules: ReturnType<typeof lockoutRules>; now: Date }, method: string, origin: Origin, reason: string) {
  await s.gate.failed(c.subject, c.verdict, c.rules, c.now);
  await attemptEvent(s, c.flow, method, 'failure', origin, { reason });
}

export async function submitPassword(s: Services, a: { id: string; token: string; password: string; origin: Origin }): Promise<StepResult> {
  const c = await claim(s, { ...a, states: ['password'], method: 'pwd', counter: { kind: 'password' } });
  const found = c.account;
  const user = found && found.status === 'active' && (c.flow.kind === 'signin' || found.id === c.flow.user_id) ? found : undefined;
  const ok = await s.password.verifyHash(user?.passwordHash ?? null, a.password);
  if (!ok || !user) {
    await failed(s, c, 'pwd', a.origin, 'wrong_password');
    throw new AppError('invalid_credentials', { attemptsLeft: Math.max(0, c.flow.attempts_left) });
  }
  const mode = mfaModeFor(c.policy, user.roles);
  const options = mode === 'off' ? [] : c.policy.mfa.allowedFactors.filter((k) => user.activeKinds.includes(k));
  let next: StoredState = 'completed';
  let grace = false;
  if (options.length > 0) next = 'second_factor';
  else if (mode === 'required' && c.flow.kind === 'signin') {
    grace = inGrace(c.policy, user.graceStartedAt, user.graceSignins, c.now);
    if (!grace) next = 'enroll';
  }
  const token = newToken();
  const flow = await s.store.flows.advance(
    a.id,
    { state: 'password', secretHash: c.tokenHash },
    { state: next, secretHash: hashToken(token), method: 'pwd', userId: user.id, requiredAal: next === 'completed' ? 1 : 2, refund: true, resetCounter: c.subject },
    c.now,
  );
  if (!flow) throw new AppError('flow_state');
  const success = attemptEventInput(flow, 'pwd', 'success', a.origin, { next });
  if (next === 'completed') return finish(s, flow, user, c.policy, a.origin, { grace, enrollmentDue: grace, events: [success] });
  await audit(s, success);
  return {
    flow: view(s, flow, c.now, next === 'second_factor' ? { options: describe(s, options) } : { enroll: ['totp'] }),
    flowToken: token,
  };
}

export async function submitSecondFactor(s: Services, a: { id: string; token: string; method: string; code: string; origin: Origin }): Promise<StepResult> {
  const c = await claim(s, { ...a, states: ['second_factor'], counter: { kind: 'factor', method: a.method } });
  const user = c.account;
  if (!user || user.id !== c.flow.user_id || user.status !== 'active') throw new AppError('flow_invalid');
  // The method must be allowed by policy; whether the user has it enrolled is the factor's answer.
  const factor = s.registry.get(a.method);
  const allowed = mfaModeFor(c.policy, user.roles) !== 'off' && (c.policy.mfa.allowedFactors as readonly string[]).includes(a.method);
  if (!factor || !allowed) throw new AppError('invalid_request', { method: a.method }, 'That sign-in method is not available for this account.');
  const result = await factor.verify({ tenantId: user.tenantId, type: 'user', id: user.id }, a.code, c.now);
  if (!result.ok) {
    await failed(s, c, a.method, a.origin, result.reason);
    throw new AppError('invalid_factor', { attemptsLeft: Math.max(0, c.flow.attempts_left) });
  }
  const flow = await s.store.flows.advance(
    a.id,
    { state: 'second_factor', secretHash: c.tokenHash },
    { state: 'completed', secretHash: hashToken(newToken()), method: a.method, refund: true, resetCounter: c.subject },
    c.now,
  );
  if (!flow) throw new AppError('flow_state');
  if (a.method === 'recovery_code') {
    const remaining = Number(result.detail?.remaining ?? 0);
    await queueEmail(s, { tenantId: user.tenantId, to: user.email, ...templates.recoveryCodeUsed({ remaining }) });
  }
  return finish(s, flow, user, c.policy, a.origin, { grace: false, events: [attemptEventInput(flow, a.method, 'success', a.origin)] });
}

/** Forced enrollment inside the flow: start a TOTP enrollment (shows the secret and QR code). */
export async function beginFlowEnrollment(s: Services, a: { id: string; token: string; origin: Origin }): Promise<StepResult> {
  const now = s.clock();
  const tokenHash = hashToken(a.token);
  const f = await s.store.flows.byId(a.id);
  if (!f || !f.user_id || flowState(f, now) !== 'enroll' || !safeEqual(f.secret_hash, tokenHash)) throw claimError(f, tokenHash, now);
  const user = await s.store.users.byId(f.tenant_id, f.user_id);
  const tenant = await s.store.tenants.byId(f.tenant_id);
  if (!user || !tenant) throw new AppError('flow_invalid');
  const totp = s.registry.get('totp')!;
  const started = await totp.enroll!.begin({ tenantId: f.tenant_id, type: 'user', id: user.id }, { account: `${user.email} (${tenant.slug})`, now });
  if (!(await s.store.flows.setPendingFactor(f.id, tokenHash, started.pendingId, now))) throw new AppError('flow_state');
  return { flow: view(s, f, now, { enroll: ['totp'] }), enrollment: { factorId: started.pendingId, ...started.display } };
}

export async function confirmFlowEnrollment(s: Services, a: { id: string; token: string; code: string; origin: Origin }): Promise<StepResult> {
  const c = await claim(s, { ...a, states: ['enroll'], method: 'totp', counter: { kind: 'factor', method: 'totp' } });
  const user = c.account;
  if (!user || user.id !== c.flow.user_id || !c.flow.pending_factor_id) throw new AppError('flow_state', undefined, 'Start the enrollment first.');
  const result = await s.registry.get('totp')!.enroll!.confirm({ tenantId: user.tenantId, type: 'user', id: user.id }, c.flow.pending_factor_id, a.code, c.now);
  if (!result.ok) {
    await failed(s, c, 'totp', a.origin, `enroll_${result.reason}`);
    throw new AppError('invalid_factor', { attemptsLeft: Math.max(0, c.flow.attempts_left) });
  }
  const flow = await s.store.flows.advance(
    a.id,
    { state: 'enroll', secretHash: c.tokenHash },
    { state: 'completed', secretHash: hashToken(newToken()), method: 'totp', refund: true, resetCounter: c.subject },
    c.now,
  );
  if (!flow) throw new AppError('flow_state');
  const enrolled: EventInput = { tenantId: user.tenantId, type: 'factor.enrolled', outcome: 'success', actor: { type: 'user', id: user.id }, target: { type: 'factor', id: c.flow.pending_factor_id }, origin: a.origin, data: { kind: 'totp', forced: true } };
  const recoveryCodes = await s.recovery.issue({ tenantId: user.tenantId, id: user.id }, c.now);
  // as for any other binding (self-service.ts): the mailbox owner hears of it, even if someone else
  // with the password did the enrolling
  await queueEmail(s, { tenantId: user.tenantId, to: user.email, ...templates.factorChanged({ action: 'added', label: 'Authenticator app' }) });
  const done = await finish(s, flow, user, c.policy, a.origin, { grace: false, events: [attemptEventInput(flow, 'totp', 'success', a.origin, { enrollment: true }), enrolled] });
  return { ...done, recoveryCodes };
}

/**
 * Issues the session (sign-in) or refreshes the existing one (re-authentication). `events` (the
 * step's own success) are written in the same statement as the session and its audit event.
 */
async function finish(s: Services, flow: FlowRow, user: Pick<StepAccount, 'id' | 'tenantId'>, policy: Policy, origin: Origin, o: { grace: boolean; enrollmentDue?: boolean; events?: EventInput[] }): Promise<StepResult> {
  const now = s.clock();
  const methods = flow.completed_methods;
  if (flow.kind === 'reauth') {
    const token = newToken();
    const aal = s.registry.aalFor(methods);
    const refreshed = flow.session_id ? await s.store.sessions.reauthenticate(flow.session_id, hashToken(token), methods, aal, now) : undefined;
    if (!flow.session_id || !refreshed) throw new AppError('unauthenticated');
    await audit(s, [...(o.events ?? []), { tenantId: user.tenantId, type: 'session.reauthenticated', outcome: 'success', actor: { type: 'user', id: user.id }, target: { type: 'session', id: flow.session_id }, origin, data: { methods, aal } }]);
    return { flow: view(s, flow, now), session: { id: flow.session_id, token, aal, methods, ...refreshed } };
  }
  const session = await issueSession(s, {
    tenantId: user.tenantId,
    userId: user.id,
    methods,
    policy,
    origin,
    inGrace: o.grace,
    events: (sessionId, aal) => [
      ...(o.events ?? []),
      { tenantId: user.tenantId, type: 'session.created', outcome: 'success', actor: { type: 'user', id: user.id }, target: { type: 'session', id: sessionId }, origin, data: { methods, aal } },
    ],
  });
  return { flow: view(s, flow, now), session: o.enrollmentDue ? { ...session, enrollmentDue: true } : session };
}
