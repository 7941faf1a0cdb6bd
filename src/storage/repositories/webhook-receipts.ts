/**
 * Webhook receipts: at-most-once handling of a webhook delivery. The first delivery of a key claims
 * it (INSERT ... ON CONFLICT DO NOTHING, one statement, atomic on every instance) and stores its
 * answer when done; a repeated delivery finds the claim and gets that answer. A claim whose handling
 * failed is released, so the provider's next retry is handled afresh.
 */
import type { Db } from '../db.js';

export class WebhookReceiptRepo {
  constructor(private readonly db: Db) {}

  /** True when this call claimed the key (no delivery with it was seen before). */
  async claim(key: string, tenantId: string, now: Date): Promise<boolean> {
    const row = await this.db
      .insertInto('webhook_receipts')
      .values({ key, tenant_id: tenantId, response: null, created_at: now })
      .onConflict((oc) => oc.column('key').doNothing())
      .returning('key')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Stores the answer of the claimed delivery. */
  async complete(key: string, response: string): Promise<void> {
    await this.db.updateTable('webhook_receipts').set({ response }).where('key', '=', key).execute();
  }

  /** Releases a claim whose handling failed (only while it has no answer). */
  async release(key: string): Promise<void> {
    await this.db.deleteFrom('webhook_receipts').where('key', '=', key).where('response', 'is', null).execute();
  }

  /** The stored answer: undefined when the key is unknown, null while the first delivery is still being handled. */
  async response(key: string): Promise<string | null | undefined> {
    const row = await this.db.selectFrom('webhook_receipts').select('response').where('key', '=', key).executeTakeFirst();
    return row ? row.response : undefined;
  }

  /** Removes receipts created before `before`; returns how many. */
  async purge(before: Date): Promise<number> {
    const r = await this.db.deleteFrom('webhook_receipts').where('created_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
