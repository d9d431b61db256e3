import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/hub.ts';

test('`npm run sandbox` starts every fake and prints their base URLs as its last line', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'sandbox/main.ts')], {
    cwd: ROOT, env: { ...process.env, SANDBOX_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c) => { out += c; });
  child.stderr.on('data', (c) => { out += c; });
  try {
    const urls = await new Promise<Record<string, string>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URLs within 20 s:\n${out}`)), 20_000);
      child.stdout.on('data', () => {
        const last = out.trim().split('\n').at(-1) ?? '';
        if (last.startsWith('{')) { clearTimeout(timer); resolve(JSON.parse(last)); }
      });
    });
    assert.deepEqual(Object.keys(urls).sort(), ['dingtalk', 'google', 'oauth2', 'trello']);
    for (const url of Object.values(urls)) {
      const res = await fetch(`${url}/__sandbox/calls`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { calls: [] });
    }
    const page = await fetch(`${urls.dingtalk}/__sandbox/dingtalk/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
  } finally {
    child.kill('SIGTERM');
  }
});
