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
import { migration as m0016 } from './0016_schedule_slots.ts';
import { migration as m0019 } from './0019_kpi_daily.ts';

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
  '0016_schedule_slots': m0016,
  '0019_kpi_daily': m0019,
};
