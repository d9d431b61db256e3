import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { ROOT } from '../helpers/hub.ts';

// Finding 12: the Zapier trigger accepted a delivery when the subscription had no secret or Zapier
// passed no raw body, and accepted a year-old timestamp. It now fails closed with a 5-minute tolerance.
const require = createRequire(import.meta.url);
const zapier = require('zapier-platform-core');
const App = require(path.join(ROOT, 'integrations/zapier/index.js'));
const appTester = zapier.createAppTester(App);
const perform = App.triggers.hub_event.operation.perform;

const secret = `whsec_${Buffer.from('a-subscription-secret-of-32-bytes').toString('base64')}`;
const payload = JSON.stringify({ type: 'catch_hook.received', timestamp: '2026-01-01T08:00:00.000Z', data: { amount: 640 } });

function delivery(at: Date, id = 'msg_1') {
  const signature = new Webhook(secret).sign(id, at, payload);
  return {
    content: payload,
    headers: {
      'Http-Webhook-Id': id,
      'Http-Webhook-Timestamp': String(Math.floor(at.getTime() / 1000)),
      'Http-Webhook-Signature': signature,
    },
  };
}
const run = (bundle: Record<string, unknown>) =>
  appTester(perform, {
    authData: { hubUrl: 'http://127.0.0.1:9', apiKey: 'dbk_x' },
    inputData: { event_type: 'catch_hook.received' },
    cleanedRequest: JSON.parse(payload),
    ...bundle,
  });

describe('Zapier New Hub Event fails closed (finding 12)', () => {
  test('a fresh, signed delivery is accepted', async () => {
    const items = await run({ subscribeData: { id: 'sub_1', secret }, rawRequest: delivery(new Date()) });
    assert.equal(items.length, 1);
    assert.equal(items[0].id, 'msg_1');
    assert.deepEqual(items[0].data, { amount: 640 });
  });

  test('no subscription secret → refused', async () => {
    await assert.rejects(run({ subscribeData: { id: 'sub_1' }, rawRequest: delivery(new Date()) }), /no subscription secret/);
  });

  test('no raw body → refused (the cleaned request alone cannot be verified)', async () => {
    const { headers } = delivery(new Date());
    await assert.rejects(run({ subscribeData: { id: 'sub_1', secret }, rawRequest: { headers } }), /raw body is missing/);
    await assert.rejects(run({ subscribeData: { id: 'sub_1', secret } }), /raw body is missing/);
  });

  test('a correctly signed delivery older than 5 minutes, or from the future, → refused', async () => {
    await assert.rejects(
      run({ subscribeData: { id: 'sub_1', secret }, rawRequest: delivery(new Date(Date.now() - 365 * 24 * 3600_000)) }),
      /more than 5 minutes/,
    );
    await assert.rejects(
      run({ subscribeData: { id: 'sub_1', secret }, rawRequest: delivery(new Date(Date.now() - 6 * 60_000)) }),
      /more than 5 minutes/,
    );
    await assert.rejects(
      run({ subscribeData: { id: 'sub_1', secret }, rawRequest: delivery(new Date(Date.now() + 6 * 60_000)) }),
      /more than 5 minutes/,
    );
    const items = await run({ subscribeData: { id: 'sub_1', secret }, rawRequest: delivery(new Date(Date.now() - 4 * 60_000)) });
    assert.equal(items.length, 1, 'within the tolerance is still fine');
  });

  test('missing id, timestamp or signature → refused', async () => {
    const d = delivery(new Date());
    for (const drop of ['Http-Webhook-Id', 'Http-Webhook-Timestamp', 'Http-Webhook-Signature']) {
      const headers: Record<string, string> = { ...d.headers };
      delete headers[drop];
      await assert.rejects(
        run({ subscribeData: { id: 'sub_1', secret }, rawRequest: { content: d.content, headers } }),
        /webhook-id|timestamp|signature/,
        drop,
      );
    }
  });
});
