/** Storage conformance, dual-control approvals (ApprovalRepo: one pending request per target, atomic decisions). */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/storage/store.js';
import { backends, testStore } from '../helpers/db.js';
import { at, range, seedTenant, seedUser } from '../helpers/fixtures.js';

describe.each(await backends())('approval storage on %s', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await testStore(backend);
  });
  afterAll(() => store?.close());

  /** A tenant with a target user, a requester and `admins` other administrators. */
  async function scene(admins = 2) {
    const tenant = await seedTenant(store);
    const target = await seedUser(store, tenant.id);
    const requester = await seedUser(store, tenant.id, { roles: ['tenant_admin'] });
    const others = await Promise.all(range(admins).map(() => seedUser(store, tenant.id, { roles: ['tenant_admin'] })));
    return { tenant, target, requester, others };
  }
  const open = (sc: Awaited<ReturnType<typeof scene>>, now = new Date(), ttlS = 86_400) =>
    store.approvals.create({ id: randomUUID(), tenantId: sc.tenant.id, kind: 'factor_reset', targetUserId: sc.target.id, requestedBy: sc.requester.id, reason: 'lost phone', now, expiresAt: at(now, ttlS) });

  it('creates a pending request, reads it with the emails of the people it names, and refuses a second pending one', async () => {
    const sc = await scene();
    const r = await open(sc);
    expect(r).toMatchObject({ status: 'pending', target_user_id: sc.target.id, requested_by: sc.requester.id, decided_by: null, decided_at: null });
    expect(await store.approvals.byId(sc.tenant.id, r!.id)).toMatchObject({ target_email: sc.target.email, requested_by_email: sc.requester.email, decided_by_email: null });
    expect(await open(sc)).toBeUndefined();
    const other = await seedTenant(store);
    expect(await store.approvals.byId(other.id, r!.id)).toBeUndefined();
    expect(await store.approvals.list(other.id)).toEqual([]);
  });

  it('an expired pending request is marked expired when a new one replaces it, and is not listed as pending', async () => {
    const sc = await scene();
    const t0 = new Date();
    const old = await open(sc, t0, 60);
    expect((await store.approvals.list(sc.tenant.id, { pendingAt: at(t0, 30) })).map((r) => r.id)).toEqual([old!.id]);
    expect(await store.approvals.list(sc.tenant.id, { pendingAt: at(t0, 61) })).toEqual([]);
    const fresh = await open(sc, at(t0, 61));
    expect(fresh?.status).toBe('pending');
    expect((await store.approvals.byId(sc.tenant.id, old!.id))?.status).toBe('expired');
    expect(await store.approvals.decide({ tenantId: sc.tenant.id, id: old!.id, decider: sc.others[0]!.id, status: 'approved', now: at(t0, 62) })).toBeUndefined();
  });

  it('decide refuses the requester, the target (when asked), another tenant and a late decision; a different admin decides once', async () => {
    const sc = await scene();
    const now = new Date();
    const r = (await open(sc, now))!;
    const base = { tenantId: sc.tenant.id, id: r.id, status: 'approved' as const, now, notTarget: true };
    expect(await store.approvals.decide({ ...base, decider: sc.requester.id })).toBeUndefined();
    expect(await store.approvals.decide({ ...base, decider: sc.target.id })).toBeUndefined();
    expect(await store.approvals.decide({ ...base, tenantId: (await seedTenant(store)).id, decider: sc.others[0]!.id })).toBeUndefined();
    expect(await store.approvals.decide({ ...base, now: at(now, 86_400), decider: sc.others[0]!.id })).toBeUndefined();
    expect(await store.approvals.cancel({ tenantId: sc.tenant.id, id: r.id, requester: sc.others[0]!.id, now })).toBeUndefined();
    const won = await store.approvals.decide({ ...base, decider: sc.others[0]!.id });
    expect(won).toMatchObject({ status: 'approved', decided_by: sc.others[0]!.id });
    expect(await store.approvals.decide({ ...base, status: 'rejected', decider: sc.others[1]!.id })).toBeUndefined();
    expect(await store.approvals.cancel({ tenantId: sc.tenant.id, id: r.id, requester: sc.requester.id, now })).toBeUndefined();
    expect(await store.approvals.byId(sc.tenant.id, r.id)).toMatchObject({ status: 'approved', decided_by_email: sc.others[0]!.email });
  });

  it('only the requester cancels, once', async () => {
    const sc = await scene();
    const now = new Date();
    const r = (await open(sc, now))!;
    const c = await store.approvals.cancel({ tenantId: sc.tenant.id, id: r.id, requester: sc.requester.id, now, reason: 'wrong user' });
    expect(c).toMatchObject({ status: 'canceled', decided_by: sc.requester.id, decision_reason: 'wrong user' });
    expect(await store.approvals.cancel({ tenantId: sc.tenant.id, id: r.id, requester: sc.requester.id, now })).toBeUndefined();
    expect(await open(sc, now)).toMatchObject({ status: 'pending' });
  });

  it('12 administrators approving and rejecting at once: exactly one decision', async () => {
    const sc = await scene(12);
    const now = new Date();
    const r = (await open(sc, now))!;
    const results = await Promise.all(
      sc.others.map((u, i) => store.approvals.decide({ tenantId: sc.tenant.id, id: r.id, decider: u.id, status: i % 2 ? 'rejected' : 'approved', now, notTarget: true })),
    );
    const winners = results.filter((x) => x !== undefined);
    expect(winners).toHaveLength(1);
    const row = await store.approvals.byId(sc.tenant.id, r.id);
    expect(row).toMatchObject({ status: winners[0]!.status, decided_by: winners[0]!.decided_by });
  });

  it('10 requests for one target at once: exactly one is opened', async () => {
    const sc = await scene();
    const now = new Date();
    const results = await Promise.all(range(10).map(() => open(sc, now)));
    expect(results.filter((x) => x !== undefined)).toHaveLength(1);
    expect(await store.approvals.list(sc.tenant.id, { pendingAt: now })).toHaveLength(1);
  });
});
