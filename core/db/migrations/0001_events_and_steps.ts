import { type Kysely, type Migration, sql } from 'kysely';

/** Events, their step runs and every attempt. */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('connection_id', 'text')
      .addColumn('subject', 'text')
      .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
      .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('data', 'jsonb', (c) => c.notNull())
      .addColumn('raw', 'jsonb')
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('received'))
      .addColumn('flows_matched', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('dispatched_at', 'timestamptz')
      .execute();
    await db.schema.createIndex('events_status_received').on('events').columns(['status', 'received_at']).execute();
    await db.schema.createIndex('events_type_received').on('events').columns(['type', 'received_at']).execute();

    await db.schema
      .createTable('step_runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('event_id', 'text', (c) => c.notNull().references('events.id').onDelete('cascade'))
      .addColumn('flow_id', 'text', (c) => c.notNull())
      .addColumn('step_index', 'integer', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('attempt_base', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('next_attempt_at', 'timestamptz')
      .addColumn('lease_until', 'timestamptz')
      .addColumn('last_error', 'text')
      .addColumn('error_class', 'text')
      .addColumn('output', 'jsonb')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('finished_at', 'timestamptz')
      .execute();
    await db.schema.createIndex('step_runs_event').on('step_runs').column('event_id').execute();
    await db.schema.createIndex('step_runs_status_updated').on('step_runs').columns(['status', 'updated_at']).execute();

    await db.schema
      .createTable('step_attempts')
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('step_run_id', 'text', (c) => c.notNull().references('step_runs.id').onDelete('cascade'))
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('started_at', 'timestamptz', (c) => c.notNull())
      .addColumn('finished_at', 'timestamptz')
      .addColumn('duration_ms', 'integer')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('error_class', 'text')
      .addColumn('error', 'text')
      .addColumn('request', 'jsonb')
      .addColumn('response', 'jsonb')
      .addUniqueConstraint('step_attempts_run_attempt', ['step_run_id', 'attempt'])
      .execute();
  },
};
