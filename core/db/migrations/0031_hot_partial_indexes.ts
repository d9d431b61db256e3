import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Indexes on the hot tables that cover only the rows their queries look for, so intake and every step
 * write touch fewer, smaller indexes however long the history grows (issue 19: a month of history
 * slowed intake). A step row is written three times (pending, running, succeeded) and each write is a
 * new row version in every index whose predicate holds; a finished step stays in none of these.
 *
 * - events (status, received_at) → (received_at) where status = 'received': only the sweep asks
 *   for undispatched events; intake stores events already dispatched.
 * - step_runs (status, updated_at) → (updated_at) over unfinished steps: the sweep's question.
 * - step_runs (connection_id, status) → where connection_id is not null (set only when a step failed
 *   on a connection; re-authorisation resumes those).
 * - step_runs (pace_key, status) → where pace_key is not null (paced actions only).
 */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await sql`drop index if exists events_status_received`.execute(db);
    await sql`create index events_undispatched on events (received_at) where status = 'received'`.execute(db);
    await sql`drop index if exists step_runs_status_updated`.execute(db);
    await sql`create index step_runs_unfinished_updated on step_runs (updated_at) where status in ('pending', 'retrying', 'running')`.execute(
      db,
    );
    await sql`drop index if exists step_runs_connection_status`.execute(db);
    await sql`create index step_runs_connection_status on step_runs (connection_id, status) where connection_id is not null`.execute(db);
    await sql`drop index if exists step_runs_pace_key`.execute(db);
    await sql`create index step_runs_pace_key on step_runs (pace_key, status) where pace_key is not null`.execute(db);
  },
  async down(db: Kysely<any>) {
    await sql`drop index if exists events_undispatched`.execute(db);
    await sql`create index if not exists events_status_received on events (status, received_at)`.execute(db);
    await sql`drop index if exists step_runs_unfinished_updated`.execute(db);
    await sql`create index if not exists step_runs_status_updated on step_runs (status, updated_at)`.execute(db);
    await sql`drop index if exists step_runs_connection_status`.execute(db);
    await sql`create index step_runs_connection_status on step_runs (connection_id, status)`.execute(db);
    await sql`drop index if exists step_runs_pace_key`.execute(db);
    await sql`create index step_runs_pace_key on step_runs (pace_key, status)`.execute(db);
  },
};
