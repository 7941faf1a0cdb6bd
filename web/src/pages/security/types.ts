/** Shapes of the self-service API (GET /v1/me/factors, /v1/me/sessions, /v1/me/activity). */
export interface Factor {
  id: string;
  kind: string;
  label: string;
  createdAt?: string;
  lastUsedAt?: string | null;
  /** Recovery codes: how many are still unused. */
  remaining?: number;
}

export interface SessionRow {
  id: string;
  current: boolean;
  aal: number;
  methods: string[];
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  ip: string | null;
  userAgent: string | null;
}

export interface ActivityEvent {
  id: number | string;
  type: string;
  outcome: string;
  at: string;
  ip?: string | null;
  userAgent?: string | null;
  /** Sign-ins: the methods used; failed attempts: the method tried; factor changes: the kind. */
  methods?: string[];
  /** Failed attempts: why (wrong_password, locked, ...). */
  reason?: string;
}

export const RECOVERY_CODE_COUNT = 10;
