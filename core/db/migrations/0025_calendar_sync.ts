import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Two-way calendar sync: per person and sync, the cursors of both sides and what the Triggers page
 * shows (state); the link table (one row per pair of events, with the content hash last seen or
 * written on each side, so the hub's own writes coming back are recognised); and the conflicts, the
 * losing side's content kept.
 */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('calendar_sync_state')
      .addColumn('sync_id', 'text', (c) => c.notNull())
      .addColumn('person_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
      .addColumn('cursor_a', 'text')
      .addColumn('cursor_b', 'text')
      .addColumn('initialised', 'boolean', (c) => c.notNull().defaultTo(false))
      .addColumn('last_a_at', 'timestamptz')
      .addColumn('last_b_at', 'timestamptz')
      .addColumn('paired', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_a', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_b', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('updated_a', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('updated_b', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('deleted_a', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('deleted_b', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('echoes', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('conflicts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('standalone_exceptions', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('errors', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_error', 'text')
      .addColumn('resync_requested', 'boolean', (c) => c.notNull().defaultTo(false))
      .addColumn('lease_until', 'timestamptz')
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint('calendar_sync_state_pk', ['sync_id', 'person_id'])
      .execute();

    await db.schema
      .createTable('calendar_sync_links')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('sync_id', 'text', (c) => c.notNull())
      .addColumn('person_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
      .addColumn('a_id', 'text')
      .addColumn('b_id', 'text')
      .addColumn('a_hash', 'text')
      .addColumn('b_hash', 'text')
      .addColumn('a_guests', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn('b_guests', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn('a_series_id', 'text')
      .addColumn('a_original_start', 'text')
      .addColumn('kind', 'text', (c) => c.notNull().defaultTo('event'))
      .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('deleted', 'boolean', (c) => c.notNull().defaultTo(false))
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    await sql`create unique index calendar_sync_links_a on calendar_sync_links (sync_id, person_id, a_id) where a_id is not null`.execute(
      db,
    );
    await sql`create unique index calendar_sync_links_b on calendar_sync_links (sync_id, person_id, b_id) where b_id is not null`.execute(
      db,
    );

    await db.schema
      .createTable('calendar_sync_conflicts')
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('sync_id', 'text', (c) => c.notNull())
      .addColumn('person_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
      .addColumn('link_id', 'text', (c) => c.notNull())
      .addColumn('winner', 'text', (c) => c.notNull())
      .addColumn('winner_updated', 'text')
      .addColumn('loser_updated', 'text')
      .addColumn('winner_content', 'jsonb')
      .addColumn('loser_content', 'jsonb')
      .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    await db.schema.createIndex('calendar_sync_conflicts_person').on('calendar_sync_conflicts').columns(['sync_id', 'person_id']).execute();
  },
};
