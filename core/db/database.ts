import { Kysely, Migrator, PostgresDialect, type MigrationProvider } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';
import { migrations } from './migrations/index.ts';

export type Db = Kysely<Database>;

/**
 * A PostgreSQL restart terminates every connection (FATAL 57P01). pg reports that on the query in flight,
 * and otherwise as an 'error' event on the client; pg-pool listens for it only while a client is idle,
 * so a client checked out between two statements of a transaction (ours, or BullMQ's pool) would crash
 * the process with an unhandled 'error'. Every client gets a listener when it connects: the query in
 * flight still fails (intake answers 503), the broken client is dropped by its pool on release.
 */
const patched = Symbol.for('dingbridge.pgErrorGuard');
const proto = pg.Client.prototype as unknown as Record<symbol, boolean> & { connect: (...args: unknown[]) => unknown };
if (!proto[patched]) {
  proto[patched] = true;
  const connect = proto.connect;
  proto.connect = function (this: pg.Client, ...args: unknown[]) {
    this.on('error', () => {}); // beside pg-pool's own listener, which it removes while the client is checked out
    return connect.apply(this, args);
  };
}

// Return int8 (counts, bigserial ids) as strings is pg's default; numeric counts are cast in SQL where needed.

export function createDb(connectionString: string, opts: { max?: number } = {}): { db: Db; pool: pg.Pool } {
  // A request waits at most 30 s for a connection: when the server is unreachable intake answers 503
  // (with Retry-After) rather than holding the sender.
  const pool = new pg.Pool({ connectionString, max: opts.max ?? 10, connectionTimeoutMillis: 30_000 });
  // An idle client that loses its server must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, pool };
}

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Applies pending migrations; safe to run from several processes at once (Kysely takes a lock). */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
