import type { Kysely, Migration } from 'kysely';

/** The last TOTP time step a user signed in with, so one code cannot be used twice. */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('users').addColumn('totp_last_step', 'bigint').execute();
  },
};
