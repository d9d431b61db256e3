import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { MODES, ROOT, prepareEnvironment, spawnHub, waitUntil, type Environment, type HubProcess } from './helpers/hub.ts';
import { services, TEST_REDIS_URL } from './helpers/services.ts';
import { startSink, type Sink } from './helpers/sink.ts';
import { queryHub } from './helpers/hub-db.ts';

const HOOK_SECRET = 'recovery-hook-secret';
const SINK_SECRET = `whsec_${Buffer.from('another sink secret, 32 bytes!!').toString('base64')}`;
const EXAMPLE = path.join(ROOT, 'examples/catch-hook-to-http.yaml');

async function post(url: string, payload: object) {
  const body = JSON.stringify(payload);
  const res = await fetch(`${url}/hooks/catch/example`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': crypto.createHmac('sha256', HOOK_SECRET).update(body).digest('hex') },
    body,
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { id: string }).id;
}

/** Names that reached the sink with a 2xx answer, and how many requests each name got. */
function deliveries(sink: Sink) {
  const counts = new Map<string, number>();
  for (const r of sink.requests) {
    const name = (r.json as { name?: string })?.name;
    if (name) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

const available = await services();

for (const mode of MODES) {
  const missing = (mode.queue === 'redis' && !available.redis) || (mode.store === 'external' && !available.postgres);
  describe(`recovery — ${mode.name}`, { skip: missing ? 'needs the test services' : false }, () => {
    let sink: Sink;
    let environment: Environment;
    let hub: HubProcess | undefined;

    before(async () => {
      sink = await startSink();
      environment = await prepareEnvironment(mode, 'recovery', {
        EXAMPLE_HOOK_SECRET: HOOK_SECRET,
        SINK_URL: sink.url,
        SINK_SECRET,
        DINGBRIDGE_CONFIG: EXAMPLE,
        DINGBRIDGE_STEP_ATTEMPTS: '8',
      });
    });
    after(async () => {
      await hub?.kill('SIGKILL');
      await sink?.close();
      await environment?.cleanup();
    });

    test('a hub killed with SIGKILL mid-step: after restart every stored event is delivered, finished steps never run again, a re-run keeps its webhook-id', async () => {
      hub = await spawnHub(environment, ['serve']);
      const done = await post(hub.url, { name: 'done-before-crash', amount: 500 });
      await waitUntil(
        async () =>
          (await queryHub(environment, "select 1 from step_runs where event_id = $1 and status = 'succeeded'", [done])).length === 1,
        'first event delivered',
      );

      // The sink now holds each request for 4 s: the steps are mid-flight when the hub dies.
      sink.setDefault({ status: 200, body: '{"ok":true}', delayMs: 4000 });
      const inFlight = ['crash-1', 'crash-2', 'crash-3'];
      for (const name of inFlight) await post(hub.url, { name, amount: 200 });
      await sink.waitFor(1 + inFlight.length, 15_000);
      await hub.kill('SIGKILL');
      const running = await queryHub<{ n: number }>(environment, "select count(*)::int as n from step_runs where status = 'running'").catch(
        () => undefined,
      );
      if (running) assert.ok(running[0]!.n >= 1, 'steps were running when the hub died');

      sink.setDefault({ status: 200, body: '{"ok":true}' });
      // Queued before the crash but never started: also delivered after the restart.
      hub = await spawnHub(environment, ['serve']);
      await waitUntil(
        async () => {
          const rows = await queryHub<{ n: number }>(environment, "select count(*)::int as n from step_runs where status = 'succeeded'");
          return rows[0]!.n === 1 + inFlight.length;
        },
        'every stored event delivered after the restart',
        30_000,
      );

      const counts = deliveries(sink);
      assert.equal(counts.get('done-before-crash'), 1, 'a step recorded as done never runs again');
      for (const name of inFlight) {
        assert.equal(counts.get(name), 2, `${name}: sent once before the crash, re-run once after`);
        const ids = new Set(sink.requests.filter((r) => (r.json as { name?: string })?.name === name).map((r) => r.headers['webhook-id']));
        assert.equal(ids.size, 1, `${name}: the re-run carries the same webhook-id`);
      }
      await hub.kill('SIGTERM');
      hub = undefined;
    });

    test('the queue loses its jobs with work in flight (its Redis keys deleted, or BullMQ tables emptied): the sweep re-enqueues from the database', async () => {
      sink.requests.length = 0;
      hub = await spawnHub(environment, ['serve']);
      // Every attempt fails for now, so each event waits in the queue as a delayed retry.
      sink.setDefault({ status: 503, headers: { 'retry-after': '3' }, body: '{"error":"maintenance"}' });
      const names = Array.from({ length: 6 }, (_, i) => `flush-${i}`);
      for (const name of names) await post(hub.url, { name, amount: 150 });
      await waitUntil(
        async () =>
          (await queryHub<{ n: number }>(environment, "select count(*)::int as n from step_runs where status = 'retrying'"))[0]!.n ===
          names.length,
        'all steps waiting to retry',
      );

      if (mode.queue === 'redis') {
        // Everything this hub keeps in Redis (its BullMQ keys under its own prefix), as a FLUSHALL would
        // lose it, without touching other suites' keys on the shared server.
        const redis = new Redis(TEST_REDIS_URL);
        const prefix = environment.env.DINGBRIDGE_QUEUE_PREFIX;
        assert.ok(prefix, 'the test hub has its own queue prefix');
        let lost = 0;
        for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 500 }) as AsyncIterable<string[]>) {
          if (keys.length) lost += await redis.del(...keys);
        }
        await redis.quit();
        assert.ok(lost > 0, 'the hub had queue keys in Redis to lose');
      } else {
        const schema = `${environment.env.DINGBRIDGE_QUEUE_PREFIX}_queue`;
        const tables = await queryHub<{ table_name: string }>(
          environment,
          'select table_name from information_schema.tables where table_schema = $1',
          [schema],
        );
        const jobTables = tables.map((t) => t.table_name).filter((t) => /job/i.test(t));
        assert.ok(jobTables.length > 0, `BullMQ job tables exist in ${schema}`);
        await queryHub(environment, `truncate ${jobTables.map((t) => `"${schema}"."${t}"`).join(', ')} cascade`);
      }
      sink.setDefault({ status: 200, body: '{"ok":true}' });

      await waitUntil(
        async () =>
          (
            await queryHub<{ n: number }>(
              environment,
              "select count(*)::int as n from step_runs where status = 'succeeded' and event_id in (select id from events where data->>'name' like 'flush-%')",
            )
          )[0]!.n === names.length,
        'every event delivered after the queue was emptied',
        // A condition, not a timer: on a busy CI machine (two suites at once) the retries' 3 s wait, the
        // sweep's grace and BullMQ's stalled-job check can add up to more than half a minute.
        120_000,
      );
      const okByName = new Map<string, number>();
      // Count the successful deliveries: the sink answered 200 only after the flush.
      const afterFlush = sink.requests.filter((r) => (r.json as { name?: string })?.name?.startsWith('flush-'));
      for (const r of afterFlush)
        okByName.set((r.json as { name: string }).name, (okByName.get((r.json as { name: string }).name) ?? 0) + 1);
      for (const name of names) assert.ok((okByName.get(name) ?? 0) >= 1, `${name} delivered`);
      const succeeded = await queryHub<{ n: number }>(
        environment,
        "select count(*)::int as n from step_attempts a join step_runs s on s.id = a.step_run_id join events e on e.id = s.event_id where a.status = 'succeeded' and e.data->>'name' like 'flush-%'",
      );
      assert.equal(succeeded[0]!.n, names.length, 'each event succeeded exactly once');
      await hub.kill('SIGTERM');
      hub = undefined;
    });
  });
}
