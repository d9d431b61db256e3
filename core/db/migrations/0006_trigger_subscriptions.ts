import { type Kysely, type Migration, sql } from 'kysely';

/** What the hub registered with providers for its flows (e.g. a Trello webhook per board). */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('trigger_subscriptions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('connection_id', 'text', (c) => c.notNull().references('connections.id').onDelete('cascade'))
      .addColumn('trigger_id', 'text', (c) => c.notNull())
      .addColumn('params', 'jsonb', (c) => c.notNull())
      .addColumn('external_id', 'text')
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
      .addColumn('last_error', 'text')
      .addColumn('checked_at', 'timestamptz')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
  },
};
