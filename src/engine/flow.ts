/**
 * The flow record every kind shares, and its derived state. Stored states are a kind's step names
 * plus 'completed' and 'canceled'; 'failed' (budget spent) and 'expired' are derived, never written,
 * and final: a failed flow never reads expired or canceled later, and nothing moves a terminal flow.
 */
import type { Selectable } from 'kysely';
import type { FlowsTable } from '../storage/schema-flows.js';

export type FlowRecord = Selectable<FlowsTable>;
export type FlowKind = FlowRecord['kind'];

export const TERMINAL = ['completed', 'canceled', 'failed', 'expired'] as const;
export type Terminal = (typeof TERMINAL)[number];

/** A claimed attempt counts as in flight for this long (a process that died mid-check is forgotten). */
export const IN_FLIGHT_STALE_MS = 30_000;

type StateFields = Pick<FlowRecord, 'state' | 'attempts_left' | 'expires_at'> & Partial<Pick<FlowRecord, 'in_flight' | 'in_flight_at'>>;

/** Attempts of the flow claimed and not yet judged (each may still be given back). */
export const attemptsInFlight = (f: Partial<Pick<FlowRecord, 'in_flight' | 'in_flight_at'>>, now: Date): number =>
  f.in_flight && f.in_flight_at && new Date(f.in_flight_at).getTime() > now.getTime() - IN_FLIGHT_STALE_MS ? f.in_flight : 0;

export function derivedState(f: StateFields, now: Date): string {
  if (f.state === 'completed' || f.state === 'canceled') return f.state;
  // spent before it expired stays failed: a failed flow is evidence and never turns into "expired";
  // a budget still in flight is not spent yet (a right answer gives its attempt back)
  if (f.attempts_left <= 0 && attemptsInFlight(f, now) === 0) return 'failed';
  if (f.expires_at <= now) return 'expired';
  return f.state;
}

export const isTerminal = (state: string): state is Terminal => (TERMINAL as readonly string[]).includes(state);

/** Failed attempts so far, from the flow's own initial budget (not from the policy in force now). */
export const failedAttempts = (f: Pick<FlowRecord, 'attempts_initial' | 'attempts_left'>): number => Math.max(0, f.attempts_initial - Math.max(0, f.attempts_left));
