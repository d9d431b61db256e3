import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { eventIdFor, type HubEvent } from '../events.ts';
import type { TriggeredEvent } from '../connector.ts';
import type { Runtime } from '../runtime.ts';
import { QUEUE_NAMES } from '../queue/queues.ts';
import type { Flow } from '../flows.ts';
import { eventJobId } from './jobs.ts';
import { enqueueDispatched, matchFlows, recordDispatch } from './dispatcher.ts';
import { intakeStatementFor, type ReplayGuard } from './intake-statement.ts';
import { claimedRef, claimOnce, pruneClaimsNowAndThen } from '../replay.ts';

export interface IngestResult {
  id: string;
  duplicate: boolean;
  echo?: boolean;
}

export type { ReplayGuard } from './intake-statement.ts';

/**
 * Stores an event (unique on its id) and dispatches it in the same transaction: the flows (in memory)
 * are matched first, and the event row, the first step of each matching flow and the fan-outs are
 * committed together, so the acknowledgement means everything is recorded and nothing waits on an
 * event job. Returns once that transaction committed; a repeat of the same id (or of a guarded signed
 * body) is reported as a duplicate and not processed again. Queue work after the commit (step jobs on
 * Redis, fan-out jobs) that fails is not an error for the sender: the sweep finds the stored rows.
 */
export async function ingestEvent(
  rt: Runtime,
  event: HubEvent,
  opts: { echo?: boolean; replay?: ReplayGuard } = {},
): Promise<IngestResult> {
  if (opts.echo) {
    // An echo is kept for the record and never dispatched.
    return rt.db.transaction().execute(async (trx) => {
      if (opts.replay) {
        const claim = await claimOnce(trx, opts.replay.scope, opts.replay.key, opts.replay.windowMs, event.id, rt.db);
        if (!claim.fresh) return { id: claim.ref ?? event.id, duplicate: true };
      }
      return insertEvent(rt, trx, event, opts);
    });
  }
  const matched = await matchFlows(rt, event);
  const fast = await storeInOneStatement(rt, event, matched, opts.replay);
  if (fast) return fast;
  const outcome = await rt.db.transaction().execute(async (trx) => {
    if (opts.replay) {
      const claim = await claimOnce(trx, opts.replay.scope, opts.replay.key, opts.replay.windowMs, event.id, rt.db);
      if (!claim.fresh) {
        rt.metrics.events.inc({ outcome: 'duplicate', type: event.type });
        return { result: { id: claim.ref ?? event.id, duplicate: true } };
      }
    }
    const result = await insertEvent(rt, trx, event, { dispatched: matched.length });
    if (result.duplicate) return { result };
    return { result, dispatched: await recordDispatch(rt, trx, event, matched) };
  });
  if (outcome.dispatched) await enqueueDispatched(rt, outcome.dispatched);
  return outcome.result;
}

/**
 * The common case in one statement (intake-statement.ts: batched with the events arriving meanwhile)
 * instead of a six-statement transaction. `undefined` when a fan-out has work (an active REST-hook
 * subscription): nothing was written and the caller uses the transaction that runs them.
 */
async function storeInOneStatement(rt: Runtime, event: HubEvent, matched: Flow[], replay?: ReplayGuard): Promise<IngestResult | undefined> {
  const r = await intakeStatementFor(rt)({ event, matched, replay });
  if (!r.idle) return undefined;
  if (replay) pruneClaimsNowAndThen(rt.db);
  if (!r.fresh || !r.stored) {
    rt.metrics.events.inc({ outcome: 'duplicate', type: event.type });
    return { id: r.fresh ? event.id : ((await claimedRef(rt.db, replay!.scope, replay!.key)) ?? event.id), duplicate: true };
  }
  rt.metrics.events.inc({ outcome: 'stored', type: event.type });
  // Redis: the jobs are added after the answer (grouped with other intakes' adds); the rows are the
  // record, and the sweep adds the job of any stored step whose add never happened.
  if (r.stepIds.length) void enqueueDispatched(rt, { stepIds: r.stepIds, fannedOut: [] });
  return { id: event.id, duplicate: false };
}

/** Inserts one event row on `db` (a transaction, when the caller stores something with it); does not enqueue. */
async function insertEvent(
  rt: Runtime,
  db: Kysely<Database>,
  event: HubEvent,
  opts: { echo?: boolean; dispatched?: number } = {},
): Promise<IngestResult> {
  const inserted = await db
    .insertInto('events')
    .values({
      id: event.id,
      type: event.type,
      source: event.source,
      connection_id: event.connectionId,
      subject: event.subject,
      occurred_at: event.occurredAt,
      data: JSON.stringify(event.data),
      raw: event.raw === undefined ? null : JSON.stringify(event.raw),
      refs: event.refs?.length ? JSON.stringify(event.refs) : null,
      ...(opts.echo ? { status: 'echo' as const } : {}),
      ...(opts.dispatched !== undefined
        ? { status: 'dispatched' as const, flows_matched: opts.dispatched, dispatched_at: new Date() }
        : {}),
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();

  if (!inserted) {
    rt.metrics.events.inc({ outcome: 'duplicate', type: event.type });
    return { id: event.id, duplicate: true };
  }
  rt.metrics.events.inc({ outcome: opts.echo ? 'echo' : 'stored', type: event.type });
  if (opts.echo) return { id: event.id, duplicate: false, echo: true };
  return { id: event.id, duplicate: false };
}

/** Enqueues the dispatch of stored events (after their transaction committed). A failure is left to the sweep. */
export async function enqueueStored(rt: Runtime, ids: string[]): Promise<void> {
  for (const id of ids) {
    try {
      await rt.queue.add(QUEUE_NAMES.events, { eventId: id }, { jobId: eventJobId(id) });
    } catch (err) {
      rt.log.warn({ eventId: id, err: (err as Error).message }, 'event stored but not enqueued; the sweep will enqueue it');
    }
  }
}

const triggeredToHub = (connectorId: string, connectionId: string, e: TriggeredEvent): HubEvent => ({
  id: eventIdFor(`${connectorId}:${connectionId}`, e.providerId),
  type: e.type,
  source: connectionId,
  connectionId,
  occurredAt: e.occurredAt ?? new Date().toISOString(),
  subject: e.subject ?? null,
  data: e.data,
  raw: e.raw,
  refs: e.refs,
});

/**
 * Stores a trigger's events on a transaction the caller commits together with its own rows (a
 * poller's cursor); the caller enqueues the returned `toEnqueue` ids once it has committed.
 */
export async function storeTriggeredInTx(
  rt: Runtime,
  trx: Kysely<Database>,
  connectorId: string,
  connectionId: string,
  events: TriggeredEvent[],
): Promise<{ results: IngestResult[]; toEnqueue: string[] }> {
  const results: IngestResult[] = [];
  // Events that can be echoes are checked one by one; the rest go in multi-row inserts (a poll may bring thousands).
  const plain: HubEvent[] = [];
  for (const e of events) {
    const hub = triggeredToHub(connectorId, connectionId, e);
    if (e.echoKeys?.length) results.push(await insertEvent(rt, trx, hub, { echo: await rt.links.isEcho(e.echoKeys) }));
    else plain.push(hub);
  }
  const unique = [...new Map(plain.map((e) => [e.id, e])).values()];
  for (let i = 0; i < unique.length; i += 500) {
    const chunk = unique.slice(i, i + 500);
    const inserted = new Set(
      (
        await trx
          .insertInto('events')
          .values(
            chunk.map((event) => ({
              id: event.id,
              type: event.type,
              source: event.source,
              connection_id: event.connectionId,
              subject: event.subject,
              occurred_at: event.occurredAt,
              data: JSON.stringify(event.data),
              raw: event.raw === undefined ? null : JSON.stringify(event.raw),
              refs: event.refs?.length ? JSON.stringify(event.refs) : null,
            })),
          )
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('id')
          .execute()
      ).map((r) => r.id),
    );
    for (const event of chunk) {
      const duplicate = !inserted.has(event.id);
      rt.metrics.events.inc({ outcome: duplicate ? 'duplicate' : 'stored', type: event.type });
      results.push({ id: event.id, duplicate });
    }
  }
  return { results, toEnqueue: results.filter((r) => !r.duplicate && !r.echo).map((r) => r.id) };
}

/**
 * Stores events a connector's trigger produced (webhook, stream or polling). The HubEvent id is
 * derived from the connection and the provider's own id, so the same thing arriving twice, or by two
 * routes (an HTTP callback and a stream), is one event.
 */
export async function ingestTriggered(
  rt: Runtime,
  connectorId: string,
  connectionId: string,
  events: TriggeredEvent[],
): Promise<IngestResult[]> {
  const results: IngestResult[] = [];
  for (const e of events) {
    results.push(await ingestEvent(rt, triggeredToHub(connectorId, connectionId, e), { echo: await rt.links.isEcho(e.echoKeys ?? []) }));
  }
  return results;
}
