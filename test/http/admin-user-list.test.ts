/**
 * The admin's user list says, for every user on the page, which second factors are active and
 * whether sign-in is locked (and an unlock clears it); the operator's tenant list carries each
 * tenant's MFA switch. Both in a fixed number of SQL statements, whatever the page size.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, enrollTotp, json, seed, testApp, type TestApp } from '../helpers/app.js';
import { passwordStep, startFlow, updatePolicy } from '../helpers/flows.js';

describe('user list with methods and locks', () => {
  let t: TestApp;
  let seeded: Awaited<ReturnType<typeof seed>>;
  let admin: string;
  const emails = ['boss@acme.test', 'ana@acme.test', 'ben@acme.test', 'cy@acme.test'];
  beforeAll(async () => {
    t = await testApp();
    seeded = await seed(t, { users: emails.map((email, i) => ({ email, roles: [i === 0 ? 'tenant_admin' : 'agent'] })) });
    admin = seeded.users['boss@acme.test']!.token!;
    await updatePolicy(t, admin, 'acme', (p) => ({ ...p, pciMode: true }));
  });
  afterAll(() => t.close());

  const list = async () => {
    const r = await api(t.app).get('/v1/tenants/acme/users', { token: admin });
    expect(r.statusCode, r.body).toBe(200);
    return { byEmail: new Map((json(r).users as Array<{ email: string; methods: string[]; locked: boolean }>).map((u) => [u.email, u])), sql: Number(r.headers['x-sql-statements']) };
  };

  it('lists active factor kinds per user', async () => {
    await enrollTotp(t, seeded.users['ana@acme.test']!.token!);
    const { byEmail } = await list();
    expect(byEmail.get('ana@acme.test')!.methods).toContain('totp');
    expect(byEmail.get('ben@acme.test')!.methods).toEqual([]);
  });

  it('marks a user locked after failed passwords (PCI: 10), and an unlock clears it', async () => {
    // only checked wrong answers count: each one waits out the back-off (refused attempts would not count)
    for (let i = 0; i < 10; i++) {
      await passwordStep(t.app, (await startFlow(t.app, 'acme', 'ben@acme.test')).flow, 'not the password at all');
      t.clock.advance(60_000);
    }
    let { byEmail } = await list();
    expect(byEmail.get('ben@acme.test')!.locked).toBe(true);
    expect(byEmail.get('cy@acme.test')!.locked).toBe(false);
    expect(byEmail.get('ana@acme.test')!.locked).toBe(false);
    const r = await api(t.app).post(`/v1/tenants/acme/users/${seeded.users['ben@acme.test']!.id}/unlock`, { token: admin });
    expect(r.statusCode, r.body).toBe(200);
    ({ byEmail } = await list());
    expect(byEmail.get('ben@acme.test')!.locked).toBe(false);
  });

  it('costs the same number of statements for 4 users as for 12', async () => {
    const before = (await list()).sql;
    for (let i = 0; i < 8; i++) await api(t.app).post('/v1/tenants/acme/users', { token: admin, body: { email: `extra${i}@acme.test`, roles: ['agent'] } });
    const after = await list();
    expect(after.byEmail.size).toBe(12 + 0);
    expect(after.sql).toBe(before);
  });

  it("the operator's tenant list carries each tenant's MFA switch", async () => {
    const r = await api(t.app).get('/v1/tenants', { token: seeded.operatorToken });
    const acme = (json(r).tenants as Array<{ slug: string; mfaMode: string }>).find((x) => x.slug === 'acme');
    expect(acme?.mfaMode).toBe('optional');
    await updatePolicy(t, admin, 'acme', (p) => ({ ...p, mfa: { ...p.mfa, mode: 'required' } }));
    const again = (json(await api(t.app).get('/v1/tenants', { token: seeded.operatorToken })).tenants as Array<{ slug: string; mfaMode: string }>).find((x) => x.slug === 'acme');
    expect(again?.mfaMode).toBe('required');
  });
});
