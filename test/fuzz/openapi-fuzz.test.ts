/**
 * Property-based fuzzing of every operation in the OpenAPI document (GET /openapi.json) against an
 * in-process server on in-memory PGlite with a seeded tenant (see ./world.ts for what is seeded and
 * ./requests.ts for what is generated). Properties (./checks.ts): no status >= 500; every 4xx is
 * JSON with a registry code, its status, a message and a request id; no stack traces; 2xx bodies
 * match the declared response schema, which types every 2xx answer (./unconstrained.ts); Object.prototype
 * stays clean.
 *
 * Then the body-parsing edges: oversized bodies (413), deep nesting (4xx fast, server healthy),
 * non-JSON content types (415), invalid JSON (400) and prototype-pollution payloads.
 *
 * Reproducible: FUZZ_SEED (default below) and FUZZ_RUNS (per operation) change the run; fast-check
 * prints the seed and the counterexample path on failure, which FUZZ_SEED + FUZZ_PATH replay;
 * FUZZ_OPS (a regular expression on "METHOD /path") limits the operations. See docs/testing.md.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { pollutionProblems, responseProblems } from './checks.js';
import { POLLUTION_MARK } from './mutations.js';
import { operations, resolve, specArb, type Operation, type Spec } from './requests.js';
import { buildWorld } from './world.js';
import { untypedResponses } from './unconstrained.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_260_701);
const RUNS = Number(process.env.FUZZ_RUNS ?? 30);
const REPLAY_PATH = process.env.FUZZ_PATH || undefined;
const ONLY = process.env.FUZZ_OPS ? new RegExp(process.env.FUZZ_OPS) : undefined;

const world = await buildWorld();
const app = world.app;
const docRes = await app.inject({ method: 'GET', url: '/openapi.json' });
const doc = JSON.parse(docRes.body);
const allOps = operations(doc);
const ops = allOps.filter((o) => !ONLY || ONLY.test(o.key));
const stats = new Map<string, Record<string, number>>();

afterAll(() => world.close());

interface Sent {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

/** Sends a request; a server-sent event stream is read up to its first event, then closed. */
async function send(o: Operation, req: ReturnType<typeof resolve>): Promise<Sent> {
  if (!o.stream) {
    const r = await app.inject(req);
    return { statusCode: r.statusCode, headers: r.headers, body: r.body };
  }
  const r = await app.inject({ ...req, payloadAsStream: true });
  const stream = r.stream();
  const isStream = String(r.headers['content-type'] ?? '').startsWith('text/event-stream');
  const chunks: Buffer[] = [];
  await new Promise<void>((done) => {
    const timer = setTimeout(done, 2000);
    stream.on('data', (c: Buffer) => {
      chunks.push(c);
      if (isStream && Buffer.concat(chunks).includes('\n\n')) {
        clearTimeout(timer);
        done();
      }
    });
    stream.on('end', () => (clearTimeout(timer), done()));
    stream.on('error', () => (clearTimeout(timer), done()));
  });
  if (isStream) r.raw.res.emit('close'); // the client goes away: the route ends the stream
  return { statusCode: r.statusCode, headers: r.headers, body: Buffer.concat(chunks).toString('utf8') };
}

/** The property for one operation: whatever is sent, the response has the properties of ./checks.ts. */
function propertyFor(o: Operation, tally: Record<string, number>) {
  return fc.asyncProperty(specArb(o, world), async (spec: Spec) => {
    if (o.path.startsWith('/v1/auth/flows/')) await world.newFlow();
    const req = resolve(o, spec, world);
    const res = await send(o, req);
    tally[res.statusCode] = (tally[res.statusCode] ?? 0) + 1;
    if (process.env.FUZZ_LOG) console.log(`${res.statusCode} ${req.method} ${req.url.slice(0, 120)} ${String(req.payload ?? '').slice(0, 200)}\n    -> ${res.body.slice(0, 300)}`);
    const problems = [...responseProblems(o, res), ...pollutionProblems()];
    if (problems.length) throw new Error(`${problems.join('; ')}\n${describeRequest(req)}\nresponse ${res.statusCode}: ${res.body.slice(0, 800)}`);
  });
}

function describeRequest(req: ReturnType<typeof resolve>): string {
  const body = typeof req.payload === 'string' ? req.payload : '';
  return `${req.method} ${req.url.slice(0, 300)}\nheaders: ${JSON.stringify(req.headers).slice(0, 600)}\nbody (${body.length} chars): ${body.slice(0, 600)}`;
}

describe('fuzzing every operation of the OpenAPI document', () => {
  it('the document lists the operations (and the fuzzer understands them)', () => {
    expect(docRes.statusCode).toBe(200);
    expect(allOps.length).toBeGreaterThan(60);
    for (const o of allOps) for (const p of o.params.filter((x) => x.in === 'path')) expect(o.path, `${o.key} declares {${p.name}}`).toContain(`{${p.name}}`);
    // the 2xx schema check below bites on every operation: no 2xx answer is untyped (./unconstrained.ts)
    expect(untypedResponses(doc)).toEqual([]);
  });

  for (const o of ops) {
    it(o.key, async () => {
      await world.restore();
      if (o.path.includes('/verifications/') || o.path.includes('/interactions/')) await world.newVerifications();
      const tally: Record<string, number> = {};
      stats.set(o.key, tally);
      await fc.assert(propertyFor(o, tally), { seed: SEED, numRuns: RUNS, ...(REPLAY_PATH ? { path: REPLAY_PATH } : {}) });
    });
  }

  it('reached past authentication and validation on most operations', () => {
    if (process.env.FUZZ_VERBOSE) for (const [k, t] of stats) console.log(k.padEnd(70), JSON.stringify(t));
    if (ONLY) return;
    const never2xx = [...stats].filter(([, t]) => !Object.keys(t).some((s) => s.startsWith('2'))).map(([k, t]) => `${k} ${JSON.stringify(t)}`);
    expect(stats.size).toBe(allOps.length);
    // a fuzzer that only ever sees 401 and 400 tests nothing: most operations must succeed sometimes
    // (some cannot without a secret the fuzzer does not have: setup links, TOTP codes, a current password)
    expect(never2xx.length, `operations that never answered 2xx:\n${never2xx.join('\n')}`).toBeLessThan(allOps.length * 0.35);
  });
});

describe('methods and paths outside the document', () => {
  it('any method on any path: no 5xx, and errors in the registry format', async () => {
    await world.restore();
    const apiPath = fc.oneof(
      fc.constantFrom(...allOps.map((o) => o.path)).map((p) => p.replace(/\{\w+\}/g, 'acme')),
      fc.constantFrom('/v1', '/v1/', '//v1//me', '/v1/../../etc/passwd', '/v1/%2e%2e/%2e%2e/', '/v1/tenants/acme/customers/../users', '/v1/me/', '/v1/ME', '/openapi.json/', '/docs/json', '/v2/me', '/v1/tenants/acme/%00', '/v1/tenants/acme?x=%'),
    );
    const method = fc.constantFrom('GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'PATCH', 'DELETE', 'POST', 'PROPFIND', 'SEARCH');
    const auth = fc.constantFrom<Record<string, string>>({}, { authorization: `Bearer ${world.principals.admin.token}` });
    await fc.assert(
      fc.asyncProperty(method, apiPath, auth, async (m, url, headers) => {
        const r = await app.inject({ method: m as 'GET', url, headers });
        // HEAD has no body; a 2xx may be the console (URLs are normalized: /v1/%2e%2e/ is /)
        const problems = m !== 'HEAD' && r.statusCode >= 400 ? responseProblems({ ...allOps[0]!, op: {} }, r) : r.statusCode >= 500 ? [`status ${r.statusCode}`] : [];
        if (problems.length) throw new Error(`${problems.join('; ')}\n${m} ${url}\n${r.statusCode} ${r.body.slice(0, 400)}`);
      }),
      { seed: SEED, numRuns: RUNS * 3 },
    );
  });
});

describe('the properties can fail (checks of the oracle itself)', () => {
  const op = () => allOps.find((o) => o.key === 'GET /v1/tenants/{tenant}')!;
  it('a route that throws is caught as a 500 with its counterexample', async () => {
    await world.restore();
    const spy = vi.spyOn(world.t.s.store.tenants, 'bySlug').mockRejectedValue(new Error('boom'));
    try {
      const out = await fc.check(propertyFor(op(), {}), { seed: SEED, numRuns: RUNS });
      expect(out.failed).toBe(true);
      expect(String(out.errorInstance)).toContain('status 500');
      expect(out.counterexample).not.toBeNull();
    } finally {
      spy.mockRestore();
    }
  });
  it('an error outside the registry, a stack trace, a wrong 2xx body and a polluted prototype are reported', () => {
    const json = { 'content-type': 'application/json; charset=utf-8' };
    const health = allOps.find((o) => o.key === 'GET /healthz')!;
    expect(responseProblems(health, { statusCode: 400, headers: json, body: '{"error":"Bad Request","code":"FST_ERR_BAD_URL","message":"x","statusCode":400}' }).join()).toMatch(/not in the error registry/);
    expect(responseProblems(health, { statusCode: 404, headers: json, body: '{"code":"forbidden","message":"x","requestId":"r"}' }).join()).toMatch(/registry says 403/);
    expect(responseProblems(health, { statusCode: 400, headers: { 'content-type': 'text/html' }, body: '<h1>Bad</h1>' }).join()).toMatch(/not JSON/);
    expect(responseProblems(health, { statusCode: 400, headers: json, body: '{"code":"invalid_request","message":"TypeError: x\\n    at f (/work/main/src/a.ts:1:2)","requestId":"r"}' }).join()).toMatch(/stack trace/);
    expect(responseProblems(health, { statusCode: 200, headers: json, body: '{"status":"nope"}' }).join()).toMatch(/response schema/);
    expect(responseProblems(health, { statusCode: 503, headers: json, body: '{"code":"unavailable","message":"x","requestId":"r"}' }).join()).toMatch(/status 503/);
    expect(responseProblems(health, { statusCode: 200, headers: json, body: '{"status":"ok"}' })).toEqual([]);
    (Object.prototype as Record<string, unknown>)[POLLUTION_MARK] = 'yes';
    try {
      expect(pollutionProblems()).not.toEqual([]);
    } finally {
      delete (Object.prototype as Record<string, unknown>)[POLLUTION_MARK];
    }
    expect(pollutionProblems()).toEqual([]);
  });
});

describe('body parsing at the edges', () => {
  const admin = () => ({ authorization: `Bearer ${world.principals.admin.token}` });
  const expectError = (r: { statusCode: number; body: string; headers: Record<string, unknown> }, status: number, code: string) => {
    expect(r.statusCode, r.body).toBe(status);
    expect(JSON.parse(r.body)).toMatchObject({ code, message: expect.any(String), requestId: expect.any(String) });
  };
  const healthy = async () => expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

  it('a body over the 64 KiB limit is refused with 413 payload_too_large', async () => {
    await world.restore();
    const big = JSON.stringify({ tenant: 'acme', identifier: 'x'.repeat(70 * 1024) });
    expectError(await app.inject({ method: 'POST', url: '/v1/auth/flows', headers: { 'content-type': 'application/json' }, payload: big }), 413, 'payload_too_large');
    expectError(await app.inject({ method: 'POST', url: '/v1/tenants/acme/customers', headers: { ...admin(), 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x'.repeat(65 * 1024) }) }), 413, 'payload_too_large');
    // the import route allows 4 MiB; beyond that it is refused too
    const huge = JSON.stringify({ format: 'csv', data: 'x'.repeat(4 * 1024 * 1024 + 8192) });
    expectError(await app.inject({ method: 'POST', url: '/v1/tenants/acme/customers/import', headers: { ...admin(), 'content-type': 'application/json' }, payload: huge }), 413, 'payload_too_large');
    // a content-length that does not match the body
    const lying = await app.inject({ method: 'POST', url: '/v1/auth/flows', headers: { 'content-type': 'application/json', 'content-length': '100000' }, payload: '{"tenant":"acme","identifier":"a"}' });
    expect(lying.statusCode).toBeGreaterThanOrEqual(400);
    expect(lying.statusCode).toBeLessThan(500);
    expect(responseProblems(allOps[0]!, lying)).toEqual([]);
    await healthy();
  });

  it('deeply nested JSON is answered with a 4xx quickly and the server stays healthy', async () => {
    await world.restore();
    const arrays = (n: number) => '['.repeat(n) + ']'.repeat(n);
    const objects = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    const policy = await app.inject({ method: 'GET', url: '/v1/tenants/acme/policy', headers: admin() });
    const version = JSON.parse(policy.body).version;
    const cases: Array<[string, string, string, Record<string, string>]> = [
      ['POST', '/v1/auth/flows', arrays(10_000), {}],
      ['POST', '/v1/auth/flows', objects(10_000), {}],
      ['POST', '/v1/auth/flows', `{"tenant":"acme","identifier":${arrays(10_000)}}`, {}],
      ['PUT', '/v1/tenants/acme/policy', `{"version":${version},"policy":{"mfa":${arrays(15_000)}}}`, admin()],
      ['PUT', '/v1/tenants/acme/policy', `{"version":${version},"policy":{"x":${objects(10_000)}}}`, admin()],
      ['POST', '/v1/tenants/acme/policy/preview', `{"policy":{"x":${objects(10_000)}}}`, admin()],
      ['POST', '/v1/tenants/acme/policy/preview', `{"policy":{"mfa":${arrays(15_000)}}}`, admin()],
      ['POST', '/v1/tenants/acme/customers', `{"name":"Deep","contacts":${arrays(15_000)}}`, admin()],
      ['PUT', '/v1/tenants/acme/templates', `{"templates":${arrays(15_000)}}`, admin()],
    ];
    for (const [method, url, payload, headers] of cases) {
      const started = Date.now();
      const r = await app.inject({ method: method as 'POST', url, headers: { ...headers, 'content-type': 'application/json' }, payload });
      const took = Date.now() - started;
      expect(r.statusCode, `${method} ${url}: ${r.body.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
      expect(r.statusCode, `${method} ${url}: ${r.body.slice(0, 300)}`).toBeLessThan(500);
      expect(responseProblems(allOps[0]!, r), `${method} ${url}`).toEqual([]);
      expect(took, `${method} ${url} took ${took} ms`).toBeLessThan(2000);
      await healthy();
    }
  });

  it('a body that is not JSON is refused with 415 unsupported_media_type', async () => {
    await world.restore();
    for (const type of ['text/plain', 'text/html', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=----x', 'application/octet-stream', 'image/png', 'application/jsonx']) {
      const r = await app.inject({ method: 'POST', url: '/v1/auth/flows', headers: { 'content-type': type }, payload: 'tenant=acme&identifier=a' });
      expectError(r, 415, 'unsupported_media_type');
      const authed = await app.inject({ method: 'PUT', url: '/v1/tenants/acme/templates', headers: { ...admin(), 'content-type': type }, payload: 'templates=' });
      expectError(authed, 415, 'unsupported_media_type');
    }
    // no content-type at all, with a body
    expectError(await app.inject({ method: 'POST', url: '/v1/auth/flows', payload: '{"tenant":"acme","identifier":"a"}' }), 415, 'unsupported_media_type');
    // JSON to the Twilio webhook, which takes form parameters only
    const twilio = await app.inject({ method: 'POST', url: '/v1/ivr/twilio/acme/voice', headers: { 'content-type': 'text/plain', 'x-twilio-signature': 'x' }, payload: 'CallSid=1' });
    expect([403, 415]).toContain(twilio.statusCode);
    expect(responseProblems(allOps[0]!, twilio)).toEqual([]);
  });

  it('invalid JSON is refused with 400 invalid_request', async () => {
    for (const payload of ['{', '{"tenant":', '[1,2', 'nul', '"unterminated', '{"a":1}{"b":2}', '{"a":1,}', "{'a':1}", 'NaN', '{"a":01}', '{"a":.5}', '\u0000']) {
      expectError(await app.inject({ method: 'POST', url: '/v1/auth/flows', headers: { 'content-type': 'application/json' }, payload }), 400, 'invalid_request');
    }
    expectError(await app.inject({ method: 'POST', url: '/v1/auth/flows', headers: { 'content-type': 'application/json' }, payload: '' }), 400, 'invalid_request');
  });

  it('prototype-pollution payloads do not pollute Object.prototype', async () => {
    await world.restore();
    const payloads = [
      `{"__proto__":{"${POLLUTION_MARK}":"yes","isAdmin":true},"tenant":"acme","identifier":"a@acme.test"}`,
      `{"constructor":{"prototype":{"${POLLUTION_MARK}":"yes"}},"tenant":"acme","identifier":"a@acme.test"}`,
      `{"tenant":"acme","identifier":"a@acme.test","x":{"__proto__":{"${POLLUTION_MARK}":"yes"}}}`,
    ];
    const policy = JSON.parse((await app.inject({ method: 'GET', url: '/v1/tenants/acme/policy', headers: admin() })).body);
    const targets: Array<[string, string, Record<string, string>, (p: string) => string]> = [
      ['POST', '/v1/auth/flows', {}, (p) => p],
      ['PUT', '/v1/tenants/acme/policy', admin(), (p) => `{"version":${policy.version},"policy":${p}}`],
      ['POST', '/v1/tenants/acme/policy/preview', admin(), (p) => `{"policy":${p}}`],
      ['POST', '/v1/tenants/acme/customers', admin(), (p) => p.replace('"tenant":"acme"', '"name":"Proto"')],
      ['PUT', '/v1/tenants/acme/roles/proto_role', admin(), (p) => `{"permissions":[],"description":"x","meta":${p}}`],
    ];
    for (const [method, url, headers, wrap] of targets) {
      for (const p of payloads) {
        const r = await app.inject({ method: method as 'POST', url, headers: { ...headers, 'content-type': 'application/json' }, payload: wrap(p) });
        expect(r.statusCode, `${method} ${url}: ${r.body}`).toBeLessThan(500);
        expect(responseProblems(allOps[0]!, r)).toEqual([]);
        expect(pollutionProblems()).toEqual([]);
        expect(({} as Record<string, unknown>)[POLLUTION_MARK]).toBeUndefined();
      }
    }
    // the policy in force did not pick up a prototype property either
    const after = JSON.parse((await app.inject({ method: 'GET', url: '/v1/tenants/acme/policy', headers: admin() })).body);
    expect(JSON.stringify(after)).not.toContain(POLLUTION_MARK);
  });
});
