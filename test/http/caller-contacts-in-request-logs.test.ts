/**
 * Threat (found testing the running system from outside): callers' phone numbers and email
 * addresses written to the request log. An agent looks a caller up by phone or email
 * (`GET /v1/tenants/acme/customers?q=%2B15551234567`), an administrator filters the outbox by
 * recipient, and Fastify's request line logs the whole URL, query string included, so every
 * lookup leaves the caller's contact in plain text in log files and the log pipeline.
 *
 * The server's own pino logger is captured at trace level while such requests are answered (a
 * match, a miss, a validation error, an unknown route); the number and the address appear in no
 * log line, in any encoding, while the request lines are still logged (with their path).
 *
 * Fails when: the `req` serializer of the request logger (src/http/app.ts) logs `req.url` with its
 * query string.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/http/app.js';
import { createServices } from '../../src/services/context.js';
import { api, type TestApp } from '../helpers/app.js';
import { callerFixture } from '../helpers/callers.js';
import { testStore } from '../helpers/db.js';

const PHONE = '+15551234567';
const EMAIL = 'caller.private@example.com';
const KNOWN_PHONE = '+14155550134';
const KNOWN_EMAIL = 'dana@example.com';

describe('no caller contacts in request logs', () => {
  const lines: string[] = [];
  let t: TestApp;
  let f: Awaited<ReturnType<typeof callerFixture>>;

  beforeAll(async () => {
    const store = await testStore('pglite');
    const config = loadConfig({
      CALLWARDEN_DATA_DIR: 'memory:',
      CALLWARDEN_LOG_LEVEL: 'trace',
      CALLWARDEN_ARGON2_MEMORY_KIB: '8192',
      CALLWARDEN_ARGON2_ITERATIONS: '1',
      CALLWARDEN_IP_ATTEMPTS_PER_MINUTE: '100000',
      CALLWARDEN_IDENTIFIER_ATTEMPTS_PER_MINUTE: '100000',
    });
    const sink = new Writable({ write: (chunk, _enc, done) => { lines.push(...String(chunk).split('\n').filter(Boolean)); done(); } });
    const s = createServices(config, store, { log: pino({ level: 'trace' }, sink) });
    const app = await buildApp(s);
    t = { app, s, clock: { now: () => new Date(), advance: () => undefined }, close: async () => { await app.close(); await store.close(); } };
    f = await callerFixture(t); // Dana Whitfield: +1 415 555 0134, dana@example.com
  });
  afterAll(() => t.close());

  it('searches by phone or email log the path, never the number or the address', async () => {
    lines.length = 0;
    const a = api(t.app);
    const found = await a.get(`/v1/tenants/acme/customers?q=${encodeURIComponent(KNOWN_PHONE)}&by=phone`, { token: f.agent });
    expect(found.statusCode, found.body).toBe(200);
    expect(found.json().customers).toHaveLength(1);
    expect((await a.get(`/v1/tenants/acme/customers?q=${encodeURIComponent(KNOWN_EMAIL)}&by=email`, { token: f.agent })).json().customers).toHaveLength(1);
    expect((await a.get(`/v1/tenants/acme/customers?q=${encodeURIComponent(PHONE)}&by=phone`, { token: f.agent })).statusCode).toBe(200);
    expect((await a.get(`/v1/tenants/acme/customers?q=${encodeURIComponent(EMAIL)}`, { token: f.agent })).statusCode).toBe(200);
    expect((await a.get(`/v1/tenants/acme/customers?phone=${encodeURIComponent(PHONE)}`, { token: f.agent })).statusCode).toBe(400);
    expect((await a.get(`/v1/tenants/acme/customers?q=${encodeURIComponent(PHONE)}&by=nonsense`, { token: f.agent })).statusCode).toBe(400);
    expect((await a.get(`/v1/no-such-route?email=${encodeURIComponent(EMAIL)}&phone=${PHONE}`)).statusCode).toBe(404);
    expect((await a.get(`/v1/tenants/acme/outbox?recipient=${encodeURIComponent(EMAIL)}`, { token: f.admin })).statusCode).toBe(200);

    const requestLines = lines.filter((l) => l.includes('"incoming request"'));
    expect(requestLines.length).toBeGreaterThanOrEqual(8);
    expect(requestLines.some((l) => l.includes('/v1/tenants/acme/customers'))).toBe(true);
    const all = lines.join('\n');
    const digits = PHONE.slice(1);
    for (const needle of [digits, encodeURIComponent(PHONE), EMAIL, encodeURIComponent(EMAIL), 'caller.private', '555123', '4155550134', encodeURIComponent(KNOWN_EMAIL), 'dana@']) {
      expect(all.includes(needle), `log holds ${needle}`).toBe(false);
    }
  });
});
