/** Kysely table types of webhook receipts (migrations/0009_webhook_receipts.sql). */
import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** A webhook delivery claimed by its key; `response` is null while the first delivery is being handled. */
export interface WebhookReceiptsTable {
  key: string;
  tenant_id: string;
  response: string | null;
  created_at: Timestamp;
}

export interface WebhookTables {
  webhook_receipts: WebhookReceiptsTable;
}
