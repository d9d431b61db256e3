import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { generateSync } from 'otplib';
import type { Hub } from '../../app/hub.ts';
import { createUser } from '../../config/accounts.ts';
import { createApiKey } from '../../config/api-keys.ts';
import { TEST_ADMIN_TOKEN, prepareEnvironment, startTestHub, tempDir, waitUntil, writeConfig, type Environment } from '../helpers/hub.ts';
import { queryHub } from '../helpers/hub-db.ts';
import { startSink, type Sink } from '../helpers/sink.ts';
import { services } from '../helpers/services.ts';
import { bearerPrincipal, Client, type Principal } from './principals.ts';

const available = await services();

/**
 * Issue 11, the access-control findings: each test names its finding and failed on the code before
 * the fix (see the issue note). One hub with DINGBRIDGE_ADMIN_TOKEN, a metrics token, an admin
 * network allow-list (loopback) and a config-file flow whose header comes from ${SINK_TOKEN}.
 */
const SINK_TOKEN = 'sink-token-value-which-is-secret-42';
const METRICS_TOKEN = 'metrics-token-0123456789';
const OWNER = { email: 'owner@example.com', password: 'owner password long enough' };
const VIEWER = { email: 'viewer@example.com', password: 'viewer password long enough' };

describe('security findings (issue 11, access control)', { skip: available.postgres ? false : 'needs PostgreSQL' }, () => {
  let environment: Environment;
  let hub: Hub;
  let sink: Sink;
  let admin: Principal;
  let owner: Client;
  let viewer: Client;
  const key = async (...scopes: string[]) =>
    bearerPrincipal(hub.url!, scopes.join('+'), 'api_key', (await createApiKey(hub.runtime, { label: scopes.join(' '), scopes })).key);

  before(async () => {
    sink = await startSink();
    const dir = tempDir('security-config');
    const config = writeConfig(
      dir,
      `version: 1
flows:
  - id: env-flow
    when: { event: catch_hook.received }
    then:
      - action: http.post
        input:
          url: \${SINK_URL}
          headers:
            X-Custom-Auth: \${SINK_TOKEN}
          body: { hello: "{{ data.name }}" }
`,
    );
    environment = await prepareEnvironment({ name: 'security', store: 'external', queue: 'postgres' }, 'security', {
      DINGBRIDGE_CONFIG: config,
      SINK_URL: `${sink.url}/in`,
      SINK_TOKEN,
      DINGBRIDGE_METRICS_TOKEN: METRICS_TOKEN,
      DINGBRIDGE_ADMIN_ALLOW: '127.0.0.1/32,::1/128',
    });
    hub = await startTestHub(environment);
    admin = bearerPrincipal(hub.url!, 'admin token', 'admin_token', TEST_ADMIN_TOKEN);
    await createUser(hub.runtime, { ...OWNER, role: 'owner' });
    await createUser(hub.runtime, { ...VIEWER, role: 'viewer' });
    owner = new Client(hub.url!);
    assert.equal((await owner.call('POST', '/api/v1/auth/login', OWNER)).status, 200);
    viewer = new Client(hub.url!);
    assert.equal((await viewer.call('POST', '/api/v1/auth/login', VIEWER)).status, 200);
  });
  after(async () => {
    await hub?.stop();
    await sink?.close();
    await environment?.cleanup();
  });

  test('finding 1: an API key reaches only routes that declare a scope it holds; connections need connections:use', async () => {
    await admin.call('POST', '/api/v1/connections', {
      id: 'crm',
      connector: 'oauth2',
      settings: { authorizationUrl: 'https://auth.example/authorize', tokenUrl: 'https://auth.example/token', clientId: 'c' },
      secrets: { clientSecret: 'client-secret-value-123456' },
    });
    const hooksRead = await key('hooks:read');
    for (const [m, p, body] of [
      ['GET', '/api/v1/audit'],
      ['GET', '/api/v1/security'],
      ['GET', '/api/v1/flows'],
      ['GET', '/api/v1/runs'],
      ['POST', '/api/v1/runs/replay', {}],
      ['POST', '/api/v1/flows', { id: 'steal', when: { event: 'catch_hook.received' }, then: [{ action: 'http.post', input: {} }] }],
      ['GET', '/api/v1/users'],
      ['GET', '/api/v1/connections'],
      ['POST', '/api/v1/connections/crm/test'],
      ['POST', '/api/v1/connections/crm/authorize', {}],
    ] as const) {
      const res = await hooksRead.call(m, p, body);
      assert.equal(res.status, 403, `hooks:read key on ${m} ${p}: ${res.status}`);
    }
    assert.equal((await hooksRead.call('GET', '/api/v1/hooks')).status, 200, 'its own scope still works');
    assert.equal((await hooksRead.call('GET', '/api/v1/me')).status, 200);

    const stealer = {
      id: 'stealer',
      when: { event: 'catch_hook.received' },
      then: [{ action: 'oauth2.request', connection: 'crm', input: { url: 'http://127.0.0.1:1/steal' } }],
    };
    const flowsWrite = await key('flows:write');
    const refused = await flowsWrite.call('POST', '/api/v1/flows', stealer);
    assert.equal(refused.status, 403, 'a flow that acts through a connection needs connections:use');
    assert.match(refused.json.error.message, /connections:use/);
    assert.equal(
      (
        await flowsWrite.call('POST', '/api/v1/flows', {
          id: 'plain',
          when: { event: 'catch_hook.received' },
          then: [{ action: 'http.post', input: { url: `${sink.url}/plain`, body: {} } }],
        })
      ).status,
      201,
    );
    // An admin's flow with a connection step cannot be test-run (the token sent) by a flows:write key either.
    assert.equal((await admin.call('POST', '/api/v1/flows', { ...stealer, id: 'admins', enabled: false })).status, 201);
    assert.equal((await flowsWrite.call('POST', '/api/v1/flows/admins/test', {})).status, 403);
    const narrow = await key('flows:write', 'connections:use');
    assert.equal(
      (await narrow.call('POST', '/api/v1/flows', { ...stealer, enabled: false })).status,
      201,
      'connections:use grants it explicitly',
    );

    const actions = await key('actions:run');
    const withConn = await actions.call('POST', '/api/v1/actions/oauth2.request/run', {
      connection_id: 'crm',
      input: { url: 'http://127.0.0.1:1/x' },
    });
    assert.equal(withConn.status, 403, 'actions:run alone does not act through a connection');

    const reader = await key('connections:read');
    const list = await reader.call('GET', '/api/v1/connections');
    assert.equal(list.status, 200);
    assert.ok(list.json.connections.length >= 1);
    assert.ok(
      list.json.connections.every((c: any) => c.secrets === undefined),
      'connections:read never shows credentials',
    );

    const doc = (await fetch(`${hub.url}/api/openapi.json`).then((r) => r.json())) as any;
    assert.ok(doc.components.securitySchemes.bearerAuth['x-scopes']['flows:write']);
    assert.deepEqual(doc.paths['/api/v1/audit'].get.security, [{ bearerAuth: ['audit:read'] }]);
    assert.equal(doc.paths['/api/v1/users'].get['x-api-key-scope'], null);
    assert.ok(
      !JSON.stringify(doc).includes(TEST_ADMIN_TOKEN) && !JSON.stringify(doc).includes(SINK_TOKEN),
      'the public document holds no secrets',
    );
  });

  test('finding 6: ${ENV} references stay unexpanded; traces keep only allow-listed headers; viewers see no header values', async () => {
    const asAdmin = await admin.call('GET', '/api/v1/flows/env-flow');
    assert.equal(asAdmin.status, 200);
    assert.equal(asAdmin.json.then[0].input.headers['X-Custom-Auth'], '${SINK_TOKEN}');
    assert.ok(!JSON.stringify(asAdmin.json).includes(SINK_TOKEN));
    const asViewer = await viewer.call('GET', '/api/v1/flows');
    assert.equal(asViewer.status, 200);
    assert.ok(!JSON.stringify(asViewer.json).includes(SINK_TOKEN), "no secret in the viewer's flow list");

    const started = await admin.call('POST', '/api/v1/flows/env-flow/test', { data: { name: 'x' } });
    assert.equal(started.status, 202, JSON.stringify(started.json));
    await waitUntil(() => sink.requests.find((r) => r.headers['x-custom-auth'] === SINK_TOKEN), 'the flow sent its header', 60_000);
    const run = await waitUntil(
      async () => {
        const r = await admin.call('GET', `/api/v1/runs/${started.json.eventId}`);
        return r.json?.steps?.[0]?.attemptDetails?.[0]?.request ? r : undefined;
      },
      'the attempt is stored',
      60_000,
    );
    const headers = run.json.steps[0].attemptDetails[0].request.headers;
    assert.equal(headers['X-Custom-Auth'], '[redacted]', 'a custom auth header is redacted in the trace');
    assert.equal(headers['content-type'], 'application/json', 'allow-listed headers stay for admins');
    const viewerRun = await viewer.call('GET', `/api/v1/runs/${started.json.eventId}`);
    assert.equal(
      viewerRun.json.steps[0].attemptDetails[0].request.headers['content-type'],
      '[hidden]',
      'header values are for admins only',
    );
    const stored = JSON.stringify(await queryHub(environment, 'select request from step_attempts'));
    assert.ok(!stored.includes(SINK_TOKEN), 'the secret is not stored in traces');
  });

  test('finding 7: returnTo stays on the hub; a link alone cannot start a connect flow', async () => {
    for (const bad of ['/\\evil.example', 'https://evil.example/x', '//evil.example', '/ok\tthen', '/\\/evil.example']) {
      const res = await owner.call('POST', '/api/v1/connections/crm/authorize', { returnTo: bad });
      assert.equal(res.status, 400, `returnTo ${JSON.stringify(bad)} answered ${res.status}`);
      assert.equal(res.json.error.code, 'invalid_return_to');
    }
    assert.equal((await owner.call('POST', '/api/v1/connections/crm/authorize', { returnTo: '/connections' })).status, 200);
    const link = await owner.call('GET', '/oauth/oauth2/start?connection=crm&returnTo=%2Fconnections');
    assert.equal(link.status, 405, 'GET start (a link from anywhere) no longer starts anything');
    assert.equal(
      (await owner.call('POST', '/oauth/oauth2/start', { connection: 'crm' }, { csrf: false })).status,
      403,
      'POST start needs the CSRF token',
    );
    const started = await owner.call('POST', '/oauth/oauth2/start', { connection: 'crm', returnTo: '/connections' });
    assert.equal(started.status, 303);
    assert.match(started.headers.get('location')!, /^https:\/\/auth\.example\/authorize\?/);
  });

  test('finding 8: the state works once and in time on every path, and only in the session that started it', async () => {
    const begin = async () =>
      new URL((await owner.call('POST', '/api/v1/connections/crm/authorize', {})).json.authorizeUrl).searchParams.get('state')!;
    const before = (
      await queryHub<{ status: string; last_error: string | null }>(
        environment,
        "select status, last_error from connections where id = 'crm'",
      )
    )[0]!;
    const state = await begin();
    const evil = `/oauth/oauth2/callback?state=${encodeURIComponent(state)}&error=access_denied&error_description=EVIL`;
    const stranger = await new Client(hub.url!).call('GET', evil);
    assert.equal(stranger.status, 400, 'another browser cannot use the state');
    assert.equal(stranger.json.error.code, 'invalid_state');
    assert.equal(
      (await queryHub<{ status: string }>(environment, "select status from connections where id = 'crm'"))[0]!.status,
      before.status,
      'the stranger changed nothing',
    );
    assert.equal((await owner.call('GET', evil)).json.error.code, 'access_denied', "the starting session gets the provider's answer");
    const replay = await owner.call('GET', evil);
    assert.equal(replay.json.error.code, 'invalid_state', 'a used state is refused on the error path too');

    const old = await begin();
    await queryHub(environment, "update oauth_states set created_at = now() - interval '11 minutes' where state = $1", [old]);
    const expired = await owner.call(
      'GET',
      `/oauth/oauth2/callback?state=${encodeURIComponent(old)}&error=server_error&error_description=EVIL`,
    );
    assert.equal(expired.json.error.code, 'invalid_state', 'an expired state is refused on the error path');
    const after = (
      await queryHub<{ status: string; last_error: string | null }>(
        environment,
        "select status, last_error from connections where id = 'crm'",
      )
    )[0]!;
    assert.ok(!String(after.last_error ?? '').includes('server_error'), 'the refused answers changed nothing');
  });

  test('finding 5: 30 parallel wrong passwords check at most 5; growing delay, not a 15-minute lockout', async () => {
    const email = 'victim@example.com';
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        new Client(hub.url!).call('POST', '/api/v1/auth/login', { email, password: `guess-${i}-wrong` }),
      ),
    );
    const checked = answers.filter((a) => a.status === 401).length;
    assert.ok(checked <= 5, `${checked} passwords were checked`);
    assert.equal(checked + answers.filter((a) => a.status === 429).length, 30);
    const limited = answers.find((a) => a.status === 429)!;
    assert.ok(limited.json.error.retryAfterSeconds <= 30, `the first delay is short (${limited.json.error.retryAfterSeconds} s)`);
  });

  test('finding 5: one recovery code signs in once under 5 concurrent sign-ins', async () => {
    const user = { email: 'twofa@example.com', password: 'two factor password long' };
    assert.equal((await owner.call('POST', '/api/v1/users', { ...user, role: 'admin' })).status, 201);
    const c = new Client(hub.url!);
    assert.equal((await c.call('POST', '/api/v1/auth/login', user)).status, 200);
    const { secret } = (await c.call('POST', '/api/v1/auth/2fa/setup')).json;
    const enabled = await c.call('POST', '/api/v1/auth/2fa/enable', { code: generateSync({ secret }) });
    assert.equal(enabled.status, 200, JSON.stringify(enabled.json));
    const code = enabled.json.recoveryCodes[0];
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => new Client(hub.url!).call('POST', '/api/v1/auth/login', { ...user, code })),
    );
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 401, 401, 401, 401]);
  });

  test('finding 15: /metrics needs its token; /index.html has the UI headers; unknown webhook ids answer like a bad signature', async () => {
    assert.equal((await fetch(`${hub.url}/metrics`)).status, 401);
    assert.equal((await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status, 200);
    const index = await fetch(`${hub.url}/index.html`);
    assert.equal(index.headers.get('x-frame-options'), 'DENY');
    assert.match(index.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    const unknown = await fetch(`${hub.url}/webhooks/trello/no-such-connection`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-trello-webhook': 'AAAA' },
      body: '{}',
    });
    assert.equal(unknown.status, 401);
    assert.equal(((await unknown.json()) as any).error.code, 'signature_invalid');
    assert.equal(
      (await fetch(`${hub.url}/webhooks/trello/no-such-connection`, { method: 'HEAD' })).status,
      200,
      'a check answers as for a real connection',
    );
  });

  test('PDPO: DINGBRIDGE_ADMIN_ALLOW refuses the admin API and UI elsewhere (audited); webhooks and catch hooks stay open', async () => {
    const away = { 'x-forwarded-for': '203.0.113.9' };
    const api = await admin.call('GET', '/api/v1/flows', undefined, away);
    assert.equal(api.status, 403);
    assert.equal(api.json.error.code, 'network_not_allowed');
    const signIn = await new Client(hub.url!).call('POST', '/api/v1/auth/login', OWNER, { headers: away });
    assert.equal(signIn.status, 403);
    const ui = await fetch(`${hub.url}/flows`, { headers: { accept: 'text/html', ...away } });
    assert.equal(ui.status, 403);
    const hook = await fetch(`${hub.url}/hooks/catch/nope`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...away },
      body: '{}',
    });
    assert.notEqual(hook.status, 403, 'catch hooks stay open');
    const audited = await queryHub(environment, "select action from audit_log where ip = '203.0.113.9' and outcome = 'denied'");
    assert.ok(
      audited.some((a) => a.action === 'auth.sign_in_refused_network'),
      JSON.stringify(audited),
    );
    assert.ok(audited.some((a) => a.action === 'admin.network_refused'));
  });

  test('PDPO: the Security page data recommends two owners and shows 2FA; requiring 2FA signs out sessions without it', async () => {
    const sec = await owner.call('GET', '/api/v1/security');
    assert.equal(sec.json.owners, 1);
    assert.match(sec.json.recommendation, /second owner/);
    assert.deepEqual(sec.json.users.find((u: any) => u.email === 'twofa@example.com').twoFactor, true);
    assert.equal((await viewer.call('GET', '/api/v1/auth/status')).json.user.email, VIEWER.email);
    const on = await owner.call('PUT', '/api/v1/security', { require2fa: true });
    assert.equal(on.status, 200);
    assert.equal((await viewer.call('GET', '/api/v1/auth/status')).json.user, null, 'the viewer without 2FA is signed out');
    assert.equal(
      (await owner.call('GET', '/api/v1/auth/status')).json.needsTwoFactorSetup,
      true,
      'the owner who turned it on stays, to set 2FA up',
    );
    assert.equal((await admin.call('PUT', '/api/v1/security', { require2fa: false })).status, 200);
  });
});

describe('security finding 4 without an admin token: the one-time setup code', {
  skip: available.postgres ? false : 'needs PostgreSQL',
}, () => {
  let environment: Environment;
  let hub: Hub;
  before(async () => {
    environment = await prepareEnvironment({ name: 'setup-code', store: 'external', queue: 'postgres' }, 'setup-code');
    delete environment.env.DINGBRIDGE_ADMIN_TOKEN;
    hub = await startTestHub(environment);
  });
  after(async () => {
    await hub?.stop();
    await environment?.cleanup();
  });

  test('with DINGBRIDGE_ADMIN_TOKEN unset, the status asks for the code (the admin-token case is in tests/accounts.test.ts)', async () => {
    assert.equal((await new Client(hub.url!).call('GET', '/api/v1/auth/status')).json.setupProof, 'setup_code');
  });

  test('setup needs the code printed in the log at start; it works once', async () => {
    const code = await waitUntil(
      () => /"setupCode":"([A-Z0-9-]+)"/.exec(fs.readFileSync(environment.logFile, 'utf8'))?.[1],
      'the setup code in the log',
      30_000,
    );
    const c = new Client(hub.url!);
    assert.equal((await c.call('GET', '/api/v1/auth/status')).json.setupProof, 'setup_code');
    assert.equal((await c.call('POST', '/api/v1/auth/setup', OWNER)).status, 403, 'no code, no owner');
    assert.equal((await c.call('POST', '/api/v1/auth/setup', { ...OWNER, setupCode: 'AAAAA-BBBBB-CCCCC-DDDDD' })).status, 403);
    const both = await Promise.all([
      new Client(hub.url!).call('POST', '/api/v1/auth/setup', { ...OWNER, setupCode: code.toLowerCase() }),
      new Client(hub.url!).call('POST', '/api/v1/auth/setup', {
        email: 'second@example.com',
        password: 'another long password',
        setupCode: code,
      }),
    ]);
    assert.deepEqual(both.map((b) => b.status).sort(), [201, 409], 'one owner, and the code is used up');
    assert.equal((await queryHub(environment, "select 1 from hub_settings where key = 'setup_code'")).length, 0);
  });
});
