/**
 * Response shapes of caller verification (agent routes, IVR, assertions): the verification view of
 * src/flows/verification.ts with its level status and risk, the assertion keys (JWKS) and the result
 * of an assertion check. They feed the OpenAPI document, the fuzzer's 2xx check and the console's
 * generated types (web/src/api/schema.d.ts).
 */
import { z } from 'zod';
import { callerMethods } from '../../domain/verification-policy.js';
import type { VerificationView } from '../../flows/verification.js';

export const callerMethod = z.enum(callerMethods);
/** A requirement of a level: a category or one method by name. */
export const requirement = z.enum(['possession', 'knowledge', ...callerMethods]);

export const availableContact = z.object({
  id: z.string(),
  kind: z.enum(['phone', 'email']),
  masked: z.string().describe('The on-file value, masked'),
  eligible: z.boolean().describe('May receive a code now'),
  reason: z.string().optional().describe('Why not (for example: changed recently)'),
});

export const availableMethod = z.object({
  method: callerMethod,
  contacts: z.array(availableContact).optional().describe('For codes: the on-file contacts that may receive one'),
});

export const levelStatus = z.object({
  level: z.string(),
  satisfied: z.boolean(),
  alternatives: z.array(z.object({ requirements: z.array(requirement), met: z.array(requirement), missing: z.array(requirement) })).describe('Per alternative of the level: the requirements met and missing'),
});

export const riskSignal = z.object({
  signal: z.enum(['ani_match', 'attestation', 'recent_contact_change', 'customer_velocity', 'ani_velocity', 'failed_attempts']),
  points: z.number(),
  detail: z.string(),
});

export const risk = z.object({ score: z.number().describe('0-100'), level: z.enum(['low', 'medium', 'high']), signals: z.array(riskSignal) });

export const verificationView = z
  .object({
    id: z.string(),
    customerId: z.string(),
    interactionId: z.string(),
    channel: z.enum(['agent', 'ivr']),
    state: z.enum(['pending', 'verified', 'failed', 'expired', 'canceled']),
    level: z.string().describe('The level in force (the requested one, or the high level after a risk step-up)'),
    requestedLevel: z.string(),
    completedMethods: z.array(callerMethod),
    status: levelStatus,
    available: z.array(availableMethod).describe('Methods usable now (empty once terminal)'),
    attemptsLeft: z.number(),
    risk,
    expiresAt: z.string(),
    verifiedAt: z.string().nullable(),
    locale: z.string().nullable().describe("Language of the caller's messages; null: the tenant's default"),
    assertion: z.string().optional().describe('The signed assertion (JWS), only on the response that verified the flow'),
  })
  .describe('The verification: state, level, satisfied/missing, available methods, risk');

export type VerificationOut = z.input<typeof verificationView>;

/**
 * The flows' view as the response type. Compile-time check that the two agree: every field but the
 * method names (strings in the flows, the known names here; the serializer checks them at run time).
 */
export const verificationOut = (v: VerificationView): VerificationOut => ({ ...v, completedMethods: v.completedMethods as VerificationOut['completedMethods'] });

export const codeSent = z.object({
  sent: z.literal(true),
  channel: z.enum(['sms', 'voice', 'email']),
  contactId: z.string(),
  destination: z.string().describe('Masked'),
  expiresAt: z.string(),
  resendAvailableAt: z.string(),
});

/** A public key of the tenant's assertions (EC P-256, ES256). */
export const assertionJwk = z.object({
  kty: z.string(),
  crv: z.string(),
  x: z.string(),
  y: z.string(),
  kid: z.string(),
  alg: z.string(),
  use: z.string(),
});
export const jwksOut = z.object({ keys: z.array(assertionJwk) });
export type JwksOut = z.input<typeof jwksOut>;

/** The claims of a verification assertion (src/services/assertions.ts). */
export const assertionClaims = z.object({
  iss: z.string(),
  sub: z.string().describe('Callwarden customer id'),
  aud: z.union([z.string(), z.array(z.string())]),
  iat: z.number(),
  exp: z.number(),
  jti: z.string(),
  tid: z.string().describe('Tenant id'),
  cid: z.string().nullable().describe('The CRM id of the customer (externalId)'),
  interaction_id: z.string(),
  verification_id: z.string(),
  amr: z.array(z.string()).describe('Methods used'),
  level: z.string(),
});
export const assertionCheck = z.object({ valid: z.boolean(), claims: assertionClaims.optional(), reason: z.string().optional() });
export type AssertionCheckOut = z.input<typeof assertionCheck>;
