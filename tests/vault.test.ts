import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startOAuth2Fake } from '../sandbox/oauth2/index.ts';
import type { RunningFake } from '../sandbox/framework/index.ts';
import { KeyRing, parseKey } from '../core/vault/keyring.ts';
import { decrypt } from '../core/vault/cipher.ts';
import {
  ROOT,
  TEST_ADMIN_TOKEN,
  TEST_ENCRYPTION_KEY,
  prepareEnvironment,
  spawnHub,
  startTestHub,
  tempDir,
  waitUntil,
  writeConfig,
  type Environment,
  type HubProcess,
} from './helpers/hub.ts';
import { queryHub } from './helpers/hub-db.ts';
import { services } from './helpers/services.ts';
import type { Hub } from '../app/hub.ts';

const run = promisify(execFile);
const available = await services();
const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

async function api(base: string, method: string, p: string, body?: unknown) {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

async function control(fake: RunningFake<unknown>, method: string, p: string, body?: unknown) {
  const res = await fetch(`${fake.baseUrl()}/__sandbox/oauth2${p}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  assert.ok(res.ok, `control ${p} answered ${res.status}`);
  return res.json() as Promise<any>;
}

/** Runs the browser's part of the connect flow: the provider's page, then the hub's callback. Returns the callback's answer. */
async function completeConsent(authorizeUrl: string) {
  const atProvider = await fetch(authorizeUrl, { redirect: 'manual' });
  assert.equal(atProvider.status, 302, 'the provider redirects back');
  const callback = atProvider.headers.get('location')!;
  const res = await fetch(callback, { redirect: 'manual' });
  return { callback, status: res.status, text: await res.text() };
}

async function connect(base: string, id: string) {
  const start = await api(base, 'POST', `/api/v1/connections/${id}/authorize`, {});
  assert.equal(start.status, 200, JSON.stringify(start.json));
  return completeConsent(start.json.authorizeUrl);
}

describe('credential vault and connections', { skip: available.postgres && available.redis ? false : 'needs PostgreSQL and Redis' }, () => {
  let fake: RunningFake<unknown>;
  let environment: Environment;
  let hub: Hub;
  const connectionBody = (id: string) => ({
    id,
    connector: 'oauth2',
    label: `Sandbox ${id}`,
    settings: {
      authorizationUrl: `${fake.baseUrl()}/oauth/authorize`,
      tokenUrl: `${fake.baseUrl()}/oauth/token`,
      userinfoUrl: `${fake.baseUrl()}/oauth/userinfo`,
      clientId: 'sandbox-client',
      scopes: 'openid profile',
    },
    secrets: { clientSecret: 'sandbox-secret' },
  });

  before(async () => {
    fake = (await startOAuth2Fake({ port: 0 })) as RunningFake<unknown>;
    environment = await prepareEnvironment({ name: 'vault', store: 'external', queue: 'redis' }, 'vault', {
      DINGBRIDGE_REFRESH_MARGIN_MS: '300000',
    });
    hub = await startTestHub(environment);
  });
  after(async () => {
    await hub?.stop();
    await fake?.stop();
    await environment?.cleanup();
  });

  test("authorization code + PKCE through the hub's endpoints; tampered and replayed states are refused", async () => {
    const created = await api(hub.url!, 'POST', '/api/v1/connections', connectionBody('main'));
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.deepEqual(created.json.secrets, { clientSecret: { set: true } });
    assert.equal(JSON.stringify(created.json).includes('sandbox-secret'), false);

    const start = await api(hub.url!, 'POST', '/api/v1/connections/main/authorize', {});
    const authorizeUrl = new URL(start.json.authorizeUrl);
    assert.equal(authorizeUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(authorizeUrl.searchParams.get('state'));
    await control(fake, 'PUT', '/settings', { requirePkce: true });

    const tampered = new URL((await fetch(authorizeUrl, { redirect: 'manual' })).headers.get('location')!);
    tampered.searchParams.set('state', `${tampered.searchParams.get('state')}x`);
    const refused = await fetch(tampered, { redirect: 'manual' });
    assert.equal(refused.status, 400);
    assert.equal(((await refused.json()) as any).error.code, 'invalid_state');

    const done = await connect(hub.url!, 'main');
    assert.equal(done.status, 200, done.text);
    assert.match(done.text, /Connected/);
    const replay = await fetch(done.callback, { redirect: 'manual' });
    assert.equal(replay.status, 400, 'a used state is refused');
    assert.equal(((await replay.json()) as any).error.code, 'invalid_state');

    const view = await api(hub.url!, 'GET', '/api/v1/connections/main');
    assert.equal(view.json.status, 'active');
    assert.deepEqual(Object.keys(view.json.secrets).sort(), ['accessToken', 'clientSecret', 'refreshToken']);
    assert.ok(view.json.expiresAt);
    const tested = await api(hub.url!, 'POST', '/api/v1/connections/main/test');
    assert.equal(tested.status, 200, JSON.stringify(tested.json));
    assert.equal(tested.json.details.body.sub !== undefined, true);
  });

  test('a denied consent leaves a clear status on the connection', async () => {
    await api(hub.url!, 'POST', '/api/v1/connections', connectionBody('denied'));
    await control(fake, 'PUT', '/settings', { deny: true });
    try {
      const res = await connect(hub.url!, 'denied');
      assert.equal(res.status, 400);
      assert.equal(JSON.parse(res.text).error.code, 'access_denied');
    } finally {
      await control(fake, 'PUT', '/settings', { deny: false });
    }
    const view = await api(hub.url!, 'GET', '/api/v1/connections/denied');
    assert.equal(view.json.status, 'error');
    assert.match(view.json.lastError, /declined access/);
  });

  test('the provider says 401 mid-call: one refresh, one retry, success', async () => {
    await control(fake, 'POST', '/counters/reset');
    await fetch(`${fake.baseUrl()}/__sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'expired_token', path: '^/oauth/userinfo$', count: 1 }),
    });
    const tested = await api(hub.url!, 'POST', '/api/v1/connections/main/test');
    assert.equal(tested.status, 200, JSON.stringify(tested.json));
    const counters = await control(fake, 'GET', '/counters');
    assert.equal(counters.tokenRequests.refresh_token, 1);
    assert.equal(counters.userinfo, 2);
  });

  test('tokens about to expire are refreshed ahead of time by the maintenance job; a passing token-endpoint failure is retried', async () => {
    await control(fake, 'POST', '/counters/reset');
    await queryHub(environment, "update connections set expires_at = now() + interval '2 minutes' where id = 'main'");
    await waitUntil(async () => (await control(fake, 'GET', '/counters')).tokenRequests.refresh_token >= 1, 'proactive refresh', 15_000);
    const [row] = await queryHub<{ expires_at: Date }>(environment, "select expires_at from connections where id = 'main'");
    assert.ok(new Date(row!.expires_at).getTime() > Date.now() + 30 * 60_000, "the new token lives for the provider's full lifetime");

    await control(fake, 'POST', '/counters/reset');
    await fetch(`${fake.baseUrl()}/__sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'status', status: 503, path: '^/oauth/token$', count: 1 }),
    });
    await queryHub(environment, "update connections set expires_at = now() - interval '1 minute' where id = 'main'");
    const failed = await api(hub.url!, 'POST', '/api/v1/connections/main/test');
    assert.equal(failed.status, 502, 'a passing failure is reported, not a re-authorisation');
    assert.equal((await api(hub.url!, 'GET', '/api/v1/connections/main')).json.status, 'active');
    const retried = await api(hub.url!, 'POST', '/api/v1/connections/main/test');
    assert.equal(retried.status, 200);
  });

  test('two hub processes × 50 concurrent calls on a just-expired token: exactly one refresh; the newest rotated refresh token is stored', async () => {
    await control(fake, 'PUT', '/settings', { rotateRefreshTokens: true });
    await control(fake, 'POST', '/expire-access-tokens', {});
    await queryHub(environment, "update connections set expires_at = now() - interval '1 minute' where id = 'main'");
    await control(fake, 'POST', '/counters/reset');
    const procs: HubProcess[] = [];
    try {
      procs.push(await spawnHub(environment, ['serve', '--no-worker']), await spawnHub(environment, ['serve', '--no-worker']));
      const calls = procs.flatMap((p) => Array.from({ length: 50 }, () => api(p.url, 'POST', '/api/v1/connections/main/test')));
      const results = await Promise.all(calls);
      assert.deepEqual([...new Set(results.map((r) => r.status))], [200], JSON.stringify(results.find((r) => r.status !== 200)?.json));
    } finally {
      for (const p of procs) await p.kill();
    }
    const counters = await control(fake, 'GET', '/counters');
    assert.equal(counters.tokenRequests.refresh_token, 1, 'exactly one refresh reached the token endpoint');
    const tokens = await control(fake, 'GET', '/tokens');
    const live = tokens.refreshTokens.filter((t: any) => !t.revoked && !t.rotatedAway && !t.expired && t.active !== false);
    const [row] = await queryHub<{ secrets: string }>(environment, "select secrets from connections where id = 'main'");
    const ring = new KeyRing([parseKey(TEST_ENCRYPTION_KEY, 'test key')], { kind: 'env' });
    const stored = JSON.parse(decrypt(ring, row!.secrets, 'connection:main'));
    assert.ok(
      tokens.refreshTokens.some((t: any) => t.token === stored.refreshToken),
      'the stored refresh token is one the provider issued',
    );
    const newest = [...tokens.refreshTokens]
      .sort((a: any, b: any) => String(a.issuedAt ?? a.createdAt).localeCompare(String(b.issuedAt ?? b.createdAt)))
      .at(-1);
    assert.equal(stored.refreshToken, newest.token, 'the newest refresh token is the one stored');
    void live;
    await control(fake, 'PUT', '/settings', { rotateRefreshTokens: false });
  });

  test('invalid_grant: needs_reauth, the event is emitted, steps wait and succeed after reconnecting', async () => {
    await hub.stop();
    const dir = tempDir('vault-flow');
    environment.env.DINGBRIDGE_CONFIG = writeConfig(
      dir,
      `
hooks:
  - id: ping
flows:
  - id: call-api
    when: { event: catch_hook.received, source: ping }
    then:
      - action: oauth2.request
        connection: main
        input: { method: GET, url: "${fake.baseUrl()}/api/ping" }
`,
    );
    hub = await startTestHub(environment);
    await control(fake, 'POST', '/revoke', { client_id: 'sandbox-client' });
    await queryHub(environment, "update connections set expires_at = now() - interval '1 minute' where id = 'main'");

    const posted = await fetch(`${hub.url}/hooks/catch/ping`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"n":1}',
    });
    const { id: eventId } = (await posted.json()) as { id: string };
    const waiting = await waitUntil(async () => {
      const rows = await queryHub<{ id: string; status: string }>(environment, 'select id, status from step_runs where event_id = $1', [
        eventId,
      ]);
      return rows[0]?.status === 'waiting_reauth' && rows[0];
    }, 'step waiting for re-authorisation');
    const view = await api(hub.url!, 'GET', '/api/v1/connections/main');
    assert.equal(view.json.status, 'needs_reauth');
    assert.match(view.json.lastError, /invalid_grant|revoked|refresh/i);
    const events = await queryHub<{ type: string; data: any }>(
      environment,
      "select type, data from events where type = 'hub.connection.needs_reauth'",
    );
    assert.equal(events.length, 1);
    assert.equal(events[0]!.data.connection.id, 'main');

    const reconnected = await connect(hub.url!, 'main');
    assert.equal(reconnected.status, 200, reconnected.text);
    assert.match(reconnected.text, /1 waiting step\(s\) resumed/);
    await waitUntil(
      async () =>
        (await queryHub<{ status: string }>(environment, 'select status from step_runs where id = $1', [waiting.id]))[0]?.status ===
        'succeeded',
      'step succeeded after reconnecting',
    );
  });

  test('no token or secret appears in plaintext in the connections table or in any log; a tampered ciphertext fails loudly', async () => {
    const tokens = await control(fake, 'GET', '/tokens');
    const secrets = [
      'sandbox-secret',
      ...tokens.accessTokens.map((t: any) => t.token),
      ...tokens.refreshTokens.map((t: any) => t.token),
    ].filter((s) => typeof s === 'string' && s.length >= 8);
    assert.ok(secrets.length >= 4);
    const dump =
      JSON.stringify(await queryHub(environment, 'select * from connections')) +
      JSON.stringify(await queryHub(environment, 'select * from oauth_states'));
    const logs = fs
      .readdirSync(path.dirname(environment.logFile))
      .filter((f) => f.startsWith('vault-'))
      .map((f) => fs.readFileSync(path.join(path.dirname(environment.logFile), f), 'utf8'))
      .join('\n');
    assert.ok(logs.length > 1000, 'the hubs logged');
    for (const s of secrets) {
      assert.equal(dump.includes(s), false, 'a secret is stored in plaintext');
      assert.equal(logs.includes(s), false, 'a secret reached a log');
    }

    const [row] = await queryHub<{ secrets: string }>(environment, "select secrets from connections where id = 'main'");
    const parts = row!.secrets.split('.');
    const body = Buffer.from(parts[4]!, 'base64url');
    body[0] = body[0]! ^ 1;
    parts[4] = body.toString('base64url');
    await queryHub(environment, "update connections set secrets = $1 where id = 'main'", [parts.join('.')]);
    const broken = await api(hub.url!, 'POST', '/api/v1/connections/main/test');
    assert.equal(broken.status, 500);
    assert.match(fs.readFileSync(environment.logFile, 'utf8'), /integrity check/);
    await queryHub(environment, "update connections set secrets = $1 where id = 'main'", [row!.secrets]);
    assert.equal((await api(hub.url!, 'POST', '/api/v1/connections/main/test')).status, 200);
  });

  test('`dingbridge keys rotate` keeps every credential readable; a wrong key stops the hub at start with a clear error', async () => {
    await hub.stop();
    const newKey = crypto.randomBytes(32).toString('base64');
    const env = {
      PATH: process.env.PATH ?? '',
      ...environment.env,
      DINGBRIDGE_ENCRYPTION_KEY: `${newKey},${TEST_ENCRYPTION_KEY}`,
      LOG_LEVEL: 'warn',
    };
    const { stdout } = await run(process.execPath, [path.join(ROOT, 'bin/dingbridge.js'), 'keys', 'rotate'], { env });
    assert.match(stdout, /re-sealed [1-9]\d* secret\(s\) under key/);
    const newId = parseKey(newKey, 'new').id;
    const rows = await queryHub<{ secrets: string }>(environment, 'select secrets from connections where secrets is not null');
    assert.ok(
      rows.every((r) => r.secrets.split('.')[1] === newId),
      'every secret is sealed under the new key',
    );

    environment.env.DINGBRIDGE_ENCRYPTION_KEY = newKey;
    hub = await startTestHub(environment);
    assert.equal((await api(hub.url!, 'POST', '/api/v1/connections/main/test')).status, 200);
    await hub.stop();

    environment.env.DINGBRIDGE_ENCRYPTION_KEY = crypto.randomBytes(32).toString('base64');
    await assert.rejects(startTestHub(environment), /encryption key does not match this database/);
    environment.env.DINGBRIDGE_ENCRYPTION_KEY = newKey;
    hub = await startTestHub(environment);
  });
});
