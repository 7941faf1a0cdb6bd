/**
 * Dual control: an administrator asks for a user's factor reset (202, pending), a different
 * administrator approves it (the reset happens then) or rejects it, the requester may cancel it.
 * Every route needs users.factors.reset in the tenant; another tenant's requests are not found.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import * as approvals from '../../services/approvals.js';
import { requireFor } from '../../flows/step-up.js';
import type { Services } from '../../services/context.js';
import { origin, principal, requireSession, tenantFor } from '../auth.js';
import { errorBody, errors, tenantParam, tenantUserParams, uuid } from '../schemas.js';

const person = z.object({ id: z.string(), email: z.string() });
export const approvalOut = z.object({
  id: z.string(),
  kind: z.literal('factor_reset'),
  status: z.enum(['pending', 'approved', 'rejected', 'expired', 'canceled']),
  reason: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  target: person,
  requestedBy: person,
  decidedBy: person.optional(),
  decidedAt: z.string().optional(),
  decisionReason: z.string().optional().describe('The reason given when rejecting or canceling'),
});
const one = z.object({ approval: approvalOut });
const params = tenantParam.extend({ id: uuid });
const withConflict = { ...errors, 409: errorBody };

export function approvalRoutes(s: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', requireSession(s));
    const tags = ['approvals'];
    const me = (req: Parameters<typeof principal>[0]) => {
      const p = principal(req);
      return { id: p.userId, email: p.userEmail };
    };
    const tenantId = async (req: Parameters<typeof principal>[0], ref: string) => (await tenantFor(s, req, ref, 'users.factors.reset')).id;

    app.post('/v1/tenants/:tenant/users/:userId/reset-factors', {
      schema: {
        tags: ['users', ...tags],
        summary: "Ask for a reset of a user's second factors; a different administrator must approve it",
        params: tenantUserParams,
        body: z.object({ reason: z.string().min(5).max(500).describe('Why (shown to the approver and audited)') }),
        response: { 202: one, ...withConflict },
      },
    }, async (req, reply) => {
      const approval = await approvals.requestFactorReset(s, { tenantId: await tenantId(req, req.params.tenant), targetUserId: req.params.userId, reason: req.body.reason, requester: me(req), origin: origin(req) });
      return reply.status(202).send({ approval });
    });

    app.get('/v1/tenants/:tenant/approvals', {
      schema: {
        tags,
        summary: 'Approval requests, newest first (pending only by default)',
        params: tenantParam,
        querystring: z.object({ status: z.enum(['pending', 'all']).default('pending') }),
        response: { 200: z.object({ approvals: z.array(approvalOut) }), ...errors },
      },
    }, async (req) => ({ approvals: await approvals.listApprovals(s, await tenantId(req, req.params.tenant), req.query.status) }));

    app.get('/v1/tenants/:tenant/approvals/:id', {
      schema: { tags, summary: 'Read an approval request', params, response: { 200: one, ...errors } },
    }, async (req) => ({ approval: await approvals.getApproval(s, await tenantId(req, req.params.tenant), req.params.id) }));

    app.post('/v1/tenants/:tenant/approvals/:id/approve', {
      schema: { tags, summary: 'Approve a request made by another administrator (the reset happens now)', params, response: { 200: one, ...withConflict } },
    }, async (req) => {
      const tid = await tenantId(req, req.params.tenant);
      await requireFor(s, principal(req), 'factorReset');
      return { approval: await approvals.approveRequest(s, { tenantId: tid, id: req.params.id, approver: me(req), origin: origin(req) }) };
    });

    const close = (action: 'reject' | 'cancel', summary: string) =>
      app.post(`/v1/tenants/:tenant/approvals/:id/${action}`, {
        schema: { tags, summary, params, body: z.object({ reason: z.string().max(500).optional().describe('Why (optional; audited)') }).nullish(), response: { 200: one, ...withConflict } },
      }, async (req) => ({ approval: await approvals.closeRequest(s, { tenantId: await tenantId(req, req.params.tenant), id: req.params.id, action, by: me(req), reason: req.body?.reason ?? undefined, origin: origin(req) }) }));
    close('reject', 'Reject a request made by another administrator');
    close('cancel', 'Cancel your own pending request');
  };
}
