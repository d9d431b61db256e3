import { type Kysely, type Migration, sql } from 'kysely';

/**
 * The KPI roll-up reads one day of events by type and one day of succeeded steps by action: indexes so
 * a day costs its own rows, not a scan of the whole (possibly million-row) tables.
 */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await sql`create index events_type_occurred on events (type, occurred_at)`.execute(db);
    await sql`create index step_runs_action_finished on step_runs (action, finished_at) where status = 'succeeded'`.execute(db);
  },
};
