import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Hub } from '../app/hub.ts';
import { UI_DIST } from '../config/ui/serve.ts';
import { startDingtalkFake, SEED, type RunningDingtalkFake } from '../sandbox/dingtalk/index.ts';
import { DEFAULT_APP, DEFAULT_TOKEN, startTrelloFake, type TrelloState } from '../sandbox/trello/index.ts';
import type { RunningFake } from '../sandbox/framework/index.ts';
import { freePort } from './helpers/ports.ts';
import { ARTIFACTS, MODES, prepareEnvironment, startTestHub, TEST_ADMIN_TOKEN, waitUntil, type Environment } from './helpers/hub.ts';
import { services } from './helpers/services.ts';

/**
 * The config UI for people who are not engineers, in Chromium (issue 18), one hub and one browser:
 * - DingTalk connected through the guided panel with the Client Secret wrong first: the explanation
 *   names the Client Secret; right, it connects;
 * - in zh-HK, from the recipe gallery and the data picker only (no `{{` typed): "an approval over
 *   HK$5,000.00 → a message to the finance group" and "a Trello card moved to Done → a DingTalk group",
 *   the second run for real (a card moved in the Trello sandbox reaches the group);
 * - axe-core: no serious or critical WCAG 2.1 A/AA violation on any page in en, zh-CN and zh-HK;
 * - keyboard: focus stays in a dialog.
 * Screenshots: test-artifacts/screenshots/recipes-*.png, guided-*.png, axe-*.png.
 */
const CHROMIUM = '/usr/bin/chromium';
const available = await services();
const haveBrowser = fs.existsSync(CHROMIUM);
if (!haveBrowser && process.env.CI === 'true') throw new Error(`CI needs ${CHROMIUM} (apt-get install chromium)`);
const haveUi = fs.existsSync(path.join(UI_DIST, 'index.html'));
if (!haveUi && process.env.CI === 'true') throw new Error('the UI is not built: run npm run build:ui first');
const skip = !available.postgres
  ? 'needs PostgreSQL'
  : !haveBrowser
    ? `needs ${CHROMIUM}`
    : !haveUi
      ? 'needs the built UI (npm run build:ui)'
      : false;
const SHOTS = path.join(ARTIFACTS, 'screenshots');
// axe-core is pinned in package.json; its source is injected into each page.
const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const OWNER = { email: 'owner@example.com', password: 'owner password 123', name: 'Olivia Owner' };

describe('recipes, data picker, guided connect and accessibility in Chromium', { skip }, () => {
  let environment: Environment;
  let hub: Hub;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let trello: RunningFake<TrelloState>;
  let dingtalk: RunningDingtalkFake;
  // Groups the app robot is in, known by their names (the form lists them through the DingTalk app).
  let financeGroup = '';
  let productGroup = '';
  let board: { id: string; name: string };
  const url = (p: string) => `${hub.url}${p}`;
  const admin = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(url(p), {
      method,
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json().catch(() => undefined)) as any;
    assert.ok(res.ok, `${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const tctl = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${trello.baseUrl()}/__sandbox/trello${p}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await res.json()) as any;
    assert.ok(res.ok, `${p}: ${JSON.stringify(json)}`);
    return json;
  };
  const shot = async (name: string, p: Page = page) => {
    await p.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
    await p.evaluate(() => window.scrollTo(0, 0));
    await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  };
  const step = (name: string, fn: () => Promise<void>) =>
    test(name, async () => {
      try {
        await fn();
      } catch (err) {
        await page
          ?.screenshot({ path: path.join(SHOTS, `FAILED-recipes-${name.slice(0, 30).replace(/[^a-z0-9]+/gi, '-')}.png`), fullPage: true })
          .catch(() => {});
        throw err;
      }
    });
  /** axe-core's serious and critical WCAG 2.1 A/AA violations on the page, one line each. */
  const axeSerious = async (p: Page, where: string): Promise<string[]> => {
    // The runs page keeps a change stream open, so "network idle" may never come: wait at most 3 s.
    await p.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
    if (!(await p.evaluate(() => 'axe' in window))) await p.addScriptTag({ content: AXE_SOURCE });
    const result = (await p.evaluate(() =>
      (window as unknown as { axe: { run: (ctx: Document, opts: unknown) => Promise<unknown> } }).axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      }),
    )) as { violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] };
    return result.violations
      .filter((x) => x.impact === 'serious' || x.impact === 'critical')
      .map(
        (v) =>
          `${where}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes
            .slice(0, 3)
            .map((n) => n.target.join(' '))
            .join(', ')}`,
      );
  };
  const setLang = async (lang: 'en' | 'zh-CN' | 'zh-HK') => {
    await page.locator('header select').selectOption(lang);
    await page.waitForFunction((l) => document.documentElement.lang === l, lang);
  };

  before(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    trello = await startTrelloFake();
    dingtalk = await startDingtalkFake();
    board = (await tctl('POST', '/boards', { name: 'Finance ops', lists: ['To Do', 'Doing', 'Done'] })).board;
    const group = async (title: string) =>
      (
        await dingtalk.control<{ conversation: { openConversationId: string } }>('POST', '/conversations', {
          title,
          robotCodes: [SEED.robotCode],
        })
      ).conversation.openConversationId;
    financeGroup = await group('財務部');
    productGroup = await group('產品組');
    // The company's approval forms as its OA approval admin names them.
    await dingtalk.control('POST', '/processes', { processCode: 'PROC-REIMBURSE', name: '報銷', dirName: '財務' });
    // The SDKs' hosts (connectors/dingtalk/sdk.ts and the Trello client read them from the process).
    process.env.DINGTALK_BASE_URL = dingtalk.baseUrl();
    process.env.DINGTALK_OAPI_BASE_URL = dingtalk.baseUrl();
    process.env.TRELLO_BASE_URL = trello.baseUrl();
    const port = await freePort();
    environment = await prepareEnvironment(MODES[0]!, 'recipes-ui', {
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DINGBRIDGE_TRIGGER_CHECK_MS: '1000',
      TRELLO_BASE_URL: trello.baseUrl(),
      DINGTALK_BASE_URL: dingtalk.baseUrl(),
      DINGTALK_OAPI_BASE_URL: dingtalk.baseUrl(),
    });
    hub = await startTestHub(environment);
    // A connection an admin made earlier: the Trello account. (The owner account is made on the first-run page.)
    await admin('POST', '/api/v1/connections', {
      connector: 'trello',
      id: 'trello',
      label: 'Trello (Finance)',
      settings: { apiKey: DEFAULT_APP.key, baseUrl: trello.baseUrl() },
      secrets: { token: DEFAULT_TOKEN, appSecret: DEFAULT_APP.secret },
    });
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
    context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      locale: 'zh-HK',
      timezoneId: 'Europe/London',
      bypassCSP: true,
    });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hub.url! });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
    await trello?.stop();
    await dingtalk?.stop();
    await environment?.cleanup();
  });

  step('the first-run setup page has no serious or critical axe violation in en, zh-CN and zh-HK; the owner is made', async () => {
    const found: string[] = [];
    const headings: string[] = [];
    for (const lang of ['en', 'zh-CN', 'zh-HK'] as const) {
      const fresh = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
      const p = await fresh.newPage();
      await p.addInitScript((l) => localStorage.setItem('dingbridge.lang', l), lang);
      await p.goto(url('/'));
      await p.locator('form input[name="setupCode"]').waitFor();
      headings.push(await p.locator('h1').first().innerText());
      found.push(...(await axeSerious(p, `${lang} first-run setup`)));
      await p.screenshot({ path: path.join(SHOTS, `axe-setup-${lang}.png`), fullPage: true });
      await fresh.close();
    }
    assert.deepEqual(headings, ['Welcome to dingbridge', '欢迎使用 dingbridge', '歡迎使用 dingbridge'], 'the setup page in each language');
    assert.deepEqual(found, [], found.join('\n'));
    await admin('POST', '/api/v1/auth/setup', OWNER);
  });

  step('sign in; the page starts in zh-HK (the browser says zh-HK)', async () => {
    await page.goto(url('/'));
    // Owner made by the API before: this is the sign-in page, in Hong Kong wording.
    await page.getByRole('heading', { name: '登入' }).waitFor();
    await page.getByLabel('電子郵件').fill(OWNER.email);
    await page.getByLabel('密碼').fill(OWNER.password);
    await page.getByRole('button', { name: '登入' }).click();
    await page.getByRole('heading', { name: '流程' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-HK');
  });

  step('connect DingTalk through the guided panel: a wrong Client Secret is named; the right one connects', async () => {
    await page.getByRole('navigation').getByRole('link', { name: '連線' }).click();
    await page.locator('[data-guided="dingtalk"]').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('憑證與基礎資訊').first().waitFor(); // the console's own page name, in Hong Kong wording
    assert.match(await dialog.locator('[data-paste="callback"]').innerText(), /\/webhooks\/dingtalk\/dingtalk$/);
    await dialog.getByRole('button', { name: /複製/ }).first().click();
    await dialog.getByRole('button', { name: /^已複製/ }).waitFor();
    assert.match(
      await page.evaluate(() => navigator.clipboard.readText()),
      /\/webhooks\/dingtalk\/dingtalk$/,
      'the copy button copies the URL',
    );
    await dialog.getByLabel(/^Client ID/).fill(SEED.appKey);
    await dialog.getByLabel(/^Client Secret/).fill('not-the-secret');
    await shot('guided-dingtalk-zh-HK');
    await dialog.getByRole('button', { name: '儲存並測試連線' }).click();
    const result = dialog.locator('.guided-result');
    await result.and(page.locator('[data-ok="false"]')).waitFor();
    const explanation = await result.innerText();
    assert.match(explanation, /Client Secret（AppSecret）/, 'the explanation names the wrong credential');
    assert.doesNotMatch(explanation, /RobotCode|aes_key|invalidClientIdOrSecret/, 'in words, not the raw code, and no other credential');
    await shot('guided-dingtalk-wrong-secret-zh-HK');
    await dialog.getByLabel(/^Client Secret/).fill(SEED.appSecret);
    await dialog.getByRole('button', { name: '儲存並測試連線' }).click();
    await dialog.locator('.guided-result[data-ok="true"]').waitFor();
    await shot('guided-dingtalk-ok-zh-HK');
    await dialog.getByRole('button', { name: '關閉' }).last().click();
    await page.locator('[data-connection="dingtalk"]').waitFor();
  });

  step('zh-HK, gallery and data picker only: a DingTalk approval over HK$5,000.00 → message to the finance group', async () => {
    await page.getByRole('navigation').getByRole('link', { name: '範本' }).click();
    await page.getByRole('heading', { name: '範本' }).waitFor();
    await page.locator('[data-service="dingtalk"]').click();
    await shot('recipes-gallery-zh-HK');
    await page.locator('[data-recipe="dingtalk-approval-over-amount-to-group"]').click();
    const form = page.locator('form.recipe-form');
    await form.getByLabel('釘釘應用程式（審批來源）').selectOption({ label: '釘釘' });
    // The approval form and the group are chosen by name from what DingTalk lists through the app.
    const formSelect = form.getByLabel('審批表格', { exact: true });
    await formSelect.locator('option', { hasText: '報銷' }).waitFor({ state: 'attached' });
    await formSelect.selectOption({ label: '報銷' });
    await form.getByText('HK$5,000.00').waitFor(); // the threshold, written as Hong Kong writes money
    const groupSelect = form.getByLabel('通知哪個群組', { exact: true });
    await groupSelect.locator('option', { hasText: '財務部' }).waitFor({ state: 'attached' });
    assert.deepEqual(
      (await groupSelect.locator('option').allInnerTexts()).slice(1).sort(),
      ['Sandbox group', '產品組', '財務部'].sort(),
      'the groups the app robot is in, by name',
    );
    await groupSelect.selectOption({ label: '財務部' });
    const title = form.getByLabel(/^標題/);
    // The template defaults are in the admin's language.
    assert.equal(await title.inputValue(), '審批金額超過 HK$[[threshold]]');
    assert.match(await form.getByLabel(/^訊息內容/).inputValue(), /金額：HK\$\{\{ data\.form\.Amount \}\}/);
    await title.fill('大額報銷：');
    await form.getByRole('group', { name: '資料選擇器: 標題' }).locator('[data-path="data.title"]').click();
    const text = form.getByLabel(/^訊息內容/);
    await text.fill('金額 HK$');
    await form.getByRole('group', { name: '資料選擇器: 訊息內容' }).locator('[data-path="data.form.Amount"]').click();
    await text.press('End');
    await text.pressSequentially('，申請人 ');
    await form.getByRole('group', { name: '資料選擇器: 訊息內容' }).locator('[data-path="data.originatorUserId"]').click();
    assert.equal(await title.inputValue(), '大額報銷：{{ data.title }}');
    assert.equal(await text.inputValue(), '金額 HK${{ data.form.Amount }}，申請人 {{ data.originatorUserId }}');
    // The live preview renders on the event (the trigger's sample: no approval happened yet).
    await form.locator('.preview').filter({ hasText: '金額 HK$5000，申請人 user001' }).waitFor();
    await shot('recipes-approval-form-zh-HK');
    await form.getByRole('button', { name: '建立' }).click();
    // The flow's name in the admin's language, with the names chosen (not the ids).
    await page.getByRole('heading', { name: /報銷審批超過 HK\$5000 → 財務部/ }).waitFor();
    // A server error in words, in the page's language (the server's detail after it): the recipe again, left empty.
    await page.goBack();
    await page.locator('form.recipe-form').getByRole('button', { name: '建立' }).click();
    await page.locator('form.recipe-form [role="alert"]').filter({ hasText: '請填寫必填欄位。' }).waitFor();
    await shot('recipes-error-in-words-zh-HK');
    await page.goForward();

    const flow = await admin('GET', '/api/v1/flows/dingtalk-approval-over-amount-to-group');
    assert.equal(flow.when.event, 'dingtalk.approval.finished');
    assert.equal(flow.then[0].action, 'dingtalk.message.sendToGroup');
    assert.equal(flow.then[0].connection, 'dingtalk');
    assert.equal(flow.then[0].input.openConversationId, financeGroup, 'the group chosen by name, stored by id');
    assert.match(flow.when.condition, /data\.processCode == "PROC-REIMBURSE"/, 'the form chosen by name, stored by process code');
    assert.equal(flow.then[0].input.text, '金額 HK${{ data.form.Amount }}，申請人 {{ data.originatorUserId }}');
    const agreed = { result: 'agree', processCode: 'PROC-REIMBURSE', title: 'Reimbursement', form: { Amount: '6000' } };
    const check = (data: unknown) =>
      admin('POST', '/api/v1/flows/preview', { condition: flow.when.condition, eventType: 'dingtalk.approval.finished', data });
    assert.equal((await check(agreed)).condition, true, 'HK$6,000 agreed: the group is told');
    assert.equal((await check({ ...agreed, form: { Amount: '4000' } })).condition, false, 'HK$4,000: not over the limit');
    assert.equal((await check({ ...agreed, result: 'refuse' })).condition, false, 'refused: nothing');
    // A run on an approval goes to the finance group with the words the person put together.
    const before = (await dingtalk.control<{ messages: unknown[] }>('GET', `/conversations/${financeGroup}/messages`)).messages.length;
    await admin('POST', `/api/v1/flows/${flow.id}/test`, { data: { ...agreed, originatorUserId: 'user042' } });
    const msgs = await waitUntil(async () => {
      const m = (await dingtalk.control<{ messages: any[] }>('GET', `/conversations/${financeGroup}/messages`)).messages;
      return m.length > before && m;
    }, 'the finance group got the message');
    assert.match(JSON.stringify(msgs.at(-1)), /金額 HK\$6000，申請人 user042/);
  });

  step('zh-HK, gallery and data picker only: a Trello card moved to Done → the product group; a real move arrives there', async () => {
    await page.getByRole('navigation').getByRole('link', { name: '範本' }).click();
    await page.locator('[data-service="trello"]').click();
    await page.locator('[data-recipe="trello-card-done-to-dingtalk"]').click();
    const form = page.locator('form.recipe-form');
    await form.getByLabel('Trello 帳戶').selectOption({ label: 'Trello (Finance)' });
    // The board is chosen by name from the live list Trello gives.
    const boardSelect = form.getByLabel('看板', { exact: true });
    await boardSelect.locator('option', { hasText: 'Finance ops' }).waitFor({ state: 'attached' });
    await boardSelect.selectOption({ label: 'Finance ops' });
    await form.getByLabel('釘釘應用程式（由其機械人發訊息）').selectOption({ label: '釘釘' });
    const groupSelect = form.getByLabel('通知哪個群組', { exact: true });
    await groupSelect.locator('option', { hasText: '產品組' }).waitFor({ state: 'attached' });
    await groupSelect.selectOption({ label: '產品組' });
    assert.equal(await form.getByLabel('按鈕文字').inputValue(), '開啟卡片', 'the button text in the admin language');
    const title = form.getByLabel(/^標題/);
    await title.fill('完成：');
    await form.getByRole('group', { name: '資料選擇器: 標題' }).locator('[data-path="data.card.name"]').click();
    const text = form.getByLabel(/^訊息內容/);
    await text.fill('');
    const picker = form.getByRole('group', { name: '資料選擇器: 訊息內容' });
    await picker.locator('[data-path="data.member.fullName"]').click();
    await text.pressSequentially(' 把「');
    await picker.locator('[data-path="data.card.name"]').click();
    await text.pressSequentially('」移到 ');
    await picker.locator('[data-path="data.listAfter.name"]').click();
    assert.equal(await text.inputValue(), '{{ data.member.fullName }} 把「{{ data.card.name }}」移到 {{ data.listAfter.name }}');
    await form.locator('.preview').filter({ hasText: 'Wong Ka Yan 把「Fix the login page」移到 Doing' }).waitFor();
    await shot('recipes-trello-form-zh-HK');
    await form.getByRole('button', { name: '建立' }).click();
    await page.getByRole('heading', { name: /Trello 看板 Finance ops 的卡片移到 Done → 產品組/ }).waitFor();
    // The editor shows typed, translated fields: an ActionCard's button fields, not a link message's address
    // (the action's input schema is a union on the message type: it says which field belongs to which type).
    const step0 = page.locator('[data-step="0"]');
    await step0.getByLabel(/^按鈕文字/).waitFor();
    const groupInEditor = step0.getByLabel(/^群組/);
    await groupInEditor.locator('option', { hasText: '產品組' }).waitFor({ state: 'attached' });
    assert.equal(await groupInEditor.inputValue(), productGroup, 'the group shown by name, its id stored');
    // The trigger's parameter too: the board by name, its id stored.
    const boardParam = page.getByLabel('看板', { exact: true });
    await boardParam.locator('option', { hasText: 'Finance ops' }).waitFor({ state: 'attached' });
    assert.equal(await boardParam.inputValue(), board.id);
    assert.equal(
      await step0
        .getByLabel(/^訊息類型/)
        .locator('option:checked')
        .innerText(),
      '附按鈕的卡片（ActionCard）',
    );
    assert.equal(await step0.getByLabel(/^連結網址/).count(), 0, 'the link address belongs to link messages');
    await shot('flow-editor-typed-zh-HK');
    await step0.getByLabel(/^訊息類型/).selectOption('link');
    await step0.getByLabel(/^連結網址/).waitFor();
    assert.equal(await step0.getByLabel(/^檔案（mediaId）/).count(), 0, 'file fields belong to file messages');
    await shot('flow-editor-text-type-zh-HK');

    // For real: the hub registers its webhook on the board; a person moves a card to Done; the group hears of it.
    await waitUntil(async () => (await tctl('GET', '/webhooks')).webhooks.length === 1, 'Trello webhook registered for the board');
    const card = (await tctl('POST', '/cards', { listName: 'Doing', idBoard: board.id, name: '季度報表' })).card;
    await tctl('POST', `/cards/${card.id}/move`, { listName: 'Done' });
    const msgs = await waitUntil(async () => {
      const m = (await dingtalk.control<{ messages: any[] }>('GET', `/conversations/${productGroup}/messages`)).messages;
      return m.length > 0 && m;
    }, 'the product group got the card message');
    assert.equal(msgs.length, 1, 'only the move to Done, not the card created in Doing');
    assert.match(JSON.stringify(msgs[0]), /把「季度報表」移到 Done/);
    assert.match(JSON.stringify(msgs[0]), /完成：季度報表/);

    // Now that a real event happened, the picker and the preview use it by default.
    await page.goto(url('/recipes?recipe=trello-card-done-to-dingtalk'));
    await page.locator('form.recipe-form .preview').filter({ hasText: '把 **季度報表** 移到 **Done**' }).first().waitFor();
    assert.match(
      await page.getByLabel('預覽所用事件').locator('option:checked').innerText(),
      /evt_/,
      'a real event is chosen, not the sample',
    );
    await shot('recipes-trello-real-event-zh-HK');
  });

  step('axe-core: no serious or critical WCAG 2.1 A/AA violation on any page, in en, zh-CN and zh-HK', async () => {
    // A run with its step cards and attempts time line (the Trello card's run), opened in the drawer.
    const lastRun = (await admin('GET', '/api/v1/runs?limit=1')).items[0];
    const pages = [
      '/flows',
      '/flows/new',
      `/runs?event=${encodeURIComponent(lastRun.id)}`,
      '/kpis',
      '/recipes',
      '/recipes?recipe=dingtalk-approval-over-amount-to-group',
      '/flows/trello-card-done-to-dingtalk',
      '/runs',
      '/connections',
      '/catch-hooks',
      '/triggers',
      '/people',
      '/audit',
      '/users',
      '/api-keys',
      '/security',
    ];
    const found: string[] = [];
    const audit = async (p: Page, where: string) => {
      found.push(...(await axeSerious(p, where)));
    };
    let audited = 0;
    for (const lang of ['en', 'zh-CN', 'zh-HK'] as const) {
      await page.goto(url('/flows'));
      await setLang(lang);
      for (const p of pages) {
        await page.goto(url(p));
        await page
          .locator('main h1')
          .first()
          .waitFor()
          .catch((e: Error) => {
            throw new Error(`${lang} ${p}: no heading (${e.message.split('\n')[0]})`);
          });
        await audit(page, `${lang} ${p}`);
        audited++;
      }
      // A dialog too: the guided connect panel.
      await page.goto(url('/connections'));
      await page.locator('[data-guided="dingtalk"]').click();
      await page.getByRole('dialog').waitFor();
      await audit(page, `${lang} guided connect dialog`);
      await shot(`axe-guided-${lang}`);
      audited++;
    }
    // The pages before signing in.
    const anon = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    const a = await anon.newPage();
    for (const lang of ['en', 'zh-CN', 'zh-HK'] as const) {
      await a.addInitScript((l) => localStorage.setItem('dingbridge.lang', l), lang);
      await a.goto(url('/'));
      await a.locator('h1').first().waitFor();
      await audit(a, `${lang} sign-in`);
      audited++;
    }
    await anon.close();
    assert.equal(audited, 3 * (pages.length + 1) + 3);
    assert.deepEqual(found, [], found.join('\n'));
  });

  step('keyboard: Tab and Shift+Tab stay inside a dialog; Escape closes it and focus goes back', async () => {
    await page.goto(url('/connections'));
    const opener = page.locator('[data-guided="trello"]');
    await opener.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      assert.ok(await dialog.evaluate((d) => d.contains(document.activeElement)), `Tab ${i + 1} left the dialog`);
    }
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press('Shift+Tab');
      assert.ok(await dialog.evaluate((d) => d.contains(document.activeElement)), `Shift+Tab ${i + 1} left the dialog`);
    }
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await opener.evaluate((el) => el === document.activeElement), true);
  });
});
