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
  state: z.enum(['password', 'second_factor', 'enroll', 'completed', 'failed', 'expired']),
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

export const stepResult = z.object({
  flow: flowView,
  flowToken: z.string().optional(),
  session: sessionOut.optional(),
  recoveryCodes: z.array(z.string()).optional(),
  enrollment: z.record(z.string(), z.unknown()).optional(),
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
