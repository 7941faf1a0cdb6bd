/**
 * Tenant security policy as data: MFA mode (off / optional / required) with per-role overrides, the
 * factor types allowed, an enrollment grace period, session timeouts, lockout and PCI mode.
 * Validated when saved (`parsePolicy`); `effectiveFor` resolves it for one user.
 */
import { z } from 'zod';
import { verificationPolicySchema } from './verification-policy.js';

export const mfaModes = ['off', 'optional', 'required'] as const;
export type MfaMode = (typeof mfaModes)[number];
/** Second-factor kinds a tenant can allow for staff (more arrive with later factors). */
/** otp_sms / otp_voice: NIST "restricted" codes to a number the user verified (never the top level). */
export const staffFactorKinds = ['totp', 'webauthn', 'otp_sms', 'otp_voice', 'recovery_code'] as const;

/** What a sensitive action asks of the session: its assurance level, a phishing-resistant method, an authentication at most this old. */
const assurance = z
  .object({
    aal: z.union([z.literal(1), z.literal(2), z.literal(3)]).default(1),
    phishingResistant: z.boolean().default(false),
    maxAgeMinutes: z.number().int().min(1).max(24 * 60).nullable().default(null),
  })
  .strict();
export type Assurance = z.output<typeof assurance>;
const ASSURANCE_NONE: Assurance = { aal: 1, phishingResistant: false, maxAgeMinutes: null };

export const policySchema = z
  .object({
    mfa: z
      .object({
        mode: z.enum(mfaModes).default('optional'),
        /** Per-role override of the mode; a user with several overridden roles gets the strictest. */
        roles: z.record(z.string().min(1).max(64), z.enum(mfaModes)).default({}),
        allowedFactors: z.array(z.enum(staffFactorKinds)).min(1).default(['totp', 'recovery_code']),
        /** How long a user who must enroll may still sign in without a second factor. */
        grace: z
          .object({
            days: z.number().int().min(0).max(365).nullable().default(null),
            signins: z.number().int().min(0).max(1000).nullable().default(null),
          })
          .strict()
          .default({ days: null, signins: null }),
      })
      .strict()
      .default({ mode: 'optional', roles: {}, allowedFactors: ['totp', 'recovery_code'], grace: { days: null, signins: null } }),
    session: z
      .object({
        idleMinutes: z.number().int().min(1).max(7 * 24 * 60).default(60),
        absoluteMinutes: z.number().int().min(5).max(30 * 24 * 60).default(24 * 60),
        /** Adding or removing a factor needs an authentication newer than this. */
        reauthMinutes: z.number().int().min(1).max(24 * 60).default(10),
      })
      .strict()
      .default({ idleMinutes: 60, absoluteMinutes: 24 * 60, reauthMinutes: 10 }),
    lockout: z
      .object({
        /** Consecutive failures after which a factor is disabled until an admin resets it (NIST: at most 100). */
        maxConsecutiveFailures: z.number().int().min(3).max(100).default(100),
        /** Failures allowed before each further attempt must wait. */
        backoffAfter: z.number().int().min(1).max(100).default(5),
        backoffBaseSeconds: z.number().int().min(0).max(3600).default(1),
        backoffMaxSeconds: z.number().int().min(0).max(86_400).default(300),
      })
      .strict()
      .default({ maxConsecutiveFailures: 100, backoffAfter: 5, backoffBaseSeconds: 1, backoffMaxSeconds: 300 }),
    /** Security keys and passkeys (allowed as a second factor by listing 'webauthn' in mfa.allowedFactors). */
    webauthn: z
      .object({
        /** Signing in with a passkey alone (a discoverable credential that verifies its user): no password. */
        passwordless: z.boolean().default(true),
        /** Whether a key must verify its user (PIN or biometrics) when used as a second factor; passwordless always requires it. */
        userVerification: z.enum(['required', 'preferred', 'discouraged']).default('preferred'),
        /**
         * Only these key models (AAGUIDs of the uploaded FIDO metadata) may be registered; empty: any.
         * When set, registration asks for direct attestation and a key must prove its model with a
         * full attestation that verifies against the model's attestation roots.
         */
        allowedModels: z.array(z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be an AAGUID in lower case (8-4-4-4-12 hex digits)')).max(200).default([]),
      })
      .strict()
      .default({ passwordless: true, userVerification: 'preferred', allowedModels: [] }),
    /**
     * Step-up: what a session must have proven, and how recently, before a sensitive action
     * (revealing a masked customer field, approving a factor reset, changing this policy). Unmet, the
     * API answers `step_up_required` naming what is missing, and a step-up flow asks only for that.
     */
    stepUp: z
      .object({ reveal: assurance, factorReset: assurance, policyChange: assurance })
      .strict()
      .default({ reveal: ASSURANCE_NONE, factorReset: ASSURANCE_NONE, policyChange: ASSURANCE_NONE }),
    /** PCI DSS mode: lock after 10 failures for 30 minutes, 12-character passwords with letters and digits, no reuse of the last 4, idle timeout at most 15 minutes. */
    pciMode: z.boolean().default(false),
    /** Caller verification: levels, code rules, send limits, risk step-up (src/domain/verification-policy.ts). */
    verification: verificationPolicySchema.prefault({}),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.session.absoluteMinutes < p.session.idleMinutes)
      ctx.addIssue({ code: 'custom', path: ['session', 'absoluteMinutes'], message: 'must be at least idleMinutes' });
    if (p.lockout.backoffMaxSeconds < p.lockout.backoffBaseSeconds)
      ctx.addIssue({ code: 'custom', path: ['lockout', 'backoffMaxSeconds'], message: 'must be at least backoffBaseSeconds' });
    if (p.mfa.allowedFactors.length === 1 && p.mfa.allowedFactors[0] === 'recovery_code')
      ctx.addIssue({ code: 'custom', path: ['mfa', 'allowedFactors'], message: 'recovery codes are a backup: allow a primary factor too' });
  });

export type Policy = z.output<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;

export const defaultPolicy = (): Policy => policySchema.parse({});

const rank: Record<MfaMode, number> = { off: 0, optional: 1, required: 2 };

/** The MFA mode that applies to a user with these roles. */
export function mfaModeFor(policy: Policy, roles: readonly string[]): MfaMode {
  // own keys only: a custom role named like an Object.prototype member ("constructor") is no override
  const overrides = roles.filter((r) => Object.hasOwn(policy.mfa.roles, r)).map((r) => policy.mfa.roles[r]).filter((m): m is MfaMode => m !== undefined);
  if (overrides.length === 0) return policy.mfa.mode;
  return overrides.reduce((a, b) => (rank[b] > rank[a] ? b : a));
}

export interface LockoutRules {
  maxConsecutiveFailures: number;
  backoffAfter: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** PCI: lock after this many failures ... */
  lockAfter: number | null;
  /** ... for this long. */
  lockMs: number;
}

export function lockoutRules(policy: Policy): LockoutRules {
  const l = policy.lockout;
  return {
    maxConsecutiveFailures: l.maxConsecutiveFailures,
    backoffAfter: l.backoffAfter,
    backoffBaseMs: l.backoffBaseSeconds * 1000,
    backoffMaxMs: l.backoffMaxSeconds * 1000,
    lockAfter: policy.pciMode ? 10 : null,
    lockMs: 30 * 60_000,
  };
}

export function sessionRules(policy: Policy): { idleMs: number; absoluteMs: number; reauthMs: number } {
  const idle = policy.pciMode ? Math.min(policy.session.idleMinutes, 15) : policy.session.idleMinutes;
  return { idleMs: idle * 60_000, absoluteMs: policy.session.absoluteMinutes * 60_000, reauthMs: policy.session.reauthMinutes * 60_000 };
}

/** Whether a user who must enroll but has not is still inside the grace period. */
export function inGrace(policy: Policy, graceStartedAt: Date | null, graceSignins: number, now: Date): boolean {
  const { days, signins } = policy.mfa.grace;
  if (days === null && signins === null) return false;
  const start = graceStartedAt ?? now;
  const daysOk = days === null || now.getTime() - start.getTime() < days * 86_400_000;
  const signinsOk = signins === null || graceSignins < signins;
  return daysOk && signinsOk;
}
