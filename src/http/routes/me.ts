/** Self-service: the signed-in user's profile, password, factors, recovery codes, sessions and recent sign-in activity. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { MAX_ACTIVITY_LIMIT, userActivity } from '../../audit/activity.js';
import { AppError } from '../../domain/errors.js';
import { startReauth } from '../../flows/signin.js';
import { startStepUp } from '../../flows/step-up.js';
import { beginPhoneEnrollment, confirmPhoneEnrollment } from '../../flows/staff-codes.js';
import { beginKeyRegistration, finishKeyRegistration } from '../../flows/key-registration.js';
import { registrationAnswer } from '../../methods/webauthn/registration.js';
import { keyRegistrationOut, registeredKeyOut } from '../schemas/webauthn.js';
import type { Services } from '../../services/context.js';
import { audit } from '../../services/audit-log.js';
import * as me from '../../services/self-service.js';
import { changePassword } from '../../services/users.js';
import { origin, principal, requireSession } from '../auth.js';
import { errors, ok, ownFactor, stepResult, uuid } from '../schemas.js';

export function meRoutes(s: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', requireSession(s));
    const tags = ['self-service'];

    app.get('/v1/me', {
      schema: {
        tags,
        summary: 'Who am I',
        response: {
          200: z.object({
            userId: z.string(), email: z.string(), tenantId: z.string(), tenant: z.string(), roles: z.array(z.string()), permissions: z.array(z.string()),
            session: z.object({ id: z.string(), aal: z.number(), methods: z.array(z.string()), phishingResistant: z.boolean().describe('A phishing-resistant method (a security key or passkey) was used'), authTime: z.string(), expiresAt: z.string() }),
          }),
          ...errors,
        },
      },
    }, async (req) => {
      const p = principal(req);
      return {
        userId: p.userId, email: p.userEmail, tenantId: p.tenantId, tenant: p.tenantSlug, roles: p.userRoles, permissions: [...p.permissions].sort(),
        session: { id: p.id, aal: p.aal, methods: p.methods, phishingResistant: s.methods.phishingResistant(p.methods), authTime: p.authTime.toISOString(), expiresAt: p.expiresAt.toISOString() },
      };
    });

    app.post('/v1/me/password', {
      schema: { tags, summary: 'Change my password (needs the current one)', body: z.object({ currentPassword: z.string().min(1).max(4096), newPassword: z.string().min(1).max(4096) }), response: { 200: ok, ...errors } },
    }, async (req) => {
      const p = principal(req);
      await changePassword(s, { tenantId: p.tenantId, userId: p.userId, current: req.body.currentPassword, next: req.body.newPassword, sessionId: p.id, origin: origin(req) });
      return { ok: true as const };
    });

    app.post('/v1/me/reauth', {
      schema: { tags, summary: 'Start a re-authentication (needed before changing factors)', response: { 201: stepResult, ...errors } },
    }, async (req, reply) => {
      const r = await startReauth(s, principal(req), origin(req));
      return reply.status(201).send({ flow: r.flow, flowToken: r.flowToken });
    });

    app.post('/v1/me/step-up', {
      schema: {
        tags,
        summary: 'Start a step-up: a re-authentication that gives this session what an action asked for',
        description: 'Send the `need` of a `step_up_required` error. The flow asks only for what is missing (e.g. a security key when a phishing-resistant method is needed) and, once completed, refreshes this session (new token in the cookie, new level and methods, auth time now).',
        body: z.object({
          aal: z.union([z.literal(1), z.literal(2), z.literal(3)]).default(1),
          phishingResistant: z.boolean().default(false),
          maxAgeSeconds: z.number().int().min(1).max(86_400).nullable().default(null),
        }),
        response: { 201: stepResult, ...errors },
      },
    }, async (req, reply) => {
      const r = await startStepUp(s, principal(req), req.body, origin(req));
      return reply.status(201).send({ flow: r.flow, flowToken: r.flowToken });
    });

    app.get('/v1/me/factors', {
      schema: { tags, summary: 'My sign-in methods', response: { 200: z.object({ factors: z.array(ownFactor) }), ...errors } },
    }, async (req) => ({ factors: await me.listFactors(s, principal(req)) }));

    app.post('/v1/me/factors/totp', {
      schema: {
        tags,
        summary: 'Start adding an authenticator app (fresh authentication needed)',
        response: { 201: z.object({ factorId: z.string(), secret: z.string(), otpauthUri: z.string(), qrSvg: z.string() }), ...errors },
      },
    }, async (req, reply) => reply.status(201).send((await me.beginTotpEnrollment(s, principal(req), origin(req))) as { factorId: string; secret: string; otpauthUri: string; qrSvg: string }));

    app.post('/v1/me/factors/totp/:factorId/confirm', {
      schema: {
        tags,
        summary: 'Confirm the authenticator app with its first code',
        params: z.object({ factorId: uuid }),
        body: z.object({ code: z.string().min(1).max(64) }),
        response: { 200: z.object({ factorId: z.string(), recoveryCodes: z.array(z.string()).optional() }), ...errors },
      },
    }, async (req) => me.confirmTotpEnrollment(s, principal(req), req.params.factorId, req.body.code, origin(req)));

    app.post('/v1/me/factors/webauthn', {
      schema: {
        tags,
        summary: 'Start adding a security key or passkey (fresh authentication needed)',
        description: 'security_key: a roaming key (USB, NFC: YubiKey, Titan); passkey: a discoverable credential of this device (Touch ID, Windows Hello, Android), also for passwordless sign-in. Answer within 300 s.',
        body: z.object({ kind: z.enum(['security_key', 'passkey']).default('security_key') }),
        response: { 201: keyRegistrationOut, ...errors },
      },
    }, async (req, reply) => reply.status(201).send(await beginKeyRegistration(s, principal(req), { keyKind: req.body.kind, origin: origin(req) })));

    app.post('/v1/me/factors/webauthn/:registrationId', {
      schema: {
        tags,
        summary: "Finish adding a security key or passkey with the browser's answer",
        params: z.object({ registrationId: uuid }),
        body: registrationAnswer,
        response: { 200: registeredKeyOut, ...errors },
      },
    }, async (req) => finishKeyRegistration(s, principal(req), { registrationId: req.params.registrationId, answer: req.body, origin: origin(req) }));

    app.post('/v1/me/factors/phone', {
      schema: {
        tags,
        summary: 'Start adding a phone number for sign-in codes by text message or call (fresh authentication needed)',
        description: 'A code goes to the number; confirming it binds the number (a restricted method: see `warning`). A new number replaces the old one, which is told.',
        body: z.object({ number: z.string().min(3).max(40), channel: z.enum(['sms', 'voice']).default('sms'), region: z.string().regex(/^[A-Z]{2}$/).optional() }).strict(),
        response: { 201: z.object({ enrollmentId: z.string(), destination: z.string(), expiresAt: z.string(), warning: z.string() }), ...errors },
      },
    }, async (req, reply) => reply.status(201).send(await beginPhoneEnrollment(s, principal(req), { number: req.body.number, channel: req.body.channel, ...(req.body.region ? { region: req.body.region } : {}), origin: origin(req) })));

    app.post('/v1/me/factors/phone/:enrollmentId', {
      schema: {
        tags,
        summary: 'Confirm the phone number with the code sent to it',
        params: z.object({ enrollmentId: uuid }),
        body: z.object({ code: z.string().min(1).max(64) }),
        response: { 200: z.object({ factorId: z.string(), destination: z.string(), warning: z.string() }), ...errors },
      },
    }, async (req) => confirmPhoneEnrollment(s, principal(req), { enrollmentId: req.params.enrollmentId, code: req.body.code, origin: origin(req) }));

    app.patch('/v1/me/factors/:factorId', {
      schema: { tags, summary: 'Rename one of my sign-in methods (a security key, a passkey)', params: z.object({ factorId: uuid }), body: z.object({ label: z.string().trim().min(1).max(64) }), response: { 200: ok, ...errors } },
    }, async (req) => {
      await me.renameFactor(s, principal(req), req.params.factorId, req.body.label, origin(req));
      return { ok: true as const };
    });

    app.delete('/v1/me/factors/:factorId', {
      schema: { tags, summary: 'Remove a sign-in method (fresh authentication needed)', params: z.object({ factorId: uuid }), response: { 200: ok, ...errors } },
    }, async (req) => {
      await me.removeFactor(s, principal(req), req.params.factorId, origin(req));
      return { ok: true as const };
    });

    app.post('/v1/me/recovery-codes', {
      schema: { tags, summary: 'Create new recovery codes, shown once (fresh authentication needed)', response: { 200: z.object({ recoveryCodes: z.array(z.string()) }), ...errors } },
    }, async (req) => ({ recoveryCodes: await me.regenerateRecoveryCodes(s, principal(req), origin(req)) }));

    app.get('/v1/me/sessions', {
      schema: {
        tags,
        summary: 'My live sessions',
        response: {
          200: z.object({
            sessions: z.array(z.object({ id: z.string(), current: z.boolean(), aal: z.number(), methods: z.array(z.string()), createdAt: z.string(), lastSeenAt: z.string(), expiresAt: z.string(), ip: z.string().nullable(), userAgent: z.string().nullable() })),
          }),
          ...errors,
        },
      },
    }, async (req) => {
      const p = principal(req);
      const rows = await s.store.sessions.listLive(p.userId, s.clock());
      return {
        sessions: rows.map((r) => ({
          id: r.id, current: r.id === p.id, aal: r.aal, methods: r.methods, createdAt: r.created_at.toISOString(), lastSeenAt: r.last_seen_at.toISOString(), expiresAt: r.expires_at.toISOString(), ip: r.ip, userAgent: r.user_agent,
        })),
      };
    });

    app.delete('/v1/me/sessions/:sessionId', {
      schema: { tags, summary: 'Revoke one of my sessions', params: z.object({ sessionId: uuid }), response: { 200: ok, ...errors } },
    }, async (req) => {
      const p = principal(req);
      if (!(await s.store.sessions.revoke(p.userId, req.params.sessionId, s.clock()))) throw new AppError('not_found');
      await audit(s, { tenantId: p.tenantId, type: 'session.revoked', outcome: 'success', actor: { type: 'user', id: p.userId }, target: { type: 'session', id: req.params.sessionId }, origin: origin(req), data: { current: req.params.sessionId === p.id } });
      return { ok: true as const };
    });

    app.get('/v1/me/activity', {
      schema: {
        tags,
        summary: 'My recent sign-in activity: sign-ins, failed attempts, lockouts, factor, password and session changes (newest first)',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(MAX_ACTIVITY_LIMIT).default(20) }),
        response: {
          200: z.object({
            events: z.array(z.object({
              id: z.number(),
              type: z.enum(['signin', 'signin_failed', 'locked_out', 'reauthentication', 'reauthentication_failed', 'factor_added', 'factor_removed', 'factors_reset', 'unlocked', 'recovery_codes_regenerated', 'password_changed', 'password_change_failed', 'session_revoked']),
              outcome: z.enum(['success', 'failure']),
              at: z.string(),
              ip: z.string().nullable(),
              userAgent: z.string().nullable(),
              methods: z.array(z.string()).optional().describe('Sign-ins: methods used; failed attempts: the method tried; factor changes: the kind'),
              reason: z.string().optional().describe('Failed attempts: why (wrong_password, locked, throttled, ...)'),
            })),
          }),
          ...errors,
        },
      },
    }, async (req) => {
      const p = principal(req);
      return { events: await userActivity(s.store.db, { tenantId: p.tenantId, userId: p.userId, email: p.userEmail, limit: req.query.limit }) };
    });
  };
}
