/** The outbox: every outgoing message is a row first; providers (and the dev reader) take it from here. */
import type { Db } from '../db.js';

export interface OutboxMessage {
  id: string;
  tenantId: string;
  channel: 'email' | 'sms' | 'voice';
  recipient: string;
  template: string;
  subject: string;
  body: string;
  now: Date;
}

export class OutboxRepo {
  constructor(private readonly db: Db) {}

  async add(m: OutboxMessage): Promise<void> {
    await this.db
      .insertInto('outbox')
      .values({ id: m.id, tenant_id: m.tenantId, channel: m.channel, recipient: m.recipient, template: m.template, subject: m.subject, body: m.body, created_at: m.now })
      .execute();
  }

  list(opts: { tenantId?: string; recipient?: string; limit?: number }) {
    let q = this.db.selectFrom('outbox').selectAll().orderBy('created_at', 'desc').limit(opts.limit ?? 50);
    if (opts.tenantId) q = q.where('tenant_id', '=', opts.tenantId);
    if (opts.recipient) q = q.where('recipient', '=', opts.recipient);
    return q.execute();
  }
}
