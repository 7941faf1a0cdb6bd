/**
 * The flow engine: the one place that does claim → gate → verify → record → evaluate → complete,
 * for every kind of flow and every method. A kind (./kinds/*) says what a success leads to and what
 * completing issues; a method (src/methods/*) says how an answer is checked. Each attempt costs:
 *   claim   1 statement: spend an attempt (token, state, expiry, budget), register the check in flight
 *           on the method's counter, read policy and what the method and kind need;
 *   gate    in process, from what the claim read (src/engine/gate.ts);
 *   verify  in process (argon2id, HMAC, TOTP), never a write;
 *   record  1 statement: on success the method's effects, the advance, the counter reset, the
 *           events and the completion (session, assertion) — or nothing at all if a guard failed
 *           (a race lost, a replay); on a checked wrong answer the failure, the lock, the event;
 *           on a refusal the in-flight release and the refund.
 */
import { AppError, type ErrorReason } from '../domain/errors.js';
import { lockoutRules, type Policy } from '../domain/policy.js';
import type { AuditEvent } from '../storage/repositories/audit.js';
import type { Claimed, ClaimRequest, KindNeed } from '../storage/repositories/flow-claims.js';
import type { ExtraWrite, Recorded } from '../storage/repositories/flow-records.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { budgetInFlight, claimError } from './claim-errors.js';
import type { FlowRecord } from './flow.js';
import { gateError, judge, lockAfterFailure } from './gate.js';
import type { CeremonySlot, Method, SubjectType, Verdict } from './method.js';
import type { EnginePorts, EventDraft } from './ports.js';

/**
 * How long an attempt that finds the flow's whole budget in flight waits for those answers to be
 * judged before it is answered as throttled (a check takes milliseconds; argon2id under load, more).
 */
const BUDGET_IN_FLIGHT_WAIT_MS = 5_000;

/** What a kind decides when a method succeeded. */
export interface SuccessPlan {
  state: string;
  secretHash?: Buffer | null;
  subject?: { type: SubjectType; id: string };
  requiredLevel?: string;
  resultId?: string;
  context?: Record<string, unknown>;
  /** More slots to clear / set (the method's own slot is handled by the engine). */
  clearSlots?: string[];
  setSlots?: Record<string, unknown>;
  events?: EventDraft[];
  extra?: ExtraWrite[];
  /** Guard: the method must not be recorded yet (a step that may succeed once). */
  requireMethodAbsent?: boolean;
}

export interface AttemptContext {
  claimed: Claimed;
  flow: FlowRecord;
  policy: Policy;
  method: Method<unknown>;
  /** The method name recorded (the method's kind, or the variant it proved). */
  proven: string;
  verdict: Verdict;
  now: Date;
}

export interface KindHooks<R> {
  kindNeeds?: readonly KindNeed[];
  /** The subject checked (throws when the flow cannot take this method now: before any check, refunded). */
  subject(c: Claimed, method: Method<unknown>, policy: Policy): { type: SubjectType; id: string; tenantId: string } | null;
  /** The attempt event of this kind (type, actor, target, data) for a method. */
  attemptEvent(flow: FlowRecord, method: string, outcome: 'success' | 'failure', data?: Record<string, unknown>): EventDraft;
  plan(c: AttemptContext & { completed: string[] }): Promise<SuccessPlan>;
  /** The response after the success was recorded. */
  done(c: AttemptContext & { recorded: Recorded; plan: SuccessPlan }): Promise<R>;
  /** The response when the right answer came again (nothing written but the refund). */
  already(c: AttemptContext): Promise<R>;
  /**
   * The error for a refused or failed answer. `after` is the flow as the attempt left it (budget and
   * ceremony slots), when the engine knows it (not after a race lost: another request moved it).
   */
  failure(c: { flow: FlowRecord; reason: ErrorReason; counted: boolean; method: string; after?: FlowRecord }): AppError;
}

export interface AttemptInput {
  flowId: string;
  tenantId?: string;
  secretHash?: Buffer;
  states: readonly string[];
  method: Method<unknown>;
  answer: unknown;
}

export class FlowEngine {
  constructor(private readonly ports: EnginePorts) {}

  get clock() {
    return this.ports.clock;
  }

  event(e: EventDraft): AuditEvent {
    return this.ports.event(e);
  }

  policy(c: Pick<Claimed, 'flow' | 'policy'>): Policy {
    return this.ports.policy(c.flow.tenant_id, c.policy.version, c.policy.raw);
  }

  /** A read-only claim (no attempt spent, no counter): for steps that check nothing. */
  async read(a: { flowId: string; tenantId?: string; secretHash?: Buffer; states: readonly string[]; kindNeeds?: readonly KindNeed[]; template?: { name: string; channel: string }; rates?: ClaimRequest['rateHits'] }): Promise<Claimed> {
    const now = this.ports.clock();
    const req = {
      id: a.flowId,
      ...(a.tenantId ? { tenantId: a.tenantId } : {}),
      ...(a.secretHash ? { secretHash: a.secretHash } : {}),
      states: a.states,
      now,
      spend: false,
      ...(a.kindNeeds ? { kindNeeds: [...a.kindNeeds, ...(a.template ? (['template'] as const) : [])] } : a.template ? { kindNeeds: ['template' as const] } : {}),
      ...(a.template ? { template: a.template } : {}),
      ...(a.rates ? { rateHits: a.rates } : {}),
    };
    const c = await this.ports.flows.claim(req);
    if (!c) throw claimError(await this.ports.flows.byId(a.flowId), a, now);
    return c;
  }

  async attempt<R>(a: AttemptInput, k: KindHooks<R>): Promise<R> {
    const now = this.ports.clock();
    const m = a.method;
    const slot = m.slot ?? m.kind;
    const req: ClaimRequest = {
      id: a.flowId,
      ...(a.tenantId ? { tenantId: a.tenantId } : {}),
      ...(a.secretHash ? { secretHash: a.secretHash } : {}),
      states: a.states,
      now,
      spend: true,
      method: { kind: slot, counter: m.counter, slot, needs: m.needs },
      ...(m.credentialRef ? { credentialRef: m.credentialRef(a.answer) ?? '' } : {}),
      ...(k.kindNeeds ? { kindNeeds: k.kindNeeds } : {}),
    };
    let claimed = await this.ports.flows.claim(req);
    let current: FlowRecord | undefined;
    // the whole budget in flight (other answers being judged, each of which may give its attempt
    // back): wait for them and claim again, so that a burst is judged as the sequence it would be
    const started = performance.now();
    for (let wait = 2; !claimed; wait = Math.min(wait * 2, 50)) {
      current = await this.ports.flows.byId(a.flowId);
      if (!budgetInFlight(current, a, now, a.states) || performance.now() - started > BUDGET_IN_FLIGHT_WAIT_MS) break;
      await sleep(wait);
      claimed = await this.ports.flows.claim(req);
    }
    if (!claimed) {
      const e = claimError(current, a, now, a.states);
      // a refused attempt on a real flow is evidence too (a spent budget, an expired flow): audited
      if (current && e.code !== 'flow_invalid' && e.code !== 'not_found') {
        const reason = String(e.detail?.reason ?? e.code);
        await this.ports.flows.release({ flowId: current.id, counterSubject: null, refund: false, inFlight: false, events: [this.event(k.attemptEvent(current, m.kind, 'failure', { reason }))], now });
      }
      throw e;
    }
    const flow = claimed.flow;
    const counterSubject = claimed.counter?.subject ?? null;
    const refuse = async (reason: string, e: AppError, method = m.kind, refund = true): Promise<never> => {
      await this.ports.flows.release({ flowId: flow.id, counterSubject, refund, inFlight: true, events: [this.event(k.attemptEvent(flow, method, 'failure', { reason }))], now });
      throw e;
    };
    const policy = this.policy(claimed);
    let subject: ReturnType<KindHooks<R>['subject']>;
    try {
      subject = k.subject(claimed, m, policy);
    } catch (e) {
      if (e instanceof AppError) await refuse(String(e.detail?.reason ?? e.code), e);
      throw e;
    }
    const rules = lockoutRules(policy);
    if (claimed.counter) {
      const g = judge(claimed.counter, rules, now);
      if (!g.allowed) await refuse(g.reason, gateError(g));
    }
    const verdict = await m.verify({
      flow,
      subject: subject ?? { type: 'user', id: '', tenantId: flow.tenant_id },
      answer: a.answer,
      ceremony: flow.ceremony[slot] as CeremonySlot | undefined,
      loaded: claimed.loaded,
      policy,
      now,
    });
    const proven = verdict.proven ?? m.kind;
    const ctx: AttemptContext = { claimed, flow, policy, method: m, proven, verdict, now };
    if (!verdict.ok) {
      if (verdict.notCounted) {
        const refund = !verdict.spendsAttempt;
        const after = refund ? { ...flow, attempts_left: flow.attempts_left + 1 } : flow;
        await refuse(verdict.reason, k.failure({ flow, reason: verdict.reason, counted: !refund, method: proven, after }), proven, refund);
      }
      const failuresBefore = claimed.counter?.failures ?? 0;
      const failed = k.attemptEvent(flow, proven, 'failure', { reason: verdict.reason });
      await this.ports.flows.recordFailure({
        flowId: flow.id,
        counterSubject,
        lockUntil: lockAfterFailure(failuresBefore, rules, now),
        ...(verdict.ceremony === null ? { clearSlots: [slot] } : verdict.ceremony ? { setSlots: { [slot]: verdict.ceremony } } : {}),
        ...(verdict.effects?.length ? { effects: verdict.effects } : {}),
        events: [
          this.event(failed),
          // a credential flagged (a counter gone backwards) is a security event of its own
          ...(verdict.effects ?? []).flatMap((e) =>
            e.kind === 'flag_credential'
              ? [this.event({ tenantId: flow.tenant_id, type: 'factor.flagged', outcome: 'failure', actor: failed.actor, target: { type: 'factor', id: e.credentialId }, origin: failed.origin, data: { flag: e.flag, flowId: flow.id, subjectId: e.subjectId } })]
              : [],
          ),
        ],
        now,
      });
      const ceremony = { ...flow.ceremony };
      if (verdict.ceremony === null) delete ceremony[slot];
      else if (verdict.ceremony) ceremony[slot] = verdict.ceremony;
      throw k.failure({ flow, reason: verdict.reason, counted: true, method: proven, after: { ...flow, ceremony } });
    }
    if (verdict.already) {
      await this.ports.flows.release({ flowId: flow.id, counterSubject, refund: true, inFlight: true, events: [], now });
      return k.already(ctx);
    }
    const completed = flow.completed_methods.includes(proven) ? flow.completed_methods : [...flow.completed_methods, proven];
    const plan = await k.plan({ ...ctx, completed });
    const keepSlot = verdict.ceremony !== undefined && verdict.ceremony !== null;
    const recorded = await this.ports.flows.recordSuccess({
      id: flow.id,
      from: { state: flow.state, ...(a.secretHash ? { secretHash: a.secretHash } : {}), ...(plan.requireMethodAbsent ? { requireMethodAbsent: proven } : {}) },
      to: {
        state: plan.state,
        method: proven,
        ...(plan.secretHash !== undefined ? { secretHash: plan.secretHash } : {}),
        ...(plan.subject ? { subject: plan.subject } : {}),
        ...(plan.requiredLevel !== undefined ? { requiredLevel: plan.requiredLevel } : {}),
        ...(plan.resultId ? { resultId: plan.resultId } : {}),
        ...(plan.context ? { context: plan.context } : {}),
        clearSlots: [...(keepSlot || !m.slot && !flow.ceremony[slot] ? [] : [slot]), ...(plan.clearSlots ?? [])],
        setSlots: { ...(keepSlot ? { [slot]: verdict.ceremony } : {}), ...(plan.setSlots ?? {}) },
      },
      refund: true,
      counterSubject,
      effects: verdict.effects ?? [],
      events: [this.event(k.attemptEvent(flow, proven, 'success')), ...(plan.events ?? []).map((e) => this.event(e))],
      ...(plan.extra ? { extra: plan.extra } : {}),
      now,
    });
    if (!recorded) {
      // a race lost or an answer already spent: a replay, recorded as such, never a failure
      await refuse('replayed', k.failure({ flow, reason: 'replayed', counted: false, method: proven }), proven);
    }
    return k.done({ ...ctx, recorded: recorded!, plan });
  }
}
