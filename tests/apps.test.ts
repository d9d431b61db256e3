import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startOAuth2Fake } from '../sandbox/oauth2/index.ts';
import type { RunningFake } from '../sandbox/framework/index.ts';
import { TEST_ADMIN_TOKEN, prepareEnvironment, startTestHub, tempDir, writeConfig, type Environment } from './helpers/hub.ts';
import { queryHub } from './helpers/hub-db.ts';
import { services } from './helpers/services.ts';
import type { Hub } from '../app/hub.ts';

/** Provider apps apart from connections (issue 12, item 4): one app, many connected accounts; app secrets sealed and write-only. */
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

describe('provider apps', { skip: available.postgres && available.redis ? false : 'needs PostgreSQL and Redis' }, () => {
  let fake: RunningFake<unknown>;
  let environment: Environment;
  let hub: Hub;
  const urls = () => ({
    authorizationUrl: `${fake.baseUrl()}/oauth/authorize`,
    tokenUrl: `${fake.baseUrl()}/oauth/token`,
    userinfoUrl: `${fake.baseUrl()}/oauth/userinfo`,
  });

  before(async () => {
    fake = (await startOAuth2Fake({ port: 0 })) as RunningFake<unknown>;
    const config = writeConfig(
      tempDir('apps'),
      `
apps:
  - id: inhouse-sandbox
    connector: oauth2
    label: In-house API (sandbox)
    environment: sandbox
    clientId: sandbox-client
    clientSecret: \${INHOUSE_CLIENT_SECRET}
    webhookVerifierToken: \${INHOUSE_VERIFIER}
connections:
  - id: from-file
    connector: oauth2
    app: inhouse-sandbox
    settings: { authorizationUrl: "${fake.baseUrl()}/oauth/authorize", tokenUrl: "${fake.baseUrl()}/oauth/token" }
`,
    );
    environment = await prepareEnvironment({ name: 'apps', store: 'external', queue: 'redis' }, 'apps', {
      DINGBRIDGE_CONFIG: config,
      INHOUSE_CLIENT_SECRET: 'sandbox-secret',
      INHOUSE_VERIFIER: 'verifier-token-0123456789',
    });
    hub = await startTestHub(environment);
  });
  after(async () => {
    await hub?.stop();
    await fake?.stop();
    await environment?.cleanup();
  });

  test("the config file's app is sealed, write-only, and lists its connection", async () => {
    const got = await api(hub.url!, 'GET', '/api/v1/apps/inhouse-sandbox');
    assert.equal(got.status, 200);
    assert.equal(got.json.environment, 'sandbox');
    assert.deepEqual(got.json.secrets, { clientSecret: { set: true }, webhookVerifierToken: { set: true } });
    assert.deepEqual(got.json.connections, ['from-file']);
    assert.equal(JSON.stringify(got.json).includes('sandbox-secret'), false);
    const [row] = await queryHub<{ secrets: string }>(environment, "select secrets from provider_apps where id = 'inhouse-sandbox'");
    assert.match(row!.secrets, /^v1\./, 'sealed in the vault');
    assert.equal(row!.secrets.includes('sandbox-secret'), false);
  });

  test("one app, two connected accounts: each connection authorises with the app's client; the app cannot be deleted while used", async () => {
    const created = await api(hub.url!, 'POST', '/api/v1/apps', {
      id: 'inhouse',
      connector: 'oauth2',
      label: 'In-house API',
      clientId: 'sandbox-client',
      secrets: { clientSecret: 'sandbox-secret' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.deepEqual(created.json.secrets, { clientSecret: { set: true } });
    assert.equal(JSON.stringify(created.json).includes('sandbox-secret'), false, 'secrets are write-only');

    for (const id of ['alice', 'bob']) {
      const conn = await api(hub.url!, 'POST', '/api/v1/connections', { id, connector: 'oauth2', app: 'inhouse', settings: urls() });
      assert.equal(conn.status, 201, JSON.stringify(conn.json));
      assert.equal(conn.json.appId, 'inhouse');
      assert.equal(conn.json.secrets.clientSecret, undefined, "the app's secret is not copied into the connection");
      const start = await api(hub.url!, 'POST', `/api/v1/connections/${id}/authorize`, {});
      assert.equal(new URL(start.json.authorizeUrl).searchParams.get('client_id'), 'sandbox-client');
      const atProvider = await fetch(start.json.authorizeUrl, { redirect: 'manual' });
      const callback = await fetch(atProvider.headers.get('location')!, { redirect: 'manual' });
      assert.equal(callback.status, 200, await callback.text());
      assert.equal((await api(hub.url!, 'GET', `/api/v1/connections/${id}`)).json.status, 'active');
    }
    const listed = await api(hub.url!, 'GET', '/api/v1/apps');
    assert.deepEqual(listed.json.apps.find((a: any) => a.id === 'inhouse').connections, ['alice', 'bob']);

    // A wrong app secret breaks the code exchange of a new connection: the credentials really come from the app.
    assert.equal((await api(hub.url!, 'PATCH', '/api/v1/apps/inhouse', { secrets: { clientSecret: 'wrong-secret' } })).status, 200);
    await api(hub.url!, 'POST', '/api/v1/connections', { id: 'carol', connector: 'oauth2', app: 'inhouse', settings: urls() });
    const start = await api(hub.url!, 'POST', '/api/v1/connections/carol/authorize', {});
    const atProvider = await fetch(start.json.authorizeUrl, { redirect: 'manual' });
    const refused = await fetch(atProvider.headers.get('location')!, { redirect: 'manual' });
    assert.equal(refused.status, 502, "the provider refused the app's wrong secret");
    await api(hub.url!, 'PATCH', '/api/v1/apps/inhouse', { secrets: { clientSecret: 'sandbox-secret' } });

    assert.equal((await api(hub.url!, 'DELETE', '/api/v1/apps/inhouse')).status, 409);
    const other = await api(hub.url!, 'POST', '/api/v1/connections', { connector: 'trello', app: 'inhouse', settings: { apiKey: 'k' } });
    assert.equal(other.status, 400, 'an app serves connections of its own connector only');
    assert.equal(other.json.error.code, 'app_mismatch');
    const doc = (await (await fetch(`${hub.url}/api/openapi.json`)).json()) as { paths: Record<string, unknown> };
    assert.ok(doc.paths['/api/v1/apps'] && doc.paths['/api/v1/apps/{id}'], 'documented in the OpenAPI document');
  });

  test('saving a flow checks the connection its actions need (not at run time)', async () => {
    const missing = await api(hub.url!, 'POST', '/api/v1/flows', {
      id: 'no-conn',
      when: { event: 'catch_hook.received' },
      then: [{ action: 'oauth2.request', input: { url: `${fake.baseUrl()}/api/ping` } }],
    });
    assert.equal(missing.status, 400);
    assert.deepEqual(
      missing.json.error.issues.map((i: any) => i.path),
      ['then.0.connection'],
    );
    const wrong = await api(hub.url!, 'POST', '/api/v1/flows', {
      id: 'wrong-conn',
      when: { event: 'catch_hook.received' },
      then: [{ action: 'trello.card.create', connection: 'alice', input: { list: 'l', name: 'n' } }],
    });
    assert.equal(wrong.status, 400);
    assert.match(wrong.json.error.message, /needs a trello connection; alice is a oauth2 connection/);
    const ok = await api(hub.url!, 'POST', '/api/v1/flows', {
      id: 'with-conn',
      when: { event: 'catch_hook.received' },
      then: [{ action: 'oauth2.request', connection: 'alice', input: { url: `${fake.baseUrl()}/api/ping` } }],
    });
    assert.equal(ok.status, 201, JSON.stringify(ok.json));
  });
});
