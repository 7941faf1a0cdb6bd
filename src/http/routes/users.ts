/** Tenant administration: users (invite, roles, disable, unlock) and custom roles. Factor resets: ./approvals.ts. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import { builtinRoles, isBuiltinRole, isTenantPermission, tenantPermissions } from '../../domain/permissions.js';
import { audit } from '../../services/audit-log.js';
import type { Services } from '../../services/context.js';
import * as users from '../../services/users.js';
import { origin, principal, requireSession, tenantFor } from '../auth.js';
import { keyFacts, modelNames } from '../../services/self-service.js';
import { errors, ok, ownFactor, tenantParam, tenantUserParams, userOut, uuid } from '../schemas.js';

const adminFactor = ownFactor.pick({ id: true, kind: true, label: true, lastUsedAt: true, key: true }).extend({ status: z.enum(['active', 'suspended']) });

const roleOut = z.object({ name: z.string(), description: z.string(), permissions: z.array(z.string()), builtin: z.boolean() });

const listedUser = userOut.extend({
  methods: z.array(z.string()).describe('Active second-factor kinds'),
  locked: z.boolean().describe('Sign-in locked by failed attempts (an admin can unlock)'),
});

export function userRoutes(s: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', requireSession(s));
    const tags = ['users'];
    const actor = (req: Parameters<typeof principal>[0]) => ({ type: 'user' as const, id: principal(req).userId });

    app.get('/v1/tenants/:tenant/users', {
      schema: {
        tags,
        summary: 'List users',
        params: tenantParam,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100), offset: z.coerce.number().int().min(0).default(0) }),
        response: { 200: z.object({ users: z.array(listedUser) }), ...errors },
      },
    }, async (req) => {
      const t = await tenantFor(s, req, req.params.tenant, 'users.read');
      return { users: await users.describeUsers(s, t, await s.store.users.list(t.id, req.query)) };
    });

    app.post('/v1/tenants/:tenant/users', {
      schema: {
        tags,
        summary: 'Invite a user (a one-time setup link goes to their email)',
        params: tenantParam,
        body: z.object({ email: z.string().min(3).max(254), displayName: z.string().max(200).optional(), roles: z.array(z.string().min(1).max(64)).min(1).max(20) }),
        response: { 201: userOut, ...errors },
      },
    }, async (req, reply) => {
      const t = await tenantFor(s, req, req.params.tenant, 'users.invite');
      const r = await users.inviteUser(s, { tenant: t, ...req.body, actor: actor(req), origin: origin(req) });
      return reply.status(201).send(users.publicUser(r.user));
    });

    app.get('/v1/tenants/:tenant/users/:userId', {
      schema: { tags, summary: 'Read a user', params: tenantUserParams, response: { 200: listedUser.extend({ factors: z.array(adminFactor) }), ...errors } },
    }, async (req) => {
      const t = await tenantFor(s, req, req.params.tenant, 'users.read');
      const u = await s.store.users.byId(t.id, req.params.userId);
      if (!u) throw new AppError('not_found');
      const [described] = await users.describeUsers(s, t, [u]);
      const rows = await s.store.credentials.list({ type: 'user', id: u.id });
      const models = await modelNames(s, rows);
      const factors = rows.map((f) => ({
        id: f.id,
        kind: f.kind,
        label: f.label,
        status: f.status as 'active' | 'suspended',
        lastUsedAt: f.last_used_at?.toISOString() ?? null,
        ...(f.kind === 'webauthn' ? { key: keyFacts(f.meta, models) } : {}),
      }));
      return { ...described!, factors };
    });

    for (const [path, suspend] of [['suspend', true], ['resume', false]] as const) {
      app.post(`/v1/tenants/:tenant/users/:userId/factors/:factorId/${path}`, {
        schema: {
          tags,
          summary: suspend ? "Suspend one of a user's security keys or other factors (it cannot be used until resumed)" : 'Resume a suspended factor',
          params: tenantUserParams.extend({ factorId: uuid }),
          response: { 200: ok, ...errors },
        },
      }, async (req) => {
        const t = await tenantFor(s, req, req.params.tenant, 'users.factors.reset');
        await users.setFactorSuspended(s, { tenantId: t.id, userId: req.params.userId, factorId: req.params.factorId, suspended: suspend, actor: actor(req), origin: origin(req) });
        return { ok: true as const };
      });
    }

    app.put('/v1/tenants/:tenant/users/:userId/roles', {
      schema: { tags, summary: "Set a user's roles", params: tenantUserParams, body: z.object({ roles: z.array(z.string().min(1).max(64)).max(20) }), response: { 200: userOut, ...errors } },
    }, async (req) => {
      const t = await tenantFor(s, req, req.params.tenant, 'users.update');
      return users.publicUser(await users.setRoles(s, { tenant: t, userId: req.params.userId, roles: req.body.roles, actor: actor(req), origin: origin(req) }));
    });

    const action = (path: string, summary: string, permission: 'users.disable' | 'users.factors.reset' | 'users.invite', fn: (a: { tenantId: string; userId: string; actor: users.Actor; origin: ReturnType<typeof origin> }) => Promise<unknown>) =>
      app.post(`/v1/tenants/:tenant/users/:userId/${path}`, { schema: { tags, summary, params: tenantUserParams, response: { 200: ok, ...errors } } }, async (req) => {
        const t = await tenantFor(s, req, req.params.tenant, permission);
        if (principal(req).userId === req.params.userId && path === 'disable') throw new AppError('conflict', undefined, 'You cannot disable yourself.');
        await fn({ tenantId: t.id, userId: req.params.userId, actor: actor(req), origin: origin(req) });
        return { ok: true as const };
      });
    action('disable', 'Disable a user: every session ends at once', 'users.disable', (a) => users.disableUser(s, a));
    action('enable', 'Enable a disabled user', 'users.disable', (a) => users.enableUser(s, a));
    action('unlock', 'Clear failed-attempt counters (unlock a locked factor)', 'users.factors.reset', (a) => users.unlockUser(s, a));
    action('resend-invitation', 'Send a new setup link', 'users.invite', async (a) => {
      const t = (await s.store.tenants.byId(a.tenantId))!;
      const u = await s.store.users.byId(a.tenantId, a.userId);
      if (!u) throw new AppError('not_found');
      if (u.status !== 'invited') throw new AppError('conflict', undefined, 'The user has already set up the account.');
      await users.sendInvitation(s, t, u, a.actor);
    });

    app.get('/v1/tenants/:tenant/roles', {
      schema: { tags: ['roles'], summary: 'Built-in and custom roles', params: tenantParam, response: { 200: z.object({ roles: z.array(roleOut), permissions: z.array(z.string()) }), ...errors } },
    }, async (req) => {
      const t = await tenantFor(s, req, req.params.tenant, 'roles.read');
      const builtin = Object.entries(builtinRoles)
        .filter(([name]) => name !== 'platform_operator' || t.is_platform)
        .map(([name, r]) => ({ name, description: r.description, permissions: [...r.permissions], builtin: true }));
      const custom = (await s.store.users.roles(t.id)).map((r) => ({ name: r.name, description: r.description, permissions: r.permissions, builtin: false }));
      return { roles: [...builtin, ...custom], permissions: [...tenantPermissions] };
    });

    app.put('/v1/tenants/:tenant/roles/:name', {
      schema: {
        tags: ['roles'],
        summary: 'Create or change a custom role',
        params: tenantParam.extend({ name: z.string().regex(/^[a-z][a-z0-9_]{1,39}$/) }),
        body: z.object({ description: z.string().max(500).default(''), permissions: z.array(z.string()).max(50) }),
        response: { 200: roleOut, ...errors },
      },
    }, async (req) => {
      const t = await tenantFor(s, req, req.params.tenant, 'roles.manage');
      if (isBuiltinRole(req.params.name)) throw new AppError('conflict', undefined, 'Built-in roles cannot be changed.');
      const bad = req.body.permissions.filter((p) => !isTenantPermission(p));
      if (bad.length) throw new AppError('invalid_request', { permissions: bad }, `Unknown permission: ${bad.join(', ')}.`);
      const r = await s.store.users.upsertRole({ tenantId: t.id, name: req.params.name, description: req.body.description, permissions: [...new Set(req.body.permissions)], now: s.clock() });
      await audit(s, { tenantId: t.id, type: 'role.saved', outcome: 'success', actor: actor(req), target: { type: 'role', id: r.name }, origin: origin(req), data: { permissions: r.permissions } });
      return { name: r.name, description: r.description, permissions: r.permissions, builtin: false };
    });

    app.delete('/v1/tenants/:tenant/roles/:name', {
      schema: { tags: ['roles'], summary: 'Delete a custom role (removed from its users)', params: tenantParam.extend({ name: z.string().min(1).max(40) }), response: { 200: ok, ...errors } },
    }, async (req) => {
      const t = await tenantFor(s, req, req.params.tenant, 'roles.manage');
      if (!(await s.store.users.deleteRole(t.id, req.params.name))) throw new AppError('not_found');
      await audit(s, { tenantId: t.id, type: 'role.deleted', outcome: 'success', actor: actor(req), target: { type: 'role', id: req.params.name }, origin: origin(req) });
      return { ok: true as const };
    });
  };
}
