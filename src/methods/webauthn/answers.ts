/** The shapes a browser sends back (PublicKeyCredential JSON, as @simplewebauthn/browser produces it). */
import { z } from 'zod';

const b64u = z.string().max(16_384).regex(/^[A-Za-z0-9_-]*={0,2}$/, 'must be base64url');
const common = {
  id: b64u.min(1).max(1366),
  rawId: b64u.min(1).max(1366),
  type: z.literal('public-key'),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
};

export const assertionJson = z.object({
  ...common,
  response: z.object({ clientDataJSON: b64u.min(1), authenticatorData: b64u.min(1), signature: b64u.min(1), userHandle: b64u.optional() }),
});

export const attestationJson = z.object({
  ...common,
  response: z.object({
    clientDataJSON: b64u.min(1),
    attestationObject: b64u.min(1),
    authenticatorData: b64u.optional(),
    transports: z.array(z.string().max(32)).max(8).optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: b64u.optional(),
  }),
});

export const assertionAnswer = z.object({ credential: assertionJson });
export type AssertionAnswer = z.infer<typeof assertionAnswer>;
export type AttestationJson = z.infer<typeof attestationJson>;
