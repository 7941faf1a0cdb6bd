/**
 * Audit key material: invalid configuration is refused at start; rotating the MAC key and the
 * checkpoint signing key keeps old events and checkpoints verifiable (each names its key id) as long
 * as the old keys stay configured as previous keys; /v1/audit/keys serves the public keys that
 * verify the checkpoints, typed, without a session.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSignature, type Checkpoint } from '../../src/audit/checkpoint.js';
import { auditKeys, buildAuditKeys, verifyKey } from '../../src/audit/keys.js';
import { sealTenant } from '../../src/audit/seal.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { audit } from '../../src/services/audit-log.js';
import type { Services } from '../../src/services/context.js';
import type { Store } from '../../src/storage/store.js';
import { testApp } from '../helpers/app.js';
import { newTenant } from '../helpers/audit-chain.js';
import { backends, testStore } from '../helpers/db.js';
import { auditServices, found, verifyCli } from './helpers.js';

const b64 = (n: number) => randomBytes(n).toString('base64');
const BASE_ENV = { CALLWARDEN_DATA_DIR: 'memory:', CALLWARDEN_LOG_LEVEL: 'silent' };

describe('audit key configuration', () => {
  it.each([
    ['CALLWARDEN_AUDIT_MAC_KEY', b64(16)],
    ['CALLWARDEN_AUDIT_MAC_KEY', 'not base64!'],
    ['CALLWARDEN_AUDIT_MAC_PREVIOUS_KEYS', `${b64(32)},short`],
    ['CALLWARDEN_AUDIT_SIGNING_KEY', b64(31)],
    ['CALLWARDEN_AUDIT_SIGNING_PREVIOUS_KEYS', b64(33)],
    ['CALLWARDEN_AUDIT_CHECKPOINTS', '/no/such/directory/checkpoints.jsonl'],
  ])('%s=%s is refused at start, naming the variable', (variable, value) => {
    expect(() => loadConfig({ ...BASE_ENV, [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...BASE_ENV, [variable]: value })).toThrow(variable);
  });

  it('keys come from the configuration: derived from the encryption key unless given, ids from the keys', () => {
    const enc = b64(32);
    const a = auditKeys(loadConfig({ ...BASE_ENV, CALLWARDEN_ENCRYPTION_KEY: enc }));
    const again = auditKeys(loadConfig({ ...BASE_ENV, CALLWARDEN_ENCRYPTION_KEY: enc }));
    expect(again.mac.id).toBe(a.mac.id);
    expect(again.signing.id).toBe(a.signing.id);
    const own = auditKeys(loadConfig({ ...BASE_ENV, CALLWARDEN_ENCRYPTION_KEY: enc, CALLWARDEN_AUDIT_MAC_KEY: b64(32), CALLWARDEN_AUDIT_SIGNING_KEY: b64(32) }));
    expect(own.mac.id).not.toBe(a.mac.id);
    expect(own.signing.id).not.toBe(a.signing.id);
    expect(a.mac.id).toMatch(/^m-[0-9a-f]{16}$/);
    expect(a.signing.id).toMatch(/^s-[0-9a-f]{16}$/);
    expect(verifyKey(a.signing.publicKey.raw).id).toBe(a.signing.id);
  });
});

describe.each(await backends())('audit key rotation on %s', (backend) => {
  let store: Store;
  beforeAll(async () => {
    store = await testStore(backend);
  });
  afterAll(() => store?.close());

  const write = (s: Services, tenantId: string, n: number) =>
    audit(s, Array.from({ length: n }, (_, i) => ({ tenantId, type: 'user.invited', outcome: 'success' as const, actor: { type: 'cli' as const }, target: { type: 'user', id: `u${i}` }, origin: { ip: null, userAgent: null, requestId: null, channel: 'cli' as const }, data: { i } })));

  it('events and checkpoints written under the old keys still verify after a rotation', async () => {
    const oldMac = b64(32);
    const oldSign = b64(32);
    const tenantId = await newTenant(store);
    const before = auditServices(store, { CALLWARDEN_AUDIT_MAC_KEY: oldMac, CALLWARDEN_AUDIT_SIGNING_KEY: oldSign });
    await write(before.s, tenantId, 3);
    expect(await sealTenant(before.s, tenantId)).toBe(3);
    const oldPublic = auditKeys(before.s.config).signing.publicKey.raw.toString('base64');

    // rotated: new keys, the old ones kept as previous keys
    const after = auditServices(store, { CALLWARDEN_AUDIT_MAC_KEY: b64(32), CALLWARDEN_AUDIT_MAC_PREVIOUS_KEYS: oldMac, CALLWARDEN_AUDIT_SIGNING_KEY: b64(32), CALLWARDEN_AUDIT_SIGNING_PREVIOUS_KEYS: oldPublic });
    const r1 = await verifyCli(after.s, '--checkpoints', before.checkpoints);
    expect(r1.code, r1.text).toBe(0);
    expect(r1.report.tenants.find((t) => t.tenantId === tenantId)?.checkpoint).toMatchObject({ seq: 3, keyId: auditKeys(before.s.config).signing.id });

    await write(after.s, tenantId, 2);
    expect(await sealTenant(after.s, tenantId)).toBe(2);
    const macIds = (await store.db.selectFrom('audit_events').select('mac_key_id').where('tenant_id', '=', tenantId).orderBy('id').execute()).map((r) => r.mac_key_id);
    expect(new Set(macIds)).toEqual(new Set([auditKeys(before.s.config).mac.id, auditKeys(after.s.config).mac.id]));
    const cp = JSON.parse(readFileSync(after.checkpoints, 'utf8').trim()) as Checkpoint;
    expect(cp).toMatchObject({ tenantId, seq: 5, keyId: auditKeys(after.s.config).signing.id });
    const r2 = await verifyCli(after.s, '--checkpoints', after.checkpoints);
    expect(r2.code, r2.text).toBe(0);

    // without the previous keys the old events and checkpoints cannot be vouched for
    const forgot = auditServices(store, { CALLWARDEN_AUDIT_MAC_KEY: b64(32), CALLWARDEN_AUDIT_SIGNING_KEY: b64(32) });
    const r3 = await verifyCli(forgot.s, '--checkpoints', before.checkpoints);
    expect(r3.code).toBe(1);
    expect(found(r3.report, tenantId).filter((p) => p.kind === 'inserted')).toHaveLength(5);
    expect(r3.report.checkpoints?.problems[0]?.detail).toContain('not configured');
  });
});

describe('/v1/audit/keys', () => {
  it('serves the checkpoint public keys (current and previous) and the MAC key ids, without a session; they verify a checkpoint', async () => {
    const previous = buildAuditKeys({ encryptionKey: randomBytes(32), auditMacKey: '', auditMacPreviousKeys: '', auditSigningKey: '', auditSigningPreviousKeys: '' });
    const t = await testApp({ env: { CALLWARDEN_AUDIT_SIGNING_PREVIOUS_KEYS: previous.signing.publicKey.raw.toString('base64') } });
    try {
      const res = await t.app.inject({ method: 'GET', url: '/v1/audit/keys' });
      expect(res.statusCode).toBe(200);
      const body = res.json() as { checkpointSigning: { algorithm: string; currentKeyId: string; keys: Array<{ keyId: string; publicKey: string; publicKeyPem: string; current: boolean }> }; eventMac: { algorithm: string; currentKeyId: string; keyIds: string[] } };
      const keys = auditKeys(t.s.config);
      expect(body.checkpointSigning).toMatchObject({ algorithm: 'Ed25519', currentKeyId: keys.signing.id });
      expect(body.checkpointSigning.keys.map((k) => [k.keyId, k.current])).toEqual([[keys.signing.id, true], [previous.signing.id, false]]);
      expect(body.checkpointSigning.keys[0]!.publicKeyPem).toContain('BEGIN PUBLIC KEY');
      expect(body.eventMac).toEqual({ algorithm: 'HMAC-SHA256', currentKeyId: keys.mac.id, keyIds: [keys.mac.id] });
      expect(JSON.stringify(body)).not.toContain(keys.mac.key.toString('base64'));

      // a checkpoint signed by the server verifies with the published key alone
      const tenantId = await newTenant(t.s.store);
      const cps: Checkpoint[] = [];
      await audit(t.s, { tenantId, type: 'user.invited', outcome: 'success', actor: { type: 'cli' }, origin: { ip: null, userAgent: null, requestId: null, channel: 'cli' } });
      await sealTenant({ db: t.s.store.db, keys, onCheckpoint: (c) => void cps.push(c) }, tenantId);
      const published = verifyKey(Buffer.from(body.checkpointSigning.keys[0]!.publicKey, 'base64'));
      const only = { ...keys, verifyKeys: new Map([[published.id, published]]) };
      expect(checkSignature(only, cps[0]!, cps[0]!.sig)).toEqual({ ok: true });
      expect(checkSignature(only, { ...cps[0]!, seq: 2 }, cps[0]!.sig).ok).toBe(false);
    } finally {
      await t.close();
    }
  });
});
