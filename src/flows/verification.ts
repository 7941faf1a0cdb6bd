/**
 * Caller verification as a flow kind on the engine: one flow per interaction (call), started by an
 * agent (or the IVR) for a customer. The tenant's verification policy names the level (stepped up
 * when the risk is high); each method an agent or the IVR completes is one engine attempt; when the
 * completed methods meet the level, the same statement that records the last one marks the flow
 * completed (verified) with the id of the signed assertion, which the response carries.
 */
import { randomUUID } from 'node:crypto';
import { normalizeLocale } from '../delivery/templates.js';
import { AppError, fail } from '../domain/errors.js';
import { evaluateLevel, type CallerMethod } from '../domain/verification-policy.js';
import { answerError } from '../engine/claim-errors.js';
import type { KindHooks } from '../engine/engine.js';
import type { FlowRecord } from '../engine/flow.js';
import type { Method } from '../engine/method.js';
import type { Origin, Services } from '../services/context.js';
import { signAssertion } from '../services/assertions.js';
import { eventRecord } from '../services/audit-log.js';
import { parseStoredPolicy } from '../services/policies.js';
import { readForStart, type Claimed } from '../storage/repositories/flow-claims.js';
import { recordSuccess } from '../storage/repositories/flow-records.js';
import { type Actor, recentlyChanged, verificationState, view, type VerificationView } from './verification-record.js';
import { assessRisk } from './verification-risk.js';

export { availableMethods, recentlyChanged, verificationState, view, type Actor, type AvailableMethod, type VerificationState, type VerificationView } from './verification-record.js';

const OPEN = ['pending'] as const;

/** The same words as before the engine for a verification that cannot take a step. */
export function verificationError(e: unknown, o: { step: 'check' | 'other' } = { step: 'check' }): unknown {
  if (!(e instanceof AppError)) return e;
  // a check on a failed verification is one attempt too many; anything else is just over
  if (e.code === 'flow_failed' && o.step === 'other') return new AppError('flow_state', { state: 'failed', reason: 'flow_state' }, 'This verification is already over.');
  if (e.code === 'flow_failed') return new AppError('flow_failed', { state: 'failed', reason: 'flow_budget_spent' }, 'Too many failed attempts; this verification has failed.');
  if (e.code === 'flow_expired') return new AppError('flow_expired', { state: 'expired', reason: 'flow_expired' }, 'This verification expired; start a new one.');
  if (e.code === 'flow_state') return new AppError('flow_state', { ...e.detail, ...(e.detail?.state === 'completed' ? { state: 'verified' } : {}) }, 'This verification is already over.');
  if (e.code === 'flow_invalid') return new AppError('not_found');
  return e;
}

export async function rethrowing<T>(p: Promise<T>, step: 'check' | 'other' = 'check'): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw verificationError(e, { step });
  }
}

type StartInput = { tenantId: string; customerId: string; interactionId: string; level?: string; channel: 'agent' | 'ivr'; actor: Actor; callerAni?: string | null; attestation?: 'A' | 'B' | 'C' | null; locale?: string | null; origin: Origin };

/** What a step needs to know of a verification: the flow, the policy it runs under and the customer's overview. */
export type VerificationSnapshot = Pick<Claimed, 'flow' | 'policy' | 'customer'>;

export async function startVerification(s: Services, a: StartInput): Promise<VerificationView> {
  return (await beginVerification(s, a)).view;
}

/** Starts a verification (2 statements: the read for the start, then the flow and its event); also returns its state for an IVR prompt. */
export async function beginVerification(s: Services, a: StartInput): Promise<{ view: VerificationView; state: VerificationSnapshot }> {
  const locale = a.locale ? (normalizeLocale(a.locale) ?? fail('invalid_request', { field: 'locale' }, 'Not a language tag (en, es, fr-CA).')) : null;
  const now = s.clock();
  const ani = a.callerAni ?? null;
  const read = await readForStart(s.store.db, { tenantId: a.tenantId, customerId: a.customerId, ani, since: new Date(now.getTime() - 3_600_000) });
  if (!read?.customer) throw new AppError('not_found');
  const customer = read.customer;
  const full = parseStoredPolicy(a.tenantId, read.policy.version, read.policy.raw);
  const policy = full.verification;
  const requested = a.level ?? policy.defaultLevel;
  if (!policy.levels[requested]) throw new AppError('invalid_request', { level: requested }, 'No such verification level.');
  const risk = assessRisk({
    callerAni: ani,
    attestation: a.attestation ?? null,
    onFilePhones: customer.contacts.filter((c) => c.kind === 'phone').map((c) => c.value),
    recentlyChangedContacts: customer.contacts.filter((c) => recentlyChanged(c, customer.createdAt, policy, now)).length,
    verificationsForCustomerLastHour: read.forCustomer,
    verificationsFromAniLastHour: ani ? read.fromAni : 0,
    failedAttempts: 0,
  });
  const level = risk.score >= policy.risk.stepUpAtScore ? policy.risk.highLevel : requested;
  const id = randomUUID();
  const started = eventRecord(s, {
    tenantId: a.tenantId,
    type: 'verification.started',
    outcome: 'info',
    actor: a.actor,
    target: { type: 'verification', id },
    origin: a.origin,
    data: { customerId: a.customerId, interactionId: a.interactionId, level, requestedLevel: requested, riskScore: risk.score, steppedUp: level !== requested },
  });
  // the flow and its event in one statement: a flow nobody was told about never exists
  const f = await s.store.flows.create(
    {
      id,
      tenant_id: a.tenantId,
      kind: 'verification',
      subject_type: 'customer',
      subject_id: a.customerId,
      state: 'pending',
      required_level: level,
      requested_level: requested,
      attempts_initial: policy.attempts,
      attempts_left: policy.attempts,
      context: { channel: a.channel, startedBy: a.actor, risk, locale },
      interaction_id: a.interactionId,
      caller_ani: ani,
      created_at: now,
      updated_at: now,
      expires_at: new Date(now.getTime() + policy.flowTtlMinutes * 60_000),
    },
    [started],
  );
  return { view: view(f, policy, s.methods, customer, now), state: { flow: f, policy: read.policy, customer } };
}

/** One statement: the flow (any state), the policy and the customer's overview. */
export async function readVerification(s: Services, tenantId: string, id: string): Promise<Claimed & { flow: FlowRecord }> {
  const c = await s.store.flows.readWith(tenantId, id, ['customer'], s.clock());
  if (!c || c.flow.kind !== 'verification') throw new AppError('not_found');
  return c;
}

/** The latest verification of an interaction (a call), in one statement. */
export async function interactionVerification(s: Services, tenantId: string, interactionId: string): Promise<VerificationView> {
  const c = await s.store.flows.readLatestForInteraction(tenantId, interactionId, ['customer'], s.clock());
  if (!c || c.flow.kind !== 'verification') throw new AppError('not_found');
  return view(c.flow, s.engine.policy(c).verification, s.methods, c.customer, s.clock());
}

export async function getVerification(s: Services, tenantId: string, id: string): Promise<VerificationView> {
  const c = await readVerification(s, tenantId, id);
  return view(c.flow, s.engine.policy(c).verification, s.methods, c.customer, s.clock());
}

export async function cancelVerification(s: Services, a: { tenantId: string; id: string; actor: Actor; origin: Origin }): Promise<VerificationView> {
  const now = s.clock();
  const ev = eventRecord(s, { tenantId: a.tenantId, type: 'verification.canceled', outcome: 'info', actor: a.actor, target: { type: 'verification', id: a.id }, origin: a.origin });
  // refused on a terminal flow: a failed or expired verification stays what it is
  const done = await s.store.flows.cancel(a.tenantId, a.id, OPEN, now, [ev]);
  if (!done) {
    const current = await s.store.flows.inTenant(a.tenantId, a.id, 'verification');
    if (!current) throw new AppError('not_found');
    throw new AppError('flow_state', { state: verificationState(current, now) }, 'This verification is already over.');
  }
  return getVerification(s, a.tenantId, a.id);
}

const MESSAGES: Record<string, string> = { pin: 'The PIN is not correct.', question: 'The answer is not correct.', totp: 'The authenticator code is not correct.' };

/**
 * The verification as a step left it, with what the step's claim read (policy, customer): lets the
 * IVR say its next prompt without reading the flow again.
 */
export type StepObserver = (o: { flow: FlowRecord; claimed: Claimed }) => void;

/** The kind's part of a verification step. */
/** Checked on what the step's claim read, before the answer: throws (an AppError) to refuse the step unchecked and refunded. */
export type StepGuard = (c: Claimed) => void;

function hooks(s: Services, a: { tenantId: string; actor: Actor; origin: Origin; observe?: StepObserver | undefined; guard?: StepGuard | undefined }): KindHooks<VerificationView> {
  let assertion: string | undefined;
  let claimed: Claimed | undefined;
  const observe = (flow: FlowRecord, c: Claimed | undefined) => {
    if (a.observe && c) a.observe({ flow, claimed: c });
  };
  const sign = async (c: Claimed, methods: string[], now: Date) => {
    const f = c.flow;
    return signAssertion(s, {
      tenantId: f.tenant_id,
      tenantSlug: c.tenantSlug,
      customerId: f.subject_id!,
      externalId: c.customer?.externalId ?? null,
      interactionId: f.interaction_id ?? '',
      verificationId: f.id,
      methods,
      level: f.required_level,
      verifiedAt: now,
    });
  };
  const verifiedEvent = (f: FlowRecord, methods: string[], jti: string) => ({
    tenantId: f.tenant_id,
    type: 'verification.verified',
    outcome: 'success' as const,
    actor: a.actor,
    target: { type: 'verification', id: f.id },
    origin: a.origin,
    data: { customerId: f.subject_id, interactionId: f.interaction_id, level: f.required_level, methods, assertionId: jti },
  });
  return {
    kindNeeds: ['customer'],
    subject(c) {
      if (c.flow.kind !== 'verification' || !c.flow.subject_id) throw new AppError('not_found');
      claimed = c;
      a.guard?.(c);
      return { type: 'customer', id: c.flow.subject_id, tenantId: c.flow.tenant_id };
    },
    attemptEvent(f, method, outcome, data = {}) {
      return { tenantId: f.tenant_id, type: 'verification.step', outcome, actor: a.actor, target: { type: 'verification', id: f.id }, origin: a.origin, data: { method, customerId: f.subject_id, interactionId: f.interaction_id, ...data } };
    },
    async plan(c) {
      const policy = c.policy.verification;
      const met = policy.levels[c.flow.required_level] ? evaluateLevel(policy, c.flow.required_level, c.completed, s.methods.categoryOf).satisfied : false;
      if (!met) return { state: 'pending' };
      // signed before the statement that records it (the key is cached in the process)
      const signed = await sign(c.claimed, c.completed, c.now);
      assertion = signed.jwt;
      return { state: 'completed', resultId: signed.jti, events: [verifiedEvent(c.flow, c.completed, signed.jti)] };
    },
    async done(c) {
      const policy = c.policy.verification;
      let f: FlowRecord = c.recorded;
      // two methods recorded at once may together meet the level that neither saw: complete now
      if (f.state === 'pending' && policy.levels[f.required_level] && evaluateLevel(policy, f.required_level, f.completed_methods, s.methods.categoryOf).satisfied) {
        const signed = await sign(c.claimed, f.completed_methods, c.now);
        const completed = await recordSuccess(s.store.db, {
          id: f.id,
          from: { state: 'pending' },
          to: { state: 'completed', method: c.proven, resultId: signed.jti },
          refund: false,
          counterSubject: null,
          effects: [],
          events: [eventRecord(s, verifiedEvent(f, f.completed_methods, signed.jti))],
          now: c.now,
        });
        if (completed) {
          f = completed;
          assertion = signed.jwt;
        }
      }
      observe(f, c.claimed);
      return view(f, policy, s.methods, c.claimed.customer, c.now, assertion && f.state === 'completed' ? { assertion } : {});
    },
    async already(c) {
      // the claim's attempt was given back
      const f = { ...c.flow, attempts_left: c.flow.attempts_left + 1 };
      observe(f, c.claimed);
      return view(f, c.policy.verification, s.methods, c.claimed.customer, c.now);
    },
    failure({ flow, reason, method, counted, after }) {
      if (after) observe(after, claimed);
      // an answer not counted (a replay, the right code again) was given its attempt back
      const left = Math.max(0, flow.attempts_left + (counted ? 0 : 1));
      if (reason === 'no_question_asked') return new AppError('flow_state', { reason }, 'Ask a question first.');
      // the same code and reason as a staff sign-in; the verification's state is added
      return answerError({ method, reason, attemptsLeft: left, detail: { state: left <= 0 ? 'failed' : 'pending' }, ...(MESSAGES[method] ? { message: MESSAGES[method] } : {}) });
    },
  };
}

/** One step of a verification: a method's answer checked by the engine. */
export function verificationStep(s: Services, a: { tenantId: string; id: string; actor: Actor; origin: Origin; method: Method<unknown>; answer: unknown; observe?: StepObserver | undefined; guard?: StepGuard | undefined }): Promise<VerificationView> {
  return rethrowing(s.engine.attempt({ flowId: a.id, tenantId: a.tenantId, states: OPEN, method: a.method, answer: a.answer }, hooks(s, a)));
}
