/**
 * What the engine needs from outside, as small ports: the flow store (claim and record statements),
 * audit stamping, policy parsing and the clock. Services wire them (src/flows/engine-ports.ts); the
 * engine imports nothing from services, delivery or HTTP.
 */
import type { Policy } from '../domain/policy.js';
import type { AuditEvent, AuditEventInput } from '../storage/repositories/audit.js';
import type { Claimed, ClaimRequest } from '../storage/repositories/flow-claims.js';
import type { Advance, Recorded } from '../storage/repositories/flow-records.js';
import type { FlowRecord } from './flow.js';
import type { Effect } from './method.js';

export interface FlowStorePort {
  claim(r: ClaimRequest): Promise<Claimed | undefined>;
  byId(id: string): Promise<FlowRecord | undefined>;
  recordSuccess(a: Advance): Promise<Recorded | undefined>;
  recordFailure(a: { flowId: string; counterSubject: string | null; lockUntil: Date | null; clearSlots?: string[]; setSlots?: Record<string, unknown>; effects?: Effect[]; events: AuditEvent[]; now: Date }): Promise<number>;
  release(a: { flowId: string; counterSubject: string | null; refund: boolean; /** The attempt was claimed (counted in flight on the flow). */ inFlight: boolean; events: AuditEvent[]; now: Date }): Promise<void>;
}

/** Who acted, where from: the audit port turns an event into its stored, stamped form. */
export interface Origin {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  channel: 'api' | 'cli' | 'system';
}

export type EventDraft = Omit<AuditEventInput, 'at' | 'origin'> & { origin: Origin };

export interface EnginePorts {
  flows: FlowStorePort;
  event(e: EventDraft): AuditEvent;
  policy(tenantId: string, version: number, raw: unknown): Policy;
  clock(): Date;
}
