/** The retention sweep removes expired flows, old ledger entries, dead sessions and idle counters, and nothing live. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweep } from '../../src/services/maintenance.js';
import { api, enrollTotp, json, seed, signIn, STRONG, testApp, type TestApp } from '../helpers/app.js';

describe('retention sweep', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp();
  });
  afterAll(() => t.close());

  it('keeps live data and removes what expired', async () => {
    const seeded = await seed(t, { users: [{ email: 'ana@acme.test', roles: ['agent'] }] });
    await enrollTotp(t, seeded.users['ana@acme.test']!.token!);
    // an abandoned flow and a failure counter for an unknown identifier
    const start = json(await api(t.app).post('/v1/auth/flows', { body: { tenant: 'acme', identifier: 'ghost@acme.test' } }));
    await api(t.app).post(`/v1/auth/flows/${start.flow.id}/password`, { flow: start.flowToken, body: { password: 'wrong wrong wrong' } });
    const nothingYet = await sweep(t.s);
    expect(nothingYet).toEqual({ flows: 0, totpSteps: 0, sessions: 0, invitations: 0, counters: 0, rateWindows: 0 });

    t.clock.advance(2 * 86_400_000);
    const fresh = await signIn(t.app, 'acme', 'ana@acme.test', STRONG);
    expect(fresh.res.statusCode).toBe(200);
    const r = await sweep(t.s);
    expect(r.flows).toBeGreaterThan(0);
    expect(r.totpSteps).toBe(1);
    expect(r.counters).toBe(1);
    expect((await t.s.store.db.selectFrom('flows').select('id').where('id', '=', start.flow.id).execute()).length).toBe(0);

    t.clock.advance(31 * 86_400_000);
    const later = await sweep(t.s);
    expect(later.sessions).toBeGreaterThan(0);
    expect(later.invitations).toBeGreaterThan(0);
    expect((await t.s.store.db.selectFrom('users').select('id').execute()).length).toBeGreaterThan(0);
  });
});
