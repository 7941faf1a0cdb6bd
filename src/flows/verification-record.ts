/**
 * A caller verification as its flow record reads to the agent desktop, the IVR and the API: states
 * pending -> verified | failed | expired | canceled (failed and expired derived and final), the
 * level's status (satisfied / missing), the available methods with the on-file contacts (masked),
 * attempts left and the risk breakdown. Pure: everything comes from what the claim read.
 */
import { maskContact } from '../customers/masking.js';
import { evaluateLevel, type CallerMethod, type LevelStatus, type VerificationPolicy } from '../domain/verification-policy.js';
import type { MethodRegistry } from '../engine/registry.js';
import { derivedState, failedAttempts, type FlowRecord } from '../engine/flow.js';
import type { CustomerOverview } from '../storage/repositories/flow-claims.js';
import { withFailedAttempts, type Risk } from './verification-risk.js';

export type VerificationState = 'pending' | 'verified' | 'failed' | 'expired' | 'canceled';

/** Who acts on a verification: an agent (user), the IVR (an API key), the Twilio voice webhook (system) or the terminal IVR simulator (cli). */
export interface Actor {
  type: 'user' | 'api_key' | 'system' | 'cli';
  id: string;
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

export function verificationState(f: Pick<FlowRecord, 'state' | 'attempts_left' | 'expires_at'>, now: Date): VerificationState {
  const s = derivedState(f, now);
  return s === 'completed' ? 'verified' : (s as VerificationState);
}

const DAY = 86_400_000;

/**
 * A contact counts as recently changed when it was changed within the policy window — also right
 * after the customer record was created, unless it was bound when the record was (a first binding,
 * e.g. a bulk import, is not a change: same moment as the customer's creation).
 */
export function recentlyChanged(c: { changedAt: Date }, customerCreatedAt: Date, policy: VerificationPolicy, now: Date): boolean {
  return c.changedAt.getTime() > customerCreatedAt.getTime() && now.getTime() - c.changedAt.getTime() < policy.contactChangeWindowDays * DAY;
}

/** The method registry as a verification reads it: which methods serve customers, and each one's traits. */
export type CallerMethods = Pick<MethodRegistry, 'kinds' | 'get' | 'categoryOf'>;

/**
 * Methods this customer can use now (each method says whether it is available to the customer), in
 * the registry's order, with the on-file contacts a code method can send to (eligible or why not).
 */
export function availableMethods(methods: CallerMethods, c: CustomerOverview | undefined, policy: VerificationPolicy, now: Date): AvailableMethod[] {
  if (!c) return [];
  const described = c.contacts.map((x) => {
    const recent = recentlyChanged(x, c.createdAt, policy, now);
    return { id: x.id, kind: x.kind, masked: maskContact(x.kind, x.value), eligible: !recent, ...(recent ? { reason: 'changed recently' } : {}) };
  });
  const facts = { credentialKinds: c.credentialKinds, hasPin: c.hasPin, questionCount: c.questionCount, contactKinds: [...new Set(c.contacts.map((x) => x.kind))] };
  return methods
    .kinds('customer')
    .filter((kind) => methods.get(kind)!.available(facts))
    .map((kind) => {
      const m = methods.get(kind)!;
      // a method that sends a challenge out of band names where it can go
      if (m.slot !== 'otp') return { method: kind as CallerMethod };
      const wants = kind === 'otp_email' ? 'email' : 'phone';
      return { method: kind as CallerMethod, contacts: described.filter((x) => x.kind === wants) };
    });
}

export const ctx = (f: FlowRecord) => f.context as { channel?: 'agent' | 'ivr'; startedBy?: Actor; risk?: Risk; locale?: string | null };

/** `methods` is the registry (a method's category and availability are its own). */
export function view(f: FlowRecord, policy: VerificationPolicy, methods: CallerMethods, customer: CustomerOverview | undefined, now: Date, extra: { assertion?: string } = {}): VerificationView {
  const state = verificationState(f, now);
  const c = ctx(f);
  const status = policy.levels[f.required_level] ? evaluateLevel(policy, f.required_level, f.completed_methods, methods.categoryOf) : { level: f.required_level, satisfied: false, alternatives: [] };
  return {
    id: f.id,
    customerId: f.subject_id!,
    interactionId: f.interaction_id ?? '',
    channel: c.channel ?? 'agent',
    state,
    level: f.required_level,
    requestedLevel: f.requested_level ?? f.required_level,
    completedMethods: f.completed_methods,
    status,
    available: state === 'pending' ? availableMethods(methods, customer, policy, now) : [],
    attemptsLeft: Math.max(0, f.attempts_left),
    // failed attempts from the flow's own initial budget, not the policy in force now
    risk: withFailedAttempts(c.risk ?? { score: 0, level: 'low', signals: [] }, failedAttempts(f)),
    expiresAt: f.expires_at.toISOString(),
    verifiedAt: f.completed_at?.toISOString() ?? null,
    locale: c.locale ?? null,
    ...extra,
  };
}
