import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Hub } from '../app/hub.ts';
import { startDingtalkFake, type RunningDingtalkFake } from '../sandbox/dingtalk/index.ts';
import {
  prepareEnvironment,
  spawnHub,
  startTestHub,
  tempDir,
  waitUntil,
  writeConfig,
  type Environment,
  type HubProcess,
} from './helpers/hub.ts';
import { queryHub } from './helpers/hub-db.ts';
import { services } from './helpers/services.ts';
import { randomAesKey } from './dingtalk-support.ts';

/**
 * DingTalk Stream mode through dingtalk-stream's DWClient, held by the hub's stream manager: events and
 * robot messages arrive, are stored, then acknowledged; the same event by HTTP and by Stream is one
 * HubEvent; a connection killed mid-stream loses nothing (the fake redelivers, repeats are dropped);
 * two hub processes hold one stream between them, and the other takes over when the holder dies.
 */
const available = await services();
const skip = available.postgres && available.redis ? false : 'needs PostgreSQL and Redis';

type Delivery = {
  mode: string;
  status: string;
  ackStatus?: string;
  eventId: string;
  attempts: number;
  kind: string;
  history: Array<{ connectionId?: string; error?: string }>;
};

const appConfig = (id: string, app: { appKey: string; appSecret: string; corpId: string }, base: string, extra = '') => `
  - id: ${id}
    connector: dingtalk
    settings: { appKey: ${app.appKey}, corpId: ${app.corpId}, stream: "true", baseUrl: "${base}", oapiBaseUrl: "${base}" }
    secrets: { appSecret: ${app.appSecret}${extra} }`;

describe('DingTalk Stream mode (one hub)', { skip }, () => {
  let fake: RunningDingtalkFake;
  let environment: Environment;
  let hub: Hub;
  const BOTH = { appKey: 'dingbothapp', appSecret: 'both-secret', corpId: 'dingcorpboth' };
  const STREAM = { appKey: 'dingstreamonly', appSecret: 'stream-secret', corpId: 'dingcorpstreamonly' };
  const CB_TOKEN = 'stream-suite-token';
  const AES_KEY = randomAesKey();
  const deliveries = async (q: string) => (await fake.control<{ deliveries: Delivery[] }>('GET', `/deliveries?${q}`)).deliveries;
  const connections = async (appKey: string) =>
    (await fake.control<{ connections: Array<{ appKey: string; connectionId: string }> }>('GET', '/stream/connections')).connections.filter(
      (c) => c.appKey === appKey,
    );

  before(async () => {
    fake = await startDingtalkFake({ stream: { ackTimeoutMs: 1000, pingIntervalMs: 0 }, httpPush: { retryDelaysMs: [300, 600] } });
    const base = fake.baseUrl();
    const config = writeConfig(
      tempDir('dingtalk-stream'),
      `
version: 1
connections:${appConfig('both', BOTH, base, `, callbackToken: ${CB_TOKEN}, callbackAesKey: "${AES_KEY}"`)}${appConfig('streamonly', STREAM, base)}
flows: []
`,
    );
    environment = await prepareEnvironment({ name: 'dingtalk-stream', store: 'external', queue: 'redis' }, 'dingtalk-stream', {
      DINGBRIDGE_CONFIG: config,
      DINGTALK_BASE_URL: base,
      DINGTALK_OAPI_BASE_URL: base,
      DINGBRIDGE_STREAM_SCAN_MS: '500',
      DINGBRIDGE_STREAM_BACKOFF_MAX_MS: '2000',
    });
    hub = await startTestHub(environment);
    await fake.control('POST', '/apps', {
      ...BOTH,
      stream: true,
      eventSubscription: { callbackUrl: `${hub.url}/webhooks/dingtalk/both`, token: CB_TOKEN, aesKey: AES_KEY },
    });
    await fake.control('POST', '/apps', { ...STREAM, stream: true });
    await waitUntil(
      async () => (await connections(BOTH.appKey)).length === 1 && (await connections(STREAM.appKey)).length === 1,
      'both streams connected',
      15_000,
    );
  });
  after(async () => {
    await hub?.stop();
    await fake?.stop();
    await environment?.cleanup();
  });

  test('an approval by HTTP and by Stream is one HubEvent per DingTalk event, with its form values; every delivery acknowledged', async () => {
    const { instanceId } = await fake.control<{ instanceId: string }>('POST', '/approvals', {
      appKey: BOTH.appKey,
      originatorUserId: 'user002',
      processCode: 'PROC-CONTRACT',
      formComponentValues: [{ name: 'Counterparty', value: 'ACME' }],
    });
    await fake.control('POST', `/approvals/${instanceId}/agree`, {});
    const ds = await waitUntil(
      async () => {
        const r = (await fake.control<{ deliveries: Delivery[] }>('GET', `/approvals/${instanceId}`)).deliveries;
        return r.length >= 8 && r.every((d) => d.status === 'acknowledged') && r;
      },
      'every HTTP and Stream delivery acknowledged',
      15_000,
    );
    assert.deepEqual([...new Set(ds.map((d) => d.mode))].sort(), ['http', 'stream']);
    assert.ok(ds.filter((d) => d.mode === 'stream').every((d) => d.ackStatus === 'SUCCESS'));
    const eventIds = [...new Set(ds.map((d) => d.eventId))];
    const rows = await queryHub<{ type: string; data: any }>(
      environment,
      "select type, data from events where data->>'processInstanceId' = $1",
      [instanceId],
    );
    assert.equal(rows.length, eventIds.length, `${eventIds.length} DingTalk events, ${rows.length} hub events`);
    const finished = rows.filter((r) => r.type === 'dingtalk.approval.finished');
    assert.equal(finished.length, 1);
    assert.deepEqual(finished[0]!.data.form, { Counterparty: 'ACME' });
    assert.equal(finished[0]!.data.result, 'agree');
  });

  test('a robot message arrives as a Stream CALLBACK, is stored as dingtalk.message.received, then acknowledged', async () => {
    const { msgId } = await fake.control<{ msgId: string }>('POST', '/chat', {
      appKey: STREAM.appKey,
      text: 'trello add Fix the login page',
      senderStaffId: 'user001',
    });
    const [ev] = await waitUntil(async () => {
      const r = await queryHub<{ type: string; source: string; data: any }>(
        environment,
        "select type, source, data from events where data->>'msgId' = $1",
        [msgId],
      );
      return r.length && r;
    }, 'robot message stored');
    assert.equal(ev!.type, 'dingtalk.message.received');
    assert.equal(ev!.source, 'streamonly');
    assert.equal(ev!.data.text, 'trello add Fix the login page');
    assert.equal(ev!.data.sender.staffId, 'user001');
    assert.equal(ev!.data.conversation.type, 'private');
    await waitUntil(
      async () => (await deliveries(`appKey=${STREAM.appKey}&kind=robot_message`)).some((d) => d.status === 'acknowledged'),
      'callback acknowledged',
    );
  });

  test('the stream killed mid-burst loses nothing: the fake redelivers, repeats are dropped', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const { instanceId } = await fake.control<{ instanceId: string }>('POST', '/approvals', {
        appKey: STREAM.appKey,
        originatorUserId: 'user001',
        processCode: `PROC-${i}`,
        formComponentValues: [{ name: 'N', value: String(i) }],
      });
      ids.push(instanceId);
      if (i === 5) {
        const { dropped } = await fake.control<{ dropped: number }>('POST', '/stream/drop', { appKey: STREAM.appKey });
        assert.equal(dropped, 1);
      }
    }
    await waitUntil(async () => (await connections(STREAM.appKey)).length === 1, 'reconnected', 10_000);
    const ds = await waitUntil(
      async () => {
        const all = await deliveries(`appKey=${STREAM.appKey}&mode=stream&kind=event`);
        return all.length >= ids.length * 2 && all.every((d) => d.status === 'acknowledged') && all;
      },
      'every stream delivery acknowledged',
      20_000,
    );
    const streamConnections = new Set(ds.flatMap((d) => d.history.map((h) => h.connectionId)));
    assert.ok(streamConnections.size >= 2, 'the burst went over two stream connections (killed, then reconnected)');
    const started = await queryHub<{ id: string; data: any }>(
      environment,
      "select id, data from events where type = 'dingtalk.approval.started' and data->>'processInstanceId' = any($1)",
      [ids],
    );
    assert.equal(started.length, ids.length, 'every approval stored once');
    assert.deepEqual(
      started.map((r) => r.data.form.N).sort((a: string, b: string) => Number(a) - Number(b)),
      ids.map((_, i) => String(i)),
    );
    const tasks = await queryHub<{ n: number }>(
      environment,
      "select count(*)::int as n from events where type = 'dingtalk.approval.task.started' and data->>'processInstanceId' = any($1)",
      [ids],
    );
    assert.equal(tasks[0]!.n, ids.length);
    const [conn] = await queryHub<{ status: string }>(environment, "select status from connections where id = 'streamonly'");
    assert.equal(conn!.status, 'active');
  });
});

describe('DingTalk Stream mode: two hub processes, one stream', { skip }, () => {
  let fake: RunningDingtalkFake;
  let environment: Environment;
  const hubs: HubProcess[] = [];
  const APP = { appKey: `dingtwo${crypto.randomBytes(3).toString('hex')}`, appSecret: 'two-secret', corpId: 'dingcorptwo' };
  const connections = async () =>
    (await fake.control<{ connections: Array<{ appKey: string }> }>('GET', '/stream/connections')).connections.filter(
      (c) => c.appKey === APP.appKey,
    );

  before(async () => {
    fake = await startDingtalkFake({ stream: { ackTimeoutMs: 1000, pingIntervalMs: 0 } });
    await fake.control('POST', '/apps', { ...APP, stream: true });
    const base = fake.baseUrl();
    const config = writeConfig(
      tempDir('dingtalk-stream-two'),
      `
version: 1
connections:${appConfig('dingtalk', APP, base)}
flows: []
`,
    );
    environment = await prepareEnvironment({ name: 'dingtalk-stream-two', store: 'external', queue: 'redis' }, 'dingtalk-stream-two', {
      DINGBRIDGE_CONFIG: config,
      DINGTALK_BASE_URL: base,
      DINGTALK_OAPI_BASE_URL: base,
      DINGBRIDGE_STREAM_SCAN_MS: '500',
      DINGBRIDGE_STREAM_BACKOFF_MAX_MS: '2000',
      LOG_LEVEL: 'info',
    });
    hubs.push(await spawnHub(environment, ['serve']));
    hubs.push(await spawnHub(environment, ['serve']));
  });
  after(async () => {
    for (const h of hubs) await h.kill().catch(() => {});
    await fake?.stop();
    await environment?.cleanup();
  });

  test('exactly one process holds the stream; when it dies the other takes over and nothing is lost', async () => {
    await waitUntil(async () => (await connections()).length === 1, 'one stream', 15_000);
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await connections()).length, 1, 'still exactly one stream');
    }
    const holderIndex = hubs.findIndex((h) => /holding the stream of this connection/.test(h.output()));
    assert.ok(holderIndex >= 0, 'one hub says it holds the stream');
    assert.equal(hubs.filter((h) => /holding the stream of this connection/.test(h.output())).length, 1, 'and only one');

    const first = await fake.control<{ instanceId: string }>('POST', '/approvals', {
      appKey: APP.appKey,
      originatorUserId: 'user001',
      processCode: 'PROC-A',
      formComponentValues: [{ name: 'Amount', value: '1' }],
    });
    await waitUntil(
      async () =>
        (
          await queryHub(environment, "select 1 from events where type = 'dingtalk.approval.started' and data->>'processInstanceId' = $1", [
            first.instanceId,
          ])
        ).length === 1,
      'stored through the holder',
    );

    await hubs[holderIndex]!.kill('SIGKILL');
    const survivor = hubs[1 - holderIndex]!;
    // Events while nobody holds the stream wait at DingTalk (the fake keeps them) and arrive after the take-over.
    const second = await fake.control<{ instanceId: string }>('POST', '/approvals', {
      appKey: APP.appKey,
      originatorUserId: 'user001',
      processCode: 'PROC-B',
      formComponentValues: [{ name: 'Amount', value: '2' }],
    });
    await waitUntil(() => /holding the stream of this connection/.test(survivor.output()), 'the survivor takes the stream', 20_000);
    await waitUntil(async () => (await connections()).length === 1, 'one stream again', 15_000);
    const rows = await waitUntil(
      async () => {
        const r = await queryHub<{ data: any }>(
          environment,
          "select data from events where type = 'dingtalk.approval.started' and data->>'processInstanceId' = $1",
          [second.instanceId],
        );
        return r.length === 1 && r;
      },
      'stored through the survivor',
      20_000,
    );
    assert.deepEqual(rows[0]!.data.form, { Amount: '2' });
  });
});
