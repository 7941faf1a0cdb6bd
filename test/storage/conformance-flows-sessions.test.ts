/**
 * Storage conformance, FlowRepo (create, createForSlug, scoped reads, cancel, velocity, expiry sweep) and
 * SessionRepo: the same contract on PGlite and PostgreSQL. Claims and records of a check are in
 * conformance-flow-claims.test.ts and conformance-flow-records.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withMac } from '../../src/audit/mac.js';
import type { Store } from '../../src/storage/store.js';
import { backends, testStore } from '../helpers/db.js';
import { at, hash32, range, seedTenant, seedTenantAndUser, uniq } from '../helpers/fixtures.js';
import { TEST_KEYS } from '../helpers/audit-chain.js';
import { eventsFor, flowEvent, seedFlow } from '../helpers/flow-store.js';

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
    it('create stores the flow with defaults, and with its events in one statement', async () => {
      const { flow, secret, tenant } = await seedFlow(store);
      expect(flow).toMatchObject({ completed_methods: [], ceremony: {}, context: {}, awaiting: null, result_id: null, completed_at: null, attempts_initial: 5, attempts_left: 5 });
      expect(flow.secret_hash?.equals(secret)).toBe(true);
      expect(await store.flows.byId(flow.id)).toEqual(flow);
      const now = new Date();
      const id = randomUUID();
      const withEvents = await store.flows.create(
        { id, tenant_id: tenant.id, kind: 'verification', state: 'pending', required_level: 'standard', attempts_initial: 3, attempts_left: 3, interaction_id: `call-${uniq()}`, caller_ani: '+15550199',
          ceremony: { question: { askedId: 'q1' } }, context: { channel: 'phone' }, created_at: now, updated_at: now, expires_at: at(now, 600) },
        [flowEvent(tenant.id, 'verification.started', id), flowEvent(tenant.id, 'verification.risk', id)],
      );
      expect(withEvents).toMatchObject({ id, ceremony: { question: { askedId: 'q1' } }, context: { channel: 'phone' }, caller_ani: '+15550199' });
      expect(await eventsFor(store, id)).toEqual(['verification.started', 'verification.risk']);
      // a failing event insert takes the flow with it
      const dup = flowEvent(tenant.id, 'verification.started', randomUUID());
      const id2 = randomUUID();
      await expect(store.flows.create({ id: id2, tenant_id: tenant.id, kind: 'verification', state: 'pending', required_level: 'standard', attempts_initial: 3, attempts_left: 3, created_at: now, updated_at: now, expires_at: at(now, 600) }, [dup, dup])).rejects.toThrow();
      expect(await store.flows.byId(id2)).toBeUndefined();
    });

    it('createForSlug creates in the enabled tenant of the slug; a disabled or unknown tenant gets undefined', async () => {
      const tenant = await seedTenant(store);
      const now = new Date();
      const f = { kind: 'signin' as const, state: 'password', identifier: 'a@example.com', secret_hash: hash32(), required_level: 'aal1', attempts_initial: 5, attempts_left: 5, created_at: now, updated_at: now, expires_at: at(now, 600) };
      const made = await store.flows.createForSlug(tenant.slug, { id: randomUUID(), ...f });
      expect(made).toMatchObject({ tenant_id: tenant.id, state: 'password', identifier: 'a@example.com', ceremony: {}, context: {} });
      expect(await store.flows.createForSlug(`missing-${uniq()}`, { id: randomUUID(), ...f })).toBeUndefined();
      await store.db.updateTable('tenants').set({ disabled_at: now }).where('id', '=', tenant.id).execute();
      const id = randomUUID();
      expect(await store.flows.createForSlug(tenant.slug, { id, ...f })).toBeUndefined();
      expect(await store.flows.byId(id)).toBeUndefined();
    });

    it('inTenant is scoped by tenant (and kind); readLatestForInteraction returns the newest flow of the call', async () => {
      const { flow, tenant, now } = await seedFlow(store);
      const other = await seedTenant(store);
      expect((await store.flows.inTenant(tenant.id, flow.id))?.id).toBe(flow.id);
      expect((await store.flows.inTenant(tenant.id, flow.id, 'signin'))?.id).toBe(flow.id);
      expect(await store.flows.inTenant(tenant.id, flow.id, 'verification')).toBeUndefined();
      expect(await store.flows.inTenant(other.id, flow.id)).toBeUndefined();
      const call = `call-${uniq()}`;
      const mk = (when: Date) => store.flows.create({ id: randomUUID(), tenant_id: tenant.id, kind: 'verification', state: 'pending', required_level: 'standard', attempts_initial: 3, attempts_left: 3, interaction_id: call, created_at: when, updated_at: when, expires_at: at(when, 600) });
      await mk(now);
      const newest = await mk(at(now, 5));
      await mk(at(now, 2));
      expect((await store.flows.readLatestForInteraction(tenant.id, call, [], new Date()).then((c) => c?.flow))?.id).toBe(newest.id);
      expect(await store.flows.readLatestForInteraction(other.id, call, [], new Date()).then((c) => c?.flow)).toBeUndefined();
      expect(await store.flows.readLatestForInteraction(tenant.id, `none-${uniq()}`, [], new Date()).then((c) => c?.flow)).toBeUndefined();
    });

    it('cancel moves an open flow to canceled with its event; refused on completed, canceled, failed and expired flows', async () => {
      const now = new Date();
      const flows = await Promise.all(range(5).map(() => seedFlow(store, { kind: 'verification', state: 'pending', now })));
      const [open, done, canceled, failed, expired] = flows;
      await store.db.updateTable('flows').set({ state: 'completed' }).where('id', '=', done!.flow.id).execute();
      await store.db.updateTable('flows').set({ state: 'canceled' }).where('id', '=', canceled!.flow.id).execute();
      await store.db.updateTable('flows').set({ attempts_left: 0 }).where('id', '=', failed!.flow.id).execute();
      const cancel = (f: typeof open, when = now, tenantId = f!.tenant.id) => store.flows.cancel(tenantId, f!.flow.id, ['pending'], when, [flowEvent(f!.tenant.id, 'verification.canceled', f!.flow.id)]);
      expect(await cancel(open, now, canceled!.tenant.id)).toBeUndefined(); // another tenant's
      expect(await eventsFor(store, open!.flow.id)).toEqual([]);
      expect(await cancel(open)).toMatchObject({ state: 'canceled', updated_at: now });
      expect(await eventsFor(store, open!.flow.id)).toEqual(['verification.canceled']);
      for (const [f, state] of [[open, 'canceled'], [done, 'completed'], [canceled, 'canceled'], [failed, 'pending'], [expired, 'pending']] as const) {
        expect(await cancel(f, f === expired ? at(now, 600) : now), state).toBeUndefined();
        expect((await store.flows.byId(f!.flow.id))?.state).toBe(state);
      }
      for (const f of [done, canceled, failed, expired]) expect(await eventsFor(store, f!.flow.id)).toEqual([]);
    });

    it('velocity counts the verifications of a customer and from a caller number since a time', async () => {
      const tenant = await seedTenant(store);
      const customerId = randomUUID();
      const now = new Date();
      const ani = `+1555${uniq()}`;
      const mk = (when: Date, o: { customer?: boolean; ani?: string | null; tenantId?: string } = {}) => store.flows.create({
        id: randomUUID(), tenant_id: o.tenantId ?? tenant.id, kind: 'verification', state: 'pending', required_level: 'standard', attempts_initial: 3, attempts_left: 3,
        ...(o.customer === false ? {} : { subject_type: 'customer' as const, subject_id: customerId }), caller_ani: o.ani === undefined ? ani : o.ani, created_at: when, updated_at: when, expires_at: at(when, 600),
      });
      await mk(at(now, -3600)); // before the window
      await mk(now);
      await mk(at(now, 10), { ani: null });
      await mk(at(now, 20), { customer: false });
      await mk(now, { tenantId: (await seedTenant(store)).id }); // another tenant's
      expect(await store.flows.velocity(tenant.id, customerId, ani, at(now, -60))).toEqual({ customer: 2, ani: 2 });
      expect(await store.flows.velocity(tenant.id, customerId, null, at(now, -60))).toEqual({ customer: 2, ani: 0 });
      expect(await store.flows.velocity(tenant.id, randomUUID(), ani, at(now, 15))).toEqual({ customer: 0, ani: 1 });
    });

    it('deleteExpired removes only expired flows of the given kinds', async () => {
      const past = at(new Date(), -86_400 * 365 * 50); // far in the past: only this test's flows are affected
      const signin = await seedFlow(store, { now: past, ttl: 60 });
      const verif = await seedFlow(store, { now: past, ttl: 60, kind: 'verification', state: 'pending' });
      const live = await seedFlow(store, { now: past, ttl: 600 });
      expect(await store.flows.deleteExpired(['signin', 'reauth'], at(past, 61))).toBe(1);
      expect(await store.flows.byId(signin.flow.id)).toBeUndefined();
      expect(await store.flows.byId(verif.flow.id)).toBeDefined();
      expect(await store.flows.byId(live.flow.id)).toBeDefined();
      expect(await store.flows.deleteExpired(['verification'], at(past, 61))).toBe(1);
      expect(await store.flows.byId(verif.flow.id)).toBeUndefined();
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

    it('lookup with touchOlderThan records activity in the same statement, only on a session last seen before it', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const now = new Date();
      const s = await newSession(user.id, tenant.id, now, 3600, 600);
      const lastSeen = async () => (await store.db.selectFrom('sessions').select('last_seen_at').where('id', '=', s.id).executeTakeFirstOrThrow()).last_seen_at;
      // seen recently enough: not touched
      expect(await store.sessions.lookup(s.token, at(now, 30), at(now, -30))).toBeDefined();
      expect(await lastSeen()).toEqual(now);
      // without touchOlderThan: a plain read
      expect(await store.sessions.lookup(s.token, at(now, 300))).toBeDefined();
      expect(await lastSeen()).toEqual(now);
      // last seen before the mark: touched, so the idle timeout runs from now on
      expect(await store.sessions.lookup(s.token, at(now, 300), at(now, 240))).toBeDefined();
      expect(await lastSeen()).toEqual(at(now, 300));
      expect(await store.sessions.lookup(s.token, at(now, 899))).toBeDefined();
      // an idle, revoked or another token's session is never touched
      const idle = await newSession(user.id, tenant.id, now, 3600, 60);
      expect(await store.sessions.lookup(idle.token, at(now, 61), at(now, 61))).toBeUndefined();
      expect((await store.db.selectFrom('sessions').select('last_seen_at').where('id', '=', idle.id).executeTakeFirstOrThrow()).last_seen_at).toEqual(now);
      await store.sessions.revoke(user.id, s.id, at(now, 301));
      expect(await store.sessions.lookup(s.token, at(now, 400), at(now, 400))).toBeUndefined();
      expect(await lastSeen()).toEqual(at(now, 300));
    });

    it('createForSignin writes the session, the last sign-in and the audit events together', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const now = new Date();
      const id = randomUUID();
      const tokenHash = hash32();
      await store.sessions.createForSignin(
        { id, tokenHash, tenantId: tenant.id, userId: user.id, aal: 2, methods: ['pwd', 'totp'], authTime: now, now, idleTimeoutS: 3600, expiresAt: at(now, 86_400), ip: null, userAgent: null },
        { inGrace: true, events: [withMac(TEST_KEYS, { tenantId: tenant.id, type: 'session.created', outcome: 'success', actor: { type: 'user', id: user.id }, target: { type: 'session', id }, at: now })] },
      );
      expect((await store.sessions.lookup(tokenHash, now))?.id).toBe(id);
      const u = await store.users.byId(tenant.id, user.id);
      expect(u?.last_signin_at?.getTime()).toBe(now.getTime());
      expect(u?.grace_signins).toBe(1);
      const ev = await store.db.selectFrom('audit_events').selectAll().where('target_id', '=', id).execute();
      expect(ev.map((e) => e.type)).toEqual(['session.created']);
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
