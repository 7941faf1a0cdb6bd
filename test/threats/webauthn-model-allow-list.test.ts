/**
 * Threat: a key model the organization did not approve (a cheap clone, a model with a revoked
 * certification, a software authenticator claiming to be a YubiKey). With `webauthn.allowedModels`
 * set, registration asks for direct attestation and binds a key only when its full attestation
 * verifies against its model's attestation root from the uploaded FIDO metadata and its AAGUID is
 * allowed; a key that only claims an AAGUID (no attestation, or self attestation) is refused. The
 * metadata itself is trusted only when its BLOB chains to the configured MDS root.
 *
 * Fails when: the AAGUID is taken on the key's word, attestation 'none' passes under an allow-list,
 * the BLOB's signature or chain is not checked, or an unknown model can be put on the allow-list.
 */
import { CompactSign } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, json, testApp, type TestApp } from '../helpers/app.js';
import { backends } from '../helpers/db.js';
import { updatePolicy } from '../helpers/flows.js';
import { leaf, pemFile, rootCa, type Issued } from '../helpers/test-pki.js';
import { keysTenant, registerKey, SoftAuthenticator } from '../helpers/webauthn.js';

const MODEL_A = '4b0e2c5a-1111-4d3e-9a7b-0123456789ab';
const MODEL_B = '4b0e2c5a-2222-4d3e-9a7b-0123456789ab';
const UNKNOWN = '4b0e2c5a-3333-4d3e-9a7b-0123456789ab';

const mdsRoot = rootCa('/CN=Test FIDO MDS Root');
const mdsSigner = leaf(mdsRoot, '/CN=Test FIDO MDS Signer');
const otherRoot = rootCa('/CN=Not the MDS Root');
const otherSigner = leaf(otherRoot, '/CN=Forged MDS Signer');
const attRoot = rootCa('/CN=Test Keys Attestation Root');
const attLeaf = leaf(attRoot, '/C=US/O=Test Keys/OU=Authenticator Attestation/CN=Test Key Model A');
const strangerRoot = rootCa('/CN=Stranger Attestation Root');
const strangerLeaf = leaf(strangerRoot, '/C=US/O=Stranger/OU=Authenticator Attestation/CN=Stranger');

const statement = (aaguid: string, description: string) => ({
  aaguid,
  description,
  authenticatorVersion: 1,
  protocolFamily: 'fido2',
  schema: 3,
  upv: [{ major: 1, minor: 0 }],
  authenticationAlgorithms: ['secp256r1_ecdsa_sha256_raw'],
  publicKeyAlgAndEncodings: ['cose'],
  attestationTypes: ['basic_full'],
  userVerificationDetails: [[{ userVerificationMethod: 'presence_internal' }]],
  keyProtection: ['hardware', 'secure_element'],
  matcherProtection: ['on_chip'],
  attachmentHint: ['external', 'wired'],
  tcDisplay: [],
  attestationRootCertificates: [attRoot.der.toString('base64')],
});

async function blob(no: number, signer: Issued) {
  const payload = {
    legalHeader: 'test metadata',
    no,
    nextUpdate: '2027-12-01',
    entries: [MODEL_A, MODEL_B].map((aaguid, i) => ({ aaguid, metadataStatement: statement(aaguid, `Test Key Model ${'AB'[i]}`), statusReports: [{ status: 'FIDO_CERTIFIED_L1', effectiveDate: '2026-01-01' }], timeOfLastStatusChange: '2026-01-01' })),
  };
  return new CompactSign(Buffer.from(JSON.stringify(payload))).setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c: [signer.der.toString('base64')] }).sign(signer.key);
}

describe.each(await backends())('only allowed key models (%s)', (backend) => {
  let t: TestApp;
  let w: Awaited<ReturnType<typeof keysTenant>>;
  beforeAll(async () => {
    t = await testApp({ backend, env: { CALLWARDEN_FIDO_MDS_ROOTS: pemFile(mdsRoot) } });
    w = await keysTenant(t, ['kim@acme.test']);
  });
  afterAll(() => t.close());
  const upload = async (token: string, b: string) => api(t.app).put('/v1/authenticator-models', { token, body: { blob: b } });

  it('the metadata BLOB is taken only from a platform operator, chained to the MDS root, and newer than before', async () => {
    const forged = await upload(w.operatorToken, await blob(1, otherSigner));
    expect([forged.statusCode, json(forged).details?.reason]).toEqual([400, 'metadata_refused']);
    expect((await upload(w.token(w.admin), await blob(1, mdsSigner))).statusCode).toBe(403);
    const ok = await upload(w.operatorToken, await blob(1, mdsSigner));
    expect([ok.statusCode, json(ok).models]).toEqual([200, 2]);
    const again = await upload(w.operatorToken, await blob(1, mdsSigner));
    expect([again.statusCode, json(again).details?.reason]).toEqual([409, 'metadata_not_newer']);
    const models = json(await api(t.app).get('/v1/authenticator-models', { token: w.token(w.admin) })).models;
    expect(models.map((m: { aaguid: string; description: string; status: string }) => [m.aaguid, m.description, m.status])).toEqual([
      [MODEL_A, 'Test Key Model A', 'FIDO_CERTIFIED_L1'],
      [MODEL_B, 'Test Key Model B', 'FIDO_CERTIFIED_L1'],
    ]);
  });

  it('a policy allows only models the metadata knows', async () => {
    await expect(updatePolicy(t, w.token(w.admin), 'acme', (p) => ({ ...p, webauthn: { ...p.webauthn, allowedModels: [UNKNOWN] } }))).rejects.toThrow(/not in the uploaded FIDO metadata/);
    await updatePolicy(t, w.token(w.admin), 'acme', (p) => ({ ...p, webauthn: { ...p.webauthn, allowedModels: [MODEL_A] } }));
  });

  it('model A with a full attestation from its root is bound, and shown by its model name', async () => {
    const key = new SoftAuthenticator({ aaguid: MODEL_A, attestation: 'packed', attestationCert: { key: attLeaf.key, chain: [attLeaf.der] }, userVerification: false });
    const r = await registerKey(t, w.token('kim@acme.test'), key);
    expect(r.options.attestation).toBe('direct');
    expect(r.res.statusCode, r.res.body).toBe(200);
    const factors = json(await api(t.app).get('/v1/me/factors', { token: w.token('kim@acme.test') })).factors;
    expect(factors.find((f: { kind: string }) => f.kind === 'webauthn').key.model).toBe('Test Key Model A');
  });

  it('a key that only claims model A (no attestation, or self attestation) is refused', async () => {
    for (const attestation of ['none', 'packed'] as const) {
      const r = await registerKey(t, w.token('kim@acme.test'), new SoftAuthenticator({ aaguid: MODEL_A, attestation }));
      expect([r.res.statusCode, r.body.details?.reason], attestation).toEqual([401, 'attestation_required']);
    }
  });

  it('model B (known, not allowed), an unknown model, and model A attested by a stranger root are refused', async () => {
    const b = await registerKey(t, w.token('kim@acme.test'), new SoftAuthenticator({ aaguid: MODEL_B, attestation: 'packed', attestationCert: { key: attLeaf.key, chain: [attLeaf.der] } }));
    expect([b.res.statusCode, b.body.details?.reason]).toEqual([401, 'model_not_allowed']);
    const u = await registerKey(t, w.token('kim@acme.test'), new SoftAuthenticator({ aaguid: UNKNOWN, attestation: 'packed', attestationCert: { key: attLeaf.key, chain: [attLeaf.der] } }));
    expect([u.res.statusCode, u.body.details?.reason]).toEqual([401, 'model_not_allowed']);
    const s = await registerKey(t, w.token('kim@acme.test'), new SoftAuthenticator({ aaguid: MODEL_A, attestation: 'packed', attestationCert: { key: strangerLeaf.key, chain: [strangerLeaf.der] } }));
    expect([s.res.statusCode, s.body.details?.reason]).toEqual([401, 'invalid_assertion']);
    const factors = json(await api(t.app).get('/v1/me/factors', { token: w.token('kim@acme.test') })).factors;
    expect(factors.filter((f: { kind: string }) => f.kind === 'webauthn')).toHaveLength(1);
  });
});
