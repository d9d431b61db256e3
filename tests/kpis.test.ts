import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { PDFDocument } from 'pdf-lib';
import { chromium, type Browser } from 'playwright-core';
import YAML from 'yaml';
import { eventIdFor } from '../core/events.ts';
import { ingestEvent } from '../core/pipeline/ingest.ts';
import { nextSlot, SCHEDULE_EVENT, scheduleKey, scheduleSpec } from '../core/triggers/schedule-spec.ts';
import { UI_DIST } from '../config/ui/serve.ts';
import type { Hub } from '../app/hub.ts';
import { loadKpiDefinitions } from '../config/kpis/definitions.ts';
import { rollupDay } from '../config/kpis/facts.ts';
import { kpiReport } from '../config/kpis/report.ts';
import { generateKpiHistory, type KpiHistory } from '../sandbox/kpi-history.ts';
import { startDingtalkFake, SEED, type RunningDingtalkFake } from '../sandbox/dingtalk/index.ts';
import { DEFAULT_GOOGLE_CLIENT, startGoogleFake } from '../sandbox/google/index.ts';
import type { RunningFake } from '../sandbox/framework/index.ts';
import {
  ARTIFACTS,
  ROOT,
  TEST_ADMIN_TOKEN,
  prepareEnvironment,
  startTestHub,
  tempDir,
  writeConfig,
  waitUntil,
  type Environment,
} from './helpers/hub.ts';
import { services } from './helpers/services.ts';

/**
 * Adoption KPIs from a seeded year: the data-center days, the approvals and the meetings arranged in
 * DingTalk live in the DingTalk fake, the other meetings in the Google fake's calendar, and the history
 * backfill (POST /api/v1/kpis/backfill) reads them through the SDKs, with the files made in the Google
 * fake's Drive folder. Every KPI of
 * every month from GET /api/v1/kpis equals a plain-JS computation over the generated data.
 */
const available = await services();
const CHROMIUM = '/usr/bin/chromium';
const haveBrowser = fs.existsSync(CHROMIUM) && fs.existsSync(path.join(UI_DIST, 'index.html'));
if (!haveBrowser && process.env.CI === 'true') throw new Error(`CI needs ${CHROMIUM} and the built UI (npm run build:ui)`);
const SHOTS = path.join(ARTIFACTS, 'screenshots');
const TZ = 'Asia/Hong_Kong';
const REPORT_FLOW = 'kpi-monthly-report';
const FEED_FLOW = 'kpi-sheet-feed';
const DEPARTMENTS: Record<string, string> = {
  'user-01': 'Sales/Hong Kong',
  'user-02': 'Sales/Hong Kong',
  'user-03': 'Sales/Shanghai',
  'user-04': 'Engineering',
  'user-05': 'Engineering',
};
/** Their DingTalk unionIds (whose calendars hold the meetings arranged in DingTalk). */
const unionIdOf = (userId: string) => userId.replace('user-', 'union-');
const UNION_IDS = Object.keys(DEPARTMENTS).map(unionIdOf);
const PUBLIC = 'http://localhost:9';
const HEADER = ['month', 'login_rate', 'process_cycle_hours', 'meetings_via_dingtalk_share', 'hours_saved', 'files_shared', 'mobile_share'];
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

/**
 * GET from a fake, once more if the connection was dropped: a keep-alive socket the fake's server has just
 * closed fails the next request on it ("fetch failed"), which says nothing about what is tested.
 */
async function getFake(url: string): Promise<Response> {
  try {
    return await fetch(url);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return fetch(url);
  }
}

/** How the report writes a value (shares in % with one decimal, hours with two, counts whole). */
const UNIT: Record<string, 'fraction' | 'hours' | 'count'> = {
  login_rate: 'fraction',
  process_cycle_hours: 'hours',
  meetings_via_dingtalk_share: 'fraction',
  hours_saved: 'hours',
  files_shared: 'count',
  mobile_share: 'fraction',
};
const shown = (id: string, v: number | null) =>
  v === null ? '—' : UNIT[id] === 'fraction' ? `${(v * 100).toFixed(1)} %` : UNIT[id] === 'hours' ? `${v.toFixed(2)} h` : String(v);
const REPORT_NAMES: Record<string, string> = {
  login_rate: 'Login rate',
  process_cycle_hours: 'Process cycle time',
  meetings_via_dingtalk_share: 'Meetings via DingTalk',
  hours_saved: 'Hours saved on scheduling',
  files_shared: 'Files shared',
  mobile_share: 'Mobile share',
};

describe('Adoption KPIs', { skip: available.postgres && available.redis ? false : 'needs PostgreSQL and Redis' }, () => {
  let fake: RunningDingtalkFake;
  let google: RunningFake<unknown>;
  let sheetId = '';
  let environment: Environment;
  let hub: Hub;
  const history = generateKpiHistory({ seed: 2026, lastMonth: '2026-11', months: 12 });
  let backfilled: any;
  const backfill = async (body: unknown = { from: history.from, to: history.to }) => {
    const res = await fetch(`${hub.url}/api/v1/kpis/backfill`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const api = async (q: string) => fetch(`${hub.url}/api/v1/kpis?${q}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  const stepsOf = async (flow: string) =>
    (
      await sql<{
        step_index: number;
        action: string;
        status: string;
        attempts: number;
        last_error: string | null;
      }>`select step_index, action, status, attempts, last_error from step_runs where flow_id = ${flow} order by step_index`.execute(
        hub.runtime.db,
      )
    ).rows;
  /** Steps that failed for good, or wait for a reconnection no one will make: the wait ends at once with them. */
  const stuckOf = async (flow: string) => (await stepsOf(flow)).filter((r) => ['failed', 'dead', 'waiting_reauth'].includes(r.status));

  before(async () => {
    fake = await startDingtalkFake({ stream: { pingIntervalMs: 0 } });
    const base = fake.baseUrl();
    google = (await startGoogleFake()) as RunningFake<unknown>;
    // The Looker Studio sheet: a KPIs tab with its header row, as the example tells the founder to make it.
    sheetId = (
      (await (
        await fetch(`${google.baseUrl()}/__sandbox/google/sheets`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ title: 'Adoption KPIs', sheets: [{ title: 'KPIs', rows: [HEADER] }] }),
        })
      ).json()) as { spreadsheetId: string }
    ).spreadsheetId;
    // The Drive folder the company files into (the backfill reads the files made in it).
    const gpost = async (p: string, body: unknown) => {
      const res = await fetch(`${google.baseUrl()}/__sandbox/google${p}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 201, await res.clone().text());
      return (await res.json()) as { id: string };
    };
    const folderId = (
      await gpost('/files', { owner: 'demo@example.com', name: 'Shared files', mimeType: 'application/vnd.google-apps.folder' })
    ).id;
    const dir = tempDir('kpis-cfg');
    const kpiFile = path.join(dir, 'kpis.yaml');
    const defaults = fs.readFileSync(path.join(ROOT, 'config', 'kpis.yaml'), 'utf8');
    fs.writeFileSync(
      kpiFile,
      defaults
        // The Google calendars and Drive folders the backfill reads (off in the shipped file).
        .replace(/^#g/gm, '')
        .replace(/\nbaselines: \{\}/, `\nbaselines:\n  PROC-PURCHASE: "${history.automatedAt['PROC-PURCHASE']}"`)
        .replace(/minutesPerMeeting: \d+/, `minutesPerMeeting: ${MINUTES_PER_MEETING}`)
        // The OKR the mobile share is tied to: an owner and a date, shown on its card.
        .replace('# owner: Alice Chan', 'owner: Alice Chan')
        .replace('# targetDate: 2027-06-30', 'targetDate: 2027-06-30')
        // The process codes the history backfill asks DingTalk for (purchases are in baselines already).
        .replace('processCodes: []', 'processCodes: [PROC-LEAVE, PROC-REIMBURSE]')
        // Whose Google calendars the backfill reads besides the People directory's: the connected account's.
        .replace(/(action: google\.calendar\.list_events[\s\S]*?users: )\[\]/, '$1[demo@example.com]')
        .replace(/(action: google\.drive\.list_files[\s\S]*?folders: )\[\]/, `$1[${folderId}]`),
    );
    // The monthly report is the example's flow as it is, except that the 1st of this month, passed before
    // the hub started, is not caught up on start: the test fires the slot itself once the year is stored.
    const example = YAML.parse(fs.readFileSync(path.join(ROOT, 'examples', 'kpi-monthly-report.yaml'), 'utf8'));
    const flow = example.flows.find((f: { id: string }) => f.id === REPORT_FLOW);
    flow.when.params.catchUp = 'false';
    const feedExample = YAML.parse(fs.readFileSync(path.join(ROOT, 'examples', 'kpi-sheet-feed.yaml'), 'utf8'));
    const feed = feedExample.flows.find((f: { id: string }) => f.id === FEED_FLOW);
    feed.when.params.catchUp = 'false';
    feed.then[1].input.spreadsheetId = sheetId;
    const config = writeConfig(
      dir,
      `
version: 1
connections:
  - id: dingtalk
    connector: dingtalk
    settings: { appKey: ${SEED.appKey}, corpId: ${SEED.corpId}, baseUrl: "${base}", oapiBaseUrl: "${base}" }
    secrets: { appSecret: ${SEED.appSecret} }
  - id: google
    connector: google
    settings: { clientId: ${DEFAULT_GOOGLE_CLIENT.clientId}, baseUrl: "${google.baseUrl()}", oauthBaseUrl: "${google.baseUrl()}" }
    secrets: { clientSecret: ${DEFAULT_GOOGLE_CLIENT.clientSecret} }
flows:
${YAML.stringify([flow, feed])
  .replaceAll('$' + '{KPI_REPORT_LANGUAGE:-zh-HK}', 'en')
  .replaceAll('$' + '{KPI_REPORT_GROUP:-cidSandboxGroup0001}', SEED.groupId)
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
`,
    );
    environment = await prepareEnvironment({ name: 'kpis', store: 'external', queue: 'redis' }, 'kpis', {
      DINGBRIDGE_CONFIG: config,
      DINGBRIDGE_TIMEZONE: TZ,
      DINGBRIDGE_KPI_FILE: kpiFile,
      PUBLIC_URL: PUBLIC,
    });
    process.env.DINGBRIDGE_KPI_FILE = kpiFile;
    hub = await startTestHub(environment);

    await fake.control('POST', '/datacenter', { days: history.days });
    // The year's approvals live in DingTalk (the backfill reads them through the SDK). Their dates are
    // fixed, so DingTalk's "at most 365 days ago" is lifted for them.
    await fake.control('POST', '/approvals/history', { maxAgeDays: null, instances: history.approvals });
    // Connect the Google account as the admin would (the fake consents at once); the callback goes to
    // PUBLIC_URL, which is this hub.
    const start = (await (
      await fetch(`${hub.url}/api/v1/connections/google/authorize`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: '{}',
      })
    ).json()) as { authorizeUrl: string };
    const atGoogle = await fetch(start.authorizeUrl, { redirect: 'manual' });
    const callback = await fetch(atGoogle.headers.get('location')!.replace(PUBLIC, hub.url!), { redirect: 'manual' });
    assert.equal(callback.status, 200, await callback.text());
    const db = hub.runtime.db;
    // The year's files are in the Drive folder, made when the history says.
    for (let i = 0; i < history.files.length; i += 8)
      await Promise.all(
        history.files
          .slice(i, i + 8)
          .map((f) => gpost('/files', { owner: 'demo@example.com', name: f.name, parents: [folderId], createdTime: f.at, content: 'x' })),
      );
    // The year's meetings live in the calendars (the backfill lists them per person): those arranged in
    // DingTalk in the staff's DingTalk calendars (in turn), the others in the connected Google account's.
    const meeting = (m: { at: string }, i: number) => ({
      summary: `Meeting ${i + 1}`,
      start: { dateTime: m.at },
      end: { dateTime: new Date(Date.parse(m.at) + 3_600_000).toISOString() },
    });
    const viaDt = history.meetings.filter((m) => m.side === 'dingtalk');
    for (const [k, unionId] of UNION_IDS.entries())
      await fake.control('POST', `/calendars/${unionId}/events`, {
        events: viaDt.flatMap((m, i) => (i % UNION_IDS.length === k ? [{ ...meeting(m, i), createTime: m.at }] : [])),
      });
    const other = history.meetings.filter((m) => m.side === 'other');
    for (let i = 0; i < other.length; i += 8)
      await Promise.all(
        other.slice(i, i + 8).map(async (m, j) => {
          const res = await fetch(`${google.baseUrl()}/__sandbox/google/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ calendarId: 'demo@example.com', event: meeting(m, i + j), created: m.at }),
          });
          assert.equal(res.status, 201, await res.text());
        }),
      );

    // The People directory: who is in which department (user-06 is not in it).
    for (const [userId, department] of Object.entries(DEPARTMENTS)) {
      const person = await db
        .insertInto('people')
        .values({ name: userId, department } as any)
        .returning('id')
        .executeTakeFirstOrThrow();
      await db
        .insertInto('person_identities')
        .values([
          { person_id: person.id, service: 'dingtalk', kind: 'userId', value: userId },
          { person_id: person.id, service: 'dingtalk', kind: 'unionId', value: unionIdOf(userId) },
        ])
        .execute();
    }

    // Reimbursements were automated by turning a recipe on (no date in the KPI file): a flow made from a
    // recipe that names the process, created on 1 September (Hong Kong).
    await db
      .insertInto('flows')
      .values({
        id: 'reimburse-recipe',
        recipe: 'approval-to-http',
        enabled: true,
        created_at: new Date('2026-09-01T02:00:00Z'),
        definition: JSON.stringify({
          id: 'reimburse-recipe',
          when: { event: 'dingtalk.approval.finished', condition: 'data.processCode == "PROC-REIMBURSE"' },
          then: [{ action: 'http.post', input: { url: 'http://127.0.0.1:9/none', body: {} } }],
        }),
      } as any)
      .execute();

    // The founder's first day: the history backfill reads the year's approvals from DingTalk and rolls
    // every day up (data-center snapshots included).
    const bf = await backfill();
    assert.equal(bf.status, 200, JSON.stringify(bf.body));
    backfilled = bf.body;
  });
  after(async () => {
    delete process.env.DINGBRIDGE_KPI_FILE;
    await hub?.stop();
    await fake?.stop();
    await google?.stop();
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
    // The roll-up covered the year's days (to 30 November, Hong Kong): approvals finishing after it are not counted.
    const rolled = (a: { finishTime: string }) => dayOf(a.finishTime) <= history.days.at(-1)!.date;
    const p = history.approvals.filter((a) => a.processCode === 'PROC-PURCHASE' && rolled(a));
    const before = mean(p.filter((a) => dayOf(a.finishTime) < at).map(hoursOf))!;
    const afterH = mean(p.filter((a) => dayOf(a.finishTime) >= at).map(hoursOf))!;
    const b = body.baselines['PROC-PURCHASE'];
    assert.equal(b.automated_at, at);
    close(b.before_hours, r2(before), 0.01, 'before');
    close(b.after_hours, r2(afterH), 0.01, 'after');
    close(b.change_pct, r2(((afterH - before) / before) * 100), 0.05, 'change %');
    assert.ok(b.change_pct < -50, `a big cut: ${b.change_pct} %`);
    assert.equal(b.source, 'admin');

    // No date in the file for reimbursements: the day the recipe's flow was turned on.
    const r = body.baselines['PROC-REIMBURSE'];
    assert.equal(r.source, 'recipe');
    assert.equal(r.flow, 'reimburse-recipe');
    assert.equal(r.automated_at, '2026-09-01');
    const rp = history.approvals.filter((a) => a.processCode === 'PROC-REIMBURSE' && rolled(a));
    const rb = mean(rp.filter((a) => dayOf(a.finishTime) < '2026-09-01').map(hoursOf))!;
    const ra = mean(rp.filter((a) => dayOf(a.finishTime) >= '2026-09-01').map(hoursOf))!;
    close(r.before_hours, r2(rb), 0.01, 'reimburse before');
    close(r.after_hours, r2(ra), 0.01, 'reimburse after');
    close(r.change_pct, r2(((ra - rb) / rb) * 100), 0.05, 'reimburse change %');
    assert.equal(body.baselines['PROC-LEAVE'], undefined, 'leave requests were never automated');
    const months = (await (await api('from=2026-08&to=2026-09')).json()) as { months: any[] };
    assert.equal(months.months[0].by_process['PROC-REIMBURSE'].automated, false);
    assert.equal(months.months[1].by_process['PROC-REIMBURSE'].automated, true);
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

    // A department: approvals its people (and its sub-departments') started; the rest stays company-wide.
    for (const dept of ['Sales', 'Sales/Hong Kong', 'Engineering']) {
      const body = (await (await api(`from=2026-03&to=2026-03&department=${encodeURIComponent(dept)}`)).json()) as {
        months: any[];
        departments: string[];
      };
      assert.deepEqual(body.departments, ['Engineering', 'Sales/Hong Kong', 'Sales/Shanghai']);
      const theirs = history.approvals.filter((a) => {
        const d = DEPARTMENTS[a.originatorUserId];
        return d !== undefined && (d === dept || d.startsWith(`${dept}/`)) && dayOf(a.finishTime).startsWith('2026-03');
      });
      assert.ok(theirs.length > 5, `${dept}: some approvals (${theirs.length})`);
      const m = body.months[0];
      close(m.process_cycle_hours, r2(mean(theirs.map(hoursOf))!), 0.01, `${dept} cycle hours`);
      for (const code of new Set(theirs.map((a) => a.processCode)))
        close(
          m.by_process[code].cycle_hours,
          r2(mean(theirs.filter((a) => a.processCode === code).map(hoursOf))!),
          0.01,
          `${dept} ${code}`,
        );
      assert.equal(
        Object.values(m.by_process).reduce((n: number, p: any) => n + p.finished, 0),
        theirs.length,
        `${dept}: approvals finished`,
      );
      assert.equal(m.login_rate, e.login_rate, 'the login rate is company-wide');
      assert.equal(m.files_shared, e.files_shared, 'files are company-wide');
    }

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
  test('the history backfill: every approval read from DingTalk, and running it again or a live event later counts nothing twice', async () => {
    assert.deepEqual(backfilled.processCodes, ['PROC-LEAVE', 'PROC-PURCHASE', 'PROC-REIMBURSE']);
    assert.equal(backfilled.approvals.found, history.approvals.length);
    assert.equal(backfilled.approvals.stored, history.approvals.length * 2, 'a start and a finish each');
    assert.equal(backfilled.days, history.days.length);
    // Meetings: read from the staff's DingTalk calendars and the Google account's, each stored once (those
    // made in the range's months in the hub's time zone).
    const made = history.meetings.filter((m) => dayOf(m.at).slice(0, 7) >= history.from && dayOf(m.at).slice(0, 7) <= history.to).length;
    assert.deepEqual(
      backfilled.meetings,
      { calendars: UNION_IDS.length + 1, skipped: 0, found: made, stored: made },
      JSON.stringify(backfilled.meetings),
    );
    // Files: those made in the Drive folder in the range's months.
    const filed = history.files.filter((f) => dayOf(f.at).slice(0, 7) >= history.from && dayOf(f.at).slice(0, 7) <= history.to).length;
    assert.deepEqual(backfilled.files, { folders: 1, skipped: 0, found: filed, stored: filed });
    // DingTalk's page limit was kept: ids came 20 at a time.
    const calls = (await (await getFake(`${fake.baseUrl()}/__sandbox/calls?path=/v1.0/workflow/processes/instanceIds/query`)).json()) as {
      calls: Array<{ body?: { maxResults?: number } }>;
    };
    assert.ok(calls.calls.length >= Math.ceil(history.approvals.length / 20), `paged (${calls.calls.length} pages)`);
    const kpisNow = async () => ((await (await api(`from=${history.from}&to=${history.to}`)).json()) as { months: unknown[] }).months;
    const before = await kpisNow();
    const again = await backfill();
    assert.equal(again.status, 200);
    assert.equal(again.body.approvals.found, history.approvals.length);
    assert.equal(again.body.approvals.stored, 0, 'nothing new the second time');
    assert.equal(again.body.meetings.found, backfilled.meetings.found);
    assert.equal(again.body.meetings.stored, 0, 'no meeting stored twice');
    assert.equal(again.body.files.stored, 0, 'no file stored twice');
    assert.deepEqual(await kpisNow(), before);
    // A live push for an instance the backfill stored (DingTalk re-sends a finish): counted once.
    const a = history.approvals.find((x) => x.processCode === 'PROC-LEAVE' && x.finishTime.startsWith('2026-07-1'))!;
    await ingestEvent(hub.runtime, {
      id: eventIdFor('dingtalk:dingtalk', `event:live-${a.processInstanceId}`),
      type: 'dingtalk.approval.finished',
      source: 'dingtalk',
      connectionId: 'dingtalk',
      subject: a.processInstanceId,
      occurredAt: a.finishTime,
      data: {
        processInstanceId: a.processInstanceId,
        processCode: a.processCode,
        originatorUserId: a.originatorUserId,
        type: 'finish',
        result: a.result,
        createTime: a.createTime,
        finishTime: a.finishTime,
      },
    } as any);
    await rollupDay(hub.runtime, loadKpiDefinitions(process.env.DINGBRIDGE_KPI_FILE), dayOf(a.finishTime));
    assert.deepEqual(await kpisNow(), before);
    const bad = await backfill({ from: '2026-05', to: '2026-03' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_request');
    const noAuth = await fetch(`${hub.url}/api/v1/kpis/backfill`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(noAuth.status, 401);
  });
  test("the People directory's size is a daily fact, and can be the login rate's denominator", async () => {
    const db = hub.runtime.db;
    const day = '2026-07-15';
    const defs = loadKpiDefinitions(process.env.DINGBRIDGE_KPI_FILE);
    const people = async () =>
      (await sql<{ value: number }>`select value from kpi_daily where day = ${day}::date and metric = 'people'`.execute(db)).rows;
    assert.deepEqual(await people(), [], 'no one was in the directory yet in July');
    const added = await db.selectFrom('people').select(['id', 'created_at']).execute();
    // Say the five had been in the directory since January (and one more who left is not counted).
    await db
      .updateTable('people')
      .set({ created_at: new Date('2026-01-01T00:00:00Z') })
      .execute();
    const left = await db
      .insertInto('people')
      .values({ name: 'left', active: false, created_at: new Date('2026-01-01T00:00:00Z') } as any)
      .returning('id')
      .executeTakeFirstOrThrow();
    try {
      await rollupDay(hub.runtime, defs, day, { snapshot: false });
      assert.deepEqual(
        (await people()).map((r) => r.value),
        [Object.keys(DEPARTMENTS).length],
      );
      const snap = history.days.find((d) => d.date === day)!;
      const q = { from: day, to: day, granularity: 'day' as const };
      const dc = await kpiReport(hub.runtime, defs, q);
      assert.equal(dc.periods[0]!.login_rate, r4(snap.active30d / snap.staff), 'the data center staff count by default');
      const byPeople = { ...defs, kpis: { ...defs.kpis, login_rate: { ...defs.kpis.login_rate, denominator: 'people' as const } } };
      const pp = await kpiReport(hub.runtime, byPeople, q);
      assert.equal(pp.periods[0]!.login_rate, r4(snap.active30d / Object.keys(DEPARTMENTS).length), 'the People count when asked');
    } finally {
      await db.deleteFrom('people').where('id', '=', left.id).execute();
      for (const p of added) await db.updateTable('people').set({ created_at: p.created_at }).where('id', '=', p.id).execute();
      await rollupDay(hub.runtime, defs, day, { snapshot: false });
    }
    assert.deepEqual(await people(), [], 'the day as it was');
  });
  test('meetings the calendar sync copied into DingTalk count as meetings via DingTalk, on the day of the copy', async () => {
    const db = hub.runtime.db;
    const day = '2026-07-15';
    const defs = loadKpiDefinitions(process.env.DINGBRIDGE_KPI_FILE);
    const q = { from: day, to: day, granularity: 'day' as const };
    const before = (await kpiReport(hub.runtime, defs, q)).periods[0]!;
    const meetings = async (dim: string) =>
      (
        await sql<{
          n: number;
        }>`select coalesce(sum(n), 0)::int as n from kpi_daily where day = ${day}::date and metric = 'meetings' and dimension = ${dim}`.execute(
          db,
        )
      ).rows[0]!.n;
    const dt0 = await meetings('dingtalk');
    const other0 = await meetings('other');
    const person = (await db.selectFrom('people').select('id').executeTakeFirstOrThrow()).id;
    const at = new Date(`${day}T04:00:00Z`); // noon in Hong Kong
    const link = (i: number, from: string | null, to: string | null) => ({
      id: `kpi-link-${i}`,
      sync_id: 'kpi-test',
      person_id: person,
      a_id: `g-${i}`,
      b_id: `d-${i}`,
      a_series_id: null,
      a_original_start: null,
      copied_from: from,
      copied_to: to,
      created_at: at,
    });
    // Three copied from Google into DingTalk, one copied out of DingTalk, one only paired, one copied the day before.
    await db
      .insertInto('calendar_sync_links')
      .values([
        link(1, 'google', 'dingtalk'),
        link(2, 'google', 'dingtalk'),
        link(3, 'google', 'dingtalk'),
        link(4, 'dingtalk', 'google'),
        link(5, null, null),
        { ...link(6, 'google', 'dingtalk'), created_at: new Date(`${day}T04:00:00Z`.replace('15T', '14T')) },
      ] as any)
      .execute();
    try {
      await rollupDay(hub.runtime, defs, day, { snapshot: false });
      assert.equal(await meetings('dingtalk'), dt0 + 3, 'three synced into DingTalk that day');
      assert.equal(await meetings('other'), other0, 'the others unchanged');
      const after = (await kpiReport(hub.runtime, defs, q)).periods[0]!;
      assert.equal(after.meetings_via_dingtalk_share, r4((dt0 + 3) / (dt0 + 3 + other0)));
      assert.equal(after.hours_saved, r2(((dt0 + 3) * MINUTES_PER_MEETING) / 60));
      assert.equal(after.hours_saved, r2(before.hours_saved! + (3 * MINUTES_PER_MEETING) / 60), 'an hour more saved');
    } finally {
      await db.deleteFrom('calendar_sync_links').where('sync_id', '=', 'kpi-test').execute();
      await rollupDay(hub.runtime, defs, day, { snapshot: false });
    }
    assert.equal(await meetings('dingtalk'), dt0, 'the day as it was');
  });
  test('the monthly report: on the 1st at 09:00 the group gets the five numbers vs targets and last month, and the dashboard as a PDF', async () => {
    // The flow's schedule: the 1st of each month at 09:00 in DINGBRIDGE_TIMEZONE.
    const params = { cron: '0 9 1 * *', catchUp: 'false' };
    const spec = scheduleSpec(params, TZ);
    const slot = nextSlot(spec, Date.parse('2026-11-20T00:00:00Z'));
    assert.equal(new Date(slot).toISOString(), '2026-12-01T01:00:00.000Z', '09:00 in Hong Kong on the 1st');
    // DingTalk says the app token expired at the first upload: the connection refreshes it once and the
    // upload is made again within the same attempt.
    const fault = await fetch(`${fake.baseUrl()}/__sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'expired_token', path: '^/media/upload$', count: 1 }),
    });
    assert.equal(fault.status, 201);
    // Fire that slot as the schedule manager does (the same event id, type, source and data).
    const key = scheduleKey(spec);
    const iso = new Date(slot).toISOString();
    await ingestEvent(hub.runtime, {
      id: eventIdFor(`schedule:${key}`, iso),
      type: SCHEDULE_EVENT,
      source: key,
      connectionId: null,
      occurredAt: iso,
      subject: 'test',
      data: { slot: iso, ...spec.params },
    });
    type Msg = { msgtype: string; body: Record<string, any> };
    const got = await waitUntil(
      async () => {
        const stuck = await stuckOf(REPORT_FLOW);
        if (stuck.length) return { stuck, msgs: [] as Msg[] };
        const r = (await (await getFake(`${fake.baseUrl()}/__sandbox/dingtalk/conversations/${SEED.groupId}/messages`)).json()) as {
          messages: Msg[];
        };
        const msgs = r.messages.filter((x) => x.msgtype === 'markdown' || x.msgtype === 'file');
        return msgs.length >= 2 && { stuck, msgs };
      },
      'the markdown and the PDF file message in the group',
      120_000,
      200,
    ).catch(async (err) => {
      throw new Error(`${(err as Error).message}\nreport steps: ${JSON.stringify(await stepsOf(REPORT_FLOW))}`);
    });
    assert.deepEqual(got.stuck, [], 'no report step failed or waits for reauth');
    const msgs = got.msgs;
    const [md, file] = msgs as [Msg, Msg];
    assert.equal(md.msgtype, 'markdown');
    assert.equal(md.body.title, 'Adoption KPIs · 2026-11');
    const text = String(md.body.text);
    const cur = expectedMonth(history, '2026-11');
    const prev = expectedMonth(history, '2026-10');
    for (const id of Object.keys(REPORT_NAMES)) {
      const line = text.split('\n').find((l) => l.includes(`**${REPORT_NAMES[id]}**`));
      assert.ok(line, `a line for ${id}`);
      const c = (cur as any)[id] as number | null;
      const p = (prev as any)[id] as number | null;
      assert.ok(line.includes(`: ${shown(id, c)}`), `${id} this month ${shown(id, c)}: ${line}`);
      assert.ok(line.includes(`last month ${shown(id, p)}`), `${id} last month ${shown(id, p)}: ${line}`);
      assert.match(line, /target [≥≤] /, `${id} against its target`);
    }
    assert.ok(text.includes(`(${PUBLIC}/kpis?month=2026-11)`), 'a link to the dashboard');

    assert.equal(file.msgtype, 'file');
    assert.equal(file.body.fileName, 'kpis-2026-11.pdf');
    assert.equal(file.body.fileType, 'pdf');
    const media = await getFake(`${fake.baseUrl()}/__sandbox/dingtalk/media/${encodeURIComponent(file.body.mediaId)}`);
    assert.equal(media.status, 200);
    const bytes = Buffer.from(await media.arrayBuffer());
    assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
    const pdf = await PDFDocument.load(bytes);
    assert.ok(pdf.getPageCount() >= 1 && pdf.getPageCount() <= 3, `pages: ${pdf.getPageCount()}`);
    fs.mkdirSync(SHOTS, { recursive: true });
    fs.writeFileSync(path.join(SHOTS, 'kpi-report-2026-11.pdf'), bytes);
    const uploads = (await (await getFake(`${fake.baseUrl()}/__sandbox/calls?path=/media/upload`)).json()) as { calls: unknown[] };
    assert.equal(uploads.calls.length, 2, 'refused once for the expired token, then made with a fresh one');
    const upload = (await stepsOf(REPORT_FLOW)).find((r) => r.action === 'dingtalk.media.upload')!;
    assert.deepEqual([upload.status, upload.attempts], ['succeeded', 1], 'in its first attempt');

    // The same slot fed the Looker Studio sheet: one row for the month under the header, numbers as numbers.
    const fed = await waitUntil(
      async () => {
        const stuck = await stuckOf(FEED_FLOW);
        if (stuck.length) return { stuck, rows: [] as unknown[][] };
        const r = (await (await getFake(`${google.baseUrl()}/__sandbox/google/sheets/${sheetId}`)).json()) as {
          sheets: { rows: unknown[][] }[];
        };
        return r.sheets[0]!.rows.length >= 2 && { stuck, rows: r.sheets[0]!.rows };
      },
      'the month appended to the sheet',
      120_000,
      200,
    ).catch(async (err) => {
      throw new Error(`${(err as Error).message}\nfeed steps: ${JSON.stringify(await stepsOf(FEED_FLOW))}`);
    });
    assert.deepEqual(fed.stuck, [], 'no feed step failed or waits for reauth');
    const rows = fed.rows;
    assert.deepEqual(rows[0], HEADER);
    assert.deepEqual(rows[1], ['2026-11', ...HEADER.slice(1).map((k) => (cur as any)[k])]);
  });

  test('the dashboard in Chromium: cards, 12-month charts, a process filter; desktop, phone and zh-HK', {
    skip: haveBrowser ? false : 'needs Chromium and the built UI',
  }, async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    const browser: Browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' });
      const page = await ctx.newPage();
      await page.goto(`${hub.url}/`);
      await page.getByLabel('Your name').fill('Olivia Owner');
      await page.getByLabel('Email').fill('owner@example.com');
      await page.getByLabel('Password').fill('owner password 123');
      await page.getByLabel('Admin token').fill(TEST_ADMIN_TOKEN);
      await page.getByRole('button', { name: 'Create owner account' }).click();
      await page.getByRole('heading', { name: 'Flows' }).waitFor();
      await page.getByRole('navigation').getByRole('link', { name: 'Adoption KPIs', exact: true }).click();
      await page.getByRole('heading', { name: 'Adoption KPIs', level: 1 }).waitFor();
      await page.getByLabel('Month').fill('2026-11');
      const e = expectedMonth(history, '2026-11');
      const card = (id: string) => page.locator(`.kpi-card[data-kpi=${id}]`);
      const pct = (v: number) => `${(v * 100).toLocaleString('en', { maximumFractionDigits: 1 })} %`;
      await page.waitForFunction(
        (want) => document.querySelector('.kpi-card[data-kpi=login_rate] .kpi-number')?.textContent === want,
        pct(e.login_rate!),
      );
      assert.equal(await page.locator('.kpi-card').count(), 6);
      assert.equal(await card('mobile_share').locator('.kpi-number').innerText(), pct(e.mobile_share!));
      assert.equal(await card('files_shared').locator('.kpi-number').innerText(), e.files_shared.toLocaleString('en'));
      assert.match(await card('login_rate').innerText(), /Target: ≥ 90 %/);
      assert.match(await card('process_cycle_hours').innerText(), /Target: ≤ 8 h/);
      assert.equal(await card('mobile_share').locator('.kpi-owner').innerText(), 'Alice Chan', 'the OKR owner on the card');
      assert.equal(await card('mobile_share').locator('time').getAttribute('datetime'), '2027-06-30', 'the OKR date on the card');
      assert.equal(await card('login_rate').locator('.kpi-owner').count(), 0, 'no OKR on a KPI without one');
      // Every KPI has its chart of 12 months, drawn by ECharts as SVG.
      await page.waitForFunction(() => document.querySelectorAll('.kpi-chart svg').length === 6);
      // The before/after table of the automated purchase process.
      assert.match(await page.locator('.kpi-baselines').innerText(), /PROC-PURCHASE/);
      await page.screenshot({ path: path.join(SHOTS, 'kpis-desktop.png'), fullPage: true });

      // A process filter: the cycle time becomes that process's.
      await page.getByLabel('Approval process').selectOption('PROC-LEAVE');
      const leave = `${e.by_process['PROC-LEAVE']!.toLocaleString('en', { maximumFractionDigits: 1 })} h`;
      await page.waitForFunction(
        (want) => document.querySelector('.kpi-card[data-kpi=process_cycle_hours] .kpi-number')?.textContent === want,
        leave,
      );
      await page.getByLabel('Approval process').selectOption('');

      // A department: the cycle time of the approvals its people started in November.
      const hk = history.approvals.filter(
        (a) => DEPARTMENTS[a.originatorUserId] === 'Sales/Hong Kong' && dayOf(a.finishTime).startsWith('2026-11'),
      );
      const hkHours = `${r2(mean(hk.map(hoursOf))!).toLocaleString('en', { maximumFractionDigits: 1 })} h`;
      await page.getByLabel('Department').selectOption('Sales/Hong Kong');
      await page.waitForFunction(
        (want) => document.querySelector('.kpi-card[data-kpi=process_cycle_hours] .kpi-number')?.textContent === want,
        hkHours,
      );
      await page.screenshot({ path: path.join(SHOTS, 'kpis-desktop-department.png'), fullPage: true });
      await page.getByLabel('Department').selectOption('');

      // Phone: one or two columns of cards, charts one under the other, nothing wider than the screen.
      const phone = await browser.newContext({
        viewport: { width: 390, height: 844 },
        locale: 'en-GB',
        storageState: await ctx.storageState(),
      });
      const p = await phone.newPage();
      await p.goto(`${hub.url}/kpis?month=2026-11`);
      await p.waitForFunction(() => document.querySelectorAll('.kpi-chart svg').length === 6);
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `no sideways scrolling on a phone (${overflow}px)`);
      await p.screenshot({ path: path.join(SHOTS, 'kpis-phone.png'), fullPage: true });

      // zh-HK (the third language of the switcher, traditional characters).
      const third = await p.evaluate(() => {
        const sel = document.querySelector('.lang select') as HTMLSelectElement;
        return sel.options[2]!.value;
      });
      await p.locator('.lang select').selectOption(third);
      await p.getByRole('heading', { name: '推行指標', level: 1 }).waitFor();
      await p.locator('.kpi-card[data-kpi=mobile_share] .kpi-title', { hasText: '手機登入佔比' }).waitFor();
      await p.screenshot({ path: path.join(SHOTS, 'kpis-phone-zh-HK.png'), fullPage: true });
      await page.locator('.lang select').selectOption(third);
      await page.getByRole('heading', { name: '推行指標', level: 1 }).waitFor();
      await page.waitForFunction(() => document.querySelectorAll('.kpi-chart svg').length === 6);
      await page.screenshot({ path: path.join(SHOTS, 'kpis-desktop-zh-HK.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
