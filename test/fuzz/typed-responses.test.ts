/**
 * The fuzzer's "a 2xx body matches its declared response schema" property (./checks.ts) only bites
 * where the schema constrains the body. This keeps it so on every operation: no 2xx answer in the
 * OpenAPI document may be untyped (record<unknown>, unknown, a loose object, JSON without a schema),
 * the one free-form part (an audit event's details) named in ./unconstrained.ts. It also checks the
 * detector itself on a route that reintroduces record<unknown>, and that a wrong verification view
 * is now caught where the old record<unknown> schema let it pass.
 */
import swagger from '@fastify/swagger';
import Fastify from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openapiDocument } from '../../scripts/api-types.js';
import type { Schema } from './schema-arb.js';
import { checkSchema } from './schema-check.js';
import { unconstrainedParts, untypedResponses } from './unconstrained.js';

const doc = (await openapiDocument()) as unknown as Schema;
const json = (s: z.ZodType) => z.toJSONSchema(s, { io: 'output' }) as Schema;
const response = (key: string, status: string) => {
  const [method, path] = key.split(' ') as [string, string];
  return doc.paths[path][method.toLowerCase()].responses[status].content['application/json'].schema as Schema;
};

/** The document of a one-route app built the way src/http/app.ts builds Callwarden's. */
async function docWith(res: z.ZodType): Promise<Schema> {
  const app = Fastify().withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 't', version: '1' } }, transform: jsonSchemaTransform });
  app.get('/x', { schema: { response: { 200: res } } }, async () => ({}) as never);
  await app.ready();
  const out = app.swagger() as unknown as Schema;
  await app.close();
  return out;
}

const view = {
  id: 'v1', customerId: 'c1', interactionId: 'call-1', channel: 'agent', state: 'pending', level: 'standard', requestedLevel: 'standard',
  completedMethods: ['pin'], status: { level: 'standard', satisfied: false, alternatives: [{ requirements: ['possession'], met: [], missing: ['possession'] }] },
  available: [{ method: 'otp_sms', contacts: [{ id: 'k1', kind: 'phone', masked: '+1 *** *** 0100', eligible: true }] }], attemptsLeft: 4,
  risk: { score: 10, level: 'low', signals: [{ signal: 'ani_match', points: 10, detail: 'caller number withheld or not passed' }] },
  expiresAt: '2026-12-01T20:00:00.000Z', verifiedAt: null, locale: null,
};

describe('every 2xx response of the OpenAPI document is typed', () => {
  it('no operation answers 2xx with a body the schema check cannot check', () => {
    expect(Object.keys(doc.paths).length).toBeGreaterThan(50);
    expect(untypedResponses(doc)).toEqual([]);
  });

  it('the detector flags record<unknown>, unknown, loose objects and free arrays, and passes real shapes', () => {
    expect(unconstrainedParts(json(z.record(z.string(), z.unknown())))).toEqual(['${}']);
    expect(unconstrainedParts(json(z.object({ a: z.unknown() })))).toEqual(['$.a']);
    expect(unconstrainedParts(json(z.object({ keys: z.array(z.record(z.string(), z.unknown())) })))).toEqual(['$.keys[]{}']);
    expect(unconstrainedParts(json(z.looseObject({ id: z.string() })))).toEqual(['${}']);
    expect(unconstrainedParts(json(z.object({ a: z.array(z.any()) })))).toEqual(['$.a[]']);
    expect(unconstrainedParts(json(z.object({ id: z.string(), tags: z.array(z.string()), n: z.number().nullable() })))).toEqual([]);
    expect(unconstrainedParts(json(z.record(z.string(), z.enum(['off', 'on']))))).toEqual([]);
    expect(unconstrainedParts(json(z.union([z.object({ a: z.string() }), z.object({ b: z.record(z.string(), z.unknown()) })])))).toEqual(['$.b{}']);
  });

  it('a route that reintroduces record<unknown> (or declares no schema) fails the check', async () => {
    expect(untypedResponses(await docWith(z.object({ verification: z.record(z.string(), z.unknown()) })))).toEqual(['GET /x 200: accepts anything at $.verification{}']);
    expect(untypedResponses(await docWith(z.object({ id: z.string() })))).toEqual([]);
  });

  it('a wrong verification view is caught now; the old record<unknown> schema let it through', () => {
    const schema = response('GET /v1/tenants/{tenant}/verifications/{id}', '200');
    expect(checkSchema(view, schema)).toEqual([]);
    const wrong = { ...view, state: 'approved', risk: { score: 'low' }, completedMethods: ['pin', 'retina'] };
    const problems = checkSchema(wrong, schema).join('\n');
    expect(problems).toMatch(/\$\.state: "approved" not in enum/);
    expect(problems).toMatch(/\$\.risk\.score: expected number/);
    expect(problems).toMatch(/\$\.risk\.level: required/);
    expect(problems).toMatch(/\$\.completedMethods\[1\]: "retina" not in enum/);
    const { risk: _risk, ...withoutRisk } = view;
    expect(checkSchema(withoutRisk, schema)).toEqual(['$.risk: required']);
    expect(checkSchema({ ...view, secret: 'x' }, schema)).toEqual(['$.secret: not allowed']);
    expect(checkSchema(wrong, json(z.record(z.string(), z.unknown())))).toEqual([]);
    // a reference the check cannot follow is a problem, not a pass
    expect(checkSchema(wrong, { $ref: '#/components/schemas/VerificationView' })).toEqual(['$: cannot resolve #/components/schemas/VerificationView']);
  });
});
