import { type Kysely, type Migration, sql } from 'kysely';

/**
 * The default mode's step queue claims due step rows oldest first (core/pipeline/step-queue.ts): a
 * partial index over the unfinished rows only, so a claim reads a few index entries however long the
 * history of finished steps grows.
 */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await sql`create index if not exists step_runs_due on step_runs (created_at) where status in ('pending', 'retrying', 'running')`.execute(
      db,
    );
  },
  async down(db: Kysely<any>) {
    await sql`drop index if exists step_runs_due`.execute(db);
  },
};
