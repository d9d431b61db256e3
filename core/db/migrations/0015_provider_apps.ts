import { type Kysely, type Migration, sql } from 'kysely';

/** Provider apps (client id/secret, webhook verifier token, environment), apart from the connections that use them. */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('provider_apps')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('connector_id', 'text', (c) => c.notNull())
      .addColumn('label', 'text', (c) => c.notNull())
      .addColumn('environment', 'text', (c) => c.notNull().defaultTo('production'))
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('settings', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
      .addColumn('secrets', 'text')
      .addColumn('origin', 'text', (c) => c.notNull().defaultTo('api'))
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    await db.schema
      .alterTable('connections')
      .addColumn('app_id', 'text', (c) => c.references('provider_apps.id').onDelete('restrict'))
      .execute();
    await db.schema.createIndex('connections_app_idx').on('connections').column('app_id').execute();
  },
};
