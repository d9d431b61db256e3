import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Step pacing (core/pipeline/pacing.ts): the pace key a paced step declared, and a sliding-window log of
 * the sends made per key, so every process shares one count.
 */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('step_runs').addColumn('pace_key', 'text').execute();
    await db.schema.createIndex('step_runs_pace_key').on('step_runs').columns(['pace_key', 'status']).execute();
    await db.schema
      .createTable('pacing_sends')
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('pace_key', 'text', (c) => c.notNull())
      .addColumn('step_run_id', 'text', (c) => c.notNull())
      .addColumn('sent_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`clock_timestamp()`))
      .execute();
    await db.schema.createIndex('pacing_sends_key_time').on('pacing_sends').columns(['pace_key', 'sent_at']).execute();
  },
};
