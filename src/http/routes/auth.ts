/** Sign-in flow endpoints, logout and invitation (setup link) endpoints. */
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { normalizeIdentifier } from '../../domain/identifiers.js';
import * as signin from '../../flows/signin.js';
import { startPasskeySignin, submitWebauthn, webauthnOptions } from '../../flows/signin-webauthn.js';
import { sendSigninCode } from '../../flows/staff-codes.js';
import { assertionJson, requestOptionsOut } from '../schemas/webauthn.js';
import type { Services } from '../../services/context.js';
import { acceptInvitation, inspectInvitation } from '../../services/users.js';
import { clearSessionCookie, origin, sessionToken, setSessionCookie } from '../auth.js';
import { limitIdentifier, limitIp, type Limiters } from '../rate-limit.js';
import { authenticate } from '../../services/sessions.js';
import { errors, flowParams, flowTokenHeader, ok, passwordRules, stepResult, type TotpEnrollment } from '../schemas.js';

export function authRoutes(s: Services, limiters: Limiters): FastifyPluginAsyncZod {
  return async (app) => {
    const secure = s.config.mode === 'production';
    /** Sends a step result, setting the session cookie when the flow completed. */
    const send = (reply: FastifyReply, r: signin.StepResult, status = 200) => {
      if (r.session) setSessionCookie(reply, r.session.token, secure, Math.max(1, Math.round((r.session.expiresAt.getTime() - s.clock().getTime()) / 1000)));
      void reply.status(status);
      // the enrollment display is a TOTP setup (its shape: totpEnrollment in ../schemas.ts)
      return { ...r, session: r.session ? { ...r.session, expiresAt: r.session.expiresAt.toISOString() } : undefined, enrollment: r.enrollment as TotpEnrollment | undefined };
    };

    app.post('/v1/auth/flows', {
      schema: {
        tags: ['sign-in'],
        summary: 'Start a sign-in',
        description: 'Always answers 201 with a flow in state `password`, whether or not the identifier exists.',
        body: z.object({ tenant: z.string().min(1).max(64), identifier: z.string().min(1).max(320) }),
        response: { 201: stepResult, ...errors },
      },
    }, async (req, reply) => {
      await limitIp(limiters, req.ip);
      // the same normalization startSignin applies, so spellings of the tenant cannot open new buckets
      await limitIdentifier(limiters, req.body.tenant.trim().toLowerCase(), normalizeIdentifier(req.body.identifier));
      return send(reply, await signin.startSignin(s, { ...req.body, origin: origin(req) }), 201);
    });

    app.get('/v1/auth/flows/:id', {
      schema: { tags: ['sign-in'], summary: 'Read a flow', params: flowParams, headers: flowTokenHeader, response: { 200: stepResult, ...errors } },
    }, async (req, reply) => send(reply, await signin.getFlow(s, req.params.id, req.headers['x-flow-token'])));

    app.post('/v1/auth/flows/:id/password', {
      schema: { tags: ['sign-in'], summary: 'Submit the password', params: flowParams, headers: flowTokenHeader, body: z.object({ password: z.string().min(1).max(4096) }), response: { 200: stepResult, ...errors } },
    }, async (req, reply) => {
      await limitIp(limiters, req.ip);
      return send(reply, await signin.submitPassword(s, { id: req.params.id, token: req.headers['x-flow-token'], password: req.body.password, origin: origin(req) }));
    });

    app.post('/v1/auth/flows/:id/factor', {
      schema: {
        tags: ['sign-in'],
        summary: 'Submit a second factor',
        params: flowParams,
        headers: flowTokenHeader,
        body: z.object({ method: z.string().min(1).max(32).describe('One of the flow options, e.g. totp or recovery_code'), code: z.string().min(1).max(64) }),
        response: { 200: stepResult, ...errors },
      },
    }, async (req, reply) => {
      await limitIp(limiters, req.ip);
      return send(reply, await signin.submitSecondFactor(s, { id: req.params.id, token: req.headers['x-flow-token'], ...req.body, origin: origin(req) }));
    });

    app.post('/v1/auth/passkey', {
      schema: {
        tags: ['sign-in'],
        summary: 'Start a passwordless sign-in with a passkey',
        description: 'A flow in state `passkey` and the options for navigator.credentials.get (no key named: the browser offers the discoverable ones, also through autofill). User verification is required.',
        body: z.object({ tenant: z.string().min(1).max(64) }),
        response: { 201: stepResult.extend({ options: requestOptionsOut }), ...errors },
      },
    }, async (req, reply) => {
      await limitIp(limiters, req.ip);
      const r = await startPasskeySignin(s, { tenant: req.body.tenant, origin: origin(req) });
      return { ...send(reply, r, 201), options: r.options };
    });

    app.post('/v1/auth/flows/:id/webauthn/options', {
      schema: {
        tags: ['sign-in'],
        summary: 'A new security-key challenge for this flow (second factor or passkey)',
        description: 'Each challenge serves one answer and expires after 300 s; asking again replaces it.',
        params: flowParams,
        headers: flowTokenHeader,
        response: { 200: z.object({ options: requestOptionsOut }), ...errors },
      },
    }, async (req) => {
      await limitIp(limiters, req.ip);
      return webauthnOptions(s, { id: req.params.id, token: req.headers['x-flow-token'] });
    });

    app.post('/v1/auth/flows/:id/webauthn', {
      schema: {
        tags: ['sign-in'],
        summary: 'Answer with a security key or passkey',
        params: flowParams,
        headers: flowTokenHeader,
        body: z.object({ credential: assertionJson }),
        response: { 200: stepResult, ...errors },
      },
    }, async (req, reply) => {
      await limitIp(limiters, req.ip);
      return send(reply, await submitWebauthn(s, { id: req.params.id, token: req.headers['x-flow-token'], credential: req.body.credential, origin: origin(req) }));
    });

    app.post('/v1/auth/flows/:id/codes', {
      schema: {
        tags: ['sign-in'],
        summary: 'Send a sign-in code by text message or phone call to the number the user verified',
        description: 'A restricted method (NIST): only to the enrolled number, never to one in the request; the same limits as callers\' codes (resend cooldown, per number, per user, per address, per tenant). Then submit it to /factor as otp_sms or otp_voice.',
        params: flowParams,
        headers: flowTokenHeader,
        body: z.object({ channel: z.enum(['sms', 'voice']) }).strict(),
        response: { 200: z.object({ sent: z.literal(true), channel: z.enum(['sms', 'voice']), destination: z.string().describe('Masked number'), expiresAt: z.string(), resendAvailableAt: z.string() }), ...errors },
      },
    }, async (req) => {
      await limitIp(limiters, req.ip);
      return sendSigninCode(s, { id: req.params.id, token: req.headers['x-flow-token'], channel: req.body.channel, origin: origin(req) });
    });

    app.post('/v1/auth/flows/:id/enroll/totp', {
      schema: { tags: ['sign-in'], summary: 'Forced enrollment: start an authenticator app', params: flowParams, headers: flowTokenHeader, response: { 200: stepResult, ...errors } },
    }, async (req, reply) => send(reply, await signin.beginFlowEnrollment(s, { id: req.params.id, token: req.headers['x-flow-token'], origin: origin(req) })));

    app.post('/v1/auth/flows/:id/enroll/totp/confirm', {
      schema: { tags: ['sign-in'], summary: 'Forced enrollment: confirm with a first code', params: flowParams, headers: flowTokenHeader, body: z.object({ code: z.string().min(1).max(64) }), response: { 200: stepResult, ...errors } },
    }, async (req, reply) => {
      await limitIp(limiters, req.ip);
      return send(reply, await signin.confirmFlowEnrollment(s, { id: req.params.id, token: req.headers['x-flow-token'], code: req.body.code, origin: origin(req) }));
    });

    app.post('/v1/auth/logout', {
      schema: { tags: ['sign-in'], summary: 'End the current session', response: { 200: ok } },
    }, async (req, reply) => {
      const token = sessionToken(req);
      const p = token ? await authenticate(s, token) : undefined;
      if (p) await s.store.sessions.revoke(p.userId, p.id, s.clock());
      clearSessionCookie(reply, secure);
      return { ok: true as const };
    });

    app.post('/v1/invitations/inspect', {
      schema: {
        tags: ['invitations'],
        summary: 'What a setup link is for (email, tenant, password rules)',
        body: z.object({ token: z.string().min(10).max(128) }),
        response: { 200: z.object({ email: z.string(), tenant: z.string(), tenantName: z.string(), passwordRules: passwordRules }), ...errors },
      },
    }, async (req) => {
      await limitIp(limiters, req.ip);
      return inspectInvitation(s, req.body.token);
    });

    app.post('/v1/invitations/accept', {
      schema: {
        tags: ['invitations'],
        summary: 'Choose a password with a one-time setup link',
        body: z.object({ token: z.string().min(10).max(128), password: z.string().min(1).max(4096) }),
        response: { 200: z.object({ tenant: z.string(), email: z.string() }), ...errors },
      },
    }, async (req) => {
      await limitIp(limiters, req.ip);
      return acceptInvitation(s, { ...req.body, origin: origin(req) });
    });
  };
}
