/** Self-service: the signed-in user's profile, password, factors, recovery codes and sessions. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import { startReauth } from '../../flows/signin.js';
import type { Services } from '../../services/context.js';
import * as me from '../../services/self-service.js';
import { changePassword } from '../../services/users.js';
import { origin, principal, requireSession } from '../auth.js';
import { errors, ok, stepResult, uuid } from '../schemas.js';

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
            session: z.object({ id: z.string(), aal: z.number(), methods: z.array(z.string()), authTime: z.string(), expiresAt: z.string() }),
          }),
          ...errors,
        },
      },
    }, async (req) => {
      const p = principal(req);
      return {
        userId: p.userId, email: p.userEmail, tenantId: p.tenantId, tenant: p.tenantSlug, roles: p.userRoles, permissions: [...p.permissions].sort(),
        session: { id: p.id, aal: p.aal, methods: p.methods, authTime: p.authTime.toISOString(), expiresAt: p.expiresAt.toISOString() },
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

    app.get('/v1/me/factors', {
      schema: { tags, summary: 'My sign-in methods', response: { 200: z.object({ factors: z.array(z.looseObject({ id: z.string(), kind: z.string(), label: z.string() })) }), ...errors } },
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
      return { ok: true as const };
    });
  };
}
