import type { Kysely, Migration } from 'kysely';

/** Secret step inputs of flows made in the UI (e.g. http.post's signing secret), sealed by the vault. */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('flows').addColumn('secrets', 'text').execute();
  },
};
