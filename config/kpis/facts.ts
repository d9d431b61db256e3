import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { Runtime } from '../../core/runtime.ts';
import type { KpiDefinitions } from './definitions.ts';

/**
 * The daily roll-up: one day's facts (in DINGBRIDGE_TIMEZONE) from the stored events and steps, and the
 * data-center snapshot, written to kpi_daily. Re-running a day replaces that day's rows (idempotent);
 * a snapshot not yet available leaves the day's snapshot rows as they were.
 */
export const SNAPSHOT_METRICS: Record<string, string> = {
  staff: 'dc_staff',
  activated: 'dc_activated',
  activeUsers: 'dc_active_1d',
  activeUsers30d: 'dc_active_30d',
  mobileLogins: 'dc_mobile_logins',
  desktopLogins: 'dc_desktop_logins',
  approvalsStarted: 'dc_approvals_started',
  approvalsFinished: 'dc_approvals_finished',
};

const like = (p: string) => p.replace(/[\\%_]/g, '\\$&').replaceAll('*', '%');
/** A type or action matching any pattern: `=` for a plain name (so the indexes of migration 0027 serve it), `like` for one with `*`. */
const anyLike = (col: ReturnType<typeof sql.ref>, list: string[]) =>
  list.length
    ? sql.join(
        list.map((p) => (p.includes('*') ? sql`${col} like ${like(p)}` : sql`${col} = ${p}`)),
        sql` or `,
      )
    : sql`false`;
/** The day's bounds in the hub's time zone, as timestamptz (a range the indexes can use). */
const dayStart = (day: string, tz: string, plusDays = 0) => sql`((${day}::date + ${plusDays}::int)::timestamp at time zone ${tz})`;
const inDay = (col: ReturnType<typeof sql.ref>, day: string, tz: string) =>
  sql`${col} >= ${dayStart(day, tz)} and ${col} < ${dayStart(day, tz, 1)}`;

interface FactRow {
  metric: string;
  dimension: string;
  value: number;
  n: number;
}

export async function eventFacts(rt: Runtime, defs: KpiDefinitions, day: string): Promise<FactRow[]> {
  const tz = rt.settings.DINGBRIDGE_TIMEZONE;
  const rows: FactRow[] = [];
  const { started, finished } = defs.facts.approvals;
  // One finish per instance (the first stored), counted on the day it finished.
  const fin = await sql<{ code: string; n: number; hours: number }>`
    select code, count(*)::int as n, coalesce(sum(extract(epoch from (f - c)) / 3600), 0)::float8 as hours from (
      select distinct on (data->>'processInstanceId') coalesce(data->>'processCode', '') as code,
        (data->>'createTime')::timestamptz as c, coalesce((data->>'finishTime')::timestamptz, occurred_at) as f
      from events where (${anyLike(sql.ref('type'), finished)}) and data->>'createTime' is not null
        -- the event is stored when it happened, give or take: two days either side bound the search
        and occurred_at >= ${dayStart(day, tz, -2)} and occurred_at < ${dayStart(day, tz, 3)}
        and (coalesce((data->>'finishTime')::timestamptz, occurred_at) at time zone ${tz})::date = ${day}::date
      order by data->>'processInstanceId', received_at) x
    group by code`.execute(rt.db);
  for (const r of fin.rows) rows.push({ metric: 'approval_cycle', dimension: r.code, value: r.hours, n: r.n });
  const st = await sql<{ code: string; n: number }>`
    select coalesce(data->>'processCode', '') as code, count(distinct coalesce(data->>'processInstanceId', id))::int as n
    from events where (${anyLike(sql.ref('type'), started)}) and ${inDay(sql.ref('occurred_at'), day, tz)} group by 1`.execute(rt.db);
  for (const r of st.rows) rows.push({ metric: 'approvals_started', dimension: r.code, value: r.n, n: r.n });

  // Per department of the originator (People directory) as well: dimension "department<TAB>process code".
  const who = defs.facts.approvals.originator;
  if (who) {
    const dept = (col: ReturnType<typeof sql.ref>) => sql`(select p.department from person_identities i join people p on p.id = i.person_id
      where i.service = ${who.service} and i.kind = ${who.kind} and i.value = ${col} limit 1)`;
    const finDept = await sql<{ dept: string; code: string; n: number; hours: number }>`
      select ${dept(sql.ref('who'))} as dept, code, count(*)::int as n, coalesce(sum(extract(epoch from (f - c)) / 3600), 0)::float8 as hours from (
        select distinct on (data->>'processInstanceId') coalesce(data->>'processCode', '') as code, data->>${who.field} as who,
          (data->>'createTime')::timestamptz as c, coalesce((data->>'finishTime')::timestamptz, occurred_at) as f
        from events where (${anyLike(sql.ref('type'), finished)}) and data->>'createTime' is not null
          and occurred_at >= ${dayStart(day, tz, -2)} and occurred_at < ${dayStart(day, tz, 3)}
          and (coalesce((data->>'finishTime')::timestamptz, occurred_at) at time zone ${tz})::date = ${day}::date
        order by data->>'processInstanceId', received_at) x
      group by 1, 2`.execute(rt.db);
    for (const r of finDept.rows)
      if (r.dept) rows.push({ metric: 'approval_cycle_dept', dimension: `${r.dept}\t${r.code}`, value: r.hours, n: r.n });
    const stDept = await sql<{ dept: string; code: string; n: number }>`
      select ${dept(sql.ref('who'))} as dept, code, count(distinct pid)::int as n from (
        select coalesce(data->>'processCode', '') as code, data->>${who.field} as who, coalesce(data->>'processInstanceId', id) as pid
        from events where (${anyLike(sql.ref('type'), started)}) and ${inDay(sql.ref('occurred_at'), day, tz)}) x
      group by 1, 2`.execute(rt.db);
    for (const r of stDept.rows)
      if (r.dept) rows.push({ metric: 'approvals_started_dept', dimension: `${r.dept}\t${r.code}`, value: r.n, n: r.n });
  }

  const counts = new Map<string, FactRow>();
  for (const c of defs.facts.counts) {
    const ev = c.events.length
      ? await sql<{
          n: number;
        }>`select count(*)::int as n from events where status <> 'echo' and (${anyLike(sql.ref('type'), c.events)}) and ${inDay(sql.ref('occurred_at'), day, tz)}`.execute(
          rt.db,
        )
      : { rows: [{ n: 0 }] };
    const sp = c.steps.length
      ? await sql<{
          n: number;
        }>`select count(*)::int as n from step_runs where status = 'succeeded' and (${anyLike(sql.ref('action'), c.steps)}) and ${inDay(sql.ref('finished_at'), day, tz)}`.execute(
          rt.db,
        )
      : { rows: [{ n: 0 }] };
    const n = (ev.rows[0]?.n ?? 0) + (sp.rows[0]?.n ?? 0);
    const key = `${c.metric}|${c.dimension}`;
    const prev = counts.get(key) ?? { metric: c.metric, dimension: c.dimension, value: 0, n: 0 };
    counts.set(key, { ...prev, value: prev.value + n, n: prev.n + n });
  }
  for (const c of defs.facts.synced) {
    const copied = await sql<{ n: number }>`
      select count(*)::int as n from calendar_sync_links
       where copied_to in (select id from connections where connector_id in (${sql.join(c.into)}))
         and ${inDay(sql.ref('created_at'), day, tz)}`.execute(rt.db);
    const n = copied.rows[0]?.n ?? 0;
    const key = `${c.metric}|${c.dimension}`;
    const prev = counts.get(key) ?? { metric: c.metric, dimension: c.dimension, value: 0, n: 0 };
    counts.set(key, { ...prev, value: prev.value + n, n: prev.n + n });
  }
  rows.push(...[...counts.values()].filter((r) => r.n > 0));

  // The People directory's size at the end of the day (active people added by then): a staff count
  // for the login rate's denominator.
  const people = await sql<{ n: number }>`
    select count(*)::int as n from people where active and created_at < ${dayStart(day, tz, 1)}`.execute(rt.db);
  const staff = people.rows[0]?.n ?? 0;
  if (staff > 0) rows.push({ metric: 'people', dimension: '', value: staff, n: staff });
  return rows;
}

/** Runs the snapshot action for the day; undefined when there is no snapshot configured, no connection, or no data yet. */
export async function snapshotFacts(rt: Runtime, defs: KpiDefinitions, day: string): Promise<FactRow[] | undefined> {
  if (!defs.snapshot) return undefined;
  const action = rt.registry.action(defs.snapshot.action);
  if (!action || !rt.connections) return undefined;
  const connectorId = defs.snapshot.action.split('.')[0]!;
  const all = await rt.db.selectFrom('connections').select(['id', 'connector_id', 'status']).orderBy('id').execute();
  const row = defs.snapshot.connection
    ? all.find((c) => c.id === defs.snapshot!.connection)
    : all.find((c) => c.connector_id === connectorId && c.status === 'active');
  if (!row) return undefined;
  const out = (await action.run(
    {
      idempotencyKey: `kpi:${day}:${crypto.randomUUID()}`,
      attempt: 1,
      log: rt.log.child({ kpi: 'snapshot', day }),
      timeoutMs: rt.settings.DINGBRIDGE_HTTP_TIMEOUT_MS,
      trace: () => {},
      connection: await rt.connections.handle(row.id),
    },
    action.input.parse({ date: day }),
  )) as Record<string, unknown> | undefined;
  if (!out || out.available === false) return undefined;
  return Object.entries(SNAPSHOT_METRICS).flatMap(([field, metric]) =>
    typeof out[field] === 'number' ? [{ metric, dimension: '', value: out[field] as number, n: 1 }] : [],
  );
}

/** Rolls one day up (YYYY-MM-DD). Returns the rows written. */
export async function rollupDay(rt: Runtime, defs: KpiDefinitions, day: string, opts: { snapshot?: boolean } = {}): Promise<number> {
  let snap: FactRow[] | undefined;
  if (opts.snapshot !== false) {
    try {
      snap = await snapshotFacts(rt, defs, day);
    } catch (err) {
      rt.log.warn({ day, err: (err as Error).message }, 'KPI snapshot failed; the next run tries again');
    }
  }
  const facts = await eventFacts(rt, defs, day);
  const rows = [...facts, ...(snap ?? [])];
  await rt.db.transaction().execute(async (trx) => {
    await sql`delete from kpi_daily where day = ${day}::date and (${snap ? sql`true` : sql`metric not like 'dc\\_%'`})`.execute(trx);
    for (const r of rows) {
      await sql`insert into kpi_daily (day, metric, dimension, value, n) values (${day}::date, ${r.metric}, ${r.dimension}, ${r.value}, ${r.n})`.execute(
        trx,
      );
    }
  });
  return rows.length;
}

/** Today and the days before it (in the hub's time zone), oldest first. */
export function recentDays(tz: string, count: number, now = new Date()): string[] {
  const fmt = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
  const today = fmt.format(now);
  const base = Date.parse(`${today}T12:00:00Z`);
  return Array.from({ length: count }, (_, i) => new Date(base - (count - 1 - i) * 86_400_000).toISOString().slice(0, 10));
}

/**
 * The collector: every `everyMs` (an hour; the first run an hour after start), rolls up the last `days` days (DingTalk's data center publishes a day
 * the next morning, so yesterday is retried until it has data). One hub process at a time is enough but
 * several are harmless: a day's rows are replaced in one transaction.
 */
export function startKpiCollector(
  rt: Runtime,
  load: () => KpiDefinitions,
  opts: { everyMs?: number; days?: number } = {},
): { stop(): void } {
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      const defs = load();
      for (const d of recentDays(rt.settings.DINGBRIDGE_TIMEZONE, opts.days ?? 2)) await rollupDay(rt, defs, d);
    } catch (err) {
      rt.log.warn({ err: (err as Error).message }, 'KPI roll-up failed');
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(tick, opts.everyMs ?? 3_600_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
