/**
 * The outbox: every outgoing message is a row first; the delivery worker (src/delivery/worker.ts) and,
 * in dev mode, the outbox reader take it from here. A worker claims due rows with FOR UPDATE SKIP
 * LOCKED and leases them (next_attempt_at moved past the send, attempts + 1) in one statement, so
 * concurrent workers never claim the same row; it then records the outcome of its attempt.
 */
import type { Insertable } from 'kysely';
import type { Aead } from '../../crypto/aead.js';
import type { Db } from '../db.js';
import type { OutboxTable } from '../schema.js';

export interface OutboxMessage {
  id: string;
  tenantId: string;
  channel: 'email' | 'sms' | 'voice';
  recipient: string;
  template: string;
  subject: string;
  body: string;
  locale?: string;
  /** When the message stops being worth sending (a one-time code's expiry); the worker fails it after. */
  expiresAt?: Date | null;
  now: Date;
}

/** A row taken by a worker; `attempt` is the number of this attempt (1 for the first). */
export interface ClaimedMessage {
  id: string;
  tenantId: string;
  channel: string;
  recipient: string;
  subject: string;
  body: string;
  locale: string;
  attempt: number;
  expiresAt: Date | null;
}

export interface AttemptOutcome {
  id: string;
  attempt: number;
  provider: string;
  outcome: 'sent' | 'retry' | 'failed';
  providerMessageId?: string;
  /** Short reason without the message body (see src/delivery/provider.ts). */
  error?: string;
  /** For 'retry': when the message is due again. */
  nextAttemptAt?: Date;
  now: Date;
}

/**
 * The outbox row of a message: what `add` inserts, and what statements that write a message with
 * other rows (a flow's code and its event, src/flows/verification-codes.ts) insert. `aead` seals what
 * must not rest in plain text.
 */
export function outboxValues(m: OutboxMessage, _aead?: Aead): Insertable<OutboxTable> {
  return {
    id: m.id, tenant_id: m.tenantId, channel: m.channel, recipient: m.recipient, template: m.template, subject: m.subject, body: m.body,
    created_at: m.now, next_attempt_at: m.now, expires_at: m.expiresAt ?? null, locale: m.locale ?? 'en',
  };
}

export class OutboxRepo {
  constructor(private readonly db: Db) {}

  async add(m: OutboxMessage): Promise<void> {
    await this.db.insertInto('outbox').values(outboxValues(m)).execute();
  }

  list(opts: { tenantId?: string; recipient?: string; limit?: number }) {
    let q = this.db.selectFrom('outbox').selectAll().orderBy('created_at', 'desc').limit(opts.limit ?? 50);
    if (opts.tenantId) q = q.where('tenant_id', '=', opts.tenantId);
    if (opts.recipient) q = q.where('recipient', '=', opts.recipient);
    return q.execute();
  }

  /** Claims up to `limit` pending messages of the given channels due at `now`, leased until now + leaseMs. */
  async claimDue(o: { channels: readonly string[]; now: Date; leaseMs: number; limit: number }): Promise<ClaimedMessage[]> {
    if (o.channels.length === 0) return [];
    const rows = await this.db
      .with('due', (db) =>
        db
          .selectFrom('outbox')
          .select('id')
          .where('status', '=', 'pending')
          .where('next_attempt_at', '<=', o.now)
          .where('channel', 'in', [...o.channels])
          .orderBy('next_attempt_at')
          .limit(o.limit)
          .forUpdate()
          .skipLocked(),
      )
      .updateTable('outbox')
      .from('due')
      .set((eb) => ({ attempts: eb('outbox.attempts', '+', 1), next_attempt_at: new Date(o.now.getTime() + o.leaseMs) }))
      .whereRef('outbox.id', '=', 'due.id')
      .returning(['outbox.id', 'outbox.tenant_id', 'outbox.channel', 'outbox.recipient', 'outbox.subject', 'outbox.body', 'outbox.locale', 'outbox.attempts', 'outbox.expires_at'])
      .execute();
    return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id, channel: r.channel, recipient: r.recipient, subject: r.subject, body: r.body, locale: r.locale, attempt: r.attempts, expiresAt: r.expires_at }));
  }

  /**
   * Records an attempt (always) and applies its outcome to the message, but only while this attempt
   * still holds it (same attempt number, still pending). Returns false when the lease had been lost.
   */
  async finish(a: AttemptOutcome): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('delivery_events')
        .values({ message_id: a.id, attempt: a.attempt, provider: a.provider, outcome: a.outcome, provider_message_id: a.providerMessageId ?? null, error: a.error ?? null, occurred_at: a.now })
        .execute();
      const change =
        a.outcome === 'sent'
          ? { status: 'sent' as const, sent_at: a.now, provider_message_id: a.providerMessageId ?? null, last_error: null }
          : a.outcome === 'retry'
            ? { next_attempt_at: a.nextAttemptAt ?? a.now, last_error: a.error ?? null }
            : { status: 'failed' as const, last_error: a.error ?? null };
      const r = await trx
        .updateTable('outbox')
        .set({ ...change, provider: a.provider })
        .where('id', '=', a.id)
        .where('attempts', '=', a.attempt)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    });
  }

  /** The recorded attempts of one message, oldest first. */
  events(messageId: string) {
    return this.db.selectFrom('delivery_events').selectAll().where('message_id', '=', messageId).orderBy('id').execute();
  }

  get(id: string) {
    return this.db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
  }
}
