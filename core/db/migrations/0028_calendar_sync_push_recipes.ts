import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Two-way calendar sync: a person's calendar changed on a side with push (a Google channel
 * notification) asks for a run of that person (`push_requested_at`, cleared when the run starts);
 * and the syncs made from the recipe gallery, kept beside the config file's (`calendar_syncs`).
 */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await sql`alter table calendar_sync_state add column push_requested_at timestamptz`.execute(db);
    await sql`create index calendar_sync_state_push on calendar_sync_state (push_requested_at) where push_requested_at is not null`.execute(
      db,
    );
    await sql`create table calendar_syncs (
      id text primary key,
      config jsonb not null,
      recipe text,
      created_by text,
      created_at timestamptz not null default now()
    )`.execute(db);
  },
};
