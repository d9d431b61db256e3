import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { MODES, ROOT, prepareEnvironment, startTestHub, waitUntil, writeConfig, type Environment } from './helpers/hub.ts';
import { services } from './helpers/services.ts';
import { startSink, type Sink } from './helpers/sink.ts';
import { queryHub } from './helpers/hub-db.ts';
import type { Hub } from '../app/hub.ts';
import { ingestEvent } from '../core/pipeline/ingest.ts';

const HOOK_SECRET = 'test-hook-secret-1234';
const SINK_SECRET = `whsec_${Buffer.from('a sink secret of 32 bytes!!!!!!!').toString('base64')}`;
const EXAMPLE = path.join(ROOT, 'examples/catch-hook-to-http.yaml');
const run = promisify(execFile);

const sign = (body: string) => crypto.createHmac('sha256', HOOK_SECRET).update(body).digest('hex');

async function post(hub: Hub, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${hub.url}/hooks/catch/example`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': sign(body), ...headers },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

const stepsOf = (env: Environment, eventId: string) =>
  queryHub<{ id: string; status: string; attempts: number; last_error: string | null }>(
    env,
    'select id, status, attempts, last_error from step_runs where event_id = $1',
    [eventId],
  );

const available = await services();

for (const mode of MODES) {
  const needs = mode.queue === 'redis' || mode.store === 'external';
  const skip =
    (mode.queue === 'redis' && !available.redis) || (mode.store === 'external' && !available.postgres)
      ? `needs ${mode.queue === 'redis' ? 'Redis' : 'PostgreSQL'}`
      : false;
  describe(`pipeline — ${mode.name}`, { skip: needs ? skip : false }, () => {
    let sink: Sink;
    let environment: Environment;
    let hub: Hub;

    before(async () => {
      sink = await startSink();
      environment = await prepareEnvironment(mode, 'pipeline', {
        EXAMPLE_HOOK_SECRET: HOOK_SECRET,
        SINK_URL: sink.url,
        SINK_SECRET,
        DINGBRIDGE_BODY_LIMIT: '20000',
      });
      environment.env.DINGBRIDGE_CONFIG = EXAMPLE;
      hub = await startTestHub(environment);
    });
    after(async () => {
      await hub?.stop();
      await sink?.close();
      await environment?.cleanup();
    });

    test('a signed event over 100 reaches the sink once, signed per Standard Webhooks', async () => {
      const before = sink.requests.length;
      const body = JSON.stringify({ name: 'Chan Tai Man', amount: 250 });
      const res = await post(hub, body);
      assert.equal(res.status, 200);
      assert.match(res.json.id, /^evt_/);
      assert.equal(res.json.duplicate, false);
      await sink.waitFor(before + 1);
      const got = sink.requests[before]!;
      assert.deepEqual(got.json, { name: 'Chan Tai Man', amount: 250 });
      const verified = new Webhook(SINK_SECRET).verify(got.body, {
        'webhook-id': String(got.headers['webhook-id']),
        'webhook-timestamp': String(got.headers['webhook-timestamp']),
        'webhook-signature': String(got.headers['webhook-signature']),
      });
      assert.deepEqual(verified, { name: 'Chan Tai Man', amount: 250 });
      const steps = await waitUntil(async () => {
        const s = await stepsOf(environment, res.json.id);
        return s[0]?.status === 'succeeded' && s;
      }, 'step recorded as succeeded');
      assert.equal(steps.length, 1);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(sink.requests.length, before + 1, 'exactly one delivery');
    });

    test('an amount of 100 or less sends nothing', async () => {
      const before = sink.requests.length;
      const res = await post(hub, JSON.stringify({ name: 'Small', amount: 100 }));
      assert.equal(res.status, 200);
      await waitUntil(
        async () =>
          (await queryHub(environment, "select 1 from events where id = $1 and status = 'dispatched'", [res.json.id])).length === 1,
        'event dispatched',
      );
      const [row] = await queryHub<{ flows_matched: number }>(environment, 'select flows_matched from events where id = $1', [res.json.id]);
      assert.equal(row!.flows_matched, 0);
      assert.deepEqual(await stepsOf(environment, res.json.id), []);
      assert.equal(sink.requests.length, before);
    });

    test('with an active REST-hook subscription (the transaction path), a signed event is stored once and delivered once', async () => {
      // Intake's one-statement path stands aside while a fan-out has work; it must not take the replay claim first.
      await queryHub(
        environment,
        `insert into hook_subscriptions (id, target_url, events, secret, rate_limit, max_concurrency)
         values ('sub_pipeline_test', 'https://example.invalid/hook', '["no.such.event"]', 'sealed', 1, 1)`,
      );
      try {
        const before = sink.requests.length;
        const body = JSON.stringify({ name: 'Subscribed', amount: 300 });
        const res = await post(hub, body);
        assert.equal(res.status, 200);
        assert.equal(res.json.duplicate, false);
        await sink.waitFor(before + 1);
        const again = await post(hub, body);
        assert.equal(again.status, 200);
        assert.equal(again.json.duplicate, true, 'the same signed body again is a duplicate');
        await waitUntil(async () => (await stepsOf(environment, res.json.id))[0]?.status === 'succeeded', 'step recorded as succeeded');
        assert.equal(sink.requests.length, before + 1, 'exactly one delivery');
      } finally {
        await queryHub(environment, "delete from hook_subscriptions where id = 'sub_pipeline_test'");
      }
    });

    test('a bad or missing signature is refused with 401 and nothing is stored', async () => {
      const [{ n: before }] = await queryHub<{ n: number }>(environment, 'select count(*)::int as n from events');
      const body = JSON.stringify({ name: 'Mallory', amount: 999 });
      const bad = await post(hub, body, { 'x-signature': sign('{"other":"body"}') });
      assert.equal(bad.status, 401);
      assert.equal(bad.json.error.code, 'signature_invalid');
      const missing = await fetch(`${hub.url}/hooks/catch/example`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      assert.equal(missing.status, 401);
      assert.equal(((await missing.json()) as any).error.code, 'signature_missing');
      const [{ n: afterCount }] = await queryHub<{ n: number }>(environment, 'select count(*)::int as n from events');
      assert.equal(afterCount, before);
    });

    test('malformed JSON is 400, an oversized body is 413, an unknown hook is 404', async () => {
      const malformed = await post(hub, '{"name": "x", amount: }');
      assert.equal(malformed.status, 400);
      assert.equal(malformed.json.error.code, 'invalid_json');
      const nul = await post(hub, JSON.stringify({ name: 'a\u0000b', amount: 500 }));
      assert.equal(nul.status, 400);
      assert.equal(nul.json.error.code, 'nul_character');
      const big = JSON.stringify({ name: 'x'.repeat(30_000), amount: 500 });
      const oversized = await post(hub, big);
      assert.equal(oversized.status, 413);
      assert.equal(oversized.json.error.code, 'payload_too_large');
      const unknown = await fetch(`${hub.url}/hooks/catch/nope`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(unknown.status, 404);
      assert.equal(((await unknown.json()) as any).error.code, 'hook_not_found');
    });

    test('the same delivery posted 20 times at once is one event and one sink call', async () => {
      const before = sink.requests.length;
      const body = JSON.stringify({ name: 'Repeat', amount: 300 });
      const results = await Promise.all(
        Array.from({ length: 20 }, () => post(hub, body, { 'webhook-id': `delivery-${mode.store}-${mode.queue}` })),
      );
      assert.ok(results.every((r) => r.status === 200));
      const ids = new Set(results.map((r) => r.json.id));
      assert.equal(ids.size, 1);
      assert.equal(results.filter((r) => r.json.duplicate === false).length, 1);
      await sink.waitFor(before + 1);
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(sink.requests.length, before + 1);
      const [{ n }] = await queryHub<{ n: number }>(environment, 'select count(*)::int as n from events where id = $1', [[...ids][0]]);
      assert.equal(n, 1);
    });

    test('40 events at once are stored together; one the database cannot take fails alone, the 39 others are delivered once', async () => {
      const before = sink.requests.length;
      const tag = `together-${mode.store}-${mode.queue}`;
      const events = Array.from({ length: 40 }, (_, i) => ({
        id: `evt_${tag}_${i}`,
        type: 'catch_hook.received',
        source: 'example',
        connectionId: null,
        occurredAt: new Date().toISOString(),
        subject: null,
        // Past the catch hook's own check (a provider's webhook has none): PostgreSQL refuses the NUL.
        data: { name: i === 17 ? 'bad\u0000name' : `${tag}-${i}`, amount: 500 },
      }));
      const outcomes = await Promise.allSettled(events.map((e) => ingestEvent(hub.runtime, e)));
      const refused = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [i] : []));
      assert.deepEqual(refused, [17]);
      assert.ok(outcomes.every((o) => o.status === 'rejected' || o.value.duplicate === false));
      const stored = await queryHub<{ id: string }>(environment, 'select id from events where id like $1', [`evt_${tag}_%`]);
      assert.equal(stored.length, 39);
      await sink.waitFor(before + 39);
      await waitUntil(async () => {
        const [{ n }] = await queryHub<{ n: number }>(
          environment,
          `select count(*)::int as n from step_runs where event_id like $1 and status = 'succeeded'`,
          [`evt_${tag}_%`],
        );
        return n === 39;
      }, 'the 39 steps succeeded');
      const names = sink.requests.slice(before).map((r) => (JSON.parse(r.body) as { name: string }).name);
      assert.equal(names.length, 39);
      assert.equal(new Set(names).size, 39);
      assert.ok(!names.includes('bad\u0000name'));
    });

    test('500, 500, then 200: delivered with three attempts recorded, one webhook-id', async () => {
      const before = sink.requests.length;
      sink.reply({ status: 500 }, { status: 500 });
      const res = await post(hub, JSON.stringify({ name: 'Flaky', amount: 120 }));
      await sink.waitFor(before + 3);
      const steps = await waitUntil(async () => {
        const s = await stepsOf(environment, res.json.id);
        return s[0]?.status === 'succeeded' && s;
      }, 'step succeeded');
      assert.equal(steps[0]!.attempts, 3);
      const attempts = await queryHub<{ attempt: number; status: string }>(
        environment,
        'select attempt, status from step_attempts where step_run_id = $1 order by attempt',
        [steps[0]!.id],
      );
      assert.deepEqual(
        attempts.map((a) => a.status),
        ['failed', 'failed', 'succeeded'],
      );
      const ids = new Set(sink.requests.slice(before).map((r) => r.headers['webhook-id']));
      assert.equal(ids.size, 1, 'every attempt carries the same webhook-id');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(sink.requests.length, before + 3);
    });

    test('429 with Retry-After: 2 delays the next attempt by at least 2 s', async () => {
      const before = sink.requests.length;
      sink.reply({ status: 429, headers: { 'retry-after': '2' } });
      await post(hub, JSON.stringify({ name: 'Throttled', amount: 130 }));
      await sink.waitFor(before + 2, 15_000);
      const gap = sink.requests[before + 1]!.at - sink.requests[before]!.at;
      assert.ok(gap >= 2000, `second attempt came after ${gap} ms`);
    });

    test('a sink that always fails dead-letters the step; `dingbridge replay` delivers it once the sink recovers', async () => {
      const before = sink.requests.length;
      sink.setDefault({ status: 500, body: '{"error":"down"}' });
      const res = await post(hub, JSON.stringify({ name: 'Doomed', amount: 777 }));
      const steps = await waitUntil(
        async () => {
          const s = await stepsOf(environment, res.json.id);
          return s[0]?.status === 'dead' && s;
        },
        'step dead-lettered',
        20_000,
      );
      assert.equal(steps[0]!.attempts, 4, 'the configured number of attempts');
      assert.match(steps[0]!.last_error ?? '', /500/);
      assert.equal(sink.requests.length, before + 4);

      sink.setDefault({ status: 200, body: '{"ok":true}' });
      const { stdout } = await run(process.execPath, [path.join(ROOT, 'bin/dingbridge.js'), 'replay', res.json.id], {
        env: { PATH: process.env.PATH ?? '', ...environment.env, LOG_LEVEL: 'warn' },
      });
      assert.match(stdout, /replayed 1 step/);
      await sink.waitFor(before + 5);
      await waitUntil(async () => (await stepsOf(environment, res.json.id))[0]?.status === 'succeeded', 'replayed step succeeded');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(sink.requests.length, before + 5, 'delivered once after the replay');
      assert.deepEqual(sink.requests[before + 4]!.json, { name: 'Doomed', amount: 777 });
    });
  });
}
