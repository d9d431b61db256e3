import type { Migration } from 'kysely';
import { migration as m0001 } from './0001_events_and_steps.ts';
import { migration as m0002 } from './0002_vault_and_connections.ts';
import { migration as m0003 } from './0003_webhooks_and_api_keys.ts';
import { migration as m0004 } from './0004_accounts_audit_flows.ts';
import { migration as m0005 } from './0005_step_pacing.ts';
import { migration as m0006 } from './0006_trigger_subscriptions.ts';
import { migration as m0007 } from './0007_links_and_echoes.ts';
import { migration as m0008 } from './0008_totp_last_step.ts';
import { migration as m0009 } from './0009_flow_secrets.ts';
import { migration as m0010 } from './0010_security_access.ts';
import { migration as m0011 } from './0011_security_replay.ts';
import { migration as m0012 } from './0012_trigger_pollers.ts';
import { migration as m0013 } from './0013_subscriptions_v2.ts';
import { migration as m0014 } from './0014_files.ts';
import { migration as m0015 } from './0015_provider_apps.ts';
import { migration as m0016 } from './0016_schedule_slots.ts';
import { migration as m0017 } from './0017_people.ts';
import { migration as m0019 } from './0019_kpi_daily.ts';
import { migration as m0020 } from './0020_step_queue.ts';
import { migration as m0025 } from './0025_calendar_sync.ts';
import { migration as m0026 } from './0026_delegated_tokens.ts';
import { migration as m0027 } from './0027_kpi_fact_indexes.ts';
import { migration as m0028 } from './0028_calendar_sync_push_recipes.ts';
import { migration as m0029 } from './0029_calendar_sync_copies.ts';
import { migration as m0031 } from './0031_hot_partial_indexes.ts';

/**
 * Versioned migrations, applied in name order; one file each. Never edit a released one: add the
 * next file and its line here.
 */
export const migrations: Record<string, Migration> = {
  '0001_events_and_steps': m0001,
  '0002_vault_and_connections': m0002,
  '0003_webhooks_and_api_keys': m0003,
  '0004_accounts_audit_flows': m0004,
  '0005_step_pacing': m0005,
  '0006_trigger_subscriptions': m0006,
  '0007_links_and_echoes': m0007,
  '0008_totp_last_step': m0008,
  '0009_flow_secrets': m0009,
  '0010_security_access': m0010,
  '0011_security_replay': m0011,
  '0012_trigger_pollers': m0012,
  '0013_subscriptions_v2': m0013,
  '0014_files': m0014,
  '0015_provider_apps': m0015,
  '0016_schedule_slots': m0016,
  '0017_people': m0017,
  '0019_kpi_daily': m0019,
  '0020_step_queue': m0020,
  '0025_calendar_sync': m0025,
  '0026_delegated_tokens': m0026,
  '0027_kpi_fact_indexes': m0027,
  '0028_calendar_sync_push_recipes': m0028,
  '0029_calendar_sync_copies': m0029,
  '0031_hot_partial_indexes': m0031,
};
