/** Fixtures for the flow engine's storage conformance: flows inserted through FlowRepo, MAC'd audit events. */
import { randomUUID } from 'node:crypto';
import { withMac } from '../../src/audit/mac.js';
import type { FlowRecord } from '../../src/engine/flow.js';
import type { AuditEvent } from '../../src/storage/repositories/audit.js';
import type { NewFlow } from '../../src/storage/repositories/flows.js';
import type { Store } from '../../src/storage/store.js';
import { TEST_KEYS } from './audit-chain.js';
import { at, hash32, seedTenantAndUser } from './fixtures.js';

/** An audit event of the tenant, with its MAC, aimed at `targetId`. */
export const flowEvent = (tenantId: string, type: string, targetId: string, when = new Date()): AuditEvent =>
  withMac(TEST_KEYS, { tenantId, type, outcome: 'success', actor: { type: 'anonymous' }, target: { type: 'flow', id: targetId }, at: when });

/** The audit events aimed at `targetId`, by type. */
export async function eventsFor(store: Store, targetId: string): Promise<string[]> {
  const rows = await store.db.selectFrom('audit_events').select('type').where('target_id', '=', targetId).orderBy('id').execute();
  return rows.map((r) => r.type);
}

export interface FlowOpts {
  kind?: FlowRecord['kind'];
  state?: string;
  attempts?: number;
  initial?: number;
  ttl?: number;
  now?: Date;
  /** Subject known from the start (the user seeded with the tenant, or a given customer). */
  withUser?: boolean;
  customerId?: string;
  identifier?: string;
  ceremony?: Record<string, unknown>;
  extra?: Partial<NewFlow>;
}

/** A tenant with a user, and a flow of it. */
export async function seedFlow(store: Store, o: FlowOpts = {}) {
  const { tenant, user } = await seedTenantAndUser(store, { roles: ['agent', 'supervisor'] });
  const now = o.now ?? new Date();
  const secret = hash32();
  const subject = o.customerId ? { subject_type: 'customer' as const, subject_id: o.customerId } : o.withUser ? { subject_type: 'user' as const, subject_id: user.id } : {};
  const flow = await store.flows.create({
    id: randomUUID(), tenant_id: tenant.id, kind: o.kind ?? 'signin', secret_hash: secret, state: o.state ?? 'password',
    identifier: o.identifier ?? user.email, required_level: 'aal2', attempts_initial: o.initial ?? o.attempts ?? 5, attempts_left: o.attempts ?? 5,
    created_at: now, updated_at: now, expires_at: at(now, o.ttl ?? 600), ...subject, ...(o.ceremony ? { ceremony: o.ceremony } : {}), ...o.extra,
  });
  return { tenant, user, flow, secret, now };
}
