import { type Kysely, type Migration, sql } from 'kysely';

/** Files between steps (core/files/store.ts): one row per file, its bytes in chunks of a few hundred KB. */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('files')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('event_id', 'text')
      .addColumn('step_run_id', 'text')
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('content_type', 'text', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('sha256', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('files_event_idx').on('files').column('event_id').execute();
    await db.schema.createIndex('files_expires_idx').on('files').column('expires_at').execute();
    await db.schema
      .createTable('file_chunks')
      .addColumn('file_id', 'text', (c) => c.notNull().references('files.id').onDelete('cascade'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('data', 'bytea', (c) => c.notNull())
      .addPrimaryKeyConstraint('file_chunks_pk', ['file_id', 'seq'])
      .execute();
  },
};
