/** Sessions over time and the password life cycle: idle and absolute timeouts, logout, password change, cookies, logs. */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createServices } from '../../src/services/context.js';
import { api, json, seed, signIn, STRONG, testApp, type TestApp } from '../helpers/app.js';

describe('session life cycle', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp();
    await seed(t, { users: [{ email: 'ana@acme.test', roles: ['agent'] }, { email: 'audra@acme.test', roles: ['auditor'] }] });
  });
  afterAll(() => t.close());

  it('ends a session after the idle timeout (60 minutes by default) but not while it is used', async () => {
    const s = await signIn(t.app, 'acme', 'ana@acme.test', STRONG);
    for (let i = 0; i < 3; i++) {
      t.clock.advance(50 * 60_000);
      expect((await api(t.app).get('/v1/me', { token: s.token })).statusCode).toBe(200);
    }
    t.clock.advance(61 * 60_000);
    expect((await api(t.app).get('/v1/me', { token: s.token })).statusCode).toBe(401);
  });

  it('ends a session at its absolute timeout (24 hours by default) however active', async () => {
    const s = await signIn(t.app, 'acme', 'ana@acme.test', STRONG);
    for (let i = 0; i < 24; i++) {
      t.clock.advance(59 * 60_000); // 24 x 59 min = 23 h 36 min: still inside
      expect((await api(t.app).get('/v1/me', { token: s.token })).statusCode).toBe(200);
    }
    t.clock.advance(30 * 60_000); // 24 h 6 min after sign-in
    expect((await api(t.app).get('/v1/me', { token: s.token })).statusCode).toBe(401);
  });

  it('changing the password needs the current one, checks the rules, ends other sessions and sends a notice', async () => {
    const keep = await signIn(t.app, 'acme', 'ana@acme.test', STRONG);
    const other = await signIn(t.app, 'acme', 'ana@acme.test', STRONG);
    const a = api(t.app);
    const wrong = await a.post('/v1/me/password', { token: keep.token, body: { currentPassword: 'not it at all', newPassword: 'a brand new passphrase 77' } });
    expect(wrong.statusCode).toBe(401);
    const weak = await a.post('/v1/me/password', { token: keep.token, body: { currentPassword: STRONG, newPassword: 'qwerty123' } });
    expect(json(weak).code).toBe('weak_password');
    const ok = await a.post('/v1/me/password', { token: keep.token, body: { currentPassword: STRONG, newPassword: 'a brand new passphrase 77' } });
    expect(ok.statusCode).toBe(200);
    expect((await a.get('/v1/me', { token: keep.token })).statusCode).toBe(200);
    expect((await a.get('/v1/me', { token: other.token })).statusCode).toBe(401);
    expect((await signIn(t.app, 'acme', 'ana@acme.test', STRONG)).res.statusCode).toBe(401);
    expect((await signIn(t.app, 'acme', 'ana@acme.test', 'a brand new passphrase 77')).res.statusCode).toBe(200);
    const notices = await t.s.store.outbox.list({ recipient: 'ana@acme.test' });
    expect(notices.map((n) => n.template)).toContain('password_changed');
  });

  it('the auditor reads and exports the audit log but cannot administer users', async () => {
    const s = await signIn(t.app, 'acme', 'audra@acme.test', STRONG);
    const a = api(t.app);
    expect((await a.get('/v1/tenants/acme/audit', { token: s.token })).statusCode).toBe(200);
    expect((await a.get('/v1/tenants/acme/audit/export', { token: s.token })).statusCode).toBe(200);
    expect((await a.get('/v1/tenants/acme/users', { token: s.token })).statusCode).toBe(200);
    expect((await a.post('/v1/tenants/acme/users', { token: s.token, body: { email: 'x@acme.test', roles: ['agent'] } })).statusCode).toBe(403);
    expect((await a.put('/v1/tenants/acme/policy', { token: s.token, body: { version: 1, policy: {} } })).statusCode).toBe(403);
  });
});

describe('production mode', () => {
  it('sets a Secure cookie and writes no secret to the logs', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => { lines.push(String(chunk)); cb(); } });
    const base = await testApp({ env: { CALLWARDEN_MODE: 'production', CALLWARDEN_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'), CALLWARDEN_LOG_LEVEL: 'trace' } });
    await base.app.close();
    const s = createServices(base.s.config, base.s.store, { clock: base.clock.now, log: pino({ level: 'trace' }, sink) });
    const app = await buildApp(s);
    try {
      const t = { ...base, app, s } as TestApp;
      const seeded = await seed(t, { users: [{ email: 'ana@acme.test', roles: ['agent'] }] });
      const r = await signIn(app, 'acme', 'ana@acme.test', STRONG);
      expect(r.res.headers['set-cookie']).toMatch(/; Secure/);
      expect(r.res.headers['x-sql-statements']).toBeUndefined();
      await api(app).post('/v1/auth/flows', { body: { tenant: 'acme', identifier: 'ana@acme.test' } });
      const log = lines.join('');
      expect(log).toContain('incoming request');
      for (const secret of [STRONG, r.token!, seeded.operatorToken, json(r.res).flowToken ?? 'none-here']) expect(log).not.toContain(secret);
      expect(log).not.toMatch(/x-flow-token|authorization/i);
    } finally {
      await app.close();
      await base.close();
    }
  });
});
