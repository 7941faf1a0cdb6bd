/** Key models (FIDO metadata): an operator uploads the BLOB; admins read the models to allow some in their policy. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../../services/context.js';
import { importMetadataBlob, listModels } from '../../services/authenticator-models.js';
import { origin, principal, requireSession } from '../auth.js';
import { errors } from '../schemas.js';

const model = z.object({ aaguid: z.string(), description: z.string(), status: z.string().nullable().describe('Newest FIDO status report, e.g. FIDO_CERTIFIED_L1 or REVOKED'), blobNo: z.number() });

export function authenticatorModelRoutes(s: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', requireSession(s));
    const tags = ['security keys'];

    app.get('/v1/authenticator-models', {
      schema: { tags, summary: 'Key models known from the uploaded FIDO metadata (for policy allow-lists)', response: { 200: z.object({ models: z.array(model) }), ...errors } },
    }, async () => ({ models: await listModels(s) }));

    app.put('/v1/authenticator-models', {
      schema: {
        tags,
        summary: 'Upload a FIDO Metadata Service BLOB (platform operators; no network needed)',
        description: 'The BLOB (a JWS, as downloaded from https://mds3.fidoalliance.org/) must chain to the configured MDS root (CALLWARDEN_FIDO_MDS_ROOTS, by default the FIDO Alliance root) and be newer than the stored one.',
        body: z.object({ blob: z.string().min(10).max(20_000_000) }),
        response: { 200: z.object({ no: z.number(), nextUpdate: z.string(), models: z.number() }), ...errors },
      },
      bodyLimit: 25 * 1024 * 1024,
    }, async (req) => importMetadataBlob(s, principal(req), req.body.blob, origin(req)));
  };
}
