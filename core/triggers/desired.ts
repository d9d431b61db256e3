import crypto from 'node:crypto';
import type { TriggerDefinition } from '../connector.ts';
import { eventTypeMatches, type Flow } from '../flows.ts';
import type { Runtime } from '../runtime.ts';

/** What the enabled flows need of one trigger on one connection, with the parameters that identify it. */
export interface DesiredTrigger {
  id: string;
  connectionId: string;
  connectorId: string;
  trigger: TriggerDefinition;
  params: Record<string, string>;
  flows: Flow[];
}

/** A stable id for (connection, trigger, params), prefixed by kind (`sub_`, `poll_`). */
export const triggerInstanceId = (prefix: string, connectionId: string, triggerId: string, params: Record<string, string>) =>
  `${prefix}_${crypto
    .createHash('sha256')
    .update(JSON.stringify([connectionId, triggerId, Object.entries(params).sort()]))
    .digest('base64url')
    .slice(0, 22)}`;

/**
 * For every enabled flow bound to a connection (`when.source`), the triggers of that connection's
 * connector that `paramsOf` selects (it names the identifying params, or undefined to skip) and that
 * emit the flow's event. Flows asking for the same (connection, trigger, params) share one entry.
 */
export async function desiredTriggers(
  rt: Runtime,
  prefix: string,
  paramsOf: (t: TriggerDefinition) => string[] | undefined,
  /** Params that also identify an instance when a flow sets them (e.g. a Drive trigger's `subfolders`). */
  optionalOf: (t: TriggerDefinition) => string[] | undefined = () => undefined,
): Promise<DesiredTrigger[]> {
  const wanted = new Map<string, DesiredTrigger>();
  const connections = new Map((await rt.connections.store.list()).map((c) => [c.id, c]));
  for (const flow of rt.flows.list()) {
    if (!flow.enabled || !flow.when.source) continue;
    const conn = connections.get(flow.when.source);
    if (!conn || conn.status === 'disabled') continue;
    const connector = rt.registry.connector(conn.connector_id);
    for (const trigger of connector?.triggers ?? []) {
      const names = paramsOf(trigger);
      if (!names || !trigger.events.some((t) => eventTypeMatches(flow.when.event, t))) continue;
      const params = Object.fromEntries(names.map((p) => [p, flow.when.params?.[p]]).filter(([, v]) => v)) as Record<string, string>;
      if (Object.keys(params).length !== names.length) continue;
      for (const p of optionalOf(trigger) ?? []) if (flow.when.params?.[p]) params[p] = flow.when.params[p];
      const id = triggerInstanceId(prefix, conn.id, trigger.id, params);
      const entry = wanted.get(id) ?? { id, connectionId: conn.id, connectorId: conn.connector_id, trigger, params, flows: [] };
      entry.flows.push(flow);
      wanted.set(id, entry);
    }
  }
  return [...wanted.values()];
}
