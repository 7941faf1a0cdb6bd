/**
 * The delivery worker: takes due messages from the outbox and hands them to the provider of their
 * channel. Each round claims a batch in one short statement (FOR UPDATE SKIP LOCKED; the rows get a
 * lease: next_attempt_at = now + lease, attempts + 1), so any number of workers and instances share
 * the queue without sending a message twice. Sends happen outside any transaction, in parallel within
 * the batch; the outcome is then recorded: sent, retry with exponential backoff (5 s doubling, capped)
 * or failed (permanent refusal, or out of attempts). A message past its expires_at (a one-time code)
 * is failed with reason 'expired' without calling the provider, and no retry is scheduled past it.
 * A worker that dies mid-send leaves its messages to be claimed again when their lease runs out.
 * Channels without a provider are never claimed: their messages stay pending and readable in the
 * dev outbox. Bodies and codes are never logged.
 */
import type { Logger } from 'pino';
import type { Clock } from '../services/context.js';
import type { ClaimedMessage, OutboxRepo } from '../storage/repositories/outbox.js';
import { DeliveryError, safeReason, toDeliveryError, type Channel, type Provider } from './provider.js';

export interface WorkerOptions {
  outbox: OutboxRepo;
  providers: readonly Provider[];
  clock?: Clock;
  log?: Logger;
  /** Messages claimed per round (default 20). */
  batchSize?: number;
  /** How long a claimed message is reserved for its sender; longer than any send can take (default 2 min). */
  leaseMs?: number;
  /** Delay before the second attempt; it doubles with every further one (default 5 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Attempts before a message is given up (default 10). */
  maxAttempts?: number;
}

export interface RoundResult {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
}

/** Delay after failed attempt number `attempt` (1-based): base, 2·base, 4·base, … up to `max`. */
export function retryDelayMs(attempt: number, base = 5_000, max = 3_600_000): number {
  return Math.min(base * 2 ** Math.max(0, attempt - 1), max);
}

export class DeliveryWorker {
  readonly routes = new Map<Channel, Provider>();
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<unknown> | undefined;
  readonly #clock: Clock;

  constructor(private readonly o: WorkerOptions) {
    for (const p of o.providers) for (const c of p.channels) if (!this.routes.has(c)) this.routes.set(c, p);
    this.#clock = o.clock ?? (() => new Date());
  }

  /** Channels this worker delivers; messages of other channels are left alone. */
  get channels(): Channel[] {
    return [...this.routes.keys()];
  }

  /** Claims one batch of due messages and sends it. */
  async runOnce(): Promise<RoundResult> {
    const result: RoundResult = { claimed: 0, sent: 0, retried: 0, failed: 0 };
    const batch = await this.o.outbox.claimDue({ channels: this.channels, now: this.#clock(), leaseMs: this.o.leaseMs ?? 120_000, limit: this.o.batchSize ?? 20 });
    result.claimed = batch.length;
    const outcomes = await Promise.all(batch.map((m) => this.#deliver(m)));
    for (const o of outcomes) result[o]++;
    return result;
  }

  /** Runs rounds until nothing is due (tests, shutdown). */
  async drain(): Promise<RoundResult> {
    const total: RoundResult = { claimed: 0, sent: 0, retried: 0, failed: 0 };
    for (;;) {
      const r = await this.runOnce();
      for (const k of Object.keys(total) as Array<keyof RoundResult>) total[k] += r[k];
      if (r.claimed === 0) return total;
    }
  }

  /** Runs a round every `intervalMs` (a round still running is not overlapped). */
  start(intervalMs: number): void {
    if (this.#timer || intervalMs <= 0 || this.routes.size === 0) return;
    this.#timer = setInterval(() => {
      if (this.#round) return;
      this.#round = this.drain()
        .catch((err: Error) => this.o.log?.error({ err: { message: err.message } }, 'delivery round failed'))
        .finally(() => {
          this.#round = undefined;
        });
    }, intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer, waits for a running round and closes the providers. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#round;
    for (const p of new Set(this.routes.values())) await p.close?.();
  }

  async #deliver(m: ClaimedMessage): Promise<'sent' | 'retried' | 'failed'> {
    const provider = this.routes.get(m.channel as Channel);
    const base = { id: m.id, attempt: m.attempt, provider: provider?.name ?? 'none' };
    const logFields = { messageId: m.id, channel: m.channel, provider: base.provider, attempt: m.attempt };
    if (m.expiresAt && m.expiresAt <= this.#clock()) {
      // a code nobody can use any more: never sent late, and no provider is called
      await this.#finish(m, { ...base, outcome: 'failed', error: 'expired', now: this.#clock() });
      this.o.log?.warn({ ...logFields, reason: 'expired' }, 'message expired before it could be sent');
      return 'failed';
    }
    let failure: DeliveryError;
    try {
      if (!provider) throw new DeliveryError('permanent', `no provider for channel ${m.channel}`);
      const { providerMessageId } = await provider.send({ id: m.id, channel: m.channel as Channel, recipient: m.recipient, subject: m.subject, body: m.body, locale: m.locale });
      await this.#finish(m, { ...base, outcome: 'sent', providerMessageId, now: this.#clock() });
      this.o.log?.info(logFields, 'message sent');
      return 'sent';
    } catch (err) {
      failure = toDeliveryError(err);
    }
    const reason = safeReason(failure.message, m);
    const now = this.#clock();
    const delay = retryDelayMs(m.attempt, this.o.baseDelayMs, this.o.maxDelayMs);
    const expiresFirst = m.expiresAt !== null && m.expiresAt.getTime() <= now.getTime() + delay;
    const canRetry = failure.kind === 'retryable' && m.attempt < (this.o.maxAttempts ?? 10);
    if (canRetry && !expiresFirst) {
      await this.#finish(m, { ...base, outcome: 'retry', error: reason, nextAttemptAt: new Date(now.getTime() + delay), now });
      this.o.log?.warn({ ...logFields, reason, retryInMs: delay }, 'message delivery failed; will retry');
      return 'retried';
    }
    const final = canRetry ? `expired: ${reason}` : reason; // a retry would come too late
    await this.#finish(m, { ...base, outcome: 'failed', error: final, now });
    this.o.log?.error({ ...logFields, reason: final }, 'message delivery failed permanently');
    return 'failed';
  }

  async #finish(m: ClaimedMessage, a: Parameters<OutboxRepo['finish']>[0]): Promise<void> {
    try {
      const held = await this.o.outbox.finish(a);
      if (!held) this.o.log?.warn({ messageId: m.id, attempt: m.attempt }, 'delivery lease expired before the outcome was recorded');
    } catch (err) {
      this.o.log?.error({ messageId: m.id, err: { message: (err as Error).message } }, 'recording a delivery outcome failed');
    }
  }
}
