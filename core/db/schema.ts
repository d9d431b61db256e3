import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json = ColumnType<unknown, string, string>;

export type EventStatus = 'received' | 'dispatched';
export type StepStatus = 'pending' | 'running' | 'retrying' | 'succeeded' | 'dead' | 'waiting_reauth';

export interface EventsTable {
  id: string;
  type: string;
  source: string;
  connection_id: string | null;
  subject: string | null;
  occurred_at: Timestamp;
  received_at: Generated<Date>;
  data: Json;
  raw: Json | null;
  status: Generated<EventStatus>;
  flows_matched: Generated<number>;
  dispatched_at: Timestamp | null;
}

export interface StepRunsTable {
  /** The idempotency key: event id, flow id and step index. */
  id: string;
  event_id: string;
  flow_id: string;
  step_index: number;
  action: string;
  status: Generated<StepStatus>;
  /** Attempts made in all; attempts - attempt_base is the count since the last replay. */
  attempts: Generated<number>;
  attempt_base: Generated<number>;
  max_attempts: number;
  next_attempt_at: Timestamp | null;
  lease_until: Timestamp | null;
  last_error: string | null;
  error_class: string | null;
  output: Json | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  finished_at: Timestamp | null;
}

export interface StepAttemptsTable {
  id: Generated<string>;
  step_run_id: string;
  attempt: number;
  started_at: Timestamp;
  finished_at: Timestamp | null;
  duration_ms: number | null;
  status: 'succeeded' | 'failed';
  error_class: string | null;
  error: string | null;
  request: Json | null;
  response: Json | null;
}

export interface Database {
  events: EventsTable;
  step_runs: StepRunsTable;
  step_attempts: StepAttemptsTable;
}

export type EventRow = Selectable<EventsTable>;
export type NewEventRow = Insertable<EventsTable>;
export type StepRunRow = Selectable<StepRunsTable>;
export type StepRunUpdate = Updateable<StepRunsTable>;
export type StepAttemptRow = Selectable<StepAttemptsTable>;
