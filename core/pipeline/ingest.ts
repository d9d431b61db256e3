import { eventIdFor, type HubEvent } from '../events.ts';
import type { TriggeredEvent } from '../connector.ts';
import type { Runtime } from '../runtime.ts';
import { QUEUE_NAMES } from '../queue/queues.ts';
import { eventJobId } from './jobs.ts';

export interface IngestResult { id: string; duplicate: boolean; echo?: boolean }

/**
 * Stores an event (unique on its id) and enqueues its dispatch. Returns once the event is durably
 * stored: a repeat of the same id is reported as a duplicate and not processed again. An enqueue
 * that fails is not an error for the sender: the sweep finds the stored event and enqueues it.
 */
export async function ingestEvent(rt: Runtime, event: HubEvent, opts: { echo?: boolean } = {}): Promise<IngestResult> {
  const inserted = await rt.db.insertInto('events').values({
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
  }).onConflict((oc) => oc.column('id').doNothing()).returning('id').executeTakeFirst();

  if (!inserted) {
    rt.metrics.events.inc({ outcome: 'duplicate', type: event.type });
    return { id: event.id, duplicate: true };
  }
  rt.metrics.events.inc({ outcome: opts.echo ? 'echo' : 'stored', type: event.type });
  if (opts.echo) return { id: event.id, duplicate: false, echo: true };
  try {
    await rt.queue.add(QUEUE_NAMES.events, { eventId: event.id }, { jobId: eventJobId(event.id) });
  } catch (err) {
    rt.log.warn({ eventId: event.id, err: (err as Error).message }, 'event stored but not enqueued; the sweep will enqueue it');
  }
  return { id: event.id, duplicate: false };
}

/**
 * Stores events a connector's trigger produced (webhook, stream or polling). The HubEvent id is
 * derived from the connection and the provider's own id, so the same thing arriving twice, or by two
 * routes (an HTTP callback and a stream), is one event.
 */
export async function ingestTriggered(rt: Runtime, connectorId: string, connectionId: string, events: TriggeredEvent[]): Promise<IngestResult[]> {
  const results: IngestResult[] = [];
  for (const e of events) {
    results.push(await ingestEvent(rt, {
      id: eventIdFor(`${connectorId}:${connectionId}`, e.providerId),
      type: e.type,
      source: connectionId,
      connectionId,
      occurredAt: e.occurredAt ?? new Date().toISOString(),
      subject: e.subject ?? null,
      data: e.data,
      raw: e.raw,
      refs: e.refs,
    }, { echo: await rt.links.isEcho(e.echoKeys ?? []) }));
  }
  return results;
}
