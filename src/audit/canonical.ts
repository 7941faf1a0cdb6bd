/**
 * What the audit chain hashes: a deterministic JSON form (RFC 8785 for the values we store) and the
 * chain-hash rule `hash = sha256hex(prev_hash + canonicalJson(fields))`, shared by sealer and verifier.
 */
import { createHash } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { AuditEventsTable } from '../storage/schema.js';
import { dateMicros, microIso } from './micros.js';

/** The `prev_hash` of a tenant's first sealed event. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Deterministic JSON: object keys sorted by UTF-16 code units at every level, no whitespace, numbers and
 * strings as ECMAScript JSON.stringify writes them (so -0 is "0"). Object properties whose value is
 * undefined are left out, as JSON.stringify does. Throws on anything JSON cannot represent exactly
 * (NaN, Infinity, bigint, functions, symbols, dates and other class instances).
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} has no JSON form`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`canonicalJson: ${(value as object).constructor?.name ?? 'object'} is not a plain object`);
      }
      const obj = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const key of Object.keys(obj).sort()) {
        const v = obj[key];
        if (v === undefined) continue;
        parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: a ${typeof value} has no JSON form`);
  }
}

export function sha256hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * An audit_events row as read from the store (the columns the hash covers; ids may come back as
 * strings). `occurred_us` is the stored time in microseconds (read with occurredMicros()); without
 * it the time comes from `occurred_at`, which a JS Date holds to the millisecond only.
 */
export type ChainRow = Omit<Selectable<AuditEventsTable>, 'id' | 'chain_seq' | 'prev_hash' | 'hash' | 'data' | 'nonce' | 'mac' | 'mac_key_id'> & {
  id: number | string;
  chain_seq: number | string;
  data: unknown;
  occurred_us?: string | null;
  nonce?: string | null;
  mac?: string | null;
  mac_key_id?: string | null;
};

/**
 * The hashed fields of one event: the row with numeric ids and the time as an ISO string. Events
 * written with a MAC (migrations/0008) also hash their nonce, MAC and key id, and their time to the
 * microsecond; events from before carry none of these and keep the millisecond rule they were sealed with.
 */
export type EventFields = Omit<ChainRow, 'id' | 'chain_seq' | 'occurred_at' | 'occurred_us' | 'nonce' | 'mac' | 'mac_key_id'> & {
  id: number;
  chain_seq: number;
  occurred_at: string;
  nonce?: string | null;
  mac?: string;
  mac_key_id?: string | null;
};

export const HASHED_FIELDS = [
  'id', 'tenant_id', 'chain_seq', 'occurred_at', 'type', 'outcome', 'actor_type', 'actor_id',
  'target_type', 'target_id', 'ip', 'user_agent', 'channel', 'request_id', 'data', 'nonce', 'mac', 'mac_key_id',
] as const satisfies ReadonlyArray<keyof EventFields>;

/** The SQL expression of a row's time in microseconds since the epoch, as text (exact). */
export const occurredMicrosSql = (alias = ''): string => `(extract(epoch from ${alias}occurred_at) * 1000000)::bigint::text`;

const EVENT_COLUMNS = ['id', 'tenant_id', 'occurred_at', 'type', 'outcome', 'actor_type', 'actor_id', 'target_type', 'target_id', 'ip', 'user_agent', 'channel', 'request_id', 'data', 'nonce', 'mac', 'mac_key_id'];

/** The columns of an event row that MAC and hash cover (not the chain columns), with its time in microseconds as occurred_us. */
export const eventColumnsSql = (alias?: string): string => {
  const a = alias ? `${alias}.` : '';
  return `${EVENT_COLUMNS.map((c) => a + c).join(', ')}, ${occurredMicrosSql(a)} AS occurred_us`;
};
export const EVENT_COLUMNS_SQL = eventColumnsSql();

/** Whether the row is keyed (written with a MAC) rather than a legacy row. */
export const isKeyed = (row: { mac?: string | null }): boolean => row.mac !== undefined && row.mac !== null;

/** The hashed fields of a row; bigint columns become numbers whatever the driver returned. */
export function eventFields(row: ChainRow): EventFields {
  const base = {
    id: Number(row.id),
    tenant_id: row.tenant_id,
    chain_seq: Number(row.chain_seq),
    occurred_at: row.occurred_at.toISOString(),
    type: row.type,
    outcome: row.outcome,
    actor_type: row.actor_type,
    actor_id: row.actor_id,
    target_type: row.target_type,
    target_id: row.target_id,
    ip: row.ip,
    user_agent: row.user_agent,
    channel: row.channel,
    request_id: row.request_id,
    data: row.data,
  };
  if (!isKeyed(row)) return base;
  const us = row.occurred_us ?? dateMicros(row.occurred_at);
  return { ...base, occurred_at: microIso(us), nonce: row.nonce ?? null, mac: row.mac!, mac_key_id: row.mac_key_id ?? null };
}

/** The chain hash of an event: sha256hex(prevHash + canonicalJson(fields)). */
export function chainHash(prevHash: string, fields: EventFields): string {
  return sha256hex(prevHash + canonicalJson(fields));
}
