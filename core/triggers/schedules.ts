import { registerTriggerSource } from './health.ts';
import type { Job } from 'bullmq';
import { eventIdFor } from '../events.ts';
import { registerParamNormaliser } from '../flows.ts';
import { ingestEvent } from '../pipeline/ingest.ts';
import { QUEUE_NAMES, type SchedulerInfo } from '../queue/queues.ts';
import type { Runtime } from '../runtime.ts';
import { dueSlots, nextSlot, SCHEDULE_EVENT, scheduleKey, scheduleSpec, type ScheduleSpec } from './schedule-spec.ts';

/**
 * Schedule flows (`when: { event: schedule.fired, params: { every: 15m } }` or `{ cron, timezone }`).
 *
 * - BullMQ's job schedulers are the clock: one scheduler per distinct schedule (flows with the same
 *   params share it, and each runs once per slot), one job per tick whichever process takes it.
 * - The events table is the record: each slot is one stored event whose id is derived from the
 *   schedule and the slot time, so two processes, a retried tick or a restart never fire a slot
 *   twice. A tick fires every slot due since the schedule's last fired one (a tick lost with a killed
 *   process is made up by the next), except slots that passed while no hub ran (before this process
 *   started): of those only the newest fires, once, on start (catchUp: true, the default), or none
 *   (catchUp: false).
 * - Every worker process keeps the schedulers in step with the enabled flows (added, removed or
 *   disabled in the config file or the API) and re-creates one whose next tick is long overdue.
 */

const SCAN_MS = 2000;
/**
 * A scheduler whose next tick is this late has lost its chain (the process that took its last tick died
 * before BullMQ made the next one): it is made again. Not scaled by the period: a daily schedule is
 * repaired as fast as a one-second one.
 */
const REPAIR_AFTER_MS = 10_000;
/**
 * The longest a slot waits after the process that should have fired it died, with one other process
 * running: its overdue tick is noticed by the survivor's next scan and the scheduler made again, and the
 * tick so made fires every slot due since the last fired one (README "Schedules"). A tick taken by the
 * dead process after the chain went on is made up by the next tick, one period later, sooner than this.
 */
export const SCHEDULE_TAKEOVER_MS = REPAIR_AFTER_MS + 2 * SCAN_MS;
/** A scheduler younger than this is not removed: another process may know of a flow this one has not loaded yet. */
const KEEP_NEW_MS = 10_000;
const SCHEDULER_PREFIX = 'sched_';

/** The last error of a schedule in this process (cleared by its next success). */
const errors = new Map<string, string>();

interface Wanted {
  key: string;
  spec: ScheduleSpec;
  flows: string[];
}

export interface ScheduleManager {
  stop(): Promise<void>;
}

/** The schedules the enabled flows ask for, by scheduler key. */
function wantedSchedules(rt: Runtime): Map<string, Wanted> {
  const wanted = new Map<string, Wanted>();
  for (const flow of rt.flows.list()) {
    if (!flow.enabled || flow.when.event !== SCHEDULE_EVENT) continue;
    let spec: ScheduleSpec;
    try {
      spec = scheduleSpec(flow.when.params, rt.settings.DINGBRIDGE_TIMEZONE);
    } catch {
      continue;
    } // refused when the flow was saved
    const key = scheduleKey(spec);
    const entry = wanted.get(key) ?? { key, spec, flows: [] };
    entry.flows.push(flow.id);
    wanted.set(key, entry);
  }
  return wanted;
}

async function lastFired(rt: Runtime, key: string): Promise<number | undefined> {
  const row = await rt.db
    .selectFrom('events')
    .select((eb) => eb.fn.max('occurred_at').as('last'))
    .where('type', '=', SCHEDULE_EVENT)
    .where('source', '=', key)
    .executeTakeFirst();
  return row?.last ? new Date(row.last as Date).getTime() : undefined;
}

/** Stores the event of every slot due now (see the rules above); a slot stored already is a no-op. */
async function fireDue(
  rt: Runtime,
  key: string,
  spec: ScheduleSpec,
  sinceMs: number,
  startedMs: number,
  nowMs = Date.now(),
): Promise<number> {
  const slots = dueSlots(spec, { lastFiredMs: await lastFired(rt, key), sinceMs, nowMs, startedMs });
  let stored = 0;
  for (const slot of slots) {
    const iso = new Date(slot).toISOString();
    const res = await ingestEvent(rt, {
      id: eventIdFor(`schedule:${key}`, iso),
      type: SCHEDULE_EVENT,
      source: key,
      connectionId: null,
      occurredAt: iso,
      subject: spec.params.every ? `every ${spec.params.every}` : `${spec.params.cron} (${spec.timezone})`,
      data: { slot: iso, ...spec.params },
    });
    if (!res.duplicate) stored += 1;
  }
  return stored;
}

export function startScheduleManager(rt: Runtime): ScheduleManager {
  const log = rt.log.child({ component: 'schedules' });
  const startedMs = Date.now();
  const tz = rt.settings.DINGBRIDGE_TIMEZONE;
  registerParamNormaliser(SCHEDULE_EVENT, (params) => scheduleSpec(params, tz).params);
  let stopped = false;
  let syncing = false;
  let firstSync = true;

  const worker = rt.queue.startWorker(
    QUEUE_NAMES.schedules,
    async (job: Job) => {
      const data = job.data as { key: string; params: Record<string, string>; since: number };
      const spec = scheduleSpec(data.params, tz);
      // The slot this tick was made for: a tick that runs a little early still counts for it.
      const tickSlot = Number(job.opts.prevMillis ?? String(job.id).split(':').pop());
      const now = Math.max(Date.now(), Number.isFinite(tickSlot) ? tickSlot : 0);
      try {
        const stored = await fireDue(rt, data.key, spec, data.since, startedMs, now);
        errors.delete(data.key);
        if (stored) log.debug({ schedule: data.key, stored }, 'schedule fired');
      } catch (err) {
        errors.set(data.key, (err as Error).message);
        throw err;
      }
    },
    { concurrency: 4, stalledMs: Math.max(1000, rt.settings.DINGBRIDGE_STEP_LEASE_MS) },
  );

  async function upsert(w: Wanted, sinceMs: number): Promise<void> {
    const now = Date.now();
    const spec = w.spec.everyMs
      ? { every: w.spec.everyMs, startDate: nextSlot(w.spec, now) } // ticks on the slots, aligned to the epoch
      : { pattern: w.spec.cron!, tz: w.spec.timezone };
    await rt.queue.upsertScheduler(QUEUE_NAMES.schedules, w.key, spec, { key: w.key, params: w.spec.params, since: sinceMs });
  }

  async function sync(): Promise<void> {
    if (syncing || stopped) return;
    syncing = true;
    try {
      const wanted = wantedSchedules(rt);
      const existing = new Map<string, SchedulerInfo>(
        (await rt.queue.schedulers(QUEUE_NAMES.schedules)).filter((s) => s.id.startsWith(SCHEDULER_PREFIX)).map((s) => [s.id, s]),
      );
      const now = Date.now();
      for (const w of wanted.values()) {
        const have = existing.get(w.key);
        const since = typeof have?.data.since === 'number' ? have.data.since : now;
        let repaired = false;
        try {
          if (!have) {
            await upsert(w, since);
            log.info({ schedule: w.key, params: w.spec.params, flows: w.flows }, 'schedule started');
          } else if (have.next !== null && have.next < now - REPAIR_AFTER_MS) {
            await upsert(w, since);
            repaired = true;
            log.warn({ schedule: w.key, next: new Date(have.next).toISOString() }, 'schedule had no next tick; made again');
          }
          // Slots missed while no hub ran, or while the chain was lost: fired now, not at the next tick (which may be a day away).
          if (firstSync || repaired) await fireDue(rt, w.key, w.spec, since, startedMs);
          errors.delete(w.key);
        } catch (err) {
          errors.set(w.key, (err as Error).message);
          log.warn({ schedule: w.key, err: (err as Error).message }, 'schedule could not be started; will try again');
        }
      }
      for (const have of existing.values()) {
        if (wanted.has(have.id)) continue;
        if (typeof have.data.since === 'number' && now - have.data.since < KEEP_NEW_MS) continue;
        await rt.queue.removeScheduler(QUEUE_NAMES.schedules, have.id);
        log.info({ schedule: have.id }, 'schedule stopped: no enabled flow uses it');
      }
      firstSync = false;
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'schedule sync failed; will try again');
    } finally {
      syncing = false;
    }
  }

  const timer = setInterval(() => {
    void sync();
  }, SCAN_MS);
  timer.unref();
  setImmediate(() => {
    void sync();
  });

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await worker.close();
    },
  };
}

export interface ScheduleTriggerRow {
  id: string;
  connector: 'schedule';
  kind: 'schedule';
  connection: null;
  status: 'active' | 'pending' | 'error';
  expiresAt: null;
  nextRunAt: string | null;
  lastEventAt: string | null;
  lastError: string | null;
}

/**
 * The schedules of the enabled flows as rows of `GET /api/v1/triggers`: `pending` until a worker has
 * made its scheduler, `error` while its last tick or start failed in this process.
 */
export async function scheduleTriggers(rt: Runtime): Promise<ScheduleTriggerRow[]> {
  const wanted = wantedSchedules(rt);
  if (wanted.size === 0) return [];
  const existing = new Map((await rt.queue.schedulers(QUEUE_NAMES.schedules).catch(() => [] as SchedulerInfo[])).map((s) => [s.id, s]));
  const rows: ScheduleTriggerRow[] = [];
  for (const w of wanted.values()) {
    const have = existing.get(w.key);
    const last = await lastFired(rt, w.key);
    const error = errors.get(w.key) ?? null;
    const next = have?.next ?? nextSlot(w.spec, Date.now());
    rows.push({
      id: w.key,
      connector: 'schedule',
      kind: 'schedule',
      connection: null,
      status: error ? 'error' : have ? 'active' : 'pending',
      expiresAt: null,
      nextRunAt: new Date(next).toISOString(),
      lastEventAt: last === undefined ? null : new Date(last).toISOString(),
      lastError: error,
    });
  }
  return rows;
}

registerTriggerSource('schedule', { list: async (rt) => (await scheduleTriggers(rt)).map((row) => ({ ...row })) });
