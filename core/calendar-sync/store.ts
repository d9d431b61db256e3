import type { ColumnType, Generated, Selectable } from 'kysely';
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

export interface CalendarSyncStateTable {
  sync_id: string;
  person_id: string;
  cursor_a: string | null;
  cursor_b: string | null;
  initialised: Generated<boolean>;
  last_a_at: Date | null;
  last_b_at: Date | null;
  paired: Generated<number>;
  created_a: Generated<number>;
  created_b: Generated<number>;
  updated_a: Generated<number>;
  updated_b: Generated<number>;
  deleted_a: Generated<number>;
  deleted_b: Generated<number>;
  echoes: Generated<number>;
  conflicts: Generated<number>;
  standalone_exceptions: Generated<number>;
  errors: Generated<number>;
  last_error: string | null;
  resync_requested: Generated<boolean>;
  lease_until: Date | null;
  /** A push notification asked for a run of this person (cleared when the run starts). */
  push_requested_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  updated_at: Generated<Date>;
}

export interface CalendarSyncsTable {
  id: string;
  config: ColumnType<unknown, string, string>;
  recipe: string | null;
  created_by: string | null;
  created_at: Generated<Date>;
}

export interface CalendarSyncLinksTable {
  id: string;
  sync_id: string;
  person_id: string;
  a_id: string | null;
  b_id: string | null;
  a_hash: string | null;
  b_hash: string | null;
  a_guests: ColumnType<string[], string | undefined, string>;
  b_guests: ColumnType<string[], string | undefined, string>;
  a_series_id: string | null;
  a_original_start: string | null;
  kind: Generated<string>;
  /** The connections the sync copied the meeting from and into (migration 0029); null when it was only paired. */
  copied_from: Generated<string | null>;
  copied_to: Generated<string | null>;
  generation: Generated<number>;
  deleted: Generated<boolean>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface CalendarSyncConflictsTable {
  id: Generated<string>;
  sync_id: string;
  person_id: string;
  link_id: string;
  winner: string;
  winner_updated: string | null;
  loser_updated: string | null;
  winner_content: ColumnType<unknown, string, string>;
  loser_content: ColumnType<unknown, string, string>;
  at: Generated<Date>;
}

declare module '../db/schema.ts' {
  interface Database {
    calendar_sync_state: CalendarSyncStateTable;
    calendar_sync_links: CalendarSyncLinksTable;
    calendar_sync_conflicts: CalendarSyncConflictsTable;
    calendar_syncs: CalendarSyncsTable;
  }
}

export type SyncStateRow = Selectable<CalendarSyncStateTable>;
export type LinkRow = Selectable<CalendarSyncLinksTable>;

export type Counter =
  | 'paired'
  | 'created_a'
  | 'created_b'
  | 'updated_a'
  | 'updated_b'
  | 'deleted_a'
  | 'deleted_b'
  | 'echoes'
  | 'conflicts'
  | 'standalone_exceptions'
  | 'errors';

/** The sync's rows in PostgreSQL: state per person, links, conflicts. */
export class CalendarSyncStore {
  constructor(readonly db: Db) {}

  async ensureState(syncId: string, personId: string): Promise<void> {
    await this.db
      .insertInto('calendar_sync_state')
      .values({
        sync_id: syncId,
        person_id: personId,
        cursor_a: null,
        cursor_b: null,
        last_a_at: null,
        last_b_at: null,
        last_error: null,
        lease_until: null,
      })
      .onConflict((oc) => oc.columns(['sync_id', 'person_id']).doNothing())
      .execute();
  }

  /** One process syncs a person at a time: a lease row, taken only when free or expired. */
  async lease(syncId: string, personId: string, ms: number): Promise<SyncStateRow | undefined> {
    await this.ensureState(syncId, personId);
    return this.db
      .updateTable('calendar_sync_state')
      .set({ lease_until: sql`now() + ${`${ms} milliseconds`}::interval` })
      .where('sync_id', '=', syncId)
      .where('person_id', '=', personId)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', sql<Date>`now()`)]))
      .returningAll()
      .executeTakeFirst();
  }

  async release(syncId: string, personId: string): Promise<void> {
    await this.db
      .updateTable('calendar_sync_state')
      .set({ lease_until: null })
      .where('sync_id', '=', syncId)
      .where('person_id', '=', personId)
      .execute();
  }

  async saveState(
    syncId: string,
    personId: string,
    patch: Partial<{
      cursor_a: string | null;
      cursor_b: string | null;
      initialised: boolean;
      last_a_at: Date;
      last_b_at: Date;
      last_error: string | null;
      resync_requested: boolean;
    }>,
    counts: Partial<Record<Counter, number>>,
  ): Promise<void> {
    const inc = Object.fromEntries(
      Object.entries(counts)
        .filter(([, n]) => n)
        .map(([k, n]) => [k, sql`${sql.ref(k)} + ${n}`]),
    );
    await this.db
      .updateTable('calendar_sync_state')
      .set({ ...patch, ...inc, updated_at: sql`now()` } as never)
      .where('sync_id', '=', syncId)
      .where('person_id', '=', personId)
      .execute();
  }

  /** People a push notification asked to sync now. */
  async pushRequests(): Promise<Array<{ sync_id: string; person_id: string; push_requested_at: Date }>> {
    const rows = await this.db
      .selectFrom('calendar_sync_state')
      .select(['sync_id', 'person_id', 'push_requested_at'])
      .where('push_requested_at', 'is not', null)
      .orderBy('push_requested_at')
      .execute();
    return rows as Array<{ sync_id: string; person_id: string; push_requested_at: Date }>;
  }

  /** Clears a push request as seen (a newer one, come meanwhile, stays). */
  async clearPush(syncId: string, personId: string, seen: Date): Promise<void> {
    await this.db
      .updateTable('calendar_sync_state')
      .set({ push_requested_at: null })
      .where('sync_id', '=', syncId)
      .where('person_id', '=', personId)
      .where('push_requested_at', '<=', seen)
      .execute();
  }

  async requestPush(syncId: string, personId: string): Promise<void> {
    await this.db
      .updateTable('calendar_sync_state')
      .set({ push_requested_at: sql<Date>`coalesce(push_requested_at, now())` })
      .where('sync_id', '=', syncId)
      .where('person_id', '=', personId)
      .execute();
  }

  async requestResync(syncId: string | undefined, personId: string): Promise<number> {
    let q = this.db.updateTable('calendar_sync_state').set({ resync_requested: true }).where('person_id', '=', personId);
    if (syncId) q = q.where('sync_id', '=', syncId);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  async links(syncId: string, personId: string): Promise<LinkRow[]> {
    return this.db.selectFrom('calendar_sync_links').selectAll().where('sync_id', '=', syncId).where('person_id', '=', personId).execute();
  }

  async insertLink(row: {
    id: string;
    sync_id: string;
    person_id: string;
    a_id: string | null;
    b_id: string | null;
    a_hash: string | null;
    b_hash: string | null;
    a_guests: string[];
    b_guests: string[];
    a_series_id: string | null;
    a_original_start: string | null;
    kind: string;
    copied_from?: string | null;
    copied_to?: string | null;
  }): Promise<LinkRow> {
    return this.db
      .insertInto('calendar_sync_links')
      .values({ ...row, a_guests: JSON.stringify(row.a_guests), b_guests: JSON.stringify(row.b_guests) })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async updateLink(link: LinkRow): Promise<void> {
    await this.db
      .updateTable('calendar_sync_links')
      .set({
        a_id: link.a_id,
        b_id: link.b_id,
        a_hash: link.a_hash,
        b_hash: link.b_hash,
        a_guests: JSON.stringify(link.a_guests ?? []),
        b_guests: JSON.stringify(link.b_guests ?? []),
        generation: link.generation,
        deleted: link.deleted,
        updated_at: sql`now()`,
      })
      .where('id', '=', link.id)
      .execute();
  }

  async recordConflict(row: {
    sync_id: string;
    person_id: string;
    link_id: string;
    winner: string;
    winner_updated: string | null;
    loser_updated: string | null;
    winner_content: unknown;
    loser_content: unknown;
  }): Promise<void> {
    await this.db
      .insertInto('calendar_sync_conflicts')
      .values({
        ...row,
        winner_content: JSON.stringify(row.winner_content ?? null),
        loser_content: JSON.stringify(row.loser_content ?? null),
      })
      .execute();
  }

  async states(syncId?: string): Promise<SyncStateRow[]> {
    let q = this.db.selectFrom('calendar_sync_state').selectAll();
    if (syncId) q = q.where('sync_id', '=', syncId);
    return q.orderBy('sync_id').orderBy('person_id').execute();
  }

  async conflicts(syncId: string, personId: string, limit = 50) {
    return this.db
      .selectFrom('calendar_sync_conflicts')
      .selectAll()
      .where('sync_id', '=', syncId)
      .where('person_id', '=', personId)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }
}
