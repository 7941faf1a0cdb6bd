/** Storage conformance, CounterRepo and FactorRepo: the same contract on PGlite and PostgreSQL. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Store } from '../../src/storage/store.js';
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

  describe('CounterRepo', () => {
    it('hit counts 1, 2, 3 and reports the previous attempt time', async () => {
      const subject = `pw:${uniq()}:alice`;
      const t0 = new Date('2030-01-01T00:00:00.123Z');
      const a = await store.counters.hit(subject, t0);
      expect(a).toEqual({ failures: 1, prevAttemptAt: null, lastFailureAt: null, lockedUntil: null });
      const b = await store.counters.hit(subject, at(t0, 5));
      expect(b).toEqual({ failures: 2, prevAttemptAt: t0, lastFailureAt: null, lockedUntil: null });
      const c = await store.counters.hit(subject, at(t0, 9));
      expect(c).toEqual({ failures: 3, prevAttemptAt: at(t0, 5), lastFailureAt: null, lockedUntil: null });
      expect(await store.counters.get(subject)).toEqual(c);
      expect(await store.counters.get(`${subject}-other`)).toBeNull();
    });

    it('20 parallel hits on one subject each count exactly once', async () => {
      const subject = `f:${uniq()}:totp`;
      const now = new Date();
      const results = await Promise.all(range(20).map((i) => store.counters.hit(subject, at(now, i))));
      expect(results.map((r) => r.failures).sort((x, y) => x - y)).toEqual(range(20));
      expect((await store.counters.get(subject))?.failures).toBe(20);
    });

    it('reset deletes the counter, so the next hit starts from 1', async () => {
      const subject = `pw:${uniq()}:bob`;
      const now = new Date();
      await store.counters.hit(subject, now);
      await store.counters.hit(subject, at(now, 1));
      await store.counters.reset(subject);
      expect(await store.counters.get(subject)).toBeNull();
      expect(await store.counters.hit(subject, at(now, 2))).toEqual({ failures: 1, prevAttemptAt: null, lastFailureAt: null, lockedUntil: null });
      await store.counters.reset(`${subject}-never-hit`); // resetting nothing is fine
    });

    it('lock sets locked_until and keeps the failure count; later hits keep counting', async () => {
      const subject = `pw:${uniq()}:carol`;
      const now = new Date();
      for (const i of range(5)) await store.counters.hit(subject, at(now, i));
      const until = at(now, 900);
      await store.counters.lock(subject, until);
      expect(await store.counters.get(subject)).toEqual({ failures: 5, prevAttemptAt: at(now, 4), lastFailureAt: null, lockedUntil: until });
      const next = await store.counters.hit(subject, at(now, 10));
      expect(next).toEqual({ failures: 6, prevAttemptAt: at(now, 5), lastFailureAt: null, lockedUntil: until });
    });

    it('recordFailure stamps last_failure_at on an existing counter only; hit keeps it', async () => {
      const subject = `pw:${uniq()}:dave`;
      const now = new Date();
      await store.counters.recordFailure(subject, now); // no counter yet: nothing is created
      expect(await store.counters.get(subject)).toBeNull();
      await store.counters.hit(subject, now);
      await store.counters.recordFailure(subject, at(now, 1));
      expect(await store.counters.get(subject)).toEqual({ failures: 1, prevAttemptAt: null, lastFailureAt: at(now, 1), lockedUntil: null });
      expect(await store.counters.hit(subject, at(now, 2))).toEqual({ failures: 2, prevAttemptAt: now, lastFailureAt: at(now, 1), lockedUntil: null });
      await store.counters.reset(subject);
      expect((await store.counters.hit(subject, at(now, 3))).lastFailureAt).toBeNull();
    });

    it('resetPrefix deletes exactly the subjects under the prefix (LIKE wildcards are literal)', async () => {
      const k = uniq();
      const now = new Date();
      const subjects = [`pw:${k}:a`, `pw:${k}:b`, `pw:${k}x:c`, `f:${k}_1:totp`, `f:${k}Z1:totp`, `f:${k}%:totp`, `f:${k}%Q:totp`];
      for (const s of subjects) await store.counters.hit(s, now);
      expect(await store.counters.resetPrefix(`pw:${k}:`)).toBe(2);
      expect(await store.counters.get(`pw:${k}:a`)).toBeNull();
      expect(await store.counters.get(`pw:${k}:b`)).toBeNull();
      expect(await store.counters.get(`pw:${k}x:c`)).not.toBeNull();
      // '_' must not match any one character
      expect(await store.counters.resetPrefix(`f:${k}_1:`)).toBe(1);
      expect(await store.counters.get(`f:${k}Z1:totp`)).not.toBeNull();
      // '%' must not match any run of characters
      expect(await store.counters.resetPrefix(`f:${k}%:`)).toBe(1);
      expect(await store.counters.get(`f:${k}%Q:totp`)).not.toBeNull();
      expect(await store.counters.resetPrefix(`nothing:${k}`)).toBe(0);
    });
  });

  describe('FactorRepo', () => {
    it('useTotpStep accepts a (subject, step) once', async () => {
      const subject = randomUUID();
      const now = new Date();
      expect(await store.factors.useTotpStep(subject, 57_000_001, now)).toBe(true);
      expect(await store.factors.useTotpStep(subject, 57_000_001, now)).toBe(false);
      expect(await store.factors.useTotpStep(subject, 57_000_002, now)).toBe(true);
      expect(await store.factors.useTotpStep(randomUUID(), 57_000_001, now)).toBe(true);
    });

    it('50 parallel useTotpStep calls for one (subject, step) have exactly one winner', async () => {
      const subject = randomUUID();
      const now = new Date();
      const results = await Promise.all(range(50).map(() => store.factors.useTotpStep(subject, 57_123_456, now)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const rows = await store.db.selectFrom('totp_used_steps').selectAll().where('subject_id', '=', subject).execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]?.step).toBe(57_123_456);
    });

    it('recovery codes: each code is spent once and the remaining count goes down', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const codes = range(10).map(() => hash32());
      const now = new Date();
      await store.factors.replaceRecoveryCodes({ id: randomUUID(), tenantId: tenant.id, userId: user.id, hashes: codes, now });
      expect(await store.factors.recoveryCodesLeft(user.id)).toBe(10);
      expect(await store.factors.activeKinds(user.id)).toEqual(['recovery_code']);

      expect(await store.factors.consumeRecoveryCode(user.id, codes[0]!, now)).toBe(9);
      expect(await store.factors.consumeRecoveryCode(user.id, codes[0]!, now)).toBeNull();
      expect(await store.factors.consumeRecoveryCode(user.id, hash32(), now)).toBeNull();
      expect(await store.factors.recoveryCodesLeft(user.id)).toBe(9);

      // another user cannot spend this user's code
      const other = await seedTenantAndUser(store);
      expect(await store.factors.consumeRecoveryCode(other.user.id, codes[1]!, now)).toBeNull();

      const parallel = await Promise.all(range(20).map(() => store.factors.consumeRecoveryCode(user.id, codes[1]!, now)));
      const winners = parallel.filter((r) => r !== null);
      expect(winners).toEqual([8]);
      expect(await store.factors.recoveryCodesLeft(user.id)).toBe(8);

      expect(await store.factors.consumeRecoveryCode(user.id, codes[2]!, now)).toBe(7);
    });

    it('replaceRecoveryCodes voids the previous set', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const now = new Date();
      const old = range(5).map(() => hash32());
      await store.factors.replaceRecoveryCodes({ id: randomUUID(), tenantId: tenant.id, userId: user.id, hashes: old, now });
      const fresh = range(3).map(() => hash32());
      const id = randomUUID();
      await store.factors.replaceRecoveryCodes({ id, tenantId: tenant.id, userId: user.id, hashes: fresh, now });
      expect(await store.factors.recoveryCodesLeft(user.id)).toBe(3);
      expect(await store.factors.consumeRecoveryCode(user.id, old[0]!, now)).toBeNull();
      expect(await store.factors.consumeRecoveryCode(user.id, fresh[0]!, now)).toBe(2);
      const kinds = await store.factors.list(user.id);
      expect(kinds.map((f) => [f.id, f.kind])).toEqual([[id, 'recovery_code']]);
    });

    it('activate: a pending factor once; never a second active factor of the same kind', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const now = new Date();
      const pending = (kind = 'totp') =>
        store.factors.createPending({ id: randomUUID(), tenantId: tenant.id, userId: user.id, kind, label: kind, secret: hash32(), now });
      const f1 = await pending();
      expect(f1.status).toBe('pending');
      expect(Buffer.isBuffer(f1.secret)).toBe(true);
      expect(await store.factors.active(user.id, 'totp')).toBeUndefined();

      // the wrong user cannot activate it
      const other = await seedTenantAndUser(store);
      expect(await store.factors.activate(f1.id, other.user.id, now)).toBe(false);

      expect(await store.factors.activate(f1.id, user.id, now)).toBe(true);
      expect((await store.factors.active(user.id, 'totp'))?.id).toBe(f1.id);
      // no longer pending
      expect(await store.factors.activate(f1.id, user.id, now)).toBe(false);
      // a second TOTP factor stays pending
      const f2 = await pending();
      expect(await store.factors.activate(f2.id, user.id, now)).toBe(false);
      expect((await store.factors.byId(user.id, f2.id))?.status).toBe('pending');
      // another kind is fine
      const f3 = await pending('webauthn');
      expect(await store.factors.activate(f3.id, user.id, now)).toBe(true);
      expect((await store.factors.activeKinds(user.id)).sort()).toEqual(['totp', 'webauthn']);
      // unknown id
      expect(await store.factors.activate(randomUUID(), user.id, now)).toBe(false);
    });

    it('10 pending factors of one kind activated in parallel: exactly one becomes active', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const now = new Date();
      const factors = await Promise.all(
        range(10).map(() => store.factors.createPending({ id: randomUUID(), tenantId: tenant.id, userId: user.id, kind: 'totp', label: '', secret: null, now })),
      );
      const results = await Promise.all(factors.map((f) => store.factors.activate(f.id, user.id, now)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const active = await sql<{ n: number }>`SELECT count(*)::int AS n FROM factors WHERE user_id = ${user.id} AND status = 'active'`.execute(store.db);
      expect(active.rows[0]?.n).toBe(1);
    });

    it('remove and removeAll are scoped to the user', async () => {
      const { tenant, user } = await seedTenantAndUser(store);
      const other = await seedTenantAndUser(store);
      const now = new Date();
      const f = await store.factors.createPending({ id: randomUUID(), tenantId: tenant.id, userId: user.id, kind: 'totp', label: '', secret: null, now });
      expect(await store.factors.remove(other.user.id, f.id)).toBeUndefined();
      expect((await store.factors.remove(user.id, f.id))?.id).toBe(f.id);
      await store.factors.createPending({ id: randomUUID(), tenantId: tenant.id, userId: user.id, kind: 'totp', label: '', secret: null, now });
      await store.factors.createPending({ id: randomUUID(), tenantId: tenant.id, userId: user.id, kind: 'sms', label: '', secret: null, now });
      expect(await store.factors.removeAll(user.id)).toBe(2);
    });
  });
});
