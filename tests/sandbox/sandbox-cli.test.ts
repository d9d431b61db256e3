import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/hub.ts';

test('`npm run sandbox` starts every fake and prints their base URLs as its last line', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'sandbox/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, SANDBOX_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c) => {
    out += c;
  });
  child.stderr.on('data', (c) => {
    out += c;
  });
  try {
    const urls = await new Promise<Record<string, string>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URLs within 20 s:\n${out}`)), 20_000);
      child.stdout.on('data', () => {
        const last = out.trim().split('\n').at(-1) ?? '';
        if (last.startsWith('{')) {
          clearTimeout(timer);
          resolve(JSON.parse(last));
        }
      });
    });
    assert.deepEqual(Object.keys(urls).sort(), ['aliyun_oss', 'dingtalk', 'docusign', 'google', 'oauth2', 'quickbooks', 'trello']);
    const certFile = /Sandbox TLS certificate \(for NODE_EXTRA_CA_CERTS\): (.+)/.exec(out)?.[1];
    assert.ok(certFile, out);
    const ca = fs.readFileSync(certFile, 'utf8');
    assert.ok(urls.docusign!.startsWith('https://'));
    for (const url of Object.values(urls)) {
      // The HTTPS fake (DocuSign) is trusted through the certificate file the sandbox wrote.
      const { status, json } = url.startsWith('https:')
        ? await new Promise<{ status: number; json: unknown }>((resolve, reject) => {
            https
              .get(`${url}/__sandbox/calls`, { ca }, (res) => {
                let s = '';
                res.on('data', (c) => {
                  s += c;
                });
                res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(s) }));
              })
              .on('error', reject);
          })
        : await fetch(`${url}/__sandbox/calls`).then(async (res) => ({ status: res.status, json: await res.json() }));
      assert.equal(status, 200);
      assert.deepEqual(json, { calls: [] });
    }
    const page = await fetch(`${urls.dingtalk}/__sandbox/dingtalk/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
  } finally {
    child.kill('SIGTERM');
  }
});
