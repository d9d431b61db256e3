import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Hub } from '../app/hub.ts';
import { loadKpiDefinitions } from '../config/kpis/definitions.ts';
import { rollupDay } from '../config/kpis/facts.ts';
import { generateKpiHistory, type KpiHistory } from '../sandbox/kpi-history.ts';
import { startDingtalkFake, SEED, type RunningDingtalkFake } from '../sandbox/dingtalk/index.ts';
import { ROOT, TEST_ADMIN_TOKEN, prepareEnvironment, startTestHub, tempDir, writeConfig, type Environment } from './helpers/hub.ts';
import { services } from './helpers/services.ts';

/**
 * Adoption KPIs from a seeded year: the data-center days live in the DingTalk fake (read through the
 * SDK by the roll-up), approvals, meetings and files are the hub's stored events and steps. Every KPI of
 * every month from GET /api/v1/kpis equals a plain-JS computation over the generated data.
 */
const available = await services();
const TZ = 'Asia/Hong_Kong';
const MINUTES_PER_MEETING = 20;

const dayOf = (iso: string) =>
  new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
const r2 = (x: number) => Math.round(x * 100) / 100;
const r4 = (x: number) => Math.round(x * 10_000) / 10_000;
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const hoursOf = (a: { createTime: string; finishTime: string }) => (Date.parse(a.finishTime) - Date.parse(a.createTime)) / 3_600_000;

/** The independent computation: straight from the generated lists. */
function expectedMonth(h: KpiHistory, month: string) {
  const inMonth = (iso: string) => dayOf(iso).startsWith(month);
  const fin = h.approvals.filter((a) => inMonth(a.finishTime));
  const days = h.days.filter((d) => d.date.startsWith(month)).sort((a, b) => a.date.localeCompare(b.date));
  const last = days.at(-1);
  const mobile = days.reduce((s, d) => s + d.mobileLogins, 0);
  const logins = days.reduce((s, d) => s + d.mobileLogins + d.desktopLogins, 0);
  const meetings = h.meetings.filter((m) => inMonth(m.at));
  const viaDt = meetings.filter((m) => m.side === 'dingtalk').length;
  const codes = [...new Set(fin.map((a) => a.processCode))];
  const cycle = mean(fin.map(hoursOf));
  return {
    login_rate: last ? r4(last.active30d / last.staff) : null,
    process_cycle_hours: cycle === null ? null : r2(cycle),
    meetings_via_dingtalk_share: meetings.length ? r4(viaDt / meetings.length) : null,
    hours_saved: r2((viaDt * MINUTES_PER_MEETING) / 60),
    files_shared: h.files.filter((f) => inMonth(f.at)).length,
    mobile_share: logins ? r4(mobile / logins) : null,
    by_process: Object.fromEntries(codes.map((c) => [c, r2(mean(fin.filter((a) => a.processCode === c).map(hoursOf))!)])),
  };
}

function close(actual: number | null, expected: number | null, tol: number, what: string) {
  if (expected === null) return assert.equal(actual, null, `${what}: null`);
  assert.ok(actual !== null && Math.abs(actual - expected) <= tol + 1e-9, `${what}: ${actual} ≈ ${expected}`);
}

describe('Adoption KPIs', { skip: available.postgres && available.redis ? false : 'needs PostgreSQL and Redis' }, () => {
  let fake: RunningDingtalkFake;
  let environment: Environment;
  let hub: Hub;
  const history = generateKpiHistory({ seed: 2026, lastMonth: '2026-11', months: 12 });
  const api = async (q: string) => fetch(`${hub.url}/api/v1/kpis?${q}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });

  before(async () => {
    fake = await startDingtalkFake({ stream: { pingIntervalMs: 0 } });
    const base = fake.baseUrl();
    const dir = tempDir('kpis-cfg');
    const kpiFile = path.join(dir, 'kpis.yaml');
    const defaults = fs.readFileSync(path.join(ROOT, 'config', 'kpis.yaml'), 'utf8');
    fs.writeFileSync(
      kpiFile,
      defaults
        .replace(/\nbaselines: \{\}/, `\nbaselines:\n  PROC-PURCHASE: "${history.automatedAt['PROC-PURCHASE']}"`)
        .replace(/minutesPerMeeting: \d+/, `minutesPerMeeting: ${MINUTES_PER_MEETING}`),
    );
    const config = writeConfig(
      dir,
      `
version: 1
connections:
  - id: dingtalk
    connector: dingtalk
    settings: { appKey: ${SEED.appKey}, corpId: ${SEED.corpId}, baseUrl: "${base}", oapiBaseUrl: "${base}" }
    secrets: { appSecret: ${SEED.appSecret} }
flows: []
`,
    );
    environment = await prepareEnvironment({ name: 'kpis', store: 'external', queue: 'redis' }, 'kpis', {
      DINGBRIDGE_CONFIG: config,
      DINGBRIDGE_TIMEZONE: TZ,
      DINGBRIDGE_KPI_FILE: kpiFile,
    });
    process.env.DINGBRIDGE_KPI_FILE = kpiFile;
    hub = await startTestHub(environment);

    await fake.control('POST', '/datacenter', { days: history.days });
    const db = hub.runtime.db;
    const chunks = <T>(xs: T[], n = 400) => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, (i + 1) * n));
    for (const part of chunks(history.approvals)) {
      await db
        .insertInto('events')
        .values(
          part.map((a) => ({
            id: `evt-${a.processInstanceId}`,
            type: 'dingtalk.approval.finished',
            source: 'dingtalk:dingtalk',
            connection_id: 'dingtalk',
            subject: 'history',
            occurred_at: a.finishTime,
            status: 'dispatched',
            data: JSON.stringify({
              eventType: 'bpms_instance_change',
              processInstanceId: a.processInstanceId,
              processCode: a.processCode,
              type: 'finish',
              result: a.result,
              createTime: a.createTime,
              finishTime: a.finishTime,
              form: {},
            }),
          })),
        )
        .execute();
    }
    const other = history.meetings.filter((m) => m.side === 'other');
    for (const part of chunks([
      ...other.map((m, i) => ({ id: `evt-meet-${i}`, type: 'google.calendar.event.created', at: m.at })),
      ...history.files.map((f, i) => ({ id: `evt-file-${i}`, type: 'google.drive.file.created', at: f.at })),
    ])) {
      await db
        .insertInto('events')
        .values(
          part.map((e) => ({
            id: e.id,
            type: e.type,
            source: 'google:history',
            subject: 'history',
            occurred_at: e.at,
            status: 'dispatched',
            data: '{}',
          })),
        )
        .execute();
    }
    // Meetings made in DingTalk: succeeded dingtalk.calendar.createEvent steps of a flow.
    const viaDt = history.meetings.filter((m) => m.side === 'dingtalk');
    for (const part of chunks(viaDt)) {
      const ids = part.map((_, i) => `evt-dtmeet-${viaDt.indexOf(part[0]!) + i}`);
      await db
        .insertInto('events')
        .values(
          part.map((m, i) => ({
            id: ids[i]!,
            type: 'catchhook.received',
            source: 'hook:meetings',
            subject: 'history',
            occurred_at: m.at,
            status: 'dispatched',
            data: '{}',
          })),
        )
        .execute();
      await db
        .insertInto('step_runs')
        .values(
          part.map((m, i) => ({
            id: `${ids[i]}:meetings:0`,
            event_id: ids[i]!,
            flow_id: 'meetings',
            step_index: 0,
            action: 'dingtalk.calendar.createEvent',
            status: 'succeeded',
            max_attempts: 5,
            finished_at: m.at,
            next_attempt_at: null,
            lease_until: null,
            last_error: null,
            error_class: null,
            output: '{}',
          })),
        )
        .execute();
    }

    // The collector's work for every day of the year (four days at a time).
    const defs = loadKpiDefinitions(kpiFile);
    const allDays = history.days.map((d) => d.date);
    for (let i = 0; i < allDays.length; i += 4) await Promise.all(allDays.slice(i, i + 4).map((d) => rollupDay(hub.runtime, defs, d)));
  });
  after(async () => {
    delete process.env.DINGBRIDGE_KPI_FILE;
    await hub?.stop();
    await fake?.stop();
    await environment?.cleanup();
  });

  test('every KPI of every month equals the independent computation', async () => {
    const res = await api(`from=${history.from}&to=${history.to}`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { months: any[] };
    assert.equal(body.months.length, 12);
    // The first day of the year in Hong Kong starts 8 hours into its UTC day: events before then belong to
    // the month before, which the API was not asked for; the independent side counts them the same way.
    for (const m of body.months) {
      const e = expectedMonth(history, m.month);
      close(m.login_rate, e.login_rate, 0.0001, `${m.month} login_rate`);
      close(m.mobile_share, e.mobile_share, 0.0001, `${m.month} mobile_share`);
      close(m.process_cycle_hours, e.process_cycle_hours, 0.01, `${m.month} process_cycle_hours`);
      close(m.meetings_via_dingtalk_share, e.meetings_via_dingtalk_share, 0.0001, `${m.month} meetings_via_dingtalk_share`);
      close(m.hours_saved, e.hours_saved, 0.01, `${m.month} hours_saved`);
      assert.equal(m.files_shared, e.files_shared, `${m.month} files_shared`);
      assert.deepEqual(Object.keys(m.by_process).sort(), Object.keys(e.by_process).sort(), `${m.month} processes`);
      for (const [code, hours] of Object.entries(e.by_process)) close(m.by_process[code].cycle_hours, hours, 0.01, `${m.month} ${code}`);
    }
    // The roll-out story the seed tells: more of the staff log in by the end of the year.
    assert.ok(body.months.at(-1).login_rate > body.months[0].login_rate);
  });

  test('purchase requests: cycle time before and after automation, with the change in %', async () => {
    const body = (await (await api(`from=${history.to}&to=${history.to}`)).json()) as { baselines: Record<string, any> };
    const at = history.automatedAt['PROC-PURCHASE']!;
    const p = history.approvals.filter((a) => a.processCode === 'PROC-PURCHASE');
    const before = mean(p.filter((a) => dayOf(a.finishTime) < at).map(hoursOf))!;
    const afterH = mean(p.filter((a) => dayOf(a.finishTime) >= at).map(hoursOf))!;
    const b = body.baselines['PROC-PURCHASE'];
    assert.equal(b.automated_at, at);
    close(b.before_hours, r2(before), 0.01, 'before');
    close(b.after_hours, r2(afterH), 0.01, 'after');
    close(b.change_pct, r2(((afterH - before) / before) * 100), 0.05, 'change %');
    assert.ok(b.change_pct < -50, `a big cut: ${b.change_pct} %`);
  });

  test('CSV, day granularity, a process filter and bad ranges', async () => {
    const csv = await api(`from=2026-03&to=2026-04&format=csv`);
    assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
    const lines = (await csv.text()).trim().split('\n');
    assert.equal(lines[0], 'month,login_rate,process_cycle_hours,meetings_via_dingtalk_share,hours_saved,files_shared,mobile_share');
    const e = expectedMonth(history, '2026-03');
    assert.equal(
      lines[1],
      ['2026-03', e.login_rate, e.process_cycle_hours, e.meetings_via_dingtalk_share, e.hours_saved, e.files_shared, e.mobile_share].join(
        ',',
      ),
    );

    const days = (await (await api('from=2026-03-01&to=2026-03-07&granularity=day')).json()) as { days: any[] };
    assert.equal(days.days.length, 7);
    const d3 = history.days.find((d) => d.date === '2026-03-03')!;
    assert.equal(days.days[2].day, '2026-03-03');
    assert.equal(days.days[2].mobile_share, r4(d3.mobileLogins / (d3.mobileLogins + d3.desktopLogins)));

    const only = (await (await api('from=2026-03&to=2026-03&process=PROC-LEAVE')).json()) as { months: any[] };
    assert.deepEqual(Object.keys(only.months[0].by_process), ['PROC-LEAVE']);
    assert.equal(only.months[0].process_cycle_hours, e.by_process['PROC-LEAVE']);

    for (const q of ['from=2026-13&to=2026-14', 'from=2026-05&to=2026-03', 'from=2026-03', 'from=2026-03&to=2026-04&granularity=week']) {
      const r = await api(q);
      assert.equal(r.status, 400, q);
      assert.equal(((await r.json()) as any).error.code, 'invalid_request');
    }
    assert.equal((await fetch(`${hub.url}/api/v1/kpis?from=2026-03&to=2026-03`)).status, 401);
  });

  test('rolling a day up again changes nothing (idempotent), and the data-center snapshot came through the SDK', async () => {
    const day = '2026-07-15';
    const rows = async () =>
      (
        await sql<{
          metric: string;
          dimension: string;
          value: number;
          n: number;
        }>`select metric, dimension, value, n from kpi_daily where day = ${day}::date order by metric, dimension`.execute(hub.runtime.db)
      ).rows;
    const first = await rows();
    await rollupDay(hub.runtime, loadKpiDefinitions(process.env.DINGBRIDGE_KPI_FILE), day);
    const second = await rows();
    assert.deepEqual(
      second.map((r) => [r.metric, r.dimension, r.value, r.n]),
      first.map((r) => [r.metric, r.dimension, r.value, r.n]),
    );
    const snap = history.days.find((d) => d.date === day)!;
    assert.equal(first.find((r) => r.metric === 'dc_active_30d')?.value, snap.active30d);
    const calls = (await (await fetch(`${fake.baseUrl()}/__sandbox/calls?path=/v1.0/datacenter/onlineUserData`)).json()) as {
      calls: unknown[];
    };
    assert.ok(calls.calls.length >= history.days.length, `the fake was asked for each day (${calls.calls.length})`);
  });
});
