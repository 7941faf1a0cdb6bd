/** Kysely table types for message templates; they mirror migrations/0005_customer_factors.sql (its customer_factors table moved to credentials, schema-credentials.ts). */
import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface MessageTemplatesTable {
  tenant_id: string;
  template: string;
  locale: string;
  channel: 'sms' | 'voice' | 'email';
  subject: string;
  body: string;
  updated_at: Timestamp;
  updated_by: string | null;
}

export interface CustomerFactorTables {
  message_templates: MessageTemplatesTable;
}
