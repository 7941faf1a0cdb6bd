/**
 * Dev-mode outbox reader: messages that would be (or were) sent, with their links while they wait.
 * Sent, failed and expired messages show as redacted; in production mode (when the reader is turned
 * on there) a waiting message shows as sealed: no listing shows a live code.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { normalizeIdentifier } from '../../domain/identifiers.js';
import type { Services } from '../../services/context.js';
import { requireSession, tenantFor } from '../auth.js';
import { errors, tenantParam } from '../schemas.js';

export const outboxMessage = z.object({
  id: z.string(), channel: z.string(), recipient: z.string(), template: z.string(), subject: z.string(), body: z.string(), status: z.string(), createdAt: z.string(),
});

export function outboxRoutes(s: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', requireSession(s));
    app.get('/v1/tenants/:tenant/outbox', {
      schema: {
        tags: ['outbox'],
        summary: 'Read the outbox (dev mode only)',
        params: tenantParam,
        querystring: z.object({ recipient: z.string().max(254).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: { 200: z.object({ messages: z.array(outboxMessage) }), ...errors },
      },
    }, async (req) => {
      const t = await tenantFor(s, req, req.params.tenant, 'outbox.read');
      const rows = await s.store.outbox.list({ tenantId: t.id, recipient: req.query.recipient ? normalizeIdentifier(req.query.recipient) : undefined, limit: req.query.limit, reveal: s.config.mode !== 'production' });
      return {
        messages: rows.map((m) => ({ id: m.id, channel: m.channel, recipient: m.recipient, template: m.template, subject: m.subject, body: m.body, status: m.status, createdAt: m.created_at.toISOString() })),
      };
    });
  };
}
