/**
 * Message templates of a tenant: read them (with the built-in texts and what each template may
 * contain) with policy.read, replace them with policy.write. Saving is validated (known placeholders,
 * {{code}} in code messages, channel and size rules) and audited.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../../services/context.js';
import { getTemplates, putTemplates } from '../../services/templates.js';
import { origin, principal, requireSession, tenantFor } from '../auth.js';
import { errors, tenantParam } from '../schemas.js';

const channel = z.enum(['sms', 'voice', 'email']);
const text = z.object({ template: z.string(), locale: z.string(), channel: z.string(), subject: z.string(), body: z.string() });
const templatesOut = z.object({
  defaultLocale: z.string(),
  templates: z.array(text.extend({ updatedAt: z.string() })).describe("The tenant's own wording"),
  builtin: z.array(text).describe('The built-in texts, used where the tenant has none'),
  definitions: z.array(z.object({ template: z.string(), channels: z.array(z.string()), placeholders: z.array(z.string()), required: z.array(z.string()) })),
});

export function templateRoutes(s: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', requireSession(s));
    const tags = ['templates'];

    app.get('/v1/tenants/:tenant/templates', {
      schema: { tags, summary: "The tenant's message templates, the built-in texts and the placeholders each template knows", params: tenantParam, response: { 200: templatesOut, ...errors } },
    }, async (req) => getTemplates(s, (await tenantFor(s, req, req.params.tenant, 'policy.read')).id));

    app.put('/v1/tenants/:tenant/templates', {
      schema: {
        tags,
        summary: "Replace the tenant's message templates (a template left out falls back to the built-in text)",
        description:
          'Placeholders are written `{{name}}` and filled in as plain text (no markup is interpreted on any channel). A message is written from the first text found: ' +
          "the tenant's template in the wanted locale (es-MX, then es), in the tenant's default locale, in en; then the built-in texts in the same order.",
        params: tenantParam,
        body: z.object({
          defaultLocale: z.string().max(10).optional().describe('The language of messages when a verification names none'),
          templates: z.array(z.object({ template: z.string().max(60), locale: z.string().max(10), channel, subject: z.string().max(1000).default(''), body: z.string().max(10_000) })).max(200),
        }),
        response: { 200: templatesOut, ...errors },
      },
    }, async (req) => {
      const t = await tenantFor(s, req, req.params.tenant, 'policy.write');
      return putTemplates(s, { tenantId: t.id, actor: { type: 'user', id: principal(req).userId }, origin: origin(req), defaultLocale: req.body.defaultLocale, templates: req.body.templates });
    });
  };
}
