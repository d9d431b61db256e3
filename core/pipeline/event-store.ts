import type { Db } from '../db/database.ts';
import type { EventRow } from '../db/schema.ts';
import type { HubEvent } from '../events.ts';

export function rowToEvent(row: EventRow): HubEvent {
  return {
    id: row.id,
    type: row.type,
    source: row.source,
    connectionId: row.connection_id,
    occurredAt: new Date(row.occurred_at as unknown as string).toISOString(),
    subject: row.subject,
    data: (row.data ?? {}) as Record<string, unknown>,
    raw: row.raw ?? undefined,
    refs: ((row as { refs?: unknown }).refs as HubEvent['refs']) ?? [],
  };
}

export async function loadEvent(db: Db, id: string): Promise<HubEvent | undefined> {
  const row = await db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? rowToEvent(row) : undefined;
}
