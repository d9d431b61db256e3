import { z } from 'zod';
import type { Person } from '../people/store.ts';
import { PeopleStore } from '../people/store.ts';
import type { Runtime } from '../runtime.ts';
import { BUSY, CalendarSyncEngine, type RunReport } from './engine.ts';
import { CalendarSyncStore } from './store.ts';
import { type CalendarSyncs, onPush } from './syncs.ts';
import type { CalendarSide } from './types.ts';

/**
 * The config-file form of the two-way calendar sync (`calendarSync:`): two connections whose
 * connectors offer a calendar side (the first wins ties in a conflict), the people it covers (emails
 * and/or department paths, sub-departments included) and the first-sync window.
 */
export const calendarSyncConfigSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, - and _'),
    /** Two connection ids; the first side wins ties (the recipe puts Google first). */
    sides: z.tuple([z.string().min(1), z.string().min(1)]),
    people: z.array(z.string().email()).default([]),
    departments: z.array(z.string().min(1)).default([]),
    window: z
      .object({ daysBack: z.number().int().min(0).max(3650).default(30), daysAhead: z.number().int().min(1).max(3650).default(180) })
      .default({ daysBack: 30, daysAhead: 180 }),
    /** How often each person's calendars are polled. */
    intervalSeconds: z.number().int().min(5).max(86_400).default(60),
    /** Background runs (on the interval, and on push); off, the sync runs only when asked (API, Triggers page). */
    enabled: z.boolean().default(true),
    /**
     * A push channel per person on each side that has one (Google: events.watch, kept registered and
     * renewed by the hub when it has an https PUBLIC_URL): a change there runs that person's sync at once
     * instead of at the next poll. DingTalk has no calendar change event, so its side is polled.
     */
    push: z.boolean().default(true),
  })
  .strict();
export type CalendarSyncConfig = z.output<typeof calendarSyncConfigSchema>;

export interface SyncRun {
  syncId: string;
  reports: RunReport[];
}

/** The calendar side a connection's connector offers. */
export async function sideOf(rt: Runtime, connectionId: string): Promise<{ side: CalendarSide; connectorId: string }> {
  const conn = await rt.connections.handle(connectionId);
  const factory = rt.registry.connector(conn.connectorId)?.calendarSide;
  if (!factory) throw new Error(`connector ${conn.connectorId} (connection ${connectionId}) has no calendar`);
  return { side: await factory(conn), connectorId: conn.connectorId };
}

/** Builds the sides and the engine of one configured sync. */
export async function engineFor(
  rt: Runtime,
  cfg: CalendarSyncConfig,
): Promise<{ engine: CalendarSyncEngine; a: CalendarSide; b: CalendarSide }> {
  const sides: CalendarSide[] = [];
  for (const connId of cfg.sides) {
    try {
      sides.push((await sideOf(rt, connId)).side);
    } catch (err) {
      throw new Error(`calendar sync ${cfg.id}: ${(err as Error).message}`);
    }
  }
  const people = new PeopleStore(rt.db);
  const engine = new CalendarSyncEngine(new CalendarSyncStore(rt.db), {
    syncId: cfg.id,
    connections: { a: cfg.sides[0], b: cfg.sides[1] },
    a: sides[0]!,
    b: sides[1]!,
    window: cfg.window,
    log: rt.log,
    directory: () => people.list({}),
  });
  return { engine, a: sides[0]!, b: sides[1]! };
}

/** The active people a sync covers. */
export async function peopleOf(rt: Runtime, cfg: CalendarSyncConfig): Promise<Person[]> {
  const store = new PeopleStore(rt.db);
  const byId = new Map<string, Person>();
  for (const email of cfg.people) {
    const p = await store.byEmail(email);
    if (p) byId.set(p.id, p);
  }
  for (const d of cfg.departments) for (const p of await store.list({ department: d, active: true })) byId.set(p.id, p);
  return [...byId.values()].filter((p) => p.active).sort((x, y) => x.name.localeCompare(y.name));
}

export async function runSync(rt: Runtime, cfg: CalendarSyncConfig, only?: string): Promise<SyncRun> {
  const { engine } = await engineFor(rt, cfg);
  const reports: RunReport[] = [];
  for (const person of await peopleOf(rt, cfg)) {
    if (only && person.id !== only) continue;
    reports.push(await engine.syncPerson(person));
  }
  return { syncId: cfg.id, reports };
}

/**
 * Runs the syncs in the background (in processes that run workers): each enabled sync on its
 * interval (the first run a second after start), syncs added in the UI as they appear, and a person
 * whose calendar pushed a change (flag `push_requested_at`, set by any process that got the
 * notification) at once: this process is woken directly, others find the flag on their sweep. A
 * person another process is syncing keeps the flag and is tried again a moment later.
 */
export function startCalendarSync(rt: Runtime, syncs: CalendarSyncs, opts: { pushSweepMs?: number } = {}): { stop(): Promise<void> } {
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<unknown>>();
  const started = new Set<string>();
  const later = (fn: () => void, ms: number) => {
    if (stopped) return;
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const track = (p: Promise<unknown>) => {
    running.add(p);
    void p.finally(() => running.delete(p));
  };

  const startInterval = (cfg: CalendarSyncConfig) => {
    started.add(cfg.id);
    const tick = async () => {
      if (stopped) return;
      const current = await syncs.get(cfg.id).catch(() => cfg);
      if (!current?.enabled) {
        started.delete(cfg.id);
        return;
      }
      const p = runSync(rt, current)
        .catch((err) => rt.log.warn({ sync: cfg.id, err: (err as Error).message }, 'calendar sync run failed'))
        .finally(() => later(() => void tick(), current.intervalSeconds * 1000));
      track(p);
    };
    later(() => void tick(), 1000);
  };
  const discover = async () => {
    for (const cfg of await syncs.list()) if (cfg.enabled && !started.has(cfg.id)) startInterval(cfg);
  };

  let draining = false;
  let again = false;
  const drain = async (): Promise<void> => {
    if (stopped) return;
    if (draining) {
      again = true;
      return;
    }
    draining = true;
    try {
      const store = new CalendarSyncStore(rt.db);
      for (const want of await store.pushRequests()) {
        if (stopped) break;
        const cfg = await syncs.get(want.sync_id);
        if (!cfg?.enabled || !cfg.push) {
          await store.clearPush(want.sync_id, want.person_id, want.push_requested_at);
          continue;
        }
        await store.clearPush(want.sync_id, want.person_id, want.push_requested_at);
        const run = await runSync(rt, cfg, want.person_id);
        const report = run.reports[0];
        if (report?.skipped === BUSY) {
          // Another run holds this person: ask again, and look again shortly.
          await store.requestPush(want.sync_id, want.person_id);
          later(() => void drain(), 1000);
        }
      }
    } catch (err) {
      rt.log.warn({ err: (err as Error).message }, 'calendar sync push run failed');
    } finally {
      draining = false;
      if (again && !stopped) {
        again = false;
        track(drain());
      }
    }
  };
  const sweep = () => {
    track(drain());
    track(discover().catch((err) => rt.log.warn({ err: (err as Error).message }, 'calendar sync: listing the syncs failed')));
    later(sweep, opts.pushSweepMs ?? 2000);
  };
  onPush(rt, () => track(drain()));
  const off = syncs.onChange(() => track(discover()));
  track(discover());
  later(sweep, opts.pushSweepMs ?? 2000);
  return {
    async stop() {
      stopped = true;
      off();
      for (const t of timers) clearTimeout(t);
      await Promise.allSettled([...running]);
    },
  };
}
