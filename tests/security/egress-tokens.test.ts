import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startOAuth2Fake } from '../../sandbox/oauth2/index.ts';
import type { RunningFake } from '../../sandbox/framework/index.ts';
import { TEST_ADMIN_TOKEN, prepareEnvironment, startTestHub, waitUntil, type Environment } from '../helpers/hub.ts';
import { queryHub } from '../helpers/hub-db.ts';
import { services } from '../helpers/services.ts';
import type { Hub } from '../../app/hub.ts';

/**
 * Issue 11, finding 2: `oauth2.request` called fetch directly, so a flow could aim a connection's bearer
 * token at any URL (here a loopback listener). Now every call goes through the one egress path and a
 * generic connection's calls stay on the origins its admin declared.
 */
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

describe('tokens never leave the declared origins (issue 11, finding 2)', {
  skip: available.postgres && available.redis ? false : 'needs PostgreSQL and Redis',
}, () => {
  let fake: RunningFake<unknown>;
  let environment: Environment;
  let hub: Hub;
  let listener: http.Server;
  const received: { url: string; authorization?: string }[] = [];
  let listenerUrl = '';

  before(async () => {
    fake = (await startOAuth2Fake({ port: 0 })) as RunningFake<unknown>;
    listener = http.createServer((req, res) => {
      received.push({ url: req.url ?? '', authorization: req.headers.authorization });
      res.end('{"stolen":true}');
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
    listenerUrl = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
    // Nothing on loopback is allowed by the guard here: the sandbox is reached only because the admin declared it.
    environment = await prepareEnvironment({ name: 'egress-tokens', store: 'external', queue: 'redis' }, 'egress-tokens', {
      DINGBRIDGE_EGRESS_ALLOW: '',
    });
    hub = await startTestHub(environment);
  });
  after(async () => {
    await hub?.stop();
    await fake?.stop();
    await new Promise((r) => listener?.close(r));
    await environment?.cleanup();
  });

  test('an oauth2.request step aimed at a loopback listener never sends the token; the declared origin works', async () => {
    const created = await api(hub.url!, 'POST', '/api/v1/connections', {
      id: 'inhouse',
      connector: 'oauth2',
      label: 'In-house API',
      settings: {
        authorizationUrl: `${fake.baseUrl()}/oauth/authorize`,
        tokenUrl: `${fake.baseUrl()}/oauth/token`,
        apiBaseUrl: fake.baseUrl(),
        userinfoUrl: `${fake.baseUrl()}/oauth/userinfo`,
        clientId: 'sandbox-client',
        scopes: 'openid profile',
      },
      secrets: { clientSecret: 'sandbox-secret' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    // The code exchange goes through the egress path to the admin-declared token URL (allowed although on loopback).
    const start = await api(hub.url!, 'POST', '/api/v1/connections/inhouse/authorize', {});
    const atProvider = await fetch(start.json.authorizeUrl, { redirect: 'manual' });
    const callback = await fetch(atProvider.headers.get('location')!, { redirect: 'manual' });
    assert.equal(callback.status, 200, await callback.text());
    assert.equal(
      (await api(hub.url!, 'POST', '/api/v1/connections/inhouse/test')).status,
      200,
      'the connection test reaches the declared origin',
    );

    // The reproducer: a flow with an oauth2.request step at the listener, run through the flow test.
    for (const [id, url] of [
      ['steal', `${listenerUrl}/steal`],
      ['steal-v6', `http://[::ffff:127.0.0.1]:${new URL(listenerUrl).port}/x`],
      ['ok', `${fake.baseUrl()}/api/ping`],
    ] as const) {
      const flow = await api(hub.url!, 'POST', '/api/v1/flows', {
        id,
        when: { event: 'catch_hook.received' },
        then: [{ action: 'oauth2.request', connection: 'inhouse', input: { method: 'GET', url } }],
      });
      assert.equal(flow.status, 201, JSON.stringify(flow.json));
    }
    const outcome = async (flowId: string) => {
      const ran = await api(hub.url!, 'POST', `/api/v1/flows/${flowId}/test`, { data: {} });
      assert.equal(ran.status, 202, JSON.stringify(ran.json));
      return waitUntil(async () => {
        const rows = await queryHub<{ status: string; last_error: string | null; output: any }>(
          environment,
          'select status, last_error, output from step_runs where event_id = $1',
          [ran.json.eventId],
        );
        return rows[0] && ['dead', 'succeeded'].includes(rows[0].status) && rows[0];
      }, `flow ${flowId} finished`);
    };
    const stolen = await outcome('steal');
    assert.equal(stolen.status, 'dead', 'refused at once as a permanent error');
    assert.match(stolen.last_error ?? '', /not an allowed origin/);
    assert.ok(stolen.last_error!.includes(new URL(fake.baseUrl()).origin), 'the error names the allowed origin');
    assert.equal((await outcome('steal-v6')).status, 'dead');
    const ok = await outcome('ok');
    assert.equal(ok.status, 'succeeded', ok.last_error ?? '');
    assert.equal(received.length, 0, `the listener received ${JSON.stringify(received)}`);
  });
});
