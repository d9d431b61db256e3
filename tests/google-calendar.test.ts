import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { calendar, type calendar_v3 } from '@googleapis/calendar';
import { OAuth2Client } from 'google-auth-library';
import { DEFAULT_GOOGLE_CLIENT, startGoogleFake, type GoogleState } from '../sandbox/google/index.ts';
import type { RunningFake } from '../sandbox/framework/index.ts';
import type { Hub } from '../app/hub.ts';
import { idempotentEventId } from '../connectors/google/calendar-actions.ts';
import { SCOPES } from '../connectors/google/scopes.ts';
import { freePort } from './helpers/ports.ts';
import { prepareEnvironment, startTestHub, TEST_ADMIN_TOKEN, tempDir, waitUntil, writeConfig, type Environment } from './helpers/hub.ts';
import { queryHub } from './helpers/hub-db.ts';
import { services } from './helpers/services.ts';

/**
 * The Google connector's Calendar half end to end: the official clients (@googleapis/calendar,
 * google-auth-library) in the hub against the Google fake over HTTP, a real hub (PostgreSQL, Redis).
 *
 * GOOGLE_CALENDAR_OPS random creates, edits and deletes go through the trigger in 20 batches while its
 * push channel is expired and renewed 10 times and its sync token is invalidated twice: 150 by default
 * (CI's time budget), the 500 with `npm run test:google-full` (about 50–100 s for that test alone).
 */
const available = await services();
const OPS = Number(process.env.GOOGLE_CALENDAR_OPS ?? 150);
const USER = 'demo@example.com';
const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

async function api(base: string, method: string, p: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { ...auth, ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, text };
}

/** A seeded generator, so a failing run can be replayed (the seed is printed). */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CONFIG = (sinkNone: string) => `
hooks:
  - id: make-event
flows:
  - id: cal-watch
    when:
      event: google.calendar.event.*
      source: gcal
      params: { calendarId: primary }
      condition: 'data.change == "${sinkNone}"'
    then:
      - action: google.calendar.get_event
        connection: gcal
        input: { eventId: "{{ data.event.id }}" }
  - id: cal-create
    when: { event: catch_hook.received, source: make-event }
    then:
      - action: google.calendar.create_event
        connection: gcal
        input:
          summary: "{{ data.summary }}"
          start: "{{ data.start }}"
          end: "{{ data.end }}"
          timeZone: Asia/Hong_Kong
          attendees: "{{ data.attendees }}"
`;

describe('Google connector: Calendar and connect', {
  timeout: 600_000,
  skip: available.postgres && available.redis ? false : 'needs PostgreSQL and Redis',
}, () => {
  let fake: RunningFake<GoogleState>;
  let environment: Environment;
  let hub: Hub;
  let base: string;
  let cal: calendar_v3.Calendar; // the test's own client, as the account owner working in Google Calendar
  const saved = { allow: process.env.GOOGLE_PUSH_ALLOW_HTTP, ttl: process.env.GOOGLE_CALENDAR_CHANNEL_TTL_SEC };

  const control = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${fake.baseUrl()}${p}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.status < 300, `${method} ${p} → ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };

  /** The browser's part of the Connect button: POST authorize, the consent page, the hub's callback. */
  const connect = async () => {
    const start = await api(hub.url!, 'POST', '/api/v1/connections/gcal/authorize', {});
    assert.equal(start.status, 200, start.text);
    const url = new URL(start.json.authorizeUrl);
    const atGoogle = await fetch(url, { redirect: 'manual' });
    assert.equal(atGoogle.status, 302, await atGoogle.text());
    const callback = await fetch(atGoogle.headers.get('location')!, { redirect: 'manual' });
    return { url, status: callback.status, text: await callback.text() };
  };

  const ownClient = async () => {
    const client = new OAuth2Client({
      clientId: DEFAULT_GOOGLE_CLIENT.clientId,
      clientSecret: DEFAULT_GOOGLE_CLIENT.clientSecret,
      redirectUri: 'http://127.0.0.1:9/cb',
      endpoints: { oauth2AuthBaseUrl: `${fake.baseUrl()}/o/oauth2/v2/auth`, oauth2TokenUrl: `${fake.baseUrl()}/token` },
    });
    const { codeVerifier, codeChallenge } = await client.generateCodeVerifierAsync();
    const url = client.generateAuthUrl({
      access_type: 'offline',
      prompt: 'consent',
      scope: [SCOPES.calendar],
      code_challenge: codeChallenge,
      code_challenge_method: 'S256' as never,
    });
    const res = await fetch(url, { redirect: 'manual' });
    const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
    const { tokens } = await client.getToken({ code, codeVerifier });
    client.setCredentials(tokens);
    return calendar({ version: 'v3', auth: client, rootUrl: `${fake.baseUrl()}/` });
  };

  const calendarEvents = () =>
    queryHub<{ type: string; data: any; subject: string }>(
      environment,
      "select type, data, subject from events where connection_id = 'gcal' and type like 'google.calendar.event.%' order by received_at, id",
    );

  before(async () => {
    fake = await startGoogleFake({ port: 0 });
    process.env.GOOGLE_PUSH_ALLOW_HTTP = 'true'; // the fake listens on http; never set in production
    process.env.GOOGLE_CALENDAR_CHANNEL_TTL_SEC = '4'; // channels live 4 s: the hub renews them every 2 s
    const port = await freePort();
    environment = await prepareEnvironment({ name: 'google', store: 'external', queue: 'redis' }, 'google-cal', {
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DINGBRIDGE_CONFIG: writeConfig(tempDir('google-cal'), CONFIG('never')),
      DINGBRIDGE_SWEEP_INTERVAL_MS: '300',
      DINGBRIDGE_TRIGGER_CHECK_MS: '3600000',
    });
    hub = await startTestHub(environment);
    base = fake.baseUrl();
    cal = await ownClient();
  });
  after(async () => {
    // The fake first: its channels notify the hub every 2 s over kept-alive connections, which would
    // keep the hub's server.close() waiting.
    await fake?.stop();
    await hub?.stop();
    await environment?.cleanup();
    for (const [k, v] of [
      ['GOOGLE_PUSH_ALLOW_HTTP', saved.allow],
      ['GOOGLE_CALENDAR_CHANNEL_TTL_SEC', saved.ttl],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  test('Connect with PKCE asks offline access, consent and the scopes the flows use; events already there are not announced', async () => {
    // Events made before the flow starts.
    for (const n of [1, 2, 3])
      await cal.events.insert({
        calendarId: 'primary',
        requestBody: { summary: `before ${n}`, start: { date: `2026-04-0${n}` }, end: { date: `2026-04-0${n + 1}` } },
      });
    await control('PUT', '/__sandbox/google/oauth/settings', { requirePkce: true });
    const created = await api(hub.url!, 'POST', '/api/v1/connections', {
      id: 'gcal',
      connector: 'google',
      label: 'Demo calendar',
      settings: { clientId: DEFAULT_GOOGLE_CLIENT.clientId, baseUrl: base, oauthBaseUrl: base },
      secrets: { clientSecret: DEFAULT_GOOGLE_CLIENT.clientSecret },
    });
    assert.equal(created.status, 201, created.text);
    const done = await connect();
    assert.equal(done.status, 200, done.text);
    assert.match(done.text, /Connected/);
    const q = done.url.searchParams;
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.ok(q.get('code_challenge'));
    assert.equal(q.get('access_type'), 'offline');
    assert.equal(q.get('prompt'), 'consent');
    assert.equal(q.get('include_granted_scopes'), 'true');
    const scopes = q.get('scope')!.split(' ');
    assert.ok(scopes.includes(SCOPES.calendar), 'the calendar flows need Calendar');
    assert.ok(!scopes.includes(SCOPES.drive), 'no flow uses Drive: not asked for');

    const view = await api(hub.url!, 'GET', '/api/v1/connections/gcal');
    assert.equal(view.json.status, 'active');
    assert.ok(view.json.secrets.refreshToken?.set, 'offline access gave a refresh token');
    const tested = await api(hub.url!, 'POST', '/api/v1/connections/gcal/test');
    assert.equal(tested.status, 200, tested.text);
    assert.equal(tested.json.details.email, USER);

    // The poller's first run records what exists and announces nothing.
    await waitUntil(
      async () => (await queryHub<{ cursor: string | null }>(environment, 'select cursor from trigger_pollers'))[0]?.cursor,
      'the first poll',
      60_000,
    );
    await waitUntil(
      async () =>
        (await queryHub<{ status: string }>(environment, "select status from trigger_subscriptions where status = 'active'")).length === 1,
      'the push channel',
      60_000,
    );
    assert.deepEqual(await calendarEvents(), []);
  });

  test('calendar actions: idempotent create, update, move, get, list a day, free/busy, delete (twice)', async () => {
    const run = (action: string, input: unknown, key?: string) =>
      api(hub.url!, 'POST', `/api/v1/actions/${action}/run`, { connection_id: 'gcal', input }, key ? { 'idempotency-key': key } : {});
    const first = await run(
      'google.calendar.create_event',
      {
        summary: 'Board meeting',
        start: '2026-05-04T10:00:00',
        end: '2026-05-04T11:00:00',
        timeZone: 'Asia/Hong_Kong',
        attendees: 'ben@example.com',
      },
      'step-1',
    );
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.output.id, idempotentEventId('api:step-1'));
    assert.equal(first.json.output.alreadyExisted, false);
    assert.equal(first.json.output.startAt, '2026-05-04T02:00:00.000Z');
    // The same step again (its first answer lost): Google answers 409 to the same id, the action returns that event.
    const again = await run(
      'google.calendar.create_event',
      { summary: 'Board meeting', start: '2026-05-04T10:00:00', end: '2026-05-04T11:00:00', timeZone: 'Asia/Hong_Kong' },
      'step-1',
    );
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.output.id, first.json.output.id);
    assert.equal(again.json.output.alreadyExisted, true);
    const listed = await cal.events.list({ calendarId: 'primary', q: 'Board meeting' });
    assert.equal(listed.data.items?.length, 1, 'one event, not two');

    const id = first.json.output.id;
    const moved = await run('google.calendar.update_event', {
      eventId: id,
      start: '2026-05-04T14:00:00+08:00',
      end: '2026-05-04T15:00:00+08:00',
    });
    assert.equal(moved.status, 200, moved.text);
    assert.equal(moved.json.output.startAt, '2026-05-04T06:00:00.000Z');
    const got = await run('google.calendar.get_event', { eventId: id });
    assert.equal(got.json.output.summary, 'Board meeting');
    assert.deepEqual(got.json.output.attendeeEmails, ['ben@example.com']);
    const allDay = await run('google.calendar.create_event', { summary: 'Holiday', start: '2026-05-04', end: '2026-05-05' }, 'step-2');
    assert.equal(allDay.json.output.allDay, true);
    const day = await run('google.calendar.list_events', { day: '2026-05-04', timeZone: 'Asia/Hong_Kong' });
    assert.equal(day.status, 200, day.text);
    assert.deepEqual(
      day.json.output.events.map((e: any) => e.summary),
      ['Holiday', 'Board meeting'],
    );
    assert.match(day.json.output.agenda, /All day Holiday\n14:00–15:00 Board meeting/);
    const fb = await run('google.calendar.free_busy', {
      calendars: [USER],
      timeMin: '2026-05-04T05:00:00Z',
      timeMax: '2026-05-04T07:00:00Z',
    });
    assert.equal(fb.status, 200, fb.text);
    assert.equal(fb.json.output.free, false);
    assert.deepEqual(fb.json.output.calendars[0].busy.length, 1);

    const del = await run('google.calendar.delete_event', { eventId: allDay.json.output.id });
    assert.deepEqual(del.json.output, { id: allDay.json.output.id, deleted: true, alreadyDeleted: false });
    const delAgain = await run('google.calendar.delete_event', { eventId: allDay.json.output.id });
    assert.equal(delAgain.status, 200, 'Google answers 410 to a second delete: done already');
    assert.equal(delAgain.json.output.alreadyDeleted, true);
  });

  test("every calendar action's errors through the fake: 403 rate limit retries, 403 permission and 404 do not, 409 and 5xx", async () => {
    const run = (action: string, input: unknown) =>
      api(hub.url!, 'POST', `/api/v1/actions/${action}/run`, { connection_id: 'gcal', input });
    const fault = (body: Record<string, unknown>) => control('POST', '/__sandbox/faults', { kind: 'status', count: 1, ...body });
    const made = await run('google.calendar.create_event', { summary: 'Err', start: '2026-06-01T09:00:00Z', end: '2026-06-01T10:00:00Z' });
    const id = made.json.output.id;
    const side = await control('POST', '/__sandbox/google/calendars', { owner: USER, summary: 'Side' });
    const calls: Array<[string, Record<string, unknown>, string, string]> = [
      ['google.calendar.create_event', { summary: 'x', start: '2026-06-01T09:00:00Z', end: '2026-06-01T10:00:00Z' }, 'POST', '/events$'],
      ['google.calendar.update_event', { eventId: id, summary: 'y' }, 'PATCH', `/events/${id}$`],
      ['google.calendar.delete_event', { eventId: id }, 'DELETE', `/events/${id}$`],
      ['google.calendar.get_event', { eventId: id }, 'GET', `/events/${id}$`],
      // A calendar of its own: the trigger's poller lists the primary one at any moment.
      [
        'google.calendar.list_events',
        { calendarId: side.id, day: '2026-06-01' },
        'GET',
        `/calendars/${encodeURIComponent(side.id)}/events$`,
      ],
      [
        'google.calendar.free_busy',
        { calendars: [USER], timeMin: '2026-06-01T00:00:00Z', timeMax: '2026-06-02T00:00:00Z' },
        'POST',
        '/freeBusy$',
      ],
    ];
    const forbidden = {
      error: {
        code: 403,
        message: 'Forbidden',
        errors: [{ domain: 'global', reason: 'forbidden', message: 'Forbidden' }],
        status: 'PERMISSION_DENIED',
      },
    };
    const conflict = {
      error: { code: 409, message: 'Conflict', errors: [{ domain: 'global', reason: 'conflict', message: 'Conflict' }], status: 'ABORTED' },
    };
    for (const [action, input, method, path] of calls) {
      await fault({ status: 403, method, path });
      const rate = await run(action, input);
      assert.equal(rate.status, 502, `${action} 403 rateLimitExceeded: ${rate.text}`);
      assert.equal(rate.json.error.retryable, true);
      assert.match(rate.json.error.message, /rateLimitExceeded/);
      assert.ok(rate.json.error.retry_after_ms > 0);

      await fault({ status: 403, method, path, body: forbidden });
      const perm = await run(action, input);
      assert.equal(perm.status, 422, `${action} 403 forbidden: ${perm.text}`);
      assert.match(perm.json.error.message, /forbidden/);

      await fault({ status: 404, method, path });
      const missing = await run(action, input);
      assert.equal(missing.status, 422, `${action} 404: ${missing.text}`);

      await fault({ status: 503, method, path });
      const down = await run(action, input);
      assert.equal(down.status, 502, `${action} 503: ${down.text}`);
      assert.equal(down.json.error.retryable, true);

      await fault({ status: 500, method, path });
      assert.equal((await run(action, input)).status, 502, `${action} 500`);

      if (action !== 'google.calendar.create_event') {
        await fault({ status: 409, method, path, body: conflict });
        const c = await run(action, input);
        assert.equal(c.status, 422, `${action} 409: ${c.text}`);
      }
    }
    // 410 without a fault: an event deleted twice (done), and got after deletion.
    const gone = await run('google.calendar.create_event', { summary: 'Gone', start: '2026-06-02T09:00:00Z', end: '2026-06-02T10:00:00Z' });
    await run('google.calendar.delete_event', { eventId: gone.json.output.id });
    assert.equal((await run('google.calendar.delete_event', { eventId: gone.json.output.id })).json.output.alreadyDeleted, true);
    await fault({ status: 410, method: 'PATCH', path: '/events/' });
    assert.equal((await run('google.calendar.update_event', { eventId: id, summary: 'z' })).status, 422, '410 on an update is permanent');
    // A real 404 (no fault): an event that never existed.
    const none = await run('google.calendar.get_event', { eventId: 'nosuchevent0' });
    assert.equal(none.status, 422);
    assert.match(none.json.error.message, /404/);
    // A real 403 permission: another user's calendar the account cannot write to.
    await control('POST', '/__sandbox/google/users', { primaryEmail: 'other@example.com' });
    await control('POST', '/__sandbox/google/calendars', { owner: 'other@example.com', primary: true });
    const foreign = await run('google.calendar.create_event', {
      calendarId: 'other@example.com',
      summary: 'x',
      start: '2026-06-01T09:00:00Z',
      end: '2026-06-01T10:00:00Z',
    });
    assert.ok([403, 404].includes(foreign.json.error.status), foreign.text);
    assert.equal(foreign.status, 422);
    // A real 403 rate limit: the per-user quota.
    await control('PUT', '/__sandbox/google/settings', { userQuota: 1, quotaWindowMs: 60_000, rateLimitStatus: 403 });
    try {
      await run('google.calendar.get_event', { eventId: id });
      const limited = await run('google.calendar.get_event', { eventId: id });
      assert.equal(limited.status, 502, limited.text);
      assert.match(limited.json.error.message, /userRateLimitExceeded/);
    } finally {
      await control('PUT', '/__sandbox/google/settings', { userQuota: null });
    }
  });
  test(`calendar trigger: ${OPS} random creates, edits and deletes (recurring exceptions, all-day) with the channel expired and renewed 10 times and the sync token invalidated twice → each change once, in order`, async (t) => {
    const seed = Number(process.env.GOOGLE_CALENDAR_SEED ?? Date.now() % 100_000);
    t.diagnostic(`seed ${seed} (GOOGLE_CALENDAR_SEED replays it)`);
    const rand = rng(seed);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
    type Kind = 'single' | 'allday' | 'series' | 'exception';
    interface M {
      id: string;
      kind: Kind;
      live: boolean;
      startMs: number; // timed: the instant; all-day: the date at 00:00Z
      seriesId?: string;
      used?: Set<number>; // series: instances made exceptions or cancelled
    }
    const DAY = 86_400_000;
    const HOUR = 3_600_000;
    const model = new Map<string, M>();
    const expected: Array<[string, string]> = [];
    const expectedBy = new Map<string, string[]>();
    const expect = (id: string, change: string) => {
      expected.push([id, change]);
      expectedBy.set(id, [...(expectedBy.get(id) ?? []), change]);
    };
    let n = 0;
    const newId = (prefix: string) => `${prefix}${(++n).toString(32).padStart(5, '0')}${seed.toString(32)}`;
    const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
    const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace('.000', '');
    const timed = (ms: number) => ({
      start: { dateTime: iso(ms), timeZone: 'Asia/Hong_Kong' },
      end: { dateTime: iso(ms + HOUR), timeZone: 'Asia/Hong_Kong' },
    });
    const allDay = (ms: number) => ({ start: { date: date(ms) }, end: { date: date(ms + DAY) } });
    const live = (kinds: Kind[], busy: Set<string>) =>
      [...model.values()].filter((m) => m.live && kinds.includes(m.kind) && !busy.has(m.id) && !(m.seriesId && busy.has(m.seriesId)));

    /** One operation on an event no other operation of the batch touches (so each makes exactly one change the hub sees). */
    const operate = async (busy: Set<string>) => {
      const r = rand();
      if (r < 0.2 || model.size < 5) {
        const m: M = { id: newId('ev'), kind: 'single', live: true, startMs: Date.UTC(2026, 6, 1) + Math.floor(rand() * 500) * HOUR };
        await cal.events.insert({ calendarId: 'primary', requestBody: { id: m.id, summary: `single ${m.id}`, ...timed(m.startMs) } });
        model.set(m.id, m);
        busy.add(m.id);
        return expect(m.id, 'created');
      }
      if (r < 0.3) {
        const m: M = { id: newId('ad'), kind: 'allday', live: true, startMs: Date.UTC(2026, 7, 1) + Math.floor(rand() * 100) * DAY };
        await cal.events.insert({ calendarId: 'primary', requestBody: { id: m.id, summary: `all day ${m.id}`, ...allDay(m.startMs) } });
        model.set(m.id, m);
        busy.add(m.id);
        return expect(m.id, 'created');
      }
      if (r < 0.37) {
        const m: M = {
          id: newId('sr'),
          kind: 'series',
          live: true,
          startMs: Date.UTC(2026, 8, 7, 1) + Math.floor(rand() * 30) * DAY,
          used: new Set(),
        };
        await cal.events.insert({
          calendarId: 'primary',
          requestBody: { id: m.id, summary: `series ${m.id}`, ...timed(m.startMs), recurrence: ['RRULE:FREQ=WEEKLY;COUNT=8'] },
        });
        model.set(m.id, m);
        busy.add(m.id);
        return expect(m.id, 'created');
      }
      if (r < 0.55) {
        const m = live(['single', 'allday', 'series', 'exception'], busy);
        if (!m.length) return operate(busy);
        const e = pick(m);
        await cal.events.patch({ calendarId: 'primary', eventId: e.id, requestBody: { summary: `edited ${e.id} ${rand()}` } });
        busy.add(e.id);
        return expect(e.id, 'updated');
      }
      if (r < 0.7) {
        const m = live(['single', 'allday', 'exception'], busy);
        if (!m.length) return operate(busy);
        const e = pick(m);
        e.startMs += e.kind === 'allday' ? DAY : HOUR;
        await cal.events.patch({
          calendarId: 'primary',
          eventId: e.id,
          requestBody: e.kind === 'allday' ? allDay(e.startMs) : timed(e.startMs),
        });
        busy.add(e.id);
        return expect(e.id, 'moved');
      }
      if (r < 0.82) {
        const m = live(['single', 'allday', 'exception', 'series'], busy);
        if (!m.length) return operate(busy);
        const e = pick(m);
        // A series takes its exceptions with it: none of them may be touched by this batch either.
        const exceptions = e.kind === 'series' ? [...model.values()].filter((x) => x.seriesId === e.id && x.live) : [];
        if (exceptions.some((x) => busy.has(x.id))) return operate(busy);
        await cal.events.delete({ calendarId: 'primary', eventId: e.id });
        e.live = false;
        busy.add(e.id);
        expect(e.id, 'cancelled');
        for (const x of exceptions) {
          x.live = false;
          busy.add(x.id);
          expect(x.id, 'cancelled');
        }
        return;
      }
      // One instance of a series: changed (an exception at its own time), moved, or cancelled.
      const series = live(['series'], busy).filter((s) => s.used!.size < 7);
      if (!series.length) return operate(busy);
      const s = pick(series);
      const free = [1, 2, 3, 4, 5, 6, 7].filter((k) => !s.used!.has(k));
      const k = pick(free);
      s.used!.add(k);
      busy.add(s.id);
      const at = s.startMs + k * 7 * DAY;
      const id = `${s.id}_${stamp(at)}`;
      const x: M = { id, kind: 'exception', live: true, startMs: at, seriesId: s.id };
      model.set(id, x);
      busy.add(id);
      const what = rand();
      if (what < 0.35) {
        await cal.events.patch({ calendarId: 'primary', eventId: id, requestBody: { summary: `instance ${id}` } });
        return expect(id, 'updated');
      }
      if (what < 0.7) {
        x.startMs += HOUR;
        await cal.events.patch({ calendarId: 'primary', eventId: id, requestBody: timed(x.startMs) });
        return expect(id, 'moved');
      }
      await cal.events.delete({ calendarId: 'primary', eventId: id });
      x.live = false;
      return expect(id, 'cancelled');
    };

    const seen = async () => {
      const rows = await calendarEvents();
      return rows.filter((r) => model.has(r.data.event.id));
    };
    const subscription = async () =>
      (await queryHub<{ external_id: string }>(environment, "select external_id from trigger_subscriptions where status = 'active'"))[0]
        ?.external_id;

    const BATCH = Math.max(5, Math.ceil(OPS / 20));
    const batches = Math.ceil(OPS / BATCH);
    const expireAt = new Set(Array.from({ length: 10 }, (_, i) => Math.floor(((i + 1) * batches) / 11)));
    const invalidateAt = new Set([Math.floor(batches / 3), Math.floor((2 * batches) / 3)]);
    let done = 0;
    let expiredChannels = 0;
    const started = Date.now();
    for (let b = 0; b < batches; b += 1) {
      if (expireAt.has(b)) {
        // The channel the hub holds dies now (as if its time ran out); the hub must be on a new one before long.
        const current = await subscription();
        await control('POST', '/__sandbox/google/channels/expire', { id: current });
        expiredChannels += 1;
        await waitUntil(
          async () => {
            const now = await subscription();
            return now && now !== current;
          },
          'a renewed channel',
          60_000,
        );
      }
      if (invalidateAt.has(b)) await control('POST', '/__sandbox/google/sync-tokens/invalidate', {});
      const busy = new Set<string>();
      for (let i = 0; i < BATCH && done < OPS; i += 1, done += 1) await operate(busy);
      await waitUntil(
        async () => (await seen()).length >= expected.length,
        `the hub to see batch ${b + 1} (${expected.length} changes)`,
        90_000,
        200,
      );
    }
    t.diagnostic(`${OPS} operations, ${expected.length} expected events, ${Math.round((Date.now() - started) / 1000)} s`);

    const rows = await seen();
    const got = new Map<string, string[]>();
    for (const r of rows) got.set(r.data.event.id, [...(got.get(r.data.event.id) ?? []), r.data.change]);
    assert.equal(rows.length, expected.length, 'exactly the expected events');
    assert.deepEqual(Object.fromEntries([...got].sort()), Object.fromEntries([...expectedBy].sort()), 'once each, in order per event id');
    for (const r of rows) assert.equal(r.type, `google.calendar.event.${r.data.change}`);

    // What a flow sees of the kinds of events.
    const exception = rows.find((r) => r.data.event.kind === 'exception' && r.data.change !== 'cancelled');
    if (exception) {
      assert.equal(exception.data.event.recurringEventId, model.get(exception.data.event.id)!.seriesId);
      assert.ok(exception.data.event.originalStartTime?.dateTime);
    }
    const cancelledInstance = rows.find((r) => r.data.event.recurringEventId && r.data.change === 'cancelled');
    if (cancelledInstance) assert.ok(cancelledInstance.data.event.originalStartTime);
    const day = rows.find((r) => model.get(r.data.event.id)?.kind === 'allday' && r.data.change === 'created');
    assert.equal(day?.data.event.allDay, true);
    assert.match(day?.data.event.startAt ?? '', /^\d{4}-\d{2}-\d{2}$/);

    // The fake's view: the sync token was refused twice, 10 channels were expired, and more were made than that.
    const lists = (await control('GET', '/__sandbox/calls?path=/calendar/v3/calendars/primary/events&method=GET')).calls as Array<{
      status: number;
    }>;
    assert.equal(lists.filter((c) => c.status === 410).length, 2, 'two full resyncs');
    assert.equal(expiredChannels, Math.min(10, expireAt.size));
    if (OPS >= 100) assert.equal(expiredChannels, 10);
    const channels = (await control('GET', '/__sandbox/google/channels')).channels as Array<{ id: string }>;
    assert.ok(channels.length >= expiredChannels + 1, `channels made: ${channels.length}`);
    const deliveries = (await control('GET', '/__sandbox/google/deliveries')).deliveries as Array<{ status?: number; answer?: number }>;
    t.diagnostic(`${channels.length} channels, ${deliveries.length} notifications`);

    // The Triggers page shows the poller (with its resync) and the channel.
    const list = await api(hub.url!, 'GET', '/api/v1/triggers');
    const poller = list.json.triggers.find((x: any) => x.kind === 'poll' && x.connection === 'gcal');
    assert.equal(poller.status, 'ok');
    assert.ok(poller.lastResyncAt, 'the resync is shown');
    const sub = list.json.triggers.find((x: any) => x.kind === 'subscription' && x.connection === 'gcal');
    assert.equal(sub.status, 'active');
    assert.ok(sub.expiresAt && sub.nextRunAt && sub.lastNotificationAt);

    // A notification with a wrong token is refused.
    const forged = await fetch(`${hub.url}/webhooks/google/gcal?trigger=google.calendar.push`, {
      method: 'POST',
      headers: {
        'x-goog-channel-id': sub.externalId,
        'x-goog-channel-token': 'not-the-token',
        'x-goog-resource-state': 'exists',
        'x-goog-resource-uri': `${base}/calendar/v3/calendars/primary/events?alt=json`,
      },
    });
    assert.equal(forged.status, 401);
  });
  test('a revoked grant: the connection goes needs_reauth, the step waits; reconnecting resumes it and makes the event once', async () => {
    await control('POST', '/__sandbox/google/oauth/revoke', { client_id: DEFAULT_GOOGLE_CLIENT.clientId });
    const posted = await fetch(`${hub.url}/hooks/catch/make-event`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        summary: 'After reconnect',
        start: '2026-10-05T10:00:00',
        end: '2026-10-05T11:00:00',
        attendees: 'amy@example.com',
      }),
    });
    assert.equal(posted.status, 200, await posted.clone().text());
    const { id: eventId } = (await posted.json()) as { id: string };
    const waiting = await waitUntil(
      async () => {
        const rows = await queryHub<{ id: string; status: string }>(environment, 'select id, status from step_runs where event_id = $1', [
          eventId,
        ]);
        return rows[0]?.status === 'waiting_reauth' && rows[0];
      },
      'the step waiting for re-authorisation',
      60_000,
    );
    const view = await api(hub.url!, 'GET', '/api/v1/connections/gcal');
    assert.equal(view.json.status, 'needs_reauth');
    assert.match(view.json.lastError, /invalid_grant|revoked/i);
    const told = await queryHub(environment, "select id from events where type = 'hub.connection.needs_reauth'");
    assert.ok(told.length >= 1, 'the admins are told');

    const again = await connect();
    assert.equal(again.status, 200, again.text);
    assert.match(again.text, /1 waiting step\(s\) resumed/);
    await waitUntil(
      async () =>
        (await queryHub<{ status: string }>(environment, 'select status from step_runs where id = $1', [waiting.id]))[0]?.status ===
        'succeeded',
      'the step succeeded after reconnecting',
      60_000,
    );
    const made = ((await control('GET', `/__sandbox/google/events?calendarId=${encodeURIComponent(USER)}`)).events as any[]).filter(
      (e) => e.summary === 'After reconnect',
    );
    assert.equal(made.length, 1, 'one event');
    assert.match(made[0].id, /^[a-v0-9]{5,1024}$/);
    assert.deepEqual(
      made[0].attendees.map((a: any) => a.email),
      ['amy@example.com'],
    );
    assert.equal((await api(hub.url!, 'GET', '/api/v1/connections/gcal')).json.status, 'active');
  });
  test('a flow that needs more (Drive): connecting again asks for it beside Calendar, with include_granted_scopes', async () => {
    const flow = await api(hub.url!, 'POST', '/api/v1/flows', {
      id: 'drive-watch',
      when: { event: 'google.drive.file.*', source: 'gcal' },
      then: [{ action: 'google.calendar.get_event', connection: 'gcal', input: { eventId: '{{ data.file.id }}' } }],
    });
    assert.ok(flow.status === 201 || flow.status === 200, flow.text);
    const again = await connect();
    assert.equal(again.status, 200, again.text);
    const asked = again.url.searchParams.get('scope')!.split(' ');
    assert.ok(asked.includes(SCOPES.drive) && asked.includes(SCOPES.calendar));
    assert.equal(again.url.searchParams.get('include_granted_scopes'), 'true');
    const view = await api(hub.url!, 'GET', '/api/v1/connections/gcal');
    assert.equal(view.json.status, 'active');
    assert.ok(view.json.scopes.includes(SCOPES.drive) && view.json.scopes.includes(SCOPES.calendar), JSON.stringify(view.json.scopes));
  });
});
