import { type Kysely, type Migration, sql } from 'kysely';

/** The last fired slot of a schedule (its events' source), read at every firing. */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await sql`create index events_schedule_slots on events (source, occurred_at) where type = 'schedule.fired'`.execute(db);
  },
};
