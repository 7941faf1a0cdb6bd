/** Platform operator: tenants. Tenant admins: their tenant's MFA policy. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { mfaModes } from '../../domain/policy.js';
import { requireFor } from '../../flows/step-up.js';
import type { Services } from '../../services/context.js';
import { currentPolicy, parseStoredPolicy, previewPolicy, savePolicy } from '../../services/policies.js';
import { createTenant, publicTenant } from '../../services/tenants.js';
import { origin, principal, requirePermission, requireSession, tenantFor } from '../auth.js';
import { errors, tenantOut, tenantParam, userOut } from '../schemas.js';
import { policyOut } from '../schemas/policy.js';
import { publicUser } from '../../services/users.js';


export function tenantRoutes(s: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', requireSession(s));

    app.get('/v1/tenants', {
      schema: { tags: ['tenants'], summary: 'List tenants (operator), each with its MFA switch', response: { 200: z.object({ tenants: z.array(tenantOut.extend({ mfaMode: z.enum(mfaModes) })) }), ...errors } },
    }, async (req) => {
      requirePermission(req, 'platform.tenants.manage');
      const rows = await s.store.tenants.listWithPolicy();
      return { tenants: rows.map((t) => ({ ...publicTenant(t), mfaMode: parseStoredPolicy(t.id, t.policy_version, t.policy).mfa.mode })) };
    });

    app.post('/v1/tenants', {
      schema: {
        tags: ['tenants'],
        summary: 'Create a tenant and invite its first administrator (operator)',
        body: z.object({
          slug: z.string().min(1).max(40),
          name: z.string().min(1).max(200),
          mfaMode: z.enum(mfaModes).optional().describe('The MFA switch: off, optional (default) or required'),
          adminEmail: z.string().max(254).optional(),
        }),
        response: { 201: z.object({ tenant: tenantOut, admin: userOut.optional() }), ...errors },
      },
    }, async (req, reply) => {
      const p = requirePermission(req, 'platform.tenants.manage');
      const r = await createTenant(s, { ...req.body, actor: { type: 'user', id: p.userId }, origin: origin(req) });
      return reply.status(201).send({ tenant: publicTenant(r.tenant), admin: r.admin ? publicUser(r.admin) : undefined });
    });

    app.get('/v1/tenants/:tenant', {
      schema: { tags: ['tenants'], summary: 'Read a tenant', params: tenantParam, response: { 200: tenantOut, ...errors } },
    }, async (req) => publicTenant(await tenantFor(s, req, req.params.tenant, 'policy.read')));

    app.get('/v1/tenants/:tenant/policy', {
      schema: { tags: ['policy'], summary: 'The MFA and session policy in force', params: tenantParam, response: { 200: policyOut, ...errors } },
    }, async (req) => currentPolicy(s, (await tenantFor(s, req, req.params.tenant, 'policy.read')).id));

    app.put('/v1/tenants/:tenant/policy', {
      schema: {
        tags: ['policy'],
        summary: 'Save a new policy version (validated, versioned, audited)',
        description: '`version` must be the version you read (optimistic concurrency); a stale one answers 409.',
        params: tenantParam,
        body: z.object({ version: z.number().int().min(0).max(2_147_483_647), policy: z.record(z.string(), z.unknown()) }),
        response: { 200: policyOut, ...errors },
      },
    }, async (req) => {
      const t = await tenantFor(s, req, req.params.tenant, 'policy.write');
      await requireFor(s, principal(req), 'policyChange');
      return savePolicy(s, { tenantId: t.id, expectedVersion: req.body.version, input: req.body.policy, actorId: principal(req).userId, origin: origin(req) });
    });

    app.post('/v1/tenants/:tenant/policy/preview', {
      schema: {
        tags: ['policy'],
        summary: 'Who a policy change would affect, before saving it',
        params: tenantParam,
        body: z.object({ policy: z.record(z.string(), z.unknown()) }),
        response: { 200: z.object({ users: z.number(), mfaRequiredNow: z.number(), mfaRequiredAfter: z.number(), mustEnroll: z.array(z.object({ id: z.string(), email: z.string() })) }), ...errors },
      },
    }, async (req) => previewPolicy(s, (await tenantFor(s, req, req.params.tenant, 'policy.read')).id, req.body.policy));
  };
}
