import { flowMatches, type Flow } from '../flows.ts';
import type { Runtime } from '../runtime.ts';
import { QUEUE_NAMES } from '../queue/queues.ts';
import { rowToEvent } from './event-store.ts';
import { stepJobId, stepRunId } from './jobs.ts';
import { runFanOuts, type FanOutJobs } from './extensions.ts';

/**
 * Matches a stored event against the flows and creates the first step of each matching flow, in one
 * transaction with the event's move to `dispatched`, so a crash leaves either nothing done (the sweep
 * dispatches again) or everything recorded (the sweep enqueues the pending steps).
 */
export async function dispatchEvent(rt: Runtime, eventId: string): Promise<void> {
  const row = await rt.db.selectFrom('events').selectAll().where('id', '=', eventId).executeTakeFirst();
  if (!row || row.status !== 'received') return;
  const event = rowToEvent(row);
  const linked = await rt.links.scopeFor(event.refs ?? []);

  const matched: Flow[] = [];
  for (const flow of rt.flows.list()) {
    try {
      if (await flowMatches(flow, event, linked)) matched.push(flow);
    } catch (err) {
      rt.log.warn({ eventId, flowId: flow.id, err: (err as Error).message }, 'flow condition failed to evaluate; flow skipped');
    }
  }

  let fannedOut: FanOutJobs[] = [];
  const created = await rt.db.transaction().execute(async (trx) => {
    const claimed = await trx
      .updateTable('events')
      .set({ status: 'dispatched', flows_matched: matched.length, dispatched_at: new Date() })
      .where('id', '=', eventId)
      .where('status', '=', 'received')
      .returning('id')
      .executeTakeFirst();
    if (!claimed) return [];
    // Other consumers of every event (REST-hook subscriptions), recorded in this same transaction.
    fannedOut = await runFanOuts(rt, trx, event);
    if (matched.length === 0) return [];
    return trx
      .insertInto('step_runs')
      .values(
        matched.map((flow) => ({
          id: stepRunId(eventId, flow.id, 0),
          event_id: eventId,
          flow_id: flow.id,
          step_index: 0,
          action: flow.then[0]!.action,
          max_attempts: rt.settings.DINGBRIDGE_STEP_ATTEMPTS,
        })),
      )
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .execute();
  });

  rt.log.debug({ eventId, type: event.type, flows: matched.map((f) => f.id) }, 'event dispatched');
  await rt.queue.addMany(
    QUEUE_NAMES.steps,
    created.map((r) => ({ data: { stepRunId: r.id }, opts: { jobId: stepJobId(r.id, 1) } })),
  );
  for (const batch of fannedOut) await rt.queue.addMany(batch.queue, batch.jobs);
}
