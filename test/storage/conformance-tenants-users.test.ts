/** Storage conformance, TenantRepo, UserRepo and InvitationRepo: the same contract on PGlite and PostgreSQL. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/storage/store.js';
import { backends, testStore } from '../helpers/db.js';
import { at, hash32, range, seedTenant, seedTenantAndUser, seedUser, uniq } from '../helpers/fixtures.js';

const BACKENDS = await backends();

describe.each(BACKENDS)('storage conformance on %s', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await testStore(backend);
  });
  afterAll(async () => {
    await store?.close();
  });

  describe('TenantRepo', () => {
    it('create stores the tenant with policy version 1', async () => {
      const slug = `acme-${uniq()}`;
      const policy = { password: { minLength: 12 }, factors: ['totp'], nested: { list: [1, 2] } };
      const t = await seedTenant(store, { slug, policy });
      expect(t).toMatchObject({ slug, policy_version: 1, is_platform: false, disabled_at: null });
      expect(await store.tenants.currentPolicy(t.id)).toEqual({ version: 1, policy });
      expect((await store.tenants.bySlug(slug))?.id).toBe(t.id);
      expect((await store.tenants.byId(t.id))?.slug).toBe(slug);
      expect(await store.tenants.currentPolicy(randomUUID())).toBeUndefined();
      // slugs are unique
      await expect(seedTenant(store, { slug })).rejects.toMatchObject({ code: '23505' });
    });

    it('savePolicy bumps the version only from the expected one; currentPolicy returns the latest', async () => {
      const t = await seedTenant(store, { policy: { v: 1 } });
      const now = new Date();
      expect(await store.tenants.savePolicy(t.id, 1, { v: 2 }, null, now)).toBe(2);
      expect(await store.tenants.savePolicy(t.id, 1, { v: 'stale' }, null, now)).toBeNull();
      expect(await store.tenants.currentPolicy(t.id)).toEqual({ version: 2, policy: { v: 2 } });
      expect(await store.tenants.savePolicy(t.id, 2, { v: 3 }, null, now)).toBe(3);
      expect(await store.tenants.currentPolicy(t.id)).toEqual({ version: 3, policy: { v: 3 } });
      expect((await store.tenants.byId(t.id))?.policy_version).toBe(3);
      expect((await store.tenants.policyHistory(t.id)).map((p) => [p.version, p.policy])).toEqual([
        [3, { v: 3 }],
        [2, { v: 2 }],
        [1, { v: 1 }],
      ]);
      expect(await store.tenants.savePolicy(randomUUID(), 1, { v: 1 }, null, now)).toBeNull();
    });

    it('10 parallel savePolicy calls from one version: exactly one wins', async () => {
      const t = await seedTenant(store);
      const now = new Date();
      const results = await Promise.all(range(10).map((i) => store.tenants.savePolicy(t.id, 1, { writer: i }, null, now)));
      const winners = results.filter((r) => r !== null);
      expect(winners).toEqual([2]);
      const current = await store.tenants.currentPolicy(t.id);
      expect(current?.version).toBe(2);
      expect((await store.tenants.policyHistory(t.id)).length).toBe(2);
    });
  });

  describe('UserRepo', () => {
    it('(tenant, email) is unique; the same email may exist in another tenant', async () => {
      const a = await seedTenant(store);
      const b = await seedTenant(store);
      const email = `dup-${uniq()}@example.com`;
      const u = await seedUser(store, a.id, { email });
      await expect(seedUser(store, a.id, { email })).rejects.toMatchObject({ code: '23505' });
      const v = await seedUser(store, b.id, { email });
      expect(v.id).not.toBe(u.id);
      expect((await store.users.byEmail(a.id, email))?.id).toBe(u.id);
      expect((await store.users.byEmail(b.id, email))?.id).toBe(v.id);
      expect(await store.users.countByTenant(a.id)).toBe(1);
    });

    it('byId and the updates are scoped by tenant', async () => {
      const { tenant, user } = await seedTenantAndUser(store, { roles: ['agent'] });
      const other = await seedTenant(store);
      expect((await store.users.byId(tenant.id, user.id))?.email).toBe(user.email);
      expect(await store.users.byId(other.id, user.id)).toBeUndefined();
      expect(await store.users.byEmail(other.id, user.email)).toBeUndefined();
      expect(await store.users.setRoles(other.id, user.id, ['tenant-admin'])).toBeUndefined();
      expect(await store.users.enable(other.id, user.id)).toBeUndefined();
      expect((await store.users.byId(tenant.id, user.id))?.roles).toEqual(['agent']);
      expect((await store.users.setRoles(tenant.id, user.id, ['supervisor']))?.roles).toEqual(['supervisor']);
      expect((await store.users.list(other.id)).map((u) => u.id)).toEqual([]);
    });

    it('setPassword activates an invited user and keeps only the last N history hashes', async () => {
      const { user } = await seedTenantAndUser(store, { status: 'invited' });
      expect(user.status).toBe('invited');
      expect(user.password_hash).toBeNull();
      const t0 = new Date();
      for (const i of range(6)) await store.users.setPassword(user.id, `hash-${i}`, at(t0, i), 3);
      expect(await store.users.recentPasswordHashes(user.id, 10)).toEqual(['hash-6', 'hash-5', 'hash-4']);
      const rows = await store.db.selectFrom('password_history').select('hash').where('user_id', '=', user.id).execute();
      expect(rows).toHaveLength(3);
      const after = await store.users.byId(user.tenant_id, user.id);
      expect(after).toMatchObject({ status: 'active', password_hash: 'hash-6', password_changed_at: at(t0, 6) });

      // a disabled user stays disabled when the password changes
      await store.users.disable(user.tenant_id, user.id, t0);
      await store.users.setPassword(user.id, 'hash-7', at(t0, 7), 1);
      expect((await store.users.byId(user.tenant_id, user.id))?.status).toBe('disabled');
      expect(await store.users.recentPasswordHashes(user.id, 10)).toEqual(['hash-7']);
    });

    it('custom roles: upsert, list, permissions and delete (which also strips the role from users)', async () => {
      const { tenant, user } = await seedTenantAndUser(store, { roles: ['agent', 'qa'] });
      const now = new Date();
      await store.users.upsertRole({ tenantId: tenant.id, name: 'qa', description: 'QA', permissions: ['calls.review'], now });
      await store.users.upsertRole({ tenantId: tenant.id, name: 'billing', description: '', permissions: ['billing.read', 'billing.write'], now });
      expect((await store.users.roles(tenant.id)).map((r) => r.name)).toEqual(['billing', 'qa']);
      expect((await store.users.customPermissions(tenant.id, ['qa', 'billing'])).sort()).toEqual(['billing.read', 'billing.write', 'calls.review']);
      expect(await store.users.customPermissions(tenant.id, [])).toEqual([]);
      expect(await store.users.deleteRole(tenant.id, 'qa')).toBe(true);
      expect(await store.users.deleteRole(tenant.id, 'qa')).toBe(false);
      expect((await store.users.byId(tenant.id, user.id))?.roles).toEqual(['agent']);
    });
  });

  describe('InvitationRepo', () => {
    async function invite(tenantId: string, userId: string, now: Date, ttl = 3600): Promise<{ id: string; token: Buffer }> {
      const id = randomUUID();
      const token = hash32();
      await store.invitations.create({ id, tenantId, userId, tokenHash: token, createdBy: null, now, expiresAt: at(now, ttl) });
      return { id, token };
    }

    it('peek finds an unused link without spending it; consume spends it once', async () => {
      const { tenant, user } = await seedTenantAndUser(store, { status: 'invited', roles: ['agent'] });
      const now = new Date();
      const inv = await invite(tenant.id, user.id, now);
      const peeked = await store.invitations.peek(inv.token, now);
      expect(peeked).toEqual({ id: inv.id, tenant_id: tenant.id, user_id: user.id, email: user.email, roles: ['agent'], status: 'invited', slug: tenant.slug });
      expect(await store.invitations.peek(inv.token, now)).toBeDefined(); // still there
      expect(await store.invitations.peek(hash32(), now)).toBeUndefined();

      expect(await store.invitations.consume(inv.id, now)).toBe(true);
      expect(await store.invitations.consume(inv.id, now)).toBe(false);
      expect(await store.invitations.peek(inv.token, now)).toBeUndefined();
    });

    it('peek refuses an expired link', async () => {
      const { tenant, user } = await seedTenantAndUser(store, { status: 'invited' });
      const now = new Date();
      const inv = await invite(tenant.id, user.id, now, 60);
      expect(await store.invitations.peek(inv.token, at(now, 59))).toBeDefined();
      expect(await store.invitations.peek(inv.token, at(now, 60))).toBeUndefined();
    });

    it('10 parallel consumes of one link: exactly one succeeds', async () => {
      const { tenant, user } = await seedTenantAndUser(store, { status: 'invited' });
      const now = new Date();
      const inv = await invite(tenant.id, user.id, now);
      const results = await Promise.all(range(10).map(() => store.invitations.consume(inv.id, now)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('a newer link voids the older unused one (of the same user only)', async () => {
      const { tenant, user } = await seedTenantAndUser(store, { status: 'invited' });
      const bystander = await seedUser(store, tenant.id, { status: 'invited' });
      const now = new Date();
      const theirs = await invite(tenant.id, bystander.id, now);
      const older = await invite(tenant.id, user.id, now);
      const newer = await invite(tenant.id, user.id, at(now, 1));
      expect(await store.invitations.peek(older.token, at(now, 2))).toBeUndefined();
      expect(await store.invitations.consume(older.id, at(now, 2))).toBe(false);
      expect((await store.invitations.peek(newer.token, at(now, 2)))?.id).toBe(newer.id);
      expect((await store.invitations.peek(theirs.token, at(now, 2)))?.id).toBe(theirs.id);
      expect(await store.invitations.consume(newer.id, at(now, 2))).toBe(true);
    });
  });
});
