import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Access tokens a connection obtains on behalf of someone else (a service account acting as each person
 * by domain-wide delegation): one sealed token per connection and subject, with its expiry, so every
 * process reuses it instead of asking the provider again.
 */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('delegated_tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('connection_id', 'text', (c) => c.notNull().references('connections.id').onDelete('cascade'))
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('token', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
  },
};
