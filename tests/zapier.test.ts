import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MODES, ROOT, prepareEnvironment, startTestHub, tempDir, waitUntil, writeConfig, type Environment } from './helpers/hub.ts';
import { startSink, type Sink } from './helpers/sink.ts';
import { ADMIN_TOKEN, api, postEvent } from './helpers/api.ts';
import type { Hub } from '../app/hub.ts';

/**
 * The Zapier app in integrations/zapier/, run by zapier-platform-core's own test tool
 * (createAppTester) against a real hub: no Zapier account, real HTTP both ways.
 */
const require = createRequire(import.meta.url);
const zapier = require('zapier-platform-core');
const schemaTools = require('zapier-platform-core/src/tools/schema');
const App = require(path.join(ROOT, 'integrations/zapier/index.js'));
const appTester = zapier.createAppTester(App);

describe('Zapier app against a running hub (default mode)', () => {
  let environment: Environment;
  let hub: Hub;
  let sink: Sink;
  let authData: { hubUrl: string; apiKey: string };

  before(async () => {
    sink = await startSink();
    environment = await prepareEnvironment(MODES[0]!, 'zapier', {
      DINGBRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
      DINGBRIDGE_HOOK_RETRY_SCHEDULE: '0,200ms,400ms',
    });
    environment.env.DINGBRIDGE_CONFIG = writeConfig(tempDir('zapier-config'), 'version: 1\nhooks:\n  - id: forms\n');
    hub = await startTestHub(environment);
    const key = await api(hub, 'POST', '/api/v1/api-keys', {
      label: 'Zapier',
      scopes: ['hooks:read', 'hooks:write', 'events:read', 'actions:run'],
    });
    authData = { hubUrl: hub.url!, apiKey: key.json.key };
  });
  after(async () => {
    await hub?.stop();
    await sink?.close();
    await environment?.cleanup();
  });

  test("the app definition passes Zapier's schema", () => {
    assert.deepEqual(schemaTools.validateApp(schemaTools.compileApp(App)), []);
    assert.equal(App.platformVersion, '17.9.1');
  });

  test("authentication: the API key is tested against /api/v1/me; a bad key is refused with the hub's message", async () => {
    const me = await appTester(App.authentication.test, { authData });
    assert.equal(me.label, 'Zapier');
    assert.equal(me.kind, 'api_key');
    await assert.rejects(appTester(App.authentication.test, { authData: { ...authData, apiKey: 'dbk_wrong' } }), /not valid/);
  });

  test('New Hub Event: subscribe → event → perform → unsubscribe', async () => {
    const trigger = App.triggers.hub_event.operation;
    const inputData = { event_type: 'catch_hook.received', filter: 'data.zap == true' };
    const subscribeData = await appTester(trigger.performSubscribe, { authData, inputData, targetUrl: sink.url });
    assert.match(subscribeData.id, /^sub_/);
    assert.match(subscribeData.secret, /^whsec_/);

    const eventId = await postEvent(hub, 'forms', { zap: true, name: 'Wong Ka Yan', amount: 640 });
    const deliveries = () => sink.requests.filter((r) => r.headers['webhook-id']);
    const delivery = await waitUntil(() => deliveries()[0], 'the delivery');
    const rawRequest = {
      content: delivery.body,
      headers: {
        'Http-Webhook-Id': String(delivery.headers['webhook-id']),
        'Http-Webhook-Timestamp': String(delivery.headers['webhook-timestamp']),
        'Http-Webhook-Signature': String(delivery.headers['webhook-signature']),
      },
    };
    const results = await appTester(trigger.perform, { authData, inputData, subscribeData, cleanedRequest: delivery.json, rawRequest });
    assert.equal(results.length, 1);
    assert.equal(results[0].id, delivery.headers['webhook-id']);
    assert.equal(results[0].type, 'catch_hook.received');
    assert.deepEqual(results[0].data, { zap: true, name: 'Wong Ka Yan', amount: 640 });
    await assert.rejects(
      appTester(trigger.perform, {
        authData,
        inputData,
        subscribeData,
        cleanedRequest: delivery.json,
        rawRequest: { ...rawRequest, content: delivery.body.replace('640', '6400') },
      }),
      /signature does not verify/,
    );

    const samples = await appTester(trigger.performList, { authData, inputData });
    assert.ok(
      samples.some((s: { id: string }) => s.id === eventId),
      'performList returns the real event',
    );

    await appTester(trigger.performUnsubscribe, { authData, inputData, subscribeData });
    assert.equal((await api(hub, 'GET', `/api/v1/hooks/${subscribeData.id}`)).status, 404);
    await postEvent(hub, 'forms', { zap: true, name: 'after unsubscribe' });
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(deliveries().length, 1, 'nothing is delivered after unsubscribing');
    // Unsubscribing twice (Zapier retries) is not an error.
    await appTester(trigger.performUnsubscribe, { authData, inputData, subscribeData });
  });

  test('event types feed the dropdown', async () => {
    const types = await appTester(App.triggers.event_types.operation.perform, { authData });
    assert.ok(types.some((t: { id: string }) => t.id === 'catch_hook.received'));
    assert.ok(types.some((t: { id: string }) => t.id === 'hub.delivery.exhausted'));
  });

  test("Send DingTalk message and Start DingTalk approval call the hub's DingTalk actions; without a connection the error says so", async () => {
    // Before the DingTalk connector is registered the hub answers 404 "no action … is registered";
    // once it is, an action run without a DingTalk connection is refused with the connector's message.
    const clear = (id: string) => (err: Error) =>
      new RegExp(
        `no action "${id.replace(/\./g, '\\.')}" is registered on this hub|${id.replace(/\./g, '\\.')}[^"]*(connection|input)`,
        'i',
      ).test(err.message);
    const send = App.creates.send_dingtalk_message.operation.perform;
    await assert.rejects(
      appTester(send, { authData, inputData: { channel: 'group', open_conversation_id: 'cid123', msg_type: 'text', text: 'Approved' } }),
      clear('dingtalk.message.sendToGroup'),
    );
    const approve = App.creates.start_dingtalk_approval.operation.perform;
    await assert.rejects(
      appTester(approve, { authData, inputData: { process_code: 'PROC-1', originator_user_id: 'u1', form: { Amount: '5000' } } }),
      clear('dingtalk.approval.start'),
    );
    const unknown = await api(hub, 'POST', '/api/v1/actions/dingtalk.nothing/run', { input: {} }, authData.apiKey);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, 'action_not_found');
  });

  test('the actions run a registered hub action (http.post) end to end', async () => {
    const before = sink.requests.length;
    const send = App.creates.send_dingtalk_message.operation.perform;
    const out = await appTester(send, {
      authData,
      inputData: {
        action_id: 'http.post',
        channel: 'group',
        msg_type: 'text',
        text: 'unused',
        extra_input: JSON.stringify({ url: sink.url, body: { text: 'Hello from Zapier' } }),
      },
    });
    assert.equal(out.action, 'http.post');
    assert.equal(out.status, 200);
    await sink.waitFor(before + 1);
    assert.deepEqual(sink.requests[before]!.json, { text: 'Hello from Zapier' });
    await assert.rejects(
      appTester(send, {
        authData,
        inputData: {
          action_id: 'http.post',
          text: 'x',
          extra_input: JSON.stringify({ url: 'http://169.254.169.254/latest/meta-data/', body: {} }),
        },
      }),
      /refused/,
    );
    await waitUntil(() => true, 'noop');
  });
});
