import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json = ColumnType<unknown, string, string>;

/** `echo`: the provider's report of a change the hub made itself; stored, never dispatched. */
export type EventStatus = 'received' | 'dispatched' | 'echo';
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
  refs: ColumnType<{ kind: string; id: string }[] | null, string | null | undefined, string | null>;
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
  connection_id: Generated<string | null>;
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

export type ConnectionStatus = 'active' | 'needs_reauth' | 'error' | 'disabled';

export interface ConnectionsTable {
  id: string;
  connector_id: string;
  label: string;
  auth_kind: string;
  status: Generated<ConnectionStatus>;
  settings: ColumnType<Record<string, unknown>, string | undefined, string>;
  secrets: string | null;
  scopes: ColumnType<string[], string | undefined, string>;
  expires_at: Timestamp | null;
  last_refresh_at: Timestamp | null;
  last_error: string | null;
  origin: Generated<'config' | 'api'>;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface OAuthStatesTable {
  state: string;
  connection_id: string;
  connector_id: string;
  verifier: string | null;
  return_to: string | null;
  created_at: Generated<Date>;
  used_at: Timestamp | null;
}

export interface VaultCanaryTable {
  key_id: string;
  sealed: string;
  created_at: Generated<Date>;
}

/**
 * All tables. A feature that adds tables in its own migration may add them here, or augment this
 * interface from its module (`declare module '…/core/db/schema.ts' { interface Database { … } }`).
 */
export interface Database {
  events: EventsTable;
  step_runs: StepRunsTable;
  step_attempts: StepAttemptsTable;
  connections: ConnectionsTable;
  oauth_states: OAuthStatesTable;
  vault_canary: VaultCanaryTable;
}

export type ConnectionRow = Selectable<ConnectionsTable>;

export type EventRow = Selectable<EventsTable>;
export type NewEventRow = Insertable<EventsTable>;
export type StepRunRow = Selectable<StepRunsTable>;
export type StepRunUpdate = Updateable<StepRunsTable>;
export type StepAttemptRow = Selectable<StepAttemptsTable>;
