import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { prepareEnvironment, startTestHub, TEST_ADMIN_TOKEN, waitUntil, type Environment } from '../helpers/hub.ts';
import { services } from '../helpers/services.ts';
import { checkMapping, renderMapping, templateBudget, templateStats } from '../../core/templating.ts';
import type { Hub } from '../../app/hub.ts';

// Finding 3: the render limit applied per string, so a preview (open to viewers) with six looping strings
// held the event loop for 7 s and /healthz waited as long. Now one budget covers a request or step,
// loops and literal ranges are capped, and a render that needs more than the main thread's tight
// limits runs in a worker thread that is ended when the budget runs out.
const available = await services();
const NESTED = '{% for i in (1..10000) %}{% for j in (1..10000) %}{{ j }}{% endfor %}{% endfor %}';
const HEAVIEST = Array.from({ length: 6 }, () => NESTED);

describe('templates cannot freeze the hub (finding 3)', () => {
  test('a literal range over 10,000 is refused when a flow is saved, and when rendered', async () => {
    const bad = checkMapping({ text: '{% for i in (1..1500000) %}x{% endfor %}' });
    assert.match(bad?.message ?? '', /at most 10000/);
    assert.deepEqual(bad?.path, ['text']);
    await assert.rejects(
      renderMapping(
        Array.from({ length: 6 }, () => '{% for i in (1..1500000) %}{{ i }}{% endfor %}'),
        {},
      ),
      /at most 10000/,
    );
  });

  test('the budget is shared by every string of a step: six strings that each fit alone do not fit together', async () => {
    const one = '{% for i in (1..10000) %}{% for j in (1..3) %}{{ j }}{% endfor %}{% endfor %}';
    const started = Date.now();
    await assert.rejects(
      renderMapping(
        Array.from({ length: 6 }, () => one),
        {},
        templateBudget(300),
      ),
      /budget|parts/,
    );
    assert.ok(Date.now() - started < 15_000, "refused within its budget (plus a worker's boot), not after rendering all six");
  });

  test('ordinary templates render on the main thread', async () => {
    const before = templateStats.worker;
    for (let i = 0; i < 50; i++) {
      const out = await renderMapping(
        {
          text: 'Order {{ data.id }} from {{ data.name }}',
          n: '{{ data.amount }}',
          items: '{% for i in data.items %}{{ i }},{% endfor %}',
        },
        { data: { id: i, name: 'Chan', amount: 250, items: [1, 2, 3] } },
      );
      assert.deepEqual(out, { text: `Order ${i} from Chan`, n: 250, items: '1,2,3,' });
    }
    // On an idle machine none does; a busy one can pause the main thread past its 40 ms now and then.
    assert.ok(templateStats.worker - before <= 10, `at most a few strays of 50 needed a worker; ${templateStats.worker - before} did`);
  });

  describe('against a running hub', { skip: available.postgres ? false : 'needs PostgreSQL' }, () => {
    let environment: Environment;
    let hub: Hub;
    const preview = (body: unknown) =>
      fetch(`${hub.url}/api/v1/flows/preview`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }));

    before(async () => {
      environment = await prepareEnvironment({ name: 'template-budget', store: 'external', queue: 'postgres' }, 'template-budget');
      hub = await startTestHub(environment, { workers: false });
    });
    after(async () => {
      await hub?.stop();
      await environment?.cleanup();
    });

    test('/healthz answers within 100 ms while the heaviest template the limits allow is rendered', async (t) => {
      const healthz = async () => {
        const t0 = performance.now();
        const res = await fetch(`${hub.url}/healthz`);
        await res.text();
        assert.equal(res.status, 200);
        return performance.now() - t0;
      };
      const idle: number[] = [];
      for (let i = 0; i < 5; i++) idle.push(await healthz());
      const idleSorted = [...idle].sort((a, b) => a - b);
      const idleMedian = idleSorted[2]!;
      const escalated = templateStats.worker;
      let settled = false;
      const heavy = preview({ data: { n: 1 }, mapping: HEAVIEST, condition: 'data.n > 0' }).finally(() => {
        settled = true;
      });
      await waitUntil(() => templateStats.worker > escalated, 'the heavy preview handed to a template worker', 20_000, 5);
      const timings: number[] = [];
      for (let i = 0; i < 7 && !settled; i++) {
        const t = performance.now();
        const res = await fetch(`${hub.url}/healthz`);
        await res.text();
        timings.push(performance.now() - t);
        assert.equal(res.status, 200);
      }
      assert.ok(timings.length >= 3, 'the preview was still rendering while /healthz was measured');
      const sorted = [...timings].sort((a, b) => a - b);
      const shown = timings.map((ms) => ms.toFixed(1)).join(', ');
      t.diagnostic(`/healthz idle: ${idle.map((ms) => ms.toFixed(1)).join(', ')} ms; during the heavy render: ${shown} ms`);
      // The claim: the render adds at most 100 ms to /healthz (measured against the same machine's idle
      // answer in this run, so a busy machine's own slowness is not counted); the maximum allows for the
      // scheduler of 2 shared cores, and is still far from the seconds a render held the event loop before.
      assert.ok(
        sorted[Math.floor(sorted.length / 2)]! < idleMedian + 100,
        `/healthz took ${shown} ms (idle median ${idleMedian.toFixed(1)} ms)`,
      );
      assert.ok(sorted.at(-1)! < idleSorted.at(-1)! + 400, `/healthz took ${shown} ms`);
      const out = await heavy;
      assert.equal(out.status, 200);
      assert.equal(out.json.ok, false);
      assert.match(out.json.error, /budget|parts/, 'the heavy preview is stopped by its budget');
    });

    test('previews are rate-limited per principal', async () => {
      const answers: number[] = [];
      for (let i = 0; i < 90 && !answers.includes(429); i++)
        answers.push((await preview({ data: { n: i }, mapping: '{{ data.n }}' })).status);
      assert.equal(answers[0], 200);
      assert.ok(answers.includes(429), 'a burst of previews is cut off with 429');
      const refused = await preview({ data: { n: 1 }, mapping: '{{ data.n }}' });
      assert.equal(refused.status, 429);
      assert.equal(refused.json.error.code, 'too_many_previews');
      assert.ok(refused.json.error.retryAfterSeconds >= 1);
    });
  });
});
