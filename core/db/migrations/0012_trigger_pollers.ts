import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Polling triggers: one row per poller (trigger, connection, params) with its cursor and health, and
 * the items it last saw (id + version), against which a full resync reconciles deletions and changes.
 */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('trigger_pollers')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('connection_id', 'text', (c) => c.notNull().references('connections.id').onDelete('cascade'))
      .addColumn('trigger_id', 'text', (c) => c.notNull())
      .addColumn('params', 'jsonb', (c) => c.notNull())
      .addColumn('cursor', 'text')
      .addColumn('cursor_at', 'timestamptz')
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
      .addColumn('interval_ms', 'integer', (c) => c.notNull())
      .addColumn('next_run_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('last_poll_at', 'timestamptz')
      .addColumn('last_event_at', 'timestamptz')
      .addColumn('last_resync_at', 'timestamptz')
      .addColumn('last_error', 'text')
      .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    // "Poll now" / "resync" requests apart from the poller's row, which a running poll holds locked:
    // a request (e.g. from a push notification) never waits for the poll.
    await db.schema
      .createTable('trigger_poll_requests')
      .addColumn('poller_id', 'text', (c) => c.primaryKey().references('trigger_pollers.id').onDelete('cascade'))
      .addColumn('requested_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('resync', 'boolean', (c) => c.notNull().defaultTo(false))
      .execute();
    await db.schema
      .createTable('trigger_poll_items')
      .addColumn('poller_id', 'text', (c) => c.notNull().references('trigger_pollers.id').onDelete('cascade'))
      .addColumn('item_id', 'text', (c) => c.notNull())
      .addColumn('version', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('trigger_poll_items_pk', ['poller_id', 'item_id'])
      .execute();
  },
};
