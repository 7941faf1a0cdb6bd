/**
 * Caller verification for agents: start a verification for a customer on an interaction, send a
 * code to an on-file contact (by id), check the code the caller reads out, the code of the caller's
 * own authenticator app, PIN and questions, cancel; the JWKS of the tenant's assertion keys and an
 * endpoint to check an assertion.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import { cancelVerification, getVerification, interactionVerification, startVerification, type Actor } from '../../flows/verification.js';
import { checkCode, sendCode } from '../../flows/verification-codes.js';
import { answerQuestion, askQuestion, checkPin } from '../../flows/verification-knowledge.js';
import { checkTotp } from '../../flows/verification-totp.js';
import { checkAssertion, jwks } from '../../services/assertions.js';
import type { Services } from '../../services/context.js';
import { optionalCaller, origin, principal, requireSession, tenantFor, tenantIdFor } from '../auth.js';
import { ipLimited, type Limiters } from '../rate-limit.js';
import { errors, tenantParam, uuid } from '../schemas.js';
import { assertionCheck, codeSent, jwksOut, verificationOut, verificationView, type AssertionCheckOut, type JwksOut } from '../schemas/verification.js';

const vParams = tenantParam.extend({ id: uuid });
const viewOut = verificationView;

export function verificationRoutes(s: Services, limiters: Limiters): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', requireSession(s));
    const limited = ipLimited(limiters); // every attempt route spends the per-address budget
    const tags = ['caller verification'];
    const actor = (req: Parameters<typeof principal>[0]): Actor => ({ type: 'user', id: principal(req).userId });
    const scoped = async (req: Parameters<typeof principal>[0], tenant: string, perm: 'verifications.start' | 'verifications.read') => tenantIdFor(s, req, tenant, perm);

    app.post('/v1/tenants/:tenant/verifications', {
      schema: {
        tags,
        summary: 'Start verifying a caller',
        params: tenantParam,
        body: z.object({
          customerId: uuid,
          interactionId: z.string().min(1).max(200).describe('The call or interaction id from the telephony side'),
          level: z.string().max(40).optional(),
          callerAni: z.string().regex(/^\+[1-9]\d{6,14}$/).optional().describe('Caller number (E.164), passed by the telephony side'),
          attestation: z.enum(['A', 'B', 'C']).optional().describe('STIR/SHAKEN attestation'),
          locale: z.string().regex(/^[a-zA-Z]{2,3}([-_]([a-zA-Z]{2}|\d{3}))?$/).optional().describe("Language of the caller's messages (en, es, fr-CA); default: the tenant's"),
        }),
        response: { 201: viewOut, ...errors },
      },
    }, async (req, reply) => {
      const tenantId = await scoped(req, req.params.tenant, 'verifications.start');
      const v = await startVerification(s, { tenantId, ...req.body, channel: 'agent', actor: actor(req), origin: origin(req) });
      return reply.status(201).send(verificationOut(v));
    });

    app.get('/v1/tenants/:tenant/verifications/:id', {
      schema: { tags, summary: 'Read a verification (terminal states stay readable)', params: vParams, response: { 200: viewOut, ...errors } },
    }, async (req) => verificationOut(await getVerification(s, await scoped(req, req.params.tenant, 'verifications.read'), req.params.id)));

    app.get('/v1/tenants/:tenant/interactions/:interactionId/verification', {
      schema: { tags, summary: 'The latest verification of an interaction (for example one the IVR completed)', params: tenantParam.extend({ interactionId: z.string().min(1).max(200) }), response: { 200: viewOut, ...errors } },
    }, async (req) => {
      const tenantId = await scoped(req, req.params.tenant, 'verifications.read');
      return verificationOut(await interactionVerification(s, tenantId, req.params.interactionId));
    });

    app.post('/v1/tenants/:tenant/verifications/:id/codes', {
      onRequest: limited,
      schema: {
        tags,
        summary: 'Send a one-time code to an on-file contact (chosen by id; the code is never returned)',
        params: vParams,
        body: z.object({ contactId: uuid, channel: z.enum(['sms', 'voice', 'email']) }),
        response: { 200: codeSent, ...errors },
      },
    }, async (req) => sendCode(s, { tenantId: await scoped(req, req.params.tenant, 'verifications.start'), id: req.params.id, ...req.body, actor: actor(req), origin: origin(req) }));

    app.post('/v1/tenants/:tenant/verifications/:id/codes/check', {
      onRequest: limited,
      schema: { tags, summary: 'Check the code the caller reads out', params: vParams, body: z.object({ code: z.string().min(1).max(32) }), response: { 200: viewOut, ...errors } },
    }, async (req) => verificationOut(await checkCode(s, { tenantId: await scoped(req, req.params.tenant, 'verifications.start'), id: req.params.id, code: req.body.code, actor: actor(req), origin: origin(req) })));

    app.post('/v1/tenants/:tenant/verifications/:id/pin', {
      onRequest: limited,
      schema: { tags, summary: 'Check the PIN (DTMF digits)', params: vParams, body: z.object({ pin: z.string().min(1).max(16) }), response: { 200: viewOut, ...errors } },
    }, async (req) => verificationOut(await checkPin(s, { tenantId: await scoped(req, req.params.tenant, 'verifications.start'), id: req.params.id, pin: req.body.pin, actor: actor(req), origin: origin(req) })));

    app.post('/v1/tenants/:tenant/verifications/:id/totp', {
      onRequest: limited,
      schema: { tags, summary: "Check the code from the customer's own authenticator app", params: vParams, body: z.object({ code: z.string().min(1).max(32) }), response: { 200: viewOut, ...errors } },
    }, async (req) => verificationOut(await checkTotp(s, { tenantId: await scoped(req, req.params.tenant, 'verifications.start'), id: req.params.id, code: req.body.code, actor: actor(req), origin: origin(req) })));

    app.post('/v1/tenants/:tenant/verifications/:id/question', {
      onRequest: limited,
      schema: { tags, summary: 'The security question to ask now', params: vParams, response: { 200: z.object({ questionId: z.string(), question: z.string(), fallback: z.boolean() }), ...errors } },
    }, async (req) => askQuestion(s, { tenantId: await scoped(req, req.params.tenant, 'verifications.start'), id: req.params.id }));

    app.post('/v1/tenants/:tenant/verifications/:id/question/answer', {
      onRequest: limited,
      schema: { tags, summary: "Check the caller's answer to the question asked", params: vParams, body: z.object({ answer: z.string().min(1).max(200) }), response: { 200: viewOut, ...errors } },
    }, async (req) => verificationOut(await answerQuestion(s, { tenantId: await scoped(req, req.params.tenant, 'verifications.start'), id: req.params.id, answer: req.body.answer, actor: actor(req), origin: origin(req) })));

    app.post('/v1/tenants/:tenant/verifications/:id/cancel', {
      schema: { tags, summary: 'Cancel a pending verification', params: vParams, response: { 200: viewOut, ...errors } },
    }, async (req) => verificationOut(await cancelVerification(s, { tenantId: await scoped(req, req.params.tenant, 'verifications.start'), id: req.params.id, actor: actor(req), origin: origin(req) })));
  };
}

/** Public: the tenant's assertion keys, and a server-side check of an assertion. */
export function assertionRoutes(s: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/v1/tenants/:tenant/jwks.json', {
      schema: { tags: ['caller verification'], summary: "Public keys of the tenant's verification assertions (JWKS)", security: [], params: tenantParam, response: { 200: jwksOut, ...errors } },
    }, async (req) => {
      const t = await s.store.tenants.bySlug(req.params.tenant.toLowerCase());
      if (!t || t.is_platform) throw new AppError('not_found');
      return (await jwks(s, t.id)) as JwksOut;
    });
    app.post('/v1/assertions/check', {
      schema: {
        tags: ['caller verification'],
        summary: 'Check a verification assertion (signature, issuer, audience, expiry, and the interaction when given)',
        description:
          'Anyone may ask whether an assertion is valid (and why not). The claims are only returned to a caller of the tenant that signed it: a session holding verifications.read, or an API key of that tenant.',
        security: [], // public; a session or an API key, when sent, is checked (see the description)
        body: z.object({
          assertion: z.string().min(10).max(8192),
          interactionId: z.string().min(1).max(200).optional().describe('The call the CRM has on screen: an assertion for another interaction is not valid (reason interaction_mismatch)'),
        }),
        response: { 200: assertionCheck, ...errors },
      },
    }, async (req): Promise<AssertionCheckOut> => {
      const caller = await optionalCaller(s, req);
      const r = await checkAssertion(s, req.body.assertion, { interactionId: req.body.interactionId });
      if (!r.valid) return { valid: false, reason: r.reason };
      const sameTenant = caller
        ? 'apiKey' in caller
          ? caller.apiKey.tenantId === r.tenantId
          : (caller.session.tenantId === r.tenantId || caller.session.isOperator) && caller.session.permissions.has('verifications.read')
        : false;
      return sameTenant ? ({ valid: true, claims: r.claims } as AssertionCheckOut) : { valid: true };
    });
  };
}
