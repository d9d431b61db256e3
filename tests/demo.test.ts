import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT, tempDir, waitUntil } from './helpers/hub.ts';
import { freePort } from './helpers/ports.ts';

test('`npm run demo`: hub + sandbox offline; moving a card in the Trello sandbox posts to the DingTalk group', async () => {
  const port = await freePort();
  const dir = tempDir('demo');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'app/demo.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      PORT: String(port),
      SANDBOX_PORT: '0',
      DINGBRIDGE_DATA_DIR: path.join(dir, 'data'),
      LOG_LEVEL: 'warn',
    },
  });
  let out = '';
  child.stdout.on('data', (c) => {
    out += c;
  });
  child.stderr.on('data', (c) => {
    out += c;
  });
  try {
    const info = await waitUntil(
      () => {
        const line = out.split('\n').find((l) => l.startsWith('{"hub"'));
        return (
          line && (JSON.parse(line) as { hub: string; dingtalkPage: string; sandbox: { trello: string; dingtalk: string }; card: string })
        );
      },
      `the demo's summary line (output so far: ${out.slice(-500)})`,
      60_000,
    );
    assert.match(out, /DingTalk group page:/);
    assert.equal((await fetch(`${info.hub}/readyz`)).status, 200);
    const page = await fetch(info.dingtalkPage);
    assert.equal(page.status, 200);
    const moved = await fetch(`${info.sandbox.trello}/__sandbox/trello/cards/${info.card}/move`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"listName":"Doing"}',
    });
    assert.ok(moved.ok, String(moved.status));
    const messages = await waitUntil(
      async () => {
        const res = await fetch(`${info.sandbox.dingtalk}/__sandbox/dingtalk/robots/sandbox-robot-token/messages`);
        const m = ((await res.json()) as { messages: any[] }).messages;
        return m.length > 0 && m;
      },
      'the group robot posted the move',
      30_000,
    );
    assert.match(JSON.stringify(messages.at(-1)), /moved it from \*\*To Do\*\* to \*\*Doing\*\*/);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
});
