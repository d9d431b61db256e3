import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { generateSync } from 'otplib';
import { startOAuth2Fake } from '../sandbox/oauth2/index.ts';
import type { RunningFake } from '../sandbox/framework/index.ts';
import {
  ARTIFACTS,
  TEST_ADMIN_TOKEN,
  prepareEnvironment,
  startTestHub,
  tempDir,
  waitUntil,
  writeConfig,
  type Environment,
} from './helpers/hub.ts';
import { startSink, type Sink } from './helpers/sink.ts';
import { services } from './helpers/services.ts';
import { queryHub } from './helpers/hub-db.ts';
import { UI_DIST } from '../config/ui/serve.ts';
import type { Hub } from '../app/hub.ts';

/**
 * The config UI end to end in Debian's Chromium (headless, through playwright-core): first-run setup,
 * 2FA, connecting a sandbox OAuth account, a flow from a recipe, a run that fails and is replayed,
 * what a viewer may not do, CSRF, and the audit log. Screenshots of each page, on a laptop and a
 * phone, go to test-artifacts/screenshots/.
 */
const CHROMIUM = '/usr/bin/chromium';
const available = await services();
const haveBrowser = fs.existsSync(CHROMIUM);
if (!haveBrowser && process.env.CI === 'true') throw new Error(`CI needs ${CHROMIUM} (apt-get install chromium)`);
const haveUi = fs.existsSync(path.join(UI_DIST, 'index.html'));
if (!haveUi && process.env.CI === 'true') throw new Error('the UI is not built: run npm run build:ui first');
const skip =
  !available.postgres || !available.redis
    ? 'needs PostgreSQL and Redis'
    : !haveBrowser
      ? `needs ${CHROMIUM}`
      : !haveUi
        ? 'needs the built UI (npm run build:ui)'
        : false;

const SHOTS = path.join(ARTIFACTS, 'screenshots');
const OWNER = { email: 'owner@example.com', password: 'owner password 123', name: 'Olivia Owner' };
const VIEWER = { email: 'viewer@example.com', password: 'viewer password 123' };
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };

describe('config UI in Chromium', { skip }, () => {
  let environment: Environment;
  let hub: Hub;
  let sink: Sink;
  let fake: RunningFake<unknown>;
  let browser: Browser;
  let owner: BrowserContext;
  let page: Page;
  let totpSecret = '';

  const shot = async (p: Page, name: string) => {
    await p.waitForLoadState('networkidle').catch(() => {});
    await p.evaluate(() => window.scrollTo(0, 0));
    await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  };
  const url = (p: string) => `${hub.url}${p}`;
  /** A test that leaves a screenshot of the page when it fails. */
  const step = (name: string, fn: () => Promise<void>) =>
    test(name, async () => {
      try {
        await fn();
      } catch (err) {
        await page
          ?.screenshot({ path: path.join(SHOTS, `FAILED-${name.slice(0, 40).replace(/[^a-z0-9]+/gi, '-')}.png`), fullPage: true })
          .catch(() => {});
        throw err;
      }
    });
  const postHook = (body: unknown) =>
    fetch(url('/hooks/catch/orders'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
      (r) => r.json() as Promise<{ id: string }>,
    );
  /** A code the hub has not accepted yet: each code works once, so the next one is of the following 30 s window (one window ahead is accepted). */
  let nextEpoch = 0;
  const freshCode = async () => {
    const epoch = Math.max(Math.floor(Date.now() / 1000), nextEpoch);
    nextEpoch = (Math.floor(epoch / 30) + 1) * 30;
    return generateSync({ secret: totpSecret, epoch });
  };

  before(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    sink = await startSink();
    fake = (await startOAuth2Fake({ port: 0 })) as RunningFake<unknown>;
    environment = await prepareEnvironment({ name: 'ui', store: 'external', queue: 'redis' }, 'ui');
    environment.env.DINGBRIDGE_CONFIG = writeConfig(tempDir('ui-config'), 'hooks:\n  - id: orders\n    name: Web orders\n');
    hub = await startTestHub(environment);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    owner = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB' });
    page = await owner.newPage();
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
    await fake?.stop();
    await sink?.close();
    await environment?.cleanup();
  });

  step('first-run setup → sign in → enable 2FA → sign out → sign in with a TOTP code', async () => {
    await page.goto(url('/'));
    await page.getByRole('heading', { name: 'Welcome to dingbridge' }).waitFor();
    await page.getByText('No account exists yet').waitFor(); // the page says no user exists
    // First-run setup is guarded: this hub has DINGBRIDGE_ADMIN_TOKEN, so the page asks for it.
    await page.getByLabel('Admin token').fill(TEST_ADMIN_TOKEN);
    await page.getByLabel('Your name').fill(OWNER.name);
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await shot(page, 'setup-desktop');
    await page.getByRole('button', { name: 'Create owner account' }).click();
    await page.getByRole('heading', { name: 'Flows' }).waitFor();
    await page.getByText('No flows yet').waitFor(); // an empty state tells the new admin what to do
    await shot(page, 'flows-empty-desktop');

    await page.getByRole('link', { name: 'Security & 2FA' }).click();
    await page.getByRole('button', { name: 'Set up 2FA' }).click();
    await page.locator('img.qr').waitFor();
    totpSecret = (await page.locator('.totp-secret').getAttribute('data-secret'))!;
    assert.match(totpSecret, /^[A-Z2-7]{16,}$/);
    await shot(page, 'security-2fa-qr-desktop');
    await page.getByLabel('Authentication code').fill(await freshCode());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Recovery codes' }).waitFor();
    assert.equal(await page.locator('.codes li').count(), 10);
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByText('Two-factor authentication is on').waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Authentication code').waitFor();
    await shot(page, 'signin-totp-desktop');
    await page.getByLabel('Authentication code').fill(await freshCode());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Flows' }).waitFor();
  });

  step('connect a sandbox OAuth account through the UI', async () => {
    await page.getByRole('link', { name: 'Connections' }).click();
    const card = page.locator('[data-connector="oauth2"]');
    await card.getByRole('button', { name: 'Add connection' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Label').fill('Sandbox CRM');
    await dialog.getByLabel('ID', { exact: true }).fill('crm');
    await dialog.getByLabel('Authorization URL').fill(`${fake.baseUrl()}/oauth/authorize`);
    await dialog.getByLabel('Token URL').fill(`${fake.baseUrl()}/oauth/token`);
    await dialog.getByLabel(/A URL to test/).fill(`${fake.baseUrl()}/oauth/userinfo`);
    await dialog.getByLabel(/Scopes/).fill('openid profile');
    await dialog.getByLabel('Client ID').fill('sandbox-client');
    await dialog.getByLabel(/Client secret/).fill('sandbox-secret');
    assert.equal(await dialog.getByLabel(/Client secret/).getAttribute('type'), 'password');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.locator('[data-connection="crm"]').waitFor();

    await page.locator('[data-connection="crm"]').getByRole('button', { name: 'Connect account' }).click();
    await page.waitForURL(/\/connections\?connected=crm/);
    await page.getByText('Connected: crm').waitFor();
    await page.locator('[data-connection="crm"] [data-status="active"]').waitFor();
    await page.locator('[data-connection="crm"]').getByRole('button', { name: 'Test connection' }).click();
    await page.getByText('The connection works.').waitFor();
    const html = await page.content();
    assert.equal(html.includes('sandbox-secret'), false, 'no secret reaches the browser');
    await shot(page, 'connections-desktop');

    // The provider revoked the grant: a banner says so, and Reconnect runs the connect flow again.
    await queryHub(
      environment,
      "update connections set status = 'needs_reauth', last_error = 'refresh failed: invalid_grant' where id = 'crm'",
    );
    await page.goto(url('/connections'));
    const banner = page.locator('[data-needs-reauth="crm"]');
    await banner.waitFor();
    await shot(page, 'connections-needs-reauth-desktop');
    await banner.getByRole('button', { name: 'Reconnect' }).click();
    await page.waitForURL(/connected=crm/);
    await page.locator('[data-connection="crm"] [data-status="active"]').waitFor();
    assert.equal(await page.locator('[data-needs-reauth]').count(), 0);
  });

  step('a flow from a recipe; an event runs; the target fails; fix, Replay, success', async () => {
    await page.getByRole('link', { name: 'Flows' }).click();
    await page.getByRole('button', { name: 'New flow from recipe' }).first().click();
    await shot(page, 'recipes-dialog-desktop');
    await page.locator('[data-recipe="catch-hook-to-http"]').click();
    const dialog = page.locator('form.recipe-form');
    await dialog.getByLabel('Flow id').fill('orders-to-sink');
    await dialog.getByLabel('Catch hook').selectOption('orders');
    await dialog.getByLabel('Target URL').fill(sink.url);
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: /Forward hook orders/ }).waitFor();
    await page.locator('.preview').first().waitFor();
    assert.match(await page.locator('.preview').first().innerText(), /Chan Tai Man/, 'live preview against the trigger sample');

    // Inline validation: a broken template is flagged on its field.
    const body = page.getByLabel(/^What to send/);
    await body.fill('{{ data.name ');
    await page.locator('.field-error').first().waitFor();
    await shot(page, 'flow-editor-error-desktop');
    await body.fill('{{ data | json }}');
    await page.locator('.field-error').first().waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();
    await shot(page, 'flow-editor-desktop');

    // Run test: this flow alone, on the trigger's sample, marked as a test.
    await page.getByRole('button', { name: 'Run test' }).click();
    await page.getByText('Test started').waitFor();
    await sink.waitFor(1);
    assert.deepEqual(sink.requests[0]!.json, { name: 'Chan Tai Man', amount: 250, email: 'tm.chan@example.com' });

    await page.getByRole('link', { name: 'Flows' }).first().click();
    await page.locator('[data-flow="orders-to-sink"]').waitFor();

    const ok = await postHook({ name: 'Chan Tai Man', amount: 250 });
    await sink.waitFor(2);
    await page.getByRole('link', { name: 'Runs' }).click();
    await page.locator(`[data-event="${ok.id}"][data-status="succeeded"]`).waitFor();
    await shot(page, 'runs-desktop');

    sink.setDefault({ status: 500, body: '{"error":"the CRM is down"}' });
    const bad = await postHook({ name: 'Lee Siu Ming', amount: 900 });
    // Live updates: the row appears and turns failed without a reload.
    await page.locator(`[data-event="${bad.id}"][data-status="failed"]`).waitFor({ timeout: 30_000 });
    await page.locator(`[data-event="${bad.id}"] button`).click();
    const drawer = page.locator('.drawer');
    await drawer
      .getByText(/answered 500/)
      .first()
      .waitFor();
    await drawer.locator('details summary').filter({ hasText: 'Attempt 1' }).click();
    // The attempts as a time line: a bar of the step's attempts, each attempt with its time and status, and the end: given up.
    const timeline = drawer.locator('[data-timeline]').first();
    await timeline.locator('.tl-track[role="img"]').waitFor();
    assert.ok((await timeline.locator('.tl-track .tl-block.tl-bad').count()) >= 1, 'a failed attempt on the bar');
    assert.ok((await timeline.locator('.tl-attempt.tl-bad').count()) >= 1, 'a failed attempt in the list');
    assert.match((await timeline.locator('.tl-next').textContent()) ?? '', /Gave up|reconnect/, 'what comes next, in words');
    if ((await timeline.locator('.tl-attempt').count()) > 1)
      assert.ok((await timeline.locator('.tl-wait[data-wait="waitRetry"]').count()) >= 1, 'the wait between attempts says why: a retry');
    await shot(page, 'run-failed-detail-desktop');

    sink.setDefault({ status: 200, body: '{"ok":true}' });
    await drawer.getByRole('button', { name: 'Replay', exact: true }).click();
    await page.locator(`[data-event="${bad.id}"][data-status="succeeded"]`).waitFor({ timeout: 20_000 });
    await drawer.locator('[data-step-status="succeeded"]').waitFor();
    await drawer.locator('[data-timeline] .tl-attempt.tl-ok').first().waitFor();
    await shot(page, 'run-replayed-desktop');
    assert.deepEqual(sink.requests.at(-1)!.json, { name: 'Lee Siu Ming', amount: 900 });
    await drawer.getByRole('button', { name: 'Close' }).click();
  });

  step('a viewer cannot open credentials or change a flow (UI and API refuse); a call without the CSRF token is refused', async () => {
    await page.getByRole('link', { name: 'Users' }).click();
    const form = page.locator('form').filter({ hasText: 'Initial password' });
    await form.getByLabel('Email').fill(VIEWER.email);
    await form.getByLabel('Role').selectOption('viewer');
    await form.getByLabel('Initial password').fill(VIEWER.password);
    await form.getByRole('button', { name: 'Add user' }).click();
    await page.locator(`[data-user="${VIEWER.email}"]`).waitFor();
    await shot(page, 'users-desktop');

    // The owner's session without the token: refused.
    const noToken = await page.evaluate(async () => {
      const r = await fetch('/api/v1/flows/orders-to-sink/disable', { method: 'POST' });
      return { status: r.status, body: await r.json() };
    });
    assert.equal(noToken.status, 403);
    assert.equal(noToken.body.error.code, 'csrf_failed');

    const viewerCtx = await browser.newContext({ viewport: DESKTOP });
    const v = await viewerCtx.newPage();
    try {
      await v.goto(url('/'));
      await v.getByLabel('Email').fill(VIEWER.email);
      await v.getByLabel('Password').fill(VIEWER.password);
      await v.getByRole('button', { name: 'Sign in' }).click();
      await v.getByRole('heading', { name: 'Flows' }).waitFor();
      assert.equal(await v.getByRole('button', { name: 'New flow from recipe' }).count(), 0);
      assert.ok(await v.getByRole('switch').first().isDisabled(), 'the on/off switch is read-only');
      await v.locator('[data-flow="orders-to-sink"] a').click();
      await v.getByRole('heading', { name: /Forward hook orders/ }).waitFor();
      assert.equal(await v.getByRole('button', { name: 'Save' }).count(), 0);
      assert.ok(await v.getByLabel(/^What to send/).isDisabled());
      await shot(v, 'flow-editor-viewer-desktop');

      await v.getByRole('link', { name: 'Connections' }).click();
      await v.locator('[data-connection="crm"]').waitFor();
      assert.equal(await v.getByRole('button', { name: 'Edit' }).count(), 0, 'no credentials form for a viewer');
      assert.equal(await v.getByRole('button', { name: 'Add connection' }).count(), 0);
      assert.equal(await v.getByRole('link', { name: 'Audit log' }).count(), 0);
      await shot(v, 'connections-viewer-desktop');

      const api = await v.evaluate(async () => {
        const status = await (await fetch('/api/v1/auth/status')).json();
        const h = { 'content-type': 'application/json', 'x-csrf-token': status.csrfToken };
        const list = await (await fetch('/api/v1/connections')).json();
        const patch = await fetch('/api/v1/connections/crm', {
          method: 'PATCH',
          headers: h,
          body: JSON.stringify({ secrets: { clientSecret: 'x' } }),
        });
        const put = await fetch('/api/v1/flows/orders-to-sink', {
          method: 'PUT',
          headers: h,
          body: JSON.stringify({ when: { event: 'x' }, then: [{ action: 'http.post', input: {} }] }),
        });
        const toggle = await fetch('/api/v1/flows/orders-to-sink/disable', { method: 'POST', headers: h });
        return { secrets: list.connections[0].secrets ?? null, patch: patch.status, put: put.status, toggle: toggle.status };
      });
      assert.deepEqual(api, { secrets: null, patch: 403, put: 403, toggle: 403 });
    } finally {
      await viewerCtx.close();
    }
  });

  step('the audit log shows what the test did; CSV export', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.locator('[data-action="auth.signed_in"]').first().waitFor();
    for (const action of [
      'user.owner_created',
      'auth.2fa_enabled',
      'auth.signed_out',
      'connection.created',
      'connection.connect_started',
      'connection.connected',
      'flow.created',
      'flow.updated',
      'run.replayed',
      'user.created',
    ]) {
      assert.ok((await page.locator(`[data-action="${action}"]`).count()) > 0, `audit shows ${action}`);
    }
    await shot(page, 'audit-desktop');
    const csv = await page.evaluate(async () => (await fetch('/api/v1/audit.csv')).text());
    assert.match(csv, /run\.replayed/);
    assert.equal(csv.includes(OWNER.password), false);
  });

  step('other pages, another language, and a phone', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByText('No API keys').waitFor();
    await shot(page, 'api-keys-desktop');
    await page.getByRole('link', { name: 'Security & 2FA' }).click();
    await shot(page, 'security-desktop');
    await page.getByRole('link', { name: 'Catch hooks' }).click();
    await page.locator('[data-hook="orders"]').waitFor();
    await page.getByLabel('ID', { exact: true }).fill('signed-form');
    await page.getByLabel('Name').fill('Signed web form');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.locator('[data-hook="signed-form"]').waitFor();
    assert.match(await page.locator('.secret-once').innerText(), /^[0-9a-f]{64}$/, 'the HMAC secret is shown once');
    await shot(page, 'catch-hooks-desktop');

    await page.getByRole('link', { name: 'Flows' }).click();
    await page.getByLabel('Language').first().selectOption('zh-CN');
    await page.getByRole('heading', { name: '流程' }).waitFor();
    await shot(page, 'flows-zh-CN-desktop');
    await page.getByRole('link', { name: '运行记录' }).click();
    await shot(page, 'runs-zh-CN-desktop');
    await page.getByLabel('语言').first().selectOption('zh-HK');
    await page.getByRole('heading', { name: '執行記錄' }).waitFor();
    await page.getByLabel('語言').first().selectOption('en');

    const phone = await browser.newContext({
      viewport: PHONE,
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      storageState: await owner.storageState(),
    });
    const p = await phone.newPage();
    try {
      await p.goto(url('/flows'));
      await p.getByRole('heading', { name: 'Flows' }).waitFor();
      await shot(p, 'flows-phone');
      await p.getByRole('button', { name: 'Menu' }).click();
      await shot(p, 'menu-phone');
      await p.getByRole('link', { name: 'Runs' }).click();
      await p.locator('[data-status="succeeded"]').first().waitFor();
      await shot(p, 'runs-phone');
      await p.locator('.runs-table tbody tr').first().getByRole('button').click();
      await p.locator('.drawer [data-step-status]').first().waitFor();
      await shot(p, 'run-detail-phone');
      await p.goto(url('/connections'));
      await p.locator('[data-connection="crm"]').waitFor();
      await shot(p, 'connections-phone');
      await p.goto(url('/flows/orders-to-sink'));
      await p.locator('.preview').first().waitFor();
      await shot(p, 'flow-editor-phone');
      await p.goto(url('/audit'));
      await p.locator('[data-action]').first().waitFor();
      await shot(p, 'audit-phone');
    } finally {
      await phone.close();
    }
    const anon = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true });
    const a = await anon.newPage();
    await a.goto(url('/'));
    await a.getByRole('heading', { name: 'Sign in' }).waitFor();
    await shot(a, 'signin-phone');
    await anon.close();

    // The SPA fallback does not shadow the API or operations routes.
    assert.equal((await fetch(url('/healthz'))).headers.get('content-type')?.includes('json'), true);
    const apiMiss = await fetch(url('/api/v1/nope'), { headers: { accept: 'text/html', authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    assert.equal(apiMiss.status, 404);
    assert.match(apiMiss.headers.get('content-type')!, /json/);
    await waitUntil(() => fs.existsSync(path.join(SHOTS, 'audit-phone.png')), 'screenshots written');
  });
});
