import { sql, type Generated } from 'kysely';
import type { Db } from './db/database.ts';

/**
 * Accept-once memory for ingress (see migration 0011): `claim` records a key for a window and says
 * whether it was new. PostgreSQL decides, so two hub processes receiving the same replay at once
 * cannot both accept it. Expired keys are reused and pruned as claims go by.
 */
interface ReplayGuardTable {
  scope: string;
  key: string;
  ref: string | null;
  expires_at: Date;
  created_at: Generated<Date>;
}
declare module './db/schema.ts' {
  interface Database {
    replay_guard: ReplayGuardTable;
  }
}

export type Claim = { fresh: true } | { fresh: false; ref: string | null };

let claims = 0;

/** Deletes expired keys now and then (every 200th claim); `db` must not be a transaction about to end. */
export function pruneClaimsNowAndThen(db: Db): void {
  if (++claims % 200 === 0)
    void db
      .deleteFrom('replay_guard')
      .where('expires_at', '<', sql<Date>`now() - interval '1 minute'`)
      .execute()
      .catch(() => undefined);
}

/** The event a claimed key was first accepted for. */
export async function claimedRef(db: Db, scope: string, key: string): Promise<string | null> {
  const seen = await db.selectFrom('replay_guard').select('ref').where('scope', '=', scope).where('key', '=', key).executeTakeFirst();
  return seen?.ref ?? null;
}

/** `pruneDb`: where to delete expired keys now and then (not `db` when that is a transaction about to end). */
export async function claimOnce(
  db: Db,
  scope: string,
  key: string,
  windowMs: number,
  ref: string | null = null,
  pruneDb: Db = db,
): Promise<Claim> {
  const expires = new Date(Date.now() + windowMs);
  const row = await db
    .insertInto('replay_guard')
    .values({ scope, key, ref, expires_at: expires })
    .onConflict((oc) =>
      oc
        .columns(['scope', 'key'])
        .doUpdateSet({ ref, expires_at: expires, created_at: sql`now()` })
        .where('replay_guard.expires_at', '<', sql<Date>`now()`),
    )
    .returning('scope')
    .executeTakeFirst();
  pruneClaimsNowAndThen(pruneDb);
  if (row) return { fresh: true };
  return { fresh: false, ref: await claimedRef(db, scope, key) };
}

/** Gives a claim back (the request it guarded failed before anything was stored, so a retry must be accepted). */
export async function releaseClaim(db: Db, scope: string, key: string): Promise<void> {
  await db.deleteFrom('replay_guard').where('scope', '=', scope).where('key', '=', key).execute();
}
