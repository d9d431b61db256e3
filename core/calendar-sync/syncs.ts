import { sql } from 'kysely';
import type { Runtime } from '../runtime.ts';
import { triggerInstanceId, type DesiredTrigger } from '../triggers/desired.ts';
import { onPollRequested } from '../triggers/pollers.ts';
import { registerSubscriptionSource } from '../triggers/subscriptions.ts';
import { type CalendarSyncConfig, calendarSyncConfigSchema, peopleOf, sideOf } from './service.ts';

/**
 * The two-way calendar syncs of a hub: the config file's (`calendarSync:`) and those made from the
 * recipe gallery (table `calendar_syncs`; an id of the file's wins). Also what push needs of them:
 * the channel per person to keep registered, and which person a notification is about.
 */
export class CalendarSyncs {
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly rt: Runtime,
    readonly file: CalendarSyncConfig[],
  ) {}

  async list(): Promise<CalendarSyncConfig[]> {
    const rows = await this.rt.db.selectFrom('calendar_syncs').select(['id', 'config']).orderBy('id').execute();
    const out = [...this.file];
    for (const r of rows) {
      if (out.some((c) => c.id === r.id)) continue;
      const parsed = calendarSyncConfigSchema.safeParse({ ...(r.config as object), id: r.id });
      if (parsed.success) out.push(parsed.data);
      else this.rt.log.warn({ sync: r.id }, 'a stored calendar sync no longer fits the schema; skipped');
    }
    return out;
  }

  async get(id: string): Promise<CalendarSyncConfig | undefined> {
    return (await this.list()).find((c) => c.id === id);
  }

  /** Saves a sync made in the UI (recipe gallery); an id taken (file or table) → false. */
  async create(cfg: CalendarSyncConfig, meta: { recipe?: string; by?: string }): Promise<boolean> {
    if (this.file.some((c) => c.id === cfg.id)) return false;
    const { id, ...config } = cfg;
    const res = await this.rt.db
      .insertInto('calendar_syncs')
      .values({ id, config: JSON.stringify(config), recipe: meta.recipe ?? null, created_by: meta.by ?? null })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    const made = Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
    if (made) for (const l of this.listeners) l();
    return made;
  }

  /** Called when a sync is added in this process (the runner starts it without waiting for its sweep). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

const byRuntime = new WeakMap<Runtime, CalendarSyncs>();

/** The hub's syncs (one object per runtime; the file's list is given once, at start). */
export function calendarSyncsOf(rt: Runtime, file?: CalendarSyncConfig[]): CalendarSyncs {
  let s = byRuntime.get(rt);
  if (!s) {
    s = new CalendarSyncs(rt, file ?? []);
    byRuntime.set(rt, s);
  }
  return s;
}

/** Syncs whose runs happen in the background and on push. */
const pushing = (c: CalendarSyncConfig) => c.enabled && c.push;

/** A push channel for every person of every pushing sync, on each side that offers one. */
registerSubscriptionSource(async (rt) => {
  const syncs = byRuntime.get(rt);
  if (!syncs) return [];
  const out: DesiredTrigger[] = [];
  for (const cfg of (await syncs.list()).filter(pushing)) {
    for (const connectionId of cfg.sides) {
      const got = await sideOf(rt, connectionId).catch(() => undefined);
      if (!got?.side.push) continue;
      const trigger = rt.registry.connector(got.connectorId)?.triggers.find((t) => t.id === got.side.push!.trigger);
      if (!trigger?.subscription) continue;
      for (const person of await peopleOf(rt, cfg)) {
        const user = got.side.userOf(person);
        if (!user) continue;
        const params = got.side.push.params(user);
        out.push({
          id: triggerInstanceId('sub', connectionId, trigger.id, params),
          connectionId,
          connectorId: got.connectorId,
          trigger,
          params,
          flows: [],
        });
      }
    }
  }
  return out;
});

const kicks = new WeakMap<Runtime, () => void>();
/** The runner of this process wakes at once on a push (other processes find the flag on their sweep). */
export function onPush(rt: Runtime, kick: () => void): void {
  kicks.set(rt, kick);
}

/** A notification on a side's channel: flag the people whose calendar it watches for a run now. */
onPollRequested(async (rt, connectionId, params) => {
  const syncs = byRuntime.get(rt);
  if (!syncs) return;
  let flagged = 0;
  for (const cfg of (await syncs.list()).filter(pushing)) {
    if (!cfg.sides.includes(connectionId)) continue;
    const got = await sideOf(rt, connectionId).catch(() => undefined);
    const push = got?.side.push;
    if (!push) continue;
    for (const person of await peopleOf(rt, cfg)) {
      const user = got.side.userOf(person);
      if (!user) continue;
      const mine = push.params(user);
      if (!Object.entries(params).every(([k, v]) => mine[k]?.toLowerCase() === v.toLowerCase())) continue;
      await rt.db
        .insertInto('calendar_sync_state')
        .values({
          sync_id: cfg.id,
          person_id: person.id,
          cursor_a: null,
          cursor_b: null,
          last_a_at: null,
          last_b_at: null,
          last_error: null,
          lease_until: null,
          push_requested_at: sql<Date>`now()`,
        })
        .onConflict((oc) => oc.columns(['sync_id', 'person_id']).doUpdateSet({ push_requested_at: sql<Date>`now()` }))
        .execute();
      flagged += 1;
    }
  }
  if (flagged) kicks.get(rt)?.();
});
