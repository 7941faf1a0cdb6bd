/** Writes audit events with the request's origin; the one way services record what happened. */
import { auditKeys } from '../audit/keys.js';
import { withMac } from '../audit/mac.js';
import type { AuditEvent, AuditEventInput } from '../storage/repositories/audit.js';
import type { Origin, Services } from './context.js';

export type EventInput = Omit<AuditEventInput, 'at' | 'origin'> & { origin: Origin };

/**
 * The stored form of an event, stamped now, carrying its keyed MAC (nonce, mac, macKeyId): pure
 * apart from the clock and the random nonce, so statements that write events alongside other rows
 * (auditRow in storage/repositories/audit.ts) store the MAC in the same statement.
 */
export function eventRecord(s: Services, { origin, ...rest }: EventInput): AuditEvent {
  return withMac(auditKeys(s.config), { ...rest, at: s.clock(), origin: { ip: origin.ip, userAgent: origin.userAgent, requestId: origin.requestId, channel: origin.channel } });
}

/** Records one event, or several in one statement. */
export function audit(s: Services, e: EventInput | EventInput[]): Promise<void> {
  return s.store.audit.append((Array.isArray(e) ? e : [e]).map((x) => eventRecord(s, x)));
}
