import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFeedFake, DEFAULT_FEED_TOKEN, type FeedState } from '../sandbox/feed/index.ts';
import type { RunningFake } from '../sandbox/framework/index.ts';
import {
  ROOT,
  TEST_ADMIN_TOKEN,
  prepareEnvironment,
  spawnHub,
  waitUntil,
  writeConfig,
  tempDir,
  type Environment,
  type HubProcess,
} from './helpers/hub.ts';
import { queryHub } from './helpers/hub-db.ts';
import { services } from './helpers/services.ts';
import { startSink, type Sink } from './helpers/sink.ts';

/**
 * A polling trigger with a stored cursor (core/triggers/pollers.ts) against the feed fake, through a
 * hub process that is killed with SIGKILL and started again: no item is skipped or stored twice, and
 * a cursor the provider refuses makes a full resync that emits only what really changed.
 */
const ENTRY = path.join(ROOT, 'tests/fixtures/feed-hub.ts');
const available = await services();

const CONFIG = `
version: 1
connections:
  - id: feed1
    connector: feed
    settings: { baseUrl: "\${FEED_URL}" }
    secrets: { token: "\${FEED_TOKEN}" }
flows:
  - id: feed-to-sink
    when: { event: "feed.item.*", source: feed1, params: { pollInterval: 1s } }
    then:
      - action: http.post
        input:
          url: \${SINK_URL}
          body: '{ "id": "{{ data.item.id }}", "version": {{ data.item.version }}, "type": "{{ type }}" }'
`;

interface Delivery {
  id: string;
  version: number;
  type: string;
  webhookId: string;
}
const deliveries = (sink: Sink): Delivery[] =>
  sink.requests.map((r) => ({ ...(r.json as Omit<Delivery, 'webhookId'>), webhookId: String(r.headers['webhook-id']) }));
/** Distinct deliveries: a step retried after a crash resends with the same webhook-id, which a receiver drops. */
const distinct = (sink: Sink) => [...new Map(deliveries(sink).map((d) => [d.webhookId, d])).values()];

async function feedPost(feed: RunningFake<FeedState>, method: string, p: string, body?: unknown) {
  const res = await fetch(`${feed.baseUrl()}/__sandbox/feed${p}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json() as Promise<any>;
}

describe('polling trigger with a stored cursor (external PostgreSQL, BullMQ on Redis)', {
  timeout: 3_600_000,
  skip: !(available.postgres && available.redis) ? 'needs the test services' : false,
}, () => {
  let feed: RunningFake<FeedState>;
  let sink: Sink;
  let environment: Environment;
  let hub: HubProcess | undefined;
  const start = async () => {
    hub = await spawnHub(environment, ['serve'], { entry: ENTRY });
    return hub;
  };
  const api = async (method: string, p: string) => {
    const res = await fetch(`${hub!.url}${p}`, { method, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    return { status: res.status, json: (await res.json()) as any };
  };
  const pollerRow = async () =>
    (
      await queryHub<{ id: string; cursor: string | null; last_resync_at: Date | null; status: string }>(
        environment,
        'select id, cursor, last_resync_at, status from trigger_pollers',
      )
    )[0];

  before(async () => {
    feed = await startFeedFake();
    sink = await startSink();
    const dir = tempDir('poll-config');
    environment = await prepareEnvironment({ name: 'scale-out', store: 'external', queue: 'redis' }, 'poll', {
      DINGBRIDGE_CONFIG: writeConfig(dir, CONFIG),
      FEED_URL: feed.baseUrl(),
      FEED_TOKEN: DEFAULT_FEED_TOKEN,
      SINK_URL: sink.url,
      FEED_CHANNELS: 'off',
      DINGBRIDGE_STEP_ATTEMPTS: '8',
      DINGBRIDGE_WORKER_CONCURRENCY: '32',
    });
  });
  after(async () => {
    await hub?.kill('SIGKILL');
    await sink?.close();
    await feed?.stop();
    await environment?.cleanup();
  });

  // 10,000 items: in each of 5 rounds 1,000 arrive while the hub runs, it is killed with SIGKILL once it
  // has committed a poll of them (more pages waiting, steps running), 1,000 more arrive while it is
  // down, and it is started again. (One test per round: each stays within the runner's per-test limit.)
  let added = 0;
  for (let round = 1; round <= 5; round += 1) {
    test(`round ${round} of 5: 1,000 items while the hub runs, SIGKILL mid-poll, 1,000 while it is down, restart`, async () => {
      await feedPost(feed, 'POST', '/items', { count: 1000 });
      added += 1000;
      const cursor = hub ? ((await pollerRow())?.cursor ?? null) : null;
      if (!hub) await start();
      await waitUntil(async () => (await pollerRow())?.cursor !== cursor, `a poll of round ${round}`, 300_000, 100);
      await hub!.kill('SIGKILL');
      await feedPost(feed, 'POST', '/items', { count: 1000 });
      added += 1000;
      await start();
    });
  }

  test('after 5 kills and restarts every one of the 10,000 items reaches the sink exactly once', async () => {
    assert.equal(added, 10_000);
    await waitUntil(() => new Set(distinct(sink).map((d) => d.id)).size >= 10_000, 'every item at the sink', 540_000, 500);
    // Let stragglers (a second delivery would be a bug) arrive, then count.
    await waitUntil(
      async () =>
        (await queryHub<{ n: number }>(environment, "select count(*)::int as n from step_runs where status <> 'succeeded'"))[0]!.n === 0,
      'every step finished',
      120_000,
      500,
    );

    const got = distinct(sink);
    assert.equal(got.length, 10_000, 'no item delivered twice (retries keep their webhook-id)');
    const ids = new Set(got.map((d) => d.id));
    assert.equal(ids.size, 10_000);
    for (let n = 1; n <= 10_000; n += 1) assert.ok(ids.has(`item-${String(n).padStart(6, '0')}`), `item ${n} delivered`);
    const stored = await queryHub<{ n: number }>(environment, "select count(*)::int as n from events where type = 'feed.item.changed'");
    assert.equal(stored[0]!.n, 10_000, 'each item stored once');
    const state = await feedPost(feed, 'GET', '/state');
    assert.equal((await pollerRow())!.cursor, state.cursor, "the saved cursor is the feed's latest");
  });

  test('a cursor the provider refuses: a full resync emits only the items that changed, deletions included', async () => {
    const poller = (await pollerRow())!;
    await hub!.kill('SIGKILL');
    const before = distinct(sink).length;
    const changed = Array.from({ length: 30 }, (_, i) => `item-${String(101 + i * 7).padStart(6, '0')}`);
    const removed = Array.from({ length: 20 }, (_, i) => `item-${String(5001 + i * 11).padStart(6, '0')}`);
    assert.equal((await feedPost(feed, 'PATCH', '/items', { ids: changed, name: 'renamed' })).changed.length, 30);
    assert.equal((await feedPost(feed, 'DELETE', '/items', { ids: removed })).deleted.length, 20);
    await feedPost(feed, 'POST', '/items', { count: 10, prefix: 'late' });
    await feedPost(feed, 'POST', '/invalidate-cursors');
    await start();

    await waitUntil(async () => (await pollerRow())?.last_resync_at, 'the resync', 120_000, 250);
    await waitUntil(() => distinct(sink).length >= before + 60, "the resync's events at the sink", 120_000, 250);
    await waitUntil(
      async () =>
        (await queryHub<{ n: number }>(environment, "select count(*)::int as n from step_runs where status <> 'succeeded'"))[0]!.n === 0,
      'every step finished',
      120_000,
      500,
    );
    const fresh = distinct(sink).slice(before);
    assert.equal(fresh.length, 60, `only real changes: ${JSON.stringify(fresh.slice(0, 5))}…`);
    assert.deepEqual(
      fresh
        .filter((d) => d.type === 'feed.item.changed' && d.version === 2)
        .map((d) => d.id)
        .sort(),
      changed.sort(),
    );
    assert.deepEqual(
      fresh
        .filter((d) => d.type === 'feed.item.deleted')
        .map((d) => d.id)
        .sort(),
      removed.sort(),
    );
    assert.equal(fresh.filter((d) => d.id.startsWith('late-')).length, 10);

    // The Triggers API shows the poller; "resync" with nothing changed emits nothing, "poll now" polls.
    const list = await api('GET', '/api/v1/triggers');
    assert.equal(list.status, 200);
    const row = list.json.triggers.find((t: any) => t.id === poller.id);
    assert.ok(row, 'the poller is listed');
    assert.deepEqual(Object.keys(row).slice(0, 9), [
      'id',
      'connector',
      'kind',
      'connection',
      'status',
      'expiresAt',
      'nextRunAt',
      'lastEventAt',
      'lastError',
    ]);
    assert.equal(row.kind, 'poll');
    assert.equal(row.connector, 'feed');
    assert.equal(row.connection, 'feed1');
    assert.equal(row.status, 'ok');
    assert.ok(row.lastResyncAt && row.lastPollAt && row.nextRunAt && row.lastEventAt);
    assert.equal(typeof row.cursorAgeMs, 'number');
    assert.ok(row.eventsLast24h >= 10_060);

    const resyncedAt = new Date((await pollerRow())!.last_resync_at!).getTime();
    assert.equal((await api('POST', `/api/v1/triggers/${poller.id}/resync`)).status, 202);
    await waitUntil(async () => new Date((await pollerRow())!.last_resync_at!).getTime() > resyncedAt, 'the requested resync', 60_000, 250);
    await feedPost(feed, 'POST', '/items', { count: 1, prefix: 'after' });
    assert.equal((await api('POST', `/api/v1/triggers/${poller.id}/poll`)).status, 202);
    await waitUntil(() => distinct(sink).some((d) => d.id.startsWith('after-')), 'the polled item', 60_000, 250);
    assert.equal(distinct(sink).length, before + 61, 'a resync with nothing changed emitted nothing');
    assert.equal((await api('POST', `/api/v1/triggers/${poller.id}/renew`)).status, 409);
    assert.equal((await api('POST', '/api/v1/triggers/poll_nope/poll')).status, 404);
  });
});
