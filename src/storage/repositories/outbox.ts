/**
 * The outbox: every outgoing message is a row first; the delivery worker (src/delivery/worker.ts) and,
 * in dev mode, the outbox reader take it from here. A worker claims due rows with FOR UPDATE SKIP
 * LOCKED and leases them (next_attempt_at moved past the send, attempts + 1) in one statement, so
 * concurrent workers never claim the same row; it then records the outcome of its attempt.
 *
 * Secrets at rest: a message's subject and body (a one-time code, a setup link) are sealed with
 * AES-256-GCM under the service key (associated data: the message id) in `sealed`, and the plain
 * columns hold a placeholder. The worker opens them to send; once the message is sent, failed for
 * good or expired, the sealed copy is dropped (redacted) so no code or link stays in the database.
 * `outboxValues` builds the row to insert (for writers that insert inside their own statements).
 *
 * The key: a repository built with an `Aead` uses it; otherwise the key bound to its database with
 * `bindOutboxSealing` (the app, the CLI and the delivery setup bind the service's key; transactions
 * of that database find it too). Adding a message with no key bound is an error, never plain text.
 */
import type { Insertable, Selectable } from 'kysely';
import type { Aead } from '../../crypto/aead.js';
import type { Db } from '../db.js';
import type { OutboxTable } from '../schema.js';

/** The plain subject/body of a message whose text is sealed (waiting to be sent). */
export const SEALED_PLACEHOLDER = '(sealed until sent)';
/** The plain body of a message whose text was dropped after delivery, a permanent failure or expiry. */
export const REDACTED_PLACEHOLDER = '(redacted)';

const aadFor = (id: string) => `outbox:${id}`;
const redacted = { subject: '', body: REDACTED_PLACEHOLDER, sealed: null } as const;

/** Sealing keys bound to databases, by the database's Kysely adapter (shared by its transactions). */
const boundKeys = new WeakMap<object, Aead>();
const databaseOf = (db: Db): object => db.getExecutor().adapter;

/** Binds the key that seals outbox messages on this database (call with the service's `aead`). */
export function bindOutboxSealing(db: Db, aead: Aead): void {
  boundKeys.set(databaseOf(db), aead);
}

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

/** The row to insert for a message: its subject and body sealed, placeholders in the plain columns. A pure function. */
export function outboxValues(m: OutboxMessage, aead: Aead): Insertable<OutboxTable> {
  return {
    id: m.id, tenant_id: m.tenantId, channel: m.channel, recipient: m.recipient, template: m.template,
    subject: '', body: SEALED_PLACEHOLDER, sealed: aead.seal(Buffer.from(JSON.stringify({ subject: m.subject, body: m.body })), aadFor(m.id)),
    created_at: m.now, next_attempt_at: m.now, expires_at: m.expiresAt ?? null, ...(m.locale ? { locale: m.locale } : {}),
  };
}

/** The text of a row: opened from `sealed` when it is still held (and the key opens it), else the plain columns. */
export function openOutboxText(row: { id: string; subject: string; body: string; sealed: Buffer | null }, aead: Aead | undefined): { subject: string; body: string } {
  if (!row.sealed || !aead) return { subject: row.subject, body: row.body };
  const text = JSON.parse(aead.open(row.sealed, aadFor(row.id)).toString('utf8')) as { subject: string; body: string };
  return { subject: text.subject, body: text.body };
}

/** A listed message; `sealed`: its text is still held (sealed), i.e. not yet sent, failed or expired. */
export type ListedMessage = Omit<Selectable<OutboxTable>, 'sealed'> & { sealed: boolean };

export class OutboxRepo {
  constructor(
    private readonly db: Db,
    private readonly aead?: Aead,
  ) {}

  /** The sealing key: this repository's, or the one bound to its database. */
  #key(): Aead | undefined {
    return this.aead ?? boundKeys.get(databaseOf(this.db));
  }

  #sealer(): Aead {
    const key = this.#key();
    if (!key) throw new Error('outbox: no sealing key for this database (bindOutboxSealing); messages are never stored in plain text');
    return key;
  }

  async add(m: OutboxMessage): Promise<void> {
    await this.db.insertInto('outbox').values(outboxValues(m, this.#sealer())).execute();
  }

  /**
   * Messages, newest first. `reveal` (default true: the dev outbox, tests) opens the text of messages
   * not yet sent; with `reveal: false` (production listings) they show the sealed placeholder.
   */
  async list(opts: { tenantId?: string; recipient?: string; limit?: number; reveal?: boolean }): Promise<ListedMessage[]> {
    let q = this.db.selectFrom('outbox').selectAll().orderBy('created_at', 'desc').limit(opts.limit ?? 50);
    if (opts.tenantId) q = q.where('tenant_id', '=', opts.tenantId);
    if (opts.recipient) q = q.where('recipient', '=', opts.recipient);
    const key = opts.reveal === false ? undefined : this.#key();
    const text = (r: Selectable<OutboxTable>) => {
      try {
        return openOutboxText(r, key);
      } catch {
        return { subject: r.subject, body: r.body }; // sealed under another key: the placeholder
      }
    };
    return (await q.execute()).map(({ sealed, ...r }) => ({ ...r, ...text({ ...r, sealed }), sealed: sealed !== null }));
  }

  /** Drops the sealed text of messages past their expiry that were never sent; returns how many. */
  async redactExpired(now: Date): Promise<number> {
    const r = await this.db.updateTable('outbox').set(redacted).where('sealed', 'is not', null).where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numUpdatedRows);
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
      .returning(['outbox.id', 'outbox.tenant_id', 'outbox.channel', 'outbox.recipient', 'outbox.subject', 'outbox.body', 'outbox.sealed', 'outbox.locale', 'outbox.attempts', 'outbox.expires_at'])
      .execute();
    const key = rows.some((r) => r.sealed) ? this.#sealer() : undefined;
    return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id, channel: r.channel, recipient: r.recipient, ...openOutboxText(r, key), locale: r.locale, attempt: r.attempts, expiresAt: r.expires_at }));
  }

  /**
   * Records an attempt (always) and applies its outcome to the message, but only while this attempt
   * still holds it (same attempt number, still pending). Returns false when the lease had been lost.
   * Sent and failed messages lose their text (redacted); a retry keeps it sealed.
   */
  async finish(a: AttemptOutcome): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('delivery_events')
        .values({ message_id: a.id, attempt: a.attempt, provider: a.provider, outcome: a.outcome, provider_message_id: a.providerMessageId ?? null, error: a.error ?? null, occurred_at: a.now })
        .execute();
      const change =
        a.outcome === 'sent'
          ? { status: 'sent' as const, sent_at: a.now, provider_message_id: a.providerMessageId ?? null, last_error: null, ...redacted }
          : a.outcome === 'retry'
            ? { next_attempt_at: a.nextAttemptAt ?? a.now, last_error: a.error ?? null }
            : { status: 'failed' as const, last_error: a.error ?? null, ...redacted };
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
