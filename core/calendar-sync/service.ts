import { z } from 'zod';
import type { Person } from '../people/store.ts';
import { PeopleStore } from '../people/store.ts';
import type { Runtime } from '../runtime.ts';
import { CalendarSyncEngine, type RunReport } from './engine.ts';
import { CalendarSyncStore } from './store.ts';
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
    enabled: z.boolean().default(true),
  })
  .strict();
export type CalendarSyncConfig = z.output<typeof calendarSyncConfigSchema>;

export interface SyncRun {
  syncId: string;
  reports: RunReport[];
}

/** Builds the sides and the engine of one configured sync. */
export async function engineFor(
  rt: Runtime,
  cfg: CalendarSyncConfig,
): Promise<{ engine: CalendarSyncEngine; a: CalendarSide; b: CalendarSide }> {
  const sides: CalendarSide[] = [];
  for (const connId of cfg.sides) {
    const conn = await rt.connections.handle(connId);
    const factory = rt.registry.connector(conn.connectorId)?.calendarSide;
    if (!factory) throw new Error(`calendar sync ${cfg.id}: connector ${conn.connectorId} (connection ${connId}) has no calendar`);
    sides.push(await factory(conn));
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

/** Polls every configured sync on its interval (in processes that run workers). */
export function startCalendarSync(rt: Runtime, configs: CalendarSyncConfig[]): { stop(): Promise<void> } {
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<unknown>>();
  for (const cfg of configs.filter((c) => c.enabled)) {
    const tick = () => {
      if (stopped) return;
      const p = runSync(rt, cfg)
        .catch((err) => rt.log.warn({ sync: cfg.id, err: (err as Error).message }, 'calendar sync run failed'))
        .finally(() => {
          running.delete(p);
          if (!stopped) {
            const t = setTimeout(tick, cfg.intervalSeconds * 1000);
            timers.add(t);
          }
        });
      running.add(p);
    };
    const t = setTimeout(tick, 1000);
    timers.add(t);
  }
  return {
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await Promise.allSettled([...running]);
    },
  };
}
