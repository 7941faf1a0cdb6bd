/**
 * Audit log storage. `append` is a plain INSERT (no shared row is touched, so requests never queue
 * behind each other); the chain is built afterwards by the sealer (src/audit/seal.ts). Every event
 * arrives with its MAC already computed (src/audit/mac.ts withMac, called by eventRecord), so the MAC
 * is written in the event's own statement, whichever statement that is.
 */
import type { Db } from '../db.js';

export type AuditOutcome = 'success' | 'failure' | 'denied' | 'info';
export type ActorType = 'user' | 'system' | 'cli' | 'anonymous' | 'api_key';

export interface AuditEvent {
  tenantId: string;
  type: string;
  outcome: AuditOutcome;
  actor: { type: ActorType; id?: string | null };
  target?: { type: string; id: string } | null;
  origin?: { ip?: string | null; userAgent?: string | null; channel?: string | null; requestId?: string | null };
  /** Non-secret details. Never put codes, passwords, tokens or secrets here. */
  data?: Record<string, unknown>;
  at: Date;
  /** Random per event, covered by the MAC. */
  nonce: string;
  /** HMAC-SHA256 (hex) of the event under the audit MAC key (src/audit/mac.ts). */
  mac: string;
  /** Id of the MAC key (src/audit/keys.ts). */
  macKeyId: string;
}

/** An event before its MAC is computed (src/audit/mac.ts withMac turns it into an AuditEvent). */
export type AuditEventInput = Omit<AuditEvent, 'nonce' | 'mac' | 'macKeyId'>;

export class AuditRepo {
  constructor(private readonly db: Db) {}

  /** Appends one event, or several in one statement. */
  async append(e: AuditEvent | AuditEvent[]): Promise<void> {
    const events = Array.isArray(e) ? e : [e];
    if (events.length === 0) return;
    await this.db.insertInto('audit_events').values(events.map(auditRow)).execute();
  }
}

/** The audit_events row of an event (also used by statements that write events alongside other rows). */
export function auditRow(e: AuditEvent) {
  return {
    tenant_id: e.tenantId,
    occurred_at: e.at,
    type: e.type,
    outcome: e.outcome,
    actor_type: e.actor.type,
    actor_id: e.actor.id ?? null,
    target_type: e.target?.type ?? null,
    target_id: e.target?.id ?? null,
    ip: e.origin?.ip ?? null,
    user_agent: e.origin?.userAgent ?? null,
    channel: e.origin?.channel ?? null,
    request_id: e.origin?.requestId ?? null,
    data: JSON.stringify(e.data ?? {}),
    nonce: e.nonce,
    mac: e.mac,
    mac_key_id: e.macKeyId,
  };
}
