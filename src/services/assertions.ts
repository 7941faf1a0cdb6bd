/**
 * Verification assertions: a short-lived JWS (ES256, one key per tenant, public keys at a JWKS
 * endpoint) saying who was verified on which interaction, how and at what level. A CRM can check
 * one offline with the JWKS; `checkAssertion` does the same on the server.
 */
import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, exportJWK, exportPKCS8, generateKeyPair, importJWK, importPKCS8, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { Services } from './context.js';

const ALG = 'ES256';
export const ASSERTION_AUDIENCE = 'callwarden:caller-verification';
export const ASSERTION_TTL_SECONDS = 300;

const keyCache = new Map<string, { kid: string; key: CryptoKey }>();

export const issuerFor = (s: Services, tenantSlug: string) => `${s.config.publicUrl}/v1/tenants/${tenantSlug}`;

async function signingKey(s: Services, tenantId: string): Promise<{ kid: string; key: CryptoKey }> {
  const cached = keyCache.get(tenantId);
  if (cached) return cached;
  let row = await s.store.signingKeys.current(tenantId);
  if (!row) {
    const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
    const sealed = s.aead.seal(Buffer.from(await exportPKCS8(privateKey)), `signing-key:${kid}`);
    await s.store.signingKeys.create({ kid, tenantId, alg: ALG, publicJwk, privateKey: sealed, now: s.clock() });
    row = await s.store.signingKeys.current(tenantId);
    if (!row) throw new Error('signing key was not stored');
  }
  const pem = s.aead.open(row.private_key, `signing-key:${row.kid}`).toString();
  const entry = { kid: row.kid, key: await importPKCS8(pem, ALG) };
  keyCache.set(tenantId, entry);
  return entry;
}

export interface AssertionClaims {
  tenantId: string;
  tenantSlug: string;
  customerId: string;
  externalId: string | null;
  interactionId: string;
  verificationId: string;
  methods: string[];
  level: string;
  verifiedAt: Date;
}

export async function signAssertion(s: Services, c: AssertionClaims): Promise<{ jwt: string; jti: string; expiresAt: Date }> {
  const { kid, key } = await signingKey(s, c.tenantId);
  const iat = Math.floor(c.verifiedAt.getTime() / 1000);
  const jti = randomUUID();
  const jwt = await new SignJWT({
    tid: c.tenantId,
    cid: c.externalId,
    interaction_id: c.interactionId,
    verification_id: c.verificationId,
    amr: c.methods,
    level: c.level,
  })
    .setProtectedHeader({ alg: ALG, kid, typ: 'JWT' })
    .setIssuer(issuerFor(s, c.tenantSlug))
    .setSubject(c.customerId)
    .setAudience(ASSERTION_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ASSERTION_TTL_SECONDS)
    .setJti(jti)
    .sign(key);
  return { jwt, jti, expiresAt: new Date((iat + ASSERTION_TTL_SECONDS) * 1000) };
}

export async function jwks(s: Services, tenantId: string): Promise<{ keys: JWK[] }> {
  await signingKey(s, tenantId); // publish a key before the first assertion is signed
  const rows = await s.store.signingKeys.published(tenantId, s.clock());
  return { keys: rows.map((r) => r.public_jwk as JWK) };
}

/** Why an assertion that verifies cryptographically is still not valid for the caller's purpose. */
export const INTERACTION_MISMATCH = 'interaction_mismatch';

/**
 * Checks signature, issuer, audience and expiry; the key is found by its `kid`. With `interactionId`
 * (the call the CRM has on screen) an assertion for another interaction is not valid
 * (reason `interaction_mismatch`): a valid assertion for another call proves nothing about this one.
 * `tenantId` is the tenant whose key signed it (who may read the claims is the caller's decision).
 */
export async function checkAssertion(
  s: Services,
  jwt: string,
  o: { interactionId?: string } = {},
): Promise<{ valid: true; claims: JWTPayload; tenantId: string } | { valid: false; reason: string }> {
  try {
    const { kid } = decodeProtectedHeader(jwt);
    const row = kid ? await s.store.signingKeys.byKid(kid) : undefined;
    const tenant = row ? await s.store.tenants.byId(row.tenant_id) : undefined;
    if (!row || !tenant) return { valid: false, reason: 'unknown signing key' };
    const key = await importJWK(row.public_jwk as JWK, ALG);
    const { payload } = await jwtVerify(jwt, key, { issuer: issuerFor(s, tenant.slug), audience: ASSERTION_AUDIENCE, algorithms: [ALG], currentDate: s.clock() });
    if (o.interactionId !== undefined && payload.interaction_id !== o.interactionId) return { valid: false, reason: INTERACTION_MISMATCH };
    return { valid: true, claims: payload, tenantId: row.tenant_id };
  } catch (e) {
    return { valid: false, reason: (e as { code?: string }).code ?? 'invalid' };
  }
}
