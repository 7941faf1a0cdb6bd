/** Liveness and readiness. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Services } from '../../services/context.js';

export function healthRoutes(s: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/healthz', { schema: { tags: ['health'], summary: 'The process is up', response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({ status: 'ok' as const }));
    app.get('/readyz', {
      schema: { tags: ['health'], summary: 'The store answers', response: { 200: z.object({ status: z.literal('ready'), store: z.string() }), 503: z.object({ status: z.literal('unavailable'), store: z.string() }) } },
    }, async (_req, reply) => {
      try {
        await sql`SELECT 1`.execute(s.store.db);
        return { status: 'ready' as const, store: s.store.kind };
      } catch {
        return reply.status(503).send({ status: 'unavailable' as const, store: s.store.kind });
      }
    });
  };
}
