import { eventIdFor } from '../events.ts';
import { ingestEvent } from '../pipeline/ingest.ts';
import type { Runtime } from '../runtime.ts';

/** The event a flow can route to the admins' DingTalk group when a trigger stops working. */
export const TRIGGER_FAILED_EVENT = 'hub.trigger.failed';

/**
 * Tells the admins that a trigger (subscription, poller, stream) stopped working. At most one event
 * per trigger per hour (its id is derived from the trigger and the hour), however many processes see it.
 */
export async function emitTriggerFailed(
  rt: Runtime,
  f: {
    triggerKey: string;
    kind: string;
    connectionId: string;
    triggerId: string;
    title: string;
    params?: Record<string, string>;
    reason: string;
  },
): Promise<void> {
  await ingestEvent(rt, {
    id: eventIdFor('hub', `trigger-failed:${f.triggerKey}:${new Date().toISOString().slice(0, 13)}`),
    type: TRIGGER_FAILED_EVENT,
    source: 'hub',
    connectionId: f.connectionId,
    occurredAt: new Date().toISOString(),
    subject: f.title,
    data: {
      connection: { id: f.connectionId },
      trigger: f.triggerId,
      kind: f.kind,
      id: f.triggerKey,
      params: f.params ?? {},
      reason: f.reason,
    },
  }).catch((err) => rt.log.warn({ err: (err as Error).message }, 'could not store hub.trigger.failed'));
}
