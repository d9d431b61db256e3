import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MODES, prepareEnvironment, startTestHub, tempDir, waitUntil, writeConfig, type Environment } from './helpers/hub.ts';
import { services } from './helpers/services.ts';
import { startSink, type Sink } from './helpers/sink.ts';
import { queryHub } from './helpers/hub-db.ts';
import { ADMIN_TOKEN, api } from './helpers/api.ts';
import type { Hub } from '../app/hub.ts';

const EVENTS = 1000;
const available = await services();

for (const mode of [MODES[0]!, MODES[1]!]) {
  const skip = mode.queue === 'redis' && !(available.redis && available.postgres) ? 'needs Redis and PostgreSQL' : false;
  describe(`REST hooks under load — ${mode.name}`, { skip }, () => {
    let environment: Environment;
    let hub: Hub;
    const sinks: Sink[] = [];

    before(async () => {
      environment = await prepareEnvironment(mode, 'resthooks-load', {
        DINGBRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
        // Shrunk from 0,5s,5m,30m,2h,5h,10h,10h: eight attempts over ~20 s.
        DINGBRIDGE_HOOK_RETRY_SCHEDULE: '0,500ms,1s,2s,3s,4s,5s,5s',
        LOG_LEVEL: 'info',
      });
      environment.env.DINGBRIDGE_CONFIG = writeConfig(tempDir('resthooks-load-config'), 'version: 1\nhooks:\n  - id: load\n');
      hub = await startTestHub(environment);
      for (let i = 0; i < 3; i++) sinks.push(await startSink());
    });
    after(async () => {
      await hub?.stop();
      for (const s of sinks) await s.close();
      await environment?.cleanup();
    });

    test(`${EVENTS} events × 3 subscriptions, one target down for a while: each target gets every event exactly once, the healthy ones undelayed`, { timeout: 90_000 }, async () => {
      const [a, b, down] = sinks as [Sink, Sink, Sink];
      down.setDefault({ status: 503, body: '{"error":"maintenance"}' });
      const subs = [];
      for (const s of sinks) {
        const res = await api(hub, 'POST', '/api/v1/hooks', { target_url: s.url, events: ['catch_hook.received'], rate_limit: 2000 });
        assert.equal(res.status, 201);
        subs.push(res.json.id as string);
      }

      const started = Date.now();
      const postedAt = new Map<number, number>();
      let next = 0;
      await Promise.all(Array.from({ length: 25 }, async () => {
        while (next < EVENTS) {
          const n = next++;
          const res = await fetch(`${hub.url}/hooks/catch/load`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': `load-${n}` }, body: JSON.stringify({ n }) });
          assert.equal(res.status, 200);
          await res.arrayBuffer();
          postedAt.set(n, Date.now());
        }
      }));
      const postedMs = Date.now() - started;

      await Promise.all([a.waitFor(EVENTS, 45_000), b.waitFor(EVENTS, 45_000)]);
      const healthyDoneMs = Date.now() - started;
      // The down target is still down: the healthy ones finished without waiting for it.
      const recoveredAt = Date.now();
      const failedMeanwhile = down.requests.length;
      down.setDefault({ status: 200, body: '{"ok":true}' });

      await waitUntil(() => new Set(down.requests.filter((r) => r.at >= recoveredAt).map((r) => r.headers['webhook-id'])).size >= EVENTS, 'the recovered target has every event', 45_000, 200);
      await waitUntil(async () => {
        const [row] = await queryHub<{ n: number }>(environment, "select count(*)::int as n from hook_deliveries where status = 'succeeded'");
        return row!.n === EVENTS * 3;
      }, 'every delivery recorded as succeeded', 20_000, 200);
      await new Promise((r) => setTimeout(r, 1000));
      const totalMs = Date.now() - started;

      for (const [name, s] of [['a', a], ['b', b]] as const) {
        const ids = s.requests.map((r) => String(r.headers['webhook-id']));
        assert.equal(s.requests.length, EVENTS, `healthy target ${name} got ${s.requests.length} requests`);
        assert.equal(new Set(ids).size, EVENTS, `healthy target ${name}: every event exactly once by webhook-id`);
        assert.deepEqual(new Set(s.requests.map((r) => (r.json as any).data.n)).size, EVENTS);
      }
      const succeededAtDown = down.requests.filter((r) => r.at >= recoveredAt);
      assert.equal(succeededAtDown.length, EVENTS, 'the recovered target answered 200 to each event once');
      assert.equal(new Set(succeededAtDown.map((r) => r.headers['webhook-id'])).size, EVENTS);
      assert.ok(failedMeanwhile >= EVENTS, `the down target was tried for each event while down (${failedMeanwhile} failed attempts)`);

      // Undelayed: the healthy targets' delivery latency (event acknowledged → request at the target).
      const latencies = a.requests.concat(b.requests).map((r) => r.at - postedAt.get((r.json as any).data.n)!).sort((x, y) => x - y);
      const p95 = latencies[Math.floor(latencies.length * 0.95)]!;
      process.stdout.write(`# ${mode.name}: posted ${EVENTS} in ${postedMs} ms; healthy targets complete at ${healthyDoneMs} ms (p95 latency ${p95} ms); down target complete at ${totalMs} ms after ${failedMeanwhile} failed attempts\n`);
      assert.ok(p95 < 5000, `healthy deliveries p95 ${p95} ms`);
      assert.ok(totalMs < 60_000, `whole run ${totalMs} ms`);
      for (const id of subs) await api(hub, 'DELETE', `/api/v1/hooks/${id}`);
    });
  });
}
