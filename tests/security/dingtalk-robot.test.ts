import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { prepareEnvironment, startTestHub, tempDir, waitUntil, writeConfig, type Environment } from '../helpers/hub.ts';
import { queryHub } from '../helpers/hub-db.ts';
import { services } from '../helpers/services.ts';
import { startSink, type Sink } from '../helpers/sink.ts';
import type { Hub } from '../../app/hub.ts';

// Finding 9: an HTTP robot callback's sign covers only the timestamp, and a pair was accepted for an hour
// with any body (so any sender, any command). Now each pair is accepted once, within 5 minutes, and a
// sender is authority for a privileged command only when the connection lists it in allowedSenders.
const available = await services();
const APP_SECRET = 'robot-app-secret-for-tests';

const signed = (at: number) => ({
  timestamp: String(at),
  sign: crypto.createHmac('sha256', APP_SECRET).update(`${at}\n${APP_SECRET}`).digest('base64'),
});
const message = (msgId: string, text: string, senderStaffId: string) =>
  JSON.stringify({
    msgId,
    msgtype: 'text',
    text: { content: text },
    senderStaffId,
    senderNick: senderStaffId,
    conversationId: 'cidFinance',
    conversationType: '2',
    createAt: Date.now(),
  });

describe('DingTalk HTTP robot callbacks (finding 9)', { skip: available.postgres ? false : 'needs PostgreSQL' }, () => {
  let environment: Environment;
  let hub: Hub;
  let sink: Sink;
  let url: string;
  const post = async (headers: Record<string, string>, body: string) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: res.status, json: (await res.json().catch(() => undefined)) as any };
  };
  const stored = (msgId: string) =>
    queryHub<{ data: any }>(environment, "select data from events where type = 'dingtalk.message.received' and data->>'msgId' = $1", [
      msgId,
    ]);

  before(async () => {
    sink = await startSink();
    environment = await prepareEnvironment({ name: 'robot', store: 'external', queue: 'postgres' }, 'robot-replay');
    environment.env.DINGBRIDGE_CONFIG = writeConfig(
      tempDir('robot-replay-config'),
      `
version: 1
connections:
  - id: ding
    connector: dingtalk
    settings: { appKey: dingrobotapp, baseUrl: "http://127.0.0.1:9", oapiBaseUrl: "http://127.0.0.1:9", allowedSenders: "manager01, cfo02" }
    secrets: { appSecret: ${APP_SECRET} }
flows:
  - id: refund-command
    name: refund <amount> from chat
    when:
      event: dingtalk.message.received
      source: ding
      condition: data.words[0] == "refund" and data.senderAllowed
    then:
      - action: http.post
        input: { url: "${sink.url}", body: '{ "refund": "{{ data.words[1] }}", "by": "{{ data.sender.staffId }}" }' }
`,
    );
    hub = await startTestHub(environment);
    url = `${hub.url}/webhooks/dingtalk/ding`;
  });
  after(async () => {
    await hub?.stop();
    await sink?.close();
    await environment?.cleanup();
  });

  test('a timestamp/sign pair is accepted once: another body with it is refused, a redelivery of the same message is stored once', async () => {
    const headers = signed(Date.now());
    const first = await post(headers, message('msg-a', 'hello', 'user002'));
    assert.equal(first.status, 200);
    const forged = await post(headers, message('msg-forged', 'refund 90000', 'manager01'));
    assert.equal(forged.status, 401);
    assert.equal(forged.json.error.code, 'signature_replayed');
    assert.equal((await stored('msg-forged')).length, 0, 'the forged message is not stored');
    const again = await post(headers, message('msg-a', 'hello', 'user002'));
    assert.equal(again.status, 200, 'DingTalk redelivering the same message is not an error');
    assert.equal((await stored('msg-a')).length, 1);
  });

  test('a correctly signed callback more than 5 minutes old is refused (it was accepted for an hour)', async () => {
    const old = await post(signed(Date.now() - 10 * 60_000), message('msg-old', 'hello', 'user002'));
    assert.equal(old.status, 401);
    assert.equal(old.json.error.code, 'timestamp_invalid');
    assert.equal((await post(signed(Date.now() + 10 * 60_000), message('msg-future', 'hello', 'user002'))).status, 401);
  });

  test('senderAllowed marks only listed senders, and a privileged command runs only for them', async () => {
    assert.equal((await post(signed(Date.now()), message('msg-user', 'refund 500', 'user002'))).status, 200);
    assert.equal((await post(signed(Date.now() + 1), message('msg-cfo', 'refund 700', 'cfo02'))).status, 200);
    const [user] = await stored('msg-user');
    const [cfo] = await stored('msg-cfo');
    assert.equal(user!.data.senderAllowed, false);
    assert.equal(cfo!.data.senderAllowed, true);
    await waitUntil(
      async () =>
        (await queryHub(environment, "select 1 from events where data->>'msgId' in ('msg-user', 'msg-cfo') and status = 'dispatched'"))
          .length === 2,
      'both commands dispatched',
    );
    await waitUntil(
      async () =>
        (await queryHub(environment, "select 1 from step_runs where flow_id = 'refund-command' and status = 'succeeded'")).length === 1,
      'the allowed command ran',
    );
    const [user2] = await queryHub<{ flows_matched: number }>(
      environment,
      "select flows_matched from events where data->>'msgId' = 'msg-user'",
    );
    assert.equal(user2!.flows_matched, 0, 'the unlisted sender matched no flow');
    assert.deepEqual(
      sink.requests.map((r) => r.json),
      [{ refund: '700', by: 'cfo02' }],
    );
  });
});
