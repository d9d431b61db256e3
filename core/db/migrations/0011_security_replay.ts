import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Things an ingress accepts once within a window (a DingTalk robot's timestamp/sign pair, a signed
 * catch-hook body): the first use claims the key, a repeat before `expires_at` is a replay.
 */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('replay_guard')
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('ref', 'text')
      .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint('replay_guard_pk', ['scope', 'key'])
      .execute();
    await db.schema.createIndex('replay_guard_expires').on('replay_guard').column('expires_at').execute();
  },
};
