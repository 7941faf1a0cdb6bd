/**
 * WebAuthn shapes on the wire: the options a browser passes to navigator.credentials.create / get
 * (PublicKeyCredentialCreationOptionsJSON / RequestOptionsJSON, as @simplewebauthn/browser takes
 * them) and the answers it sends back (src/methods/webauthn/answers.ts).
 */
import { z } from 'zod';

export { assertionJson, attestationJson } from '../../methods/webauthn/answers.js';

const descriptor = z.object({ id: z.string(), type: z.literal('public-key'), transports: z.array(z.string()).optional() });
const userVerification = z.enum(['required', 'preferred', 'discouraged']);

export const requestOptionsOut = z.object({
  challenge: z.string(),
  rpId: z.string(),
  timeout: z.number(),
  userVerification,
  allowCredentials: z.array(descriptor).describe('Empty for passwordless sign-in (discoverable credentials)'),
});

export const creationOptionsOut = z.object({
  challenge: z.string(),
  rp: z.object({ id: z.string().optional(), name: z.string() }),
  user: z.object({ id: z.string(), name: z.string(), displayName: z.string() }),
  pubKeyCredParams: z.array(z.object({ alg: z.number(), type: z.literal('public-key') })),
  timeout: z.number().optional(),
  attestation: z.enum(['none', 'direct', 'enterprise', 'indirect']).optional(),
  excludeCredentials: z.array(descriptor).optional(),
  authenticatorSelection: z
    .object({
      authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
      residentKey: z.enum(['required', 'preferred', 'discouraged']).optional(),
      requireResidentKey: z.boolean().optional(),
      userVerification: userVerification.optional(),
    })
    .optional(),
  extensions: z.object({ credProps: z.boolean().optional() }).optional(),
  hints: z.array(z.string()).optional(),
});

export const keyRegistrationOut = z.object({ registrationId: z.string(), expiresAt: z.string(), options: creationOptionsOut });
export const registeredKeyOut = z.object({
  factorId: z.string(),
  label: z.string(),
  deviceType: z.enum(['singleDevice', 'multiDevice']).describe('singleDevice: a device-bound key; multiDevice: a synced passkey'),
  recoveryCodes: z.array(z.string()).optional(),
});
