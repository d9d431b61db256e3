import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { TriggerDefinition } from '../connector.ts';
import { eventIdFor } from '../events.ts';
import { eventTypeMatches } from '../flows.ts';
import { ingestEvent } from '../pipeline/ingest.ts';
import type { Runtime } from '../runtime.ts';

declare module '../db/schema.ts' {
  interface Database {
    trigger_subscriptions: {
      id: string;
      connection_id: string;
      trigger_id: string;
      params: import('kysely').ColumnType<Record<string, string>, string, string>;
      external_id: string | null;
      status: import('kysely').Generated<string>;
      last_error: string | null;
      checked_at: Date | null;
      created_at: import('kysely').Generated<Date>;
      updated_at: import('kysely').Generated<Date>;
    };
  }
}

export const TRIGGER_FAILED_EVENT = 'hub.trigger.failed';

interface Desired { id: string; connectionId: string; connectorId: string; trigger: TriggerDefinition; params: Record<string, string> }

const subscriptionId = (connectionId: string, triggerId: string, params: Record<string, string>) =>
  `sub_${crypto.createHash('sha256').update(JSON.stringify([connectionId, triggerId, Object.entries(params).sort()])).digest('base64url').slice(0, 22)}`;

/** What the enabled flows need registered with providers. */
async function desiredSubscriptions(rt: Runtime): Promise<Desired[]> {
  const wanted = new Map<string, Desired>();
  const connections = new Map((await rt.connections.store.list()).map((c) => [c.id, c]));
  for (const flow of rt.flows.list()) {
    if (!flow.enabled || !flow.when.source) continue;
    const conn = connections.get(flow.when.source);
    if (!conn || conn.status === 'disabled') continue;
    const connector = rt.registry.connector(conn.connector_id);
    for (const trigger of connector?.triggers ?? []) {
      if (!trigger.subscription || !trigger.events.some((t) => eventTypeMatches(flow.when.event, t))) continue;
      const params = Object.fromEntries(trigger.subscription.params.map((p) => [p, flow.when.params?.[p]]).filter(([, v]) => v)) as Record<string, string>;
      if (Object.keys(params).length !== trigger.subscription.params.length) continue;
      const id = subscriptionId(conn.id, trigger.id, params);
      wanted.set(id, { id, connectionId: conn.id, connectorId: conn.connector_id, trigger, params });
    }
  }
  return [...wanted.values()];
}

function callbackUrl(rt: Runtime, connectorId: string, connectionId: string): string {
  if (!rt.settings.PUBLIC_URL) throw new Error('PUBLIC_URL is not set: providers need the hub\'s public address to send webhooks to');
  return `${rt.settings.PUBLIC_URL.replace(/\/+$/, '')}/webhooks/${connectorId}/${connectionId}`;
}

/**
 * Keeps provider registrations in step with the enabled flows: registers what a flow needs, removes
 * what no flow needs any more, and (with `check`) registers again what the provider dropped. One
 * process at a time (an advisory lock); a failure is recorded and the admins are told by an event.
 */
export async function reconcileSubscriptions(rt: Runtime, opts: { check?: boolean } = {}): Promise<{ added: number; removed: number; renewed: number; failed: number }> {
  const result = { added: 0, removed: 0, renewed: 0, failed: 0 };
  await rt.db.connection().execute(async (conn) => {
    const got = await sql<{ ok: boolean }>`select pg_try_advisory_lock(hashtextextended('dingbridge:trigger-subscriptions', 0)) as ok`.execute(conn);
    if (!got.rows[0]?.ok) return;
    try {
      const desired = await desiredSubscriptions(rt);
      const rows = await conn.selectFrom('trigger_subscriptions').selectAll().execute();
      const byId = new Map(rows.map((r) => [r.id, r]));
      const desiredIds = new Set(desired.map((d) => d.id));

      for (const want of desired) {
        const row = byId.get(want.id);
        let needs = !row || row.status !== 'active' || !row.external_id;
        if (!needs && opts.check) {
          const handle = await rt.connections.handle(want.connectionId);
          const state = await want.trigger.subscription!.check(handle, row!.external_id!).catch(() => 'ok' as const);
          await conn.updateTable('trigger_subscriptions').set({ checked_at: new Date() }).where('id', '=', want.id).execute();
          if (state === 'gone') {
            rt.log.warn({ subscription: want.id, connectionId: want.connectionId }, 'the provider dropped a webhook registration; registering it again');
            needs = true;
            result.renewed += 1;
          }
        }
        if (!needs) continue;
        try {
          const handle = await rt.connections.handle(want.connectionId);
          const { externalId } = await want.trigger.subscription!.subscribe(handle, want.params, callbackUrl(rt, want.connectorId, want.connectionId));
          await conn.insertInto('trigger_subscriptions').values({
            id: want.id, connection_id: want.connectionId, trigger_id: want.trigger.id, params: JSON.stringify(want.params), external_id: externalId, status: 'active',
          }).onConflict((oc) => oc.column('id').doUpdateSet({ external_id: externalId, status: 'active', last_error: null, updated_at: new Date() })).execute();
          if (!row) result.added += 1;
          rt.log.info({ subscription: want.id, connectionId: want.connectionId, params: want.params }, 'provider webhook registered');
        } catch (err) {
          result.failed += 1;
          const message = (err as Error).message;
          await conn.insertInto('trigger_subscriptions').values({
            id: want.id, connection_id: want.connectionId, trigger_id: want.trigger.id, params: JSON.stringify(want.params), status: 'error', last_error: message,
          }).onConflict((oc) => oc.column('id').doUpdateSet({ status: 'error', last_error: message, updated_at: new Date() })).execute();
          rt.log.warn({ subscription: want.id, err: message }, 'could not register a provider webhook');
          await ingestEvent(rt, {
            id: eventIdFor('hub', `trigger-failed:${want.id}:${new Date().toISOString().slice(0, 13)}`),
            type: TRIGGER_FAILED_EVENT, source: 'hub', connectionId: want.connectionId, occurredAt: new Date().toISOString(), subject: want.trigger.title,
            data: { connection: { id: want.connectionId }, trigger: want.trigger.id, params: want.params, reason: message },
          });
        }
      }

      for (const row of rows) {
        if (desiredIds.has(row.id)) continue;
        const connector = rt.registry.connector((await rt.connections.store.get(row.connection_id))?.connector_id ?? '');
        const trigger = connector?.triggers.find((t) => t.id === row.trigger_id);
        try {
          if (row.external_id && trigger?.subscription) await trigger.subscription.unsubscribe(await rt.connections.handle(row.connection_id), row.external_id);
          await conn.deleteFrom('trigger_subscriptions').where('id', '=', row.id).execute();
          result.removed += 1;
          rt.log.info({ subscription: row.id }, 'provider webhook removed: no enabled flow needs it');
        } catch (err) {
          await conn.updateTable('trigger_subscriptions').set({ last_error: (err as Error).message, updated_at: new Date() }).where('id', '=', row.id).execute();
        }
      }
    } finally {
      await sql`select pg_advisory_unlock(hashtextextended('dingbridge:trigger-subscriptions', 0))`.execute(conn);
    }
  });
  return result;
}

/** Reconciles every sweep interval and checks registrations with the providers every DINGBRIDGE_TRIGGER_CHECK_MS. */
export function startSubscriptionKeeper(rt: Runtime): { stop(): void } {
  let lastCheck = 0;
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const check = Date.now() - lastCheck >= rt.settings.DINGBRIDGE_TRIGGER_CHECK_MS;
      if (check) lastCheck = Date.now();
      await reconcileSubscriptions(rt, { check });
    } catch (err) {
      rt.log.warn({ err: (err as Error).message }, 'trigger subscription upkeep failed; will try again');
    } finally { running = false; }
  };
  lastCheck = Date.now();
  void tick();
  const timer = setInterval(tick, rt.settings.DINGBRIDGE_SWEEP_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
