import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Hub } from '../app/hub.ts';
import { UI_DIST } from '../config/ui/serve.ts';
import { connectors } from '../connectors/index.ts';
import { freePort } from '../core/net/free-port.ts';
import { startFeedFake, DEFAULT_FEED_TOKEN, type FeedState } from '../sandbox/feed/index.ts';
import type { RunningFake } from '../sandbox/framework/index.ts';
import feedConnector from './fixtures/feed-connector.ts';
import {
  ARTIFACTS,
  prepareEnvironment,
  startTestHub,
  TEST_ADMIN_TOKEN,
  tempDir,
  waitUntil,
  writeConfig,
  type Environment,
} from './helpers/hub.ts';
import { queryHub } from './helpers/hub-db.ts';
import { services } from './helpers/services.ts';

/**
 * The Triggers page in Chromium: an admin sees the poller and the push channel of a flow with their
 * next poll / renewal, and "Poll now" and "Renew" do what they say; the page speaks Chinese too.
 */
if (!connectors.some((c) => c.id === 'feed')) connectors.push(feedConnector); // registered for this test process only
const CHROMIUM = '/usr/bin/chromium';
const available = await services();
const haveBrowser = fs.existsSync(CHROMIUM);
const haveUi = fs.existsSync(path.join(UI_DIST, 'index.html'));
if (process.env.CI === 'true' && (!haveBrowser || !haveUi)) throw new Error('CI needs Chromium and the built UI (npm run build:ui)');
const skip =
  !available.postgres || !available.redis
    ? 'needs PostgreSQL and Redis'
    : !haveBrowser
      ? `needs ${CHROMIUM}`
      : !haveUi
        ? 'needs the built UI (npm run build:ui)'
        : false;
const SHOTS = path.join(ARTIFACTS, 'screenshots');

const CONFIG = `
version: 1
connections:
  - id: feed1
    connector: feed
    settings: { baseUrl: "\${FEED_URL}" }
    secrets: { token: "\${FEED_TOKEN}" }
flows:
  - id: feed-items
    when: { event: "feed.item.*", source: feed1, params: { pollInterval: 1h } }
    then:
      - action: http.post
        input: { url: "http://127.0.0.1:9/never", body: "{}" }
`;

describe('the Triggers page in Chromium', { skip, timeout: 900_000 }, () => {
  let feed: RunningFake<FeedState>;
  let environment: Environment;
  let hub: Hub;
  let browser: Browser;
  let page: Page;
  const control = async (method: string, p: string, body?: unknown) =>
    (
      await fetch(`${feed.baseUrl()}/__sandbox/feed${p}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    ).json() as Promise<any>;

  before(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    feed = await startFeedFake();
    const port = await freePort();
    environment = await prepareEnvironment({ name: 'ui', store: 'external', queue: 'redis' }, 'triggers-ui', {
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DINGBRIDGE_CONFIG: writeConfig(tempDir('triggers-ui'), CONFIG),
      FEED_URL: feed.baseUrl(),
      FEED_TOKEN: DEFAULT_FEED_TOKEN,
    });
    hub = await startTestHub(environment);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 860 }, locale: 'en-GB' });
    page = await context.newPage();
    // First-run owner through the API (guarded: this hub has DINGBRIDGE_ADMIN_TOKEN); the session cookie is the browser context's.
    const setup = await page.request.post(`${hub.url}/api/v1/auth/setup`, {
      data: { email: 'owner@example.com', password: 'owner password 123', name: 'Owner', setupCode: TEST_ADMIN_TOKEN },
    });
    assert.equal(setup.status(), 201, await setup.text());
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
    await feed?.stop();
    await environment?.cleanup();
  });

  test('the poller and the push channel with their next poll and renewal; Poll now and Renew work; in Chinese too', async () => {
    await waitUntil(
      async () =>
        (await queryHub(environment, "select 1 from trigger_subscriptions where status = 'active'")).length === 1 &&
        (await queryHub(environment, 'select 1 from trigger_pollers where last_poll_at is not null')).length === 1,
      'the channel and the first poll',
      60_000,
    );
    await page.goto(`${hub.url}/triggers`);
    await page.getByRole('heading', { name: 'Triggers' }).waitFor();
    const poll = page.locator('tr[data-kind="poll"]');
    const sub = page.locator('tr[data-kind="subscription"]');
    await poll.waitFor();
    assert.match(await poll.innerText(), /Polling/);
    assert.match(await poll.innerText(), /feed1/);
    assert.ok(await poll.locator('[data-field="nextRunAt"] time').count(), 'the next poll is shown');
    assert.ok(await sub.locator('[data-field="nextRunAt"] time').count(), 'the next renewal is shown');
    assert.ok(await sub.locator('[data-field="expiresAt"] time').count(), 'the expiry is shown');
    await page.screenshot({ path: path.join(SHOTS, 'triggers-desktop.png'), fullPage: true });

    // Poll now: an item added to the feed arrives without waiting for the hour.
    await control('POST', '/items', { count: 1, prefix: 'ui' });
    await poll.getByRole('button', { name: 'Poll now' }).click();
    await page.getByRole('status').filter({ hasText: 'Poll requested' }).waitFor();
    await waitUntil(
      async () =>
        (await queryHub(environment, "select 1 from events where type = 'feed.item.changed' and data->'item'->>'id' like 'ui-%'"))
          .length === 1,
      'the polled item stored',
      60_000,
    );

    // Renew: a new channel, the old one stopped.
    const before = (await control('GET', '/state')).channels.length;
    await sub.getByRole('button', { name: 'Renew' }).click();
    await page.getByRole('status').filter({ hasText: 'Renewal requested' }).waitFor();
    await waitUntil(
      async () => {
        const s = await control('GET', '/state');
        return s.channels.length === before + 1 && s.channels.slice(0, -1).every((c: { stopped: boolean }) => c.stopped);
      },
      'a new channel and the old one stopped',
      60_000,
    );

    await page.getByLabel('Language').first().selectOption('zh-CN');
    await page.getByRole('heading', { name: '触发器' }).waitFor();
    assert.ok(await page.locator('tr[data-kind="poll"]').getByRole('button', { name: '立即轮询' }).count());
    await page.getByLabel('语言').first().selectOption('zh-HK');
    await page.getByRole('heading', { name: '觸發器' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'triggers-zh-HK-desktop.png'), fullPage: true });
  });
});
