import { type Kysely, type Migration, sql } from 'kysely';

/**
 * The people directory: one row per person, and their identities in each service as rows of
 * (service, kind, value) — e.g. ('dingtalk', 'userId', 'u123') — so core never names a provider and a
 * lookup by any identity is one indexed query; the primary key keeps one identity on one person.
 */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('people')
      .addColumn('id', 'text', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()::text`))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('email', 'text')
      .addColumn('mobile', 'text')
      .addColumn('department', 'text')
      .addColumn('title', 'text')
      .addColumn('manager_id', 'text', (c) => c.references('people.id').onDelete('set null'))
      .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
      .addColumn('sources', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    await sql`create unique index people_email on people (lower(email)) where email is not null`.execute(db);
    await db.schema.createIndex('people_mobile').on('people').column('mobile').execute();
    await db.schema.createIndex('people_department').on('people').column('department').execute();

    await db.schema
      .createTable('person_identities')
      .addColumn('person_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
      .addColumn('service', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint('person_identities_pk', ['service', 'kind', 'value'])
      .addUniqueConstraint('person_identities_one', ['person_id', 'service', 'kind'])
      .execute();
  },
};
