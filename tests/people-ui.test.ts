import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Hub } from '../app/hub.ts';
import { UI_DIST } from '../config/ui/serve.ts';
import { ARTIFACTS, prepareEnvironment, startTestHub, TEST_ADMIN_TOKEN, type Environment } from './helpers/hub.ts';
import { queryHub } from './helpers/hub-db.ts';
import { services } from './helpers/services.ts';

/** The People page in Chromium: the import wizard (file → dry-run diff → confirm), the list, search, hand-linking. */
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

const CSV = `name,email,mobile,department,title,manager_email
Wong Ka Yan,kayan.wong@example.com,9123 4567,Sales/Hong Kong,Sales lead,
Chan Tai Man,taiman.chan@example.com,+852 6123 4567,Sales/Hong Kong,Account manager,kayan.wong@example.com
李小明,xiaoming.li@example.com,13800138000,Engineering,Engineer,
`;

describe('People page in Chromium', { skip }, () => {
  let environment: Environment;
  let hub: Hub;
  let browser: Browser;
  let page: Page;
  const url = (p: string) => `${hub.url}${p}`;

  before(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    environment = await prepareEnvironment({ name: 'people-ui', store: 'external', queue: 'postgres' }, 'people-ui');
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
    page = await (await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-GB' })).newPage();
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
    await environment?.cleanup();
  });

  test('import a CSV through the wizard (dry-run diff, then confirm) and see the people listed; link one to DingTalk by hand', async () => {
    try {
      await page.goto(url('/'));
      await page.getByLabel('Your name').fill('Olivia Owner');
      await page.getByLabel('Email').fill('owner@example.com');
      await page.getByLabel('Password').fill('owner password 123');
      // First-run setup is guarded: this hub has DINGBRIDGE_ADMIN_TOKEN, so the page asks for it.
      await page.getByLabel('Admin token').fill(TEST_ADMIN_TOKEN);
      await page.getByRole('button', { name: 'Create owner account' }).click();
      await page.getByRole('heading', { name: 'Flows' }).waitFor();

      await page.getByRole('link', { name: 'People' }).click();
      await page.getByRole('heading', { name: 'People' }).waitFor();
      await page.getByText('No people yet').waitFor();
      await page.getByRole('button', { name: 'Import CSV' }).click();
      await page.getByLabel('CSV file').setInputFiles({ name: 'staff.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
      await page.getByRole('button', { name: 'Check (dry run)' }).click();
      await page.getByText('3 to create, 0 to update, 0 to mark as left, 0 unchanged.').waitFor();
      assert.equal(await page.locator('[data-testid=import-diff] tbody tr[data-action=create]').count(), 3);
      await page.screenshot({ path: path.join(SHOTS, 'people-import-diff-desktop.png'), fullPage: true });
      const written = await queryHub<{ n: number }>(environment, 'select count(*)::int as n from people');
      assert.equal(written[0]!.n, 0, 'the dry run wrote nothing');

      await page.getByRole('button', { name: 'Import these changes' }).click();
      await page.getByText('Imported: 3 created, 0 updated, 0 marked as left.').waitFor();
      await page.getByRole('button', { name: 'Close', exact: true }).first().click();
      const rows = page.locator('.people-table tbody tr');
      await page.locator('.people-table tr[data-person="xiaoming.li@example.com"]').waitFor();
      assert.equal(await rows.count(), 3);
      assert.match(await page.locator('tr[data-person="taiman.chan@example.com"]').innerText(), /\+85261234567/);

      await page.getByLabel('Department').selectOption('Sales/Hong Kong');
      await page.waitForFunction(() => document.querySelectorAll('.people-table tbody tr').length === 2);

      const row = page.locator('tr[data-person="kayan.wong@example.com"]');
      await row.getByPlaceholder('DingTalk userId').fill('user001');
      await row.getByRole('button', { name: 'Link' }).click();
      await row.getByText('user001').waitFor();
      await page.screenshot({ path: path.join(SHOTS, 'people-list-desktop.png'), fullPage: true });

      await page.getByLabel('Language').selectOption('zh-HK');
      await page.getByRole('heading', { name: '員工名錄' }).waitFor();
      await page.screenshot({ path: path.join(SHOTS, 'people-list-zh-hk-desktop.png'), fullPage: true });
    } catch (err) {
      await page.screenshot({ path: path.join(SHOTS, 'FAILED-people-ui.png'), fullPage: true }).catch(() => {});
      throw err;
    }
  });
});
