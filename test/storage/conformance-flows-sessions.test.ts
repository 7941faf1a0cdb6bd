/** Storage conformance, FlowRepo and SessionRepo: the same contract on PGlite and PostgreSQL. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/storage/store.js';
import type { FlowRow } from '../../src/storage/repositories/flows.js';
import { backends, testStore } from '../helpers/db.js';
import { at, hash32, range, seedTenantAndUser, uniq } from '../helpers/fixtures.js';

const BACKENDS = await backends();

describe.each(BACKENDS)('storage conformance on %s', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await testStore(backend);
  });
  afterAll(async () => {
    await store?.close();
  });

  describe('FlowRepo', () => {
    async function newFlow(opts: { attempts?: number; now?: Date; ttl?: number; state?: string } = {}): Promise<{ flow: FlowRow; secret: Buffer; now: Date }> {
      const { tenant } = await seedTenantAndUser(store);
      const now = opts.now ?? new Date();
      const secret = hash32();
      const flow = await store.flows.create({
        id: randomUUID(),
        tenant_id: tenant.id,
        kind: 'signin',
        secret_hash: secret,
        state: opts.state ?? 'password',
        identifier: `u-${uniq()}@example.com`,
        user_id: null,
        session_id: null,
        required_aal: 2,
        attempts_left: opts.attempts ?? 5,
        ip: '203.0.113.7',
        user_agent: 'vitest',
        created_at: now,
        updated_at: now,
        expires_at: at(now, opts.ttl ?? 600),
      });
      return { flow, secret, now };
    }

    it('create stores the flow with defaults', async () => {
      const { flow, secret } = await newFlow();
      expect(flow.completed_methods).toEqual([]);
      expect(flow.pending_factor_id).toBeNull();
      expect(flow.secret_hash.equals(secret)).toBe(true);
      expect(await store.flows.byId(flow.id)).toEqual(flow);
    });

    it('claimAttempt needs the right secret hash, an expected state and an unexpired flow', async () => {
      const { flow, secret, now } = await newFlow({ attempts: 5, ttl: 600 });
      expect(await store.flows.claimAttempt(flow.id, hash32(), ['password'], now)).toBeUndefined();
      expect(await store.flows.claimAttempt(flow.id, secret, ['totp', 'done'], now)).toBeUndefined();
      expect(await store.flows.claimAttempt(flow.id, secret, ['password'], at(now, 600))).toBeUndefined(); // at expiry
      expect(await store.flows.claimAttempt(flow.id, secret, ['password'], at(now, 601))).toBeUndefined();
      expect(await store.flows.claimAttempt(randomUUID(), secret, ['password'], now)).toBeUndefined();
      // none of the refused claims spent anything
      expect((await store.flows.byId(flow.id))?.attempts_left).toBe(5);

      const claimed = await store.flows.claimAttempt(flow.id, secret, ['totp', 'password'], at(now, 599));
      expect(claimed?.attempts_left).toBe(4);
      expect(claimed?.updated_at).toEqual(at(now, 599));
    });

    it('claims may go below zero (the caller refuses then)', async () => {
      const { flow, secret, now } = await newFlow({ attempts: 1 });
      expect((await store.flows.claimAttempt(flow.id, secret, ['password'], now))?.attempts_left).toBe(0);
      expect((await store.flows.claimAttempt(flow.id, secret, ['password'], now))?.attempts_left).toBe(-1);
    });

    it('N parallel claims decrement the budget exactly N times', async () => {
      const N = 15;
      const { flow, secret, now } = await newFlow({ attempts: 5 });
      const rows = await Promise.all(range(N).map(() => store.flows.claimAttempt(flow.id, secret, ['password'], now)));
      expect(rows.every((r) => r !== undefined)).toBe(true);
      // each claim saw a distinct budget: 4, 3, ..., 5 - N
      expect(rows.map((r) => r!.attempts_left).sort((a, b) => b - a)).toEqual(range(N).map((i) => 5 - i));
      expect((await store.flows.byId(flow.id))?.attempts_left).toBe(5 - N);
    });

    it('advance moves the flow on once; the old secret no longer works', async () => {
      const { flow, secret, now } = await newFlow({ attempts: 5 });
      const { user } = await seedTenantAndUser(store);
      await store.flows.claimAttempt(flow.id, secret, ['password'], now);
      const next = hash32();
      const factorId = randomUUID();
      const moved = await store.flows.advance(
        flow.id,
        { state: 'password', secretHash: secret },
        { state: 'totp', secretHash: next, method: 'pwd', userId: user.id, pendingFactorId: factorId, refund: true },
        at(now, 1),
      );
      expect(moved).toMatchObject({ state: 'totp', completed_methods: ['pwd'], attempts_left: 5, user_id: user.id, pending_factor_id: factorId, updated_at: at(now, 1) });
      expect(moved?.secret_hash.equals(next)).toBe(true);

      // replaying the old step fails
      expect(await store.flows.advance(flow.id, { state: 'password', secretHash: secret }, { state: 'totp', secretHash: hash32(), refund: true }, now)).toBeUndefined();
      expect(await store.flows.claimAttempt(flow.id, secret, ['password', 'totp'], now)).toBeUndefined();

      // no method, no refund, user and pending factor untouched
      const last = hash32();
      const done = await store.flows.advance(flow.id, { state: 'totp', secretHash: next }, { state: 'done', secretHash: last, refund: false }, at(now, 2));
      expect(done).toMatchObject({ state: 'done', completed_methods: ['pwd'], attempts_left: 5, user_id: user.id, pending_factor_id: factorId, required_aal: 2 });
      const twice = await store.flows.advance(flow.id, { state: 'done', secretHash: last }, { state: 'done', secretHash: hash32(), method: 'totp', requiredAal: 3, refund: false }, at(now, 3));
      expect(twice).toMatchObject({ completed_methods: ['pwd', 'totp'], required_aal: 3 });
    });

    it('10 parallel advances from the same state and secret: exactly one wins', async () => {
      const { flow, secret, now } = await newFlow({ attempts: 5 });
      const secrets = range(10).map(() => hash32());
      const results = await Promise.all(
        secrets.map((s) => store.flows.advance(flow.id, { state: 'password', secretHash: secret }, { state: 'totp', secretHash: s, method: 'pwd', refund: true }, now)),
      );
      const winners = results.filter((r) => r !== undefined);
      expect(winners).toHaveLength(1);
      const after = await store.flows.byId(flow.id);
      expect(after?.state).toBe('totp');
      expect(after?.completed_methods).toEqual(['pwd']); // appended once
      expect(after?.attempts_left).toBe(6); // refunded once
      expect(after?.secret_hash.equals(winners[0]!.secret_hash)).toBe(true);
    });

    it('setPendingFactor checks the secret and the expiry; deleteExpired removes only expired flows', async () => {
      const { flow, secret, now } = await newFlow({ ttl: 60 });
      const factorId = randomUUID();
      expect(await store.flows.setPendingFactor(flow.id, hash32(), factorId, now)).toBe(false);
      expect(await store.flows.setPendingFactor(flow.id, secret, factorId, at(now, 60))).toBe(false);
      expect(await store.flows.setPendingFactor(flow.id, secret, factorId, now)).toBe(true);
      expect((await store.flows.byId(flow.id))?.pending_factor_id).toBe(factorId);

      const past = at(now, -86_400 * 365 * 50); // far in the past: only this test's flow is affected
      const old = await newFlow({ now: past, ttl: 60 });
      expect(await store.flows.deleteExpired(at(past, 61))).toBe(1);
      expect(await store.flows.byId(old.flow.id)).toBeUndefined();
      expect(await store.flows.byId(flow.id)).toBeDefined();
    });
  });

  describe('SessionRepo', () => {
    async function newSession(userId: string, tenantId: string, now: Date, ttl = 3600, idle = 1800): Promise<{ id: string; token: Buffer }> {
      const id = randomUUID();
      const token = hash32();
      await store.sessions.create({ id, tokenHash: token, tenantId, userId, aal: 2, methods: ['pwd', 'totp'], authTime: now, now, idleTimeoutS: idle, expiresAt: at(now, ttl), ip: '198.51.100.1', userAgent: 'vitest' });
      return { id, token };
    }

    it('lookup returns a live session with the user, tenant, roles and custom role permissions', async () => {
      const { tenant, user } = await seedTenantAndUser(store, { roles: ['agent', 'qa-lead', 'not-a-role'] });
      const now = new Date();
      await store.users.upsertRole({ tenantId: tenant.id, name: 'qa-lead', description: 'QA', permissions: ['calls.review', 'reports.read'], now });
      // a role of the same name in another tenant does not leak in
      const other = await seedTenantAndUser(store);
      await store.users.upsertRole({ tenantId: other.tenant.id, name: 'agent', description: '', permissions: ['tenant.admin'], now });

      const s = await newSession(user.id, tenant.id, now);
      const rec = await store.sessions.lookup(s.token, at(now, 10));
      expect(rec).toMatchObject({
        id: s.id,
        tenantId: tenant.id,
        userId: user.id,
        aal: 2,
        methods: ['pwd', 'totp'],
        authTime: now,
        createdAt: now,
        lastSeenAt: now,
        expiresAt: at(now, 3600),
        userEmail: user.email,
        userRoles: ['agent', 'qa-lead', 'not-a-role'],
        userStatus: 'active',
        tenantSlug: tenant.slug,
        isPlatform: false,
      });
      expect(rec?.customPermissions.sort()).toEqual(['calls.review', 'reports.read']);

      // upsertRole updates the permissions in place
      await store.users.upsertRole({ tenantId: tenant.id, name: 'qa-lead', description: 'QA', permissions: ['reports.read'], now });
      expect((await store.sessions.lookup(s.token, now))?.customPermissions).toEqual(['reports.read']);
      // no custom roles: an empty list, not null
      const plain = await seedTenantAndUser(store);
      const ps = await newSession(plain.user.id, plain.tenant.id, now);
      expect((await store.sessions.lookup(ps.token, now))?.customPermissions).toEqual([]);
      expect(await store.sessions.lookup(hash32(), now)).toBeUndefined();
    });

    it('lookup ignores revoked and expired sessions', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const now = new Date();
      const a = await newSession(user.id, tenant.id, now);
      const b = await newSession(user.id, tenant.id, now, 60);
      const other = await seedTenantAndUser(store);
      expect(await store.sessions.revoke(other.user.id, a.id, now)).toBe(false); // scoped to its user
      expect(await store.sessions.revoke(user.id, a.id, now)).toBe(true);
      expect(await store.sessions.revoke(user.id, a.id, now)).toBe(false);
      expect(await store.sessions.lookup(a.token, now)).toBeUndefined();

      expect(await store.sessions.lookup(b.token, at(now, 59))).toBeDefined();
      expect(await store.sessions.lookup(b.token, at(now, 60))).toBeUndefined();
      expect(await store.sessions.lookup(b.token, at(now, 61))).toBeUndefined();
      expect((await store.sessions.listLive(user.id, at(now, 61))).map((s) => s.id)).toEqual([]);
      expect((await store.sessions.listLive(user.id, now)).map((s) => s.id)).toEqual([b.id]);
    });

    it('lookup ignores an idle session; touch keeps it alive until the absolute expiry', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const now = new Date();
      const s = await newSession(user.id, tenant.id, now, 3600, 600);
      expect(await store.sessions.lookup(s.token, at(now, 599))).toBeDefined();
      expect(await store.sessions.lookup(s.token, at(now, 600))).toBeUndefined();
      await store.sessions.touch(s.id, at(now, 500));
      expect((await store.sessions.lookup(s.token, at(now, 1099)))?.lastSeenAt).toEqual(at(now, 500));
      expect(await store.sessions.lookup(s.token, at(now, 1100))).toBeUndefined();
      // touching cannot outlive the absolute expiry
      await store.sessions.touch(s.id, at(now, 3500));
      expect(await store.sessions.lookup(s.token, at(now, 3599))).toBeDefined();
      expect(await store.sessions.lookup(s.token, at(now, 3600))).toBeUndefined();
    });

    it('lookup ignores sessions of a disabled user or tenant; disable revokes them all and says how many', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const now = new Date();
      const s1 = await newSession(user.id, tenant.id, now);
      const s2 = await newSession(user.id, tenant.id, now);
      const s3 = await newSession(user.id, tenant.id, now);
      await store.sessions.revoke(user.id, s3.id, now);

      // disable is scoped to the tenant
      const other = await seedTenantAndUser(store);
      expect(await store.users.disable(other.tenant.id, user.id, now)).toBeUndefined();
      expect(await store.sessions.lookup(s1.token, now)).toBeDefined();

      const r = await store.users.disable(tenant.id, user.id, now);
      expect(r?.sessionsRevoked).toBe(2);
      expect(r?.user.status).toBe('disabled');
      for (const s of [s1, s2, s3]) expect(await store.sessions.lookup(s.token, now)).toBeUndefined();
      // re-enabling does not bring the sessions back
      expect((await store.users.enable(tenant.id, user.id))?.status).toBe('active');
      expect(await store.sessions.lookup(s1.token, now)).toBeUndefined();

      // the status check holds on its own, even for a session that was not revoked
      const u2 = await seedTenantAndUser(store);
      const live = await newSession(u2.user.id, u2.tenant.id, now);
      await store.db.updateTable('users').set({ status: 'disabled' }).where('id', '=', u2.user.id).execute();
      expect(await store.sessions.lookup(live.token, now)).toBeUndefined();
      // and so does the tenant's
      const u3 = await seedTenantAndUser(store);
      const live3 = await newSession(u3.user.id, u3.tenant.id, now);
      expect(await store.sessions.lookup(live3.token, now)).toBeDefined();
      await store.db.updateTable('tenants').set({ disabled_at: now }).where('id', '=', u3.tenant.id).execute();
      expect(await store.sessions.lookup(live3.token, now)).toBeUndefined();
    });

    it('revokeAll can spare the current session', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const now = new Date();
      const keep = await newSession(user.id, tenant.id, now);
      const s2 = await newSession(user.id, tenant.id, now);
      const s3 = await newSession(user.id, tenant.id, now);
      expect(await store.sessions.revokeAll(user.id, now, keep.id)).toBe(2);
      expect(await store.sessions.lookup(keep.token, now)).toBeDefined();
      expect(await store.sessions.lookup(s2.token, now)).toBeUndefined();
      expect(await store.sessions.lookup(s3.token, now)).toBeUndefined();
      expect(await store.sessions.revokeAll(user.id, now)).toBe(1);
    });

    it('reauthenticate rotates the token hash and refreshes the auth time', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const now = new Date();
      const s = await newSession(user.id, tenant.id, now);
      const rotated = hash32();
      const later = at(now, 120);
      expect(await store.sessions.reauthenticate(s.id, rotated, ['pwd', 'webauthn'], 3, later)).toEqual({ expiresAt: at(now, 3600), idleTimeoutS: 1800 });
      expect(await store.sessions.lookup(s.token, later)).toBeUndefined();
      expect(await store.sessions.lookup(rotated, later)).toMatchObject({ id: s.id, aal: 3, methods: ['pwd', 'webauthn'], authTime: later, lastSeenAt: later, createdAt: now });

      await store.sessions.revoke(user.id, s.id, later);
      expect(await store.sessions.reauthenticate(s.id, hash32(), ['pwd'], 1, later)).toBeUndefined();
    });
  });
});
