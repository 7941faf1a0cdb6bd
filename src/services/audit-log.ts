/** Writes audit events with the request's origin; the one way services record what happened. */
import type { AuditEvent } from '../storage/repositories/audit.js';
import type { Origin, Services } from './context.js';

export type EventInput = Omit<AuditEvent, 'at' | 'origin'> & { origin: Origin };

export function audit(s: Services, e: EventInput): Promise<void> {
  const { origin, ...rest } = e;
  return s.store.audit.append({
    ...rest,
    at: s.clock(),
    origin: { ip: origin.ip, userAgent: origin.userAgent, requestId: origin.requestId, channel: origin.channel },
  });
}
