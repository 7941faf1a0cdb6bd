/**
 * Storage conformance, SigningKeyRepo and ApiKeyRepo: the same contract on PGlite and PostgreSQL.
 * Signing keys: round trip (the public JWK as JSON, the sealed private key as bytes), `current` is the
 * tenant's newest unretired key, `published` adds keys retired less than a day ago, all scoped by
 * tenant, and a kid is unique. API keys: only the hash is stored and found; `list`, `byId` and
 * `revoke` are scoped by tenant; a key is revoked once (also under parallel revokes); `authenticate` writes
 * at most once a minute.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/storage/store.js';
import { backends, testStore } from '../helpers/db.js';
import { at, hash32, range, seedTenant, uniq } from '../helpers/fixtures.js';

describe.each(await backends())('signing and API keys conformance on %s', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await testStore(backend);
  });
  afterAll(() => store?.close());

  const now = new Date('2030-05-01T12:00:00Z');

  describe('SigningKeyRepo', () => {
    const jwk = (x: string) => ({ kty: 'EC', crv: 'P-256', x, y: `y-${x}`, alg: 'ES256', use: 'sig' });
    async function key(tenantId: string, created: Date) {
      const kid = `kid-${uniq()}`;
      const privateKey = randomBytes(80);
      await store.signingKeys.create({ kid, tenantId, alg: 'ES256', publicJwk: { ...jwk(kid), kid }, privateKey, now: created });
      return { kid, privateKey };
    }
    /** There is no retire method yet (keys are only ever added); retirement is a column the published set reads. */
    const retire = (kid: string, when: Date) => store.db.updateTable('signing_keys').set({ retired_at: when }).where('kid', '=', kid).execute();

    it('create then byKid round-trip the key: JWK as JSON, private key bytes intact', async () => {
      const t = await seedTenant(store);
      const k = await key(t.id, now);
      const row = await store.signingKeys.byKid(k.kid);
      expect(row).toMatchObject({ kid: k.kid, tenant_id: t.id, alg: 'ES256', retired_at: null, public_jwk: { ...jwk(k.kid), kid: k.kid } });
      expect(Buffer.from(row!.private_key).equals(k.privateKey)).toBe(true);
      expect(row!.created_at.getTime()).toBe(now.getTime());
      expect(await store.signingKeys.byKid('kid-unknown')).toBeUndefined();
    });

    it('current is the newest unretired key of the tenant only', async () => {
      const a = await seedTenant(store);
      const b = await seedTenant(store);
      expect(await store.signingKeys.current(a.id)).toBeUndefined();
      const older = await key(a.id, now);
      const newer = await key(a.id, at(now, 60));
      const theirs = await key(b.id, at(now, 120));
      expect((await store.signingKeys.current(a.id))?.kid).toBe(newer.kid);
      expect((await store.signingKeys.current(b.id))?.kid).toBe(theirs.kid);
      await retire(newer.kid, at(now, 180));
      expect((await store.signingKeys.current(a.id))?.kid).toBe(older.kid);
      await retire(older.kid, at(now, 180));
      expect(await store.signingKeys.current(a.id)).toBeUndefined();
      expect((await store.signingKeys.current(b.id))?.kid).toBe(theirs.kid);
    });

    it('published lists live keys and keys retired less than a day ago, newest first, of the tenant only', async () => {
      const a = await seedTenant(store);
      const b = await seedTenant(store);
      const live = await key(a.id, at(now, 300));
      const recent = await key(a.id, at(now, 200));
      const old = await key(a.id, at(now, 100));
      await key(b.id, at(now, 400));
      await retire(recent.kid, now);
      await retire(old.kid, at(now, -86_400));
      const pub = await store.signingKeys.published(a.id, at(now, 3_600));
      expect(pub.map((k) => k.kid)).toEqual([live.kid, recent.kid]);
      expect(pub[0]!.public_jwk).toEqual({ ...jwk(live.kid), kid: live.kid });
      // a day after its retirement the key is no longer published
      expect((await store.signingKeys.published(a.id, at(now, 86_400))).map((k) => k.kid)).toEqual([live.kid]);
    });

    it('a kid is unique', async () => {
      const t = await seedTenant(store);
      const k = await key(t.id, now);
      await expect(store.signingKeys.create({ kid: k.kid, tenantId: t.id, alg: 'ES256', publicJwk: jwk('again'), privateKey: randomBytes(80), now })).rejects.toThrow();
      expect(Buffer.from((await store.signingKeys.byKid(k.kid))!.private_key).equals(k.privateKey)).toBe(true);
    });
  });

  describe('ApiKeyRepo', () => {
    async function apiKey(tenantId: string, o: { name?: string; created?: Date; scopes?: string[] } = {}) {
      const keyHash = hash32();
      const row = await store.apiKeys.create({ id: randomUUID(), tenantId, name: o.name ?? `ivr-${uniq()}`, prefix: 'cwk_ab12', keyHash, scopes: o.scopes ?? ['ivr'], createdBy: null, now: o.created ?? now });
      return { row, keyHash };
    }

    it('create returns the stored row; byHash finds it by its hash only', async () => {
      const t = await seedTenant(store);
      const { row, keyHash } = await apiKey(t.id, { name: 'ivr', scopes: ['ivr', 'verifications.read'] });
      expect(row).toMatchObject({ tenant_id: t.id, name: 'ivr', prefix: 'cwk_ab12', scopes: ['ivr', 'verifications.read'], created_by: null, last_used_at: null, revoked_at: null });
      expect(Buffer.from(row.key_hash).equals(keyHash)).toBe(true);
      expect(await store.apiKeys.byHash(keyHash)).toEqual(row);
      expect(await store.apiKeys.byHash(hash32())).toBeUndefined();
      // the same hash cannot be stored twice (a lookup by hash names one key)
      await expect(store.apiKeys.create({ id: randomUUID(), tenantId: t.id, name: 'dup', prefix: 'cwk_ab12', keyHash, scopes: ['ivr'], createdBy: null, now })).rejects.toThrow();
    });

    it('list and byId are scoped by tenant; list is newest first', async () => {
      const a = await seedTenant(store);
      const b = await seedTenant(store);
      const first = await apiKey(a.id, { created: now });
      const second = await apiKey(a.id, { created: at(now, 10) });
      const theirs = await apiKey(b.id);
      expect((await store.apiKeys.list(a.id)).map((k) => k.id)).toEqual([second.row.id, first.row.id]);
      expect((await store.apiKeys.list(b.id)).map((k) => k.id)).toEqual([theirs.row.id]);
      expect((await store.apiKeys.byId(a.id, first.row.id))?.id).toBe(first.row.id);
      expect(await store.apiKeys.byId(a.id, theirs.row.id)).toBeUndefined();
      expect(await store.apiKeys.byId(b.id, first.row.id)).toBeUndefined();
    });

    it("revoke works once, only in the key's tenant; the revoked key stays listed and findable by hash", async () => {
      const a = await seedTenant(store);
      const b = await seedTenant(store);
      const { row, keyHash } = await apiKey(a.id);
      expect(await store.apiKeys.revoke(b.id, row.id, now)).toBeUndefined(); // another tenant's id
      expect((await store.apiKeys.byId(a.id, row.id))?.revoked_at).toBeNull();
      const revoked = await store.apiKeys.revoke(a.id, row.id, at(now, 5));
      expect(revoked?.revoked_at?.getTime()).toBe(at(now, 5).getTime());
      expect(await store.apiKeys.revoke(a.id, row.id, at(now, 6))).toBeUndefined(); // already revoked
      expect((await store.apiKeys.byId(a.id, row.id))?.revoked_at?.getTime()).toBe(at(now, 5).getTime());
      expect((await store.apiKeys.byHash(keyHash))?.revoked_at?.getTime()).toBe(at(now, 5).getTime());
      expect((await store.apiKeys.list(a.id)).map((k) => k.id)).toEqual([row.id]);
      expect(await store.apiKeys.revoke(a.id, randomUUID(), now)).toBeUndefined();
    });

    it('10 parallel revokes of one key: exactly one revokes it', async () => {
      const t = await seedTenant(store);
      const { row } = await apiKey(t.id);
      const results = await Promise.all(range(10).map((i) => store.apiKeys.revoke(t.id, row.id, at(now, i))));
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    });

    it('authenticate records use at most once a minute', async () => {
      const t = await seedTenant(store);
      const { row, keyHash } = await apiKey(t.id);
      const used = async () => (await store.apiKeys.byId(t.id, row.id))?.last_used_at?.getTime();
      expect(await store.apiKeys.authenticate(keyHash, now)).toEqual({ id: row.id, tenant_id: t.id, scopes: ['ivr'] });
      expect(await used()).toBe(now.getTime());
      await store.apiKeys.authenticate(keyHash, at(now, 30));
      expect(await used()).toBe(now.getTime()); // within the minute: not written
      await store.apiKeys.authenticate(keyHash, at(now, 61));
      expect(await used()).toBe(at(now, 61).getTime());
    });

    it('authenticate finds only an unrevoked key of an enabled, non-platform tenant, and writes nothing otherwise', async () => {
      const t = await seedTenant(store);
      const revoked = await apiKey(t.id);
      await store.apiKeys.revoke(t.id, revoked.row.id, now);
      expect(await store.apiKeys.authenticate(revoked.keyHash, at(now, 120))).toBeUndefined();
      expect((await store.apiKeys.byId(t.id, revoked.row.id))?.last_used_at).toBeNull();
      expect(await store.apiKeys.authenticate(hash32(), now)).toBeUndefined();
      const platform = await seedTenant(store, { isPlatform: true });
      const p = await apiKey(platform.id);
      expect(await store.apiKeys.authenticate(p.keyHash, now)).toBeUndefined();
      const closed = await seedTenant(store);
      const c = await apiKey(closed.id);
      expect((await store.apiKeys.authenticate(c.keyHash, now))?.id).toBe(c.row.id);
      await store.db.updateTable('tenants').set({ disabled_at: now }).where('id', '=', closed.id).execute();
      expect(await store.apiKeys.authenticate(c.keyHash, at(now, 120))).toBeUndefined();
      expect((await store.apiKeys.byId(closed.id, c.row.id))?.last_used_at?.getTime()).toBe(now.getTime());
    });
  });
});
