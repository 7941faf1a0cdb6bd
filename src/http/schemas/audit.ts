/**
 * Response shapes of the audit log: an event as src/audit/query.ts returns it (with its chain fields)
 * and the chain verification report of src/audit/verify.ts.
 */
import { z } from 'zod';

export const auditEvent = z.object({
  id: z.number(),
  tenantId: z.string(),
  occurredAt: z.string(),
  type: z.string(),
  outcome: z.string(),
  actorType: z.string(),
  actorId: z.string().nullable(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  channel: z.string().nullable(),
  requestId: z.string().nullable(),
  // an event's details are a JSON object whose keys depend on its type: the one free-form part of a
  // 2xx response, named as such in test/fuzz/typed-responses.test.ts
  data: z.record(z.string(), z.unknown()).describe("The event's details (a JSON object); their keys depend on the event type"),
  chainSeq: z.number().nullable().describe('Position in the hash chain (null: not sealed yet)'),
  prevHash: z.string().nullable(),
  hash: z.string().nullable(),
});

// kinds and the MAC/checkpoint fields follow src/audit/verify.ts; fields newer than the first chain
// report are optional so the schema fits both
export const chainProblem = z.object({
  eventId: z.number().nullable().describe('The row where the problem shows (null: the chain head)'),
  chainSeq: z.number().nullable(),
  kind: z.string().describe('edited, deleted, reordered, inserted, withheld, head_mismatch, truncated or rewritten (src/audit/verify.ts)'),
  detail: z.string(),
});

export const chainCheckpoint = z.object({
  seq: z.number(),
  hash: z.string(),
  sealedAt: z.string(),
  keyId: z.string(),
  source: z.enum(['file', 'database']),
});

export const tenantChainReport = z.object({
  tenantId: z.string(),
  sealed: z.number(),
  unsealed: z.number().describe('Events not sealed yet (verification covers the sealed part)'),
  headSeq: z.number().nullable(),
  problems: z.array(chainProblem),
  quarantined: z.number().optional().describe('Unsealed events left out of the chain because their MAC does not verify'),
  macs: z.enum(['checked', 'unchecked']).optional().describe('Whether MACs and the head signature were checked'),
  checkpoint: chainCheckpoint.nullable().optional().describe('The newest checkpoint the chain was held to'),
});

export const chainReport = z.object({
  ok: z.boolean(),
  tenants: z.array(tenantChainReport),
  checkpoints: z.object({ file: z.string(), lines: z.number(), problems: z.array(z.object({ line: z.number(), tenantId: z.string().nullable(), detail: z.string() })) }).optional(),
});
export type ChainReportOut = z.input<typeof chainReport>;
export type AuditEventOut = z.input<typeof auditEvent>;
