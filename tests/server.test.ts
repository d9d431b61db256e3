import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  MODES,
  TEST_ADMIN_TOKEN,
  prepareEnvironment,
  startTestHub,
  waitUntil,
  writeConfig,
  tempDir,
  type Environment,
} from './helpers/hub.ts';
import { startSink, type Sink } from './helpers/sink.ts';
import { queryHub } from './helpers/hub-db.ts';
import type { Hub } from '../app/hub.ts';

const CONFIG = (sinkUrl: string) => `
version: 1
connections:
  - id: crm
    connector: oauth2
    label: In-house CRM
    settings: { authorizationUrl: "https://crm.example/authorize", tokenUrl: "https://crm.example/token", clientId: crm-client }
    secrets: { clientSecret: "\${CRM_CLIENT_SECRET}" }
hooks:
  - id: open
  - id: orders
    idField: order.id
    maxBodyBytes: 200
flows:
  - id: forward-form
    when: { event: catch_hook.received, source: open, condition: 'data.kind == "form"' }
    then:
      - action: http.post
        input:
          url: ${sinkUrl}
          body: { who: "{{ data.who }}", count: "{{ data.count | plus: 1 }}", whole: "{{ data }}" }
      - action: http.post
        input:
          url: ${sinkUrl}
          body: { previous: "{{ steps[0].output.status }}" }
  - id: orders-any
    when: { event: catch_hook.*, source: orders }
    then:
      - action: http.post
        input: { url: ${sinkUrl}, body: { order: "{{ data.order.id }}" } }
`;

describe('hub HTTP surface (default mode)', () => {
  let sink: Sink;
  let environment: Environment;
  let hub: Hub;

  before(async () => {
    sink = await startSink();
    environment = await prepareEnvironment(MODES[0]!, 'server', { CRM_CLIENT_SECRET: 'crm-secret-value-42' });
    delete environment.env.DINGBRIDGE_ENCRYPTION_KEY; // the embedded default generates its own key
    environment.env.DINGBRIDGE_CONFIG = writeConfig(tempDir('server-config'), CONFIG(sink.url));
    hub = await startTestHub(environment);
  });
  after(async () => {
    await hub?.stop();
    await sink?.close();
    await environment?.cleanup();
  });

  test('/healthz and /readyz report the process, database and queue', async () => {
    const health = await fetch(`${hub.url}/healthz`);
    assert.equal(health.status, 200);
    const ready = await fetch(`${hub.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', checks: { database: 'ok', queue: 'ok' }, queueBackend: 'postgres' });
  });

  test("a form body runs a two-step flow; a single {{ }} keeps its type; the second step sees the first one's output", async () => {
    const before = sink.requests.length;
    const res = await fetch(`${hub.url}/hooks/catch/open`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'kind=form&who=Lee+Siu+Ming&count=41',
    });
    assert.equal(res.status, 200);
    await sink.waitFor(before + 2);
    assert.deepEqual(sink.requests[before]!.json, {
      who: 'Lee Siu Ming',
      count: 42,
      whole: { kind: 'form', who: 'Lee Siu Ming', count: '41' },
    });
    assert.deepEqual(sink.requests[before + 1]!.json, { previous: 200 });
  });

  test('a configured id field de-duplicates deliveries; a per-hook body limit gives 413', async () => {
    const before = sink.requests.length;
    const send = (body: object) =>
      fetch(`${hub.url}/hooks/catch/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const first = (await (await send({ order: { id: 'SO-1001' }, note: 'first' })).json()) as { id: string; duplicate: boolean };
    const again = (await (await send({ order: { id: 'SO-1001' }, note: 'sent again' })).json()) as { id: string; duplicate: boolean };
    assert.equal(first.duplicate, false);
    assert.equal(again.duplicate, true);
    assert.equal(again.id, first.id);
    await sink.waitFor(before + 1);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(sink.requests.length, before + 1);
    const big = await send({ order: { id: 'SO-2' }, note: 'x'.repeat(300) });
    assert.equal(big.status, 413);
    const unsupported = await fetch(`${hub.url}/hooks/catch/open`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    });
    assert.equal(unsupported.status, 415);
  });

  test('the embedded default generates its key file (mode 0600); connections declared in the file are sealed', async () => {
    const keyFile = path.join(environment.dataDir, 'encryption-keys');
    assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
    const res = await fetch(`${hub.url}/api/v1/connections/crm`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    assert.equal(res.status, 200);
    const view = (await res.json()) as any;
    assert.equal(view.origin, 'config');
    assert.deepEqual(view.secrets, { clientSecret: { set: true, last4: 'e-42' } });
    const rows = await queryHub<{ secrets: string }>(environment, "select secrets from connections where id = 'crm'");
    assert.match(rows[0]!.secrets, /^v1\./);
    assert.equal(rows[0]!.secrets.includes('crm-secret-value-42'), false);
    const anonymous = await fetch(`${hub.url}/api/v1/connections`);
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as any).error.code, 'unauthenticated');
  });

  test("unknown API, hook and webhook routes answer a JSON 404 (the UI's page fallback never shadows them)", async () => {
    for (const p of ['/api/v1/nope', '/hooks/nope', '/webhooks/nope']) {
      const res = await fetch(`${hub.url}${p}`);
      assert.equal(res.status, 404, p);
      assert.equal(((await res.json()) as any).error.code, 'not_found', p);
    }
  });

  test('/metrics counts events and steps and shows queue depth', async () => {
    const text = await (await fetch(`${hub.url}/metrics`)).text();
    assert.match(text, /dingbridge_events_total\{outcome="stored",type="catch_hook.received"\} [1-9]/);
    assert.match(text, /dingbridge_events_total\{outcome="duplicate",type="catch_hook.received"\} [1-9]/);
    assert.match(text, /dingbridge_steps_total\{outcome="succeeded",action="http.post"\} [1-9]/);
    assert.match(text, /dingbridge_step_duration_seconds_bucket/);
    assert.match(text, /dingbridge_queue_depth\{queue="steps",state="waiting"\} \d+/);
  });

  test('stopping the hub lets an in-flight step finish first', async () => {
    const before = sink.requests.length;
    sink.reply({ status: 200, body: '{"slow":true}', delayMs: 1500 });
    const res = await fetch(`${hub.url}/hooks/catch/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ order: { id: 'SO-SLOW' } }),
    });
    const { id } = (await res.json()) as { id: string };
    await sink.waitFor(before + 1);
    const t0 = Date.now();
    await hub.stop();
    assert.ok(Date.now() - t0 >= 900, 'stop waited for the step');
    hub = await startTestHub(environment);
    const rows = await waitUntil(
      async () =>
        queryHub<{ status: string; attempts: number }>(environment, 'select status, attempts from step_runs where event_id = $1', [id]),
      'step row',
    );
    assert.deepEqual(rows, [{ status: 'succeeded', attempts: 1 }]);
  });
});
