import { type Kysely, type Migration, sql } from 'kysely';

/** Cross-service links (a Trello card ↔ a DingTalk conversation) and the hub's own changes (to drop their echoes). */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('links')
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('a_kind', 'text', (c) => c.notNull())
      .addColumn('a_id', 'text', (c) => c.notNull())
      .addColumn('b_kind', 'text', (c) => c.notNull())
      .addColumn('b_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addUniqueConstraint('links_pair', ['a_kind', 'a_id', 'b_kind', 'b_id'])
      .execute();
    await db.schema.createIndex('links_b').on('links').columns(['b_kind', 'b_id']).execute();

    await db.schema
      .createTable('own_changes')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
      /** A one-shot key (recorded before the provider call, when the object's id is not known yet) matches one echo only. */
      .addColumn('once', 'boolean', (c) => c.notNull().defaultTo(false))
      .execute();

    await db.schema.alterTable('events').addColumn('refs', 'jsonb').execute();
  },
};
