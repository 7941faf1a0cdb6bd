/** Kysely table types for customer authenticators and message templates; they mirror migrations/0005_customer_factors.sql. */
import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface CustomerFactorsTable {
  id: string;
  tenant_id: string;
  customer_id: string;
  kind: string;
  label: string;
  status: 'pending' | 'active';
  secret: Buffer | null;
  created_at: Timestamp;
  confirmed_at: Timestamp | null;
  last_used_at: Timestamp | null;
}
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
  customer_factors: CustomerFactorsTable;
  message_templates: MessageTemplatesTable;
}
