/**
 * Customers (callers) of a tenant: create, update, read and search (masked), reveal one field (with
 * a reason, audited), set the PIN and security questions, bind the customer's authenticator app,
 * bulk import. Reads need customers.read, changes customers.write, reveal customers.reveal; another
 * tenant's customer answers 404.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { customerInput, customerPatchInput, regionField } from '../../customers/fields.js';
import { importFormats } from '../../customers/import-format.js';
import { requireFor } from '../../flows/step-up.js';
import type { Services } from '../../services/context.js';
import { importCustomers } from '../../services/customer-import.js';
import { QUESTIONS_MAX, QUESTIONS_MIN, setPin, setQuestions } from '../../services/customer-knowledge.js';
import { beginCustomerTotp, confirmCustomerTotp, removeCustomerTotp } from '../../services/customer-totp.js';
import * as customers from '../../services/customers.js';
import { origin, principal, requireSession, tenantFor } from '../auth.js';
import { errors, ok, tenantParam, uuid } from '../schemas.js';

/** Largest import body: about 20,000 typical rows. Bigger files: the CLI, or several requests. */
export const IMPORT_MAX_BYTES = 4 * 1024 * 1024;

const contactOut = z.object({
  id: z.string(),
  kind: z.enum(['phone', 'email']),
  value: z.string().describe('Masked: +1 •••-•••-4567, a•••@example.com'),
  label: z.string(),
  verifiedAt: z.string().nullable(),
  changedAt: z.string(),
});
const customerOut = z.object({
  id: z.string(),
  externalId: z.string().nullable(),
  name: z.string(),
  accountNumber: z.string().nullable(),
  nationalId: z.string().nullable().describe('Masked: ***-**-1234'),
  dateOfBirth: z.string().nullable().describe('Year only: 1984-**-**'),
  cardLast4: z.string().nullable().describe('Never shown: •••• when set'),
  contacts: z.array(contactOut.extend({ createdAt: z.string() })),
  pinSet: z.boolean(),
  totpSet: z.boolean().describe('The customer has an active authenticator app'),
  questions: z.array(z.object({ id: z.string(), question: z.string() })),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const summaryOut = z.object({ id: z.string().nullable(), externalId: z.string().nullable(), name: z.string(), accountNumber: z.string().nullable(), contacts: z.array(contactOut) });
const customerParams = tenantParam.extend({ id: uuid });

export function customerRoutes(s: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', requireSession(s));
    const tags = ['customers'];
    const who = (req: Parameters<typeof principal>[0], tenantId: string) => ({ tenantId, actor: { type: 'user' as const, id: principal(req).userId }, origin: origin(req) });

    app.post('/v1/tenants/:tenant/customers', {
      schema: { tags, summary: 'Create a customer', params: tenantParam, body: customerInput, response: { 201: customerOut, 409: errors[400], ...errors } },
    }, async (req, reply) => {
      const t = await tenantFor(s, req, req.params.tenant, 'customers.write');
      return reply.status(201).send(await customers.createCustomer(s, { ...who(req, t.id), input: req.body }));
    });

    app.get('/v1/tenants/:tenant/customers', {
      schema: {
        tags,
        summary: 'Find customers by external id, account number, phone or email (exact match; masked results)',
        params: tenantParam,
        querystring: z.object({
          q: z.string().trim().min(1).max(254),
          by: z.enum(customers.searchKeys).default('any'),
          region: regionField.optional(),
          limit: z.coerce.number().int().min(1).max(100).default(20),
        }),
        response: { 200: z.object({ customers: z.array(summaryOut) }), ...errors },
      },
    }, async (req) => {
      const t = await tenantFor(s, req, req.params.tenant, 'customers.read');
      return { customers: await customers.searchCustomers(s, { tenantId: t.id, ...req.query }) };
    });

    app.get('/v1/tenants/:tenant/customers/:id', {
      schema: { tags, summary: 'Read a customer (sensitive fields masked)', params: customerParams, response: { 200: customerOut, ...errors } },
    }, async (req) => {
      const t = await tenantFor(s, req, req.params.tenant, 'customers.read');
      return customers.getCustomer(s, t.id, req.params.id);
    });

    app.patch('/v1/tenants/:tenant/customers/:id', {
      schema: { tags, summary: 'Change a customer; a changed contact value resets its verification', params: customerParams, body: customerPatchInput, response: { 200: customerOut, 409: errors[400], ...errors } },
    }, async (req) => {
      const t = await tenantFor(s, req, req.params.tenant, 'customers.write');
      return customers.updateCustomer(s, { ...who(req, t.id), id: req.params.id, input: req.body });
    });

    app.post('/v1/tenants/:tenant/customers/:id/reveal', {
      schema: {
        tags,
        summary: 'Reveal one sensitive field (audited with the reason; card last four is never revealed)',
        params: customerParams,
        body: z.object({ field: z.enum(customers.revealableFields), contactId: uuid.optional(), reason: z.string().trim().min(1).max(500) }),
        response: { 200: z.object({ field: z.string(), value: z.string() }), ...errors },
      },
    }, async (req) => {
      const t = await tenantFor(s, req, req.params.tenant, 'customers.reveal');
      await requireFor(s, principal(req), 'reveal');
      return customers.revealField(s, { ...who(req, t.id), id: req.params.id, ...req.body });
    });

    app.put('/v1/tenants/:tenant/customers/:id/pin', {
      schema: { tags, summary: "Set the customer's PIN (4-8 digits; trivial and personal PINs are refused)", params: customerParams, body: z.object({ pin: z.string().min(1).max(16) }), response: { 200: ok, ...errors } },
    }, async (req) => {
      const t = await tenantFor(s, req, req.params.tenant, 'customers.write');
      await setPin(s, { ...who(req, t.id), id: req.params.id, pin: req.body.pin });
      return { ok: true as const };
    });

    app.put('/v1/tenants/:tenant/customers/:id/questions', {
      schema: {
        tags,
        summary: "Replace the customer's security questions (answers are normalized and hashed)",
        params: customerParams,
        body: z.object({ questions: z.array(z.object({ question: z.string().min(1).max(200), answer: z.string().min(1).max(200) })).min(QUESTIONS_MIN).max(QUESTIONS_MAX) }),
        response: { 200: z.object({ questions: z.array(z.object({ id: z.string(), question: z.string() })) }), ...errors },
      },
    }, async (req) => {
      const t = await tenantFor(s, req, req.params.tenant, 'customers.write');
      return { questions: await setQuestions(s, { ...who(req, t.id), id: req.params.id, questions: req.body.questions }) };
    });

    app.post('/v1/tenants/:tenant/customers/:id/totp', {
      schema: {
        tags,
        summary: "Start binding the customer's own authenticator app (the secret is shown once, for the customer to scan)",
        params: customerParams,
        body: z.object({ label: z.string().trim().min(1).max(60).optional() }).optional(),
        response: { 201: z.object({ factorId: z.string(), secret: z.string(), otpauthUri: z.string(), qrSvg: z.string() }), 409: errors[400], ...errors },
      },
    }, async (req, reply) => {
      const t = await tenantFor(s, req, req.params.tenant, 'customers.write');
      return reply.status(201).send(await beginCustomerTotp(s, { ...who(req, t.id), id: req.params.id, label: req.body?.label }));
    });

    app.post('/v1/tenants/:tenant/customers/:id/totp/:factorId/confirm', {
      schema: {
        tags,
        summary: 'Activate the authenticator app with the first code it shows',
        params: customerParams.extend({ factorId: uuid }),
        body: z.object({ code: z.string().min(1).max(32) }),
        response: { 200: z.object({ factorId: z.string(), active: z.literal(true) }), ...errors },
      },
    }, async (req) => {
      const t = await tenantFor(s, req, req.params.tenant, 'customers.write');
      return confirmCustomerTotp(s, { ...who(req, t.id), id: req.params.id, factorId: req.params.factorId, code: req.body.code });
    });

    app.delete('/v1/tenants/:tenant/customers/:id/totp', {
      schema: { tags, summary: "Unbind the customer's authenticator app", params: customerParams, response: { 200: ok, ...errors } },
    }, async (req) => {
      const t = await tenantFor(s, req, req.params.tenant, 'customers.write');
      await removeCustomerTotp(s, { ...who(req, t.id), id: req.params.id });
      return { ok: true as const };
    });

    app.post('/v1/tenants/:tenant/customers/import', {
      bodyLimit: IMPORT_MAX_BYTES + 4096,
      schema: {
        tags,
        summary: 'Import customers from CSV or JSON lines (valid rows are written; bad lines are reported)',
        params: tenantParam,
        body: z.object({ format: z.enum(importFormats), data: z.string().min(1).max(IMPORT_MAX_BYTES).describe('The file content'), region: regionField.optional() }),
        response: { 200: z.object({ created: z.number(), updated: z.number(), errors: z.array(z.object({ line: z.number(), message: z.string() })) }), ...errors },
      },
    }, async (req) => {
      const t = await tenantFor(s, req, req.params.tenant, 'customers.write');
      return importCustomers(s, { ...who(req, t.id), format: req.body.format, text: req.body.data, region: req.body.region });
    });
  };
}
