/** The shapes the agent desktop reads from the API (see src/flows/verification.ts and src/http/routes/customers.ts). */

export type VerificationState = 'pending' | 'verified' | 'failed' | 'expired' | 'canceled';
export type CallerMethod = 'otp_sms' | 'otp_voice' | 'otp_email' | 'totp' | 'pin' | 'question';
/** A requirement of a level: a category or one method by name. */
export type Requirement = 'possession' | 'knowledge' | CallerMethod;

export interface AvailableContact {
  id: string;
  kind: 'phone' | 'email';
  masked: string;
  eligible: boolean;
  reason?: string;
}

export interface AvailableMethod {
  method: CallerMethod;
  contacts?: AvailableContact[];
}

export interface RiskSignal {
  signal: string;
  points: number;
  detail: string;
}

export interface Risk {
  score: number;
  level: 'low' | 'medium' | 'high';
  signals: RiskSignal[];
}

export interface LevelStatus {
  level: string;
  satisfied: boolean;
  alternatives: Array<{ requirements: Requirement[]; met: Requirement[]; missing: Requirement[] }>;
}

export interface VerificationView {
  id: string;
  customerId: string;
  interactionId: string;
  channel: 'agent' | 'ivr';
  state: VerificationState;
  level: string;
  requestedLevel: string;
  completedMethods: CallerMethod[];
  status: LevelStatus;
  available: AvailableMethod[];
  attemptsLeft: number;
  risk: Risk;
  expiresAt: string;
  verifiedAt: string | null;
  locale: string | null;
  /** Only on the response that verified the flow. */
  assertion?: string;
}

export interface MaskedContact {
  id: string;
  kind: 'phone' | 'email';
  value: string;
  label: string;
  verifiedAt: string | null;
  changedAt: string;
}

export interface CustomerSummary {
  id: string | null;
  externalId: string | null;
  name: string;
  accountNumber: string | null;
  contacts: MaskedContact[];
}

export interface Customer {
  id: string;
  externalId: string | null;
  name: string;
  accountNumber: string | null;
  nationalId: string | null;
  dateOfBirth: string | null;
  cardLast4: string | null;
  contacts: Array<MaskedContact & { createdAt: string }>;
  pinSet: boolean;
  totpSet: boolean;
  questions: Array<{ id: string; question: string }>;
  createdAt: string;
  updatedAt: string;
}

export interface CodeSent {
  sent: true;
  channel: 'sms' | 'voice' | 'email';
  contactId: string;
  destination: string;
  expiresAt: string;
  resendAvailableAt: string;
}

export const terminal = (s: VerificationState | undefined) => s !== undefined && s !== 'pending';
