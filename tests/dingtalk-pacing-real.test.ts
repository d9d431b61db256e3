import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Hub } from '../app/hub.ts';
import { startDingtalkFake, SEED, type RunningDingtalkFake } from '../sandbox/dingtalk/index.ts';
import { prepareEnvironment, startTestHub, tempDir, waitUntil, writeConfig, type Environment } from './helpers/hub.ts';
import { queryHub } from './helpers/hub-db.ts';
import { services } from './helpers/services.ts';

/**
 * Robot pacing with DingTalk's real numbers: 20 messages per 60 s per robot (the connector's
 * defaults; the fake enforces the same and would answer 130101). 25 messages: 20 go at once, the
 * other 5 once the first ones leave the window, a minute later. About 65 s.
 */
const available = await services();
const N = 25;

describe('robot pacing with the real limit (20 per minute)', {
  skip: available.postgres && available.redis ? false : 'needs PostgreSQL and Redis',
}, () => {
  let fake: RunningDingtalkFake;
  let environment: Environment;
  let hub: Hub;

  before(async () => {
    fake = await startDingtalkFake({ stream: { pingIntervalMs: 0 } });
    const base = fake.baseUrl();
    const config = writeConfig(
      tempDir('dingtalk-pacing-real'),
      `
version: 1
connections:
  - id: robot
    connector: dingtalk_robot
    settings: { oapiBaseUrl: "${base}" }
    secrets: { accessToken: "${SEED.robotToken}", secret: "${SEED.robotSecret}" }
hooks:
  - id: burst
flows:
  - id: burst-to-robot
    when: { event: catch_hook.received, source: burst }
    then:
      - action: dingtalk.robot.send
        connection: robot
        input: { text: "real {{ data.n }}" }
`,
    );
    environment = await prepareEnvironment({ name: 'dingtalk-pacing-real', store: 'external', queue: 'redis' }, 'dingtalk-pacing-real', {
      DINGBRIDGE_CONFIG: config,
    });
    hub = await startTestHub(environment);
  });
  after(async () => {
    await hub?.stop();
    await fake?.stop();
    await environment?.cleanup();
  });

  test(`${N} messages: 20 at once, the rest after the 60 s window; in order, none failed`, { timeout: 110_000 }, async () => {
    const started = Date.now();
    for (let i = 0; i < N; i++) {
      const res = await fetch(`${hub.url}/hooks/catch/burst`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ n: i }),
      });
      assert.equal(res.status, 200);
    }
    const list = async () =>
      (await fake.control<{ messages: Array<{ body: { content: string }; at: string }> }>('GET', `/robots/${SEED.robotToken}/messages`))
        .messages;
    const first = await waitUntil(
      async () => {
        const m = await list();
        return m.length >= 20 && m;
      },
      'the first 20',
      20_000,
    );
    assert.ok(Date.parse(first[19]!.at) - started < 15_000, 'the first 20 go at once');
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal((await list()).length, 20, 'then nothing until the window has room');
    const all = await waitUntil(
      async () => {
        const m = await list();
        return m.length >= N && m;
      },
      'all 25',
      90_000,
      500,
    );
    assert.deepEqual(
      all.map((m) => m.body.content),
      Array.from({ length: N }, (_, i) => `real ${i}`),
    );
    const t = all.map((m) => Date.parse(m.at));
    for (let i = 20; i < N; i++) assert.ok(t[i]! - t[i - 20]! >= 60_000, `message ${i} ${t[i]! - t[i - 20]!} ms after message ${i - 20}`);
    const failed = await queryHub<{ n: number }>(environment, "select count(*)::int as n from step_attempts where status = 'failed'");
    assert.equal(failed[0]!.n, 0, 'no 130101');
    const steps = await queryHub<{ status: string; attempts: number }>(environment, 'select status, attempts from step_runs');
    assert.ok(steps.length === N && steps.every((s) => s.status === 'succeeded' && s.attempts === 1));
  });
});
