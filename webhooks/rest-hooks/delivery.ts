import crypto from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import { Webhook } from 'standardwebhooks';
import type { Database } from '../../core/db/schema.ts';
import { parseDurationList } from '../../core/durations.ts';
import { eventIdFor, type HubEvent } from '../../core/events.ts';
import { eventTypeMatches, templateScope } from '../../core/flows.ts';
import { EgressError, egressRequest } from '../../core/net/egress.ts';
import { parseRetryAfter } from '../../core/errors.ts';
import { ingestEvent } from '../../core/pipeline/ingest.ts';
import { loadEvent, rowToEvent } from '../../core/pipeline/event-store.ts';
import type { FanOutJobs } from '../../core/pipeline/extensions.ts';
import { QUEUE_NAMES } from '../../core/queue/queues.ts';
import type { Runtime } from '../../core/runtime.ts';
import { evaluateCondition } from '../../core/templating.ts';
import { registerSealedColumn } from '../../core/vault/vault.ts';
import type { DeliveryRow, SubscriptionRow } from '../tables.ts';

/**
 * Outbound REST-hook delivery, per the Standard Webhooks spec, with the database as the record:
 *
 * - Fan-out: every stored event creates one `hook_deliveries` row per matching active subscription,
 *   in the dispatch transaction. The row id is the `webhook-id` (stable per event × subscription).
 * - A worker claims a delivery by a conditional update under the subscription's row lock, which also
 *   enforces the subscription's concurrency cap and rate limit (GCRA: a delivery over the rate
 *   reserves the next free slot and waits for it; one over the cap waits with backoff). A slow target
 *   therefore holds at most `max_concurrency` workers, and the others keep delivering.
 * - 2xx within the timeout is success; anything else (3xx included) is a failed attempt, retried on
 *   the schedule (DINGBRIDGE_HOOK_RETRY_SCHEDULE, with jitter), 429/503 after their Retry-After;
 *   410 Gone deletes the subscription. After the last attempt the delivery is dead and an event
 *   `hub.delivery.exhausted` is ingested; a subscription failing for DINGBRIDGE_HOOK_DISABLE_AFTER_MS
 *   without one success is disabled (event `hub.subscription.disabled`).
 * - Job ids derive from the stored state (`<id>.a<attempt>.d<deferrals>`); the sweep re-enqueues
 *   deliveries whose job vanished.
 */
export const EXHAUSTED_EVENT = 'hub.delivery.exhausted';
export const DISABLED_EVENT = 'hub.subscription.disabled';

export const subscriptionAad = (id: string) => `hook_subscription:${id}`;
export const previousSecretAad = (id: string) => `hook_subscription:${id}:previous`;
registerSealedColumn({ table: 'hook_subscriptions', idColumn: 'id', column: 'secret', aad: subscriptionAad });
registerSealedColumn({ table: 'hook_subscriptions', idColumn: 'id', column: 'previous_secret', aad: previousSecretAad });

export const deliveryIdFor = (eventId: string, subscriptionId: string) =>
  `msg_${crypto.createHash('sha256').update(`${eventId}\u0000${subscriptionId}`).digest('base64url').slice(0, 27)}`;
export const deliveryJobId = (id: string, attempt: number, deferrals: number) => `${id}.a${attempt}.d${deferrals}`;

const schedules = new Map<string, number[]>();
export function retrySchedule(rt: Runtime): number[] {
  const text = rt.settings.DINGBRIDGE_HOOK_RETRY_SCHEDULE;
  let s = schedules.get(text);
  if (!s) {
    s = parseDurationList(text);
    schedules.set(text, s);
  }
  return s;
}

/** The delay before the attempt after `used` attempts, with ±10 % jitter (Retry-After wins when given). */
export function retryDelay(schedule: number[], used: number, retryAfterMs?: number, random = Math.random): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, 86_400_000);
  const base = schedule[Math.min(used, schedule.length - 1)] ?? 0;
  return base <= 0 ? 0 : Math.round(base * (0.9 + random() * 0.2));
}

export function newSecret(): string {
  return `whsec_${crypto.randomBytes(32).toString('base64')}`;
}

/** Does the subscription want this event? Its patterns, its filter (a Liquid condition), and never its own failure notices. */
export async function subscriptionWants(sub: Pick<SubscriptionRow, 'id' | 'events' | 'filter'>, event: HubEvent): Promise<boolean> {
  if (!sub.events.some((p) => eventTypeMatches(p, event.type))) return false;
  if (event.source === 'hub' && event.data.subscriptionId === sub.id) return false;
  if (!sub.filter) return true;
  try {
    return await evaluateCondition(sub.filter, templateScope(event));
  } catch {
    return false;
  }
}

export async function fanOutToSubscriptions(rt: Runtime, trx: Transaction<Database>, event: HubEvent): Promise<FanOutJobs[]> {
  const subs = await trx.selectFrom('hook_subscriptions').select(['id', 'events', 'filter']).where('status', '=', 'active').execute();
  if (subs.length === 0) return [];
  const wanted = [];
  for (const sub of subs) if (await subscriptionWants(sub, event)) wanted.push(sub);
  if (wanted.length === 0) return [];
  const schedule = retrySchedule(rt);
  const first = retryDelay(schedule, 0);
  const inserted = await trx
    .insertInto('hook_deliveries')
    .values(
      wanted.map((s) => ({
        id: deliveryIdFor(event.id, s.id),
        subscription_id: s.id,
        event_id: event.id,
        event_type: event.type,
        max_attempts: schedule.length,
        next_attempt_at: first > 0 ? new Date(Date.now() + first) : null,
      })),
    )
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .execute();
  const subOf = new Map(wanted.map((s) => [deliveryIdFor(event.id, s.id), s.id]));
  return [
    {
      queue: QUEUE_NAMES.deliveries,
      jobs: inserted.map((r) => ({
        data: { deliveryId: r.id, subscriptionId: subOf.get(r.id) },
        opts: { jobId: deliveryJobId(r.id, 1, 0), delayMs: first },
      })),
    },
  ];
}

const PARK_MS = 10_000;

/** A delivery of this subscription finished: the oldest parked ones (waiting for the cap) get their turn. */
async function unpark(rt: Runtime, subscriptionId: string, places = 1): Promise<void> {
  // Most of the time nothing waits: a look without the lock (a partial index) saves the round through it.
  const waiting = await rt.db
    .selectFrom('hook_deliveries')
    .select('id')
    .where('subscription_id', '=', subscriptionId)
    .where('parked', '=', true)
    .limit(1)
    .executeTakeFirst();
  if (!waiting) return;
  const rows = await serialised(subscriptionId, () =>
    rt.db.transaction().execute(async (trx) => {
      await sql`set local synchronous_commit = off`.execute(trx);
      // Under the subscription's lock, so a claim that is parking a delivery right now is seen.
      const sub = await trx
        .selectFrom('hook_subscriptions')
        .select('id')
        .where('id', '=', subscriptionId)
        .forNoKeyUpdate()
        .executeTakeFirst();
      if (!sub) return [];
      return trx
        .updateTable('hook_deliveries')
        .set((eb) => ({ parked: false, next_attempt_at: null, deferrals: eb('deferrals', '+', 1), updated_at: new Date() }))
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('hook_deliveries')
            .select('id')
            .where('subscription_id', '=', subscriptionId)
            .where('parked', '=', true)
            .orderBy('created_at')
            .limit(places),
        )
        .returning(['id', 'attempts', 'deferrals'])
        .execute();
    }),
  );
  await rt.queue.addMany(
    QUEUE_NAMES.deliveries,
    rows.map((r) => ({ data: { deliveryId: r.id, subscriptionId }, opts: { jobId: deliveryJobId(r.id, r.attempts + 1, r.deferrals) } })),
  );
}

type Claim =
  | { kind: 'none' }
  | { kind: 'deferred'; jobId: string; delayMs: number }
  | { kind: 'claimed'; delivery: DeliveryRow; sub: SubscriptionRow };

const claimable = (d: DeliveryRow, now: number) =>
  ((d.status === 'pending' || d.status === 'retrying') && (!d.next_attempt_at || new Date(d.next_attempt_at).getTime() <= now + 250)) ||
  (d.status === 'running' && d.lease_until !== null && new Date(d.lease_until).getTime() < now);

/**
 * Claims of one subscription queue up in this process before they take a database connection, so
 * workers waiting for a busy subscription's row lock do not hold connections others need.
 */
const claimChains = new Map<string, Promise<unknown>>();
function serialised<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = claimChains.get(key) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => {});
  claimChains.set(key, tail);
  void tail.then(() => {
    if (claimChains.get(key) === tail) claimChains.delete(key);
  });
  return run;
}

async function claim(rt: Runtime, id: string, subscriptionId?: string): Promise<Claim> {
  const subId =
    subscriptionId ??
    (await rt.db.selectFrom('hook_deliveries').select('subscription_id').where('id', '=', id).executeTakeFirst())?.subscription_id;
  if (!subId) return { kind: 'none' };
  return serialised(subId, () => claimUnderLock(rt, id, subId));
}

async function claimUnderLock(rt: Runtime, id: string, subId: string): Promise<Claim> {
  return rt.db.transaction().execute(async (trx): Promise<Claim> => {
    // A claim is re-derivable (a lost one is a pending or lease-expired row the sweep finds), so it
    // need not wait for its commit to reach the disk: the subscription's lock is held only briefly.
    const now = Date.now();
    // Every claim for one subscription goes through its row lock: the cap and the rate are exact across processes.
    const sub = await trx
      .selectFrom('hook_subscriptions')
      .selectAll()
      .select(sql<string>`set_config('synchronous_commit', 'off', true)`.as('async_commit'))
      .where('id', '=', subId)
      .forNoKeyUpdate()
      .executeTakeFirst();
    const d = await trx
      .selectFrom('hook_deliveries')
      .selectAll()
      .select((eb) =>
        eb
          .selectFrom('hook_deliveries as r')
          .select(sql<number>`count(*)::int`.as('n'))
          .where('r.subscription_id', '=', subId)
          .where('r.status', '=', 'running')
          .where('r.lease_until', '>', new Date(now))
          .as('running'),
      )
      .where('id', '=', id)
      .where('subscription_id', '=', subId)
      .executeTakeFirst();
    if (!sub || !d || !claimable(d, now)) return { kind: 'none' };
    if (sub.status !== 'active') {
      await trx
        .updateTable('hook_deliveries')
        .set({
          status: 'dead',
          last_error: `subscription ${sub.status}: ${sub.disabled_reason ?? ''}`.trim(),
          finished_at: new Date(now),
          updated_at: new Date(now),
          lease_until: null,
        })
        .where('id', '=', id)
        .execute();
      return { kind: 'none' };
    }
    const defer = async (untilMs: number, slot: Date | null): Promise<Claim> => {
      await trx
        .updateTable('hook_deliveries')
        .set({ next_attempt_at: new Date(untilMs), slot_at: slot, deferrals: d.deferrals + 1, updated_at: new Date(now) })
        .where('id', '=', id)
        .execute();
      return { kind: 'deferred', jobId: deliveryJobId(id, d.attempts + 1, d.deferrals + 1), delayMs: Math.max(0, untilMs - now) };
    };
    if (Number(d.running ?? 0) >= sub.max_concurrency) {
      // Parked without a job: the next delivery of this subscription to finish hands its place on
      // (`unpark`); should that hand-off be lost, the sweep finds it after PARK_MS + the grace period.
      await trx
        .updateTable('hook_deliveries')
        .set({ parked: true, next_attempt_at: new Date(now + PARK_MS), deferrals: d.deferrals + 1, updated_at: new Date(now) })
        .where('id', '=', id)
        .execute();
      return { kind: 'none' };
    }
    const hasSlot = d.slot_at !== null && new Date(d.slot_at).getTime() <= now + 50;
    if (!hasSlot) {
      const interval = 1000 / sub.rate_limit;
      const tat = Math.max(now, sub.rl_next_at ? new Date(sub.rl_next_at).getTime() : 0);
      await trx
        .updateTable('hook_subscriptions')
        .set({ rl_next_at: new Date(tat + interval) })
        .where('id', '=', sub.id)
        .execute();
      if (tat - now > 20) return defer(tat, new Date(tat));
    }
    const lease = rt.settings.DINGBRIDGE_HOOK_TIMEOUT_MS + 30_000;
    const claimed = await trx
      .updateTable('hook_deliveries')
      .set({
        status: 'running',
        attempts: d.attempts + 1,
        lease_until: new Date(now + lease),
        slot_at: null,
        parked: false,
        updated_at: new Date(now),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return { kind: 'claimed', delivery: claimed, sub };
  });
}

/** Signs with the current secret, and with the previous one too while a rotation is in its grace period. */
export function signatureFor(rt: Runtime, sub: SubscriptionRow, msgId: string, at: Date, payload: string): string {
  const sigs = [new Webhook(rt.vault.open(sub.secret, subscriptionAad(sub.id))).sign(msgId, at, payload)];
  if (sub.previous_secret && sub.previous_secret_until && new Date(sub.previous_secret_until).getTime() > Date.now()) {
    sigs.push(new Webhook(rt.vault.open(sub.previous_secret, previousSecretAad(sub.id))).sign(msgId, at, payload));
  }
  return sigs.join(' ');
}

export function deliveryBody(event: HubEvent): string {
  return JSON.stringify({ type: event.type, timestamp: event.occurredAt, data: event.data });
}

/** Events never change once stored; the few deliveries of one event share one read. */
const eventCache = new Map<string, HubEvent>();
async function cachedEvent(rt: Runtime, id: string): Promise<HubEvent | undefined> {
  const hit = eventCache.get(id);
  if (hit) return hit;
  const event = await loadEvent(rt.db, id);
  if (event) {
    eventCache.set(id, event);
    if (eventCache.size > 2000) eventCache.delete(eventCache.keys().next().value!);
  }
  return event;
}

interface Outcome {
  ok: boolean;
  status: number | null;
  error: string | null;
  response: string | null;
  retryAfterMs?: number;
  gone?: boolean;
  permanent?: boolean;
}

async function send(rt: Runtime, d: DeliveryRow, sub: SubscriptionRow): Promise<Outcome> {
  const event = await cachedEvent(rt, d.event_id);
  if (!event) return { ok: false, status: null, error: `event ${d.event_id} no longer exists`, response: null, permanent: true };
  const payload = deliveryBody(event);
  const at = new Date();
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'dingbridge-webhooks',
    'webhook-id': d.id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatureFor(rt, sub, d.id, at, payload),
    'dingbridge-event-id': event.id,
    'dingbridge-attempt': String(d.attempts),
  };
  try {
    const res = await egressRequest(sub.target_url, {
      method: 'POST',
      headers,
      body: payload,
      timeoutMs: rt.settings.DINGBRIDGE_HOOK_TIMEOUT_MS,
      maxBodyBytes: 2048,
    });
    const response = res.body.slice(0, 1024);
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, error: null, response };
    const retryAfterMs = res.status === 429 || res.status === 503 ? parseRetryAfter(res.header('retry-after')) : undefined;
    const why = res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : '';
    return { ok: false, status: res.status, error: `answered ${res.status}${why}`, response, retryAfterMs, gone: res.status === 410 };
  } catch (err) {
    if (err instanceof EgressError) return { ok: false, status: null, error: err.message, response: null, permanent: true };
    const e = err as Error & { code?: string };
    return {
      ok: false,
      status: null,
      error: e.name === 'TimeoutError' ? e.message : `request failed: ${e.code ?? e.message}`,
      response: null,
    };
  }
}

/** One attempt of one delivery: claim, send, record, schedule what comes next. */
export async function runDelivery(rt: Runtime, id: string, subscriptionId?: string): Promise<void> {
  const c = await claim(rt, id, subscriptionId);
  if (c.kind === 'none') return;
  if (c.kind === 'deferred') {
    await rt.queue.add(QUEUE_NAMES.deliveries, { deliveryId: id, subscriptionId }, { jobId: c.jobId, delayMs: c.delayMs });
    return;
  }
  const { delivery: d, sub } = c;
  const started = new Date();
  let outcome: Outcome;
  try {
    outcome = await send(rt, d, sub);
  } catch (err) {
    outcome = { ok: false, status: null, error: `delivery failed: ${(err as Error).message}`, response: null };
  }
  const finished = new Date();
  const log = rt.log.child({ deliveryId: d.id, subscriptionId: sub.id, eventId: d.event_id, attempt: d.attempts });

  if (outcome.gone) {
    // REST-hook convention: 410 Gone means the receiver unsubscribed.
    await rt.db.deleteFrom('hook_subscriptions').where('id', '=', sub.id).execute();
    log.info({ target: sub.target_url }, 'target answered 410 Gone; subscription deleted');
    return;
  }

  const schedule = retrySchedule(rt);
  const used = d.attempts - d.attempt_base;
  const dead = !outcome.ok && (outcome.permanent || used >= d.max_attempts);
  const status = outcome.ok ? ('succeeded' as const) : dead ? ('dead' as const) : ('retrying' as const);
  const delay = status === 'retrying' ? retryDelay(schedule, used, outcome.retryAfterMs) : 0;
  const disableAfter = rt.settings.DINGBRIDGE_HOOK_DISABLE_AFTER_MS;

  // The attempt and the delivery's new state in one statement (one round trip, atomic).
  await rt.db
    .with('attempt', (db) =>
      db
        .insertInto('hook_delivery_attempts')
        .values({
          delivery_id: d.id,
          attempt: d.attempts,
          started_at: started,
          duration_ms: finished.getTime() - started.getTime(),
          status_code: outcome.status,
          outcome: outcome.ok ? 'succeeded' : 'failed',
          error: outcome.error,
          response: outcome.response,
        })
        .onConflict((oc) => oc.columns(['delivery_id', 'attempt']).doNothing()),
    )
    .updateTable('hook_deliveries')
    .set({
      status,
      last_status: outcome.status,
      last_error: outcome.error,
      lease_until: null,
      updated_at: finished,
      next_attempt_at: status === 'retrying' ? new Date(finished.getTime() + delay) : null,
      finished_at: status === 'retrying' ? null : finished,
    })
    .where('id', '=', d.id)
    .execute();
  // The subscription's health, touched only when it changes: a success after failures, the first failure, the disabling.
  let disabled = false;
  if (outcome.ok) {
    if (sub.failing_since)
      await rt.db
        .updateTable('hook_subscriptions')
        .set({ failing_since: null })
        .where('id', '=', sub.id)
        .where('failing_since', 'is not', null)
        .execute();
  } else if (!sub.failing_since) {
    await rt.db
      .updateTable('hook_subscriptions')
      .set({ failing_since: finished })
      .where('id', '=', sub.id)
      .where('failing_since', 'is', null)
      .execute();
  } else if (finished.getTime() - new Date(sub.failing_since).getTime() >= disableAfter) {
    const row = await rt.db
      .updateTable('hook_subscriptions')
      .set({
        status: 'disabled',
        disabled_reason: `every delivery failed since ${new Date(sub.failing_since).toISOString()}`,
        updated_at: finished,
      })
      .where('id', '=', sub.id)
      .where('status', '=', 'active')
      .where('failing_since', 'is not', null)
      .returning('id')
      .executeTakeFirst();
    disabled = Boolean(row);
  }

  await unpark(rt, sub.id).catch((err) => log.warn({ err: (err as Error).message }, 'could not hand the place on; the sweep will'));
  if (status === 'retrying') {
    log.info({ status: outcome.status, err: outcome.error, delayMs: delay }, 'delivery failed; retry scheduled');
    await rt.queue.add(
      QUEUE_NAMES.deliveries,
      { deliveryId: d.id, subscriptionId: sub.id },
      { jobId: deliveryJobId(d.id, d.attempts + 1, d.deferrals), delayMs: delay },
    );
  } else if (status === 'dead') {
    log.warn({ status: outcome.status, err: outcome.error }, 'delivery dead-lettered');
    await ingestEvent(rt, {
      id: eventIdFor('hub', `exhausted:${d.id}:${d.attempts}`),
      type: EXHAUSTED_EVENT,
      source: 'hub',
      connectionId: null,
      occurredAt: finished.toISOString(),
      subject: d.id,
      data: {
        deliveryId: d.id,
        subscriptionId: sub.id,
        targetUrl: sub.target_url,
        eventId: d.event_id,
        eventType: d.event_type,
        attempts: d.attempts,
        lastStatus: outcome.status,
        lastError: outcome.error,
      },
    }).catch((err) => log.error({ err: (err as Error).message }, 'could not record the exhausted-delivery event'));
  }
  if (disabled) {
    log.warn(
      { target: sub.target_url },
      'subscription disabled: its deliveries have failed for too long; an admin can re-enable it (PATCH enabled: true) and recover',
    );
    await ingestEvent(rt, {
      id: eventIdFor('hub', `disabled:${sub.id}:${finished.getTime()}`),
      type: DISABLED_EVENT,
      source: 'hub',
      connectionId: null,
      occurredAt: finished.toISOString(),
      subject: sub.id,
      data: {
        subscriptionId: sub.id,
        targetUrl: sub.target_url,
        failingSince: sub.failing_since ? new Date(sub.failing_since).toISOString() : null,
      },
    }).catch(() => {});
  }
}

/** Re-enqueues deliveries whose job vanished: pending/retrying and due for longer than the grace period, or running past their lease. */
export async function sweepDeliveries(rt: Runtime, limit = 1000): Promise<number> {
  const now = Date.now();
  const cutoff = new Date(now - rt.settings.DINGBRIDGE_SWEEP_GRACE_MS);
  const rows = await rt.db
    .selectFrom('hook_deliveries')
    .select(['id', 'subscription_id', 'status', 'attempts', 'deferrals'])
    .where((eb) =>
      eb.or([
        eb.and([eb('status', 'in', ['pending', 'retrying']), eb(sql`coalesce(next_attempt_at, updated_at)`, '<', cutoff)]),
        eb.and([eb('status', '=', 'running'), eb('lease_until', '<', new Date(now))]),
      ]),
    )
    .orderBy('updated_at')
    .limit(limit)
    .execute();
  await rt.queue.addMany(
    QUEUE_NAMES.deliveries,
    rows.map((r) => ({
      data: { deliveryId: r.id, subscriptionId: r.subscription_id },
      opts: { jobId: deliveryJobId(r.id, r.status === 'running' ? r.attempts : r.attempts + 1, r.deferrals) },
    })),
  );
  if (rows.length) rt.log.info({ deliveries: rows.length }, 'sweep re-enqueued deliveries');
  return rows.length;
}

/** Delivers one delivery again (dead, or already delivered) with a fresh attempt budget. */
export async function replayDelivery(rt: Runtime, subscriptionId: string, id: string): Promise<DeliveryRow | undefined> {
  const row = await rt.db
    .updateTable('hook_deliveries')
    .set((eb) => ({
      status: 'pending',
      attempt_base: eb.ref('attempts'),
      next_attempt_at: null,
      slot_at: null,
      parked: false,
      finished_at: null,
      updated_at: new Date(),
    }))
    .where('id', '=', id)
    .where('subscription_id', '=', subscriptionId)
    .where('status', 'in', ['dead', 'succeeded'])
    .returningAll()
    .executeTakeFirst();
  if (row)
    await rt.queue.add(
      QUEUE_NAMES.deliveries,
      { deliveryId: row.id, subscriptionId },
      { jobId: deliveryJobId(row.id, row.attempts + 1, row.deferrals) },
    );
  return row;
}

/**
 * Everything a subscription missed since `since`: its dead deliveries are delivered again, and events
 * it wants that have no delivery (it was disabled, or its filter changed) get one. Delivered ones are left alone.
 */
export async function recoverSince(rt: Runtime, sub: SubscriptionRow, since: Date): Promise<{ redelivered: number; created: number }> {
  const revived = await rt.db
    .updateTable('hook_deliveries')
    .set((eb) => ({
      status: 'pending',
      attempt_base: eb.ref('attempts'),
      next_attempt_at: null,
      slot_at: null,
      parked: false,
      finished_at: null,
      updated_at: new Date(),
    }))
    .where('subscription_id', '=', sub.id)
    .where('status', '=', 'dead')
    .where('created_at', '>=', since)
    .returning(['id', 'attempts', 'deferrals'])
    .execute();
  const from = new Date(Math.max(since.getTime(), new Date(sub.created_at).getTime()));
  const candidates = await rt.db
    .selectFrom('events')
    .selectAll()
    .where('received_at', '>=', from)
    .where('status', '=', 'dispatched')
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('hook_deliveries')
            .select('hook_deliveries.id')
            .whereRef('hook_deliveries.event_id', '=', 'events.id')
            .where('hook_deliveries.subscription_id', '=', sub.id),
        ),
      ),
    )
    .orderBy('received_at')
    .limit(10_000)
    .execute();
  const wanted = [];
  for (const row of candidates) {
    const event = rowToEvent(row);
    if (await subscriptionWants(sub, event)) wanted.push(event);
  }
  const schedule = retrySchedule(rt);
  const created =
    wanted.length === 0
      ? []
      : await rt.db
          .insertInto('hook_deliveries')
          .values(
            wanted.map((e) => ({
              id: deliveryIdFor(e.id, sub.id),
              subscription_id: sub.id,
              event_id: e.id,
              event_type: e.type,
              max_attempts: schedule.length,
            })),
          )
          .onConflict((oc) => oc.column('id').doNothing())
          .returning(['id'])
          .execute();
  await rt.queue.addMany(QUEUE_NAMES.deliveries, [
    ...revived.map((r) => ({
      data: { deliveryId: r.id, subscriptionId: sub.id },
      opts: { jobId: deliveryJobId(r.id, r.attempts + 1, r.deferrals) },
    })),
    ...created.map((r) => ({ data: { deliveryId: r.id, subscriptionId: sub.id }, opts: { jobId: deliveryJobId(r.id, 1, 0) } })),
  ]);
  return { redelivered: revived.length, created: created.length };
}

export function startDeliveryWorkers(rt: Runtime): { stop(): Promise<void> } {
  const stalledMs = Math.max(1000, rt.settings.DINGBRIDGE_STEP_LEASE_MS);
  const worker = rt.queue.startWorker(
    QUEUE_NAMES.deliveries,
    async (job) => runDelivery(rt, String(job.data.deliveryId), job.data.subscriptionId ? String(job.data.subscriptionId) : undefined),
    {
      concurrency: rt.settings.DINGBRIDGE_WORKER_CONCURRENCY,
      stalledMs,
    },
  );
  let sweeping = false;
  const tick = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      await sweepDeliveries(rt);
    } catch (err) {
      rt.log.warn({ err: (err as Error).message }, 'delivery sweep failed; will try again');
    } finally {
      sweeping = false;
    }
  };
  const timer = setInterval(tick, rt.settings.DINGBRIDGE_SWEEP_INTERVAL_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await worker.close();
    },
  };
}
