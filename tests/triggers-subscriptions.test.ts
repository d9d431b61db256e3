import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import path from 'node:path';
import type { Hub } from '../app/hub.ts';
import { freePort } from '../core/net/free-port.ts';
import { startFeedFake, DEFAULT_FEED_TOKEN, type FeedState } from '../sandbox/feed/index.ts';
import type { RunningFake } from '../sandbox/framework/index.ts';
import { api } from './helpers/api.ts';
import { ROOT, prepareEnvironment, spawnHub, tempDir, waitUntil, writeConfig, type Environment, type HubProcess } from './helpers/hub.ts';
import { queryHub } from './helpers/hub-db.ts';
import { services } from './helpers/services.ts';
import { startSink, type Sink } from './helpers/sink.ts';

/**
 * Subscription lifecycle v2 and app-level webhooks, with the tests' feed connector against the feed
 * fake: push channels that expire every 2 s are renewed (new first, then the old one stopped) under
 * load without losing a notification; one URL for an app's connections routes each event to its own.
 */
// The hub runs as its own process with the test-only feed connector registered (tests/fixtures/feed-hub.ts),
// apart from the fake, the sink and the load, which share this test's event loop.
const ENTRY = path.join(ROOT, 'tests/fixtures/feed-hub.ts');

const available = await services();
const APP_SECRET = 'feed-app-secret-shared-by-the-app';

const CONFIG = `
version: 1
connections:
  - id: feed1
    connector: feed
    settings: { baseUrl: "\${FEED_URL}" }
    secrets: { token: "\${FEED_TOKEN}" }
${['a', 'b', 'c']
  .map(
    (x) => `  - id: shop-${x}
    connector: feed
    settings: { baseUrl: "\${FEED_URL}", accountId: "acct-${x}" }
    secrets: { token: "\${FEED_TOKEN}", appSecret: "${APP_SECRET}" }`,
  )
  .join('\n')}
flows:
  - id: feed-to-sink
    when: { event: "feed.item.*", source: feed1, params: { pollInterval: 1h } }
    then:
      - action: http.post
        input:
          url: \${SINK_URL}
          body: '{ "id": "{{ data.item.id }}", "version": {{ data.item.version }} }'
`;

async function control(feed: RunningFake<FeedState>, method: string, p: string, body?: unknown): Promise<any> {
  const res = await fetch(`${feed.baseUrl()}/__sandbox/feed${p}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}
const distinctIds = (sink: Sink) => {
  const byHook = new Map(sink.requests.map((r) => [String(r.headers['webhook-id']), (r.json as { id: string }).id]));
  return { deliveries: byHook.size, ids: new Set(byHook.values()) };
};

describe('subscriptions v2 and app-level webhooks (external PostgreSQL, BullMQ on Redis)', {
  timeout: 1_800_000,
  skip: !(available.postgres && available.redis) ? 'needs the test services' : false,
}, () => {
  let feed: RunningFake<FeedState>;
  let sink: Sink;
  let environment: Environment;
  let hubProcess: HubProcess;
  let hub: Hub; // what the api() helper needs: the URL

  before(async () => {
    feed = await startFeedFake();
    sink = await startSink();
    await control(feed, 'PUT', '/settings', { channelTtlMs: 2000 });
    const port = await freePort();
    environment = await prepareEnvironment({ name: 'scale-out', store: 'external', queue: 'redis' }, 'subs', {
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DINGBRIDGE_CONFIG: writeConfig(tempDir('subs-config'), CONFIG),
      FEED_URL: feed.baseUrl(),
      FEED_TOKEN: DEFAULT_FEED_TOKEN,
      SINK_URL: sink.url,
      DINGBRIDGE_SWEEP_INTERVAL_MS: '300',
      DINGBRIDGE_WORKER_CONCURRENCY: '16',
      FEED_RENEW_BEFORE_MS: '1500', // the feed connector renews its 2 s channels 1.5 s before they expire
    });
    hubProcess = await spawnHub(environment, ['serve'], { entry: ENTRY });
    hub = { url: hubProcess.url } as Hub;
  });
  after(async () => {
    await hubProcess?.kill('SIGTERM');
    await sink?.close();
    await feed?.stop();
    await environment?.cleanup();
  });

  test('a channel that expires every 2 s, renewed 50 times under load: no notification lost, old channels stopped, next renewal shown', async (t) => {
    await waitUntil(async () => (await control(feed, 'GET', '/state')).channels.length >= 1, 'the first channel', 60_000);
    let added = 0;
    let loading = true;
    const load = (async () => {
      while (loading) {
        await control(feed, 'POST', '/items', { count: 1 });
        added += 1;
        await new Promise((r) => setTimeout(r, 100)); // ~10 changes a second, each notified on every live channel
      }
    })();
    try {
      await waitUntil(async () => (await control(feed, 'GET', '/state')).channels.length >= 51, '50 renewals', 400_000, 500);
    } finally {
      loading = false;
      await load;
    }
    await waitUntil(
      () => distinctIds(sink).ids.size >= added,
      `all ${added} items at the sink (got ${distinctIds(sink).ids.size})`,
      180_000,
      500,
    );
    await waitUntil(async () => (await control(feed, 'GET', '/state')).deliveries.pending === 0, 'every notification answered', 60_000);

    const state = await control(feed, 'GET', '/state');
    assert.deepEqual(state.deliveries.failed, [], 'every notification (late ones on renewed-away channels included) was accepted');
    // How often a renewal came too late (no live channel at a change): the poller's cursor still
    // brings those changes with the next notification's poll (the sink check above and below).
    t.diagnostic(`changes made while no channel was live: ${state.changesWithoutChannel} of ${added}`);
    assert.ok(state.deliveries.total >= added, 'a notification per change');
    const { deliveries, ids } = distinctIds(sink);
    assert.equal(ids.size, added);
    assert.equal(deliveries, added, 'each item delivered once');
    // Every channel but the newest two (the current one, and one mid-renewal) was stopped by the hub.
    const channels = state.channels as Array<{ id: string; stopped: boolean }>;
    const unstopped = channels.slice(0, -2).filter((c) => !c.stopped);
    assert.deepEqual(unstopped, [], 'old channels are stopped');

    const list = await api(hub, 'GET', '/api/v1/triggers');
    assert.equal(list.status, 200);
    const sub = list.json.triggers.find((t: any) => t.kind === 'subscription' && t.connection === 'feed1');
    assert.ok(sub, 'the subscription is listed');
    assert.equal(sub.status, 'active');
    assert.ok(sub.expiresAt && sub.nextRunAt && sub.renewedAt && sub.lastNotificationAt);
    assert.equal(new Date(sub.expiresAt).getTime() - new Date(sub.nextRunAt).getTime(), 1500, 'the next renewal is 1.5 s before expiry');
    assert.ok(
      list.json.triggers.some((t: any) => t.kind === 'poll' && t.connection === 'feed1'),
      'its poller is listed too',
    );
    for (const x of ['a', 'b', 'c'])
      assert.ok(list.json.triggers.some((t: any) => t.kind === 'webhook' && t.connection === `shop-${x}` && t.trigger === 'feed.app'));

    // A notification with a wrong token is refused; one for an unknown channel too.
    const current = channels.at(-1)!;
    const bad = await fetch(`${hub.url}/webhooks/feed/feed1`, {
      method: 'POST',
      headers: { 'x-goog-channel-id': current.id, 'x-goog-channel-token': 'wrong', 'x-goog-resource-state': 'exists' },
    });
    assert.equal(bad.status, 401);
    const unknown = await fetch(`${hub.url}/webhooks/feed/feed1`, {
      method: 'POST',
      headers: { 'x-goog-channel-id': 'no-such-channel', 'x-goog-channel-token': 'x', 'x-goog-resource-state': 'exists' },
    });
    assert.equal(unknown.status, 404);

    // "renew" on demand: a new channel, the old one stopped.
    const count = channels.length;
    const renew = await api(hub, 'POST', `/api/v1/triggers/${sub.id}/renew`);
    assert.equal(renew.status, 202);
    await waitUntil(async () => (await control(feed, 'GET', '/state')).channels.length > count, 'the requested renewal', 30_000);
  });

  test('an app-level webhook for 3 connections of one app: each event reaches only its connection; a bad signature is 401 and nothing is stored', async () => {
    const url = `${hub.url}/webhooks/feed`;
    for (const x of ['a', 'b', 'c']) {
      const sent = await control(feed, 'POST', '/app-webhook', {
        url,
        secret: APP_SECRET,
        accountId: `acct-${x}`,
        events: [
          { id: `ev-${x}-1`, name: `first of ${x}` },
          { id: `ev-${x}-2`, name: `second of ${x}` },
        ],
      });
      assert.equal(sent.status, 200, sent.body);
    }
    const rows = await queryHub<{ connection_id: string; data: { accountId: string; id: string } }>(
      environment,
      "select connection_id, data from events where type = 'feed.app.event' order by connection_id, data->>'id'",
    );
    assert.deepEqual(
      rows.map((r) => [r.connection_id, r.data.accountId, r.data.id]),
      [
        ['shop-a', 'acct-a', 'ev-a-1'],
        ['shop-a', 'acct-a', 'ev-a-2'],
        ['shop-b', 'acct-b', 'ev-b-1'],
        ['shop-b', 'acct-b', 'ev-b-2'],
        ['shop-c', 'acct-c', 'ev-c-1'],
        ['shop-c', 'acct-c', 'ev-c-2'],
      ],
    );

    const forged = await control(feed, 'POST', '/app-webhook', {
      url,
      secret: APP_SECRET,
      accountId: 'acct-b',
      events: [{ id: 'ev-forged', name: 'forged' }],
      badSignature: true,
    });
    assert.equal(forged.status, 401);
    assert.equal(JSON.parse(forged.body).error.code, 'invalid_signature');
    const unrouted = await control(feed, 'POST', '/app-webhook', {
      url,
      secret: APP_SECRET,
      accountId: 'acct-unknown',
      events: [{ id: 'ev-x', name: 'x' }],
    });
    assert.equal(unrouted.status, 404);
    const after = await queryHub<{ n: number }>(environment, "select count(*)::int as n from events where type = 'feed.app.event'");
    assert.equal(after[0]!.n, 6, 'nothing stored for a forged or unrouted request');
    // A repeat is acknowledged and stored once.
    assert.equal(
      (
        await control(feed, 'POST', '/app-webhook', {
          url,
          secret: APP_SECRET,
          accountId: 'acct-a',
          events: [{ id: 'ev-a-1', name: 'first of a' }],
        })
      ).status,
      200,
    );
    assert.equal(
      (await queryHub<{ n: number }>(environment, "select count(*)::int as n from events where type = 'feed.app.event'"))[0]!.n,
      6,
    );
  });

  test('a poller that keeps failing is shown as failed with its error and tells the admins (hub.trigger.failed); it recovers by itself', async () => {
    const poller = (await queryHub<{ id: string }>(environment, "select id from trigger_pollers where connection_id = 'feed1'"))[0]!;
    const fault = await fetch(`${feed.baseUrl()}/__sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'status', status: 503, path: '^/v1/changes$', method: 'GET', forMs: 600_000 }),
    });
    assert.equal(fault.status, 201);
    for (let n = 1; n <= 3; n += 1) {
      assert.equal((await api(hub, 'POST', `/api/v1/triggers/${poller.id}/poll`)).status, 202);
      await waitUntil(
        async () =>
          (await queryHub<{ failures: number }>(environment, 'select failures from trigger_pollers where id = $1', [poller.id]))[0]!
            .failures >= n,
        `failed poll ${n}`,
        60_000,
      );
    }
    const row = (await api(hub, 'GET', '/api/v1/triggers')).json.triggers.find((t: any) => t.id === poller.id);
    assert.equal(row.status, 'error');
    assert.match(row.lastError, /503/);
    const failed = await queryHub<{ data: { kind: string; id: string; reason: string; connection: { id: string } } }>(
      environment,
      "select data from events where type = 'hub.trigger.failed' and data->>'id' = $1",
      [poller.id],
    );
    assert.equal(failed.length, 1, 'the admins are told once');
    assert.equal(failed[0]!.data.kind, 'poll');
    assert.equal(failed[0]!.data.id, poller.id);
    assert.equal(failed[0]!.data.connection.id, 'feed1');
    assert.match(failed[0]!.data.reason, /503/);

    await fetch(`${feed.baseUrl()}/__sandbox/faults`, { method: 'DELETE' });
    assert.equal((await api(hub, 'POST', `/api/v1/triggers/${poller.id}/poll`)).status, 202);
    await waitUntil(
      async () =>
        (await queryHub<{ status: string }>(environment, 'select status from trigger_pollers where id = $1', [poller.id]))[0]!.status ===
        'ok',
      'the poller healthy again',
      60_000,
    );
  });
});
