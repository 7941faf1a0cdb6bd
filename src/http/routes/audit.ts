/**
 * The audit log: filter, export (JSON lines) and the chain's verification status (MACs, chain, the
 * signed head and the newest checkpoint of CALLWARDEN_AUDIT_CHECKPOINTS). Reads are audited. The
 * public keys that verify checkpoints are public: /v1/audit/keys (auditKeyRoutes, no session).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { readCheckpoints, type CheckpointSet } from '../../audit/checkpoint.js';
import { auditKeys } from '../../audit/keys.js';
import { exportEvents, queryEvents } from '../../audit/query.js';
import { verifyChain } from '../../audit/verify.js';
import { audit } from '../../services/audit-log.js';
import type { Services } from '../../services/context.js';
import { origin, principal, requireSession, tenantFor } from '../auth.js';
import { errors, tenantParam } from '../schemas.js';
import { auditEvent, chainReport, type AuditEventOut, type ChainReportOut } from '../schemas/audit.js';

export const auditKeysSchema = z.object({
  checkpointSigning: z.object({
    algorithm: z.literal('Ed25519'),
    currentKeyId: z.string().describe('Id of the key that signs new checkpoints'),
    keys: z.array(z.object({
      keyId: z.string(),
      publicKey: z.string().describe('The raw 32-byte Ed25519 public key, base64'),
      publicKeyPem: z.string().describe('The same key as SPKI PEM'),
      current: z.boolean(),
    })),
  }),
  eventMac: z.object({
    algorithm: z.literal('HMAC-SHA256'),
    currentKeyId: z.string().describe('Id of the key new events are MACed with (the key itself never leaves the server)'),
    keyIds: z.array(z.string()).describe('Every key id that verifies events (the current and the previous keys)'),
  }),
});

/** The public keys of the audit checkpoints, and the MAC key ids (never the MAC keys). No session needed. */
export function auditKeyRoutes(s: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/v1/audit/keys', {
      schema: { tags: ['audit'], summary: 'Public keys that verify audit checkpoints, and the event MAC key ids', response: { 200: auditKeysSchema } },
    }, async () => {
      const keys = auditKeys(s.config);
      return {
        checkpointSigning: {
          algorithm: 'Ed25519' as const,
          currentKeyId: keys.signing.id,
          keys: [...keys.verifyKeys.values()].map((k) => ({ keyId: k.id, publicKey: k.raw.toString('base64'), publicKeyPem: k.key.export({ format: 'pem', type: 'spki' }).toString(), current: k.id === keys.signing.id })),
        },
        eventMac: { algorithm: 'HMAC-SHA256' as const, currentKeyId: keys.mac.id, keyIds: [...keys.macKeys.keys()] },
      };
    });
  };
}

/** The configured checkpoint file, if there is one yet. */
async function configuredCheckpoints(s: Services): Promise<CheckpointSet | undefined> {
  const path = s.config.auditCheckpoints;
  if (!path) return undefined;
  try {
    return await readCheckpoints(auditKeys(s.config), path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

const filter = z.object({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  type: z.string().max(100).optional(),
  actorId: z.string().max(100).optional(),
  outcome: z.enum(['success', 'failure', 'denied', 'info']).optional(),
});

export function auditRoutes(s: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', requireSession(s));
    const tags = ['audit'];
    const record = (req: Parameters<typeof principal>[0], tenantId: string, type: string, data: Record<string, unknown>) =>
      audit(s, { tenantId, type, outcome: 'success', actor: { type: 'user', id: principal(req).userId }, target: { type: 'audit_log', id: tenantId }, origin: origin(req), data });

    app.get('/v1/tenants/:tenant/audit', {
      schema: {
        tags,
        summary: 'Search audit events (newest first)',
        params: tenantParam,
        querystring: filter.extend({ limit: z.coerce.number().int().min(1).max(1000).default(100), before: z.coerce.number().int().positive().optional() }),
        response: { 200: z.object({ events: z.array(auditEvent), nextBefore: z.number().nullable() }), ...errors },
      },
    }, async (req) => {
      const t = await tenantFor(s, req, req.params.tenant, 'audit.read');
      const q = req.query;
      const events = (await queryEvents(s.store.db, { tenantId: t.id, ...q, from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined })) as AuditEventOut[];
      await record(req, t.id, 'audit.read', { filter: req.query, returned: events.length });
      const last = events.at(-1);
      return { events, nextBefore: events.length === q.limit && last ? Number(last.id) : null };
    });

    app.get('/v1/tenants/:tenant/audit/export', {
      schema: { tags, summary: 'Export audit events as JSON lines (oldest first)', params: tenantParam, querystring: filter, produces: ['application/x-ndjson'] },
    }, async (req, reply) => {
      const t = await tenantFor(s, req, req.params.tenant, 'audit.export');
      const q = req.query;
      await record(req, t.id, 'audit.exported', { filter: req.query });
      const lines: string[] = [];
      for await (const line of exportEvents(s.store.db, { tenantId: t.id, ...q, from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined })) lines.push(line);
      return reply.type('application/x-ndjson').send(lines.map((l) => (l.endsWith('\n') ? l : l + '\n')).join(''));
    });

    app.get('/v1/tenants/:tenant/audit/verify', {
      schema: { tags, summary: "Verify the tenant's audit log: event MACs, the hash chain, the signed head and the newest checkpoint", params: tenantParam, response: { 200: chainReport, ...errors } },
    }, async (req) => {
      const t = await tenantFor(s, req, req.params.tenant, 'audit.read');
      const report = await verifyChain(s.store.db, { tenantId: t.id, keys: auditKeys(s.config), checkpoints: await configuredCheckpoints(s) });
      await record(req, t.id, 'audit.verified', { ok: report.ok });
      return report as ChainReportOut;
    });
  };
}
