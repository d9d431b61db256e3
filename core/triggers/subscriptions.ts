import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { SubscriptionRecord, TriggerDefinition } from '../connector.ts';
import { HttpError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import { registerSealedColumn } from '../vault/vault.ts';
import { desiredTriggers, type DesiredTrigger } from './desired.ts';
import { emitTriggerFailed, TRIGGER_FAILED_EVENT } from './failed.ts';
import { iso, recentEventCounts, recentFor, registerTriggerSource } from './health.ts';
import { requestPollFor } from './pollers.ts';

export { TRIGGER_FAILED_EVENT };

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
      expires_at: Date | null;
      state: import('kysely').ColumnType<Record<string, unknown>, string | undefined, string>;
      secret: string | null;
      previous_external_id: string | null;
      previous_state: import('kysely').ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
      previous_secret: string | null;
      renewed_at: Date | null;
      renew_requested: import('kysely').Generated<boolean>;
      last_event_at: Date | null;
    };
    trigger_subscription_retired: {
      external_id: string;
      subscription_id: string;
      state: import('kysely').ColumnType<Record<string, unknown>, string, string>;
      secret: string | null;
      retired_at: import('kysely').Generated<Date>;
    };
  }
}

const secretAad = (id: string) => `trigger_subscriptions:${id}:secret`;
const previousSecretAad = (id: string) => `trigger_subscriptions:${id}:previous_secret`;
registerSealedColumn({ table: 'trigger_subscriptions', idColumn: 'id', column: 'secret', aad: secretAad });
registerSealedColumn({ table: 'trigger_subscriptions', idColumn: 'id', column: 'previous_secret', aad: previousSecretAad });
const retiredSecretAad = (externalId: string) => `trigger_subscription_retired:${externalId}:secret`;
registerSealedColumn({ table: 'trigger_subscription_retired', idColumn: 'external_id', column: 'secret', aad: retiredSecretAad });

/** How long a replaced registration's late deliveries are still matched. */
const RETIRED_KEEP_MS = 3_600_000;

/** A subscription with an expiry is renewed this long before it, unless its trigger says otherwise. */
export const DEFAULT_RENEW_BEFORE_MS = 24 * 3_600_000;

type Row = {
  id: string;
  connection_id: string;
  trigger_id: string;
  params: Record<string, string>;
  external_id: string | null;
  status: string;
  last_error: string | null;
  checked_at: Date | null;
  expires_at: Date | null;
  state: Record<string, unknown>;
  secret: string | null;
  previous_external_id: string | null;
  previous_state: Record<string, unknown> | null;
  previous_secret: string | null;
  renewed_at: Date | null;
  renew_requested: boolean;
  last_event_at: Date | null;
  created_at: Date;
  updated_at: Date;
};

function recordOf(rt: Runtime, row: Row, which: 'current' | 'previous' = 'current'): SubscriptionRecord {
  const previous = which === 'previous';
  const sealed = previous ? row.previous_secret : row.secret;
  return {
    id: row.id,
    externalId: (previous ? row.previous_external_id : row.external_id) ?? '',
    params: row.params,
    state: (previous ? row.previous_state : row.state) ?? {},
    ...(sealed ? { secret: rt.vault.open(sealed, previous ? previousSecretAad(row.id) : secretAad(row.id)) } : {}),
    ...(!previous && row.expires_at ? { expiresAt: iso(row.expires_at)! } : {}),
  };
}

function callbackUrl(rt: Runtime, connectorId: string, connectionId: string, trigger: TriggerDefinition): string {
  if (!rt.settings.PUBLIC_URL) throw new Error("PUBLIC_URL is not set: providers need the hub's public address to send webhooks to");
  const base = `${rt.settings.PUBLIC_URL.replace(/\/+$/, '')}/webhooks/${connectorId}/${connectionId}`;
  // With several webhook triggers on one connector, the URL says which one (the per-connection route reads it).
  const webhookTriggers = rt.registry.connector(connectorId)?.triggers.filter((t) => t.webhook) ?? [];
  return webhookTriggers.length > 1 ? `${base}?trigger=${encodeURIComponent(trigger.id)}` : base;
}

/**
 * How long before expiry to renew: the trigger's `renewBeforeMs`, else 24 h, but never more than half
 * the registration's lifetime (a channel that lives one hour is renewed after 30 minutes, not at once).
 */
function renewBefore(trigger: TriggerDefinition | undefined, row: Pick<Row, 'expires_at' | 'renewed_at' | 'created_at'>): number {
  if (trigger?.subscription?.renewBeforeMs !== undefined) return trigger.subscription.renewBeforeMs;
  if (!row.expires_at) return DEFAULT_RENEW_BEFORE_MS;
  const lifetime = new Date(row.expires_at).getTime() - new Date(row.renewed_at ?? row.created_at).getTime();
  return Math.min(DEFAULT_RENEW_BEFORE_MS, Math.max(0, lifetime / 2));
}
const renewalDue = (row: Row, trigger: TriggerDefinition | undefined, now = Date.now()) =>
  Boolean(row.expires_at) && new Date(row.expires_at!).getTime() - renewBefore(trigger, row) <= now;

/**
 * Registrations wanted besides the flows' (e.g. the two-way calendar sync's push channel per person):
 * each source answers what it needs now; reconciling keeps them like the flows' ones.
 */
export type SubscriptionSource = (rt: Runtime) => Promise<DesiredTrigger[]>;
const subscriptionSources = new Set<SubscriptionSource>();
export function registerSubscriptionSource(source: SubscriptionSource): void {
  subscriptionSources.add(source);
}

/**
 * Registers (or renews) one subscription: the new registration is saved first (the old one moves to
 * `previous_*`, still matched for late deliveries), then the old one is stopped.
 */
async function register(rt: Runtime, db: Kysely<Database>, want: DesiredTrigger, row: Row | undefined): Promise<void> {
  const handle = await rt.connections.handle(want.connectionId);
  const got = await want.trigger.subscription!.subscribe(
    handle,
    want.params,
    callbackUrl(rt, want.connectorId, want.connectionId, want.trigger),
  );
  const renewing = Boolean(row?.external_id && row.status === 'active');
  const now = new Date();
  const values = {
    external_id: got.externalId,
    status: 'active',
    last_error: null,
    updated_at: now,
    expires_at: got.expiresAt ? new Date(got.expiresAt) : null,
    state: JSON.stringify(got.state ?? {}),
    secret: got.secret ? rt.vault.seal(got.secret, secretAad(want.id)) : null,
    renew_requested: false,
    ...(renewing
      ? {
          previous_external_id: row!.external_id,
          previous_state: JSON.stringify(row!.state ?? {}),
          previous_secret: row!.secret ? rt.vault.seal(rt.vault.open(row!.secret, secretAad(want.id)), previousSecretAad(want.id)) : null,
        }
      : {}),
    renewed_at: now, // when this registration was made: its lifetime bounds the renewal margin
  };
  await db
    .insertInto('trigger_subscriptions')
    .values({ id: want.id, connection_id: want.connectionId, trigger_id: want.trigger.id, params: JSON.stringify(want.params), ...values })
    .onConflict((oc) => oc.column('id').doUpdateSet(values))
    .execute();
  if (renewing) {
    const old = recordOf(rt, row!);
    await db
      .insertInto('trigger_subscription_retired')
      .values({
        external_id: old.externalId,
        subscription_id: want.id,
        state: JSON.stringify(old.state),
        secret: old.secret ? rt.vault.seal(old.secret, retiredSecretAad(old.externalId)) : null,
      })
      .onConflict((oc) => oc.column('external_id').doNothing())
      .execute();
    try {
      await want.trigger.subscription!.unsubscribe(handle, row!.external_id!, recordOf(rt, row!));
    } catch (err) {
      // The old registration expires by itself; deliveries on it are still matched meanwhile.
      rt.log.warn({ subscription: want.id, err: (err as Error).message }, 'renewed, but the old registration could not be stopped');
    }
    rt.log.info({ subscription: want.id, connectionId: want.connectionId, expiresAt: values.expires_at }, 'provider subscription renewed');
  } else {
    rt.log.info({ subscription: want.id, connectionId: want.connectionId, params: want.params }, 'provider webhook registered');
  }
}

/**
 * Keeps provider registrations in step with the enabled flows: registers what a flow needs, renews
 * what is about to expire, removes what no flow needs any more, and (with `check`) registers again
 * what the provider dropped. One process at a time (an advisory lock); a failure is recorded and the
 * admins are told by an event.
 */
export async function reconcileSubscriptions(
  rt: Runtime,
  opts: { check?: boolean } = {},
): Promise<{ added: number; removed: number; renewed: number; failed: number }> {
  const result = { added: 0, removed: 0, renewed: 0, failed: 0 };
  await rt.db.connection().execute(async (conn) => {
    const got = await sql<{
      ok: boolean;
    }>`select pg_try_advisory_lock(hashtextextended('dingbridge:trigger-subscriptions', 0)) as ok`.execute(conn);
    if (!got.rows[0]?.ok) return;
    try {
      // A subscription may not be wanted (push needs an https public address; an optional one, push in
      // front of a poller, is skipped without any public address).
      const publicUrl = rt.settings.PUBLIC_URL || undefined;
      const desired = (
        await desiredTriggers(
          rt,
          'sub',
          (t) => (t.subscription && (t.subscription.wanted?.({ publicUrl }) ?? true) ? t.subscription.params : undefined),
          (t) => t.subscription?.optionalParams,
        )
      ).filter((d) => publicUrl || !d.trigger.subscription?.optional);
      for (const source of subscriptionSources) {
        for (const d of await source(rt)) {
          if (!d.trigger.subscription || !(d.trigger.subscription.wanted?.({ publicUrl }) ?? true)) continue;
          if (!publicUrl && d.trigger.subscription.optional) continue;
          if (!desired.some((x) => x.id === d.id)) desired.push(d);
        }
      }
      const rows = (await conn.selectFrom('trigger_subscriptions').selectAll().execute()) as Row[];
      const byId = new Map(rows.map((r) => [r.id, r]));
      const desiredIds = new Set(desired.map((d) => d.id));

      for (const want of desired) {
        const row = byId.get(want.id);
        let needs = !row || row.status !== 'active' || !row.external_id || row.renew_requested || renewalDue(row, want.trigger);
        if (row && needs && row.status === 'active' && row.external_id) result.renewed += 1;
        if (!needs && opts.check) {
          const handle = await rt.connections.handle(want.connectionId);
          const state = await want.trigger.subscription!.check(handle, row!.external_id!, recordOf(rt, row!)).catch(() => 'ok' as const);
          await conn.updateTable('trigger_subscriptions').set({ checked_at: new Date() }).where('id', '=', want.id).execute();
          if (state === 'gone') {
            rt.log.warn(
              { subscription: want.id, connectionId: want.connectionId },
              'the provider dropped a webhook registration; registering it again',
            );
            needs = true;
            result.renewed += 1;
            await conn.updateTable('trigger_subscriptions').set({ status: 'gone' }).where('id', '=', want.id).execute();
            row!.status = 'gone';
          }
        }
        if (!needs) continue;
        try {
          await register(rt, conn, want, row);
          if (!row) result.added += 1;
        } catch (err) {
          result.failed += 1;
          const message = (err as Error).message;
          await conn
            .insertInto('trigger_subscriptions')
            .values({
              id: want.id,
              connection_id: want.connectionId,
              trigger_id: want.trigger.id,
              params: JSON.stringify(want.params),
              status: 'error',
              last_error: message,
            })
            .onConflict((oc) =>
              oc.column('id').doUpdateSet({
                status: row?.status === 'active' && row.expires_at && new Date(row.expires_at) > new Date() ? 'active' : 'error',
                last_error: message,
                updated_at: new Date(),
              }),
            )
            .execute();
          rt.log.warn({ subscription: want.id, err: message }, 'could not register a provider webhook');
          await emitTriggerFailed(rt, {
            triggerKey: want.id,
            kind: 'subscription',
            connectionId: want.connectionId,
            triggerId: want.trigger.id,
            title: want.trigger.title,
            params: want.params,
            reason: message,
          });
        }
      }

      for (const row of rows) {
        if (desiredIds.has(row.id)) continue;
        const connector = rt.registry.connector((await rt.connections.store.get(row.connection_id))?.connector_id ?? '');
        const trigger = connector?.triggers.find((t) => t.id === row.trigger_id);
        try {
          if (row.external_id && trigger?.subscription)
            await trigger.subscription.unsubscribe(await rt.connections.handle(row.connection_id), row.external_id, recordOf(rt, row));
          await conn.deleteFrom('trigger_subscriptions').where('id', '=', row.id).execute();
          result.removed += 1;
          rt.log.info({ subscription: row.id }, 'provider webhook removed: no enabled flow needs it');
        } catch (err) {
          await conn
            .updateTable('trigger_subscriptions')
            .set({ last_error: (err as Error).message, updated_at: new Date() })
            .where('id', '=', row.id)
            .execute();
        }
      }
    } finally {
      await sql`select pg_advisory_unlock(hashtextextended('dingbridge:trigger-subscriptions', 0))`.execute(conn);
    }
  });
  return result;
}

/**
 * The subscription a webhook request belongs to, by the externalId the trigger's `match` read from it
 * (its current registration, or the previous one during a renewal). Records the delivery time.
 */
export async function findSubscription(
  rt: Runtime,
  connectionId: string,
  triggerId: string,
  externalId: string,
): Promise<(SubscriptionRecord & { previous?: boolean }) | undefined> {
  // One statement: found and marked as notified (a busy channel sends many of these).
  const row = (await rt.db
    .updateTable('trigger_subscriptions')
    .set({ last_event_at: new Date() })
    .where('connection_id', '=', connectionId)
    .where('trigger_id', '=', triggerId)
    .where((eb) => eb.or([eb('external_id', '=', externalId), eb('previous_external_id', '=', externalId)]))
    .returningAll()
    .executeTakeFirst()) as Row | undefined;
  if (row) return row.external_id === externalId ? recordOf(rt, row) : { ...recordOf(rt, row, 'previous'), previous: true };
  // A registration replaced by more than one renewal since the delivery left the provider.
  const retired = await rt.db
    .selectFrom('trigger_subscription_retired')
    .innerJoin('trigger_subscriptions', 'trigger_subscriptions.id', 'trigger_subscription_retired.subscription_id')
    .select([
      'trigger_subscription_retired.external_id',
      'trigger_subscription_retired.state',
      'trigger_subscription_retired.secret',
      'trigger_subscriptions.id',
      'trigger_subscriptions.params',
    ])
    .where('trigger_subscription_retired.external_id', '=', externalId)
    .where('trigger_subscriptions.connection_id', '=', connectionId)
    .where('trigger_subscriptions.trigger_id', '=', triggerId)
    .where('trigger_subscription_retired.retired_at', '>', new Date(Date.now() - RETIRED_KEEP_MS))
    .executeTakeFirst();
  if (!retired) return undefined;
  return {
    id: retired.id,
    externalId,
    params: retired.params,
    state: retired.state ?? {},
    previous: true,
    ...(retired.secret ? { secret: rt.vault.open(retired.secret, retiredSecretAad(externalId)) } : {}),
  };
}

/** Reconciles every sweep interval and checks registrations with the providers every DINGBRIDGE_TRIGGER_CHECK_MS. */
export function startSubscriptionKeeper(rt: Runtime): { stop(): void } {
  let lastCheck = 0;
  let running = false;
  let again = false;
  let renewTimer: NodeJS.Timeout | undefined;
  const tick = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      const check = Date.now() - lastCheck >= rt.settings.DINGBRIDGE_TRIGGER_CHECK_MS;
      if (check) lastCheck = Date.now();
      await reconcileSubscriptions(rt, { check });
      await armRenewal();
      await rt.db
        .deleteFrom('trigger_subscription_retired')
        .where('retired_at', '<', new Date(Date.now() - RETIRED_KEEP_MS))
        .execute();
    } catch (err) {
      rt.log.warn({ err: (err as Error).message }, 'trigger subscription upkeep failed; will try again');
    } finally {
      running = false;
      if (again) {
        again = false;
        setImmediate(() => {
          void tick();
        });
      }
    }
  };
  /** Wakes the keeper when the next renewal is due, rather than at the next interval (short-lived channels). */
  const armRenewal = async () => {
    const rows = await rt.db
      .selectFrom('trigger_subscriptions')
      .innerJoin('connections', 'connections.id', 'trigger_subscriptions.connection_id')
      .select([
        'trigger_subscriptions.trigger_id',
        'trigger_subscriptions.expires_at',
        'trigger_subscriptions.renewed_at',
        'trigger_subscriptions.created_at',
        'connections.connector_id',
      ])
      .where('trigger_subscriptions.expires_at', 'is not', null)
      .where('trigger_subscriptions.status', '=', 'active')
      .execute();
    const due = rows
      .map(
        (r) =>
          new Date(r.expires_at!).getTime() -
          renewBefore(
            rt.registry.connector(r.connector_id)?.triggers.find((t) => t.id === r.trigger_id),
            r,
          ),
      )
      .sort((a, b) => a - b)[0];
    clearTimeout(renewTimer);
    if (due === undefined) return;
    renewTimer = setTimeout(
      () => {
        void tick();
      },
      Math.max(0, due - Date.now()),
    );
    renewTimer.unref();
  };
  lastCheck = Date.now();
  void tick();
  const timer = setInterval(tick, rt.settings.DINGBRIDGE_SWEEP_INTERVAL_MS);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      clearTimeout(renewTimer);
    },
  };
}

registerTriggerSource('subscription', {
  async list(rt) {
    const rows = (await rt.db
      .selectFrom('trigger_subscriptions')
      .innerJoin('connections', 'connections.id', 'trigger_subscriptions.connection_id')
      .selectAll('trigger_subscriptions')
      .select('connections.connector_id')
      .execute()) as Array<Row & { connector_id: string }>;
    const counts = rows.length ? await recentEventCounts(rt) : new Map();
    return rows.map((r) => {
      const def = rt.registry.connector(r.connector_id)?.triggers.find((t) => t.id === r.trigger_id);
      const recent = recentFor(counts, r.connection_id, def?.events ?? []);
      const renewAt = r.expires_at ? new Date(new Date(r.expires_at).getTime() - renewBefore(def, r)) : null;
      return {
        id: r.id,
        connector: r.connector_id,
        kind: 'subscription' as const,
        connection: r.connection_id,
        status: r.status,
        expiresAt: iso(r.expires_at),
        nextRunAt: iso(renewAt),
        lastEventAt: recent.lastEventAt ?? iso(r.last_event_at),
        lastError: r.last_error,
        trigger: r.trigger_id,
        title: def?.title ?? r.trigger_id,
        params: r.params,
        externalId: r.external_id,
        lastNotificationAt: iso(r.last_event_at),
        renewedAt: iso(r.renewed_at),
        checkedAt: iso(r.checked_at),
        eventsLast24h: recent.eventsLast24h,
        actions: ['renew', 'poll'],
      };
    });
  },
  async act(rt, id, action) {
    if (!id.startsWith('sub_')) return false;
    const row = await rt.db
      .selectFrom('trigger_subscriptions')
      .select(['id', 'connection_id', 'params'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) return false;
    if (action === 'resync') throw new HttpError(409, 'not_applicable', 'a subscription has no cursor to resync: resync its poller');
    if (action === 'poll') {
      await requestPollFor(rt, row.connection_id, row.params);
      return true;
    }
    await rt.db.updateTable('trigger_subscriptions').set({ renew_requested: true }).where('id', '=', id).execute();
    await reconcileSubscriptions(rt);
    return true;
  },
});

/** Webhook triggers that need no registration (the admin pastes the URL into the provider): one row per connection. */
registerTriggerSource('webhook', {
  async list(rt) {
    const out = [];
    const connections = await rt.connections.store.list();
    let counts: Awaited<ReturnType<typeof recentEventCounts>> | undefined;
    for (const c of connections) {
      for (const t of rt.registry.connector(c.connector_id)?.triggers ?? []) {
        if (!t.webhook || t.subscription) continue;
        counts ??= await recentEventCounts(rt);
        const recent = recentFor(counts, c.id, t.events);
        out.push({
          id: `webhook:${c.id}:${t.id}`,
          connector: c.connector_id,
          kind: 'webhook' as const,
          connection: c.id,
          status: c.status === 'disabled' ? 'disabled' : 'ok',
          expiresAt: null,
          nextRunAt: null,
          lastEventAt: recent.lastEventAt,
          lastError: null,
          trigger: t.id,
          title: t.title,
          url: `/webhooks/${c.connector_id}/${c.id}`,
          eventsLast24h: recent.eventsLast24h,
          actions: [],
        });
      }
    }
    return out;
  },
});
