/** Tenant API keys (for the IVR): create (the key is shown once), list without secrets, revoke. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { apiKeyScopes, createApiKey, listApiKeys, revokeApiKey } from '../../services/api-keys.js';
import type { Services } from '../../services/context.js';
import { origin, principal, requireSession, tenantFor } from '../auth.js';
import { errors, tenantParam, uuid } from '../schemas.js';

const keyOut = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string().describe('The start of the key, to recognize it (cwk_xxxxxxxx)'),
  scopes: z.array(z.string()),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

export function apiKeyRoutes(s: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', requireSession(s));
    const tags = ['api keys'];
    const actor = (req: Parameters<typeof principal>[0]) => ({ type: 'user' as const, id: principal(req).userId });

    app.post('/v1/tenants/:tenant/api-keys', {
      schema: {
        tags,
        summary: 'Create an API key (the key is returned once, never again)',
        params: tenantParam,
        body: z.object({ name: z.string().trim().min(1).max(100), scopes: z.array(z.enum(apiKeyScopes)).min(1).max(apiKeyScopes.length).describe('ivr: the IVR step API') }),
        response: { 201: z.object({ apiKey: keyOut, key: z.string().describe('cwk_<prefix>_<secret>: send as Authorization: Bearer <key>') }), ...errors },
      },
    }, async (req, reply) => {
      const t = await tenantFor(s, req, req.params.tenant, 'api_keys.manage');
      return reply.status(201).send(await createApiKey(s, { tenantId: t.id, ...req.body, actor: actor(req), origin: origin(req) }));
    });

    app.get('/v1/tenants/:tenant/api-keys', {
      schema: { tags, summary: 'List API keys (no secrets)', params: tenantParam, response: { 200: z.object({ apiKeys: z.array(keyOut) }), ...errors } },
    }, async (req) => ({ apiKeys: await listApiKeys(s, (await tenantFor(s, req, req.params.tenant, 'api_keys.manage')).id) }));

    app.post('/v1/tenants/:tenant/api-keys/:keyId/revoke', {
      schema: { tags, summary: 'Revoke an API key (effective at once)', params: tenantParam.extend({ keyId: uuid }), response: { 200: keyOut, ...errors } },
    }, async (req) => {
      const t = await tenantFor(s, req, req.params.tenant, 'api_keys.manage');
      return revokeApiKey(s, { tenantId: t.id, id: req.params.keyId, actor: actor(req), origin: origin(req) });
    });
  };
}
