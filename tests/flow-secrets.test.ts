import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { MODES, TEST_ADMIN_TOKEN, prepareEnvironment, startTestHub, tempDir, writeConfig, type Environment } from './helpers/hub.ts';
import { queryHub } from './helpers/hub-db.ts';
import { startSink, type Sink } from './helpers/sink.ts';
import type { Hub } from '../app/hub.ts';

const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
let sink: Sink;
let environment: Environment;
let hub: Hub;
before(async () => {
  sink = await startSink();
  environment = await prepareEnvironment(MODES[0]!, 'flow-secrets');
  environment.env.DINGBRIDGE_CONFIG = writeConfig(tempDir('flow-secrets'), 'hooks:\n  - id: in\n');
  hub = await startTestHub(environment);
});
after(async () => {
  await hub.stop();
  await sink.close();
  await environment.cleanup();
});

test('a flow made through the API keeps its secret inputs sealed at rest, masked in answers, and still signs with them', async () => {
  const flow = {
    id: 'signed-out',
    when: { event: 'catch_hook.received', source: 'in' },
    then: [{ action: 'http.post', input: { url: sink.url, secret: SECRET, body: { n: '{{ data.n }}' } } }],
  };
  const res = await fetch(`${hub.url}/api/v1/flows`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(flow),
  });
  assert.equal(res.status, 201, await res.clone().text());
  assert.equal((await res.text()).includes(SECRET), false, 'the answer masks the secret');
  const [row] = await queryHub<{ definition: unknown; secrets: string }>(
    environment,
    "select definition, secrets from flows where id = 'signed-out'",
  );
  assert.equal(JSON.stringify(row!.definition).includes(SECRET), false, 'the definition holds no secret');
  assert.match(row!.secrets, /^v1\./);
  assert.equal(row!.secrets.includes(SECRET), false);

  await fetch(`${hub.url}/hooks/catch/in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":7}' });
  await sink.waitFor(1);
  const got = sink.requests[0]!;
  assert.deepEqual(
    new Webhook(SECRET).verify(got.body, {
      'webhook-id': String(got.headers['webhook-id']),
      'webhook-timestamp': String(got.headers['webhook-timestamp']),
      'webhook-signature': String(got.headers['webhook-signature']),
    }),
    { n: 7 },
  );
});
