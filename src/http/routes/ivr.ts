/**
 * The IVR step API: an IVR script authenticated with a tenant API key (scope `ivr`) starts a
 * verification for the caller, asks for the prompt to play, and submits the digits the caller keyed.
 * The tenant is the key's; another tenant's customers and verifications answer 404. The code sent
 * to the caller is never returned.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ivrDigits, ivrPrompt } from '../../flows/ivr-script.js';
import { startIvrVerification } from '../../flows/ivr-start.js';
import type { Actor } from '../../flows/verification.js';
import type { Services } from '../../services/context.js';
import { apiKeyOf, requireApiKey } from '../api-key-auth.js';
import { origin } from '../auth.js';
import { ipLimited, type Limiters } from '../rate-limit.js';
import { errors, uuid } from '../schemas.js';
import { verificationOut, verificationView } from '../schemas/verification.js';

export const ivrPromptOut = z.object({
  verificationId: z.string(),
  step: z.enum(['pin', 'choice', 'code', 'done']),
  prompt: z.string().describe('The text to speak'),
  expect: z.enum(['pin', 'code', 'choice', 'none']).describe('What the caller keys next'),
  options: z.array(z.object({ digit: z.string(), label: z.string() })).optional(),
  finishOnKey: z.literal('#').optional(),
  maxDigits: z.number().optional(),
  done: z.boolean(),
  result: z.enum(['verified', 'failed', 'expired', 'canceled', 'transfer']).optional().describe('When done; transfer: the flow stays pending for an agent'),
  state: z.string(),
  level: z.string(),
  completedMethods: z.array(z.string()),
  attemptsLeft: z.number(),
  ref: z.string().optional().describe('The step this prompt asks for: send it back with the digits, and the step is taken without reading the verification first (a stale one is refused unchecked, with the current prompt)'),
});

const replyOut = ivrPromptOut.extend({
  accepted: z.boolean(),
  notice: z.string().optional().describe('Said before the prompt (already part of `prompt`)'),
  sent: z.object({ channel: z.string(), destination: z.string().describe('Masked') }).optional(),
  assertion: z.string().optional().describe('The signed verification assertion, when these digits completed it'),
});

const idParams = z.object({ id: uuid });

export function ivrRoutes(s: Services, limiters: Limiters): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', requireApiKey(s, 'ivr'));
    const limited = ipLimited(limiters); // starting and keying digits spend the per-address budget
    const tags = ['ivr'];
    const security = [{ apiKey: [] }];
    const actor = (req: Parameters<typeof apiKeyOf>[0]): Actor => ({ type: 'api_key', id: apiKeyOf(req).id });

    app.post('/v1/ivr/verifications', {
      onRequest: limited,
      schema: {
        tags,
        security,
        summary: 'Start verifying the caller; answers the first prompt',
        body: z
          .object({
            customerId: uuid.optional(),
            externalId: z.string().trim().min(1).max(128).optional().describe('The customer id in the CRM'),
            callerAni: z.string().regex(/^\+[1-9]\d{6,14}$/).optional().describe('Caller number (E.164): finds the customer by an on-file phone when no id is given; also a risk signal'),
            interactionId: z.string().min(1).max(200).describe('The call id; the agent sees the verification on this interaction'),
            level: z.string().max(40).optional(),
            attestation: z.enum(['A', 'B', 'C']).optional().describe('STIR/SHAKEN attestation'),
            locale: z.string().regex(/^[a-zA-Z]{2,3}([-_]([a-zA-Z]{2}|\d{3}))?$/).optional().describe("Language of the messages sent to the caller (en, es, fr-CA); default: the tenant's"),
          })
          .refine((b) => b.customerId || b.externalId || b.callerAni, { message: 'give customerId, externalId or callerAni' }),
        response: { 201: z.object({ verification: verificationView, prompt: ivrPromptOut }), ...errors },
      },
    }, async (req, reply) => {
      const { customerId, externalId, callerAni, interactionId, level, attestation, locale } = req.body;
      const r = await startIvrVerification(s, {
        tenantId: apiKeyOf(req).tenantId,
        lookup: { customerId, externalId, callerAni },
        interactionId,
        level,
        attestation,
        locale,
        actor: actor(req),
        origin: origin(req),
      });
      return reply.status(201).send({ verification: verificationOut(r.verification), prompt: r.prompt });
    });

    app.get('/v1/ivr/verifications/:id/prompt', {
      schema: { tags, security, summary: 'The prompt to play now (and the result when done)', params: idParams, response: { 200: ivrPromptOut, ...errors } },
    }, async (req) => ivrPrompt(s, { tenantId: apiKeyOf(req).tenantId, id: req.params.id }));

    app.post('/v1/ivr/verifications/:id/digits', {
      onRequest: limited,
      schema: {
        tags,
        security,
        summary: 'Submit the digits the caller keyed for the current prompt',
        params: idParams,
        body: z.object({
          digits: z.string().regex(/^[0-9*#]{1,32}$/).describe('DTMF digits; # ends an entry, * alone asks for a new code'),
          ref: z.string().max(2000).optional().describe('The `ref` of the prompt these digits answer'),
        }),
        response: { 200: replyOut, ...errors },
      },
    }, async (req) => ivrDigits(s, { tenantId: apiKeyOf(req).tenantId, id: req.params.id, digits: req.body.digits, ...(req.body.ref ? { ref: req.body.ref } : {}), actor: actor(req), origin: origin(req) }));
  };
}
