import { sql } from 'kysely';
import type { HubEvent } from '../events.ts';
import type { Flow } from '../flows.ts';
import type { Runtime } from '../runtime.ts';
import { STEPS_CHANNEL } from '../queue/queues.ts';
import { groupedStatement, JSON_ROW_BATCH } from '../queue/group.ts';
import { fanOutsIdleWhen } from './extensions.ts';
import { stepRunId } from './jobs.ts';

/** A replay guard to claim with the event (signed catch hooks accept each signed body once). */
export interface ReplayGuard {
  scope: string;
  key: string;
  windowMs: number;
}

export interface IntakeItem {
  event: HubEvent;
  matched: Flow[];
  replay?: ReplayGuard;
}

/** `idle: false`: a fan-out has work, nothing was written, the caller stores the event in a transaction. */
export type IntakeOutcome = { idle: false } | { idle: true; fresh: boolean; stored: boolean; stepIds: string[] };

/**
 * Stores events in one statement each batch: the replay claim, the event row (dispatched), the first step
 * of each matched flow and the NOTIFY that wakes the default mode's workers, as data-modifying CTEs (a
 * statement is atomic: every event of the batch is committed, or none is). Events that arrive while
 * earlier statements are in flight go together in the next one (a group commit made by the application):
 * under a flood one round trip and one WAL flush serve many requests; alone, an event goes at once.
 * Every request is answered only after the statement holding its event committed.
 */
export function intakeStatementFor(rt: Runtime): (item: IntakeItem) => Promise<IntakeOutcome> {
  let store = stores.get(rt);
  if (!store) {
    store = groupedStatement((rows: Row[]) => storeBatch(rt, rows), JSON_ROW_BATCH);
    stores.set(rt, store);
  }
  return (item) => store!(toRow(rt, item));
}

const stores = new WeakMap<Runtime, (row: Row) => Promise<IntakeOutcome>>();

interface Row {
  id: string;
  guarded: boolean;
  json: string;
}

function toRow(rt: Runtime, { event, matched, replay }: IntakeItem): Row {
  const row = {
    id: event.id,
    type: event.type,
    source: event.source,
    connection_id: event.connectionId ?? null,
    subject: event.subject ?? null,
    occurred_at: event.occurredAt,
    data: event.data,
    raw: event.raw ?? null,
    refs: event.refs?.length ? event.refs : null,
    flows_matched: matched.length,
    scope: replay?.scope ?? null,
    key: replay?.key ?? null,
    expires: replay ? new Date(Date.now() + replay.windowMs).toISOString() : null,
    steps: matched.map((flow) => ({ id: stepRunId(event.id, flow.id, 0), flow_id: flow.id, action: flow.then[0]!.action })),
    max_attempts: rt.settings.DINGBRIDGE_STEP_ATTEMPTS,
  };
  return { id: event.id, guarded: Boolean(replay), json: JSON.stringify(row) };
}

async function storeBatch(rt: Runtime, rows: Row[]): Promise<IntakeOutcome[]> {
  const idle = fanOutsIdleWhen();
  if (!idle) return rows.map(() => ({ idle: false }));
  const guard = idle.length ? sql.join(idle, sql` and `) : sql`true`;
  // Each CTE writes only when the fan-outs are idle (a data-modifying CTE runs even when unread). Rows
  // are written in key order, so two statements holding the same keys (a retried delivery) cannot deadlock.
  const { rows: result } = await sql<{ idle: boolean; claimed: number[]; stored: number[]; steps: [string, string][] }>`
    with idle as (select (${guard}) as ok),
         input as (
           select (x.ordinality - 1)::int as i, r.*
             from jsonb_array_elements(${`[${rows.map((r) => r.json).join(',')}]`}::jsonb) with ordinality as x(value, ordinality)
             cross join lateral jsonb_to_record(x.value) as r(
               id text, type text, source text, connection_id text, subject text, occurred_at timestamptz, data jsonb, raw jsonb,
               refs jsonb, flows_matched int, scope text, key text, expires timestamptz, steps jsonb, max_attempts int)),
         claim_in as (
           select distinct on (scope, key) i, scope, key, id, expires from input
            where scope is not null and (select ok from idle)
            order by scope, key, i),
         claim as (
           insert into replay_guard (scope, key, ref, expires_at)
           select scope, key, id, expires from claim_in order by scope, key
           on conflict (scope, key) do update set ref = excluded.ref, expires_at = excluded.expires_at, created_at = now()
            where replay_guard.expires_at < now()
           returning scope, key),
         claimed as (select ci.i from claim_in ci join claim c on c.scope = ci.scope and c.key = ci.key),
         ev_in as (
           select distinct on (id) * from input x
            where (select ok from idle) and (x.scope is null or x.i in (select i from claimed))
            order by id, i),
         ev as (
           insert into events (id, type, source, connection_id, subject, occurred_at, data, raw, refs, status, flows_matched, dispatched_at)
           select id, type, source, connection_id, subject, occurred_at, coalesce(data, 'null'::jsonb), raw, refs, 'dispatched', flows_matched, now()
             from ev_in order by id
           on conflict (id) do nothing
           returning id),
         stored as (select ev_in.i, ev_in.id, ev_in.steps, ev_in.max_attempts from ev_in join ev on ev.id = ev_in.id),
         st as (
           insert into step_runs (id, event_id, flow_id, step_index, action, max_attempts)
           select s.id, stored.id, s.flow_id, 0, s.action, stored.max_attempts
             from stored cross join lateral jsonb_to_recordset(stored.steps) as s(id text, flow_id text, action text)
            order by s.id
           on conflict (id) do nothing
           returning id, event_id),
         wake as (select pg_notify(${STEPS_CHANNEL}, '') from (select 1 from st limit 1) s where ${rt.queue.stepsInStore}::boolean)
    select (select ok from idle) as idle,
           array(select i from claimed) as claimed,
           array(select i from stored) as stored,
           coalesce((select jsonb_agg(jsonb_build_array(event_id, id)) from st), '[]'::jsonb) as steps,
           (select count(*) from wake) as woken`.execute(rt.intakeDb ?? rt.db);
  const r = result[0]!;
  if (!r.idle) return rows.map(() => ({ idle: false }));
  const claimed = new Set(r.claimed);
  const stored = new Set(r.stored);
  const stepsOf = new Map<string, string[]>();
  for (const [eventId, stepId] of r.steps) stepsOf.set(eventId, [...(stepsOf.get(eventId) ?? []), stepId]);
  return rows.map((row, i) => {
    const isStored = stored.has(i);
    return { idle: true, fresh: !row.guarded || claimed.has(i), stored: isStored, stepIds: isStored ? (stepsOf.get(row.id) ?? []) : [] };
  });
}
