/**
 * Storage conformance, CredentialRepo (one credentials table for staff users and customers, the
 * TOTP replay ledger, recovery codes): the same contract on PGlite and PostgreSQL. Subjects are
 * isolated by type *and* id: the isolation tests give a customer the very id of a user.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { CredentialSubject } from '../../src/storage/repositories/credentials.js';
import type { Store } from '../../src/storage/store.js';
import { backends, testStore } from '../helpers/db.js';
import { at, hash32, range, seedTenant, seedTenantAndUser, seedUser } from '../helpers/fixtures.js';

const BACKENDS = await backends();

const userOf = (id: string): CredentialSubject => ({ type: 'user', id });
const customerOf = (id: string): CredentialSubject => ({ type: 'customer', id });

describe.each(BACKENDS)('storage conformance on %s', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await testStore(backend);
  });
  afterAll(async () => {
    await store?.close();
  });

  /** A customer of the tenant; with `id`, that id (e.g. the id of a user, to prove isolation by type). */
  async function seedCustomer(tenantId: string, id: string = randomUUID()) {
    await store.customers.create(
      { id, tenantId, externalId: null, name: 'Dana Caller', accountNumber: null, nationalId: null, nationalIdHint: null, dateOfBirth: null, cardLast4: null, contacts: [] },
      new Date(),
    );
    return customerOf(id);
  }

  const pending = (tenantId: string, subject: CredentialSubject, kind = 'totp', o: { replacePending?: boolean; now?: Date; label?: string } = {}) =>
    store.credentials.createPending({ id: randomUUID(), tenantId, subject, kind, label: o.label ?? kind, material: hash32(), now: o.now ?? new Date(), replacePending: o.replacePending });

  describe('CredentialRepo (moved from the FactorRepo conformance)', () => {
    it('useTotpStep accepts a (subject, step) once', async () => {
      const subject = userOf(randomUUID());
      const now = new Date();
      expect(await store.credentials.useTotpStep(subject, 57_000_001, now)).toBe(true);
      expect(await store.credentials.useTotpStep(subject, 57_000_001, now)).toBe(false);
      expect(await store.credentials.useTotpStep(subject, 57_000_002, now)).toBe(true);
      expect(await store.credentials.useTotpStep(userOf(randomUUID()), 57_000_001, now)).toBe(true);
    });

    it('50 parallel useTotpStep calls for one (subject, step) have exactly one winner', async () => {
      const subject = userOf(randomUUID());
      const now = new Date();
      const results = await Promise.all(range(50).map(() => store.credentials.useTotpStep(subject, 57_123_456, now)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const rows = await store.db.selectFrom('totp_used_steps').selectAll().where('subject_id', '=', subject.id).execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]?.step).toBe(57_123_456);
    });

    it('recovery codes: each code is spent once and the remaining count goes down', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const codes = range(10).map(() => hash32());
      const now = new Date();
      await store.credentials.replaceRecoveryCodes({ id: randomUUID(), tenantId: tenant.id, subject: userOf(user.id), hashes: codes, now });
      expect(await store.credentials.recoveryCodesLeft(userOf(user.id))).toBe(10);
      expect(await store.credentials.activeKinds(userOf(user.id))).toEqual(['recovery_code']);

      expect(await store.credentials.consumeRecoveryCode(userOf(user.id), codes[0]!, now)).toBe(9);
      expect(await store.credentials.consumeRecoveryCode(userOf(user.id), codes[0]!, now)).toBeNull();
      expect(await store.credentials.consumeRecoveryCode(userOf(user.id), hash32(), now)).toBeNull();
      expect(await store.credentials.recoveryCodesLeft(userOf(user.id))).toBe(9);

      // another user cannot spend this user's code
      const other = await seedTenantAndUser(store);
      expect(await store.credentials.consumeRecoveryCode(userOf(other.user.id), codes[1]!, now)).toBeNull();

      const parallel = await Promise.all(range(20).map(() => store.credentials.consumeRecoveryCode(userOf(user.id), codes[1]!, now)));
      const winners = parallel.filter((r) => r !== null);
      expect(winners).toEqual([8]);
      expect(await store.credentials.recoveryCodesLeft(userOf(user.id))).toBe(8);

      expect(await store.credentials.consumeRecoveryCode(userOf(user.id), codes[2]!, now)).toBe(7);
    });

    it('replaceRecoveryCodes voids the previous set', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const now = new Date();
      const old = range(5).map(() => hash32());
      await store.credentials.replaceRecoveryCodes({ id: randomUUID(), tenantId: tenant.id, subject: userOf(user.id), hashes: old, now });
      const fresh = range(3).map(() => hash32());
      const id = randomUUID();
      await store.credentials.replaceRecoveryCodes({ id, tenantId: tenant.id, subject: userOf(user.id), hashes: fresh, now });
      expect(await store.credentials.recoveryCodesLeft(userOf(user.id))).toBe(3);
      expect(await store.credentials.consumeRecoveryCode(userOf(user.id), old[0]!, now)).toBeNull();
      expect(await store.credentials.consumeRecoveryCode(userOf(user.id), fresh[0]!, now)).toBe(2);
      const kinds = await store.credentials.list(userOf(user.id));
      expect(kinds.map((f) => [f.id, f.kind])).toEqual([[id, 'recovery_code']]);
      // the old set's rows went with its credential
      const rows = await store.db.selectFrom('recovery_codes').select('credential_id').where('subject_id', '=', user.id).execute();
      expect(new Set(rows.map((r) => r.credential_id))).toEqual(new Set([id]));
    });

    it('activate: a pending credential once; never a second active credential of the same kind', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const now = new Date();
      const me = userOf(user.id);
      const f1 = await pending(tenant.id, me);
      expect(f1.status).toBe('pending');
      expect(Buffer.isBuffer(f1.material)).toBe(true);
      expect(await store.credentials.active(me, 'totp')).toBeUndefined();

      // the wrong user cannot activate it
      const other = await seedTenantAndUser(store);
      expect(await store.credentials.activate(userOf(other.user.id), f1.id, now)).toBe(false);

      expect(await store.credentials.activate(me, f1.id, now)).toBe(true);
      expect((await store.credentials.active(me, 'totp'))?.id).toBe(f1.id);
      // no longer pending
      expect(await store.credentials.activate(me, f1.id, now)).toBe(false);
      // a second TOTP credential stays pending
      const f2 = await pending(tenant.id, me);
      expect(await store.credentials.activate(me, f2.id, now)).toBe(false);
      expect((await store.credentials.byId(me, f2.id))?.status).toBe('pending');
      // another kind is fine
      const f3 = await pending(tenant.id, me, 'webauthn');
      expect(await store.credentials.activate(me, f3.id, now)).toBe(true);
      expect((await store.credentials.activeKinds(me)).sort()).toEqual(['totp', 'webauthn']);
      // unknown id
      expect(await store.credentials.activate(me, randomUUID(), now)).toBe(false);
    });

    it('10 pending credentials of one kind activated in parallel: exactly one becomes active', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const now = new Date();
      const me = userOf(user.id);
      const creds = await Promise.all(range(10).map(() => store.credentials.createPending({ id: randomUUID(), tenantId: tenant.id, subject: me, kind: 'totp', label: '', material: null, now })));
      const results = await Promise.all(creds.map((f) => store.credentials.activate(me, f.id, now)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const active = await sql<{ n: number }>`SELECT count(*)::int AS n FROM credentials WHERE subject_type = 'user' AND subject_id = ${user.id} AND status = 'active'`.execute(store.db);
      expect(active.rows[0]?.n).toBe(1);
    });

    it('remove and removeAll are scoped to the user', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const other = await seedTenantAndUser(store);
      const now = new Date();
      const me = userOf(user.id);
      const f = await store.credentials.createPending({ id: randomUUID(), tenantId: tenant.id, subject: me, kind: 'totp', label: '', material: null, now });
      expect(await store.credentials.remove(userOf(other.user.id), f.id)).toBeUndefined();
      expect((await store.credentials.remove(me, f.id))?.id).toBe(f.id);
      await store.credentials.createPending({ id: randomUUID(), tenantId: tenant.id, subject: me, kind: 'totp', label: '', material: null, now });
      await store.credentials.createPending({ id: randomUUID(), tenantId: tenant.id, subject: me, kind: 'sms', label: '', material: null, now });
      expect(await store.credentials.removeAll(me)).toBe(2);
    });
  });

  describe('CredentialRepo', () => {
    it('createPending stores every column; replacePending drops only the subject’s earlier pending ones of that kind', async () => {
      const tenant = await seedTenant(store);
      const c = await seedCustomer(tenant.id);
      const now = new Date('2031-02-03T04:05:06.789Z');
      const material = hash32();
      const id = randomUUID();
      const row = await store.credentials.createPending({ id, tenantId: tenant.id, subject: c, kind: 'totp', label: 'Phone', material, now });
      expect(row).toEqual({
        id,
        tenant_id: tenant.id,
        subject_type: 'customer',
        subject_id: c.id,
        kind: 'totp',
        label: 'Phone',
        status: 'pending',
        material,
        sign_count: 0,
        external_id: null,
        meta: {},
        created_at: now,
        confirmed_at: null,
        last_used_at: null,
      });
      // without replacePending, earlier pending ones stay
      const second = await pending(tenant.id, c);
      expect((await store.credentials.byId(c, id))?.status).toBe('pending');
      // an active one of the kind, a pending one of another kind and another customer's pending one survive a replace
      const activeSms = await pending(tenant.id, c, 'sms');
      expect(await store.credentials.activate(c, activeSms.id, now)).toBe(true);
      const pendingSms = await pending(tenant.id, c, 'sms');
      const other = await seedCustomer(tenant.id);
      const othersPending = await pending(tenant.id, other);
      const third = await pending(tenant.id, c, 'totp', { replacePending: true });
      expect(await store.credentials.byId(c, id)).toBeUndefined();
      expect(await store.credentials.byId(c, second.id)).toBeUndefined();
      expect((await store.credentials.byId(c, third.id))?.status).toBe('pending');
      expect((await store.credentials.byId(c, pendingSms.id))?.status).toBe('pending');
      expect((await store.credentials.byId(other, othersPending.id))?.status).toBe('pending');
      // replacing pending SMS ones leaves the active SMS credential
      await pending(tenant.id, c, 'sms', { replacePending: true });
      expect(await store.credentials.byId(c, pendingSms.id)).toBeUndefined();
      expect((await store.credentials.active(c, 'sms'))?.id).toBe(activeSms.id);
    });

    it('activate stamps confirmed_at; list shows active credentials only, oldest first, without material', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const me = userOf(user.id);
      const t0 = new Date('2031-05-01T00:00:00.000Z');
      const b = await pending(tenant.id, me, 'webauthn', { now: at(t0, 10), label: 'Key' });
      const a = await pending(tenant.id, me, 'totp', { now: t0, label: 'App' });
      await pending(tenant.id, me, 'sms', { now: at(t0, 20) }); // stays pending
      expect(await store.credentials.activate(me, b.id, at(t0, 30))).toBe(true);
      expect(await store.credentials.activate(me, a.id, at(t0, 40))).toBe(true);
      expect((await store.credentials.byId(me, a.id))?.confirmed_at).toEqual(at(t0, 40));
      const listed = await store.credentials.list(me);
      expect(listed).toEqual([
        { id: a.id, kind: 'totp', label: 'App', status: 'active', sign_count: 0, meta: {}, created_at: t0, confirmed_at: at(t0, 40), last_used_at: null },
        { id: b.id, kind: 'webauthn', label: 'Key', status: 'active', sign_count: 0, meta: {}, created_at: at(t0, 10), confirmed_at: at(t0, 30), last_used_at: null },
      ]);
      expect(await store.credentials.activeKinds(me)).toEqual(['totp', 'webauthn']);
      expect(await store.credentials.list(userOf(randomUUID()))).toEqual([]);
    });

    it('activeKindsOf: active kinds of many subjects of one type in one call', async () => {
      const tenant = await seedTenant(store);
      const u1 = await seedUser(store, tenant.id);
      const u2 = await seedUser(store, tenant.id);
      const u3 = await seedUser(store, tenant.id);
      const now = new Date();
      const t1 = await pending(tenant.id, userOf(u1.id), 'totp', { now });
      await store.credentials.activate(userOf(u1.id), t1.id, now);
      await store.credentials.replaceRecoveryCodes({ id: randomUUID(), tenantId: tenant.id, subject: userOf(u1.id), hashes: [hash32()], now: at(now, 1) });
      await pending(tenant.id, userOf(u2.id), 'totp'); // pending only: no kinds
      // a customer with u3's id and an active TOTP app: not one of u3's kinds
      const c = await seedCustomer(tenant.id, u3.id);
      const ct = await pending(tenant.id, c);
      await store.credentials.activate(c, ct.id, now);
      const kinds = await store.credentials.activeKindsOf('user', [u1.id, u2.id, u3.id]);
      expect(Object.fromEntries(kinds)).toEqual({ [u1.id]: ['totp', 'recovery_code'] });
      expect(Object.fromEntries(await store.credentials.activeKindsOf('customer', [u1.id, u3.id]))).toEqual({ [u3.id]: ['totp'] });
      expect((await store.credentials.activeKindsOf('user', [])).size).toBe(0);
    });

    it('removeKind removes active and pending credentials of the kind, for that subject only', async () => {
      const tenant = await seedTenant(store);
      const c = await seedCustomer(tenant.id);
      const other = await seedCustomer(tenant.id);
      const now = new Date();
      const a = await pending(tenant.id, c);
      await store.credentials.activate(c, a.id, now);
      const p = await pending(tenant.id, c);
      const sms = await pending(tenant.id, c, 'sms');
      const theirs = await pending(tenant.id, other);
      const removed = await store.credentials.removeKind(c, 'totp');
      expect(removed.map((r) => r.id).sort()).toEqual([a.id, p.id].sort());
      expect(removed.map((r) => r.status).sort()).toEqual(['active', 'pending']);
      expect(await store.credentials.removeKind(c, 'totp')).toEqual([]);
      expect(await store.credentials.byId(c, sms.id)).toBeDefined();
      expect(await store.credentials.byId(other, theirs.id)).toBeDefined();
    });

    it('useTotpStep with a credential stamps its last use, only when the step was new and the credential is the subject’s', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const me = userOf(user.id);
      const t0 = new Date('2031-06-01T00:00:00.000Z');
      const cred = await pending(tenant.id, me);
      expect(await store.credentials.useTotpStep(me, 61_000_001, t0, cred.id)).toBe(true);
      expect((await store.credentials.byId(me, cred.id))?.last_used_at).toEqual(t0);
      // a replay does not move it
      expect(await store.credentials.useTotpStep(me, 61_000_001, at(t0, 5), cred.id)).toBe(false);
      expect((await store.credentials.byId(me, cred.id))?.last_used_at).toEqual(t0);
      // another subject naming this credential records its own step but does not touch it
      const other = await seedTenantAndUser(store);
      expect(await store.credentials.useTotpStep(userOf(other.user.id), 61_000_002, at(t0, 9), cred.id)).toBe(true);
      expect((await store.credentials.byId(me, cred.id))?.last_used_at).toEqual(t0);
    });

    it('50 parallel useTotpStep calls of one step against one credential: exactly one true, one stamp', async () => {
      const tenant = await seedTenant(store);
      const c = await seedCustomer(tenant.id);
      const now = new Date('2031-06-02T00:00:00.000Z');
      const cred = await pending(tenant.id, c);
      await store.credentials.activate(c, cred.id, now);
      const results = await Promise.all(range(50).map((i) => store.credentials.useTotpStep(c, 62_000_000, at(now, i), cred.id)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const ledger = await store.db.selectFrom('totp_used_steps').selectAll().where('subject_id', '=', c.id).execute();
      expect(ledger.map((r) => r.step)).toEqual([62_000_000]);
      expect((await store.credentials.byId(c, cred.id))?.last_used_at).toEqual(ledger[0]!.used_at);
    });

    it('consumeRecoveryCode stamps the credential’s last use; recovery codes work for a customer too', async () => {
      const tenant = await seedTenant(store);
      const c = await seedCustomer(tenant.id);
      const id = randomUUID();
      const codes = range(3).map(() => hash32());
      const t0 = new Date('2031-07-01T00:00:00.000Z');
      await store.credentials.replaceRecoveryCodes({ id, tenantId: tenant.id, subject: c, hashes: codes, now: t0 });
      expect(await store.credentials.recoveryCodesLeft(c)).toBe(3);
      expect(await store.credentials.consumeRecoveryCode(c, codes[1]!, at(t0, 60))).toBe(2);
      expect(await store.credentials.byId(c, id)).toMatchObject({ kind: 'recovery_code', status: 'active', last_used_at: at(t0, 60), confirmed_at: t0 });
      // a failed spend does not stamp
      expect(await store.credentials.consumeRecoveryCode(c, codes[1]!, at(t0, 90))).toBeNull();
      expect((await store.credentials.byId(c, id))?.last_used_at).toEqual(at(t0, 60));
    });

    it('20 parallel spends of one recovery code: exactly one success', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const me = userOf(user.id);
      const codes = range(4).map(() => hash32());
      await store.credentials.replaceRecoveryCodes({ id: randomUUID(), tenantId: tenant.id, subject: me, hashes: codes, now: new Date() });
      const results = await Promise.all(range(20).map(() => store.credentials.consumeRecoveryCode(me, codes[3]!, new Date())));
      expect(results.filter((r) => r !== null)).toEqual([3]);
      expect(await store.credentials.recoveryCodesLeft(me)).toBe(3);
    });

    it('a suspended credential is not active: its recovery codes are not accepted and not counted', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const me = userOf(user.id);
      const id = randomUUID();
      const codes = range(2).map(() => hash32());
      await store.credentials.replaceRecoveryCodes({ id, tenantId: tenant.id, subject: me, hashes: codes, now: new Date() });
      await sql`UPDATE credentials SET status = 'suspended' WHERE id = ${id}`.execute(store.db);
      expect(await store.credentials.active(me, 'recovery_code')).toBeUndefined();
      expect(await store.credentials.activeKinds(me)).toEqual([]);
      expect(await store.credentials.recoveryCodesLeft(me)).toBe(0);
      expect(await store.credentials.consumeRecoveryCode(me, codes[0]!, new Date())).toBeNull();
      expect((await store.credentials.byId(me, id))?.status).toBe('suspended');
    });
  });

  describe('subject isolation: a user and a customer with the same id and kind never mix', () => {
    it('every read and write is scoped by subject type and id', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const u = userOf(user.id);
      const c = await seedCustomer(tenant.id, user.id); // the very same id
      const now = new Date();
      const ut = await pending(tenant.id, u, 'totp', { label: 'user app' });
      const ct = await pending(tenant.id, c, 'totp', { label: 'customer app' });
      // each side's id is not found through the other subject
      expect(await store.credentials.byId(c, ut.id)).toBeUndefined();
      expect(await store.credentials.byId(u, ct.id)).toBeUndefined();
      expect(await store.credentials.activate(c, ut.id, now)).toBe(false);
      expect(await store.credentials.activate(u, ct.id, now)).toBe(false);
      expect(await store.credentials.remove(c, ut.id)).toBeUndefined();
      expect(await store.credentials.remove(u, ct.id)).toBeUndefined();
      // both may have an active credential of the same kind: the one-active rule is per subject
      expect(await store.credentials.activate(u, ut.id, now)).toBe(true);
      expect(await store.credentials.activate(c, ct.id, now)).toBe(true);
      expect((await store.credentials.active(u, 'totp'))?.label).toBe('user app');
      expect((await store.credentials.active(c, 'totp'))?.label).toBe('customer app');
      expect((await store.credentials.list(u)).map((r) => r.id)).toEqual([ut.id]);
      expect((await store.credentials.list(c)).map((r) => r.id)).toEqual([ct.id]);
      expect(await store.credentials.activeKinds(c)).toEqual(['totp']);

      // recovery codes: the user's cannot be spent or counted as the customer's
      const codes = range(2).map(() => hash32());
      await store.credentials.replaceRecoveryCodes({ id: randomUUID(), tenantId: tenant.id, subject: u, hashes: codes, now });
      expect(await store.credentials.recoveryCodesLeft(c)).toBe(0);
      expect(await store.credentials.consumeRecoveryCode(c, codes[0]!, now)).toBeNull();
      expect(await store.credentials.recoveryCodesLeft(u)).toBe(2);
      expect(await store.credentials.activeKinds(c)).toEqual(['totp']);

      // removing by kind or all on one side leaves the other
      expect((await store.credentials.removeKind(c, 'totp')).map((r) => r.id)).toEqual([ct.id]);
      expect((await store.credentials.active(u, 'totp'))?.id).toBe(ut.id);
      await pending(tenant.id, c, 'sms');
      expect(await store.credentials.removeAll(u)).toBe(2); // totp + recovery codes
      expect(await store.credentials.activeKinds(u)).toEqual([]);
      expect((await store.credentials.list(c)).length).toBe(0); // only a pending sms remains
      expect(await store.credentials.removeAll(c)).toBe(1);
    });
  });

  describe('the one-active-per-kind rule and the subject integrity the foreign keys gave', () => {
    it('a second active credential of a kind is refused by the database itself', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const now = new Date();
      const insert = (status: string) =>
        sql`INSERT INTO credentials (id, tenant_id, subject_type, subject_id, kind, label, status, created_at)
            VALUES (${randomUUID()}, ${tenant.id}, 'user', ${user.id}, 'totp', '', ${status}, ${now})`.execute(store.db);
      await insert('active');
      await expect(insert('active')).rejects.toMatchObject({ code: '23505' });
      await insert('pending');
      await insert('suspended');
      await expect(insert('revoked')).rejects.toMatchObject({ code: '23514' });
    });

    it('a credential names an existing user or customer of its own tenant', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const elsewhere = await seedTenant(store);
      const c = await seedCustomer(tenant.id);
      const now = new Date();
      await expect(pending(tenant.id, userOf(randomUUID()))).rejects.toMatchObject({ code: '23503' });
      await expect(pending(tenant.id, customerOf(randomUUID()))).rejects.toMatchObject({ code: '23503' });
      // a user's id is no customer, a customer's id is no user
      await expect(pending(tenant.id, customerOf(user.id))).rejects.toMatchObject({ code: '23503' });
      await expect(pending(tenant.id, userOf(c.id))).rejects.toMatchObject({ code: '23503' });
      // another tenant's subject
      await expect(pending(elsewhere.id, userOf(user.id))).rejects.toMatchObject({ code: '23503' });
      await expect(pending(elsewhere.id, c)).rejects.toMatchObject({ code: '23503' });
      await expect(store.credentials.replaceRecoveryCodes({ id: randomUUID(), tenantId: elsewhere.id, subject: userOf(user.id), hashes: [hash32()], now })).rejects.toMatchObject({ code: '23503' });
      // moving a credential to another subject is checked too
      const ok = await pending(tenant.id, userOf(user.id));
      await expect(sql`UPDATE credentials SET subject_id = ${randomUUID()} WHERE id = ${ok.id}`.execute(store.db)).rejects.toMatchObject({ code: '23503' });
      // a subject inserted by the same statement counts (as with a foreign key)
      const uid = randomUUID();
      await sql`WITH u AS (INSERT INTO users (id, tenant_id, email, status, created_at) VALUES (${uid}, ${tenant.id}, ${`${uid}@example.com`}, 'active', ${now}) RETURNING id, tenant_id)
                INSERT INTO credentials (id, tenant_id, subject_type, subject_id, kind, label, status, created_at)
                SELECT ${randomUUID()}, tenant_id, 'user', id, 'totp', '', 'active', ${now} FROM u`.execute(store.db);
      expect(await store.credentials.activeKinds(userOf(uid))).toEqual(['totp']);
    });

    it('deleting a user or a customer deletes their credentials and recovery codes, and nobody else’s', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const keep = await seedUser(store, tenant.id);
      const c = await seedCustomer(tenant.id);
      const cKeep = await seedCustomer(tenant.id);
      const now = new Date();
      for (const s of [userOf(user.id), userOf(keep.id), c, cKeep]) {
        await pending(tenant.id, s);
        await store.credentials.replaceRecoveryCodes({ id: randomUUID(), tenantId: tenant.id, subject: s, hashes: [hash32(), hash32()], now });
      }
      const count = async (table: 'credentials' | 'recovery_codes', id: string) =>
        Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)} WHERE subject_id = ${id}`.execute(store.db)).rows[0]!.n);
      await sql`DELETE FROM users WHERE id = ${user.id}`.execute(store.db);
      await sql`DELETE FROM customers WHERE id = ${c.id}`.execute(store.db);
      expect([await count('credentials', user.id), await count('recovery_codes', user.id)]).toEqual([0, 0]);
      expect([await count('credentials', c.id), await count('recovery_codes', c.id)]).toEqual([0, 0]);
      expect([await count('credentials', keep.id), await count('recovery_codes', keep.id)]).toEqual([2, 2]);
      expect([await count('credentials', cKeep.id), await count('recovery_codes', cKeep.id)]).toEqual([2, 2]);
      // removing the credential removes its codes
      expect(await store.credentials.removeKind(cKeep, 'recovery_code')).toHaveLength(1);
      expect(await count('recovery_codes', cKeep.id)).toBe(0);
    });
  });
});
