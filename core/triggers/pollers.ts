import { sql, type Kysely } from 'kysely';
import {
  CursorExpired,
  type PolledEvent,
  type PollContext,
  type PollingTrigger,
  type TriggerDefinition,
  type TriggeredEvent,
} from '../connector.ts';
import type { Database } from '../db/schema.ts';
import { HttpError } from '../errors.ts';
import { parseDuration } from '../durations.ts';
import { POLL_INTERVAL_PARAM } from '../flows.ts';
import { enqueueStored, storeTriggeredInTx } from '../pipeline/ingest.ts';
import type { Runtime } from '../runtime.ts';
import { PeopleStore } from '../people/store.ts';
import { desiredTriggers } from './desired.ts';
import { emitTriggerFailed } from './failed.ts';
import { iso, recentEventCounts, recentFor, registerTriggerSource } from './health.ts';

declare module '../db/schema.ts' {
  interface Database {
    trigger_pollers: {
      id: string;
      connection_id: string;
      trigger_id: string;
      params: import('kysely').ColumnType<Record<string, string>, string, string>;
      cursor: string | null;
      cursor_at: Date | null;
      status: import('kysely').Generated<string>;
      interval_ms: number;
      next_run_at: import('kysely').Generated<Date>;
      last_poll_at: Date | null;
      last_event_at: Date | null;
      last_resync_at: Date | null;
      last_error: string | null;
      failures: import('kysely').Generated<number>;
      created_at: import('kysely').Generated<Date>;
      updated_at: import('kysely').Generated<Date>;
    };
    trigger_poll_items: { poller_id: string; item_id: string; version: string };
    trigger_poll_requests: {
      poller_id: string;
      requested_at: import('kysely').Generated<Date>;
      resync: import('kysely').Generated<boolean>;
    };
  }
}

/**
 * Polling triggers with a stored cursor. A row per poller (trigger, connection, params) follows the
 * enabled flows (`reconcilePollers`). Every worker process looks for due pollers; a poll runs inside
 * one transaction that holds the poller's row (`FOR NO KEY UPDATE SKIP LOCKED`), so across processes
 * one poll of a poller runs at a time, and the events it produced, the items it saw and its new
 * cursor commit together: a process killed mid-poll commits nothing and the next poll starts again
 * from the old cursor (de-duplication absorbs what the provider answers twice). The dispatch is
 * enqueued after the commit (the sweep catches an enqueue lost to a crash).
 *
 * A cursor the provider refuses as too old (`{ resync: true }` or CursorExpired) makes the hub ask
 * for a full listing and compare it with the items it last saw: only new, changed and deleted items
 * become events.
 */

/** Failures in a row after which the poller counts as failed (hub.trigger.failed, status `error`). */
const FAILED_AFTER = 3;
const MAX_BACKOFF_MS = 15 * 60_000;
/** Polls in flight at once per process (each holds a database connection while it runs). */
const LOCAL_CONCURRENCY = 2;
/** Pages polled back to back when the trigger says there is more, before yielding to other pollers. */
const MAX_PAGES_PER_RUN = 20;

const kicks = new Set<() => void>();
/** Wakes this process's poll loop at once (after a "poll now" request). */
function kickLocal(): void {
  for (const k of kicks) k();
}

function pollTriggerOf(rt: Runtime, connectorId: string, triggerId: string): { def: TriggerDefinition; poll: PollingTrigger } | undefined {
  const def = rt.registry.connector(connectorId)?.triggers.find((t) => t.id === triggerId);
  return def?.poll ? { def, poll: def.poll } : undefined;
}

/** The poll interval: the smallest `pollInterval` of the flows that need it, else the trigger's, else DINGBRIDGE_POLL_INTERVAL_MS. */
function intervalFor(rt: Runtime, trigger: PollingTrigger, flowParams: Array<Record<string, string> | undefined>): number {
  const asked = flowParams
    .map((p) => p?.[POLL_INTERVAL_PARAM])
    .filter((v): v is string => Boolean(v))
    .map((v) => {
      try {
        return Math.max(1000, parseDuration(v));
      } catch {
        return undefined;
      }
    })
    .filter((v): v is number => v !== undefined);
  return asked.length ? Math.min(...asked) : (trigger.intervalMs ?? rt.settings.DINGBRIDGE_POLL_INTERVAL_MS);
}

/** Keeps one poller row per (trigger, connection, params) that the enabled flows need; removes the rest. */
export async function reconcilePollers(rt: Runtime): Promise<{ added: number; removed: number }> {
  const result = { added: 0, removed: 0 };
  const desired = await desiredTriggers(
    rt,
    'poll',
    (t) => t.poll?.params,
    (t) => t.poll?.optionalParams,
  );
  const rows = await rt.db.selectFrom('trigger_pollers').select(['id', 'interval_ms']).execute();
  const existing = new Map(rows.map((r) => [r.id, r]));
  for (const want of desired) {
    const interval = intervalFor(
      rt,
      want.trigger.poll!,
      want.flows.map((f) => f.when.params),
    );
    const row = existing.get(want.id);
    if (!row) {
      const inserted = await rt.db
        .insertInto('trigger_pollers')
        .values({
          id: want.id,
          connection_id: want.connectionId,
          trigger_id: want.trigger.id,
          params: JSON.stringify(want.params),
          interval_ms: interval,
          status: 'pending',
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (inserted) {
        result.added += 1;
        rt.log.info({ poller: want.id, connectionId: want.connectionId, trigger: want.trigger.id }, 'poller added');
      }
    } else if (row.interval_ms !== interval) {
      await rt.db.updateTable('trigger_pollers').set({ interval_ms: interval, updated_at: new Date() }).where('id', '=', want.id).execute();
    }
  }
  const wanted = new Set(desired.map((d) => d.id));
  for (const row of rows) {
    if (wanted.has(row.id)) continue;
    await rt.db.deleteFrom('trigger_pollers').where('id', '=', row.id).execute();
    result.removed += 1;
    rt.log.info({ poller: row.id }, 'poller removed: no enabled flow needs it');
  }
  return result;
}

/** Asks for an immediate poll of one poller ("poll now"); `resync` asks for a full resync. False when there is no such poller. */
export async function requestPoll(rt: Runtime, pollerId: string, opts: { resync?: boolean } = {}): Promise<boolean> {
  const exists = await rt.db.selectFrom('trigger_pollers').select('id').where('id', '=', pollerId).executeTakeFirst();
  if (!exists) return false;
  await insertRequests(rt, [pollerId], Boolean(opts.resync));
  kickLocal();
  return true;
}

async function insertRequests(rt: Runtime, ids: string[], resync: boolean): Promise<void> {
  await rt.db
    .insertInto('trigger_poll_requests')
    .values(ids.map((id) => ({ poller_id: id, requested_at: new Date(), resync })))
    .onConflict((oc) =>
      oc.column('poller_id').doUpdateSet((eb) => ({
        requested_at: eb.ref('excluded.requested_at'),
        resync: sql<boolean>`trigger_poll_requests.resync or excluded.resync`,
      })),
    )
    .execute()
    .catch((err) => {
      if (!/foreign key/i.test((err as Error).message)) throw err;
    }); // a poller removed meanwhile
}

/**
 * "Something changed" for a connection (e.g. a body-less push notification): polls at once every
 * poller of the connection whose params agree with the given ones (a param the poller does not have is ignored).
 */
/** Something besides pollers that reads a connection's changes when asked (e.g. the two-way calendar sync). */
export type PollListener = (rt: Runtime, connectionId: string, params: Record<string, string>) => Promise<void>;
const pollListeners = new Set<PollListener>();
export function onPollRequested(listener: PollListener): void {
  pollListeners.add(listener);
}

export async function requestPollFor(rt: Runtime, connectionId: string, params: Record<string, string> = {}): Promise<number> {
  for (const listener of pollListeners) {
    await listener(rt, connectionId, params).catch((err) =>
      rt.log.warn({ connectionId, err: (err as Error).message }, 'a poll listener failed'),
    );
  }
  // One statement (a busy push channel asks often): a request for each matching poller.
  const agree = Object.entries(params).map(([k, v]) => sql`(p.params->>${k} is null or p.params->>${k} = ${v})`);
  const result = await sql`insert into trigger_poll_requests (poller_id, requested_at, resync)
    select p.id, now(), false from trigger_pollers p where p.connection_id = ${connectionId}${agree.length ? sql` and ${sql.join(agree, sql` and `)}` : sql``}
    on conflict (poller_id) do update set requested_at = excluded.requested_at`.execute(rt.db);
  kickLocal();
  return Number(result.numAffectedRows ?? 0);
}

type PollerRow = Database['trigger_pollers'] extends infer T
  ? { [K in keyof T]: T[K] extends import('kysely').ColumnType<infer S, any, any> ? S : T[K] }
  : never;

/** Upserts or deletes the items a poll saw (one statement per kind, for pages of thousands). */
async function recordItems(trx: Kysely<Database>, pollerId: string, events: PolledEvent[]): Promise<void> {
  const latest = new Map<string, { version: string; deleted: boolean }>();
  for (const e of events) if (e.item) latest.set(e.item.id, { version: e.item.version, deleted: Boolean(e.item.deleted) });
  const upserts = [...latest].filter(([, v]) => !v.deleted).map(([id, v]) => ({ poller_id: pollerId, item_id: id, version: v.version }));
  const deletes = [...latest].filter(([, v]) => v.deleted).map(([id]) => id);
  for (let i = 0; i < upserts.length; i += 1000) {
    await trx
      .insertInto('trigger_poll_items')
      .values(upserts.slice(i, i + 1000))
      .onConflict((oc) => oc.columns(['poller_id', 'item_id']).doUpdateSet((eb) => ({ version: eb.ref('excluded.version') })))
      .execute();
  }
  for (let i = 0; i < deletes.length; i += 1000) {
    await trx
      .deleteFrom('trigger_poll_items')
      .where('poller_id', '=', pollerId)
      .where('item_id', 'in', deletes.slice(i, i + 1000))
      .execute();
  }
}

/** A full listing compared with what the poller last saw: only real changes become events, deletions included. */
async function resync(
  trx: Kysely<Database>,
  trigger: PollingTrigger,
  ctx: PollContext,
  row: PollerRow,
): Promise<{ events: PolledEvent[]; cursor: string | null }> {
  const listing = await trigger.resync(ctx, row.params);
  const seen = new Map(
    (await trx.selectFrom('trigger_poll_items').select(['item_id', 'version']).where('poller_id', '=', row.id).execute()).map((r) => [
      r.item_id,
      r.version,
    ]),
  );
  const events: PolledEvent[] = [];
  const present = new Set<string>();
  for (const item of listing.items) {
    present.add(item.id);
    if (seen.get(item.id) !== item.version) events.push({ ...item.event, item: { id: item.id, version: item.version } });
  }
  for (const [id, version] of seen) {
    if (!present.has(id)) events.push({ ...trigger.deletedEvent({ id, version }, row.params), item: { id, version, deleted: true } });
  }
  return { events, cursor: listing.cursor };
}

interface RunOutcome {
  polled: boolean;
  more: boolean;
  stored: number;
}

/**
 * One poll of one poller if it is due (or `force`d) and no other process is polling it. Exported for
 * tests and the "poll now" path; the poll loop calls it.
 */
export async function pollOnce(rt: Runtime, pollerId: string, opts: { force?: boolean } = {}): Promise<RunOutcome> {
  let toEnqueue: string[] = [];
  let failed: { row: PollerRow; title: string; message: string } | undefined;
  const outcome = await rt.db.transaction().execute(async (trx): Promise<RunOutcome> => {
    const row = (await trx
      .selectFrom('trigger_pollers')
      .selectAll()
      .where('id', '=', pollerId)
      .forNoKeyUpdate()
      .skipLocked()
      .executeTakeFirst()) as PollerRow | undefined;
    if (!row) return { polled: false, more: false, stored: 0 };
    const request = await trx
      .selectFrom('trigger_poll_requests')
      .select(['requested_at', 'resync'])
      .where('poller_id', '=', pollerId)
      .executeTakeFirst();
    if (!opts.force && !request && new Date(row.next_run_at).getTime() > Date.now()) return { polled: false, more: false, stored: 0 };
    // Requests made from here on stay for the next poll; those answered by this one are removed with its commit.
    const answered = async () => {
      if (request)
        await trx
          .deleteFrom('trigger_poll_requests')
          .where('poller_id', '=', pollerId)
          .where('requested_at', '<=', request.requested_at)
          .execute();
    };
    const conn = await rt.connections.store.get(row.connection_id);
    const found = conn && pollTriggerOf(rt, conn.connector_id, row.trigger_id);
    if (!conn || !found) return { polled: false, more: false, stored: 0 };
    const { def, poll } = found;
    const reason: PollContext['reason'] = request?.resync ? 'resync' : row.cursor === null ? 'first' : request ? 'now' : 'interval';
    const log = rt.log.child({ poller: row.id, connectionId: row.connection_id, trigger: row.trigger_id });
    try {
      const known = async (ids: string[]) => {
        const out = new Map<string, string>();
        for (let i = 0; i < ids.length; i += 1000) {
          const rows = await trx
            .selectFrom('trigger_poll_items')
            .select(['item_id', 'version'])
            .where('poller_id', '=', row.id)
            .where('item_id', 'in', ids.slice(i, i + 1000))
            .execute();
          for (const r of rows) out.set(r.item_id, r.version);
        }
        return out;
      };
      const ctx: PollContext = {
        connection: await rt.connections.handle(row.connection_id),
        log,
        reason,
        known,
        people: new PeopleStore(rt.db),
      };
      let events: PolledEvent[];
      let cursor: string | null;
      let more = false;
      let resynced = false;
      if (reason === 'resync') {
        ({ events, cursor } = await resync(trx, poll, ctx, row));
        resynced = true;
      } else {
        let answer: Awaited<ReturnType<PollingTrigger['poll']>>;
        try {
          answer = await poll.poll(ctx, row.params, row.cursor);
        } catch (err) {
          if (!(err instanceof CursorExpired) && (err as Error)?.name !== 'CursorExpired') throw err;
          answer = { resync: true };
        }
        if ('resync' in answer) {
          log.warn('the provider refused the cursor as too old: resyncing');
          ({ events, cursor } = await resync(trx, poll, { ...ctx, reason: 'resync' }, row));
          resynced = true;
        } else {
          ({ events, cursor } = answer);
          more = Boolean(answer.more) && cursor !== row.cursor;
        }
      }
      await recordItems(trx, row.id, events);
      const emit: TriggeredEvent[] = reason === 'first' && poll.skipHistory && !resynced ? [] : events.map(({ item: _item, ...e }) => e);
      const stored = await storeTriggeredInTx(rt, trx, conn.connector_id, row.connection_id, emit);
      toEnqueue = stored.toEnqueue;
      const now = new Date();
      const jitter = Math.round(row.interval_ms * 0.1 * Math.random());
      await trx
        .updateTable('trigger_pollers')
        .set({
          cursor,
          cursor_at: cursor !== row.cursor ? now : row.cursor_at,
          status: 'ok',
          last_error: null,
          failures: 0,
          last_poll_at: now,
          next_run_at: more ? now : new Date(now.getTime() + row.interval_ms + jitter),
          ...(resynced ? { last_resync_at: now } : {}),
          ...(stored.toEnqueue.length ? { last_event_at: now } : {}),
          updated_at: now,
        })
        .where('id', '=', row.id)
        .execute();
      await answered();
      if (stored.toEnqueue.length || resynced)
        log.info({ events: stored.toEnqueue.length, resynced, cursorChanged: cursor !== row.cursor }, 'poll stored events');
      return { polled: true, more, stored: stored.toEnqueue.length };
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      const failures = row.failures + 1;
      const backoff = Math.min(MAX_BACKOFF_MS, row.interval_ms * 2 ** Math.min(failures - 1, 10));
      await trx
        .updateTable('trigger_pollers')
        .set({
          status: failures >= FAILED_AFTER ? 'error' : row.status === 'error' ? 'error' : 'retrying',
          last_error: message.slice(0, 1000),
          failures,
          last_poll_at: new Date(),
          next_run_at: new Date(Date.now() + backoff),
          updated_at: new Date(),
        })
        .where('id', '=', row.id)
        .execute();
      await answered();
      log.warn({ err: message, failures, retryInMs: backoff }, 'poll failed');
      if (failures === FAILED_AFTER) failed = { row, title: def.title, message };
      return { polled: true, more: false, stored: 0 };
    }
  });
  await enqueueStored(rt, toEnqueue);
  if (failed)
    await emitTriggerFailed(rt, {
      triggerKey: failed.row.id,
      kind: 'poll',
      connectionId: failed.row.connection_id,
      triggerId: failed.row.trigger_id,
      title: failed.title,
      params: failed.row.params,
      reason: failed.message,
    });
  return outcome;
}

/**
 * The poll loop of a worker process: reconciles the pollers with the flows every sweep interval, and
 * every second (or at once when kicked) polls what is due, at most LOCAL_CONCURRENCY at a time.
 */
export function startPollManager(rt: Runtime): { stop(): Promise<void> } {
  const running = new Map<string, Promise<void>>();
  let stopped = false;
  let ticking = false;
  let lastReconcile = 0;
  const log = rt.log.child({ component: 'pollers' });

  const runPoller = async (id: string) => {
    for (let page = 0; page < MAX_PAGES_PER_RUN && !stopped; page += 1) {
      const out = await pollOnce(rt, id);
      if (!out.more) break;
    }
  };

  const tick = async () => {
    if (ticking || stopped) return;
    ticking = true;
    try {
      if (Date.now() - lastReconcile >= rt.settings.DINGBRIDGE_SWEEP_INTERVAL_MS) {
        lastReconcile = Date.now();
        await reconcilePollers(rt);
      }
      const free = LOCAL_CONCURRENCY - running.size;
      if (free <= 0) return;
      const due = await rt.db
        .selectFrom('trigger_pollers')
        .select('id')
        .where((eb) =>
          eb.or([
            eb('next_run_at', '<=', sql<Date>`now()`),
            eb.exists(
              eb
                .selectFrom('trigger_poll_requests')
                .select('poller_id')
                .whereRef('trigger_poll_requests.poller_id', '=', 'trigger_pollers.id'),
            ),
          ]),
        )
        .where('id', 'not in', running.size ? [...running.keys()] : [''])
        .orderBy('next_run_at')
        .limit(free * 3)
        .execute();
      for (const { id } of due.sort(() => Math.random() - 0.5).slice(0, free)) {
        const p = runPoller(id)
          .catch((err) => log.warn({ poller: id, err: (err as Error).message }, 'poll run failed'))
          .finally(() => {
            running.delete(id);
            if (!stopped)
              setImmediate(() => {
                void tick();
              });
          });
        running.set(id, p);
      }
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'poll loop failed; will try again');
    } finally {
      ticking = false;
    }
  };
  const kick = () => {
    setImmediate(() => {
      void tick();
    });
  };
  kicks.add(kick);
  const timer = setInterval(
    () => {
      void tick();
    },
    Math.min(1000, rt.settings.DINGBRIDGE_SWEEP_INTERVAL_MS),
  );
  timer.unref();
  kick();
  return {
    async stop() {
      stopped = true;
      kicks.delete(kick);
      clearInterval(timer);
      await Promise.all(running.values());
    },
  };
}

registerTriggerSource('poll', {
  async list(rt) {
    const rows = await rt.db
      .selectFrom('trigger_pollers')
      .innerJoin('connections', 'connections.id', 'trigger_pollers.connection_id')
      .leftJoin('trigger_poll_requests', 'trigger_poll_requests.poller_id', 'trigger_pollers.id')
      .selectAll('trigger_pollers')
      .select(['connections.connector_id', 'trigger_poll_requests.requested_at'])
      .execute();
    const counts = rows.length ? await recentEventCounts(rt) : new Map();
    return rows.map((r) => {
      const def = rt.registry.connector(r.connector_id)?.triggers.find((t) => t.id === r.trigger_id);
      const recent = recentFor(counts, r.connection_id, def?.events ?? []);
      return {
        id: r.id,
        connector: r.connector_id,
        kind: 'poll' as const,
        connection: r.connection_id,
        status: r.status,
        expiresAt: null,
        nextRunAt: iso(r.requested_at ?? r.next_run_at),
        lastEventAt: iso(r.last_event_at) ?? recent.lastEventAt,
        lastError: r.last_error,
        trigger: r.trigger_id,
        title: def?.title ?? r.trigger_id,
        params: r.params,
        lastPollAt: iso(r.last_poll_at),
        lastResyncAt: iso(r.last_resync_at),
        cursorAgeMs: r.cursor_at ? Date.now() - new Date(r.cursor_at).getTime() : null,
        intervalMs: r.interval_ms,
        failures: r.failures,
        eventsLast24h: recent.eventsLast24h,
        actions: ['poll', 'resync'],
      };
    });
  },
  async act(rt, id, action) {
    if (!id.startsWith('poll_')) return false;
    if (action === 'renew') throw new HttpError(409, 'not_applicable', 'a poller has nothing to renew: use poll or resync');
    return requestPoll(rt, id, { resync: action === 'resync' });
  },
});
