import type { Runtime } from '../runtime.ts';

/**
 * The admin's view of every trigger (GET /api/v1/triggers): each kind of trigger (subscriptions,
 * pollers, streams, and features such as schedules) registers a source of rows and, optionally, the
 * actions it answers ("poll now", "resync", "renew"). core/triggers never needs the API, the API never
 * needs to know the kinds.
 */
export type TriggerKind = 'webhook' | 'subscription' | 'poll' | 'stream' | 'schedule';

export interface TriggerHealth {
  id: string;
  connector: string;
  kind: TriggerKind;
  connection: string | null;
  /** ok | pending | error | disabled … */
  status: string;
  expiresAt: string | null;
  /** The next poll, the next renewal, the next firing. */
  nextRunAt: string | null;
  lastEventAt: string | null;
  lastError: string | null;
  [more: string]: unknown;
}

export type TriggerAction = 'poll' | 'resync' | 'renew';
export interface TriggerSource {
  list(rt: Runtime): Promise<TriggerHealth[]>;
  /** Runs an action on one of its triggers: true when done, false when the id is not its own; throws when the action does not apply. */
  act?(rt: Runtime, id: string, action: TriggerAction): Promise<boolean>;
}

const sources = new Map<string, TriggerSource>();

/** Registers a kind's rows (at module load); registering the same name again replaces it. */
export function registerTriggerSource(name: string, source: TriggerSource): void {
  sources.set(name, source);
}

export async function listTriggerHealth(rt: Runtime): Promise<TriggerHealth[]> {
  const all = await Promise.all([...sources.values()].map((s) => s.list(rt)));
  return all.flat();
}

/** 'done', 'unknown' (no such trigger), or throws (e.g. "renew" on a poller). */
export async function actOnTrigger(rt: Runtime, id: string, action: TriggerAction): Promise<'done' | 'unknown'> {
  for (const source of sources.values()) if (source.act && (await source.act(rt, id, action))) return 'done';
  return 'unknown';
}

export const iso = (d: Date | string | null | undefined): string | null => (d ? new Date(d).toISOString() : null);

/** Events stored in the last 24 h and the latest one, per connection and type (one query for the whole page). */
export async function recentEventCounts(rt: Runtime): Promise<Map<string, { count: number; last: string | null }>> {
  const rows = await rt.db
    .selectFrom('events')
    .select((eb) => ['connection_id', 'type', eb.fn.countAll<string>().as('n'), eb.fn.max('received_at').as('last')])
    .where('received_at', '>', new Date(Date.now() - 86_400_000))
    .where('connection_id', 'is not', null)
    .groupBy(['connection_id', 'type'])
    .execute();
  return new Map(rows.map((r) => [`${r.connection_id}\u0000${r.type}`, { count: Number(r.n), last: iso(r.last as Date | null) }]));
}

/** Sums recentEventCounts over the event types a trigger emits. */
export function recentFor(
  counts: Map<string, { count: number; last: string | null }>,
  connectionId: string,
  types: string[],
): { eventsLast24h: number; lastEventAt: string | null } {
  let n = 0;
  let last: string | null = null;
  for (const [key, v] of counts) {
    const [conn, type] = key.split('\u0000');
    if (conn !== connectionId || !types.some((t) => t === type)) continue;
    n += v.count;
    if (v.last && (!last || v.last > last)) last = v.last;
  }
  return { eventsLast24h: n, lastEventAt: last };
}
