import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Adoption KPIs' daily facts: one row per day, metric and dimension (a process code, a meeting side, or
 * '' for none). `value` is a sum (hours of cycle time, a snapshot figure) and `n` how many things it sums,
 * so a month is a sum of rows whatever the retention of the events they came from.
 */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('kpi_daily')
      .addColumn('day', 'date', (c) => c.notNull())
      .addColumn('metric', 'text', (c) => c.notNull())
      .addColumn('dimension', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('value', 'double precision', (c) => c.notNull().defaultTo(0))
      .addColumn('n', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint('kpi_daily_pk', ['day', 'metric', 'dimension'])
      .execute();
  },
};
