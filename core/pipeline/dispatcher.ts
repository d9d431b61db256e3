import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { HubEvent } from '../events.ts';
import { flowMatches, type Flow } from '../flows.ts';
import type { Runtime } from '../runtime.ts';
import { QUEUE_NAMES } from '../queue/queues.ts';
import { rowToEvent } from './event-store.ts';
import { stepJobId, stepRunId } from './jobs.ts';
import { runFanOuts, type FanOutJobs } from './extensions.ts';

/** What a dispatch recorded and must enqueue once its transaction has committed. */
export interface Dispatched {
  stepIds: string[];
  fannedOut: FanOutJobs[];
}

/** The enabled flows an event matches (flows are in memory; a condition may read the event's links). */
export async function matchFlows(rt: Runtime, event: HubEvent, db: Kysely<Database> = rt.db): Promise<Flow[]> {
  const linked = event.refs?.length ? await rt.links.scopeFor(event.refs, db) : {};
  const matched: Flow[] = [];
  for (const flow of rt.flows.list()) {
    try {
      if (await flowMatches(flow, event, linked)) matched.push(flow);
    } catch (err) {
      rt.log.warn({ eventId: event.id, flowId: flow.id, err: (err as Error).message }, 'flow condition failed to evaluate; flow skipped');
    }
  }
  return matched;
}

/**
 * Records, in the caller's transaction, the first step of each matched flow and the fan-outs (REST-hook
 * deliveries) of an event that the same transaction moved to `dispatched`. In the default mode the step
 * rows are the jobs: a NOTIFY in the same transaction wakes the workers when it commits.
 */
export async function recordDispatch(rt: Runtime, trx: Transaction<Database>, event: HubEvent, matched: Flow[]): Promise<Dispatched> {
  const fannedOut = await runFanOuts(rt, trx, event);
  if (matched.length === 0) return { stepIds: [], fannedOut };
  const created = await trx
    .insertInto('step_runs')
    .values(
      matched.map((flow) => ({
        id: stepRunId(event.id, flow.id, 0),
        event_id: event.id,
        flow_id: flow.id,
        step_index: 0,
        action: flow.then[0]!.action,
        max_attempts: rt.settings.DINGBRIDGE_STEP_ATTEMPTS,
      })),
    )
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .execute();
  if (created.length && rt.queue.stepsInStore) await rt.queue.notifySteps(trx);
  return { stepIds: created.map((r) => r.id), fannedOut };
}

/** Enqueues what a committed dispatch recorded (step jobs on Redis; fan-out jobs). A failure is left to the sweep. */
export async function enqueueDispatched(rt: Runtime, d: Dispatched): Promise<void> {
  try {
    if (!rt.queue.stepsInStore)
      await rt.queue.addMany(
        QUEUE_NAMES.steps,
        d.stepIds.map((id) => ({ data: { stepRunId: id }, opts: { jobId: stepJobId(id, 1) } })),
      );
    for (const batch of d.fannedOut) await rt.queue.addMany(batch.queue, batch.jobs);
  } catch (err) {
    rt.log.warn({ err: (err as Error).message }, 'dispatched work stored but not enqueued; the sweep will enqueue it');
  }
}

/**
 * Matches a stored event against the flows and creates the first step of each matching flow, in one
 * transaction with the event's move to `dispatched`, so a crash leaves either nothing done (the sweep
 * dispatches again) or everything recorded (the sweep enqueues the pending steps). Catch hooks and
 * webhooks dispatch in their ingest transaction instead (ingest.ts); this is the path for events stored
 * without it (polls, replays) and for the sweep.
 */
export async function dispatchEvent(rt: Runtime, eventId: string): Promise<void> {
  const row = await rt.db.selectFrom('events').selectAll().where('id', '=', eventId).executeTakeFirst();
  if (!row || row.status !== 'received') return;
  const event = rowToEvent(row);
  const matched = await matchFlows(rt, event);

  const done = await rt.db.transaction().execute(async (trx) => {
    const claimed = await trx
      .updateTable('events')
      .set({ status: 'dispatched', flows_matched: matched.length, dispatched_at: new Date() })
      .where('id', '=', eventId)
      .where('status', '=', 'received')
      .returning('id')
      .executeTakeFirst();
    if (!claimed) return undefined;
    return recordDispatch(rt, trx, event, matched);
  });
  if (!done) return;
  rt.log.debug({ eventId, type: event.type, flows: matched.map((f) => f.id) }, 'event dispatched');
  await enqueueDispatched(rt, done);
}
