/** Shared zod schemas of the HTTP API (request pieces and response shapes for the OpenAPI document). */
import { z } from 'zod';

export const errorBody = z.object({
  code: z.string().describe('Stable error code (see docs/errors.md)'),
  message: z.string(),
  requestId: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});

export const uuid = z.uuid();
export const tenantParam = z.object({ tenant: z.string().min(1).max(64).describe('Tenant slug or id') });
export const tenantUserParams = tenantParam.extend({ userId: uuid });
export const flowParams = z.object({ id: uuid });
export const flowTokenHeader = z.object({ 'x-flow-token': z.string().min(10).max(128).describe('The flow token returned by the previous step') });

export const flowView = z.object({
  id: z.string(),
  kind: z.enum(['signin', 'reauth']),
  state: z.enum(['password', 'passkey', 'second_factor', 'enroll', 'completed', 'failed', 'expired']),
  expiresAt: z.string(),
  attemptsLeft: z.number(),
  requiredAal: z.number(),
  completedMethods: z.array(z.string()),
  options: z.array(z.object({ method: z.string(), label: z.string() })).optional(),
  enroll: z.array(z.string()).optional(),
});

export const sessionOut = z.object({
  id: z.string(),
  token: z.string().describe('Bearer token (also set as the HttpOnly cw_session cookie)'),
  aal: z.number(),
  methods: z.array(z.string()),
  expiresAt: z.string(),
  enrollmentDue: z.boolean().optional(),
});

/** An authenticator app being set up: shown once, confirmed with a first code. */
export const totpEnrollment = z.object({
  factorId: z.string(),
  secret: z.string().describe('Base32, for manual entry'),
  otpauthUri: z.string(),
  qrSvg: z.string().describe('The otpauth URI as an SVG QR code'),
});
export type TotpEnrollment = z.input<typeof totpEnrollment>;

export const stepResult = z.object({
  flow: flowView,
  flowToken: z.string().optional(),
  session: sessionOut.optional(),
  recoveryCodes: z.array(z.string()).optional(),
  enrollment: totpEnrollment.optional().describe('Forced enrollment: the authenticator app to set up'),
});

/** What the setup page needs to judge a new password (src/services/users.ts). */
export const passwordRules = z.object({
  mfa: z.boolean().describe('A second factor is required for this account'),
  pciMode: z.boolean(),
  identifier: z.string().describe('The account email (a password must not contain it)'),
  tenantName: z.string(),
});

/** One of my sign-in methods (GET /v1/me/factors). */
export const ownFactor = z.object({
  id: z.string(),
  kind: z.string(),
  label: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  remaining: z.number().optional().describe('Recovery codes: how many are still unused'),
  suspended: z.boolean().optional().describe('Suspended by an administrator: it cannot be used until resumed'),
  key: z
    .object({ model: z.string().nullable().describe('Key model name from the uploaded FIDO metadata (null: unknown)'), deviceType: z.enum(['singleDevice', 'multiDevice']), userVerified: z.boolean(), aaguid: z.string().nullable(), flags: z.array(z.string()).describe('Warnings, e.g. counter_regression (a cloned key?)') })
    .optional()
    .describe('Security keys and passkeys'),
});

export const userOut = z.object({
  id: z.string(),
  tenantId: z.string(),
  email: z.string(),
  displayName: z.string(),
  roles: z.array(z.string()),
  status: z.enum(['invited', 'active', 'disabled']),
  createdAt: z.string(),
  lastSigninAt: z.string().nullable(),
  disabledAt: z.string().nullable(),
});

export const tenantOut = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  isPlatform: z.boolean(),
  policyVersion: z.number(),
  createdAt: z.string(),
  disabledAt: z.string().nullable(),
});

export const ok = z.object({ ok: z.literal(true) });

/** Error responses most routes can give, for the OpenAPI document. */
export const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 429: errorBody };
