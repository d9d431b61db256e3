import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { connectors } from '../connectors/index.ts';
import { ingestEvent } from '../core/pipeline/ingest.ts';
import type { Hub } from '../app/hub.ts';
import { prepareEnvironment, startTestHub, tempDir, waitUntil, writeConfig, type Environment } from './helpers/hub.ts';
import { services } from './helpers/services.ts';
import stallConnector, { stallAborts } from './fixtures/stall-connector.ts';

/**
 * An action that never settles (a call without a timeout, a stream that never ends) must not hang its
 * step with no error: past DINGBRIDGE_STEP_TIMEOUT_MS the attempt is a retryable step error, recorded
 * and logged, and the step is dead once its attempts are spent — on both queue backends.
 */
if (!connectors.some((c) => c.id === 'stall')) connectors.push(stallConnector); // this test process only
const available = await services();

for (const queue of ['redis', 'postgres'] as const) {
  const skip = !available.postgres ? 'needs PostgreSQL' : queue === 'redis' && !available.redis ? 'needs Redis' : false;
  describe(`a step that hangs — queue on ${queue}`, { skip }, () => {
    let environment: Environment;
    let hub: Hub;
    before(async () => {
      const dir = tempDir('step-timeout');
      const config = writeConfig(
        dir,
        `
version: 1
flows:
  - id: stuck
    when: { event: test.poke }
    then:
      - action: stall.wait
        input: {}
`,
      );
      environment = await prepareEnvironment({ name: queue, store: 'external', queue }, `step-timeout-${queue}`, {
        DINGBRIDGE_CONFIG: config,
        DINGBRIDGE_STEP_TIMEOUT_MS: '1500',
        DINGBRIDGE_STEP_ATTEMPTS: '2',
      });
      hub = await startTestHub(environment);
    });
    after(async () => {
      await hub?.stop();
      await environment?.cleanup();
    });

    test('each attempt ends as a timeout error, the step is dead after its attempts, and the log says so', async () => {
      const id = `evt_stall_${queue}`;
      await ingestEvent(hub.runtime, {
        id,
        type: 'test.poke',
        source: 'test',
        connectionId: null,
        occurredAt: new Date().toISOString(),
        subject: 'poke',
        data: {},
      });
      const step = await waitUntil(
        async () => {
          const row = await hub.runtime.db.selectFrom('step_runs').selectAll().where('event_id', '=', id).executeTakeFirst();
          return row?.status === 'dead' && row;
        },
        'the stalled step to be dead',
        60_000,
      );
      assert.equal(step.attempts, 2);
      assert.equal(step.error_class, 'retryable');
      assert.match(step.last_error ?? '', /stall\.wait did not finish within 1500 ms/);
      const attempts = await hub.runtime.db
        .selectFrom('step_attempts')
        .select(['attempt', 'status', 'error', 'duration_ms'])
        .where('step_run_id', '=', step.id)
        .orderBy('attempt')
        .execute();
      assert.deepEqual(
        attempts.map((a) => [a.attempt, a.status]),
        [
          [1, 'failed'],
          [2, 'failed'],
        ],
      );
      for (const a of attempts) assert.ok((a.duration_ms ?? 0) >= 1400, `the attempt ran to its deadline (${a.duration_ms} ms)`);
      assert.deepEqual(stallAborts.filter((k) => k.startsWith(id)).sort(), [`${step.id}#1`, `${step.id}#2`], 'the action was told to stop');
      const log = fs.readFileSync(environment.logFile, 'utf8');
      assert.match(log, /step attempt timed out/);
      assert.match(log, /step dead-lettered/);
    });
  });
}
