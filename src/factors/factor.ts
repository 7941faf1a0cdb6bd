/**
 * The factor plug-in interface shared by staff sign-in and caller verification. A factor declares
 * what it is (category, the assurance it can reach, phishing resistance) and knows how to verify a
 * response; factors that send something implement `start`, factors that bind a secret implement
 * `enroll`. Throttling, attempt budgets and audit are the flow's job, not the factor's.
 */
export type FactorCategory = 'knowledge' | 'possession' | 'inherence';

export interface FactorTraits {
  /** Stable method name recorded on flows and sessions ("pwd", "totp", "recovery_code", ...). */
  kind: string;
  category: FactorCategory;
  /** The highest authenticator assurance level this factor can contribute to (NIST AAL). */
  aal: 1 | 2 | 3;
  phishingResistant: boolean;
  /** NIST "restricted" authenticators (SMS, voice). */
  restricted: boolean;
  label: string;
}

/** Whose factor: a staff user or (with caller verification) a customer. */
export interface Subject {
  tenantId: string;
  type: 'user' | 'customer';
  id: string;
}

export type VerifyResult =
  | { ok: true; detail?: Record<string, unknown> }
  | { ok: false; reason: 'wrong' | 'replayed' | 'malformed' | 'not_enrolled' };

export interface EnrollmentStart {
  pendingId: string;
  /** What the user needs to finish enrolling (URI, QR code, ...); shown once. */
  display: Record<string, unknown>;
}

export interface FactorEnrollment {
  begin(subject: Subject, opts: { label?: string; account: string; now: Date }): Promise<EnrollmentStart>;
  confirm(subject: Subject, pendingId: string, response: string, now: Date): Promise<VerifyResult>;
}

export interface Factor extends FactorTraits {
  verify(subject: Subject, response: string, now: Date): Promise<VerifyResult>;
  start?(subject: Subject, now: Date): Promise<Record<string, unknown>>;
  enroll?: FactorEnrollment;
}

/** Strips the spaces, dashes and dots people type into codes. */
export const normalizeCode = (raw: string): string => raw.normalize('NFKC').replace(/[\s\-.]/g, '');
