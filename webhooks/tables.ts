import type { ColumnType, Generated, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

/** Tables of migration 0003 (api_keys is in config/api-keys.ts): REST-hook subscriptions and deliveries, catch hooks from the admin API. */
export type SubscriptionStatus = 'active' | 'disabled';
export interface HookSubscriptionsTable {
  id: string;
  target_url: string;
  events: Json<string[]>;
  filter: string | null;
  description: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: Timestamp | null;
  status: Generated<SubscriptionStatus>;
  disabled_reason: string | null;
  rate_limit: number;
  max_concurrency: number;
  rl_next_at: Timestamp | null;
  failing_since: Timestamp | null;
  created_by: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type DeliveryStatus = 'pending' | 'running' | 'retrying' | 'succeeded' | 'dead';
export interface HookDeliveriesTable {
  id: string;
  subscription_id: string;
  event_id: string;
  event_type: string;
  status: Generated<DeliveryStatus>;
  attempts: Generated<number>;
  attempt_base: Generated<number>;
  max_attempts: number;
  deferrals: Generated<number>;
  slot_at: Timestamp | null;
  parked: Generated<boolean>;
  next_attempt_at: Timestamp | null;
  lease_until: Timestamp | null;
  last_status: number | null;
  last_error: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  finished_at: Timestamp | null;
}

export interface HookDeliveryAttemptsTable {
  id: Generated<string>;
  delivery_id: string;
  attempt: number;
  started_at: Timestamp;
  duration_ms: number;
  status_code: number | null;
  outcome: 'succeeded' | 'failed';
  error: string | null;
  response: string | null;
}

export interface CatchHookVerifyStored {
  type: 'none' | 'token' | 'hmac' | 'hmac_timestamped' | 'standard_webhooks';
  header?: string;
  timestamp_header?: string;
  encoding?: 'hex' | 'base64';
  replay_window_seconds?: number;
  tolerance_seconds?: number;
}
export interface CatchHooksTable {
  id: string;
  name: string | null;
  verify: Json<CatchHookVerifyStored>;
  secret: string | null;
  id_field: string | null;
  max_body_bytes: number | null;
  response: ColumnType<{ status: number; body?: unknown } | null, string | null, string | null>;
  created_by: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

declare module '../core/db/schema.ts' {
  interface Database {
    hook_subscriptions: HookSubscriptionsTable;
    hook_deliveries: HookDeliveriesTable;
    hook_delivery_attempts: HookDeliveryAttemptsTable;
    catch_hooks: CatchHooksTable;
  }
}

export type SubscriptionRow = Selectable<HookSubscriptionsTable>;
export type DeliveryRow = Selectable<HookDeliveriesTable>;
export type CatchHookRow = Selectable<CatchHooksTable>;
