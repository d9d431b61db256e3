/**
 * The KPI scenario of `npm run bench` (also alone: `BENCH_ONLY=kpis npm run bench`): a year of
 * BENCH_KPI_EVENTS stored events (default 1,000,000: approvals finished, meetings, files shared, other
 * traffic) seeded with generate_series in a fresh database, the daily roll-up of that year into kpi_daily
 * (the collector's work), then a month's KPIs asked BENCH_KPI_REPEATS times: the target is a month
 * answered in under 200 ms. The month's files count is checked against a direct count of the events.
 */
import crypto from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import { createDb, migrateToLatest } from '../core/db/database.ts';
import type { Runtime } from '../core/runtime.ts';
import { loadKpiDefinitions } from '../config/kpis/definitions.ts';
import { rollupDay } from '../config/kpis/facts.ts';
import { kpiReport } from '../config/kpis/report.ts';

export interface KpiBenchResult {
  events: number;
  seedMs: number;
  rollupMs: number;
  rollupPerDayMs: number;
  days: number;
  month: string;
  monthQueryMs: { median: number; p95: number; max: number; runs: number };
  yearQueryMs: { median: number; max: number };
  target200msMet: boolean;
  filesCheck: { api: number; direct: number; ok: boolean };
}

const TZ = 'Asia/Hong_Kong';
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 10) / 10;
};

export async function runKpiBench(
  adminUrl: string,
  opts: { events: number; repeats: number; say: (m: string) => void },
): Promise<KpiBenchResult> {
  const { say } = opts;
  const name = `bench_kpis_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const { db, pool } = createDb(url.toString(), { max: 4 });
  try {
    await migrateToLatest(db);
    // One year: 2025-12-01 .. 2026-11-30 (Hong Kong), events spread evenly over it.
    const from = Date.parse('2025-11-30T16:00:00Z');
    const to = Date.parse('2026-11-30T16:00:00Z');
    const spanS = (to - from) / 1000;
    const t0 = performance.now();
    const chunk = 250_000;
    for (let lo = 1; lo <= opts.events; lo += chunk) {
      const hi = Math.min(opts.events, lo + chunk - 1);
      // g mod 10: 0–1 approvals finished, 2 google meetings, 3–4 files shared, 5–9 other traffic.
      await sql`insert into events (id, type, source, subject, occurred_at, status, data)
        select 'b' || g,
          case when g % 10 < 2 then 'dingtalk.approval.finished' when g % 10 = 2 then 'google.calendar.event.created'
               when g % 10 < 5 then 'google.drive.file.added' else 'catchhook.received' end,
          'bench', 'bench', to_timestamp(${from / 1000} + (g::float8 / ${opts.events}) * ${spanS}), 'dispatched',
          case when g % 10 < 2 then jsonb_build_object('processInstanceId', 'pi' || g,
                 'processCode', (array['PROC-PURCHASE','PROC-LEAVE','PROC-REIMBURSE'])[1 + g % 3],
                 'createTime', to_char(to_timestamp(${from / 1000} + (g::float8 / ${opts.events}) * ${spanS} - 3600 * (1 + g % 71)) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 'finishTime', to_char(to_timestamp(${from / 1000} + (g::float8 / ${opts.events}) * ${spanS}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
               else '{}'::jsonb end
        from generate_series(${lo}::int, ${hi}::int) g`.execute(db);
      say(`  kpis: ${hi.toLocaleString('en')} events stored`);
    }
    await sql`analyze events`.execute(db);
    const seedMs = performance.now() - t0;

    const defs = loadKpiDefinitions();
    const rt = { db, settings: { DINGBRIDGE_TIMEZONE: TZ }, log: { warn() {}, child: () => ({}) } } as unknown as Runtime;
    const days: string[] = [];
    for (let t = Date.UTC(2025, 11, 1); t < Date.UTC(2026, 11, 1); t += 86_400_000) days.push(new Date(t).toISOString().slice(0, 10));
    const t1 = performance.now();
    for (let i = 0; i < days.length; i += 4)
      await Promise.all(days.slice(i, i + 4).map((d) => rollupDay(rt, defs, d, { snapshot: false })));
    const rollupMs = performance.now() - t1;
    say(`  kpis: ${days.length} days rolled up in ${(rollupMs / 1000).toFixed(1)} s`);
    // The data-center snapshot rows of each day (what the DingTalk action would give).
    await sql`insert into kpi_daily (day, metric, dimension, value, n)
      select d::date, m.metric, '', m.v, 1 from generate_series('2025-12-01'::date, '2026-11-30'::date, interval '1 day') d,
      (values ('dc_staff', 60), ('dc_active_30d', 55), ('dc_mobile_logins', 120), ('dc_desktop_logins', 60)) m(metric, v)`.execute(db);

    const month = '2026-11';
    const times: number[] = [];
    let answer: Awaited<ReturnType<typeof kpiReport>> | undefined;
    for (let i = 0; i < opts.repeats; i++) {
      const s = performance.now();
      answer = await kpiReport(rt, defs, { from: month, to: month, granularity: 'month' });
      times.push(performance.now() - s);
    }
    const year: number[] = [];
    for (let i = 0; i < Math.max(3, Math.floor(opts.repeats / 4)); i++) {
      const s = performance.now();
      await kpiReport(rt, defs, { from: '2025-12', to: month, granularity: 'month' });
      year.push(performance.now() - s);
    }
    const direct = await sql<{ n: number }>`select count(*)::int as n from events where type = 'google.drive.file.added'
      and occurred_at >= ('2026-11-01'::timestamp at time zone ${TZ}) and occurred_at < ('2026-12-01'::timestamp at time zone ${TZ})`.execute(
      db,
    );
    const api = answer!.periods[0]!.files_shared;
    const monthQueryMs = { median: pct(times, 50), p95: pct(times, 95), max: pct(times, 100), runs: times.length };
    return {
      events: opts.events,
      seedMs: Math.round(seedMs),
      rollupMs: Math.round(rollupMs),
      rollupPerDayMs: Math.round((rollupMs / days.length) * 10) / 10,
      days: days.length,
      month,
      monthQueryMs,
      yearQueryMs: { median: pct(year, 50), max: pct(year, 100) },
      target200msMet: monthQueryMs.p95 < 200,
      filesCheck: { api, direct: direct.rows[0]!.n, ok: api === direct.rows[0]!.n },
    };
  } finally {
    await db.destroy().catch(() => {});
    await pool.end().catch(() => {});
    await admin.query(`drop database if exists ${name} with (force)`).catch(() => {});
    await admin.end();
  }
}
