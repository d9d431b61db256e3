import { sql } from 'kysely';
import type { Runtime } from '../../core/runtime.ts';
import { KPI_IDS, statusOf, type KpiDefinitions } from './definitions.ts';

/**
 * The KPIs of each month (or day) from kpi_daily: a cheap grouped query over the daily rows, then the
 * formulas of config/kpis.yaml. Shares are rounded to 4 decimals, hours to 2; a KPI with nothing to
 * measure in the period is null.
 */
export interface PeriodKpis {
  month?: string;
  day?: string;
  login_rate: number | null;
  process_cycle_hours: number | null;
  meetings_via_dingtalk_share: number | null;
  hours_saved: number | null;
  files_shared: number;
  mobile_share: number | null;
  by_process: Record<string, { cycle_hours: number | null; finished: number; started: number; automated: boolean | null }>;
}

const r4 = (x: number) => Math.round(x * 10_000) / 10_000;
const r2 = (x: number) => Math.round(x * 100) / 100;

/**
 * The staff count of a period, on its last day that has one: the data center's staff figure
 * (`denominator: datacenter`, the default; the People directory's count where the data center has
 * none) or the People directory's count of active people (`denominator: people`).
 */
export function staffCount(rows: DailyRow[], denominator: 'datacenter' | 'people' = 'datacenter'): number | null {
  const last = (metric: string) =>
    rows
      .filter((r) => r.metric === metric)
      .sort((a, b) => a.day.localeCompare(b.day))
      .at(-1)?.value ?? null;
  if (denominator === 'people') return last('people');
  return last('dc_staff') ?? last('people');
}

interface DailyRow {
  day: string;
  metric: string;
  dimension: string;
  value: number;
  n: number;
}

function periodsOf(from: string, to: string, granularity: 'month' | 'day'): string[] {
  const out: string[] = [];
  if (granularity === 'month') {
    let [y, m] = from.split('-').map(Number) as [number, number];
    const [ty, tm] = to.split('-').map(Number) as [number, number];
    while (y < ty || (y === ty && m <= tm)) {
      out.push(`${y}-${String(m).padStart(2, '0')}`);
      m += 1;
      if (m > 12) {
        m = 1;
        y += 1;
      }
    }
  } else {
    for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000)
      out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

function compute(defs: KpiDefinitions, key: string, rows: DailyRow[], granularity: 'month' | 'day', baselines: Baselines): PeriodKpis {
  const sum = (metric: string, dim?: string, field: 'value' | 'n' = 'value') =>
    rows.filter((r) => r.metric === metric && (dim === undefined || r.dimension === dim)).reduce((a, r) => a + r[field], 0);
  const staff = staffCount(rows, defs.kpis.login_rate.denominator);
  const lastActive = rows
    .filter((r) => r.metric === 'dc_active_30d')
    .sort((a, b) => a.day.localeCompare(b.day))
    .at(-1)?.value;
  const cycleN = sum('approval_cycle', undefined, 'n');
  const meetingsAll = sum('meetings');
  const viaDt = sum('meetings', 'dingtalk');
  const mobile = sum('dc_mobile_logins');
  const logins = mobile + sum('dc_desktop_logins');
  const codes = [
    ...new Set(rows.filter((r) => r.metric === 'approval_cycle' || r.metric === 'approvals_started').map((r) => r.dimension)),
  ].sort();
  const periodStart = granularity === 'month' ? `${key}-01` : key;
  const by_process = Object.fromEntries(
    codes.map((code) => {
      const n = sum('approval_cycle', code, 'n');
      const at = baselines[code]?.at;
      return [
        code,
        {
          cycle_hours: n ? r2(sum('approval_cycle', code) / n) : null,
          finished: n,
          started: sum('approvals_started', code, 'n'),
          automated: at ? periodStart >= at : null,
        },
      ];
    }),
  );
  return {
    [granularity]: key,
    login_rate: staff && lastActive !== undefined ? r4(lastActive / staff) : null,
    process_cycle_hours: cycleN ? r2(sum('approval_cycle') / cycleN) : null,
    meetings_via_dingtalk_share: meetingsAll ? r4(viaDt / meetingsAll) : null,
    hours_saved: r2((viaDt * (defs.kpis.hours_saved.minutesPerMeeting ?? 0)) / 60),
    files_shared: sum('files_shared', undefined, 'n'),
    mobile_share: logins ? r4(mobile / logins) : null,
    by_process,
  } as PeriodKpis;
}

/** `from`/`to`: YYYY-MM (month) or YYYY-MM-DD (day), inclusive. */
export async function kpiReport(
  rt: Runtime,
  defs: KpiDefinitions,
  q: { from: string; to: string; granularity: 'month' | 'day'; process?: string; department?: string },
) {
  const first = q.granularity === 'month' ? `${q.from}-01` : q.from;
  const lastKey = q.granularity === 'month' ? q.to : q.to;
  const until = q.granularity === 'month' ? sql`(${`${q.to}-01`}::date + interval '1 month')` : sql`(${q.to}::date + 1)`;
  const res = await sql<
    DailyRow & { day: Date | string }
  >`select to_char(day, 'YYYY-MM-DD') as day, metric, dimension, value, n from kpi_daily
    where day >= ${first}::date and day < ${until}`.execute(rt.db);
  // A department: approvals are those its people (and its sub-departments') started; the other KPIs are
  // company-wide (the data center's figures, meetings and files carry no department).
  const dept = q.department?.replace(/^\/+|\/+$/g, '');
  const inDept = (d: string) => !dept || d === dept || d.startsWith(`${dept}/`);
  const rows: typeof res.rows = [];
  for (const r of res.rows) {
    if (r.metric === 'approval_cycle_dept' || r.metric === 'approvals_started_dept') {
      if (!dept) continue;
      const [d, code] = r.dimension.split('\t') as [string, string];
      if (!inDept(d)) continue;
      rows.push({ ...r, metric: r.metric.replace(/_dept$/, ''), dimension: code });
    } else if (r.metric === 'approval_cycle' || r.metric === 'approvals_started') {
      if (!dept) rows.push(r);
    } else rows.push(r);
  }
  const byKey = new Map<string, DailyRow[]>();
  for (const r of rows) {
    if (q.process && (r.metric === 'approval_cycle' || r.metric === 'approvals_started') && r.dimension !== q.process) continue;
    const key = q.granularity === 'month' ? String(r.day).slice(0, 7) : String(r.day);
    byKey.set(key, [...(byKey.get(key) ?? []), { ...r, day: String(r.day), value: Number(r.value), n: Number(r.n) }]);
  }
  const effective = await effectiveBaselines(rt, defs);
  const periods = periodsOf(q.from, lastKey, q.granularity).map((k) => compute(defs, k, byKey.get(k) ?? [], q.granularity, effective));
  const baselines = await baselineReport(rt, defs, effective);
  const latest = periods.at(-1);
  const status = latest ? Object.fromEntries(KPI_IDS.map((id) => [id, statusOf(defs.kpis[id], latest[id] as number | null)])) : {};
  const departments = (
    await sql<{
      d: string;
    }>`select distinct department as d from people where department is not null and department <> '' order by 1`.execute(rt.db)
  ).rows.map((r) => r.d);
  return { periods, baselines, status, departments };
}

export type Baselines = Record<string, { at: string; source: 'admin' | 'recipe'; flow?: string }>;

/**
 * When each approval process was automated: the date the admin set in `baselines`, else the day (in the
 * hub's time zone) the first enabled flow made from a recipe that names the process code was created.
 */
export async function effectiveBaselines(rt: Runtime, defs: KpiDefinitions): Promise<Baselines> {
  const out: Baselines = Object.fromEntries(Object.entries(defs.baselines).map(([code, at]) => [code, { at, source: 'admin' as const }]));
  const codes = await sql<{ code: string }>`select distinct dimension as code from kpi_daily
    where metric in ('approval_cycle', 'approvals_started') and dimension <> ''`.execute(rt.db);
  const missing = codes.rows.map((r) => r.code).filter((c) => !out[c]);
  if (!missing.length) return out;
  const flows = await sql<{ id: string; day: string; definition: string }>`select id, definition::text as definition,
      to_char(created_at at time zone ${rt.settings.DINGBRIDGE_TIMEZONE}, 'YYYY-MM-DD') as day
    from flows where recipe is not null and enabled order by created_at, id`.execute(rt.db);
  for (const code of missing) {
    const first = flows.rows.find((f) => f.definition.includes(code));
    if (first) out[code] = { at: first.day, source: 'recipe', flow: first.id };
  }
  return out;
}

/** Per process with a baseline date: mean cycle hours of everything finished before it and since, and the change in %. */
export async function baselineReport(rt: Runtime, defs: KpiDefinitions, baselines?: Baselines) {
  const effective = baselines ?? (await effectiveBaselines(rt, defs));
  const out: Record<
    string,
    {
      automated_at: string;
      source: 'admin' | 'recipe';
      flow?: string;
      before_hours: number | null;
      after_hours: number | null;
      change_pct: number | null;
    }
  > = {};
  for (const [code, { at, source, flow }] of Object.entries(effective)) {
    const r = await sql<{ before_v: number | null; before_n: number; after_v: number | null; after_n: number }>`select
      sum(value) filter (where day < ${at}::date) as before_v, coalesce(sum(n) filter (where day < ${at}::date), 0)::int as before_n,
      sum(value) filter (where day >= ${at}::date) as after_v, coalesce(sum(n) filter (where day >= ${at}::date), 0)::int as after_n
      from kpi_daily where metric = 'approval_cycle' and dimension = ${code}`.execute(rt.db);
    const x = r.rows[0]!;
    const before = x.before_n ? Number(x.before_v) / x.before_n : null;
    const after = x.after_n ? Number(x.after_v) / x.after_n : null;
    out[code] = {
      automated_at: at,
      source,
      ...(flow ? { flow } : {}),
      before_hours: before === null ? null : r2(before),
      after_hours: after === null ? null : r2(after),
      change_pct: before && after !== null ? r2(((after - before) / before) * 100) : null,
    };
  }
  return out;
}

export const CSV_COLUMNS = [
  'login_rate',
  'process_cycle_hours',
  'meetings_via_dingtalk_share',
  'hours_saved',
  'files_shared',
  'mobile_share',
] as const;

export function toCsv(periods: PeriodKpis[], granularity: 'month' | 'day'): string {
  const lines = [[granularity, ...CSV_COLUMNS].join(',')];
  for (const p of periods) lines.push([p[granularity] ?? '', ...CSV_COLUMNS.map((c) => (p[c] === null ? '' : String(p[c])))].join(','));
  return `${lines.join('\n')}\n`;
}
