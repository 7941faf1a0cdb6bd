/**
 * The keyed MAC every audit event carries from the statement that writes it: HMAC-SHA256, under the
 * configured audit MAC key (src/audit/keys.ts), over the event's stored values at full precision
 * (the time in microseconds, the data as JSON stores it) and a random per-event nonce. Computed in
 * the process, so an event and its MAC go into the database in one INSERT, whatever statement
 * writes it. Without the key, a row added to audit_events by hand cannot carry a MAC that verifies.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuditEvent, AuditEventInput } from '../storage/repositories/audit.js';
import { canonicalJson } from './canonical.js';
import type { AuditKeys } from './keys.js';
import { dateMicros, microIso } from './micros.js';

export { dateMicros, microIso };

const LABEL = 'callwarden-audit-event-v1\n';

/** The fields the MAC covers, as stored (snake_case like the columns). */
export interface MacFields {
  tenant_id: string;
  /** Microseconds since the epoch, as a decimal string. */
  occurred_us: string;
  type: string;
  outcome: string;
  actor_type: string;
  actor_id: string | null;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  channel: string | null;
  request_id: string | null;
  data: unknown;
  nonce: string;
  mac_key_id: string;
}

/** HMAC-SHA256 (hex) over the canonical JSON of exactly the MAC fields (extra properties of `f` are ignored). */
export function macOf(key: Buffer, f: MacFields): string {
  const text = canonicalJson({
    tenant_id: f.tenant_id.toLowerCase(),
    occurred_at: microIso(f.occurred_us),
    type: f.type,
    outcome: f.outcome,
    actor_type: f.actor_type,
    actor_id: f.actor_id,
    target_type: f.target_type,
    target_id: f.target_id,
    ip: f.ip,
    user_agent: f.user_agent,
    channel: f.channel,
    request_id: f.request_id,
    data: f.data,
    nonce: f.nonce,
    mac_key_id: f.mac_key_id,
  });
  return createHmac('sha256', key).update(LABEL + text, 'utf8').digest('hex');
}

/**
 * The event with its nonce, MAC and key id: what every writer stores (storage/repositories/audit.ts
 * auditRow maps it to the row). The data is copied as JSON stores it, so later changes to the
 * caller's object cannot make the stored row differ from what the MAC covers.
 */
export function withMac(keys: AuditKeys, e: AuditEventInput): AuditEvent {
  const data = JSON.parse(JSON.stringify(e.data ?? {})) as Record<string, unknown>;
  const nonce = randomBytes(16).toString('base64url');
  const event = { ...e, data };
  const mac = macOf(keys.mac.key, { ...macFieldsOfEvent(event), nonce, mac_key_id: keys.mac.id });
  return { ...event, nonce, mac, macKeyId: keys.mac.id };
}

function macFieldsOfEvent(e: AuditEventInput & { data: Record<string, unknown> }): Omit<MacFields, 'nonce' | 'mac_key_id'> {
  return {
    tenant_id: e.tenantId,
    occurred_us: dateMicros(e.at),
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
    data: e.data,
  };
}

/** A stored row as the MAC check reads it (occurred_us read from the database at full precision). */
export interface MacRow {
  id: number | string;
  tenant_id: string;
  occurred_us: string;
  type: string;
  outcome: string;
  actor_type: string;
  actor_id: string | null;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  channel: string | null;
  request_id: string | null;
  data: unknown;
  nonce: string | null;
  mac: string | null;
  mac_key_id: string | null;
}

export type MacVerdict = { ok: true } | { ok: false; reason: 'mac_missing' | 'mac_key_unknown' | 'mac_invalid'; detail: string };

/** Whether the row's MAC verifies under the key it names. */
export function checkMac(keys: AuditKeys, row: MacRow): MacVerdict {
  if (row.mac === null || row.nonce === null || row.mac_key_id === null) {
    return { ok: false, reason: 'mac_missing', detail: 'it carries no MAC: inserted without the server\'s key' };
  }
  const key = keys.macKeys.get(row.mac_key_id);
  if (!key) return { ok: false, reason: 'mac_key_unknown', detail: `its MAC key id ${JSON.stringify(row.mac_key_id.slice(0, 40))} is not configured: inserted without the server's key, or written under a key missing from CALLWARDEN_AUDIT_MAC_PREVIOUS_KEYS` };
  let expected: string;
  try {
    expected = macOf(key.key, { ...row, nonce: row.nonce, mac_key_id: row.mac_key_id });
  } catch {
    return { ok: false, reason: 'mac_invalid', detail: 'its MAC does not verify (the row holds a value with no JSON form)' };
  }
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(row.mac, 'hex');
  if (a.length === b.length && /^[0-9a-f]{64}$/.test(row.mac) && timingSafeEqual(a, b)) return { ok: true };
  return { ok: false, reason: 'mac_invalid', detail: "its MAC does not verify: inserted (or rewritten) without the server's key" };
}
