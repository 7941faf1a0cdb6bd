/**
 * Twilio-style voice webhooks: a center on Twilio points a number (or a `<Redirect>` of its own
 * flow) at POST /v1/ivr/twilio/{tenant}/voice and Callwarden answers TwiML driven by the IVR script.
 * The call's CallSid is the interaction id (the agent sees the result on it); the caller is found by
 * the calling number (From) among on-file phones; StirVerstat gives the STIR/SHAKEN attestation;
 * `?level=` and `?locale=` in the configured URL ask for a level and the language of the messages
 * sent. Every request must carry a valid X-Twilio-Signature made with CALLWARDEN_TWILIO_AUTH_TOKEN
 * over CALLWARDEN_PUBLIC_URL + path (and query), or it is refused with 403. Form bodies are parsed
 * for these routes only.
 *
 * A delivery is handled once: Callwarden's `<Gather>` actions carry `?step=N` (the step of the call
 * the answer is for), and a repeated delivery of a step (same CallSid and step), or of a request
 * with the same `I-Twilio-Idempotency-Token`, is answered with the TwiML of the first, without
 * counting an attempt again (../webhook-once.ts, table webhook_receipts).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import { ivrDigits, ivrPrompt, type IvrPrompt } from '../../flows/ivr-script.js';
import { startIvrVerification, stirAttestation } from '../../flows/ivr-start.js';
import type { Actor } from '../../flows/verification.js';
import type { Services } from '../../services/context.js';
import type { TenantRow } from '../../storage/repositories/tenants.js';
import { origin } from '../auth.js';
import { ipLimited, type Limiters } from '../rate-limit.js';
import { promptTwiml, sayAndHangUp, validTwilioSignature } from '../twiml.js';
import { deliveredOnce } from '../webhook-once.js';

const FORM = 'application/x-www-form-urlencoded';
const NOT_FOUND_TEXT = 'We could not find your account from the number you are calling from. An agent will help you.';
/** The webhook acts as the call itself: audit events name the CallSid, and the per-agent send limit is per call. */
const callActor = (callSid: string): Actor => ({ type: 'system', id: `twilio:${callSid}` });
const TWIML = 'text/xml; charset=utf-8';
const IDEMPOTENCY_HEADER = 'i-twilio-idempotency-token';

/** The URL the next step posts to: this webhook's URL with `step` one further (the signature covers it). */
export function nextStepUrl(publicUrl: string, url: string): string {
  const u = new URL(url, 'http://callwarden.invalid');
  u.searchParams.set('step', String(Number(u.searchParams.get('step') ?? 0) + 1));
  return `${publicUrl}${u.pathname}${u.search}`;
}

export function twilioVoiceRoutes(s: Services, limiters: Limiters): FastifyPluginAsyncZod {
  // the tenant of a delivery, read once per request (by the receipt's key, then by the handler)
  const tenants = new WeakMap<object, Promise<TenantRow | undefined>>();
  const tenantOf = (req: { params: unknown }) => {
    let t = tenants.get(req);
    if (!t) {
      t = s.store.tenants.bySlug((req.params as { tenant: string }).tenant.toLowerCase());
      tenants.set(req, t);
    }
    return t;
  };
  return async (app) => {
    app.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    // before validation, so the signature covers every parameter Twilio sent, known or not
    app.addHook('preValidation', async (req) => {
      const sig = req.headers['x-twilio-signature'];
      const params = (req.body ?? {}) as Record<string, string>;
      if (!validTwilioSignature(s.config.twilioAuthToken, typeof sig === 'string' ? sig : undefined, `${s.config.publicUrl}${req.url}`, params)) {
        req.log.warn({ reason: s.config.twilioAuthToken ? 'bad_signature' : 'not_configured' }, 'twilio webhook refused');
        throw new AppError('forbidden', { reason: 'bad_signature' }, 'The request signature is not valid.');
      }
      if (!String(req.headers['content-type'] ?? '').startsWith(FORM)) throw new AppError('unsupported_media_type', undefined, 'Send the Twilio form parameters.');
    });
    // a step of a call, or a request with Twilio's idempotency token, is handled once; the number's
    // own URL without a token cannot tell a repeat from a new request and is handled every time
    const once = deliveredOnce(s, async (req) => {
      const { step } = req.query as { step?: number };
      const { CallSid } = req.body as { CallSid: string };
      const tenant = await tenantOf(req);
      if (!tenant || tenant.is_platform || tenant.disabled_at) return undefined; // the handler answers 404
      const token = req.headers[IDEMPOTENCY_HEADER];
      const which = step ? `step:${step}` : typeof token === 'string' && token ? `token:${token.slice(0, 128)}` : undefined;
      return which ? { key: `twilio-voice:${tenant.id}:${CallSid}:${which}`, tenantId: tenant.id, type: TWIML } : undefined;
    });

    app.post('/v1/ivr/twilio/:tenant/voice', {
      onRequest: ipLimited(limiters), // before the signature check: every delivery spends the per-address budget
      preHandler: once.preHandler,
      onSend: once.onSend,
      onResponse: once.onResponse,
      schema: {
        tags: ['ivr'],
        summary: 'Twilio voice webhook: answers TwiML (Gather/Say/Hangup); needs a valid X-Twilio-Signature',
        description: 'A bad or missing signature answers 403 and an unknown tenant 404, with the JSON error body of every route.',
        security: [],
        consumes: [FORM],
        produces: ['text/xml'],
        params: z.object({ tenant: z.string().min(1).max(64).describe('Tenant slug') }),
        querystring: z.object({
          level: z.string().max(40).optional().describe('Verification level to ask for'),
          locale: z.string().regex(/^[a-zA-Z]{2,3}([-_]([a-zA-Z]{2}|\d{3}))?$/).optional().describe('Language of the messages sent to the caller'),
          step: z.coerce.number().int().min(1).max(10_000).optional().describe("Set by Callwarden on its Gather actions: the call's step this request answers"),
        }),
        headers: z.object({ 'x-twilio-signature': z.string().min(1).max(200) }),
        body: z.looseObject({
          CallSid: z.string().min(1).max(64),
          From: z.string().max(64).optional(),
          To: z.string().max(64).optional(),
          Digits: z.string().max(64).optional(),
          StirVerstat: z.string().max(64).optional(),
        }),
        response: { 200: z.string().describe('TwiML') },
      },
    }, async (req, reply) => {
      const tenant = await tenantOf(req);
      if (!tenant || tenant.is_platform || tenant.disabled_at) throw new AppError('not_found');
      const b = req.body;
      const action = nextStepUrl(s.config.publicUrl, req.url);
      const ref = { tenantId: tenant.id, actor: callActor(b.CallSid), origin: origin(req) };
      // the call's verification with its policy and customer, in one statement
      const found = await s.store.flows.readLatestForInteraction(tenant.id, b.CallSid, ['customer'], s.clock());
      const existing = found && found.flow.kind === 'verification' ? found : undefined;
      let prompt: IvrPrompt | undefined;
      if (!existing) {
        try {
          const lookup = { callerAni: b.From ?? '' };
          prompt = (await startIvrVerification(s, { ...ref, lookup, interactionId: b.CallSid, level: req.query.level, locale: req.query.locale, attestation: stirAttestation(b.StirVerstat) })).prompt;
        } catch (e) {
          if (!(e instanceof AppError) || !['not_found', 'conflict', 'invalid_request'].includes(e.code)) throw e;
        }
      } else if (b.Digits) {
        prompt = await ivrDigits(s, { ...ref, id: existing.flow.id, digits: b.Digits, read: existing });
      } else {
        prompt = await ivrPrompt(s, { tenantId: tenant.id, id: existing.flow.id, read: existing });
      }
      return reply.type(TWIML).send(prompt ? promptTwiml(prompt, action) : sayAndHangUp(NOT_FOUND_TEXT));
    });
  };
}
