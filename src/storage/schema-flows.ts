/** Kysely table type of the one flow record (migrations/0007_flow_engine.sql). */
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface FlowsTable {
  id: string;
  tenant_id: string;
  kind: 'signin' | 'reauth' | 'verification' | 'enrollment';
  subject_type: 'user' | 'customer' | null;
  subject_id: string | null;
  identifier: string | null;
  secret_hash: Buffer | null;
  state: string;
  awaiting: string | null;
  required_level: string;
  requested_level: string | null;
  completed_methods: Generated<string[]>;
  attempts_initial: number;
  attempts_left: number;
  /** Attempts claimed and not yet judged (migrations/0011_flow_in_flight.sql). */
  in_flight: Generated<number>;
  in_flight_at: Timestamp | null;
  ceremony: Json<Record<string, Record<string, unknown>>>;
  context: Json<Record<string, unknown>>;
  interaction_id: string | null;
  caller_ani: string | null;
  result_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  expires_at: Timestamp;
  completed_at: Timestamp | null;
}

export interface FlowTables {
  flows: FlowsTable;
}
