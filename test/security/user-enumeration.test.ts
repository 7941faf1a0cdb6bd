/**
 * Threat: user enumeration (ASVS 6.3.8). Starting a sign-in and failing the password step answer the
 * same for an unknown identifier, a known user with a wrong password, a disabled user (even with the
 * right password) and an invited user who has no password yet; each does the same password-hash work.
 * (No timing assertions: the dummy-hash check stands in for them.)
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { api, json, seed, STRONG, testApp, type TestApp } from '../helpers/app.js';
import { passwordStep, startFlow } from '../helpers/flows.js';

/** What a client can observe of a response, minus the per-request id. */
function observable(r: LightMyRequestResponse) {
  const { requestId, ...body } = json(r);
  expect(requestId).toEqual(expect.any(String));
  const headers = Object.keys(r.headers).filter((h) => !['date', 'x-request-id'].includes(h)).sort();
  return { status: r.statusCode, body, headers, length: r.headers['content-length'] };
}

/** A flow start's response with the per-flow values taken out. */
function startShape(r: LightMyRequestResponse) {
  const b = json(r);
  expect(b.flowToken).toEqual(expect.any(String));
  const { id, expiresAt, ...flow } = b.flow;
  expect([id, expiresAt]).toEqual([expect.any(String), expect.any(String)]);
  return { status: r.statusCode, keys: Object.keys(b).sort(), flow, tokenLength: b.flowToken.length };
}

describe('user enumeration', () => {
  let t: TestApp;
  let seeded: Awaited<ReturnType<typeof seed>>;
  const boss = 'boss@acme.test';
  const cases = {
    unknown: { email: 'nobody@acme.test', password: STRONG },
    wrongPassword: { email: 'ana@acme.test', password: 'not the password at all 1' },
    disabled: { email: 'dee@acme.test', password: STRONG },
    invited: { email: 'ivy@acme.test', password: STRONG },
  };

  beforeAll(async () => {
    t = await testApp();
    seeded = await seed(t, { users: [boss, 'ana@acme.test', 'dee@acme.test', 'kim@acme.test'].map((email) => ({ email, roles: email === boss ? ['tenant_admin'] : ['agent'] })) });
    const token = seeded.users[boss]!.token;
    expect((await api(t.app).post(`/v1/tenants/acme/users/${seeded.users['dee@acme.test']!.id}/disable`, { token })).statusCode).toBe(200);
    expect((await api(t.app).post('/v1/tenants/acme/users', { token, body: { email: cases.invited.email, roles: ['agent'] } })).statusCode).toBe(201);
  });
  afterAll(() => t.close());

  it('starts a flow the same way for known, unknown, disabled and invited identifiers', async () => {
    const shapes = [];
    for (const c of Object.values(cases)) shapes.push(startShape((await startFlow(t.app, 'acme', c.email)).res));
    expect(shapes[0]!.status).toBe(201);
    expect(shapes[0]!.flow.state).toBe('password');
    for (const s of shapes.slice(1)) expect(s).toEqual(shapes[0]);
  });

  it('fails the password step identically, with the same hashing work, whoever the identifier names', async () => {
    const verify = vi.spyOn(t.s.hasher, 'verify');
    try {
      const seen: Record<string, ReturnType<typeof observable>> = {};
      for (const [name, c] of Object.entries(cases)) {
        const { flow } = await startFlow(t.app, 'acme', c.email);
        verify.mockClear();
        const r = await passwordStep(t.app, flow, c.password);
        seen[name] = observable(r.res);
        // Exactly one argon2 verification per attempt; unknown/disabled/invited use the dummy hash (null).
        expect(verify, name).toHaveBeenCalledTimes(1);
        expect(verify.mock.calls[0]![0] === null, name).toBe(name !== 'wrongPassword');
      }
      expect(seen.unknown!.status).toBe(401);
      expect(seen.unknown!.body.code).toBe('invalid_credentials');
      expect(seen.wrongPassword).toEqual(seen.unknown);
      expect(seen.disabled).toEqual(seen.unknown);
      expect(seen.invited).toEqual(seen.unknown);
    } finally {
      verify.mockRestore();
    }
    // The known user really is known: the right password signs in.
    const ok = await passwordStep(t.app, (await startFlow(t.app, 'acme', 'ana@acme.test')).flow, STRONG);
    expect(ok.res.statusCode).toBe(200);
  });

  it('throttles unknown and known identifiers alike', async () => {
    const run = async (email: string) => {
      const out: string[] = [];
      let flow = (await startFlow(t.app, 'acme', email)).flow;
      for (let i = 0; i < 7; i++) {
        if (i === 5) flow = (await startFlow(t.app, 'acme', email)).flow;
        const r = await passwordStep(t.app, flow, `wrong password ${i} here`);
        out.push(`${r.res.statusCode} ${r.body.code}`);
      }
      return out;
    };
    const known = await run('kim@acme.test');
    const unknown = await run('nobody-else@acme.test');
    expect(known).toContain('429 too_many_attempts');
    expect(unknown).toEqual(known);
  });
});
