import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { Hub } from '../app/hub.ts';
import { startDingtalkFake, SEED, type RunningDingtalkFake } from '../sandbox/dingtalk/index.ts';
import { prepareEnvironment, startTestHub, tempDir, waitUntil, writeConfig, type Environment } from './helpers/hub.ts';
import { queryHub } from './helpers/hub-db.ts';
import { services, TEST_REDIS_URL } from './helpers/services.ts';

/**
 * Robot pacing (core/pipeline/pacing.ts + dingtalk.robot.send's pace): a burst to one robot is
 * delivered in order, never faster than the robot's limit, nothing dropped, no step failing with
 * 130101 — with the limit scaled down (10 per second, the fake enforcing the same) so 100 messages
 * take ~10 s instead of 5 minutes, and with the queue's jobs deleted mid-burst (the sweep recovers).
 */
const available = await services();
const N = 100;
const LIMIT = 10;
const WINDOW_MS = 1000;

async function burst(hub: Hub, n: number, tag: string) {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${hub.url}/hooks/catch/burst`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ n: i, tag }),
    });
    assert.equal(res.status, 200);
  }
}

describe('robot pacing: a burst to one robot', {
  skip: available.postgres && available.redis ? false : 'needs PostgreSQL and Redis',
}, () => {
  let fake: RunningDingtalkFake;
  let environment: Environment;
  let hub: Hub;

  before(async () => {
    fake = await startDingtalkFake({ robot: { maxPerWindow: LIMIT, windowMs: WINDOW_MS }, stream: { pingIntervalMs: 0 } });
    const base = fake.baseUrl();
    const config = writeConfig(
      tempDir('dingtalk-pacing'),
      `
version: 1
connections:
  - id: robot
    connector: dingtalk_robot
    settings: { oapiBaseUrl: "${base}", rateLimit: "${LIMIT}", rateWindowMs: "${WINDOW_MS}" }
    secrets: { accessToken: "${SEED.robotToken}", secret: "${SEED.robotSecret}" }
hooks:
  - id: burst
flows:
  - id: burst-to-robot
    when: { event: catch_hook.received, source: burst }
    then:
      - action: dingtalk.robot.send
        connection: robot
        input: { text: "{{ data.tag }} {{ data.n }}" }
`,
    );
    environment = await prepareEnvironment({ name: 'dingtalk-pacing', store: 'external', queue: 'redis' }, 'dingtalk-pacing', {
      DINGBRIDGE_CONFIG: config,
      DINGTALK_OAPI_BASE_URL: base,
    });
    hub = await startTestHub(environment);
  });
  after(async () => {
    await hub?.stop();
    await fake?.stop();
    await environment?.cleanup();
  });

  test(`${N} messages at ${LIMIT} per ${WINDOW_MS} ms: in order, paced, none lost, none failed — even with the queue's jobs deleted mid-burst`, async () => {
    const tag = 'burst';
    const started = Date.now();
    await burst(hub, N, tag);

    // Mid-burst, lose every queued job (as if Redis were flushed): the sweep finds the stored steps again.
    await waitUntil(
      async () => (await fake.control<{ messages: unknown[] }>('GET', `/robots/${SEED.robotToken}/messages`)).messages.length >= 30,
      '30 delivered',
      20_000,
    );
    const redis = new Redis(TEST_REDIS_URL);
    const keys = await redis.keys(`${environment.env.DINGBRIDGE_QUEUE_PREFIX}:steps:*`);
    assert.ok(keys.length > 0, 'the queue had jobs to lose');
    await redis.del(...keys);
    await redis.quit();

    const messages = await waitUntil(
      async () => {
        const r = await fake.control<{ messages: Array<{ body: { content: string }; at: string }> }>(
          'GET',
          `/robots/${SEED.robotToken}/messages`,
        );
        return r.messages.length >= N && r.messages;
      },
      `${N} messages delivered`,
      60_000,
    );
    const took = Date.now() - started;
    await new Promise((r) => setTimeout(r, 1500));
    const final = (
      await fake.control<{ messages: Array<{ body: { content: string }; at: string }> }>('GET', `/robots/${SEED.robotToken}/messages`)
    ).messages;
    assert.equal(final.length, N, 'exactly one message per event');
    assert.deepEqual(
      final.map((m) => m.body.content),
      Array.from({ length: N }, (_, i) => `${tag} ${i}`),
      'in the order the events arrived',
    );

    const times = messages.map((m) => Date.parse(m.at));
    for (let i = LIMIT; i < times.length; i++) {
      assert.ok(
        times[i]! - times[i - LIMIT]! >= WINDOW_MS,
        `message ${i} came ${times[i]! - times[i - LIMIT]!} ms after message ${i - LIMIT}`,
      );
    }
    assert.ok(took >= (N / LIMIT - 1) * WINDOW_MS, `took ${took} ms`);

    const steps = await queryHub<{ status: string; attempts: number }>(
      environment,
      "select status, attempts from step_runs where flow_id = 'burst-to-robot'",
    );
    assert.equal(steps.length, N);
    assert.ok(
      steps.every((s) => s.status === 'succeeded'),
      'every step succeeded',
    );
    assert.ok(
      steps.every((s) => s.attempts === 1),
      'waiting for a turn counts no attempt',
    );
    const failed = await queryHub<{ n: number }>(environment, "select count(*)::int as n from step_attempts where status = 'failed'");
    assert.equal(failed[0]!.n, 0, 'no attempt failed (no 130101)');
  });
});
