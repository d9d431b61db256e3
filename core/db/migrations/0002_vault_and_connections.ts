import { type Kysely, type Migration, sql } from 'kysely';

/** The vault's key check, connections with sealed credentials, OAuth states, and which connection a step uses. */
export const migration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('vault_canary')
      .ifNotExists()
      .addColumn('key_id', 'text', (c) => c.primaryKey())
      .addColumn('sealed', 'text', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();

    await db.schema
      .createTable('connections')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('connector_id', 'text', (c) => c.notNull())
      .addColumn('label', 'text', (c) => c.notNull())
      .addColumn('auth_kind', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
      /** Non-secret settings: client id, base URLs, realmId, account id, scopes granted. */
      .addColumn('settings', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
      /** Sealed JSON of every secret: client secret, access and refresh tokens, API tokens. */
      .addColumn('secrets', 'text')
      .addColumn('scopes', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn('expires_at', 'timestamptz')
      .addColumn('last_refresh_at', 'timestamptz')
      .addColumn('last_error', 'text')
      .addColumn('origin', 'text', (c) => c.notNull().defaultTo('api'))
      .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    await db.schema.createIndex('connections_connector').on('connections').column('connector_id').execute();
    await db.schema.createIndex('connections_expiry').on('connections').columns(['status', 'expires_at']).execute();

    await db.schema
      .createTable('oauth_states')
      .addColumn('state', 'text', (c) => c.primaryKey())
      .addColumn('connection_id', 'text', (c) => c.notNull().references('connections.id').onDelete('cascade'))
      .addColumn('connector_id', 'text', (c) => c.notNull())
      /** Sealed PKCE code verifier. */
      .addColumn('verifier', 'text')
      .addColumn('return_to', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('used_at', 'timestamptz')
      .execute();

    await db.schema.alterTable('step_runs').addColumn('connection_id', 'text').execute();
    await db.schema.createIndex('step_runs_connection_status').on('step_runs').columns(['connection_id', 'status']).execute();
  },
};
