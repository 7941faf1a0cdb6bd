import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, json, testApp, type TestApp } from '../helpers/app.js';

describe('API basics: health, OpenAPI, error bodies', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp();
  });
  afterAll(() => t.close());

  it('answers /healthz and /readyz', async () => {
    expect(json(await api(t.app).get('/healthz'))).toEqual({ status: 'ok' });
    expect(json(await api(t.app).get('/readyz'))).toEqual({ status: 'ready', store: 'pglite' });
  });

  it('serves an OpenAPI 3.1 document generated from the route schemas, and /docs', async () => {
    const doc = json(await api(t.app).get('/openapi.json'));
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/auth/flows', '/v1/auth/flows/{id}/password', '/v1/tenants/{tenant}/users', '/v1/me/factors/totp']));
    const start = doc.paths['/v1/auth/flows'].post;
    expect(start.requestBody.content['application/json'].schema.required).toEqual(['tenant', 'identifier']);
    expect(Object.keys(start.responses)).toEqual(expect.arrayContaining(['201', '400', '429']));
    const docs = await api(t.app).get('/docs/');
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
  });

  it('answers errors as JSON with a stable code and the request id', async () => {
    const a = api(t.app);
    const nf = await a.get('/v1/nope');
    expect(nf.statusCode).toBe(404);
    expect(json(nf)).toEqual({ code: 'not_found', message: 'Not found.', requestId: nf.headers['x-request-id'] });

    const invalid = await a.post('/v1/auth/flows', { body: { tenant: 'acme' } });
    expect(invalid.statusCode).toBe(400);
    expect(json(invalid).code).toBe('invalid_request');
    expect(json(invalid).details.issues[0].path).toContain('identifier');

    const badJson = await t.app.inject({ method: 'POST', url: '/v1/auth/flows', headers: { 'content-type': 'application/json' }, payload: '{"tenant":' });
    expect(badJson.statusCode).toBe(400);
    expect(json(badJson).code).toBe('invalid_request');

    const big = await t.app.inject({ method: 'POST', url: '/v1/auth/flows', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ tenant: 'x', identifier: 'y'.repeat(100_000) }) });
    expect(big.statusCode).toBe(413);
    expect(json(big).code).toBe('payload_too_large');

    const text = await t.app.inject({ method: 'POST', url: '/v1/auth/flows', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    expect(text.statusCode).toBe(415);
    expect(json(text).code).toBe('unsupported_media_type');

    const unauth = await a.get('/v1/me');
    expect(unauth.statusCode).toBe(401);
    expect(json(unauth).code).toBe('unauthenticated');

    const unknownTenant = await a.post('/v1/auth/flows', { body: { tenant: 'nobody', identifier: 'x@y.test' } });
    expect(unknownTenant.statusCode).toBe(404);
  });

  it('keeps a caller-supplied request id when it is well formed', async () => {
    const r = await api(t.app).get('/healthz', { headers: { 'x-request-id': 'abc-12345678' } });
    expect(r.headers['x-request-id']).toBe('abc-12345678');
  });
});
