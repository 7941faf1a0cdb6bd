/** Writes audit events with the request's origin; the one way services record what happened. */
import type { AuditEvent } from '../storage/repositories/audit.js';
import type { Origin, Services } from './context.js';

export type EventInput = Omit<AuditEvent, 'at' | 'origin'> & { origin: Origin };

/** The stored form of an event, stamped now. */
export function eventRecord(s: Services, { origin, ...rest }: EventInput): AuditEvent {
  return { ...rest, at: s.clock(), origin: { ip: origin.ip, userAgent: origin.userAgent, requestId: origin.requestId, channel: origin.channel } };
}

/** Records one event, or several in one statement. */
export function audit(s: Services, e: EventInput | EventInput[]): Promise<void> {
  return s.store.audit.append((Array.isArray(e) ? e : [e]).map((x) => eventRecord(s, x)));
}
