import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { calendar, type calendar_v3 } from '@googleapis/calendar';
import { drive, type drive_v3 } from '@googleapis/drive';
import { gmail } from '@googleapis/gmail';
import { admin } from '@googleapis/admin';
import { JWT, OAuth2Client } from 'google-auth-library';
import { startGoogleFake, DEFAULT_GOOGLE_CLIENT, type GoogleState } from '../../sandbox/google/index.ts';
import type { RunningFake } from '../../sandbox/framework/index.ts';

// ---- a local receiver for push channels and Pub/Sub pushes ----
interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
}
class Receiver {
  server!: http.Server;
  base = '';
  received: Received[] = [];
  /** Per path, statuses to answer before answering 200. */
  statuses = new Map<string, number[]>();
  async start() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ path: req.url ?? '/', headers: req.headers, raw: Buffer.concat(chunks) });
        res.statusCode = this.statuses.get(req.url ?? '/')?.shift() ?? 200;
        res.end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  on(path: string) {
    return this.received.filter((r) => r.path === path);
  }
  async waitFor(path: string, n: number, ms = 15_000) {
    const until = Date.now() + ms;
    while (this.on(path).length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.ok(this.on(path).length >= n, `expected ${n} deliveries on ${path}, got ${this.on(path).length}`);
    return this.on(path);
  }
  stop() {
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

let fake: RunningFake<GoogleState>;
let base: string;
let rx: Receiver;
const REDIRECT = 'http://127.0.0.1:9/oauth/callback';
const ALL_SCOPES = [
  'openid',
  'email',
  'profile',
  'https://www.googleapis.com/auth/calendar',
  'https://www.googleapis.com/auth/drive',
  'https://www.googleapis.com/auth/gmail.modify',
  'https://www.googleapis.com/auth/admin.directory.user.readonly',
  'https://www.googleapis.com/auth/admin.directory.group.readonly',
];

function oauthClient(
  client: { clientId: string; clientSecret: string } = DEFAULT_GOOGLE_CLIENT,
  opts: { forceRefreshOnFailure?: boolean } = {},
): OAuth2Client {
  return new OAuth2Client({
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    redirectUri: REDIRECT,
    ...opts,
    endpoints: {
      oauth2AuthBaseUrl: `${base}/o/oauth2/v2/auth`,
      oauth2TokenUrl: `${base}/token`,
      oauth2RevokeUrl: `${base}/revoke`,
      tokenInfoUrl: `${base}/tokeninfo`,
    },
  });
}

/** The browser's part of the consent: follow the authorization URL to the redirect and read the code. */
async function authorize(url: string): Promise<URL> {
  const res = await fetch(url, { redirect: 'manual' });
  assert.equal(res.status, 302, `authorize answered ${res.status}: ${await res.text()}`);
  return new URL(res.headers.get('location')!);
}

async function signIn(as: { sub: string; email: string; name?: string }) {
  await control('PUT', '/__sandbox/google/oauth/user', { name: as.email, ...as });
}

/** A signed-in OAuth2Client (offline access) for the current fake user. */
async function connect(scopes = ALL_SCOPES, extra: Record<string, string> = {}) {
  const client = oauthClient();
  const url = client.generateAuthUrl({ access_type: 'offline', prompt: 'consent', scope: scopes, state: 's1', ...extra });
  const cb = await authorize(url);
  const { tokens } = await client.getToken(cb.searchParams.get('code')!);
  client.setCredentials(tokens);
  return { client, tokens };
}

async function control(method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.status < 300, `${method} ${path} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** The Google error a client call failed with: HTTP status and the first reason of Google's error body. */
async function googleError(p: Promise<unknown>): Promise<{ status: number; reason: string; message: string; body: any }> {
  try {
    await p;
  } catch (err: any) {
    const body = err.response?.data;
    return { status: err.status ?? err.response?.status, reason: body?.error?.errors?.[0]?.reason, message: body?.error?.message, body };
  }
  assert.fail('expected the call to fail');
}

const apis = (auth: OAuth2Client) => ({
  cal: calendar({ version: 'v3', auth, rootUrl: `${base}/` }),
  drv: drive({ version: 'v3', auth, rootUrl: `${base}/` }),
  mail: gmail({ version: 'v1', auth, rootUrl: `${base}/` }),
  dir: admin({ version: 'directory_v1', auth, rootUrl: `${base}/` }),
});

let demo: ReturnType<typeof apis> & { client: OAuth2Client };

before(async () => {
  fake = await startGoogleFake();
  base = fake.baseUrl();
  rx = new Receiver();
  await rx.start();
});
after(async () => {
  await fake.stop();
  await rx.stop();
});
beforeEach(async () => {
  fake.reset();
  rx.received = [];
  rx.statuses.clear();
  const { client } = await connect();
  demo = { client, ...apis(client) };
});

// ---------------- OAuth ----------------

test('OAuth: offline access with consent gives a refresh token; a second grant without prompt=consent does not; userinfo answers', async () => {
  const { tokens } = await connect();
  assert.match(tokens.access_token!, /^ya29\./);
  assert.ok(tokens.refresh_token, 'refresh token with access_type=offline and prompt=consent');
  assert.equal(typeof tokens.id_token, 'string');
  const again = oauthClient();
  const cb = await authorize(again.generateAuthUrl({ access_type: 'offline', scope: ALL_SCOPES }));
  const second = await again.getToken(cb.searchParams.get('code')!);
  assert.equal(second.tokens.refresh_token, undefined, 'Google sends the refresh token only on the first consent');
  const online = oauthClient();
  const cb2 = await authorize(online.generateAuthUrl({ scope: ['email'], prompt: 'consent' }));
  assert.equal(
    (await online.getToken(cb2.searchParams.get('code')!)).tokens.refresh_token,
    undefined,
    'no refresh token without access_type=offline',
  );

  const info = await demo.client.request<{ sub: string; email: string; name: string }>({ url: `${base}/oauth2/v3/userinfo` });
  assert.equal(info.data.email, 'demo@example.com');
  assert.equal(info.data.name, 'Demo User');
  const ti = await demo.client.getTokenInfo(demo.client.credentials.access_token!);
  assert.ok(ti.scopes.includes('https://www.googleapis.com/auth/calendar'));

  const bad = await fetch(
    `${base}/o/oauth2/v2/auth?client_id=${DEFAULT_GOOGLE_CLIENT.clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}&response_type=code`,
    { redirect: 'manual' },
  );
  assert.equal(bad.status, 400, 'a request without scope is refused on the page');
  assert.match(await bad.text(), /Missing required parameter: scope/);
});

test('OAuth: include_granted_scopes adds the new scope to what was granted before', async () => {
  const reg = await control('POST', '/__sandbox/google/oauth/clients', { redirect_uris: [REDIRECT] });
  const c = oauthClient({ clientId: reg.client_id, clientSecret: reg.client_secret });
  const cb1 = await authorize(
    c.generateAuthUrl({ access_type: 'offline', prompt: 'consent', scope: ['https://www.googleapis.com/auth/calendar'] }),
  );
  const t1 = (await c.getToken(cb1.searchParams.get('code')!)).tokens;
  assert.equal(t1.scope, 'https://www.googleapis.com/auth/calendar');
  const cb2 = await authorize(
    c.generateAuthUrl({
      access_type: 'offline',
      prompt: 'consent',
      include_granted_scopes: true,
      scope: ['https://www.googleapis.com/auth/drive'],
    }),
  );
  const t2 = (await c.getToken(cb2.searchParams.get('code')!)).tokens;
  assert.deepEqual(t2.scope!.split(' ').sort(), ['https://www.googleapis.com/auth/calendar', 'https://www.googleapis.com/auth/drive']);
  // The calendar-only token cannot read Drive: 403 insufficientPermissions.
  const only = oauthClient({ clientId: reg.client_id, clientSecret: reg.client_secret });
  only.setCredentials({ access_token: t1.access_token });
  const e = await googleError(drive({ version: 'v3', auth: only, rootUrl: `${base}/` }).files.list());
  assert.equal(e.status, 403);
  assert.equal(e.reason, 'insufficientPermissions');
});

test('OAuth: revocation ends the grant; refresh then answers invalid_grant "Token has been expired or revoked."; API calls 401 with Google\'s body', async () => {
  const { client, tokens } = await connect();
  await client.revokeToken(tokens.refresh_token!);
  const fresh = oauthClient();
  fresh.setCredentials({ refresh_token: tokens.refresh_token });
  await assert.rejects(fresh.refreshAccessToken(), (err: any) => {
    assert.equal(err.response?.status, 400);
    assert.deepEqual(err.response?.data, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    return true;
  });
  const stale = oauthClient();
  stale.setCredentials({ access_token: tokens.access_token });
  const e = await googleError(calendar({ version: 'v3', auth: stale, rootUrl: `${base}/` }).calendarList.list());
  assert.equal(e.status, 401);
  assert.equal(e.reason, 'authError');
  assert.equal(e.body.error.status, 'UNAUTHENTICATED');
  assert.equal(e.body.error.code, 401);
});

test('OAuth: a "Testing" app\'s refresh tokens expire after 7 days (fake clock)', async () => {
  await control('PUT', '/__sandbox/google/settings', { testingApp: true });
  const { tokens } = await connect();
  assert.equal((tokens as any).refresh_token_expires_in, 604800);
  const c = oauthClient();
  c.setCredentials({ refresh_token: tokens.refresh_token });
  await control('POST', '/__sandbox/google/clock', { advanceSec: 6 * 86400 });
  assert.ok((await c.refreshAccessToken()).credentials.access_token, 'still valid on day 6');
  await control('POST', '/__sandbox/google/clock', { advanceSec: 86400 + 1 });
  await assert.rejects(
    c.refreshAccessToken(),
    (err: any) =>
      err.response?.data?.error === 'invalid_grant' && err.response?.data?.error_description === 'Token has been expired or revoked.',
  );
});

test('OAuth: an expired access token (fault) → 401; with forceRefreshOnFailure the client refreshes by itself and the call goes through', async () => {
  // google-auth-library refreshes on a 401 only without an expiry_date or with forceRefreshOnFailure: the connector should set it.
  const e = await (async () => {
    await control('POST', '/__sandbox/faults', { kind: 'expired_token', path: '^/calendar/' });
    return googleError(demo.cal.calendarList.list());
  })();
  assert.equal(e.status, 401);
  const c = oauthClient(DEFAULT_GOOGLE_CLIENT, { forceRefreshOnFailure: true });
  c.setCredentials(demo.client.credentials);
  demo = { client: c, ...apis(c) };
  await control('POST', '/__sandbox/faults', { kind: 'expired_token', path: '^/calendar/' });
  const before = (await control('GET', '/__sandbox/google/oauth/counters')).tokensIssued.refresh_token ?? 0;
  const list = await demo.cal.calendarList.list();
  assert.equal(list.status, 200);
  assert.equal((await control('GET', '/__sandbox/google/oauth/counters')).tokensIssued.refresh_token, before + 1);
});

// ---------------- Calendar ----------------

const ev = (summary: string, start: string, end: string, extra: calendar_v3.Schema$Event = {}): calendar_v3.Schema$Event => ({
  summary,
  start: { dateTime: start, timeZone: 'Asia/Hong_Kong' },
  end: { dateTime: end, timeZone: 'Asia/Hong_Kong' },
  ...extra,
});

test('Calendar: calendarList has the primary calendar; calendars.insert with a time zone; a bad time zone is refused', async () => {
  const list = await demo.cal.calendarList.list();
  const primary = list.data.items!.find((c) => c.primary);
  assert.equal(primary?.id, 'demo@example.com');
  assert.equal(primary?.accessRole, 'owner');
  const team = await demo.cal.calendars.insert({ requestBody: { summary: 'Team', timeZone: 'Asia/Hong_Kong' } });
  assert.match(team.data.id!, /@group\.calendar\.google\.com$/);
  assert.equal((await demo.cal.calendars.get({ calendarId: team.data.id! })).data.timeZone, 'Asia/Hong_Kong');
  assert.ok((await demo.cal.calendarList.list()).data.items!.some((c) => c.id === team.data.id));
  const e = await googleError(demo.cal.calendars.insert({ requestBody: { summary: 'x', timeZone: 'Mars/Olympus' } }));
  assert.equal(e.status, 400);
});

test('Calendar: insert honours a client-supplied id, a retry with the same id is 409 duplicate; get, patch, update, delete', async () => {
  const id = 'dingbridge0step0001';
  const created = await demo.cal.events.insert({
    calendarId: 'primary',
    requestBody: {
      id,
      ...ev('Kickoff', '2026-03-02T10:00:00', '2026-03-02T11:00:00', { extendedProperties: { private: { dingbridgeStep: 'abc' } } }),
    },
  });
  assert.equal(created.data.id, id);
  assert.equal(created.data.status, 'confirmed');
  assert.equal(created.data.start!.dateTime, '2026-03-02T10:00:00+08:00');
  const dup = await googleError(
    demo.cal.events.insert({ calendarId: 'primary', requestBody: { id, ...ev('Kickoff', '2026-03-02T10:00:00', '2026-03-02T11:00:00') } }),
  );
  assert.equal(dup.status, 409);
  assert.equal(dup.reason, 'duplicate');
  const badId = await googleError(
    demo.cal.events.insert({
      calendarId: 'primary',
      requestBody: { id: 'Has_Upper', ...ev('x', '2026-03-02T10:00:00', '2026-03-02T11:00:00') },
    }),
  );
  assert.equal(badId.status, 400);

  const patched = await demo.cal.events.patch({
    calendarId: 'primary',
    eventId: id,
    requestBody: { location: 'Room 1', extendedProperties: { private: { other: 'x' } } },
  });
  assert.equal(patched.data.summary, 'Kickoff');
  assert.deepEqual(patched.data.extendedProperties!.private, { dingbridgeStep: 'abc', other: 'x' });
  const byProp = await demo.cal.events.list({ calendarId: 'primary', privateExtendedProperty: ['dingbridgeStep=abc'] });
  assert.deepEqual(
    byProp.data.items!.map((e) => e.id),
    [id],
  );
  const updated = await demo.cal.events.update({
    calendarId: 'primary',
    eventId: id,
    requestBody: ev('Kickoff v2', '2026-03-02T12:00:00', '2026-03-02T13:00:00'),
  });
  assert.equal(updated.data.location, undefined, 'update replaces the whole event');
  assert.equal(updated.data.sequence, 1);
  assert.equal((await demo.cal.events.get({ calendarId: 'primary', eventId: id })).data.summary, 'Kickoff v2');
  const empty = await googleError(
    demo.cal.events.patch({ calendarId: 'primary', eventId: id, requestBody: { end: { dateTime: '2026-03-02T11:00:00+08:00' } } }),
  );
  assert.equal(empty.reason, 'timeRangeEmpty');

  await demo.cal.events.delete({ calendarId: 'primary', eventId: id });
  const again = await googleError(demo.cal.events.delete({ calendarId: 'primary', eventId: id }));
  assert.equal(again.status, 410);
  assert.equal(again.reason, 'deleted');
  const reuse = await googleError(
    demo.cal.events.insert({ calendarId: 'primary', requestBody: { id, ...ev('again', '2026-03-02T10:00:00', '2026-03-02T11:00:00') } }),
  );
  assert.equal(reuse.status, 409, "a deleted event's id stays taken");
  const full = await demo.cal.events.list({ calendarId: 'primary' });
  assert.equal(full.data.items!.length, 0, 'a full list hides cancelled events');
  const withDeleted = await demo.cal.events.list({ calendarId: 'primary', showDeleted: true });
  assert.deepEqual(
    withDeleted.data.items!.map((e) => [e.id, e.status]),
    [[id, 'cancelled']],
  );
  const nf = await googleError(demo.cal.events.get({ calendarId: 'primary', eventId: 'nosuchevent1' }));
  assert.equal(nf.status, 404);
  assert.equal(nf.reason, 'notFound');
});

test('Calendar: paging gives nextSyncToken on the last page only; incremental sync shows changes and cancellations; syncToken refuses filters; a stale token is 410 fullSyncRequired', async () => {
  for (let i = 0; i < 5; i++)
    await demo.cal.events.insert({
      calendarId: 'primary',
      requestBody: { id: `evt0000${i}`, ...ev(`E${i}`, '2026-03-03T09:00:00', '2026-03-03T10:00:00') },
    });
  const ids: string[] = [];
  let pageToken: string | undefined;
  let syncToken: string | undefined;
  let pages = 0;
  do {
    const r = await demo.cal.events.list({ calendarId: 'primary', maxResults: 2, pageToken });
    pages++;
    ids.push(...r.data.items!.map((e) => e.id!));
    pageToken = r.data.nextPageToken ?? undefined;
    if (pageToken) assert.equal(r.data.nextSyncToken, undefined, 'no sync token before the last page');
    else syncToken = r.data.nextSyncToken!;
  } while (pageToken);
  assert.equal(pages, 3);
  assert.deepEqual(ids, ['evt00000', 'evt00001', 'evt00002', 'evt00003', 'evt00004']);
  assert.ok(syncToken);

  await demo.cal.events.patch({ calendarId: 'primary', eventId: 'evt00001', requestBody: { summary: 'E1 moved' } });
  await demo.cal.events.delete({ calendarId: 'primary', eventId: 'evt00002' });
  const inc = await demo.cal.events.list({ calendarId: 'primary', syncToken });
  assert.deepEqual(
    inc.data.items!.map((e) => [e.id, e.status]),
    [
      ['evt00001', 'confirmed'],
      ['evt00002', 'cancelled'],
    ],
  );
  const next = inc.data.nextSyncToken!;
  assert.equal((await demo.cal.events.list({ calendarId: 'primary', syncToken: next })).data.items!.length, 0);

  for (const extra of [{ timeMin: '2026-01-01T00:00:00Z' }, { q: 'E1' }, { orderBy: 'updated' }]) {
    const e = await googleError(demo.cal.events.list({ calendarId: 'primary', syncToken: next, ...extra }));
    assert.equal(e.status, 400, JSON.stringify(extra));
  }
  await control('POST', '/__sandbox/google/sync-tokens/invalidate', { calendarId: 'demo@example.com' });
  const gone = await googleError(demo.cal.events.list({ calendarId: 'primary', syncToken: next }));
  assert.equal(gone.status, 410);
  assert.equal(gone.reason, 'fullSyncRequired');
  const resync = await demo.cal.events.list({ calendarId: 'primary' });
  assert.equal(resync.data.items!.length, 4);
  assert.ok(resync.data.nextSyncToken);
});

test('Calendar: a recurring series, its instances, an exception by recurringEventId + originalStartTime, a cancelled instance, singleEvents', async () => {
  const series = await demo.cal.events.insert({
    calendarId: 'primary',
    requestBody: {
      id: 'standup01',
      ...ev('Standup', '2026-03-09T09:30:00', '2026-03-09T09:45:00', { recurrence: ['RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=6'] }),
    },
  });
  assert.deepEqual(series.data.recurrence, ['RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=6']);
  const inst = await demo.cal.events.instances({ calendarId: 'primary', eventId: 'standup01' });
  assert.deepEqual(
    inst.data.items!.map((i) => i.start!.dateTime),
    [
      '2026-03-09T09:30:00+08:00',
      '2026-03-11T09:30:00+08:00',
      '2026-03-13T09:30:00+08:00',
      '2026-03-16T09:30:00+08:00',
      '2026-03-18T09:30:00+08:00',
      '2026-03-20T09:30:00+08:00',
    ],
  );
  const second = inst.data.items![1]!;
  assert.equal(second.id, 'standup01_20260311T013000Z');
  assert.equal(second.recurringEventId, 'standup01');
  assert.deepEqual(second.originalStartTime, { dateTime: '2026-03-11T09:30:00+08:00', timeZone: 'Asia/Hong_Kong' });

  const { data: sync0 } = await demo.cal.events.list({ calendarId: 'primary' });
  const moved = await demo.cal.events.patch({
    calendarId: 'primary',
    eventId: second.id!,
    requestBody: { start: { dateTime: '2026-03-11T10:00:00+08:00' }, end: { dateTime: '2026-03-11T10:15:00+08:00' } },
  });
  assert.equal(moved.data.recurringEventId, 'standup01');
  assert.equal(moved.data.originalStartTime!.dateTime, '2026-03-11T09:30:00+08:00');
  await demo.cal.events.delete({ calendarId: 'primary', eventId: inst.data.items![3]!.id! });

  const inc = await demo.cal.events.list({ calendarId: 'primary', syncToken: sync0.nextSyncToken! });
  assert.deepEqual(
    inc.data.items!.map((e) => [e.id, e.status, e.recurringEventId, e.originalStartTime?.dateTime]),
    [
      ['standup01_20260311T013000Z', 'confirmed', 'standup01', '2026-03-11T09:30:00+08:00'],
      ['standup01_20260316T013000Z', 'cancelled', 'standup01', '2026-03-16T09:30:00+08:00'],
    ],
  );
  const after = await demo.cal.events.instances({ calendarId: 'primary', eventId: 'standup01' });
  assert.equal(after.data.items!.length, 5);
  assert.equal(after.data.items![1]!.start!.dateTime, '2026-03-11T10:00:00+08:00');
  const single = await demo.cal.events.list({
    calendarId: 'primary',
    singleEvents: true,
    orderBy: 'startTime',
    timeMin: '2026-03-10T00:00:00Z',
    timeMax: '2026-03-17T00:00:00Z',
  });
  assert.deepEqual(
    single.data.items!.map((e) => e.start!.dateTime),
    ['2026-03-11T10:00:00+08:00', '2026-03-13T09:30:00+08:00'],
  );
  const noOrder = await googleError(demo.cal.events.list({ calendarId: 'primary', orderBy: 'startTime' }));
  assert.equal(noOrder.status, 400, 'orderBy=startTime needs singleEvents');
});

test('Calendar: all-day events use date with an exclusive end; time zones in and out; DST kept on the wall clock', async () => {
  const allDay = await demo.cal.events.insert({
    calendarId: 'primary',
    requestBody: { summary: 'Holiday', start: { date: '2026-04-03' }, end: { date: '2026-04-04' } },
  });
  assert.deepEqual(allDay.data.start, { date: '2026-04-03' });
  assert.deepEqual(allDay.data.end, { date: '2026-04-04' });
  const zero = await googleError(
    demo.cal.events.insert({
      calendarId: 'primary',
      requestBody: { summary: 'bad', start: { date: '2026-04-03' }, end: { date: '2026-04-03' } },
    }),
  );
  assert.equal(zero.reason, 'timeRangeEmpty');
  const mixed = await googleError(
    demo.cal.events.insert({
      calendarId: 'primary',
      requestBody: { summary: 'bad', start: { date: '2026-04-03' }, end: { dateTime: '2026-04-03T10:00:00Z' } },
    }),
  );
  assert.equal(mixed.status, 400);
  // The primary calendar is in UTC: an all-day event on 04-03 is in a window on 04-03 but not on 04-04.
  const onDay = await demo.cal.events.list({ calendarId: 'primary', timeMin: '2026-04-03T12:00:00Z', timeMax: '2026-04-03T13:00:00Z' });
  assert.equal(onDay.data.items!.length, 1);
  const nextDay = await demo.cal.events.list({ calendarId: 'primary', timeMin: '2026-04-04T00:00:00Z', timeMax: '2026-04-05T00:00:00Z' });
  assert.equal(nextDay.data.items!.length, 0, 'the end date is exclusive');

  const ny = await demo.cal.events.insert({
    calendarId: 'primary',
    requestBody: {
      summary: 'NY weekly',
      start: { dateTime: '2026-03-02T09:00:00', timeZone: 'America/New_York' },
      end: { dateTime: '2026-03-02T10:00:00', timeZone: 'America/New_York' },
      recurrence: ['RRULE:FREQ=WEEKLY;COUNT=3'],
    },
  });
  const inst = await demo.cal.events.instances({ calendarId: 'primary', eventId: ny.data.id! });
  // US DST starts 2026-03-08: 09:00 stays 09:00 local, the UTC time moves.
  assert.deepEqual(
    inst.data.items!.map((i) => i.start!.dateTime),
    ['2026-03-02T09:00:00-05:00', '2026-03-09T09:00:00-04:00', '2026-03-16T09:00:00-04:00'],
  );
  const inHk = await demo.cal.events.get({ calendarId: 'primary', eventId: ny.data.id!, timeZone: 'Asia/Hong_Kong' });
  assert.equal(inHk.data.start!.dateTime, '2026-03-02T22:00:00+08:00');
});

test("Calendar: events.watch → channel (ttl, token), deliveries sync then exists with Google's headers and no body; stop delivers at most once more; expired channels are silent", async () => {
  const ch = await demo.cal.events.watch({
    calendarId: 'primary',
    requestBody: { id: 'chan-1', type: 'web_hook', address: `${rx.base}/hook`, token: 'tok=1', params: { ttl: '3600' } },
  });
  assert.equal(ch.data.id, 'chan-1');
  assert.equal(ch.data.token, 'tok=1');
  assert.ok(ch.data.resourceId);
  const exp = Number(ch.data.expiration);
  assert.ok(Math.abs(exp - (Date.now() + 3600_000)) < 60_000, 'expiration follows params.ttl');
  const def = await demo.cal.events.watch({
    calendarId: 'primary',
    requestBody: { id: 'chan-default', type: 'web_hook', address: `${rx.base}/other` },
  });
  assert.ok(Math.abs(Number(def.data.expiration) - (Date.now() + 7 * 86400_000)) < 60_000, 'default ttl is 7 days');
  const dupId = await googleError(
    demo.cal.events.watch({ calendarId: 'primary', requestBody: { id: 'chan-1', type: 'web_hook', address: `${rx.base}/hook` } }),
  );
  assert.equal(dupId.status, 400);

  const [sync] = await rx.waitFor('/hook', 1);
  assert.equal(sync!.headers['x-goog-resource-state'], 'sync');
  assert.equal(sync!.headers['x-goog-message-number'], '1');
  await demo.cal.events.insert({ calendarId: 'primary', requestBody: ev('ping', '2026-03-02T10:00:00', '2026-03-02T11:00:00') });
  const got = await rx.waitFor('/hook', 2);
  const h = got[1]!.headers;
  assert.equal(h['x-goog-channel-id'], 'chan-1');
  assert.equal(h['x-goog-channel-token'], 'tok=1');
  assert.equal(h['x-goog-resource-id'], ch.data.resourceId);
  assert.equal(h['x-goog-resource-state'], 'exists');
  assert.ok(Number(h['x-goog-message-number']) > 1);
  assert.match(String(h['x-goog-channel-expiration']), /GMT$/);
  assert.equal(got[1]!.raw.length, 0, 'no body');

  await demo.cal.channels.stop({ requestBody: { id: 'chan-1', resourceId: ch.data.resourceId! } });
  const stopAgain = await googleError(demo.cal.channels.stop({ requestBody: { id: 'chan-1', resourceId: ch.data.resourceId! } }));
  assert.equal(stopAgain.status, 404);
  for (let i = 0; i < 3; i++)
    await demo.cal.events.insert({
      calendarId: 'primary',
      requestBody: ev(`after stop ${i}`, '2026-03-02T10:00:00', '2026-03-02T11:00:00'),
    });
  await rx.waitFor('/hook', 3);
  await rx.waitFor('/other', 5);
  assert.equal(rx.on('/hook').length, 3, 'a stopped channel delivered exactly once more');
  assert.equal((await control('GET', '/__sandbox/google/deliveries?channelId=chan-1')).deliveries.length, 3);

  await control('POST', '/__sandbox/google/channels/expire', { id: 'chan-default' });
  await demo.cal.events.insert({ calendarId: 'primary', requestBody: ev('after expiry', '2026-03-02T10:00:00', '2026-03-02T11:00:00') });
  const deliveries = (await control('GET', '/__sandbox/google/deliveries?channelId=chan-default')).deliveries;
  assert.equal(deliveries.length, 5, 'an expired channel delivers nothing');
  assert.deepEqual(
    deliveries.map((d: { resourceState: string }) => d.resourceState),
    ['sync', 'exists', 'exists', 'exists', 'exists'],
  );
});

test('Calendar: events.move shows the event cancelled in the source and new in the destination; freeBusy', async () => {
  const team = await demo.cal.calendars.insert({ requestBody: { summary: 'Team' } });
  const e = await demo.cal.events.insert({
    calendarId: 'primary',
    requestBody: ev('Move me', '2026-03-05T10:00:00', '2026-03-05T11:00:00'),
  });
  const s0 = (await demo.cal.events.list({ calendarId: 'primary' })).data.nextSyncToken!;
  const moved = await demo.cal.events.move({ calendarId: 'primary', eventId: e.data.id!, destination: team.data.id! });
  assert.equal(moved.data.id, e.data.id);
  const inc = await demo.cal.events.list({ calendarId: 'primary', syncToken: s0 });
  assert.deepEqual(
    inc.data.items!.map((x) => [x.id, x.status]),
    [[e.data.id, 'cancelled']],
  );
  assert.equal((await demo.cal.events.get({ calendarId: team.data.id!, eventId: e.data.id! })).data.summary, 'Move me');
  const fb = await demo.cal.freebusy.query({
    requestBody: { timeMin: '2026-03-05T00:00:00Z', timeMax: '2026-03-06T00:00:00Z', items: [{ id: team.data.id! }] },
  });
  assert.deepEqual(fb.data.calendars![team.data.id!]!.busy, [{ start: '2026-03-05T02:00:00Z', end: '2026-03-05T03:00:00Z' }]);
});

// ---------------- Drive ----------------

const FOLDER = 'application/vnd.google-apps.folder';
/** Media uploads take the upload URL from the per-call rootUrl (the client-level one is not used for mediaUrl). */
const uploads = () => ({ rootUrl: `${base}/` });

test('Drive: multipart create, get alt=media, list with q (parents, name, mimeType, trashed, modifiedTime, or/and), fields', async () => {
  const folder = await demo.drv.files.create({ requestBody: { name: 'Inbox', mimeType: FOLDER }, fields: 'id,name,mimeType,parents' });
  assert.equal(folder.data.mimeType, FOLDER);
  const a = await demo.drv.files.create(
    {
      requestBody: { name: "Q1 'report'.txt", parents: [folder.data.id!] },
      media: { mimeType: 'text/plain', body: 'hello drive' },
      fields: 'id,name,mimeType,size,md5Checksum,parents,webViewLink',
    },
    uploads(),
  );
  assert.equal(a.data.size, '11');
  assert.equal(a.data.md5Checksum, crypto.createHash('md5').update('hello drive').digest('hex'));
  assert.deepEqual(a.data.parents, [folder.data.id]);
  const b = await demo.drv.files.create(
    {
      requestBody: { name: 'notes.md', parents: [folder.data.id!], mimeType: 'text/markdown' },
      media: { mimeType: 'text/markdown', body: '# hi' },
    },
    uploads(),
  );
  assert.deepEqual(Object.keys(b.data).sort(), ['id', 'kind', 'mimeType', 'name'], 'default fields are kind, id, name, mimeType');

  const media = await demo.drv.files.get({ fileId: a.data.id!, alt: 'media' }, { responseType: 'arraybuffer' });
  assert.equal(Buffer.from(media.data as ArrayBuffer).toString(), 'hello drive');

  const q = async (query: string) =>
    (await demo.drv.files.list({ q: query, fields: 'files(id,name)', orderBy: 'name' })).data.files!.map((f) => f.name);
  assert.deepEqual(await q(`'${folder.data.id}' in parents and trashed = false`), ["Q1 'report'.txt", 'notes.md']);
  assert.deepEqual(await q(`name = 'Q1 \\'report\\'.txt'`), ["Q1 'report'.txt"]);
  assert.deepEqual(await q(`mimeType = '${FOLDER}'`), ['Inbox']);
  assert.deepEqual(await q(`mimeType != '${FOLDER}' and (name contains 'notes' or name contains 'Q1')`), ["Q1 'report'.txt", 'notes.md']);
  assert.deepEqual(await q(`'${folder.data.id}' in parents and modifiedTime > '2100-01-01T00:00:00Z'`), []);
  await demo.drv.files.update({ fileId: b.data.id!, requestBody: { trashed: true } });
  assert.deepEqual(await q(`'${folder.data.id}' in parents and trashed = false`), ["Q1 'report'.txt"]);
  assert.deepEqual(
    await q(`'${folder.data.id}' in parents`),
    ["Q1 'report'.txt", 'notes.md'],
    'trashed files are listed unless the query excludes them',
  );
  const bad = await googleError(demo.drv.files.list({ q: "nme = 'x'" }));
  assert.equal(bad.status, 400);
  assert.equal(bad.reason, 'invalid');

  const nf = await googleError(demo.drv.files.get({ fileId: 'nosuchfile' }));
  assert.equal(nf.status, 404);
  assert.equal(nf.message, 'File not found: nosuchfile.');
  const { data: paged } = await demo.drv.files.list({ pageSize: 1, q: `'${folder.data.id}' in parents` });
  assert.ok(paged.nextPageToken);
});

test('Drive: shared drives need supportsAllDrives/includeItemsFromAllDrives; corpora=drive; a move-in by addParents/removeParents; permissions; changes per driveId and changes.watch', async () => {
  const sd = await demo.drv.drives.create({ requestId: crypto.randomUUID(), requestBody: { name: 'Ops' } });
  assert.ok((await demo.drv.drives.list()).data.drives!.some((d) => d.id === sd.data.id));
  const sdToken = (await demo.drv.changes.getStartPageToken({ driveId: sd.data.id!, supportsAllDrives: true })).data.startPageToken!;
  const myToken = (await demo.drv.changes.getStartPageToken({})).data.startPageToken!;
  const watch = await demo.drv.changes.watch({
    pageToken: myToken,
    requestBody: { id: 'drive-chan', type: 'web_hook', address: `${rx.base}/drive` },
  });
  assert.ok(Number(watch.data.expiration) > Date.now());
  const [sync] = await rx.waitFor('/drive', 1);
  assert.equal(sync!.headers['x-goog-resource-state'], 'sync');

  const inShared = await demo.drv.files.create(
    {
      requestBody: { name: 'shared.pdf', parents: [sd.data.id!] },
      media: { mimeType: 'application/pdf', body: '%PDF' },
      supportsAllDrives: true,
      fields: 'id,driveId,parents',
    },
    uploads(),
  );
  assert.equal(inShared.data.driveId, sd.data.id);
  const hidden = await googleError(demo.drv.files.get({ fileId: inShared.data.id! }));
  assert.equal(hidden.status, 404, 'a shared drive file without supportsAllDrives is not found');
  assert.equal((await demo.drv.files.get({ fileId: inShared.data.id!, supportsAllDrives: true })).data.name, 'shared.pdf');
  const needsFlag = await googleError(demo.drv.files.list({ corpora: 'drive', driveId: sd.data.id!, supportsAllDrives: true }));
  assert.equal(needsFlag.status, 403);
  const inDrive = await demo.drv.files.list({
    corpora: 'drive',
    driveId: sd.data.id!,
    supportsAllDrives: true,
    includeItemsFromAllDrives: true,
  });
  assert.deepEqual(
    inDrive.data.files!.map((f) => f.name),
    ['shared.pdf'],
  );
  assert.ok(
    !(await demo.drv.files.list({})).data.files!.some((f) => f.name === 'shared.pdf'),
    'the user corpus leaves shared drive items out by default',
  );
  assert.ok(
    (await demo.drv.files.list({ corpora: 'allDrives', supportsAllDrives: true, includeItemsFromAllDrives: true })).data.files!.some(
      (f) => f.name === 'shared.pdf',
    ),
  );

  // move-in: a file created elsewhere is moved into the watched folder
  const watched = await demo.drv.files.create({ requestBody: { name: 'Watched', mimeType: FOLDER } });
  const other = await demo.drv.files.create({ requestBody: { name: 'Elsewhere', mimeType: FOLDER } });
  const doc = await demo.drv.files.create(
    {
      requestBody: { name: 'old.docx', parents: [other.data.id!], createdTime: '2020-01-01T00:00:00Z' },
      media: { body: 'x' },
      fields: 'id,createdTime',
    },
    uploads(),
  );
  assert.equal(doc.data.createdTime, '2020-01-01T00:00:00Z');
  const bad = await googleError(
    demo.drv.files.update({ fileId: doc.data.id!, requestBody: { parents: [watched.data.id!] } as drive_v3.Schema$File }),
  );
  assert.equal(bad.status, 403, 'parents is not writable in update');
  const before = (await demo.drv.files.get({ fileId: doc.data.id!, fields: 'modifiedTime' })).data.modifiedTime!;
  const moved = await demo.drv.files.update({
    fileId: doc.data.id!,
    addParents: watched.data.id!,
    removeParents: other.data.id!,
    fields: 'id,parents,modifiedTime',
  });
  assert.deepEqual(moved.data.parents, [watched.data.id]);
  assert.equal(moved.data.modifiedTime, before, 'a move does not change modifiedTime');
  const byTime = await demo.drv.files.list({ q: `'${watched.data.id}' in parents and modifiedTime > '${before}'` });
  assert.equal(byTime.data.files!.length, 0, 'so polling on modifiedTime misses a moved-in file (the changes feed below sees it)');

  const perm = await demo.drv.permissions.create({
    fileId: doc.data.id!,
    requestBody: { type: 'user', role: 'reader', emailAddress: 'alice@example.com' },
    fields: 'id,type,role,emailAddress',
  });
  assert.equal(perm.data.role, 'reader');
  assert.equal(perm.data.emailAddress, 'alice@example.com');
  const noRole = await googleError(
    demo.drv.permissions.create({ fileId: doc.data.id!, requestBody: { type: 'user', emailAddress: 'bob@example.com' } }),
  );
  assert.equal(noRole.status, 400);

  const mine = await demo.drv.changes.list({
    pageToken: myToken,
    fields: 'newStartPageToken,nextPageToken,changes(fileId,removed,file(name,parents))',
  });
  assert.ok(mine.data.newStartPageToken);
  const names = mine.data.changes!.map((c) => c.file?.name);
  assert.deepEqual(names, ['Watched', 'Elsewhere', 'old.docx'], 'one change per file (its latest); shared drive items left out');
  assert.deepEqual(mine.data.changes![2]!.file!.parents, [watched.data.id]);
  const all = await demo.drv.changes.list({ pageToken: myToken, supportsAllDrives: true, includeItemsFromAllDrives: true });
  assert.ok(all.data.changes!.some((c) => c.fileId === inShared.data.id));
  const shared = await demo.drv.changes.list({
    pageToken: sdToken,
    driveId: sd.data.id!,
    supportsAllDrives: true,
    includeItemsFromAllDrives: true,
  });
  assert.deepEqual(
    shared.data.changes!.map((c) => c.fileId),
    [inShared.data.id],
  );
  const paged = await demo.drv.changes.list({ pageToken: myToken, pageSize: 2 });
  assert.ok(paged.data.nextPageToken && !paged.data.newStartPageToken, 'nextPageToken while more, newStartPageToken at the end');

  const changes = await rx.waitFor('/drive', 2);
  assert.equal(changes[1]!.headers['x-goog-resource-state'], 'change');
  assert.equal(changes[1]!.headers['x-goog-channel-id'], 'drive-chan');
  await demo.drv.channels.stop({ requestBody: { id: 'drive-chan', resourceId: watch.data.resourceId! } });

  await demo.drv.files.delete({ fileId: doc.data.id! });
  const afterDelete = await demo.drv.changes.list({ pageToken: mine.data.newStartPageToken! });
  assert.deepEqual(
    afterDelete.data.changes!.map((c) => [c.fileId, c.removed]),
    [[doc.data.id, true]],
  );
});

/**
 * Resumable uploads: @googleapis/drive creates the session (files.create with uploadType=resumable and the upload URL as
 * the per-call `url`); it has no chunk loop of its own, so the chunks go through the same OAuth2Client transport.
 */
async function resumableUpload(
  auth: OAuth2Client,
  data: Buffer,
  name: string,
  chunkSize: number,
  onChunk?: (offset: number) => Promise<void>,
) {
  const drv = drive({ version: 'v3', auth, rootUrl: `${base}/` });
  const init = await drv.files.create(
    { uploadType: 'resumable', requestBody: { name }, fields: 'id,name,size,sha256Checksum' } as drive_v3.Params$Resource$Files$Create,
    {
      url: `${base}/upload/drive/v3/files`,
      headers: { 'X-Upload-Content-Type': 'application/octet-stream', 'X-Upload-Content-Length': String(data.length) },
    },
  );
  // gaxios 7 answers a fetch Headers object.
  const session = (init.headers as unknown as Headers).get('location');
  assert.ok(session, 'the session URI comes back in Location');
  let offset = 0;
  let drops = 0;
  for (let guard = 0; guard < 200; guard++) {
    await onChunk?.(offset);
    const end = Math.min(offset + chunkSize, data.length);
    try {
      const r = await auth.request<any>({
        url: session,
        method: 'PUT',
        data: data.subarray(offset, end),
        retry: false,
        headers: { 'Content-Range': `bytes ${offset}-${end - 1}/${data.length}`, 'Content-Type': 'application/octet-stream' },
        validateStatus: (s) => s === 308 || (s >= 200 && s < 300),
      });
      if (r.status !== 308) return { file: r.data, drops };
      offset = rangeEnd(r.headers);
    } catch (err: any) {
      if (err.response) throw err;
      // The connection dropped: ask where the upload stands, then resume there.
      drops++;
      const st = await auth.request<any>({
        url: session,
        method: 'PUT',
        retry: false,
        headers: { 'Content-Range': `bytes */${data.length}` },
        validateStatus: (s) => s === 308 || (s >= 200 && s < 300),
      });
      if (st.status !== 308) return { file: st.data, drops };
      offset = rangeEnd(st.headers);
    }
  }
  throw new Error('upload did not finish');
}
const rangeEnd = (headers: any) => {
  const range = headers.get ? headers.get('range') : headers.range;
  return range ? Number(/bytes=0-(\d+)/.exec(range)![1]) + 1 : 0;
};

test('Drive: a 20 MB resumable upload survives dropped connections (whole chunk lost, and part of a chunk kept) and arrives with the right sha256', async () => {
  const data = crypto.randomBytes(20 * 1024 * 1024);
  const sha = crypto.createHash('sha256').update(data).digest('hex');
  const chunk = 8 * 256 * 1024 * 2; // 4 MiB, a multiple of 256 KiB
  let n = 0;
  const offsets: number[] = [];
  const { file, drops } = await resumableUpload(demo.client, data, 'big.bin', chunk, async (offset) => {
    n++;
    offsets.push(offset);
    if (n === 2) await control('POST', '/__sandbox/faults', { kind: 'drop', method: 'PUT', path: '^/upload/drive/v3/files$' });
    if (n === 4) await control('POST', '/__sandbox/google/uploads/drop', { afterBytes: 1_500_000 });
    if (n === 6) await control('POST', '/__sandbox/faults', { kind: 'drop', method: 'PUT', path: '^/upload/drive/v3/files$' });
  });
  assert.equal(drops, 3);
  assert.equal(offsets[2], offsets[1], 'a dropped chunk is lost whole: the status query says resume where it started');
  assert.equal(offsets[4]! - offsets[3]!, 5 * 256 * 1024, 'a chunk cut after 1.5 MB keeps its first five 256 KiB blocks');
  assert.equal(file.size, String(data.length));
  assert.equal(file.sha256Checksum, sha);
  const back = await demo.drv.files.get({ fileId: file.id, alt: 'media' }, { responseType: 'arraybuffer' });
  assert.equal(
    crypto
      .createHash('sha256')
      .update(Buffer.from(back.data as ArrayBuffer))
      .digest('hex'),
    sha,
  );
  const puts = (await control('GET', '/__sandbox/calls?path=/upload/drive/v3/files&method=PUT')).calls;
  assert.ok(puts.some((c: { fault?: string }) => c.fault === 'drop'));
});

test('Drive: a resumable chunk that is not a multiple of 256 KiB is kept only up to the last 256 KiB boundary (308 Range says so)', async () => {
  const data = crypto.randomBytes(700 * 1024);
  const offsets: number[] = [];
  const { file } = await resumableUpload(demo.client, data, 'odd.bin', 300 * 1024, async (o) => {
    offsets.push(o);
  });
  assert.deepEqual(offsets.slice(0, 3), [0, 256 * 1024, 512 * 1024]);
  assert.equal(file.size, String(data.length));
  assert.equal(file.sha256Checksum, crypto.createHash('sha256').update(data).digest('hex'));
});

test("Drive: the SDK's own multipart upload does not retry a dropped POST (the caller sees the error, no file is made)", async () => {
  await control('POST', '/__sandbox/faults', { kind: 'drop', method: 'POST', path: '^/upload/drive/v3/files$' });
  await assert.rejects(demo.drv.files.create({ requestBody: { name: 'lost.txt' }, media: { body: 'x' } }, uploads()), (err: any) => {
    // The connection was dropped by the fake (not a name lookup of the real host).
    assert.doesNotMatch(String(err.message), /googleapis\.com/);
    return true;
  });
  const calls = (await control('GET', '/__sandbox/calls?path=/upload/drive/v3/files&method=POST')).calls;
  assert.deepEqual(
    calls.map((c: { fault?: string }) => c.fault),
    ['drop'],
    'one attempt, dropped, not retried',
  );
  assert.ok(!(await demo.drv.files.list({ q: "name = 'lost.txt'" })).data.files!.length);
});

// ---------------- Gmail ----------------

const rfc822 = (lines: string[]) => Buffer.from(lines.join('\r\n')).toString('base64url');

test("Gmail: messages.send (raw RFC 822) lands in the recipient's inbox; list with q; get full/metadata/raw; watch → Pub/Sub push; history.list", async () => {
  const users = (await control('GET', '/__sandbox/google/users')).users as { id: string; primaryEmail: string }[];
  const alice = users.find((u) => u.primaryEmail === 'alice@example.com')!;
  await signIn({ sub: alice.id, email: alice.primaryEmail });
  const { client } = await connect();
  const aliceMail = gmail({ version: 'v1', auth: client, rootUrl: `${base}/` });
  await signIn({ sub: 'sandbox-user-1', email: 'demo@example.com', name: 'Demo User' });

  const topic = 'projects/sandbox/topics/gmail';
  await control('POST', '/__sandbox/google/pubsub/subscriptions', { topic, pushEndpoint: `${rx.base}/pubsub` });
  const w = await aliceMail.users.watch({ userId: 'me', requestBody: { topicName: topic, labelIds: ['INBOX'] } });
  assert.ok(w.data.historyId);
  assert.ok(Number(w.data.expiration) > Date.now() + 6 * 86400_000);
  const badTopic = await googleError(aliceMail.users.watch({ userId: 'me', requestBody: { topicName: 'gmail' } }));
  assert.equal(badTopic.status, 400);

  const sent = await demo.mail.users.messages.send({
    userId: 'me',
    requestBody: {
      raw: rfc822([
        'From: Demo User <demo@example.com>',
        'To: Alice <alice@example.com>',
        'Subject: Quote for ACME',
        'Content-Type: text/plain; charset="UTF-8"',
        '',
        'Please find the quote attached.',
      ]),
    },
  });
  assert.deepEqual(sent.data.labelIds, ['SENT']);
  const noTo = await googleError(
    demo.mail.users.messages.send({ userId: 'me', requestBody: { raw: rfc822(['Subject: nobody', '', 'x']) } }),
  );
  assert.equal(noTo.status, 400);

  const [push] = await rx.waitFor('/pubsub', 1);
  const envelope = JSON.parse(push!.raw.toString());
  const note = JSON.parse(Buffer.from(envelope.message.data, 'base64').toString());
  assert.equal(note.emailAddress, 'alice@example.com');
  assert.ok(Number(note.historyId) > Number(w.data.historyId));
  assert.ok(envelope.message.messageId && envelope.subscription);

  const hist = await aliceMail.users.history.list({ userId: 'me', startHistoryId: w.data.historyId!, historyTypes: ['messageAdded'] });
  assert.equal(hist.data.history!.length, 1);
  const added = hist.data.history![0]!.messagesAdded![0]!.message!;
  assert.deepEqual(added.labelIds, ['INBOX', 'UNREAD', 'CATEGORY_PERSONAL']);
  assert.equal(hist.data.historyId, String(note.historyId), 'the push carries historyId as a number, the API answers strings');

  const found = await aliceMail.users.messages.list({ userId: 'me', q: 'from:demo@example.com subject:quote is:unread' });
  assert.deepEqual(
    found.data.messages!.map((m) => m.id),
    [added.id],
  );
  assert.equal((await aliceMail.users.messages.list({ userId: 'me', q: 'from:someone-else.com' })).data.messages, undefined);
  const full = await aliceMail.users.messages.get({ userId: 'me', id: added.id! });
  const subject = full.data.payload!.headers!.find((h) => h.name === 'Subject')!.value;
  assert.equal(subject, 'Quote for ACME');
  assert.equal(Buffer.from(full.data.payload!.body!.data!, 'base64url').toString(), 'Please find the quote attached.');
  const meta = await aliceMail.users.messages.get({ userId: 'me', id: added.id!, format: 'metadata', metadataHeaders: ['From'] });
  assert.deepEqual(
    meta.data.payload!.headers!.map((h) => h.name),
    ['From'],
  );
  const raw = await aliceMail.users.messages.get({ userId: 'me', id: added.id!, format: 'raw' });
  const rawText = Buffer.from(raw.data.raw!, 'base64url').toString();
  assert.match(
    rawText,
    /^Date: .*\r\nMessage-ID: <[^>]+@mail\.gmail\.com>\r\nFrom: Demo User <demo@example\.com>/,
    'Gmail adds Date and Message-ID',
  );
  const spoof = await demo.mail.users.messages.send({
    userId: 'me',
    requestBody: { raw: rfc822(['From: Boss <boss@elsewhere.example>', 'To: alice@example.com', 'Subject: spoof', '', 'x']) },
  });
  const spoofed = await demo.mail.users.messages.get({ userId: 'me', id: spoof.data.id!, format: 'metadata', metadataHeaders: ['From'] });
  assert.equal(spoofed.data.payload!.headers![0]!.value, 'Boss <demo@example.com>', "a From that is not the sender's is overwritten");

  await control('POST', '/__sandbox/google/mail', {
    to: 'alice@example.com',
    from: 'client@customer.example',
    subject: 'Hello',
    text: 'hi',
  });
  await rx.waitFor('/pubsub', 2);
  await control('POST', '/__sandbox/google/mail/expire-history', { email: 'alice@example.com' });
  const old = await googleError(aliceMail.users.history.list({ userId: 'me', startHistoryId: w.data.historyId! }));
  assert.equal(old.status, 404, 'a history id too old → 404: the client must do a full sync');
});

// ---------------- Directory ----------------

test('Directory: users.list pages with customer=my_customer; groups.list; members.list; a non-admin is refused', async () => {
  for (let i = 0; i < 4; i++)
    await control('POST', '/__sandbox/google/users', { primaryEmail: `user${i}@example.com`, givenName: `User${i}` });
  const emails: string[] = [];
  let pageToken: string | undefined;
  let pages = 0;
  do {
    const r = await demo.dir.users.list({ customer: 'my_customer', maxResults: 3, orderBy: 'email', pageToken });
    pages++;
    emails.push(...r.data.users!.map((u) => u.primaryEmail!));
    pageToken = r.data.nextPageToken ?? undefined;
  } while (pageToken);
  assert.equal(pages, 3);
  assert.deepEqual(emails, [
    'alice@example.com',
    'bob@example.com',
    'demo@example.com',
    'user0@example.com',
    'user1@example.com',
    'user2@example.com',
    'user3@example.com',
  ]);
  const noCustomer = await googleError(demo.dir.users.list({}));
  assert.equal(noCustomer.status, 400);
  const groups = await demo.dir.groups.list({ customer: 'my_customer' });
  assert.deepEqual(
    groups.data.groups!.map((g) => g.email),
    ['sales@example.com'],
  );
  const members = await demo.dir.members.list({ groupKey: 'sales@example.com' });
  assert.deepEqual(
    members.data.members!.map((m) => [m.email, m.role]),
    [
      ['alice@example.com', 'OWNER'],
      ['bob@example.com', 'MEMBER'],
    ],
  );

  const users = (await control('GET', '/__sandbox/google/users')).users as { id: string; primaryEmail: string }[];
  const bob = users.find((u) => u.primaryEmail === 'bob@example.com')!;
  await signIn({ sub: bob.id, email: bob.primaryEmail });
  const { client } = await connect();
  const e = await googleError(
    admin({ version: 'directory_v1', auth: client, rootUrl: `${base}/` }).users.list({ customer: 'my_customer' }),
  );
  assert.equal(e.status, 403);
  assert.equal(e.message, 'Not Authorized to access this resource/api');
  const pub = await admin({ version: 'directory_v1', auth: client, rootUrl: `${base}/` }).users.list({
    domain: 'example.com',
    viewType: 'domain_public',
    maxResults: 500,
  });
  const me = pub.data.users!.find((u) => u.primaryEmail === 'bob@example.com')!;
  assert.equal(me.name!.givenName, 'Bob');
  assert.equal(me.isAdmin, undefined, 'domain_public shows public fields only');
});

// ---------------- errors, rate limits, faults ----------------

test("Rate limits: a per-user quota answers userRateLimitExceeded (403, or 429 when set); the fault API gives rateLimitExceeded and 5xx with Google's body", async () => {
  await control('PUT', '/__sandbox/google/settings', { userQuota: 3, rateLimitStatus: 403 });
  for (let i = 0; i < 3; i++) await demo.cal.calendarList.list();
  const q403 = await googleError(demo.cal.calendarList.list({}, { retry: false }));
  assert.equal(q403.status, 403);
  assert.equal(q403.reason, 'userRateLimitExceeded');
  assert.equal(q403.body.error.errors[0].domain, 'usageLimits');
  await control('PUT', '/__sandbox/google/settings', { userQuota: 1, rateLimitStatus: 429 });
  await demo.drv.files.list();
  const q429 = await googleError(demo.drv.files.list({}, { retry: false }));
  assert.equal(q429.status, 429);
  assert.equal(q429.body.error.status, 'RESOURCE_EXHAUSTED');
  await control('PUT', '/__sandbox/google/settings', { userQuota: null });

  await control('POST', '/__sandbox/google/rate-limit', { status: 403, reason: 'rateLimitExceeded', path: '^/calendar/' });
  const f403 = await googleError(demo.cal.calendarList.list({}, { retry: false }));
  assert.deepEqual([f403.status, f403.reason], [403, 'rateLimitExceeded']);
  await control('POST', '/__sandbox/faults', { kind: 'status', status: 429, path: '^/drive/' });
  const f429 = await googleError(demo.drv.files.list({}, { retry: false }));
  assert.deepEqual([f429.status, f429.reason], [429, 'rateLimitExceeded']);
  await control('POST', '/__sandbox/faults', { kind: 'status', status: 503, path: '^/gmail/' });
  const f503 = await googleError(demo.mail.users.getProfile({ userId: 'me' }, { retry: false }));
  assert.deepEqual([f503.status, f503.reason], [503, 'backendError']);
  // The client retries a GET on 5xx by itself: one injected 500 is invisible to the caller.
  await control('POST', '/__sandbox/faults', { kind: 'status', status: 500, path: '^/calendar/' });
  assert.equal((await demo.cal.calendarList.list()).status, 200);
  const calls = (await control('GET', '/__sandbox/calls?path=/calendar/v3/users/me/calendarList')).calls as { status: number }[];
  assert.deepEqual(
    calls.slice(-2).map((c) => c.status),
    [500, 200],
  );
});

// ---------------- more OAuth: PKCE, service accounts with domain-wide delegation ----------------

test('OAuth: PKCE (S256) through OAuth2Client: the verifier is required at the token endpoint', async () => {
  const c = oauthClient();
  const { codeVerifier, codeChallenge } = await c.generateCodeVerifierAsync();
  const url = c.generateAuthUrl({
    access_type: 'offline',
    prompt: 'consent',
    scope: ['email'],
    code_challenge: codeChallenge,
    code_challenge_method: 'S256' as never,
  });
  const code = (await authorize(url)).searchParams.get('code')!;
  await assert.rejects(oauthClient().getToken({ code }), (err: any) => {
    assert.deepEqual(err.response?.data, { error: 'invalid_grant', error_description: 'Missing code verifier.' });
    return true;
  });
  const url2 = c.generateAuthUrl({
    access_type: 'offline',
    prompt: 'consent',
    scope: ['email'],
    code_challenge: codeChallenge,
    code_challenge_method: 'S256' as never,
  });
  const code2 = (await authorize(url2)).searchParams.get('code')!;
  const { tokens } = await c.getToken({ code: code2, codeVerifier });
  assert.ok(tokens.access_token && tokens.refresh_token);
});

test('OAuth: a service account key (JWT bearer grant) with domain-wide delegation acts as the impersonated user; undelegated scopes are refused', async () => {
  const key = await control('POST', '/__sandbox/google/service-accounts', { name: 'dingbridge-dwd' });
  assert.equal(key.type, 'service_account');
  const jwtClient = (subject?: string, scopes = ['https://www.googleapis.com/auth/calendar']) => {
    const j = new JWT({ email: key.client_email, key: key.private_key, scopes, subject });
    // gtoken posts to oauth2.googleapis.com/token: send it to the fake instead.
    j.transporter.interceptors.request.add({
      resolved: async (cfg) => {
        if (String(cfg.url).startsWith('https://oauth2.googleapis.com/'))
          cfg.url = new URL(String(cfg.url).replace('https://oauth2.googleapis.com', base));
        return cfg;
      },
    });
    return j;
  };
  await assert.rejects(jwtClient('alice@example.com').authorize(), (err: any) => /unauthorized_client/.test(String(err.message)));
  await control('PUT', `/__sandbox/google/service-accounts/${key.client_email}/delegation`, {
    scopes: ['https://www.googleapis.com/auth/calendar'],
  });
  const asAlice = jwtClient('alice@example.com');
  const cal = calendar({ version: 'v3', auth: asAlice, rootUrl: `${base}/` });
  const primary = (await cal.calendarList.list()).data.items!.find((c) => c.primary);
  assert.equal(primary?.id, 'alice@example.com');
  await assert.rejects(jwtClient('alice@example.com', ['https://www.googleapis.com/auth/drive']).authorize(), (err: any) =>
    /unauthorized_client/.test(String(err.message)),
  );
  await assert.rejects(jwtClient('nobody@example.com').authorize(), (err: any) => /invalid_grant/.test(String(err.message)));
  const own = calendar({ version: 'v3', auth: jwtClient(), rootUrl: `${base}/` });
  assert.equal((await own.calendarList.list()).data.items!.find((c) => c.primary)?.id, key.client_email);
});

// ---------------- control API seeding ----------------

test('Control API: seeded calendars, events, files, shared drives and mail are what the clients then read; bad bodies are 400', async () => {
  for (const [path, body] of [
    ['/__sandbox/google/users', { primaryEmail: 'not-an-email' }],
    ['/__sandbox/google/calendars', { owner: 'demo@example.com' }],
    ['/__sandbox/google/settings', { userQuota: -1 }],
  ] as const) {
    const res = await fetch(`${base}${path}`, {
      method: path.endsWith('settings') ? 'PUT' : 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 400, path);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'bad_request');
  }
  const team = await control('POST', '/__sandbox/google/calendars', {
    owner: 'demo@example.com',
    summary: 'Seeded',
    timeZone: 'Asia/Hong_Kong',
  });
  await control('POST', '/__sandbox/google/events', {
    calendarId: team.id,
    event: {
      id: 'seeded001',
      summary: 'From control',
      start: { dateTime: '2026-05-01T09:00:00' },
      end: { dateTime: '2026-05-01T10:00:00' },
    },
  });
  const got = await demo.cal.events.get({ calendarId: team.id, eventId: 'seeded001' });
  assert.equal(got.data.start!.dateTime, '2026-05-01T09:00:00+08:00', "read in the calendar's zone");
  const sd = await control('POST', '/__sandbox/google/drives', { name: 'Seeded drive', members: ['demo@example.com'] });
  const f = await control('POST', '/__sandbox/google/files', {
    owner: 'demo@example.com',
    name: 'seed.txt',
    parents: [sd.id],
    content: 'seeded',
  });
  const media = await demo.drv.files.get({ fileId: f.id, alt: 'media', supportsAllDrives: true }, { responseType: 'arraybuffer' });
  assert.equal(Buffer.from(media.data as ArrayBuffer).toString(), 'seeded');
  await control('POST', '/__sandbox/google/mail', {
    to: 'demo@example.com',
    from: 'Client <client@customer.example>',
    subject: 'Invoice 42',
    text: 'see attached',
  });
  const list = await demo.mail.users.messages.list({ userId: 'me', q: 'from:customer.example' });
  assert.equal(list.data.messages!.length, 1);
});

test('Calendar: a channel expires by itself when the fake clock passes its expiration', async () => {
  await demo.cal.events.watch({
    calendarId: 'primary',
    requestBody: { id: 'short', type: 'web_hook', address: `${rx.base}/short`, params: { ttl: '60' } },
  });
  await rx.waitFor('/short', 1);
  await control('POST', '/__sandbox/google/clock', { advanceSec: 61 });
  await demo.cal.events.insert({ calendarId: 'primary', requestBody: ev('late', '2026-03-02T10:00:00', '2026-03-02T11:00:00') });
  const channels = (await control('GET', '/__sandbox/google/channels')).channels as { id: string; expired: boolean }[];
  assert.equal(channels.find((c) => c.id === 'short')?.expired, true);
  assert.equal((await control('GET', '/__sandbox/google/deliveries?channelId=short')).deliveries.length, 1, 'only the sync message');
});

test('Calendar: a notification answered 503 is retried (with backoff) and the next ones keep their order', async () => {
  await control('PUT', '/__sandbox/google/settings', { deliveryRetryBaseMs: 50 });
  rx.statuses.set('/flaky', [200, 503, 503]);
  await demo.cal.events.watch({ calendarId: 'primary', requestBody: { id: 'flaky', type: 'web_hook', address: `${rx.base}/flaky` } });
  await rx.waitFor('/flaky', 1);
  await demo.cal.events.insert({ calendarId: 'primary', requestBody: ev('one', '2026-03-02T10:00:00', '2026-03-02T11:00:00') });
  await demo.cal.events.insert({ calendarId: 'primary', requestBody: ev('two', '2026-03-02T10:00:00', '2026-03-02T11:00:00') });
  const got = await rx.waitFor('/flaky', 5);
  assert.deepEqual(
    got.map((r) => r.headers['x-goog-message-number']),
    ['1', '2', '2', '2', '3'],
    'message 2 three times (two 503s), then 3',
  );
  let d: { attempts: number; status: number }[] = [];
  for (const until = Date.now() + 15_000; Date.now() < until; await new Promise((r) => setTimeout(r, 20))) {
    d = (await control('GET', '/__sandbox/google/deliveries?channelId=flaky')).deliveries;
    if (d.length === 3 && d.every((x) => x.status === 200)) break;
  }
  assert.deepEqual(
    d.map((x: { attempts: number; status: number }) => [x.attempts, x.status]),
    [
      [1, 200],
      [3, 200],
      [1, 200],
    ],
  );
});

test('Scopes: each token is held to its scopes (readonly reads only, gmail.send only sends)', async () => {
  const { client: ro } = await connect([
    'https://www.googleapis.com/auth/calendar.readonly',
    'https://www.googleapis.com/auth/gmail.send',
    'https://www.googleapis.com/auth/drive.metadata.readonly',
  ]);
  const a = apis(ro);
  assert.equal((await a.cal.events.list({ calendarId: 'primary' })).status, 200);
  const ins = await googleError(
    a.cal.events.insert({ calendarId: 'primary', requestBody: ev('x', '2026-03-02T10:00:00', '2026-03-02T11:00:00') }),
  );
  assert.deepEqual([ins.status, ins.reason], [403, 'insufficientPermissions']);
  await a.mail.users.messages.send({ userId: 'me', requestBody: { raw: rfc822(['To: bob@example.com', 'Subject: hi', '', 'x']) } });
  assert.equal((await googleError(a.mail.users.messages.list({ userId: 'me' }))).status, 403);
  const f = await demo.drv.files.create({ requestBody: { name: 'm.txt' }, media: { body: 'x' } }, uploads());
  assert.equal((await a.drv.files.get({ fileId: f.data.id! })).data.name, 'm.txt');
  assert.equal((await googleError(a.drv.files.get({ fileId: f.data.id!, alt: 'media' }))).status, 403, 'metadata.readonly cannot download');
});

test('Calendar: 300 random creates/edits/deletes (recurring exceptions, all-day) with syncToken polls and two invalidations: the synced copy equals a full list', async () => {
  let seed = 42;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const mirror = new Map<string, string>(); // id → summary of live (not cancelled) events and exceptions
  let syncToken: string | undefined;
  let resyncs = 0;
  const poll = async () => {
    let pageToken: string | undefined;
    const full = !syncToken;
    if (full) mirror.clear();
    for (;;) {
      let r;
      try {
        r = await demo.cal.events.list({ calendarId: 'primary', maxResults: 50, pageToken, ...(full ? {} : { syncToken }) });
      } catch (err: any) {
        assert.equal(err.status, 410);
        syncToken = undefined;
        resyncs++;
        return poll();
      }
      for (const e of r.data.items!) {
        if (e.status === 'cancelled') mirror.delete(e.id!);
        else mirror.set(e.id!, e.summary!);
      }
      if (r.data.nextPageToken) {
        pageToken = r.data.nextPageToken;
        continue;
      }
      syncToken = r.data.nextSyncToken!;
      return;
    }
  };
  const live: string[] = [];
  const series: string[] = [];
  for (let i = 0; i < 300; i++) {
    const op = rnd(10);
    const day = String(1 + rnd(27)).padStart(2, '0');
    if (op < 4 || live.length === 0) {
      const allDay = rnd(4) === 0;
      const recurring = rnd(5) === 0;
      const body: calendar_v3.Schema$Event = allDay
        ? { summary: `e${i}`, start: { date: `2026-06-${day}` }, end: { date: `2026-06-${String(Number(day) + 1).padStart(2, '0')}` } }
        : ev(`e${i}`, `2026-06-${day}T09:00:00`, `2026-06-${day}T10:00:00`, recurring ? { recurrence: ['RRULE:FREQ=DAILY;COUNT=5'] } : {});
      const r = await demo.cal.events.insert({ calendarId: 'primary', requestBody: body });
      live.push(r.data.id!);
      if (recurring && !allDay) series.push(r.data.id!);
    } else if (op < 6) {
      const id = live[rnd(live.length)]!;
      await demo.cal.events.patch({ calendarId: 'primary', eventId: id, requestBody: { summary: `p${i}` } });
    } else if (op < 7 && series.length) {
      const s = series[rnd(series.length)]!;
      const inst = (await demo.cal.events.instances({ calendarId: 'primary', eventId: s })).data.items!;
      if (inst.length) {
        const target = inst[rnd(inst.length)]!;
        if (rnd(2)) await demo.cal.events.patch({ calendarId: 'primary', eventId: target.id!, requestBody: { summary: `x${i}` } });
        else await demo.cal.events.delete({ calendarId: 'primary', eventId: target.id! });
      }
    } else {
      const k = rnd(live.length);
      const id = live.splice(k, 1)[0]!;
      const si = series.indexOf(id);
      if (si >= 0) series.splice(si, 1);
      await demo.cal.events.delete({ calendarId: 'primary', eventId: id });
    }
    if (i % 7 === 0) await poll();
    if (i === 100 || i === 200) await control('POST', '/__sandbox/google/sync-tokens/invalidate', {});
  }
  await poll();
  assert.equal(resyncs, 2);
  const truth = new Map<string, string>();
  let pageToken: string | undefined;
  do {
    const r = await demo.cal.events.list({ calendarId: 'primary', maxResults: 100, pageToken });
    for (const e of r.data.items!) truth.set(e.id!, e.summary!);
    pageToken = r.data.nextPageToken ?? undefined;
  } while (pageToken);
  assert.ok(truth.size > 20, `only ${truth.size} events left`);
  assert.deepEqual([...mirror.entries()].sort(), [...truth.entries()].sort());
});

test('Drive: 150 random uploads, moves, renames, trashes and deletes across My Drive and a shared drive: a copy kept from changes.list equals files.list', async () => {
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const sd = await demo.drv.drives.create({ requestId: crypto.randomUUID(), requestBody: { name: 'Random' } });
  const folders = [
    (await demo.drv.files.create({ requestBody: { name: 'A', mimeType: FOLDER } })).data.id!,
    (await demo.drv.files.create({ requestBody: { name: 'B', mimeType: FOLDER } })).data.id!,
    (await demo.drv.files.create({ requestBody: { name: 'S', mimeType: FOLDER, parents: [sd.data.id!] }, supportsAllDrives: true })).data
      .id!,
  ];
  let token = (await demo.drv.changes.getStartPageToken({})).data.startPageToken!;
  const mirror = new Map<string, { name: string; parent: string; trashed: boolean }>();
  const poll = async () => {
    let pageToken: string | undefined = token;
    while (pageToken) {
      const r: { data: drive_v3.Schema$ChangeList } = await demo.drv.changes.list({
        pageToken,
        pageSize: 7,
        supportsAllDrives: true,
        includeItemsFromAllDrives: true,
        fields: 'nextPageToken,newStartPageToken,changes(fileId,removed,file(name,parents,trashed,mimeType))',
      });
      for (const c of r.data.changes!) {
        if (c.removed || c.file!.mimeType === FOLDER) {
          mirror.delete(c.fileId!);
          continue;
        }
        mirror.set(c.fileId!, { name: c.file!.name!, parent: c.file!.parents![0]!, trashed: c.file!.trashed! });
      }
      pageToken = r.data.nextPageToken ?? undefined;
      if (r.data.newStartPageToken) token = r.data.newStartPageToken;
    }
  };
  const files: { id: string; parent: string }[] = [];
  for (let i = 0; i < 150; i++) {
    const op = rnd(10);
    if (op < 4 || files.length === 0) {
      const parent = folders[rnd(3)]!;
      const r = await demo.drv.files.create(
        { requestBody: { name: `f${i}`, parents: [parent] }, media: { body: `content ${i}` }, supportsAllDrives: true },
        uploads(),
      );
      files.push({ id: r.data.id!, parent });
    } else if (op < 6) {
      const f = files[rnd(files.length)]!;
      const to = folders[rnd(3)]!;
      if (to !== f.parent) {
        await demo.drv.files.update({ fileId: f.id, addParents: to, removeParents: f.parent, supportsAllDrives: true });
        f.parent = to;
      }
    } else if (op < 7) {
      await demo.drv.files.update({ fileId: files[rnd(files.length)]!.id, requestBody: { name: `r${i}` }, supportsAllDrives: true });
    } else if (op < 8) {
      await demo.drv.files.update({
        fileId: files[rnd(files.length)]!.id,
        requestBody: { trashed: rnd(2) === 0 },
        supportsAllDrives: true,
      });
    } else {
      const [f] = files.splice(rnd(files.length), 1);
      await demo.drv.files.delete({ fileId: f!.id, supportsAllDrives: true });
    }
    if (i % 9 === 0) await poll();
  }
  await poll();
  const truth = new Map<string, { name: string; parent: string; trashed: boolean }>();
  for (const folder of folders) {
    const r = await demo.drv.files.list({
      q: `'${folder}' in parents`,
      pageSize: 1000,
      supportsAllDrives: true,
      includeItemsFromAllDrives: true,
      corpora: 'allDrives',
      fields: 'files(id,name,parents,trashed)',
    });
    for (const f of r.data.files!) truth.set(f.id!, { name: f.name!, parent: f.parents![0]!, trashed: f.trashed! });
  }
  assert.ok(truth.size > 20, `only ${truth.size} files left`);
  assert.deepEqual([...mirror.entries()].sort(), [...truth.entries()].sort());
});

test('Drive: files.generateIds gives ids a create may use once (a retried create is 409, never a second file)', async () => {
  const { data } = await demo.drv.files.generateIds({ count: 2 });
  assert.equal(data.ids!.length, 2);
  const id = data.ids![0]!;
  const made = await demo.drv.files.create({ requestBody: { id, name: 'once.txt' }, media: { body: 'x' } }, uploads());
  assert.equal(made.data.id, id);
  const again = await googleError(demo.drv.files.create({ requestBody: { id, name: 'once.txt' }, media: { body: 'x' } }, uploads()));
  assert.equal(again.status, 409);
  const made_up = await googleError(demo.drv.files.create({ requestBody: { id: 'notgenerated123', name: 'x' } }));
  assert.deepEqual([made_up.status, made_up.reason], [400, 'fileIdNotUsable']);
  assert.equal((await demo.drv.files.list({ q: "name = 'once.txt'" })).data.files!.length, 1);
});

test('Calendar: an event deleted between pages shifts nothing: the next page starts after the last event seen, and the delete shows in the next sync', async () => {
  for (let i = 0; i < 5; i++)
    await demo.cal.events.insert({
      calendarId: 'primary',
      requestBody: { id: `page0000${i}`, ...ev(`P${i}`, '2026-03-03T09:00:00', '2026-03-03T10:00:00') },
    });
  const p1 = await demo.cal.events.list({ calendarId: 'primary', maxResults: 2 });
  assert.deepEqual(
    p1.data.items!.map((e) => e.id),
    ['page00000', 'page00001'],
  );
  await demo.cal.events.delete({ calendarId: 'primary', eventId: 'page00000' });
  const p2 = await demo.cal.events.list({ calendarId: 'primary', maxResults: 2, pageToken: p1.data.nextPageToken! });
  assert.deepEqual(
    p2.data.items!.map((e) => e.id),
    ['page00002', 'page00003'],
  );
  const p3 = await demo.cal.events.list({ calendarId: 'primary', maxResults: 2, pageToken: p2.data.nextPageToken! });
  assert.deepEqual(
    p3.data.items!.map((e) => e.id),
    ['page00004'],
  );
  const inc = await demo.cal.events.list({ calendarId: 'primary', syncToken: p3.data.nextSyncToken! });
  assert.deepEqual(
    inc.data.items!.map((e) => [e.id, e.status]),
    [['page00000', 'cancelled']],
  );
});

test('Drive: files.list pages by position: a file deleted between pages skips nothing', async () => {
  const folder = await demo.drv.files.create({ requestBody: { name: 'Paged', mimeType: FOLDER } });
  for (let i = 0; i < 4; i++)
    await demo.drv.files.create({ requestBody: { name: `n${i}`, parents: [folder.data.id!] }, media: { body: 'x' } }, uploads());
  const q = `'${folder.data.id}' in parents`;
  const p1 = await demo.drv.files.list({ q, pageSize: 2 });
  assert.deepEqual(
    p1.data.files!.map((f) => f.name),
    ['n0', 'n1'],
  );
  await demo.drv.files.delete({ fileId: p1.data.files![0]!.id! });
  const p2 = await demo.drv.files.list({ q, pageSize: 2, pageToken: p1.data.nextPageToken! });
  assert.deepEqual(
    p2.data.files!.map((f) => f.name),
    ['n2', 'n3'],
  );
  assert.equal(p2.data.nextPageToken, undefined);
  const byName = await demo.drv.files.list({ q, pageSize: 2, orderBy: 'name desc' });
  assert.deepEqual(
    byName.data.files!.map((f) => f.name),
    ['n3', 'n2'],
  );
  const rest = await demo.drv.files.list({ q, pageSize: 2, orderBy: 'name desc', pageToken: byName.data.nextPageToken! });
  assert.deepEqual(
    rest.data.files!.map((f) => f.name),
    ['n1'],
  );
});

test("Gmail: messages.send through the SDK's media upload (message/rfc822), with and without metadata", async () => {
  const message = ['From: demo@example.com', 'To: bob@example.com', 'Subject: via upload', '', 'uploaded body'].join('\r\n');
  const plain = await demo.mail.users.messages.send({ userId: 'me', media: { mimeType: 'message/rfc822', body: message } }, uploads());
  const first = await demo.mail.users.messages.get({ userId: 'me', id: plain.data.id! });
  assert.equal(first.data.payload!.headers!.find((h) => h.name === 'Subject')!.value, 'via upload');
  const threaded = await demo.mail.users.messages.send(
    { userId: 'me', requestBody: { threadId: plain.data.threadId! }, media: { mimeType: 'message/rfc822', body: message } },
    uploads(),
  );
  assert.equal(threaded.data.threadId, plain.data.threadId);
});
