import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { MODES, ROOT, TEST_ADMIN_TOKEN, prepareEnvironment, spawnHub, waitUntil, type Environment } from './helpers/hub.ts';
import { queryHub } from './helpers/hub-db.ts';
import { startSink, type Sink } from './helpers/sink.ts';

let sink: Sink;
let environment: Environment;
before(async () => {
  sink = await startSink();
  environment = await prepareEnvironment(MODES[0]!, 'shutdown', {
    EXAMPLE_HOOK_SECRET: 'shutdown-hook-secret',
    SINK_URL: sink.url,
    SINK_SECRET: `whsec_${Buffer.alloc(32, 3).toString('base64')}`,
    DINGBRIDGE_CONFIG: path.join(ROOT, 'examples/catch-hook-to-http.yaml'),
  });
});
after(async () => {
  await sink.close();
  await environment.cleanup();
});

test('SIGTERM lets the in-flight step finish, then stops the embedded PostgreSQL and exits 0', async () => {
  const hub = await spawnHub(environment, ['serve']);
  sink.setDefault({ status: 200, body: '{"ok":true}', delayMs: 2000 });
  const body = JSON.stringify({ name: 'Slow order', amount: 500 });
  const res = await fetch(`${hub.url}/hooks/catch/example`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-signature': crypto.createHmac('sha256', 'shutdown-hook-secret').update(body).digest('hex'),
    },
    body,
  });
  const { id } = (await res.json()) as { id: string };
  await sink.waitFor(1);
  const exited = new Promise<number | null>((resolve) => hub.child.once('exit', (code) => resolve(code)));
  const t0 = Date.now();
  hub.child.kill('SIGTERM');
  const code = await exited;
  assert.equal(code, 0, hub.output().slice(-1500));
  assert.ok(Date.now() - t0 >= 1000, 'it waited for the step');
  assert.match(hub.output(), /dingbridge stopped/);
  // A clean start afterwards (no orphaned postmaster), and the step is recorded as done.
  const again = await spawnHub(environment, ['serve']);
  const rows = await waitUntil(
    () => queryHub<{ status: string }>(environment, 'select status from step_runs where event_id = $1', [id]),
    'step row',
  );
  assert.deepEqual(rows, [{ status: 'succeeded' }]);
  await again.kill('SIGTERM');
  assert.equal(sink.requests.length, 1);
});

test('SIGTERM with the Runs page open (its live stream never ends by itself): the hub still stops and exits 0', async () => {
  const hub = await spawnHub(environment, ['serve']);
  const stream = await fetch(`${hub.url}/api/v1/runs/stream`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  assert.equal(stream.status, 200);
  const reader = stream.body!.getReader();
  await reader.read(); // the stream is open and has spoken
  const exited = new Promise<number | null>((resolve) => hub.child.once('exit', (code) => resolve(code)));
  hub.child.kill('SIGTERM');
  assert.equal(await exited, 0, hub.output().slice(-1500));
  assert.match(hub.output(), /dingbridge stopped/);
  // The hub cut the stream rather than waiting for the browser to leave.
  for (;;) if ((await reader.read().catch(() => ({ done: true }))).done) break;
});
