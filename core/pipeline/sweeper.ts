import { sql } from 'kysely';
import type { Runtime } from '../runtime.ts';
import { QUEUE_NAMES } from '../queue/queues.ts';
import { eventJobId, stepJobId } from './jobs.ts';

/**
 * The database is the record; the queue only carries work. The sweep re-adds the job of any stored
 * work that has waited longer than the grace period: events not yet dispatched, pending steps,
 * retries that are overdue, and running steps whose worker's lease ran out (it died mid-step).
 * Job ids are derived from the stored state, so re-adding work whose job still exists is a no-op,
 * and the step's claim makes a second run of finished work impossible.
 */
export async function sweepOnce(rt: Runtime, limit = 500): Promise<{ events: number; steps: number }> {
  const now = Date.now();
  const cutoff = new Date(now - rt.settings.DINGBRIDGE_SWEEP_GRACE_MS);

  const events = await rt.db
    .selectFrom('events')
    .select('id')
    .where('status', '=', 'received')
    .where('received_at', '<', cutoff)
    .orderBy('received_at')
    .limit(limit)
    .execute();
  await rt.queue.addMany(
    QUEUE_NAMES.events,
    events.map((e) => ({ data: { eventId: e.id }, opts: { jobId: eventJobId(e.id) } })),
  );

  const steps = await rt.db
    .selectFrom('step_runs')
    .select(['id', 'status', 'attempts', 'next_attempt_at'])
    .where((eb) =>
      eb.or([
        eb.and([eb('status', '=', 'pending'), eb('updated_at', '<', cutoff)]),
        eb.and([eb('status', '=', 'retrying'), eb('next_attempt_at', '<', cutoff)]),
        eb.and([eb('status', '=', 'running'), eb('lease_until', '<', new Date(now))]),
      ]),
    )
    .orderBy('updated_at')
    .limit(limit)
    .execute();
  await rt.queue.addMany(
    QUEUE_NAMES.steps,
    steps.map((s) => ({
      data: { stepRunId: s.id },
      // A running step's lost job is the attempt it was on; a pending or retrying step's is the next one.
      opts: { jobId: stepJobId(s.id, s.status === 'running' ? s.attempts : s.attempts + 1) },
    })),
  );
  if (events.length || steps.length) rt.log.info({ events: events.length, steps: steps.length }, 'sweep re-enqueued stored work');
  return { events: events.length, steps: steps.length };
}

/**
 * Retention (DINGBRIDGE_EVENT_RETENTION_DAYS): deletes events received before the window whose work is
 * finished (no step pending, running, retrying or waiting for re-authorisation), with their step runs,
 * attempts and deliveries (foreign keys cascade), at most `batch` events per call, oldest first, so a
 * large first prune is spread over several sweeps instead of one long transaction.
 */
export async function pruneEvents(rt: Runtime, batch = 2000): Promise<number> {
  const days = rt.settings.DINGBRIDGE_EVENT_RETENTION_DAYS;
  if (!days) return 0;
  const cutoff = new Date(Date.now() - days * 86_400_000);
  const { rows } = await sql<{ id: string }>`
    delete from events where id in (
      select e.id from events e
       where e.status in ('dispatched', 'echo') and e.received_at < ${cutoff}
         and not exists (select 1 from step_runs s where s.event_id = e.id
                          and s.status in ('pending', 'running', 'retrying', 'waiting_reauth'))
         and not exists (select 1 from hook_deliveries d where d.event_id = e.id and d.status in ('pending', 'running'))
       order by e.received_at
       limit ${batch})
    returning id`.execute(rt.db);
  return rows.length;
}

export function startSweeper(rt: Runtime): { stop(): void } {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      if (rt.vault.reload())
        rt.log.info({ keys: rt.vault.keyIds }, 'encryption key file changed: new secrets are sealed with the newest key');
      await sweepOnce(rt);
      const events = await pruneEvents(rt);
      if (events) rt.log.info({ events }, 'events past DINGBRIDGE_EVENT_RETENTION_DAYS deleted');
      const pruned = (await rt.files?.prune()) ?? 0;
      if (pruned) rt.log.info({ files: pruned }, 'files past their retention deleted');
    } catch (err) {
      rt.log.warn({ err: (err as Error).message }, 'sweep failed; will try again');
    } finally {
      running = false;
    }
  };
  void tick();
  const timer = setInterval(tick, rt.settings.DINGBRIDGE_SWEEP_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
