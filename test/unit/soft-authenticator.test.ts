/**
 * The software WebAuthn authenticator (test/helpers/soft-authenticator.ts) checked against the real
 * @simplewebauthn/server verifiers: registration (UV, backup flags, AAGUID, packed self attestation)
 * and assertions (signature, counter, origin, RP ID).
 */
import { describe, it, expect } from 'vitest';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type WebAuthnCredential,
} from '@simplewebauthn/server';
import { SoftAuthenticator, cborEncode } from '../helpers/soft-authenticator.js';

const rpID = 'localhost';
const origin = 'http://localhost:3000';

async function regOptions() {
  return generateRegistrationOptions({ rpName: 'Callwarden', rpID, userName: 'ada@example.test' });
}

/** Registers a credential with `auth` and returns the verified credential as a server would store it. */
async function enrol(auth: SoftAuthenticator, requireUserVerification = true) {
  const options = await regOptions();
  const response = await auth.register(options, { origin });
  const v = await verifyRegistrationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: origin,
    expectedRPID: rpID,
    requireUserVerification,
  });
  expect(v.verified).toBe(true);
  if (!v.verified) throw new Error('unreachable');
  return { options, response, info: v.registrationInfo };
}

async function verifyAssertion(
  auth: SoftAuthenticator,
  credential: WebAuthnCredential,
  o: { origin?: string; rpId?: string; counter?: number; userVerification?: boolean } = {},
) {
  const options = await generateAuthenticationOptions({ rpID, allowCredentials: [{ id: credential.id }] });
  const response = await auth.assert(options, { origin: o.origin ?? origin, ...strip(o) });
  const v = await verifyAuthenticationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: origin,
    expectedRPID: rpID,
    credential,
  });
  return { response, v };
}

function strip(o: { rpId?: string; counter?: number; userVerification?: boolean }) {
  const r: { rpId?: string; counter?: number; userVerification?: boolean } = {};
  if (o.rpId !== undefined) r.rpId = o.rpId;
  if (o.counter !== undefined) r.counter = o.counter;
  if (o.userVerification !== undefined) r.userVerification = o.userVerification;
  return r;
}

describe('CBOR encoder', () => {
  it('encodes the RFC 8949 examples it supports', () => {
    const hex = (v: Parameters<typeof cborEncode>[0]) => cborEncode(v).toString('hex');
    expect(hex(0)).toBe('00');
    expect(hex(23)).toBe('17');
    expect(hex(24)).toBe('1818');
    expect(hex(1000)).toBe('1903e8');
    expect(hex(1000000)).toBe('1a000f4240');
    expect(hex(-1)).toBe('20');
    expect(hex(-7)).toBe('26');
    expect(hex(-1000)).toBe('3903e7');
    expect(hex('IETF')).toBe('6449455446');
    expect(hex(Uint8Array.from([1, 2, 3, 4]))).toBe('4401020304');
    expect(hex([1, [2, 3]])).toBe('8201820203');
    expect(hex(new Map<number | string, number>([[1, 2], ['a', 3]]))).toBe('a201026161' + '03');
  });
});

describe('SoftAuthenticator registration', () => {
  it('verifies with requireUserVerification when UV is set, as a single-device credential', async () => {
    const auth = new SoftAuthenticator({ transports: ['usb', 'nfc'] });
    const { response, info } = await enrol(auth);
    expect(info.fmt).toBe('none');
    expect(info.userVerified).toBe(true);
    expect(info.credentialDeviceType).toBe('singleDevice');
    expect(info.credentialBackedUp).toBe(false);
    expect(info.aaguid).toBe('00000000-0000-0000-0000-000000000000');
    expect(info.credential.id).toBe(response.id);
    expect(info.credential.counter).toBe(0);
    expect(response.response.transports).toEqual(['usb', 'nfc']);
    expect(response.response.publicKeyAlgorithm).toBe(-7);
    expect(response.authenticatorAttachment).toBe('cross-platform');
    expect(auth.credentialIds).toEqual([response.id]);
    const idLen = Buffer.from(response.id, 'base64url').length;
    expect(idLen).toBeGreaterThanOrEqual(16);
    expect(idLen).toBeLessThanOrEqual(32);
  });

  it('fails verification when UV is off but required, and passes when not required', async () => {
    const auth = new SoftAuthenticator({ userVerification: false });
    const options = await regOptions();
    const response = await auth.register(options, { origin });
    const base = { response, expectedChallenge: options.challenge, expectedOrigin: origin, expectedRPID: rpID };
    await expect(verifyRegistrationResponse({ ...base, requireUserVerification: true })).rejects.toThrow(
      /user could not be verified/i,
    );
    const v = await verifyRegistrationResponse({ ...base, requireUserVerification: false });
    expect(v.verified).toBe(true);
    expect(v.registrationInfo?.userVerified).toBe(false);
  });

  it('reports a multi-device (synced) credential with backupEligible / backupState', async () => {
    const { info } = await enrol(new SoftAuthenticator({ backupEligible: true, backupState: true }));
    expect(info.credentialDeviceType).toBe('multiDevice');
    expect(info.credentialBackedUp).toBe(true);
    const { info: notBacked } = await enrol(new SoftAuthenticator({ backupEligible: true }));
    expect(notBacked.credentialDeviceType).toBe('multiDevice');
    expect(notBacked.credentialBackedUp).toBe(false);
  });

  it('round-trips the AAGUID and the attachment', async () => {
    const aaguid = 'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4';
    const auth = new SoftAuthenticator({ aaguid, attachment: 'platform' });
    const { info, response } = await enrol(auth);
    expect(info.aaguid).toBe(aaguid);
    expect(response.authenticatorAttachment).toBe('platform');
  });

  it('verifies packed self attestation', async () => {
    const { info } = await enrol(new SoftAuthenticator({ attestation: 'packed' }));
    expect(info.fmt).toBe('packed');
  });

  it('is refused for a wrong origin or a wrong RP ID', async () => {
    const auth = new SoftAuthenticator();
    const options = await regOptions();
    const wrongOrigin = await auth.register(options, { origin: 'http://evil.test' });
    await expect(
      verifyRegistrationResponse({ response: wrongOrigin, expectedChallenge: options.challenge, expectedOrigin: origin, expectedRPID: rpID }),
    ).rejects.toThrow(/origin/i);
    const wrongRp = await auth.register(options, { origin, rpId: 'evil.test' });
    await expect(
      verifyRegistrationResponse({ response: wrongRp, expectedChallenge: options.challenge, expectedOrigin: origin, expectedRPID: rpID }),
    ).rejects.toThrow(/RP ID/i);
  });
});

describe('SoftAuthenticator assertions', () => {
  it('verifies with the stored public key, counts up, and returns the user handle', async () => {
    const auth = new SoftAuthenticator({ counter: 5 });
    const { options, info } = await enrol(auth);
    expect(info.credential.counter).toBe(5);
    const first = await verifyAssertion(auth, info.credential);
    expect(first.v.verified).toBe(true);
    expect(first.v.authenticationInfo.newCounter).toBe(6);
    expect(first.v.authenticationInfo.userVerified).toBe(true);
    expect(first.response.response.userHandle).toBe(options.user.id);
    const second = await verifyAssertion(auth, { ...info.credential, counter: 6 });
    expect(second.v.verified).toBe(true);
    expect(second.v.authenticationInfo.newCounter).toBe(7);
  });

  it('keeps the counter at 0 with counterStep 0', async () => {
    const auth = new SoftAuthenticator({ counterStep: 0 });
    const { info } = await enrol(auth);
    const { v } = await verifyAssertion(auth, info.credential);
    expect(v.verified).toBe(true);
    expect(v.authenticationInfo.newCounter).toBe(0);
  });

  it('signs discoverable assertions (no allowCredentials) with the most recent credential', async () => {
    const auth = new SoftAuthenticator();
    await enrol(auth);
    const { info } = await enrol(auth);
    expect(auth.credentialIds).toHaveLength(2);
    const options = await generateAuthenticationOptions({ rpID });
    const response = await auth.assert(options, { origin });
    expect(response.id).toBe(info.credential.id);
    const v = await verifyAuthenticationResponse({
      response,
      expectedChallenge: options.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      credential: info.credential,
    });
    expect(v.verified).toBe(true);
  });

  it('picks the credential named by credentialId, or the first held in allowCredentials', async () => {
    const auth = new SoftAuthenticator();
    const a = (await enrol(auth)).info.credential.id;
    await enrol(auth);
    const options = await generateAuthenticationOptions({ rpID, allowCredentials: [{ id: 'bm90LWhlbGQ' }, { id: a }] });
    expect((await auth.assert(options, { origin })).id).toBe(a);
    expect((await auth.assert({ challenge: options.challenge, rpId: rpID }, { origin, credentialId: a })).id).toBe(a);
    await expect(auth.assert({ ...options, allowCredentials: [{ id: 'bm90LWhlbGQ' }] }, { origin })).rejects.toThrow(
      /none of allowCredentials/,
    );
  });

  it('refuses a wrong origin and a wrong RP ID', async () => {
    const auth = new SoftAuthenticator();
    const { info } = await enrol(auth);
    await expect(verifyAssertion(auth, info.credential, { origin: 'http://evil.test' })).rejects.toThrow(/origin/i);
    await expect(verifyAssertion(auth, info.credential, { rpId: 'evil.test' })).rejects.toThrow(/RP ID/i);
  });

  it('fails when UV is required but turned off for this assertion', async () => {
    const auth = new SoftAuthenticator();
    const { info } = await enrol(auth);
    await expect(verifyAssertion(auth, info.credential, { userVerification: false })).rejects.toThrow(
      /user could not be verified/i,
    );
  });

  it('throws on a counter lower than the stored one', async () => {
    const auth = new SoftAuthenticator();
    const { info } = await enrol(auth);
    const ok = await verifyAssertion(auth, { ...info.credential, counter: 0 }, { counter: 10 });
    expect(ok.v.authenticationInfo.newCounter).toBe(10);
    await expect(verifyAssertion(auth, { ...info.credential, counter: 10 }, { counter: 3 })).rejects.toThrow(
      /counter/i,
    );
    // and the next ordinary assertion continues from the explicit value
    const next = await verifyAssertion(auth, { ...info.credential, counter: 3 });
    expect(next.v.authenticationInfo.newCounter).toBe(4);
  });

  it('produces signatures that do not verify against another credential key', async () => {
    const auth = new SoftAuthenticator();
    const { info: a } = await enrol(auth);
    const { info: b } = await enrol(auth);
    const { v } = await verifyAssertion(auth, { ...b.credential, id: a.credential.id });
    expect(v.verified).toBe(false);
  });
});
