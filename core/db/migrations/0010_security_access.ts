import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Issue 11 (access control): sign-in attempts reserved before the password is checked (so parallel
 * guesses cannot outrun the limit), and OAuth states bound to the session that started them.
 */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('sign_in_attempts')
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('email', 'text', (c) => c.notNull())
      .addColumn('ip', 'text', (c) => c.notNull())
      /** pending while the password is checked, then failed or ok. */
      .addColumn('outcome', 'text', (c) => c.notNull().defaultTo('pending'))
      .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    await db.schema.createIndex('sign_in_attempts_email').on('sign_in_attempts').columns(['email', 'at']).execute();
    await db.schema.createIndex('sign_in_attempts_ip').on('sign_in_attempts').columns(['ip', 'at']).execute();
    /** sha256 of the session id that started the connect flow (null when started with a Bearer token). */
    await db.schema.alterTable('oauth_states').addColumn('session_hash', 'text').addColumn('started_by', 'text').execute();
  },
};
