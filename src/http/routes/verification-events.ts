/**
 * Live updates of one verification as server-sent events, for the agent desktop watching the IVR or
 * another agent complete steps. The stream sends `event: verification` with the same JSON as GET
 * /v1/tenants/{tenant}/verifications/{id} at once, then again whenever it changes, and ends after a
 * terminal state (verified, failed, expired, canceled).
 *
 * Changes may come from any instance, so each open stream polls the database (one read of the row
 * per second) and compares a fingerprint of the row and its derived state; expiry is seen the same
 * way. Each poll also re-checks the session without extending it, so signing out, disabling the user
 * or removing the permission ends the stream. A `: ping` comment every 15 s keeps proxies from
 * closing an idle stream. The event id is the fingerprint: a client reconnecting with the id of the
 * terminal event it already has gets 204, which tells an EventSource to stop reconnecting.
 */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import { readVerification, verificationState, view, type VerificationState } from '../../flows/verification.js';
import type { FlowRecord } from '../../engine/flow.js';
import type { Services } from '../../services/context.js';
import { authenticate } from '../../services/sessions.js';
import { principal, requireSession, sessionToken, tenantFor } from '../auth.js';
import { errors, tenantParam, uuid } from '../schemas.js';

export interface StreamOptions {
  /** How often an open stream reads the verification (default 1000 ms). */
  pollMs?: number;
  /** How often a comment is sent on an idle stream (default 15 000 ms). */
  pingMs?: number;
  /** Open streams per user on one instance (default 20). */
  maxPerUser?: number;
}

const TERMINAL: ReadonlySet<VerificationState> = new Set(['verified', 'failed', 'expired', 'canceled']);

/** What the stream compares between polls: the row (no secrets in it) and its derived state. */
function fingerprint(row: FlowRecord, now: Date): { id: string; state: VerificationState } {
  const state = verificationState(row, now);
  return { id: createHash('sha256').update(JSON.stringify(row)).update(state).digest('base64url').slice(0, 22), state };
}

export function verificationEventRoutes(s: Services, o: StreamOptions = {}): FastifyPluginAsyncZod {
  const pollMs = o.pollMs ?? 1000;
  const pingMs = o.pingMs ?? 15_000;
  const maxPerUser = o.maxPerUser ?? 20;
  return async (app) => {
    app.addHook('onRequest', requireSession(s));
    const open = new Set<() => void>();
    const perUser = new Map<string, number>();
    // server shutdown: end the streams so close() does not wait for clients to leave
    app.addHook('preClose', async () => {
      for (const end of [...open]) end();
    });

    app.get('/v1/tenants/:tenant/verifications/:id/events', {
      schema: {
        tags: ['caller verification'],
        summary: 'Live updates of a verification (server-sent events; ends after a terminal state)',
        description:
          'A text/event-stream. Each message is `event: verification` with `data:` the same JSON as GET /v1/tenants/{tenant}/verifications/{id}; ' +
          'the first is sent at once, the next whenever the verification changes; `: ping` comments every 15 s. ' +
          'The stream ends after sending verified, failed, expired or canceled. Send the session cookie (EventSource) or a bearer token.',
        params: tenantParam.extend({ id: uuid }),
        response: {
          200: { description: 'The event stream', content: { 'text/event-stream': { schema: z.string() } } },
          204: z.null().describe('The client already has the final event (reconnection after the end)'),
          ...errors,
        },
      },
    }, async (req, reply) => {
      const p = principal(req);
      const tenantId = (await tenantFor(s, req, req.params.tenant, 'verifications.read')).id;
      const id = req.params.id;
      const firstRead = await readVerification(s, tenantId, id);
      const first = firstRead.flow;
      let last = fingerprint(first, s.clock());
      // EventSource sends the id of the last event it received when it reconnects
      if (TERMINAL.has(last.state) && req.headers['last-event-id'] === last.id) return reply.status(204).send(null);
      if ((perUser.get(p.userId) ?? 0) >= maxPerUser) throw new AppError('rate_limited', { reason: 'too_many_streams' }, 'Too many live views are open; close some and try again.');
      const firstView = view(first, s.engine.policy(firstRead).verification, s.methods, firstRead.customer, s.clock());
      const token = sessionToken(req) ?? '';

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-content-type-options': 'nosniff',
        'x-request-id': req.id,
      });
      perUser.set(p.userId, (perUser.get(p.userId) ?? 0) + 1);

      let ended = false;
      let busy = false;
      const end = () => {
        if (ended) return;
        ended = true;
        clearInterval(poll);
        clearInterval(ping);
        open.delete(end);
        const n = (perUser.get(p.userId) ?? 1) - 1;
        if (n > 0) perUser.set(p.userId, n);
        else perUser.delete(p.userId);
        if (!res.writableEnded) res.end();
      };
      const send = (fp: { id: string; state: VerificationState }, body: unknown) => {
        res.write(`id: ${fp.id}\nevent: verification\ndata: ${JSON.stringify(body)}\n\n`);
        if (TERMINAL.has(fp.state)) end();
      };
      const tick = async () => {
        if (ended || busy) return;
        busy = true;
        try {
          const who = await authenticate(s, token, { touch: false });
          if (!who || who.userId !== p.userId || !who.permissions.has('verifications.read')) return end();
          const read = await readVerification(s, tenantId, id).catch(() => undefined);
          if (!read) return end();
          const fp = fingerprint(read.flow, s.clock());
          if (fp.id === last.id) return;
          last = fp;
          const body = view(read.flow, s.engine.policy(read).verification, s.methods, read.customer, s.clock());
          if (!ended) send(fp, body);
        } catch (e) {
          req.log.warn({ err: e }, 'verification stream poll failed');
          end();
        } finally {
          busy = false;
        }
      };
      const poll = setInterval(() => void tick(), pollMs);
      const ping = setInterval(() => {
        if (!ended) res.write(': ping\n\n');
      }, pingMs);
      open.add(end);
      res.on('close', end);
      send(last, firstView);
    });
  };
}
