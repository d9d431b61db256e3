import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { calendar, type calendar_v3 } from '@googleapis/calendar';
import { drive, type drive_v3 } from '@googleapis/drive';
import { gmail } from '@googleapis/gmail';
import { admin } from '@googleapis/admin';
import { OAuth2Client } from 'google-auth-library';
import { startGoogleFake, DEFAULT_GOOGLE_CLIENT, type GoogleState } from '../../sandbox/google/index.ts';
import type { RunningFake } from '../../sandbox/framework/index.ts';

// ---- a local receiver for push channels and Pub/Sub pushes ----
interface Received { path: string; headers: http.IncomingHttpHeaders; raw: Buffer }
class Receiver {
  server!: http.Server;
  base = '';
  received: Received[] = [];
  async start() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => { this.received.push({ path: req.url ?? '/', headers: req.headers, raw: Buffer.concat(chunks) }); res.end(); });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  on(path: string) { return this.received.filter((r) => r.path === path); }
  async waitFor(path: string, n: number, ms = 15_000) {
    const until = Date.now() + ms;
    while (this.on(path).length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.ok(this.on(path).length >= n, `expected ${n} deliveries on ${path}, got ${this.on(path).length}`);
    return this.on(path);
  }
  stop() { return new Promise<void>((r) => this.server.close(() => r())); }
}

let fake: RunningFake<GoogleState>;
let base: string;
let rx: Receiver;
const REDIRECT = 'http://127.0.0.1:9/oauth/callback';
const ALL_SCOPES = [
  'openid', 'email', 'profile',
  'https://www.googleapis.com/auth/calendar', 'https://www.googleapis.com/auth/drive',
  'https://www.googleapis.com/auth/gmail.modify', 'https://www.googleapis.com/auth/admin.directory.user.readonly',
  'https://www.googleapis.com/auth/admin.directory.group.readonly',
];

function oauthClient(client: { clientId: string; clientSecret: string } = DEFAULT_GOOGLE_CLIENT, opts: { forceRefreshOnFailure?: boolean } = {}): OAuth2Client {
  return new OAuth2Client({
    clientId: client.clientId, clientSecret: client.clientSecret, redirectUri: REDIRECT, ...opts,
    endpoints: { oauth2AuthBaseUrl: `${base}/o/oauth2/v2/auth`, oauth2TokenUrl: `${base}/token`, oauth2RevokeUrl: `${base}/revoke`, tokenInfoUrl: `${base}/tokeninfo` },
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
  const res = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  assert.ok(res.status < 300, `${method} ${path} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** The Google error a client call failed with: HTTP status and the first reason of Google's error body. */
async function googleError(p: Promise<unknown>): Promise<{ status: number; reason: string; message: string; body: any }> {
  try { await p; } catch (err: any) {
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
after(async () => { await fake.stop(); await rx.stop(); });
beforeEach(async () => {
  fake.reset();
  rx.received = [];
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
  assert.equal((await online.getToken(cb2.searchParams.get('code')!)).tokens.refresh_token, undefined, 'no refresh token without access_type=offline');

  const info = await demo.client.request<{ sub: string; email: string; name: string }>({ url: `${base}/oauth2/v3/userinfo` });
  assert.equal(info.data.email, 'demo@example.com');
  assert.equal(info.data.name, 'Demo User');
  const ti = await demo.client.getTokenInfo(demo.client.credentials.access_token!);
  assert.ok(ti.scopes.includes('https://www.googleapis.com/auth/calendar'));

  const bad = await fetch(`${base}/o/oauth2/v2/auth?client_id=${DEFAULT_GOOGLE_CLIENT.clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}&response_type=code`, { redirect: 'manual' });
  assert.equal(bad.status, 400, 'a request without scope is refused on the page');
  assert.match(await bad.text(), /Missing required parameter: scope/);
});

test('OAuth: include_granted_scopes adds the new scope to what was granted before', async () => {
  const reg = await control('POST', '/__sandbox/google/oauth/clients', { redirect_uris: [REDIRECT] });
  const c = oauthClient({ clientId: reg.client_id, clientSecret: reg.client_secret });
  const cb1 = await authorize(c.generateAuthUrl({ access_type: 'offline', prompt: 'consent', scope: ['https://www.googleapis.com/auth/calendar'] }));
  const t1 = (await c.getToken(cb1.searchParams.get('code')!)).tokens;
  assert.equal(t1.scope, 'https://www.googleapis.com/auth/calendar');
  const cb2 = await authorize(c.generateAuthUrl({ access_type: 'offline', prompt: 'consent', include_granted_scopes: true, scope: ['https://www.googleapis.com/auth/drive'] }));
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
  await assert.rejects(c.refreshAccessToken(), (err: any) => err.response?.data?.error === 'invalid_grant' && err.response?.data?.error_description === 'Token has been expired or revoked.');
});

test('OAuth: an expired access token (fault) → 401; with forceRefreshOnFailure the client refreshes by itself and the call goes through', async () => {
  // google-auth-library refreshes on a 401 only without an expiry_date or with forceRefreshOnFailure: the connector should set it.
  const e = await (async () => { await control('POST', '/__sandbox/faults', { kind: 'expired_token', path: '^/calendar/' }); return googleError(demo.cal.calendarList.list()); })();
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
