import { type Kysely, type Migration, sql } from 'kysely';

/** API keys, REST-hook subscriptions and their deliveries, and catch hooks created through the admin API. */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('api_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('label', 'text', (c) => c.notNull())
      /** sha256 of the whole key (the key itself is shown once and never stored). */
      .addColumn('key_hash', 'text', (c) => c.notNull().unique())
      /** The key's first characters, to recognise it in a list. */
      .addColumn('prefix', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull().defaultTo('admin'))
      .addColumn('scopes', 'jsonb', (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('expires_at', 'timestamptz')
      .addColumn('last_used_at', 'timestamptz')
      .addColumn('revoked_at', 'timestamptz')
      .execute();

    await db.schema
      .createTable('hook_subscriptions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('target_url', 'text', (c) => c.notNull())
      .addColumn('events', 'jsonb', (c) => c.notNull())
      .addColumn('filter', 'text')
      .addColumn('description', 'text')
      /** Sealed whsec_ secret; during a rotation the previous one signs too until previous_secret_until. */
      .addColumn('secret', 'text', (c) => c.notNull())
      .addColumn('previous_secret', 'text')
      .addColumn('previous_secret_until', 'timestamptz')
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
      .addColumn('disabled_reason', 'text')
      .addColumn('rate_limit', 'double precision', (c) => c.notNull())
      .addColumn('max_concurrency', 'integer', (c) => c.notNull())
      /** The rate limiter's next free slot (a GCRA "theoretical arrival time"). */
      .addColumn('rl_next_at', 'timestamptz')
      .addColumn('failing_since', 'timestamptz')
      .addColumn('created_by', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();

    await db.schema
      .createTable('hook_deliveries')
      /** The webhook-id: stable per event × subscription. */
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('subscription_id', 'text', (c) => c.notNull().references('hook_subscriptions.id').onDelete('cascade'))
      .addColumn('event_id', 'text', (c) => c.notNull().references('events.id').onDelete('cascade'))
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('attempt_base', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      /** Times the delivery waited for its subscription's rate limit or concurrency cap. */
      .addColumn('deferrals', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('slot_at', 'timestamptz')
      /** Waiting for a free place under the subscription's concurrency cap; a finishing delivery hands its place on. */
      .addColumn('parked', 'boolean', (c) => c.notNull().defaultTo(false))
      .addColumn('next_attempt_at', 'timestamptz')
      .addColumn('lease_until', 'timestamptz')
      .addColumn('last_status', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('finished_at', 'timestamptz')
      .execute();
    await db.schema.createIndex('hook_deliveries_sub_status').on('hook_deliveries').columns(['subscription_id', 'status']).execute();
    await db.schema.createIndex('hook_deliveries_status_updated').on('hook_deliveries').columns(['status', 'updated_at']).execute();
    await db.schema.createIndex('hook_deliveries_sub_created').on('hook_deliveries').columns(['subscription_id', 'created_at']).execute();
    await db.schema.createIndex('hook_deliveries_event').on('hook_deliveries').column('event_id').execute();
    await sql`create index hook_deliveries_parked on hook_deliveries (subscription_id, created_at) where parked`.execute(db);

    await db.schema
      .createTable('hook_delivery_attempts')
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('delivery_id', 'text', (c) => c.notNull().references('hook_deliveries.id').onDelete('cascade'))
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('started_at', 'timestamptz', (c) => c.notNull())
      .addColumn('duration_ms', 'integer', (c) => c.notNull())
      .addColumn('status_code', 'integer')
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('error', 'text')
      .addColumn('response', 'text')
      .addUniqueConstraint('hook_delivery_attempts_run_attempt', ['delivery_id', 'attempt'])
      .execute();

    await db.schema
      .createTable('catch_hooks')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text')
      /** How senders are verified, without the secret: {type, header?, encoding?}. */
      .addColumn('verify', 'jsonb', (c) => c.notNull())
      .addColumn('secret', 'text')
      .addColumn('id_field', 'text')
      .addColumn('max_body_bytes', 'integer')
      .addColumn('response', 'jsonb')
      .addColumn('created_by', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
  },
};
