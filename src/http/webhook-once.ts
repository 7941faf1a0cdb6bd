/**
 * At-most-once handling of webhook deliveries, as route hooks. Providers deliver again when they
 * think a delivery failed (a timeout, a dropped connection) and sometimes twice at once; handling
 * each copy would count an attempt twice or move the call a step ahead of the caller. So a delivery
 * first claims its key in webhook_receipts (one INSERT ... ON CONFLICT DO NOTHING): the claimant
 * handles it and its 200 answer is stored; a repeat is answered with the stored answer, waiting
 * briefly while the first copy is still being handled. An answer that is not 200 releases the
 * claim, so the provider's retry is handled afresh.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../domain/errors.js';
import type { Services } from '../services/context.js';

export interface DeliveryKey {
  key: string;
  tenantId: string;
  /** Content type of the stored answer when it is replayed. */
  type: string;
}

const claimed = new WeakMap<FastifyRequest, string>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function deliveredOnce(s: Services, keyOf: (req: FastifyRequest) => Promise<DeliveryKey | undefined>, o: { waitMs?: number; pollMs?: number } = {}) {
  const waitMs = o.waitMs ?? 5_000;
  const pollMs = o.pollMs ?? 50;
  const receipts = s.store.webhookReceipts;

  /** preHandler: claim the delivery, or answer a repeat with the first copy's answer. */
  const preHandler = async (req: FastifyRequest, reply: FastifyReply) => {
    const k = await keyOf(req);
    if (!k) return;
    for (const until = Date.now() + waitMs; ; ) {
      if (await receipts.claim(k.key, k.tenantId, s.clock())) {
        claimed.set(req, k.key);
        return;
      }
      const answer = await receipts.response(k.key);
      if (typeof answer === 'string') {
        req.log.info({ reason: 'repeated_delivery' }, 'webhook answered from its receipt');
        return reply.type(k.type).send(answer);
      }
      // null: the first copy is still being handled; undefined: it failed and released the key (claim again)
      if (Date.now() >= until) throw new AppError('unavailable', { reason: 'delivery_in_progress' }, 'This delivery is still being handled; try again.');
      await sleep(pollMs);
    }
  };

  /** onSend: store the claimant's 200 answer; release the claim otherwise. */
  const onSend = async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const key = claimed.get(req);
    if (!key) return payload;
    claimed.delete(req);
    if (reply.statusCode === 200 && typeof payload === 'string') await receipts.complete(key, payload);
    else await receipts.release(key);
    return payload;
  };

  /** onResponse: a claim still held here was never answered (the connection dropped first): release it. */
  const onResponse = async (req: FastifyRequest) => {
    const key = claimed.get(req);
    if (key) {
      claimed.delete(req);
      await receipts.release(key);
    }
  };

  return { preHandler, onSend, onResponse };
}
