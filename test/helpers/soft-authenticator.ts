/**
 * A software WebAuthn authenticator for API-level tests: it answers registration and
 * authentication options (as made by @simplewebauthn/server) with RegistrationResponseJSON /
 * AuthenticationResponseJSON, without a browser. ES256 (ECDSA P-256, COSE alg -7) keys from
 * node:crypto, 'none' or 'packed' self attestation, and a tiny CBOR encoder for what it needs.
 */
import { createHash, generateKeyPairSync, randomBytes, randomInt, sign, type KeyObject } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  AuthenticatorTransportFuture,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

export interface SoftAuthenticatorOptions {
  /** Sets flag UV in authenticator data (default true). */
  userVerification?: boolean;
  /** Backup eligible / backed up flags (synced passkey) (default false). */
  backupEligible?: boolean;
  backupState?: boolean;
  /** AAGUID as a UUID string (default all zeros). */
  aaguid?: string;
  /** Initial signature counter (default 0); incremented by 1 on each assertion unless counterStep is 0. */
  counter?: number;
  counterStep?: number;
  /** 'none' (default) or 'packed' self attestation (signed with the credential key, no x5c). */
  attestation?: 'none' | 'packed';
  /** With 'packed': a full (basic) attestation signed by this key, its certificate chain (DER, leaf first) as x5c. */
  attestationCert?: { key: KeyObject; chain: Buffer[] };
  transports?: string[];
  /** authenticatorAttachment reported in responses (default 'cross-platform'). */
  attachment?: 'cross-platform' | 'platform';
}

/** A credential the authenticator holds. */
interface StoredCredential {
  id: Buffer;
  privateKey: KeyObject;
  userHandle: string;
  rpId: string;
  counter: number;
}

// ---- tiny CBOR encoder (RFC 8949): unsigned/negative ints, byte strings, text, arrays, maps ----

type CborValue = number | string | Uint8Array | CborValue[] | Map<number | string, CborValue>;

function cborHead(major: number, n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`CBOR: bad length/int ${n}`);
  const m = major << 5;
  if (n < 24) return Buffer.from([m | n]);
  if (n < 0x100) return Buffer.from([m | 24, n]);
  if (n < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = m | 25;
    b.writeUInt16BE(n, 1);
    return b;
  }
  if (n < 0x100000000) {
    const b = Buffer.alloc(5);
    b[0] = m | 26;
    b.writeUInt32BE(n, 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = m | 27;
  b.writeBigUInt64BE(BigInt(n), 1);
  return b;
}

export function cborEncode(v: CborValue): Buffer {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error('CBOR: only integers are supported');
    return v >= 0 ? cborHead(0, v) : cborHead(1, -1 - v);
  }
  if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf8');
    return Buffer.concat([cborHead(3, s.length), s]);
  }
  if (v instanceof Uint8Array) return Buffer.concat([cborHead(2, v.length), v]);
  if (Array.isArray(v)) return Buffer.concat([cborHead(4, v.length), ...v.map(cborEncode)]);
  const parts: Buffer[] = [cborHead(5, v.size)];
  for (const [k, val] of v) parts.push(cborEncode(k), cborEncode(val));
  return Buffer.concat(parts);
}

// ---- helpers ----

const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest();
const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

function aaguidBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`SoftAuthenticator: bad AAGUID ${uuid}`);
  return Buffer.from(hex, 'hex');
}

function counterBytes(n: number): Buffer {
  const b = Buffer.alloc(4);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`SoftAuthenticator: bad counter ${n}`);
  b.writeUInt32BE(n, 0);
  return b;
}

/** COSE_Key for an EC2 P-256 public key: {1: 2 (kty EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}. */
function coseKey(privateKey: KeyObject): Buffer {
  const jwk = privateKey.export({ format: 'jwk' });
  if (!jwk.x || !jwk.y) throw new Error('SoftAuthenticator: EC key without x/y');
  return cborEncode(
    new Map<number, CborValue>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(jwk.x, 'base64url')],
      [-3, Buffer.from(jwk.y, 'base64url')],
    ]),
  );
}

export class SoftAuthenticator {
  private readonly opts: Required<Omit<SoftAuthenticatorOptions, 'transports' | 'attestationCert'>> & { transports: string[]; attestationCert?: SoftAuthenticatorOptions['attestationCert'] };
  private readonly creds: StoredCredential[] = [];

  constructor(o: SoftAuthenticatorOptions = {}) {
    this.opts = {
      userVerification: o.userVerification ?? true,
      backupEligible: o.backupEligible ?? false,
      backupState: o.backupState ?? false,
      aaguid: o.aaguid ?? '00000000-0000-0000-0000-000000000000',
      counter: o.counter ?? 0,
      counterStep: o.counterStep ?? 1,
      attestation: o.attestation ?? 'none',
      transports: o.transports ?? ['usb'],
      attachment: o.attachment ?? 'cross-platform',
      ...(o.attestationCert ? { attestationCert: o.attestationCert } : {}),
    };
    aaguidBytes(this.opts.aaguid); // fail early on a malformed AAGUID
  }

  /** The ids (base64url) of the credentials it holds. */
  get credentialIds(): string[] {
    return this.creds.map((c) => b64u(c.id));
  }

  private flags(o: { uv: boolean; at: boolean }): number {
    let f = 0x01; // UP
    if (o.uv) f |= 0x04;
    if (this.opts.backupEligible) f |= 0x08;
    if (this.opts.backupState) f |= 0x10;
    if (o.at) f |= 0x40;
    return f;
  }

  private clientData(type: 'webauthn.create' | 'webauthn.get', challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }), 'utf8');
  }

  /**
   * Answer to registration options (uses options.challenge, options.rp.id, options.user.id).
   * `origin` goes in clientDataJSON; `rpId` overrides options.rp.id for the rpIdHash.
   * Stores the new credential (random 16..32-byte id) with its key and user handle.
   */
  async register(
    options: { challenge: string; rp: { id?: string; name: string }; user: { id: string; name: string } },
    o: { origin: string; rpId?: string },
  ): Promise<RegistrationResponseJSON> {
    const rpId = o.rpId ?? options.rp.id;
    if (!rpId) throw new Error('SoftAuthenticator.register: no RP ID (options.rp.id or o.rpId)');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const id = randomBytes(randomInt(16, 33));
    const cose = coseKey(privateKey);
    const idLen = Buffer.alloc(2);
    idLen.writeUInt16BE(id.length, 0);
    const authData = Buffer.concat([
      sha256(rpId),
      Buffer.from([this.flags({ uv: this.opts.userVerification, at: true })]),
      counterBytes(this.opts.counter),
      aaguidBytes(this.opts.aaguid),
      idLen,
      id,
      cose,
    ]);
    const clientDataJSON = this.clientData('webauthn.create', options.challenge, o.origin);
    const attStmt = new Map<string, CborValue>();
    if (this.opts.attestation === 'packed') {
      const full = this.opts.attestationCert;
      const sig = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), full ? full.key : privateKey);
      attStmt.set('alg', -7).set('sig', sig);
      if (full) attStmt.set('x5c', full.chain);
    }
    const attestationObject = cborEncode(
      new Map<string, CborValue>([
        ['fmt', this.opts.attestation],
        ['attStmt', attStmt],
        ['authData', authData],
      ]),
    );
    this.creds.push({ id, privateKey, userHandle: options.user.id, rpId, counter: this.opts.counter });
    return {
      id: b64u(id),
      rawId: b64u(id),
      response: {
        clientDataJSON: b64u(clientDataJSON),
        attestationObject: b64u(attestationObject),
        authenticatorData: b64u(authData),
        transports: [...this.opts.transports] as AuthenticatorTransportFuture[],
        publicKeyAlgorithm: -7,
        publicKey: b64u(publicKey.export({ format: 'der', type: 'spki' })), // SPKI, as getPublicKey()
      },
      authenticatorAttachment: this.opts.attachment,
      clientExtensionResults: {},
      type: 'public-key',
    };
  }

  /**
   * Answer to authentication options. Uses the credential named by `credentialId`, else the first
   * in allowCredentials that it holds, else (discoverable) its most recent one. `userVerification`
   * overrides the UV flag for this assertion; `counter` sets the counter used for this assertion
   * explicitly (and later assertions continue from it).
   */
  async assert(
    options: { challenge: string; rpId?: string; allowCredentials?: Array<{ id: string }> },
    o: { origin: string; rpId?: string; credentialId?: string; userVerification?: boolean; counter?: number },
  ): Promise<AuthenticationResponseJSON> {
    const rpId = o.rpId ?? options.rpId;
    if (!rpId) throw new Error('SoftAuthenticator.assert: no RP ID (options.rpId or o.rpId)');
    const cred = this.pick(options.allowCredentials, o.credentialId);
    cred.counter = o.counter ?? cred.counter + this.opts.counterStep;
    const authData = Buffer.concat([
      sha256(rpId),
      Buffer.from([this.flags({ uv: o.userVerification ?? this.opts.userVerification, at: false })]),
      counterBytes(cred.counter),
    ]);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, o.origin);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), cred.privateKey);
    return {
      id: b64u(cred.id),
      rawId: b64u(cred.id),
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        userHandle: cred.userHandle,
      },
      authenticatorAttachment: this.opts.attachment,
      clientExtensionResults: {},
      type: 'public-key',
    };
  }

  private pick(allow: Array<{ id: string }> | undefined, credentialId: string | undefined): StoredCredential {
    const byId = (id: string): StoredCredential | undefined => this.creds.find((c) => b64u(c.id) === id);
    if (credentialId !== undefined) {
      const c = byId(credentialId);
      if (!c) throw new Error(`SoftAuthenticator.assert: no credential ${credentialId}`);
      return c;
    }
    if (allow && allow.length > 0) {
      for (const a of allow) {
        const c = byId(a.id);
        if (c) return c;
      }
      throw new Error('SoftAuthenticator.assert: none of allowCredentials is held');
    }
    const last = this.creds[this.creds.length - 1];
    if (!last) throw new Error('SoftAuthenticator.assert: no credentials registered');
    return last;
  }
}
