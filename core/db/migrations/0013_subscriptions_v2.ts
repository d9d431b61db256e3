import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Subscription lifecycle v2: expiry and renewal, the provider's state (e.g. Google's resourceId), a
 * sealed per-subscription secret, and the previous registration kept after a renewal so that late
 * deliveries on it are still matched. Health columns for the Triggers page.
 */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('trigger_subscriptions')
      .addColumn('expires_at', 'timestamptz')
      .addColumn('state', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
      .addColumn('secret', 'text')
      .addColumn('previous_external_id', 'text')
      .addColumn('previous_state', 'jsonb')
      .addColumn('previous_secret', 'text')
      .addColumn('renewed_at', 'timestamptz')
      .addColumn('renew_requested', 'boolean', (c) => c.notNull().defaultTo(false))
      .addColumn('last_event_at', 'timestamptz')
      .execute();
    // Registrations replaced by a renewal, kept for a while: a delivery still in flight on one of them
    // (even after several renewals in a row) is matched to its subscription, not refused.
    await db.schema
      .createTable('trigger_subscription_retired')
      .addColumn('external_id', 'text', (c) => c.primaryKey())
      .addColumn('subscription_id', 'text', (c) => c.notNull().references('trigger_subscriptions.id').onDelete('cascade'))
      .addColumn('state', 'jsonb', (c) => c.notNull())
      .addColumn('secret', 'text')
      .addColumn('retired_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    await db.schema.createIndex('trigger_subscriptions_external').on('trigger_subscriptions').column('external_id').execute();
    await db.schema.createIndex('trigger_subscriptions_previous').on('trigger_subscriptions').column('previous_external_id').execute();
  },
};
