/**
 * Caller verification: one persisted flow per interaction (call), started by an agent (or the IVR)
 * for a customer. The tenant's verification policy names the level; the flow shows which methods
 * are available, satisfied and missing, and the risk breakdown. States: pending -> verified |
 * failed | expired | canceled; terminal states stay readable (an expired flow says expired).
 * `failed` and `expired` are derived from the attempt budget and the expiry, as for sign-in flows.
 */
import { randomUUID } from 'node:crypto';
import { maskContact } from '../customers/masking.js';
import { normalizeLocale } from '../delivery/templates.js';
import { AppError, fail } from '../domain/errors.js';
import { evaluateLevel, type CallerMethod, type LevelStatus, type VerificationPolicy } from '../domain/verification-policy.js';
import { audit, eventRecord, type EventInput } from '../services/audit-log.js';
import { signAssertion } from '../services/assertions.js';
import type { Origin, Services } from '../services/context.js';
import { currentPolicy } from '../services/policies.js';
import type { Db } from '../storage/db.js';
import { AuditRepo } from '../storage/repositories/audit.js';
import { VerificationRepo, type VerificationRow } from '../storage/repositories/verifications.js';
import { assessRisk, withFailedAttempts, type Risk } from './verification-risk.js';

export type VerificationState = 'pending' | 'verified' | 'failed' | 'expired' | 'canceled';

/**
 * Who acts on a verification: an agent (user), the IVR (an API key), the Twilio voice webhook
 * (system, authenticated by Twilio's request signature) or the terminal IVR simulator (cli).
 */
export interface Actor {
  type: 'user' | 'api_key' | 'system' | 'cli';
  id: string;
}

export function verificationState(v: Pick<VerificationRow, 'state' | 'attempts_left' | 'expires_at'>, now: Date): VerificationState {
  if (v.state !== 'pending') return v.state;
  if (v.expires_at <= now) return 'expired';
  if (v.attempts_left <= 0) return 'failed';
  return 'pending';
}

export interface AvailableMethod {
  method: CallerMethod;
  /** For codes: the on-file contacts that may receive one, by id and masked value. */
  contacts?: Array<{ id: string; kind: 'phone' | 'email'; masked: string; eligible: boolean; reason?: string }>;
}

export interface VerificationView {
  id: string;
  customerId: string;
  interactionId: string;
  channel: 'agent' | 'ivr';
  state: VerificationState;
  level: string;
  requestedLevel: string;
  completedMethods: string[];
  status: LevelStatus;
  available: AvailableMethod[];
  attemptsLeft: number;
  risk: Risk;
  expiresAt: string;
  verifiedAt: string | null;
  locale: string | null; // of the flow's messages; null: the tenant's default
  assertion?: string;
}

const DAY = 86_400_000;

/**
 * A contact counts as recently changed when it was added or changed after the customer record was
 * created (a first binding, e.g. a bulk import, is not a change) and within the policy window.
 */
export function recentlyChanged(c: { changed_at: Date }, customerCreatedAt: Date, policy: VerificationPolicy, now: Date): boolean {
  return c.changed_at.getTime() > customerCreatedAt.getTime() + 1000 && now.getTime() - c.changed_at.getTime() < policy.contactChangeWindowDays * DAY;
}

export async function verificationPolicy(s: Services, tenantId: string): Promise<VerificationPolicy> {
  return (await currentPolicy(s, tenantId)).policy.verification;
}

/** Methods this customer can use now, with the contacts eligible for codes. */
export async function availableMethods(s: Services, v: Pick<VerificationRow, 'customer_id' | 'tenant_id'>, policy: VerificationPolicy, now: Date): Promise<AvailableMethod[]> {
  const customer = await s.store.customers.byId(v.tenant_id, v.customer_id);
  const contacts = await s.store.customers.contacts(v.customer_id);
  const described = contacts.map((c) => {
    const recent = customer ? recentlyChanged(c, customer.created_at, policy, now) : true;
    return { id: c.id, kind: c.kind as 'phone' | 'email', masked: maskContact(c.kind as 'phone' | 'email', c.value), eligible: !recent, ...(recent ? { reason: 'changed recently' } : {}) };
  });
  const phones = described.filter((c) => c.kind === 'phone');
  const emails = described.filter((c) => c.kind === 'email');
  const out: AvailableMethod[] = [];
  if (phones.length) out.push({ method: 'otp_sms', contacts: phones }, { method: 'otp_voice', contacts: phones });
  if (emails.length) out.push({ method: 'otp_email', contacts: emails });
  if (await s.store.customerFactors.active(v.customer_id, 'totp')) out.push({ method: 'totp' });
  if (await s.store.customers.pinHash(v.customer_id)) out.push({ method: 'pin' });
  if ((await s.store.customers.questions(v.customer_id)).length) out.push({ method: 'question' });
  return out;
}

export async function view(s: Services, v: VerificationRow, extra: { assertion?: string } = {}): Promise<VerificationView> {
  const now = s.clock();
  const policy = await verificationPolicy(s, v.tenant_id);
  const status = policy.levels[v.level] ? evaluateLevel(policy, v.level, v.completed_methods as CallerMethod[]) : { level: v.level, satisfied: false, alternatives: [] };
  const state = verificationState(v, now);
  return {
    id: v.id,
    customerId: v.customer_id,
    interactionId: v.interaction_id,
    channel: v.channel,
    state,
    level: v.level,
    requestedLevel: v.requested_level,
    completedMethods: v.completed_methods,
    status,
    available: state === 'pending' ? await availableMethods(s, v, policy, now) : [],
    attemptsLeft: Math.max(0, v.attempts_left),
    risk: withFailedAttempts(v.risk as Risk, Math.max(0, policy.attempts - v.attempts_left)),
    expiresAt: v.expires_at.toISOString(),
    verifiedAt: v.verified_at?.toISOString() ?? null,
    locale: v.locale,
    ...extra,
  };
}

export async function startVerification(
  s: Services,
  a: { tenantId: string; customerId: string; interactionId: string; level?: string; channel: 'agent' | 'ivr'; actor: Actor; callerAni?: string | null; attestation?: 'A' | 'B' | 'C' | null; locale?: string | null; origin: Origin },
): Promise<VerificationView> {
  const locale = a.locale ? (normalizeLocale(a.locale) ?? fail('invalid_request', { field: 'locale' }, 'Not a language tag (en, es, fr-CA).')) : null;
  const customer = await s.store.customers.byId(a.tenantId, a.customerId);
  if (!customer) throw new AppError('not_found');
  const policy = await verificationPolicy(s, a.tenantId);
  const requested = a.level ?? policy.defaultLevel;
  if (!policy.levels[requested]) throw new AppError('invalid_request', { level: requested }, 'No such verification level.');
  const now = s.clock();
  const contacts = await s.store.customers.contacts(a.customerId);
  const hourAgo = new Date(now.getTime() - 3_600_000);
  const ani = a.callerAni ?? null;
  const risk = assessRisk({
    callerAni: ani,
    attestation: a.attestation ?? null,
    onFilePhones: contacts.filter((c) => c.kind === 'phone').map((c) => c.value),
    recentlyChangedContacts: contacts.filter((c) => recentlyChanged(c, customer.created_at, policy, now)).length,
    verificationsForCustomerLastHour: await s.store.verifications.countSince(a.tenantId, a.customerId, hourAgo),
    verificationsFromAniLastHour: ani ? await s.store.verifications.countFromAni(a.tenantId, ani, hourAgo) : 0,
    failedAttempts: 0,
  });
  const level = risk.score >= policy.risk.stepUpAtScore ? policy.risk.highLevel : requested;
  const id = randomUUID();
  const row = {
    id,
    tenant_id: a.tenantId,
    customer_id: a.customerId,
    interaction_id: a.interactionId,
    channel: a.channel,
    started_by_type: a.actor.type,
    started_by_id: a.actor.id,
    level,
    requested_level: requested,
    state: 'pending' as const,
    attempts_left: policy.attempts,
    risk,
    caller_ani: ani,
    locale,
    created_at: now,
    updated_at: now,
    expires_at: new Date(now.getTime() + policy.flowTtlMinutes * 60_000),
  };
  const started = eventRecord(s, {
    tenantId: a.tenantId,
    type: 'verification.started',
    outcome: 'info',
    actor: a.actor,
    target: { type: 'verification', id },
    origin: a.origin,
    data: { customerId: a.customerId, interactionId: a.interactionId, level, requestedLevel: requested, riskScore: risk.score, steppedUp: level !== requested },
  });
  // the flow and its event together: a crash never leaves a flow nobody was told about and the log does not show
  const v = await s.store.db.transaction().execute(async (trx) => {
    const created = await new VerificationRepo(trx).create(row);
    await new AuditRepo(trx).append(started);
    return created;
  });
  return view(s, v);
}

export async function getVerification(s: Services, tenantId: string, id: string): Promise<VerificationView> {
  const v = await s.store.verifications.byId(tenantId, id);
  if (!v) throw new AppError('not_found');
  return view(s, v);
}

export async function cancelVerification(s: Services, a: { tenantId: string; id: string; actor: Actor; origin: Origin }): Promise<VerificationView> {
  const v = await s.store.verifications.cancel(a.tenantId, a.id, s.clock());
  if (!v) {
    const current = await s.store.verifications.byId(a.tenantId, a.id);
    if (!current) throw new AppError('not_found');
    throw new AppError('flow_state', { state: verificationState(current, s.clock()) }, 'This verification is already over.');
  }
  await audit(s, { tenantId: a.tenantId, type: 'verification.canceled', outcome: 'info', actor: a.actor, target: { type: 'verification', id: a.id }, origin: a.origin });
  return view(s, v);
}

/** Claims one attempt of a pending verification's budget; throws with the right error otherwise. */
export async function claimVerificationAttempt(s: Services, a: { tenantId: string; id: string; actor: Actor; method: string; origin: Origin }): Promise<VerificationRow> {
  const now = s.clock();
  const v = await s.store.verifications.claimAttempt(a.tenantId, a.id, now);
  if (!v) {
    const current = await s.store.verifications.byId(a.tenantId, a.id);
    if (!current) throw new AppError('not_found');
    const state = verificationState(current, now);
    if (state === 'expired') throw new AppError('flow_expired', { state }, 'This verification expired; start a new one.');
    throw new AppError('flow_state', { state }, 'This verification is already over.');
  }
  if (v.attempts_left < 0) {
    await stepEvent(s, v, a, 'failure', { reason: 'max_attempts' });
    throw new AppError('too_many_attempts', { state: 'failed', reason: 'max_attempts' }, 'Too many failed attempts; this verification has failed.');
  }
  return v;
}

export function stepEvent(s: Services, v: VerificationRow, a: { actor: Actor; method: string; origin: Origin }, outcome: 'success' | 'failure', data: Record<string, unknown> = {}) {
  return audit(s, stepEventInput(v, a, outcome, data));
}

function stepEventInput(v: VerificationRow, a: { actor: Actor; method: string; origin: Origin }, outcome: 'success' | 'failure', data: Record<string, unknown> = {}): EventInput {
  return {
    tenantId: v.tenant_id,
    type: 'verification.step',
    outcome,
    actor: a.actor,
    target: { type: 'verification', id: v.id },
    origin: a.origin,
    data: { method: a.method, customerId: v.customer_id, interactionId: v.interaction_id, ...data },
  };
}

/** Records a completed method; when the level is then satisfied, marks the flow verified and signs the assertion. */
export async function completeMethod(s: Services, v: VerificationRow, a: { actor: Actor; method: CallerMethod; origin: Origin }): Promise<VerificationView> {
  return (await completeMethodSpending(s, v, a))!;
}

/**
 * `completeMethod` that first spends what the method used up (`spend`, e.g. a one-time code) in the
 * same transaction; undefined, with nothing written, when `spend` finds it already spent. The spend,
 * the method, the verified state and their audit events are committed together, so a crash or a
 * lost database connection never leaves a code spent without its method, a level met without the
 * verified state, or a verified flow without its event.
 */
export async function completeMethodSpending(
  s: Services,
  v: VerificationRow,
  a: { actor: Actor; method: CallerMethod; origin: Origin },
  spend?: (trx: Db) => Promise<boolean>,
): Promise<VerificationView | undefined> {
  const now = s.clock();
  const policy = await verificationPolicy(s, v.tenant_id);
  const satisfied = (methods: string[]) => evaluateLevel(policy, v.level, methods as CallerMethod[]).satisfied;
  const sign = async (methods: string[]) => {
    const customer = await s.store.customers.byId(v.tenant_id, v.customer_id);
    const tenant = await s.store.tenants.byId(v.tenant_id);
    const signed = await signAssertion(s, {
      tenantId: v.tenant_id,
      tenantSlug: tenant?.slug ?? '',
      customerId: v.customer_id,
      externalId: customer?.external_id ?? null,
      interactionId: v.interaction_id,
      verificationId: v.id,
      methods,
      level: v.level,
      verifiedAt: now,
    });
    return { ...signed, methods };
  };
  // What the flow will hold once the method is added (`v` is the row the attempt claim returned).
  // When that meets the level the assertion is signed before the transaction, which then holds its
  // connection for its own statements only (the tenant's key may have to be read or created).
  const expected = v.completed_methods.includes(a.method) ? v.completed_methods : [...v.completed_methods, a.method];
  let signed = satisfied(expected) ? await sign(expected) : undefined;
  const written = await s.store.db.transaction().execute(async (trx) => {
    if (spend && !(await spend(trx))) return undefined;
    const repo = new VerificationRepo(trx);
    const updated = (await repo.addMethod(v.id, a.method, now)) ?? v;
    const events: EventInput[] = [stepEventInput(updated, a, 'success')];
    let done: VerificationRow | undefined;
    const met = satisfied(updated.completed_methods);
    if (met) {
      if (!signed || signed.methods.join() !== updated.completed_methods.join()) signed = await sign(updated.completed_methods);
      done = await repo.markVerified(v.id, signed.jti, now);
      if (done) {
        events.push({
          tenantId: v.tenant_id,
          type: 'verification.verified',
          outcome: 'success',
          actor: a.actor,
          target: { type: 'verification', id: v.id },
          origin: a.origin,
          data: { customerId: v.customer_id, interactionId: v.interaction_id, level: done.level, methods: done.completed_methods, assertionId: signed.jti },
        });
      }
    }
    await new AuditRepo(trx).append(events.map((e) => eventRecord(s, e)));
    return { updated, done, met };
  });
  if (!written) return undefined;
  if (written.done && signed) return view(s, written.done, { assertion: signed.jwt });
  if (!written.met) return view(s, written.updated);
  return view(s, (await s.store.verifications.byId(v.tenant_id, v.id)) ?? written.updated);
}
