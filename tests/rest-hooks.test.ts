import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { Validator } from '@seriousme/openapi-schema-validator';
import { MODES, prepareEnvironment, startTestHub, tempDir, waitUntil, writeConfig, type Environment } from './helpers/hub.ts';
import { services } from './helpers/services.ts';
import { startSink, type Sink, type SinkRequest } from './helpers/sink.ts';
import { queryHub } from './helpers/hub-db.ts';
import { ADMIN_TOKEN, api, postEvent } from './helpers/api.ts';
import type { Hub } from '../app/hub.ts';

const CONFIG = `
version: 1
hooks:
  - id: rh
`;

const available = await services();
const verify = (secret: string, r: SinkRequest) =>
  new Webhook(secret).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  });

// The default mode and the scale-out mode (Redis).
for (const mode of [MODES[0]!, MODES[1]!]) {
  const skip = mode.queue === 'redis' && !(available.redis && available.postgres) ? 'needs Redis and PostgreSQL' : false;
  describe(`REST hooks — ${mode.name}`, { skip }, () => {
    let environment: Environment;
    let hub: Hub;
    let sink: Sink;
    let key: string;

    const subscribe = async (body: Record<string, unknown>, token = key) => {
      const res = await api(hub, 'POST', '/api/v1/hooks', body, token);
      assert.equal(res.status, 201, JSON.stringify(res.json));
      return res.json as { id: string; secret: string };
    };
    const deliveriesOf = (subId: string) =>
      queryHub<{ id: string; status: string; attempts: number; event_id: string }>(
        environment,
        'select id, status, attempts, event_id from hook_deliveries where subscription_id = $1',
        [subId],
      );
    const requestsFor = (s: Sink, test: string) => s.requests.filter((r) => (r.json as any)?.data?.test === test);

    before(async () => {
      sink = await startSink();
      environment = await prepareEnvironment(mode, 'resthooks', {
        DINGBRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
        DINGBRIDGE_HOOK_RETRY_SCHEDULE: '0,150ms,300ms,450ms',
        DINGBRIDGE_HOOK_RATE_LIMIT: '1000',
        DINGBRIDGE_HOOK_CONCURRENCY: '8',
      });
      environment.env.DINGBRIDGE_CONFIG = writeConfig(tempDir('resthooks-config'), CONFIG);
      hub = await startTestHub(environment);
      const created = await api(hub, 'POST', '/api/v1/api-keys', {
        label: 'tests',
        scopes: ['hooks:read', 'hooks:write', 'events:read', 'actions:run', 'catch_hooks:read', 'catch_hooks:write'],
      });
      assert.equal(created.status, 201);
      key = created.json.key;
    });
    after(async () => {
      await hub?.stop();
      await sink?.close();
      await environment?.cleanup();
    });

    test('API keys: created by the owner, shown once, stored hashed, scoped, revocable', async () => {
      assert.match(key, /^dbk_/);
      const list = await api(hub, 'GET', '/api/v1/api-keys');
      assert.equal(list.status, 200);
      assert.ok(!JSON.stringify(list.json).includes(key), 'the key is never listed');
      const [row] = await queryHub<{ key_hash: string }>(environment, 'select key_hash from api_keys where label = $1', ['tests']);
      assert.equal(row!.key_hash, crypto.createHash('sha256').update(key).digest('hex'));
      assert.equal((await api(hub, 'GET', '/api/v1/hooks', undefined, null)).status, 401);
      assert.equal((await api(hub, 'GET', '/api/v1/hooks', undefined, 'dbk_not-a-key')).json.error.code, 'invalid_api_key');
      const readOnly = await api(hub, 'POST', '/api/v1/api-keys', { label: 'read only', scopes: ['hooks:read'] });
      const ro = readOnly.json.key as string;
      assert.equal((await api(hub, 'GET', '/api/v1/hooks', undefined, ro)).status, 200);
      const denied = await api(hub, 'POST', '/api/v1/hooks', { target_url: sink.url, events: ['x'] }, ro);
      assert.equal(denied.status, 403);
      assert.match(denied.json.error.message, /hooks:write/);
      assert.equal(
        (await api(hub, 'POST', '/api/v1/api-keys', { label: 'escalate', scopes: ['hooks:read'] }, key)).status,
        403,
        'an API key cannot create keys',
      );
      assert.equal((await api(hub, 'POST', '/api/v1/api-keys', { label: 'bad', scopes: ['root'] })).status, 400);
      assert.equal((await api(hub, 'DELETE', `/api/v1/api-keys/${readOnly.json.id}`)).status, 204);
      assert.equal((await api(hub, 'GET', '/api/v1/hooks', undefined, ro)).status, 401);
      const me = await api(hub, 'GET', '/api/v1/me', undefined, key);
      assert.deepEqual([me.json.kind, me.json.label], ['api_key', 'tests']);
    });

    test('subscriptions: create (secret once, sealed), list, get, validation errors, delete', async () => {
      const sub = await subscribe({ target_url: sink.url, events: ['trello.card.*'], filter: 'data.list == "Done"' });
      assert.match(sub.secret, /^whsec_/);
      const [stored] = await queryHub<{ secret: string }>(environment, 'select secret from hook_subscriptions where id = $1', [sub.id]);
      assert.ok(!stored!.secret.includes(sub.secret.slice(6, 20)) && stored!.secret.startsWith('v1.'), 'stored sealed');
      const got = await api(hub, 'GET', `/api/v1/hooks/${sub.id}`, undefined, key);
      assert.equal(got.status, 200);
      assert.equal(got.json.secret, undefined);
      assert.deepEqual(got.json.events, ['trello.card.*']);
      assert.ok((await api(hub, 'GET', '/api/v1/hooks', undefined, key)).json.items.some((s: any) => s.id === sub.id));
      const bad = await api(hub, 'POST', '/api/v1/hooks', { target_url: 'not a url', events: [] }, key);
      assert.equal(bad.status, 400);
      assert.equal(bad.json.error.code, 'invalid_request');
      const badFilter = await api(hub, 'POST', '/api/v1/hooks', { target_url: sink.url, events: ['a'], filter: '{% if %}' }, key);
      assert.equal(badFilter.status, 400);
      assert.equal((await api(hub, 'DELETE', `/api/v1/hooks/${sub.id}`, undefined, key)).status, 204);
      assert.equal((await api(hub, 'GET', `/api/v1/hooks/${sub.id}`, undefined, key)).status, 404);
      assert.equal((await api(hub, 'DELETE', `/api/v1/hooks/${sub.id}`, undefined, key)).json.error.code, 'subscription_not_found');
    });

    test('SSRF: metadata, private, IPv6 loopback and not-allowed targets are refused with 422', async () => {
      for (const target of ['http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1/', 'http://[::1]/', 'http://192.168.1.1/hook']) {
        const res = await api(hub, 'POST', '/api/v1/hooks', { target_url: target, events: ['*'] }, key);
        assert.equal(res.status, 422, target);
        assert.equal(res.json.error.code, 'target_not_allowed');
      }
    });

    test('a delivery verifies with standardwebhooks; 500, 500, 200 gets the event once more after each failure, then stops', async () => {
      const sub = await subscribe({ target_url: sink.url, events: ['catch_hook.received'], filter: 'data.test == "retry"' });
      sink.reply({ status: 500 }, { status: 500 });
      const before = sink.requests.length;
      const eventId = await postEvent(hub, 'rh', { test: 'retry', amount: 42 });
      await sink.waitFor(before + 3);
      const got = requestsFor(sink, 'retry');
      assert.equal(got.length, 3);
      for (const r of got) {
        assert.deepEqual(verify(sub.secret, r), {
          type: 'catch_hook.received',
          timestamp: (r.json as any).timestamp,
          data: { test: 'retry', amount: 42 },
        });
        assert.equal(r.headers['content-type'], 'application/json');
      }
      assert.deepEqual(Object.keys(got[0]!.json as object).sort(), ['data', 'timestamp', 'type']);
      assert.equal(new Set(got.map((r) => r.headers['webhook-id'])).size, 1, 'one webhook-id across attempts');
      assert.ok(got[1]!.at - got[0]!.at >= 100 && got[2]!.at - got[1]!.at >= 200, 'the schedule spaces the attempts');
      const [d] = await waitUntil(async () => {
        const d = await deliveriesOf(sub.id);
        return d[0]?.status === 'succeeded' && d;
      }, 'delivery succeeded');
      assert.equal(d!.attempts, 3);
      assert.equal(d!.event_id, eventId);
      await new Promise((r) => setTimeout(r, 800));
      assert.equal(requestsFor(sink, 'retry').length, 3, 'no more attempts after the 200');
      const detail = await api(hub, 'GET', `/api/v1/hooks/${sub.id}/deliveries/${d!.id}`, undefined, key);
      assert.deepEqual(
        detail.json.attempts_log.map((a: any) => a.status_code),
        [500, 500, 200],
      );
      await api(hub, 'DELETE', `/api/v1/hooks/${sub.id}`, undefined, key);
    });

    test('429 with Retry-After is honoured; 3xx is a failure, not followed', async () => {
      const s = await startSink();
      try {
        const sub = await subscribe({ target_url: s.url, events: ['catch_hook.received'], filter: 'data.test == "throttle"' });
        s.reply({ status: 429, headers: { 'retry-after': '1' } }, { status: 302, headers: { location: 'http://169.254.169.254/' } });
        await postEvent(hub, 'rh', { test: 'throttle' });
        await s.waitFor(3, 10_000);
        assert.ok(s.requests[1]!.at - s.requests[0]!.at >= 950, `Retry-After: 1 waited ${s.requests[1]!.at - s.requests[0]!.at} ms`);
        await waitUntil(async () => (await deliveriesOf(sub.id))[0]?.status === 'succeeded', 'delivered after the 302');
        await api(hub, 'DELETE', `/api/v1/hooks/${sub.id}`, undefined, key);
      } finally {
        await s.close();
      }
    });

    test('410 Gone removes the subscription at once', async () => {
      const s = await startSink({ status: 410, body: '{}' });
      try {
        const sub = await subscribe({ target_url: s.url, events: ['catch_hook.received'], filter: 'data.test == "gone"' });
        await postEvent(hub, 'rh', { test: 'gone' });
        await s.waitFor(1);
        await waitUntil(
          async () => (await api(hub, 'GET', `/api/v1/hooks/${sub.id}`, undefined, key)).status === 404,
          'subscription deleted',
        );
        await postEvent(hub, 'rh', { test: 'gone' });
        await new Promise((r) => setTimeout(r, 700));
        assert.equal(s.requests.length, 1, 'nothing more is sent');
      } finally {
        await s.close();
      }
    });

    test('exhausted deliveries are dead-lettered, emit hub.delivery.exhausted (delivered to other subscribers), and replay', async () => {
      const down = await startSink({ status: 500, body: '{"down":true}' });
      const watcher = await startSink();
      try {
        const sub = await subscribe({ target_url: down.url, events: ['catch_hook.received'], filter: 'data.test == "exhaust"' });
        const watch = await subscribe({
          target_url: watcher.url,
          events: ['hub.delivery.*'],
          filter: `data.subscriptionId == "${sub.id}"`,
        });
        const eventId = await postEvent(hub, 'rh', { test: 'exhaust' });
        const [dead] = await waitUntil(async () => {
          const d = await deliveriesOf(sub.id);
          return d[0]?.status === 'dead' && d;
        }, 'delivery dead');
        assert.equal(dead!.attempts, 4);
        assert.equal(down.requests.length, 4);
        await watcher.waitFor(1);
        const notice = watcher.requests[0]!;
        const body = verify(watch.secret, notice) as any;
        assert.equal(body.type, 'hub.delivery.exhausted');
        assert.equal(body.data.deliveryId, dead!.id);
        assert.equal(body.data.eventId, eventId);
        assert.equal(body.data.lastStatus, 500);
        const samples = await api(hub, 'GET', '/api/v1/events/samples?type=hub.delivery.exhausted', undefined, key);
        assert.ok(samples.json.items.some((i: any) => i.data.deliveryId === dead!.id));

        down.setDefault({ status: 200, body: '{}' });
        const replay = await api(hub, 'POST', `/api/v1/hooks/${sub.id}/deliveries/${dead!.id}/replay`, undefined, key);
        assert.equal(replay.status, 202);
        await down.waitFor(5);
        await waitUntil(async () => (await deliveriesOf(sub.id))[0]?.status === 'succeeded', 'replayed delivery succeeded');
        assert.equal(down.requests[4]!.headers['webhook-id'], dead!.id, 'the same webhook-id');
        const again = await api(hub, 'POST', `/api/v1/hooks/${sub.id}/deliveries/msg_nope/replay`, undefined, key);
        assert.equal(again.status, 404);
        await api(hub, 'DELETE', `/api/v1/hooks/${sub.id}`, undefined, key);
        await api(hub, 'DELETE', `/api/v1/hooks/${watch.id}`, undefined, key);
      } finally {
        await down.close();
        await watcher.close();
      }
    });

    test('"recover since T" redelivers exactly the missed ones', async () => {
      const s = await startSink({ status: 503, body: '{}' });
      try {
        const sub = await subscribe({ target_url: s.url, events: ['catch_hook.received'], filter: 'data.test == "recover"' });
        await postEvent(hub, 'rh', { test: 'recover', n: 0 });
        await waitUntil(async () => (await deliveriesOf(sub.id)).filter((d) => d.status === 'dead').length === 1, 'first dead');
        await new Promise((r) => setTimeout(r, 50));
        const since = new Date().toISOString();
        await postEvent(hub, 'rh', { test: 'recover', n: 1 });
        await postEvent(hub, 'rh', { test: 'recover', n: 2 });
        await waitUntil(async () => (await deliveriesOf(sub.id)).filter((d) => d.status === 'dead').length === 3, 'all dead');
        s.setDefault({ status: 200, body: '{}' });
        await postEvent(hub, 'rh', { test: 'recover', n: 3 });
        await waitUntil(async () => (await deliveriesOf(sub.id)).some((d) => d.status === 'succeeded'), 'n=3 delivered');
        const before = s.requests.length;
        const res = await api(hub, 'POST', `/api/v1/hooks/${sub.id}/recover`, { since }, key);
        assert.equal(res.status, 202);
        assert.deepEqual(res.json, { redelivered: 2, created: 0 });
        await waitUntil(async () => (await deliveriesOf(sub.id)).filter((d) => d.status === 'succeeded').length === 3, 'recovered');
        await new Promise((r) => setTimeout(r, 500));
        const redelivered = s.requests
          .slice(before)
          .map((r) => (r.json as any).data.n)
          .sort();
        assert.deepEqual(redelivered, [1, 2], 'exactly the missed ones since T');
        await api(hub, 'DELETE', `/api/v1/hooks/${sub.id}`, undefined, key);
      } finally {
        await s.close();
      }
    });

    test('secret rotation: both signatures during the grace period', async () => {
      const s = await startSink();
      try {
        const sub = await subscribe({ target_url: s.url, events: ['catch_hook.received'], filter: 'data.test == "rotate"' });
        const rotated = await api(hub, 'POST', `/api/v1/hooks/${sub.id}/rotate-secret`, undefined, key);
        assert.equal(rotated.status, 200);
        await postEvent(hub, 'rh', { test: 'rotate' });
        await s.waitFor(1);
        const r = s.requests[0]!;
        assert.equal(String(r.headers['webhook-signature']).split(' ').length, 2);
        assert.ok(verify(sub.secret, r), 'verifies with the old secret');
        assert.ok(verify(rotated.json.secret, r), 'verifies with the new secret');
        await api(hub, 'DELETE', `/api/v1/hooks/${sub.id}`, undefined, key);
      } finally {
        await s.close();
      }
    });

    test('rate limit and concurrency cap per subscription', async () => {
      const slow = await startSink({ status: 200, body: '{}', delayMs: 300 });
      const limited = await startSink();
      try {
        const capped = await subscribe({
          target_url: slow.url,
          events: ['catch_hook.received'],
          filter: 'data.test == "cap"',
          max_concurrency: 2,
        });
        const rated = await subscribe({
          target_url: limited.url,
          events: ['catch_hook.received'],
          filter: 'data.test == "rate"',
          rate_limit: 10,
        });
        await Promise.all(Array.from({ length: 8 }, (_, n) => postEvent(hub, 'rh', { test: 'cap', n })));
        await Promise.all(Array.from({ length: 15 }, (_, n) => postEvent(hub, 'rh', { test: 'rate', n })));
        await slow.waitFor(8, 20_000);
        await limited.waitFor(15, 20_000);
        const arrivals = slow.requests.map((r) => r.at).sort((a, b) => a - b);
        const overlap = Math.max(...arrivals.map((t) => arrivals.filter((u) => u <= t && u > t - 280).length));
        assert.ok(overlap <= 2, `at most 2 in flight (saw ${overlap})`);
        const times = limited.requests.map((r) => r.at).sort((a, b) => a - b);
        const span = times[times.length - 1]! - times[0]!;
        assert.ok(span >= 1200, `15 deliveries at 10/s took ${span} ms`);
        await api(hub, 'DELETE', `/api/v1/hooks/${capped.id}`, undefined, key);
        await api(hub, 'DELETE', `/api/v1/hooks/${rated.id}`, undefined, key);
      } finally {
        await slow.close();
        await limited.close();
      }
    });

    test('a subscription failing for 5 days is disabled, the admin is told, and it can be re-enabled', async () => {
      const s = await startSink({ status: 500, body: '{}' });
      const watcher = await startSink();
      try {
        const sub = await subscribe({ target_url: s.url, events: ['catch_hook.received'], filter: 'data.test == "disable"' });
        const watch = await subscribe({ target_url: watcher.url, events: ['hub.subscription.disabled'] });
        await queryHub(environment, "update hook_subscriptions set failing_since = now() - interval '6 days' where id = $1", [sub.id]);
        await postEvent(hub, 'rh', { test: 'disable' });
        await waitUntil(
          async () => (await api(hub, 'GET', `/api/v1/hooks/${sub.id}`, undefined, key)).json.status === 'disabled',
          'disabled',
        );
        await watcher.waitFor(1);
        assert.equal((watcher.requests[0]!.json as any).data.subscriptionId, sub.id);
        const enabled = await api(hub, 'PATCH', `/api/v1/hooks/${sub.id}`, { enabled: true }, key);
        assert.equal(enabled.json.status, 'active');
        assert.equal(enabled.json.failing_since, null);
        await api(hub, 'DELETE', `/api/v1/hooks/${sub.id}`, undefined, key);
        await api(hub, 'DELETE', `/api/v1/hooks/${watch.id}`, undefined, key);
      } finally {
        await s.close();
        await watcher.close();
      }
    });

    test("event samples: recent real events, else the connector's sample", async () => {
      await postEvent(hub, 'rh', { test: 'sample', name: 'real' });
      const real = await waitUntil(async () => {
        const r = await api(hub, 'GET', '/api/v1/events/samples?type=catch_hook.received&limit=1', undefined, key);
        return r.json.items.length === 1 && r;
      }, 'sample');
      assert.equal(real.json.items[0].type, 'catch_hook.received');
      assert.deepEqual(Object.keys(real.json.items[0]).sort(), ['data', 'id', 'timestamp', 'type']);
      const fallback = await api(hub, 'GET', '/api/v1/events/samples?type=hub.subscription.disabled', undefined, key);
      assert.equal(fallback.json.items.length, 1);
      assert.equal((await api(hub, 'GET', '/api/v1/events/samples', undefined, key)).status, 400);
    });

    test('a delivery whose queue job vanished is found by the sweep', async () => {
      const s = await startSink();
      try {
        const sub = await subscribe({ target_url: s.url, events: ['catch_hook.received'], filter: 'data.test == "sweep"' });
        const eventId = await postEvent(hub, 'rh', { test: 'sweep-later' });
        await waitUntil(
          async () => (await queryHub(environment, "select 1 from events where id = $1 and status = 'dispatched'", [eventId])).length === 1,
          'dispatched',
        );
        // A delivery recorded without its job (as after a crash between commit and enqueue, or a flushed Redis).
        await queryHub(
          environment,
          "insert into hook_deliveries (id, subscription_id, event_id, event_type, max_attempts, updated_at) values ('msg_sweeptest', $1, $2, 'catch_hook.received', 4, now() - interval '1 minute')",
          [sub.id, eventId],
        );
        await s.waitFor(1, 15_000);
        assert.equal(s.requests[0]!.headers['webhook-id'], 'msg_sweeptest');
        await api(hub, 'DELETE', `/api/v1/hooks/${sub.id}`, undefined, key);
      } finally {
        await s.close();
      }
    });

    if (mode === MODES[0]) {
      test('GET /api/openapi.json is a valid OpenAPI 3.1 document covering the public API', async () => {
        const res = await fetch(`${hub.url}/api/openapi.json`);
        assert.equal(res.status, 200);
        const doc = (await res.json()) as any;
        const validator = new Validator();
        const result = await validator.validate(doc);
        assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
        assert.equal(doc.openapi, '3.1.0');
        for (const path of [
          '/hooks/catch/{hookId}',
          '/hooks/catch/{hookId}/{token}',
          '/healthz',
          '/readyz',
          '/api/v1/hooks',
          '/api/v1/hooks/{id}',
          '/api/v1/hooks/{id}/recover',
          '/api/v1/events/samples',
          '/api/v1/api-keys',
          '/api/v1/catch-hooks',
          '/api/v1/actions/{actionId}/run',
          '/api/openapi.json',
        ]) {
          assert.ok(doc.paths[path], `documents ${path}`);
        }
        const create = doc.paths['/api/v1/hooks'].post;
        assert.deepEqual(create.security, [{ bearerAuth: ['hooks:write'] }]);
        assert.ok(create.requestBody.content['application/json'].schema.properties.target_url);
        assert.deepEqual(create.requestBody.content['application/json'].schema.required.sort(), ['events', 'target_url']);
      });
    }
  });
}
