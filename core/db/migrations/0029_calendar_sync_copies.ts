import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Which calendar the sync copied a meeting into (and from): the connection ids of the two sides, set
 * when the sync created the copy; both null when the meeting was already on both sides and only paired.
 * The adoption KPIs count meetings synced into DingTalk's calendar by it, on the day of the copy.
 */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('calendar_sync_links').addColumn('copied_from', 'text').addColumn('copied_to', 'text').execute();
    await sql`create index calendar_sync_links_copies on calendar_sync_links (created_at) where copied_to is not null`.execute(db);
  },
};
