/**
 * The server-held challenge of a WebAuthn ceremony, kept in the flow's `webauthn` slot: random 32
 * bytes, for one purpose (authenticate or register), one answer (any answer clears it), and 300 s
 * by default. What the browser gets is the options JSON built from it.
 */
import { randomBytes } from 'node:crypto';
import type { ErrorReason } from '../../domain/errors.js';

export const WEBAUTHN_SLOT = 'webauthn';
export const CEREMONY_TTL_MS = 300_000;

export type UserVerification = 'required' | 'preferred' | 'discouraged';

export interface WebauthnSlot {
  purpose: 'authenticate' | 'register';
  challenge: string;
  userVerification: UserVerification;
  expiresAt: string;
  [k: string]: unknown;
}

export function newSlot(purpose: WebauthnSlot['purpose'], userVerification: UserVerification, now: Date, extra: Record<string, unknown> = {}): WebauthnSlot {
  return { ...extra, purpose, challenge: randomBytes(32).toString('base64url'), userVerification, expiresAt: new Date(now.getTime() + CEREMONY_TTL_MS).toISOString() };
}

/** PublicKeyCredentialRequestOptionsJSON for a slot (what navigator.credentials.get is given). */
export function requestOptions(slot: WebauthnSlot, rpId: string, allow: Array<{ id: string; transports: string[] }>) {
  return {
    challenge: slot.challenge,
    rpId,
    timeout: CEREMONY_TTL_MS,
    userVerification: slot.userVerification,
    allowCredentials: allow.map((c) => ({ id: c.id, type: 'public-key' as const, ...(c.transports.length ? { transports: c.transports } : {}) })),
  };
}

/** The library's refusals by their message, as registered reasons (anything else: the answer does not verify). */
const REFUSALS: Array<{ message: RegExp; reason: Extract<ErrorReason, 'wrong_origin' | 'wrong_rp_id' | 'wrong_challenge' | 'uv_required'> }> = [
  { message: /response origin/, reason: 'wrong_origin' },
  { message: /RP ID/, reason: 'wrong_rp_id' },
  { message: /response challenge/, reason: 'wrong_challenge' },
  { message: /User verification/, reason: 'uv_required' },
];

/** Why the library refused an answer, as a registered reason. */
export function refusalReason(e: unknown): ErrorReason {
  const m = e instanceof Error ? e.message : '';
  return REFUSALS.find((r) => r.message.test(m))?.reason ?? 'invalid_assertion';
}

/** The slot's challenge open for `purpose`, or why it cannot be answered (neither is counted as a guess). */
export function openSlot(ceremony: Record<string, unknown> | undefined, purpose: WebauthnSlot['purpose'], now: Date): { slot: WebauthnSlot } | { refusal: { ok: false; reason: 'no_challenge' | 'challenge_expired'; notCounted: true; ceremony?: null } } {
  const slot = ceremony as WebauthnSlot | undefined;
  // no open challenge: a replay after it was used, a double submit
  if (!slot || slot.purpose !== purpose) return { refusal: { ok: false, reason: 'no_challenge', notCounted: true } };
  if (new Date(slot.expiresAt) <= now) return { refusal: { ok: false, reason: 'challenge_expired', notCounted: true, ceremony: null } };
  return { slot };
}

/** What both ceremonies check: the challenge, the allowed origins and the RP ID, user verification as the slot says. */
export const expected = (slot: WebauthnSlot, rp: { rpId: string; origins: string[] }) => ({
  expectedChallenge: slot.challenge,
  expectedOrigin: rp.origins,
  expectedRPID: rp.rpId,
  requireUserVerification: slot.userVerification === 'required',
});
