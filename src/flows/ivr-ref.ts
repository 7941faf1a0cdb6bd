/**
 * The step a prompt asked for, handed to the IVR with the prompt (`ref`) and back with the digits: it
 * names the verification, the step and what its digits mean (the menu's contacts, the live code's
 * destination), with a MAC under a key derived from the server's key, so that the digits can be
 * acted on without reading the flow first (the step costs its claim and its record, nothing more).
 * A ref is a hint, never an authority: the step's own claim checks that the stored flow still asks
 * for that step (see `matches`); when it does not, nothing is counted and the current prompt is said.
 * It holds no secret and no contact value (contact ids only), and forging one gains nothing the
 * stored flow would not allow.
 */
import { createHmac } from 'node:crypto';
import type { Aead } from '../crypto/aead.js';
import { safeEqual } from '../crypto/tokens.js';
import type { CodeChannel } from './verification-codes.js';

export interface StepRef {
  /** The verification. */
  id: string;
  step: 'pin' | 'choice' | 'code';
  /** choice: what each digit sends, and to which on-file contact. */
  options?: Array<{ digit: string; channel: CodeChannel; contactId: string }>;
  /** code: where star sends a new code. */
  target?: { channel: CodeChannel; contactId: string };
}

const keys = new WeakMap<Aead, Buffer>();
const keyOf = (aead: Aead) => {
  let k = keys.get(aead);
  if (!k) {
    k = aead.derive('ivr-step-ref');
    keys.set(aead, k);
  }
  return k;
};
const mac = (aead: Aead, body: string) => createHmac('sha256', keyOf(aead)).update(body).digest('base64url');

export function sealRef(aead: Aead, r: StepRef): string {
  const body = Buffer.from(JSON.stringify(r)).toString('base64url');
  return `${body}.${mac(aead, body)}`;
}

const CHANNELS = new Set(['sms', 'voice', 'email']);
const isTarget = (x: unknown): x is { channel: CodeChannel; contactId: string } =>
  typeof x === 'object' && x !== null && CHANNELS.has((x as { channel?: string }).channel ?? '') && typeof (x as { contactId?: unknown }).contactId === 'string';

/** The ref if its MAC verifies and its shape is one `sealRef` writes; undefined otherwise. */
export function openRef(aead: Aead, token: string): StepRef | undefined {
  const [body, tag, extra] = token.split('.');
  if (!body || !tag || extra !== undefined || !safeEqual(tag, mac(aead, body))) return undefined;
  try {
    const r = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as StepRef;
    if (typeof r.id !== 'string' || !['pin', 'choice', 'code'].includes(r.step)) return undefined;
    if (r.options !== undefined && !(Array.isArray(r.options) && r.options.every((o) => isTarget(o) && typeof o.digit === 'string'))) return undefined;
    if (r.target !== undefined && !isTarget(r.target)) return undefined;
    return r;
  } catch {
    return undefined;
  }
}

/** Whether the step the stored flow asks for now is the one the ref names, with the same meaning of its digits. */
export function matches(ref: StepRef, now: { step: string; options?: Array<{ digit: string; channel: string; contactId: string }>; target?: { channel: string; contactId: string } }): boolean {
  if (ref.step !== now.step) return false;
  if (ref.step === 'choice') {
    const a = (ref.options ?? []).map((o) => `${o.digit}:${o.channel}:${o.contactId}`).join(',');
    const b = (now.options ?? []).map((o) => `${o.digit}:${o.channel}:${o.contactId}`).join(',');
    return a === b;
  }
  if (ref.step === 'code') return ref.target?.contactId === now.target?.contactId && ref.target?.channel === now.target?.channel;
  return true;
}
