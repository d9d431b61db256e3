import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  TEST_ADMIN_TOKEN,
  prepareEnvironment,
  spawnHub,
  startTestHub,
  tempDir,
  waitUntil,
  writeConfig,
  type Environment,
  type HubProcess,
} from './helpers/hub.ts';
import { startSink, type Sink } from './helpers/sink.ts';
import { services } from './helpers/services.ts';
import type { Hub } from '../app/hub.ts';

const available = await services();

async function api(base: string, method: string, p: string, body?: unknown) {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : (undefined as any) };
}
const postHook = (base: string, hook: string, body: unknown) =>
  fetch(`${base}/hooks/catch/${hook}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).then((r) => r.json() as Promise<{ id: string }>);

describe('flows from the UI, recipes, previews, runs and replay', {
  skip: available.postgres && available.redis ? false : 'needs PostgreSQL and Redis',
}, () => {
  let environment: Environment;
  let hub: Hub;
  let sink: Sink;

  before(async () => {
    sink = await startSink();
    environment = await prepareEnvironment({ name: 'flows-api', store: 'external', queue: 'redis' }, 'flows-api');
    environment.env.DINGBRIDGE_CONFIG = writeConfig(
      tempDir('flows-api-config'),
      `
hooks:
  - id: orders
flows:
  - id: from-config
    when: { event: catch_hook.received, source: never }
    then:
      - action: http.post
        input: { url: "${sink.url}", body: "{}" }
`,
    );
    hub = await startTestHub(environment);
  });
  after(async () => {
    await hub?.stop();
    await sink?.close();
    await environment?.cleanup();
  });

  test('the catalog lists connectors with auth fields, event types and action input schemas (no secrets)', async () => {
    const cat = await api(hub.url!, 'GET', '/api/v1/catalog');
    assert.equal(cat.status, 200);
    const http = cat.json.connectors.find((c: any) => c.id === 'http');
    const post = http.actions.find((a: any) => a.id === 'http.post');
    assert.equal(post.inputSchema.type, 'object');
    assert.ok(post.inputSchema.properties.url);
    assert.deepEqual(post.secretInputs, ['secret']);
    const oauth2 = cat.json.connectors.find((c: any) => c.id === 'oauth2');
    assert.ok(oauth2.auth.fields.find((f: any) => f.key === 'clientSecret').secret);
    assert.ok(cat.json.eventTypes.includes('catch_hook.received'));
    assert.deepEqual(
      cat.json.catchHooks.map((h: any) => [h.id, h.origin]),
      [['orders', 'config']],
    );
  });

  test('validation reports each problem with its path; config-file flows are read-only', async () => {
    const bad = await api(hub.url!, 'POST', '/api/v1/flows/validate', {
      id: 'x y',
      when: { event: 'catch_hook.received', condition: '{{ data.amount }} > 1' },
      then: [{ action: 'nope.do', input: { a: '{{ oops' } }],
    });
    assert.equal(bad.json.valid, false);
    const paths = bad.json.issues.map((i: any) => i.path);
    assert.ok(paths.includes('id'), JSON.stringify(bad.json.issues));
    assert.ok(paths.includes('when.condition'));
    assert.ok(paths.includes('then.0.input.a'));
    const unknown = await api(hub.url!, 'POST', '/api/v1/flows', {
      id: 'unknown-action',
      when: { event: 'x' },
      then: [{ action: 'nope.do' }],
    });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.error.code, 'invalid_flow');
    assert.deepEqual(unknown.json.error.issues, [{ path: 'then.0.action', message: 'unknown action "nope.do"' }]);

    const list = await api(hub.url!, 'GET', '/api/v1/flows');
    assert.equal(list.json.items.find((f: any) => f.id === 'from-config').meta.origin, 'config');
    const put = await api(hub.url!, 'PUT', '/api/v1/flows/from-config', { when: { event: 'x' }, then: [{ action: 'http.post' }] });
    assert.equal(put.status, 409);
    assert.equal(put.json.error.code, 'flow_read_only');
    assert.equal(
      (
        await api(hub.url!, 'POST', '/api/v1/flows', {
          id: 'from-config',
          when: { event: 'x' },
          then: [{ action: 'http.post', input: {} }],
        })
      ).status,
      409,
    );
  });

  test('preview renders a mapping against the trigger sample or a posted event', async () => {
    const sample = await api(hub.url!, 'POST', '/api/v1/flows/preview', {
      eventType: 'catch_hook.received',
      mapping: { text: 'Hi {{ data.name }}', n: '{{ data.amount }}' },
      condition: 'data.amount > 100',
    });
    assert.deepEqual(sample.json.output, { text: 'Hi Chan Tai Man', n: 250 });
    assert.equal(sample.json.condition, true);
    const posted = await api(hub.url!, 'POST', '/api/v1/flows/preview', { data: { amount: 5 }, condition: 'data.amount > 100' });
    assert.equal(posted.json.condition, false);
    const broken = await api(hub.url!, 'POST', '/api/v1/flows/preview', { mapping: '{{ data.name | nosuchfilter }}' });
    assert.equal(broken.json.ok, false);
    assert.match(broken.json.error, /nosuchfilter/);
  });

  test('a recipe becomes a flow that every hub process sees within seconds; events run; a failure is replayed', async () => {
    const recipes = await api(hub.url!, 'GET', '/api/v1/recipes');
    const ids = recipes.json.items.map((r: any) => r.id);
    assert.ok(ids.includes('catch-hook-to-http'));
    if (!hub.runtime.registry.action('dingtalk.robot.send'))
      assert.ok(!ids.includes('catch-hook-to-dingtalk-robot'), 'only offered when its action exists');
    else {
      const robot = await api(hub.url!, 'POST', '/api/v1/recipes/catch-hook-to-dingtalk-robot/instantiate', {
        flowId: 'orders-robot',
        enabled: false,
        fields: { hook: 'orders', connection: 'sales-robot' },
      });
      assert.equal(robot.status, 201, JSON.stringify(robot.json));
      assert.equal(robot.json.then[0].action, 'dingtalk.robot.send');
      assert.equal(robot.json.then[0].connection, 'sales-robot');
      assert.match(robot.json.then[0].input.text, /\{\{ data\.name \}\}/, 'the default message template');
      assert.equal((await api(hub.url!, 'DELETE', '/api/v1/flows/orders-robot')).status, 204);
      // In the admin's language, a field left out takes the recipe's default in that language.
      const hk = await api(hub.url!, 'POST', '/api/v1/recipes/catch-hook-to-dingtalk-robot/instantiate', {
        flowId: 'orders-robot-hk',
        enabled: false,
        lang: 'zh-HK',
        fields: { hook: 'orders', connection: 'sales-robot' },
      });
      assert.equal(hk.status, 201, JSON.stringify(hk.json));
      assert.match(hk.json.then[0].input.text, /^收到 \{\{ data\.name \}\} 的新提交/, 'the zh-HK default template');
      assert.equal((await api(hub.url!, 'DELETE', '/api/v1/flows/orders-robot-hk')).status, 204);
    }

    const other: HubProcess = await spawnHub(environment, ['serve', '--no-worker']);
    try {
      assert.equal((await api(other.url, 'GET', '/api/v1/flows/orders-out')).status, 404);
      const missing = await api(hub.url!, 'POST', '/api/v1/recipes/catch-hook-to-http/instantiate', {
        flowId: 'orders-out',
        fields: { hook: 'orders' },
      });
      assert.equal(missing.status, 400);
      const made = await api(hub.url!, 'POST', '/api/v1/recipes/catch-hook-to-http/instantiate', {
        flowId: 'orders-out',
        fields: { hook: 'orders', url: sink.url, condition: 'data.amount > 100' },
      });
      assert.equal(made.status, 201, JSON.stringify(made.json));
      assert.equal(made.json.when.source, 'orders');
      assert.equal(made.json.meta.recipe, 'catch-hook-to-http');
      await waitUntil(
        async () => (await api(other.url, 'GET', '/api/v1/flows/orders-out')).status === 200,
        'the other process sees the new flow',
        5000,
      );

      // An event through the other process's ingress is dispatched by this process's workers with the new flow.
      const small = await postHook(other.url, 'orders', { name: 'Small', amount: 5 });
      const { id } = await postHook(other.url, 'orders', { name: 'Big', amount: 500 });
      await sink.waitFor(1);
      assert.deepEqual(sink.requests[0]!.json, { name: 'Big', amount: 500 });
      const run = await waitUntil(async () => {
        const r = await api(hub.url!, 'GET', `/api/v1/runs/${id}`);
        return r.json.status === 'succeeded' && r.json;
      }, 'run succeeded');
      assert.equal(run.steps[0].attemptDetails[0].status, 'succeeded');
      assert.equal(run.steps[0].attemptDetails[0].request.method, 'POST');
      const noFlow = await waitUntil(async () => {
        const r = await api(hub.url!, 'GET', `/api/v1/runs/${small.id}`);
        return r.json.status === 'no_flows' && r.json;
      }, 'small order matched nothing');
      assert.equal(noFlow.steps.length, 0);

      // Disabled in this process: the other one stops matching it too.
      assert.equal((await api(hub.url!, 'POST', '/api/v1/flows/orders-out/disable')).json.enabled, false);
      await waitUntil(
        async () => (await api(other.url, 'GET', '/api/v1/flows/orders-out')).json.enabled === false,
        'the other process sees it disabled',
        5000,
      );
      await api(hub.url!, 'POST', '/api/v1/flows/orders-out/enable');
    } finally {
      await other.kill();
    }

    sink.setDefault({ status: 500, body: '{"error":"down"}' });
    const { id: failing } = await postHook(hub.url!, 'orders', { name: 'Fails', amount: 900 });
    const dead = await waitUntil(
      async () => {
        const r = await api(hub.url!, 'GET', `/api/v1/runs/${failing}`);
        return r.json.status === 'failed' && r.json;
      },
      'run dead-lettered',
      30_000,
    );
    assert.equal(dead.steps[0].status, 'dead');
    assert.match(dead.steps[0].lastError, /500/);
    assert.equal(dead.steps[0].attemptDetails.length, 4);
    assert.equal(dead.steps[0].attemptDetails[0].response.status, 500);

    const failedList = await api(hub.url!, 'GET', '/api/v1/runs?status=failed&flow=orders-out');
    assert.deepEqual(
      failedList.json.items.map((e: any) => e.id),
      [failing],
    );
    assert.equal((await api(hub.url!, 'GET', '/api/v1/runs?status=succeeded&connector=http')).json.items.length, 1);
    assert.equal((await api(hub.url!, 'GET', '/api/v1/runs?source=nope')).json.items.length, 0);

    sink.setDefault({ status: 200, body: '{"ok":true}' });
    const replayed = await api(hub.url!, 'POST', `/api/v1/runs/${failing}/replay`);
    assert.equal(replayed.status, 200);
    assert.equal(replayed.json.steps.length, 1);
    await waitUntil(
      async () => (await api(hub.url!, 'GET', `/api/v1/runs/${failing}`)).json.status === 'succeeded',
      'replayed run succeeded',
    );
    assert.equal(
      (await api(hub.url!, 'POST', `/api/v1/runs/steps/${encodeURIComponent(dead.steps[0].id)}/replay`)).status,
      409,
      'a succeeded step is not replayed',
    );

    // Bulk replay of a filter.
    sink.setDefault({ status: 500 });
    const a = await postHook(hub.url!, 'orders', { name: 'A', amount: 101 });
    const b = await postHook(hub.url!, 'orders', { name: 'B', amount: 102 });
    await waitUntil(async () => (await api(hub.url!, 'GET', '/api/v1/runs?status=failed')).json.items.length === 2, 'two failed', 30_000);
    sink.setDefault({ status: 200 });
    const bulk = await api(hub.url!, 'POST', '/api/v1/runs/replay', { flow: 'orders-out' });
    assert.deepEqual(bulk.json.events.sort(), [a.id, b.id].sort());
    await waitUntil(
      async () => (await api(hub.url!, 'GET', '/api/v1/runs?status=failed')).json.items.length === 0,
      'bulk replay done',
      20_000,
    );

    // Paging.
    const p1 = await api(hub.url!, 'GET', '/api/v1/runs?limit=2');
    assert.equal(p1.json.items.length, 2);
    const p2 = await api(hub.url!, 'GET', `/api/v1/runs?limit=2&cursor=${encodeURIComponent(p1.json.next)}`);
    assert.ok(p2.json.items.length >= 1);
    assert.equal(
      p2.json.items.some((e: any) => p1.json.items.some((x: any) => x.id === e.id)),
      false,
    );
  });

  test('run test: one flow on a sample event, marked as a test', async () => {
    const before = sink.requests.length;
    const res = await api(hub.url!, 'POST', '/api/v1/flows/orders-out/test', { data: { name: 'Test', amount: 1 } });
    assert.equal(res.status, 202);
    await sink.waitFor(before + 1);
    const run = await waitUntil(async () => {
      const r = await api(hub.url!, 'GET', `/api/v1/runs/${res.json.eventId}`);
      return r.json.status === 'succeeded' && r.json;
    }, 'test run done');
    assert.equal(run.test, true);
    assert.deepEqual(sink.requests.at(-1)!.json, { name: 'Test', amount: 1 }, 'the condition is not applied to a test run');
  });

  test('live updates: the runs stream says when something changed', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${hub.url}/api/v1/runs/stream`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      signal: ctrl.signal,
    });
    assert.match(res.headers.get('content-type')!, /text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const read = async (until: RegExp) => {
      while (!until.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    };
    await read(/event: change/);
    text = '';
    await postHook(hub.url!, 'orders', { name: 'Live', amount: 1 });
    await read(/event: change/);
    ctrl.abort();
  });

  test('flow CRUD through the API is audited', async () => {
    const flow = {
      id: 'crud',
      name: 'CRUD',
      when: { event: 'catch_hook.received', source: 'orders' },
      then: [{ action: 'http.post', input: { url: sink.url, body: '{}' } }],
    };
    assert.equal((await api(hub.url!, 'POST', '/api/v1/flows', flow)).status, 201);
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const withSecret = { ...flow, then: [{ ...flow.then[0]!, input: { ...flow.then[0]!.input, secret } }] };
    const put1 = await api(hub.url!, 'PUT', '/api/v1/flows/crud', withSecret);
    assert.equal(put1.json.then[0].input.secret, '********', 'secret inputs are write-only');
    assert.equal(JSON.stringify((await api(hub.url!, 'GET', '/api/v1/flows')).json).includes(secret), false);
    const updated = await api(hub.url!, 'PUT', '/api/v1/flows/crud', {
      ...put1.json,
      meta: undefined,
      lastRun: undefined,
      id: undefined,
      name: 'Renamed',
    });
    assert.equal(updated.status, 200, JSON.stringify(updated.json));
    assert.equal(updated.json.name, 'Renamed');
    assert.equal(hub.runtime.flows.get('crud')!.then[0]!.input.secret, secret, 'the mask sent back keeps the stored secret');
    assert.equal((await api(hub.url!, 'DELETE', '/api/v1/flows/crud')).status, 204);
    assert.equal((await api(hub.url!, 'GET', '/api/v1/flows/crud')).status, 404);
    const audit = await api(hub.url!, 'GET', '/api/v1/audit?action=flow.*');
    const seen = [...new Set(audit.json.items.filter((i: any) => i.target === 'crud').map((i: any) => i.action))].sort();
    assert.deepEqual(seen, ['flow.created', 'flow.deleted', 'flow.updated']);
    const replays = await api(hub.url!, 'GET', '/api/v1/audit?action=run.*');
    assert.ok(replays.json.items.some((i: any) => i.action === 'run.replayed'));
    assert.ok(replays.json.items.some((i: any) => i.action === 'run.bulk_replayed'));
  });
});
