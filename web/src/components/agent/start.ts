/** Starting a verification, and what this browser remembers of it for "Start again". */
import { api, seg } from '../../lib/api';
import type { VerificationView } from './types';

export interface StartInput {
  customerId: string;
  interactionId: string;
  callerAni?: string;
  /** Omitted: the tenant's default level. */
  level?: string;
}

const KEY = 'callwarden.agent.start.';

/** A call id for calls that come without one: `call-20260504-153012`. */
export function newInteractionId(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `call-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** The caller's number as E.164 (`+14155550134`), or null when it is not one. Spaces, dots, dashes and brackets are ignored. */
export function normalizeAni(raw: string): string | null {
  let v = raw.replace(/[\s().-]/g, '');
  if (v.startsWith('00')) v = '+' + v.slice(2);
  return /^\+[1-9]\d{6,14}$/.test(v) ? v : null;
}

export async function startVerification(tenant: string, input: StartInput): Promise<VerificationView> {
  const v = await api.post<VerificationView>(`/v1/tenants/${seg(tenant)}/verifications`, input);
  try {
    sessionStorage.setItem(KEY + v.id, JSON.stringify({ callerAni: input.callerAni, level: input.level }));
  } catch {
    /* storage full or disabled: "Start again" then starts without the caller number */
  }
  return v;
}

/** What was given when this browser started the verification (the view does not carry the caller number). */
export function startedWith(id: string): { callerAni?: string; level?: string } {
  try {
    return JSON.parse(sessionStorage.getItem(KEY + id) ?? '{}') as { callerAni?: string; level?: string };
  } catch {
    return {};
  }
}
