/**
 * The one method interface. A method is a way to prove something (a password, an authenticator
 * code, a code sent to an on-file contact, a PIN...). It declares its traits (the only place they
 * are written), which subjects it serves, the zod schema of its answer, what the claim statement
 * must read for it, and how to verify an answer given the flow's ceremony slot. It never writes:
 * what a success must persist (a TOTP step spent, a recovery code used, a credential activated)
 * comes back as `effects`, which the engine writes in the statement that records the success, so
 * a replay loses atomically. Throttling, budgets, audit and sessions are the engine's job.
 */
import type { z } from 'zod';
import type { ErrorReason } from '../domain/errors.js';
import type { Policy } from '../domain/policy.js';
import type { FlowRecord } from './flow.js';

export type SubjectType = 'user' | 'customer';
export type MethodCategory = 'knowledge' | 'possession' | 'inherence';

export interface MethodTraits {
  category: MethodCategory;
  /** The highest authenticator assurance level the method can contribute to (NIST AAL). */
  aal: 1 | 2 | 3;
  phishingResistant: boolean;
  /** NIST "restricted" authenticators (SMS, voice). */
  restricted: boolean;
  /** A multi-factor authenticator (a key or passkey that verified its user by PIN or biometrics): counts as two factors. */
  multiFactor?: boolean;
  label: string;
}

/** What the claim statement reads for a method (storage turns each into part of that statement). */
export type Need = 'account' | 'credential' | 'pending_credential' | 'pin' | 'questions' | 'named_credential';

export interface Account {
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

/** What the claim read for the flow's subject. */
export interface Loaded {
  account?: Account;
  /** The subject's active credential of the method's kind (or the pending one the ceremony names). */
  credential?: {
    id: string;
    material: Buffer | null;
    status: string;
    /** Unused look-up secrets (recovery codes), as stored digests. */
    codes?: Buffer[];
    /** TOTP steps of the subject used in the last minutes (the replay ledger). */
    usedSteps?: number[];
    /** The credential an answer names ('named_credential': a security key's credential ID): its subject, counter and public facts. */
    subjectId?: string;
    externalId?: string;
    signCount?: number;
    meta?: Record<string, unknown>;
  };
  pinHash?: string | null;
  questions?: Array<{ id: string; question: string; answerHash: string }>;
}

/** A write a success needs, done in the same statement as the flow's advance; a spent one fails it. */
export type Effect =
  | { kind: 'totp_step'; subjectId: string; step: number; credentialId: string }
  | { kind: 'recovery_code'; subjectId: string; credentialId: string; codeHash: Buffer }
  | { kind: 'activate_credential'; credentialId: string; subjectId: string }
  /** A new credential bound by a registration ceremony (a security key); fails if its external id is taken. */
  | { kind: 'create_credential'; id: string; tenantId: string; subjectType: SubjectType; subjectId: string; credentialKind: string; label: string; material: Buffer; externalId: string; signCount: number; meta: Record<string, unknown> }
  /** A use of a counted authenticator: the new signature counter, only if the stored one is still `from` (a parallel use loses). */
  | { kind: 'sign_count'; credentialId: string; subjectId: string; from: number; to: number; meta?: Record<string, unknown> }
  /** A warning on a credential (a counter that went backwards: a cloned key?), written with the failure. */
  | { kind: 'flag_credential'; credentialId: string; subjectId: string; flag: string };

export type CeremonySlot = Record<string, unknown>;

export type Verdict =
  | {
      ok: true;
      effects?: Effect[];
      /** The slot's new value (null: cleared); absent: cleared when the method has a slot. */
      ceremony?: CeremonySlot | null;
      /** The method proven, when one check serves several (a code's channel: otp_sms, otp_voice, otp_email). */
      proven?: string;
      /** The right answer again, already recorded on this flow: nothing to do, nothing counted. */
      already?: boolean;
      detail?: Record<string, unknown>;
    }
  | {
      ok: false;
      /** Registered reason (src/domain/errors.ts reasons). */
      reason: ErrorReason;
      /** Not a wrong answer (a right answer already used, nothing to check): refunded, never counted. */
      notCounted?: boolean;
      /** With notCounted: the flow's attempt stays spent (a replay inside a flow is evidence). */
      spendsAttempt?: boolean;
      /** The slot's new value after the failure (null: cleared); absent: unchanged. */
      ceremony?: CeremonySlot | null;
      proven?: string;
      /** Writes that go with the failure (a credential flagged); never guards. */
      effects?: Effect[];
    };

export interface VerifyInput<A> {
  flow: FlowRecord;
  subject: { type: SubjectType; id: string; tenantId: string };
  answer: A;
  /** This method's ceremony slot on the flow (server-held challenge data), if any. */
  ceremony: CeremonySlot | undefined;
  loaded: Loaded;
  policy: Policy;
  now: Date;
}

/** What a method's availability is judged on: what is known of the subject (from the claim's read). */
export interface SubjectFacts {
  /** Kinds of the subject's active credentials ('totp', 'recovery_code', ...). */
  credentialKinds: readonly string[];
  /** Staff: a password is set. */
  hasPassword?: boolean;
  /** Customers: a PIN is set, security questions on file, on-file contacts by kind. */
  hasPin?: boolean;
  questionCount?: number;
  contactKinds?: readonly ('phone' | 'email')[];
}

export interface ChallengeInput {
  flow: FlowRecord;
  policy: Policy;
  now: Date;
  /** This method's ceremony slot now. */
  ceremony: CeremonySlot | undefined;
  loaded: Loaded;
  /** What the challenge is for, by method: a code's contact and channel. */
  params: Record<string, unknown>;
}

/** A server-held challenge: kept in the flow's ceremony slot, never sent; what goes out is `deliver` or `show`. */
export interface Challenge {
  ceremony: CeremonySlot;
  /** A secret to deliver out of band through the outbox (a one-time code), never shown to whoever asked. */
  deliver?: { secret: string; expiresAt: Date };
  /** What to show whoever asked (a security question's text). */
  show?: Record<string, unknown>;
  /** Where the answer comes from: the client that asked, or a device or another party (the flow then awaits it). */
  answerFrom: 'client' | 'device';
}

/** Binding a new credential of the method's kind (a pending one, confirmed by its first answer). */
export interface MethodEnrollment<D = unknown, R = unknown> {
  begin(subject: { tenantId: string; type: SubjectType; id: string }, o: { account: string; issuer?: string; label?: string; now: Date }): Promise<{ pendingId: string; display: D }>;
  confirm(subject: { tenantId: string; type: SubjectType; id: string }, pendingId: string, answer: R, now: Date): Promise<{ ok: true; credentialId: string } | { ok: false; reason: ErrorReason }>;
}

export interface Method<A = unknown> {
  /** Stable name recorded on flows, sessions and events ("pwd", "totp", "otp_sms", ...). */
  kind: string;
  traits: MethodTraits;
  subjects: readonly SubjectType[];
  answer: z.ZodType<A>;
  /** Whose failure counter an attempt goes on: the typed identifier (password) or the subject. */
  counter: 'identifier' | 'subject';
  /** The ceremony slot this method uses (methods of one family may share one, e.g. the code channels). */
  slot?: string;
  needs: readonly Need[];
  /** With the 'named_credential' need: which credential an answer names (read by the claim). */
  credentialRef?(answer: A): string | undefined;
  /**
   * The kinds a success may record instead of `kind`, with their own traits (what a security key
   * proved: with or without user verification, device-bound or synced). Never submitted directly.
   */
  variants?: Record<string, MethodTraits>;
  /** Whether the subject can use the method at all (a password or PIN set, a credential bound, a contact on file). */
  available(subject: SubjectFacts): boolean;
  /** The server-held challenge, for methods that have one (a code to send, a question to ask). */
  challenge?(input: ChallengeInput): Challenge;
  verify(input: VerifyInput<A>): Promise<Verdict>;
  /** Binding a new credential, for methods that bind one (an authenticator app). */
  enrollment?: MethodEnrollment;
}
