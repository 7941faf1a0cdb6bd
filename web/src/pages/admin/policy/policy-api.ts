/** The tenant policy document and the three calls the editors use: read, preview (who it affects), save. */
import { api, seg } from '../../../lib/api';
import type { MfaMode } from '../tenants/mfa-modes';
import type { Assurance, StepUpAction } from './step-up-policy';

export type Requirement = 'possession' | 'knowledge' | 'otp_sms' | 'otp_voice' | 'otp_email' | 'totp' | 'pin' | 'question';

export interface VerificationLevel {
  description: string;
  anyOf: Requirement[][];
}

/** As the server answers it (every default filled in); drafts may hold values the server will refuse. */
export interface PolicyDoc {
  mfa: {
    mode: MfaMode;
    roles: Record<string, MfaMode>;
    allowedFactors: string[];
    grace: { days: number | null; signins: number | null };
  };
  /** Security keys and passkeys (allowed when mfa.allowedFactors lists 'webauthn'). */
  webauthn: { passwordless: boolean; userVerification: 'required' | 'preferred' | 'discouraged'; allowedModels: string[] };
  /** What a session must have proven before each sensitive action (step-up). */
  stepUp: Record<StepUpAction, Assurance>;
  session: { idleMinutes: number; absoluteMinutes: number; reauthMinutes: number };
  lockout: { maxConsecutiveFailures: number; backoffAfter: number; backoffBaseSeconds: number; backoffMaxSeconds: number };
  pciMode: boolean;
  verification: {
    levels: Record<string, VerificationLevel>;
    defaultLevel: string;
    contactChangeWindowDays: number;
    code: { digits: number; ttlMinutes: number; maxChecks: number; sendsPerDestinationPer10Min: number; resendCooldownSeconds: number };
    limits: { sendsPerAgentPerMinute: number; sendsPerTenantPerMinute: number };
    flowTtlMinutes: number;
    attempts: number;
    risk: { stepUpAtScore: number; highLevel: string };
  };
}

export interface PolicyRead {
  version: number;
  policy: PolicyDoc;
}

export interface PolicyPreview {
  users: number;
  mfaRequiredNow: number;
  mfaRequiredAfter: number;
  mustEnroll: Array<{ id: string; email: string }>;
}

const base = (tenant: string) => `/v1/tenants/${seg(tenant)}/policy`;

export const readPolicy = (tenant: string, signal?: AbortSignal) => api.get<PolicyRead>(base(tenant), { signal });
export const previewPolicy = (tenant: string, policy: unknown) => api.post<PolicyPreview>(`${base(tenant)}/preview`, { policy });
export const savePolicy = (tenant: string, version: number, policy: unknown) => api.put<PolicyRead>(base(tenant), { version, policy });

/** A copy of `doc` with the value at `path` replaced (the draft is never mutated). */
export function setIn<T>(doc: T, path: readonly (string | number)[], value: unknown): T {
  if (path.length === 0) return value as T;
  const [head, ...rest] = path;
  const src = (doc ?? {}) as Record<string | number, unknown>;
  const copy: Record<string | number, unknown> = Array.isArray(src) ? ([...src] as unknown as Record<number, unknown>) : { ...src };
  copy[head!] = setIn(src[head!], rest, value);
  return copy as T;
}

/** The value at `path`, or undefined. */
export function getIn(doc: unknown, path: readonly (string | number)[]): unknown {
  let cur = doc;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}
