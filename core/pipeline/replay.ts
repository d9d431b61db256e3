import type { Runtime } from '../runtime.ts';
import { QUEUE_NAMES } from '../queue/queues.ts';
import { eventJobId, stepJobId } from './jobs.ts';

export interface ReplayResult {
  eventId: string;
  steps: string[];
  redispatched: boolean;
}

const REPLAYABLE = ['dead', 'waiting_reauth'] as const;

/**
 * Runs again every failed step of an event (dead-lettered or waiting for re-authorisation), each with
 * a fresh attempt budget and with its flow as it is now. A step that succeeded is never run again.
 * An event that was never dispatched is dispatched.
 */
export async function replayEvent(rt: Runtime, eventId: string): Promise<ReplayResult | undefined> {
  const event = await rt.db.selectFrom('events').select(['id', 'status']).where('id', '=', eventId).executeTakeFirst();
  if (!event) return undefined;
  if (event.status === 'received') {
    await rt.queue.add(QUEUE_NAMES.events, { eventId }, { jobId: eventJobId(eventId) });
    return { eventId, steps: [], redispatched: true };
  }
  const ids = await rt.db
    .selectFrom('step_runs')
    .select('id')
    .where('event_id', '=', eventId)
    .where('status', 'in', [...REPLAYABLE])
    .execute();
  const steps = [];
  for (const { id } of ids) if (await replayStep(rt, id)) steps.push(id);
  return { eventId, steps, redispatched: false };
}

/** Re-queues one failed step. Returns false when the step does not exist or has not failed. */
export async function replayStep(rt: Runtime, stepRunId: string): Promise<boolean> {
  const row = await rt.db
    .updateTable('step_runs')
    .set((eb) => ({
      status: 'pending',
      attempt_base: eb.ref('attempts'),
      next_attempt_at: null,
      finished_at: null,
      updated_at: new Date(),
    }))
    .where('id', '=', stepRunId)
    .where('status', 'in', [...REPLAYABLE])
    .returning(['id', 'attempts'])
    .executeTakeFirst();
  if (!row) return false;
  await rt.queue.add(QUEUE_NAMES.steps, { stepRunId: row.id }, { jobId: stepJobId(row.id, row.attempts + 1) });
  rt.log.info({ stepRunId }, 'step replayed');
  return true;
}
