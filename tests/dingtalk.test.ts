import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Hub } from '../app/hub.ts';
import { startDingtalkFake, SEED, type RunningDingtalkFake } from '../sandbox/dingtalk/index.ts';
import path from 'node:path';
import {
  prepareEnvironment,
  ROOT,
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
import { addFault, assertSuccessReply, calls, dt, postCallback, randomAesKey, runAction, stepError } from './dingtalk-support.ts';

/**
 * The DingTalk connector against the sandbox fake, through the official SDKs: every action's success
 * path and error mapping, the app token in the vault, HTTP callbacks (crypto, URL checks, approvals with
 * their form values, refusals), robot messages by HTTP, and an unreachable DingTalk.
 */
const available = await services();

const APP = { appKey: 'dinghttpapp', appSecret: 'http-app-secret', corpId: 'dingcorphttp', agentId: 200001 };
const CB_TOKEN = 'callback-token-1';
const AES_KEY = randomAesKey();

describe('DingTalk connector', { skip: available.postgres && available.redis ? false : 'needs PostgreSQL and Redis' }, () => {
  let fake: RunningDingtalkFake;
  let environment: Environment;
  let hub: Hub;
  let callbackUrl: string;

  const eventsOf = (type: string, instanceId: string) =>
    queryHub<{ id: string; data: any }>(environment, "select id, data from events where type = $1 and data->>'processInstanceId' = $2", [
      type,
      instanceId,
    ]);
  const eventCount = async () => (await queryHub<{ n: number }>(environment, 'select count(*)::int as n from events'))[0]!.n;

  before(async () => {
    fake = await startDingtalkFake({ httpPush: { timeoutMs: 1500, retryDelaysMs: [300, 600] }, stream: { pingIntervalMs: 0 } });
    const base = fake.baseUrl();
    await fake.control('POST', '/robots', { accessToken: 'kw-token', keywords: ['alert'], name: 'Keyword robot' });
    await fake.control('POST', '/robots', { accessToken: 'fast-token', name: 'Busy robot' });
    const dir = tempDir('dingtalk-cfg');
    const robot = (id: string, token: string, extra: Record<string, string> = {}, secret?: string) => `
  - id: ${id}
    connector: dingtalk_robot
    settings: { oapiBaseUrl: "${base}"${Object.entries(extra)
      .map(([k, v]) => `, ${k}: "${v}"`)
      .join('')} }
    secrets: { accessToken: "${token}"${secret ? `, secret: "${secret}"` : ''} }`;
    const config = writeConfig(
      dir,
      `
version: 1
connections:
  - id: dingtalk
    connector: dingtalk
    settings: { appKey: ${APP.appKey}, corpId: ${APP.corpId}, agentId: "${APP.agentId}", baseUrl: "${base}", oapiBaseUrl: "${base}" }
    secrets: { appSecret: ${APP.appSecret}, callbackToken: ${CB_TOKEN}, callbackAesKey: "${AES_KEY}" }
  - id: wrongsecret
    connector: dingtalk
    settings: { appKey: ${APP.appKey}, baseUrl: "${base}" }
    secrets: { appSecret: not-the-secret }
  - id: down
    connector: dingtalk
    settings: { appKey: ${APP.appKey}, baseUrl: "http://127.0.0.1:9", oapiBaseUrl: "http://127.0.0.1:9", stream: "true" }
    secrets: { appSecret: ${APP.appSecret} }
${robot('robot', SEED.robotToken, {}, SEED.robotSecret)}
${robot('robot_badsecret', SEED.robotToken, {}, 'SECnotthesecret')}
${robot('robot_kw', 'kw-token', { keywords: 'alert' })}
${robot('robot_kw_unset', 'kw-token')}
${robot('robot_unknown', 'no-such-token')}
${robot('robot_fast', 'fast-token')}
hooks:
  - id: ping
flows: []
`,
    );
    environment = await prepareEnvironment({ name: 'dingtalk', store: 'external', queue: 'redis' }, 'dingtalk', {
      DINGTALK_BASE_URL: base,
      DINGTALK_OAPI_BASE_URL: base,
      DINGBRIDGE_STREAM_SCAN_MS: '500',
      DINGBRIDGE_STREAM_BACKOFF_MAX_MS: '2000',
      DINGBRIDGE_CONFIG: config,
    });
    hub = await startTestHub(environment);
    callbackUrl = `${hub.url}/webhooks/dingtalk/dingtalk`;
    await fake.control('POST', '/apps', { ...APP, stream: false, eventSubscription: { callbackUrl, token: CB_TOKEN, aesKey: AES_KEY } });
  });
  after(async () => {
    await hub?.stop();
    await fake?.stop();
    await environment?.cleanup();
  });

  describe('app token', () => {
    test('obtained through the SDK once and kept (sealed) in the connection row; an expired token is refreshed once, then needs_reauth', async () => {
      await fetch(`${fake.baseUrl()}/__sandbox/calls`, { method: 'DELETE' });
      await runAction(hub, 'dingtalk.message.sendToGroup', 'dingtalk', { openConversationId: SEED.groupId, text: 'first' });
      await runAction(hub, 'dingtalk.message.sendToGroup', 'dingtalk', { openConversationId: SEED.groupId, text: 'second' });
      assert.equal((await calls(fake, '/v1.0/oauth2/accessToken')).length, 1, 'one token request for two calls');
      const [row] = await queryHub<{ secrets: string; expires_at: Date }>(
        environment,
        "select secrets, expires_at from connections where id = 'dingtalk'",
      );
      assert.match(row!.secrets, /^v1\./, 'sealed in the vault');
      assert.ok(new Date(row!.expires_at).getTime() > Date.now() + 3600_000, 'expiry from expireIn (7200 s)');

      await fake.control('POST', '/tokens/expire', { appKey: APP.appKey });
      await runAction(hub, 'dingtalk.message.sendToGroup', 'dingtalk', { openConversationId: SEED.groupId, text: 'after expiry' });
      assert.equal((await calls(fake, '/v1.0/oauth2/accessToken')).length, 2, 'refreshed once on InvalidAuthentication (HTTP 400)');

      await addFault(fake, { kind: 'expired_token', path: '^/v1\\.0/robot/', count: 2 });
      const err = await stepError(
        runAction(hub, 'dingtalk.message.sendToGroup', 'dingtalk', { openConversationId: SEED.groupId, text: 'x' }),
      );
      assert.equal(err.errorClass, 'needs_reauth');

      const wrong = await stepError(
        runAction(hub, 'dingtalk.message.sendToGroup', 'wrongsecret', { openConversationId: SEED.groupId, text: 'x' }),
      );
      assert.equal(wrong.errorClass, 'needs_reauth');
      const [w] = await queryHub<{ status: string; last_error: string }>(
        environment,
        "select status, last_error from connections where id = 'wrongsecret'",
      );
      assert.equal(w!.status, 'needs_reauth');
      assert.match(w!.last_error, /invalidClientIdOrSecret/);
    });
  });

  describe('app robot messages', () => {
    test('sendToUsers: text, markdown, actionCard with buttons become msgKey/msgParam; the users get them', async () => {
      const tag = crypto.randomUUID();
      const out = await runAction(hub, 'dingtalk.message.sendToUsers', 'dingtalk', {
        userIds: ['user001', 'user002'],
        text: `hello ${tag}`,
      });
      assert.ok(out.processQueryKey);
      await runAction(hub, 'dingtalk.message.sendToUsers', 'dingtalk', {
        userIds: ['user001'],
        type: 'markdown',
        title: 'T',
        text: `**md ${tag}**`,
      });
      await runAction(hub, 'dingtalk.message.sendToUsers', 'dingtalk', {
        userIds: ['user001'],
        type: 'actionCard',
        title: 'Approve?',
        text: `card ${tag}`,
        buttons: [
          { title: 'Yes', url: 'https://e.x/y' },
          { title: 'No', url: 'https://e.x/n' },
        ],
      });
      const { messages } = await fake.control<{ messages: Array<{ msgtype: string; body: any; raw: any }> }>(
        'GET',
        '/users/user001/messages',
      );
      const mine = messages.filter((m) => JSON.stringify(m.body).includes(tag));
      assert.deepEqual(
        mine.map((m) => m.msgtype),
        ['text', 'markdown', 'actionCard'],
      );
      assert.equal(mine[2]!.raw.msgKey, 'sampleActionCard2');
      assert.equal(mine[2]!.body.btns[1].actionURL, 'https://e.x/n');
      const u2 = await fake.control<{ messages: Array<{ body: any }> }>('GET', '/users/user002/messages');
      assert.ok(u2.messages.some((m) => m.body.content === `hello ${tag}`));
    });

    test('sendToGroup; errors: a wrong robotCode is permanent, 429 and 503 are retryable, an unreachable host is retryable', async () => {
      const out = await runAction(hub, 'dingtalk.message.sendToGroup', 'dingtalk', {
        openConversationId: 'cidHubGroup',
        type: 'link',
        title: 'L',
        text: 'link text',
        messageUrl: 'https://e.x',
      });
      const { messages } = await fake.control<{ messages: Array<{ processQueryKey: string; msgtype: string }> }>(
        'GET',
        '/conversations/cidHubGroup/messages',
      );
      assert.equal(messages.find((m) => m.processQueryKey === out.processQueryKey)?.msgtype, 'link');

      const wrongRobot = await stepError(
        runAction(hub, 'dingtalk.message.sendToGroup', 'dingtalk', { openConversationId: 'cidHubGroup', text: 'x', robotCode: 'nope' }),
      );
      assert.equal(wrongRobot.errorClass, 'permanent');
      assert.match(wrongRobot.message, /resource\.not\.found/);

      await addFault(fake, { kind: 'status', status: 429, path: '^/v1\\.0/robot/groupMessages', count: 1 });
      const throttled = await stepError(
        runAction(hub, 'dingtalk.message.sendToGroup', 'dingtalk', { openConversationId: 'cidHubGroup', text: 'x' }),
      );
      assert.equal(throttled.errorClass, 'retryable');
      assert.ok((throttled.details.retryAfterMs ?? 0) > 0, 'throttling waits');

      await addFault(fake, { kind: 'status', status: 503, path: '^/v1\\.0/robot/groupMessages', count: 1 });
      assert.equal(
        (await stepError(runAction(hub, 'dingtalk.message.sendToGroup', 'dingtalk', { openConversationId: 'cidHubGroup', text: 'x' })))
          .errorClass,
        'retryable',
      );

      const down = await stepError(
        runAction(hub, 'dingtalk.message.sendToGroup', 'down', { openConversationId: 'cidHubGroup', text: 'x' }),
      );
      assert.equal(down.errorClass, 'retryable');
      assert.throws(
        () =>
          hub.runtime.registry
            .action('dingtalk.message.sendToGroup')!
            .input.parse({ openConversationId: 'c', type: 'markdown', text: 'no title' }),
        /title/,
      );
    });
  });

  describe('approvals', () => {
    test('start maps a plain form object to formComponentValues; get returns it as a form object; an unknown instance is permanent', async () => {
      const started = await runAction(hub, 'dingtalk.approval.start', 'dingtalk', {
        processCode: 'PROC-PURCHASE',
        originatorUserId: 'user001',
        deptId: 1,
        form: { Amount: 6500, Supplier: 'ACME Ltd', Items: ['a', 'b'] },
        approvers: [{ actionType: 'NONE', userIds: ['cfo01'] }],
      });
      assert.ok(started.instanceId);
      const [call] = (await calls(fake, '/v1.0/workflow/processInstances')).filter((c) => c.method === 'POST').slice(-1) as any[];
      assert.equal(call.body.microappAgentId, APP.agentId);
      assert.deepEqual(
        call.body.formComponentValues.map((f: any) => [f.name, f.value]),
        [
          ['Amount', '6500'],
          ['Supplier', 'ACME Ltd'],
          ['Items', '["a","b"]'],
        ],
      );
      const got = await runAction(hub, 'dingtalk.approval.get', 'dingtalk', { processInstanceId: started.instanceId });
      assert.deepEqual(got.form, { Amount: '6500', Supplier: 'ACME Ltd', Items: '["a","b"]' });
      assert.equal(got.status, 'RUNNING');
      assert.equal(got.originatorUserId, 'user001');
      assert.ok(got.tasks.some((t: any) => t.userId === 'cfo01'));
      const unknown = await stepError(runAction(hub, 'dingtalk.approval.get', 'dingtalk', { processInstanceId: 'no-such-instance' }));
      assert.equal(unknown.errorClass, 'permanent');
      assert.match(unknown.message, /processInstanceId/);
    });
  });

  describe('calendar', () => {
    test('create is idempotent per step (x-client-token); update, list, delete; errors mapped', async () => {
      const input = {
        unionId: 'union001',
        summary: 'Design review',
        start: '2031-03-10T10:00:00+08:00',
        end: '2031-03-10T11:00:00+08:00',
        attendees: ['union002'],
        location: 'Room 1',
      };
      const first = await runAction(hub, 'dingtalk.calendar.createEvent', 'dingtalk', input, 'step-key-1');
      const again = await runAction(hub, 'dingtalk.calendar.createEvent', 'dingtalk', input, 'step-key-1');
      assert.equal(again.id, first.id, 'a retried create returns the same event');
      const { events } = await fake.control<{ events: Array<{ id: string; summary: string }> }>('GET', '/calendars/union001/events');
      assert.equal(events.filter((e) => e.summary === 'Design review').length, 1);

      const patched = await runAction(hub, 'dingtalk.calendar.updateEvent', 'dingtalk', {
        unionId: 'union001',
        eventId: first.id,
        summary: 'Design review (moved)',
      });
      assert.equal(patched.summary, 'Design review (moved)');
      const listed = await runAction(hub, 'dingtalk.calendar.listEvents', 'dingtalk', {
        unionId: 'union001',
        timeMin: '2031-03-01T00:00:00Z',
        timeMax: '2031-04-01T00:00:00Z',
      });
      assert.deepEqual(
        listed.events.map((e: any) => e.summary),
        ['Design review (moved)'],
      );
      assert.ok(listed.syncToken);

      const notOrganizer = await stepError(
        runAction(hub, 'dingtalk.calendar.updateEvent', 'dingtalk', { unionId: 'union002', eventId: first.id, summary: 'hijack' }),
      );
      assert.equal(notOrganizer.errorClass, 'permanent');
      assert.match(notOrganizer.message, /403/);
      const badSync = await stepError(
        runAction(hub, 'dingtalk.calendar.listEvents', 'dingtalk', { unionId: 'union001', syncToken: 'garbage' }),
      );
      assert.equal(badSync.errorClass, 'permanent');

      assert.deepEqual(await runAction(hub, 'dingtalk.calendar.deleteEvent', 'dingtalk', { unionId: 'union001', eventId: first.id }), {
        deleted: true,
        eventId: first.id,
      });
      const gone = await runAction(hub, 'dingtalk.calendar.deleteEvent', 'dingtalk', { unionId: 'union001', eventId: 'no-such-event' });
      assert.equal(gone.alreadyGone, true);
      const after = await runAction(hub, 'dingtalk.calendar.listEvents', 'dingtalk', {
        unionId: 'union001',
        timeMin: '2031-03-01T00:00:00Z',
        timeMax: '2031-04-01T00:00:00Z',
      });
      assert.deepEqual(after.events, []);
    });
  });

  describe('custom group robot (dingtalk.robot.send)', () => {
    test('text with @, markdown, link, actionCard (one and several buttons), feedCard — signed; the fake checks the signature', async () => {
      const tag = crypto.randomUUID().slice(0, 8);
      const sends = [
        { text: `t ${tag}`, atMobiles: ['13800000000'], atUserIds: ['user001'] },
        { type: 'markdown', title: 'M', text: `## m ${tag}`, atAll: true },
        { type: 'link', title: 'L', text: `l ${tag}`, messageUrl: 'https://e.x/l' },
        { type: 'actionCard', title: 'A', text: `a1 ${tag}`, singleTitle: 'Open', singleUrl: 'https://e.x/a' },
        {
          type: 'actionCard',
          title: 'A',
          text: `a2 ${tag}`,
          buttons: [
            { title: 'Yes', url: 'https://e.x/y' },
            { title: 'No', url: 'https://e.x/n' },
          ],
        },
        { type: 'feedCard', links: [{ title: `f ${tag}`, messageUrl: 'https://e.x/f', picUrl: 'https://e.x/p.png' }] },
      ];
      for (const s of sends) assert.deepEqual(await runAction(hub, 'dingtalk.robot.send', 'robot', s), { errcode: 0, errmsg: 'ok' });
      const { messages } = await fake.control<{ messages: Array<{ msgtype: string; body: any }> }>(
        'GET',
        `/robots/${SEED.robotToken}/messages`,
      );
      const mine = messages.filter((m) => JSON.stringify(m.body).includes(tag));
      assert.deepEqual(
        mine.map((m) => m.msgtype),
        ['text', 'markdown', 'link', 'actionCard', 'actionCard', 'feedCard'],
      );
      assert.deepEqual(mine[0]!.body.at, { atMobiles: ['13800000000'], atUserIds: ['user001'], isAtAll: false });
      assert.equal(mine[4]!.body.btns.length, 2);
      const sent = (await calls(fake, '/robot/send')).slice(-1)[0] as any;
      assert.match(String(sent.query.sign), /=$|[A-Za-z0-9+/]/);
      assert.ok(Math.abs(Number(sent.query.timestamp) - Date.now()) < 60_000);
    });

    test("errors: wrong secret → needs_reauth; keyword mode → permanent (checked before sending, and DingTalk's 310000); unknown token → needs_reauth; 130101 → retryable after the window", async () => {
      const bad = await stepError(runAction(hub, 'dingtalk.robot.send', 'robot_badsecret', { text: 'x' }));
      assert.equal(bad.errorClass, 'needs_reauth');
      assert.match(bad.message, /sign not match/);

      const before = (await calls(fake, '/robot/send')).length;
      const kw = await stepError(runAction(hub, 'dingtalk.robot.send', 'robot_kw', { text: 'no keyword here' }));
      assert.equal(kw.errorClass, 'permanent');
      assert.equal((await calls(fake, '/robot/send')).length, before, 'refused before sending');
      assert.deepEqual(await runAction(hub, 'dingtalk.robot.send', 'robot_kw', { text: 'alert: disk full' }), { errcode: 0, errmsg: 'ok' });
      const kw2 = await stepError(runAction(hub, 'dingtalk.robot.send', 'robot_kw_unset', { text: 'no keyword here' }));
      assert.equal(kw2.errorClass, 'permanent');
      assert.match(kw2.message, /310000.*keywords/);

      assert.equal((await stepError(runAction(hub, 'dingtalk.robot.send', 'robot_unknown', { text: 'x' }))).errorClass, 'needs_reauth');

      for (let i = 0; i < 20; i++) await runAction(hub, 'dingtalk.robot.send', 'robot_fast', { text: `n${i}` });
      const fast = await stepError(runAction(hub, 'dingtalk.robot.send', 'robot_fast', { text: 'one too many' }));
      assert.equal(fast.errorClass, 'retryable');
      assert.match(fast.message, /130101/);
      assert.equal(fast.details.retryAfterMs, 60_000);
      assert.equal(
        (await stepError(runAction(hub, 'dingtalk.robot.send', 'down', { text: 'x' }))).errorClass,
        'permanent',
        'a robot send needs a robot connection',
      );
    });
  });

  describe('HTTP callbacks: POST /webhooks/dingtalk/:connectionId', () => {
    test('URL checks (check_url from the fake; check_create_suite_url, check_update_suite_url) get the encrypted success, nothing stored', async () => {
      const before = await eventCount();
      const checked = await fake.control<{ acknowledged: boolean; lastError: string | null }>('POST', `/apps/${APP.appKey}/check-url`);
      assert.equal(checked.acknowledged, true, `the fake verified and decrypted the reply: ${checked.lastError}`);
      for (const EventType of ['check_create_suite_url', 'check_update_suite_url']) {
        const r = await postCallback(callbackUrl, {
          token: CB_TOKEN,
          aesKey: AES_KEY,
          owner: APP.appKey,
          payload: { EventType, TestSuiteKey: 'x' },
        });
        assert.equal(r.status, 200);
        assertSuccessReply(r.json, CB_TOKEN, AES_KEY, APP.appKey);
      }
      assert.equal(await eventCount(), before);
    });

    test('an approval agreed in the fake becomes ONE dingtalk.approval.finished event with its form values; every push acknowledged within 1500 ms', async () => {
      const { instanceId } = await fake.control<{ instanceId: string }>('POST', '/approvals', {
        appKey: APP.appKey,
        originatorUserId: 'user001',
        processCode: 'PROC-REIMBURSE',
        title: 'Taxi',
        formComponentValues: [
          { name: 'Amount', value: '120.50' },
          { name: 'Reason', value: 'Client visit' },
        ],
      });
      await fake.control('POST', `/approvals/${instanceId}/agree`, { remark: 'ok' });
      const finished = await waitUntil(
        async () => {
          const e = await eventsOf('dingtalk.approval.finished', instanceId);
          return e.length > 0 && e;
        },
        'approval.finished stored',
        10_000,
      );
      await waitUntil(async () => (await eventsOf('dingtalk.approval.task.finished', instanceId)).length === 1, 'task.finished stored');
      const deliveries = await waitUntil(
        async () => {
          const r = await fake.control<{
            deliveries: Array<{
              status: string;
              history: Array<{ durationMs: number; error?: string }>;
              eventType: string;
              lastError?: string;
            }>;
          }>('GET', `/approvals/${instanceId}`);
          const d = r.deliveries.filter((x: any) => x.mode === 'http');
          return d.length >= 4 && d.every((x) => x.status === 'acknowledged' || x.status === 'failed') && d;
        },
        'all HTTP pushes answered',
        10_000,
      );
      for (const d of deliveries) {
        assert.equal(d.status, 'acknowledged', `the fake accepted the reply to ${d.eventType}: ${d.lastError}`);
        assert.equal(d.history.length, 1, 'acknowledged at the first attempt');
        assert.ok(d.history[0]!.durationMs < 1500, `answered in ${d.history[0]!.durationMs} ms`);
      }
      assert.equal(finished.length, 1);
      const data = finished[0]!.data;
      assert.equal(data.result, 'agree');
      assert.equal(data.formFetched, true);
      assert.deepEqual(data.form, { Amount: '120.50', Reason: 'Client visit' });
      assert.equal(data.originatorUserId, 'user001');
      assert.equal(data.title, 'Taxi');
      assert.equal(data.status, 'COMPLETED');
      const started = await eventsOf('dingtalk.approval.started', instanceId);
      assert.equal(started.length, 1);
      const task = (await eventsOf('dingtalk.approval.task.finished', instanceId))[0]!.data;
      assert.equal(task.task.userId, 'manager01');
      assert.equal(task.task.remark, 'ok');
    });

    test('a slow DingTalk API does not delay the answer past 1500 ms: the event is stored without its form, flagged', async () => {
      await addFault(fake, { kind: 'delay', ms: 3000, path: '^/v1\\.0/workflow/processInstances$', method: 'GET', count: 4 });
      const { instanceId } = await fake.control<{ instanceId: string }>('POST', '/approvals', {
        appKey: APP.appKey,
        originatorUserId: 'user001',
        processCode: 'PROC-SLOW',
        formComponentValues: [{ name: 'Amount', value: '1' }],
      });
      const [ev] = await waitUntil(
        async () => {
          const e = await eventsOf('dingtalk.approval.started', instanceId);
          return e.length > 0 && e;
        },
        'stored',
        10_000,
      );
      assert.equal(ev!.data.formFetched, false);
      assert.match(ev!.data.formError, /longer than/);
      const ds = await waitUntil(async () => {
        const r = await fake.control<{ deliveries: Array<{ mode: string; status: string; history: Array<{ durationMs: number }> }> }>(
          'GET',
          `/approvals/${instanceId}`,
        );
        const http = r.deliveries.filter((x) => x.mode === 'http');
        return http.length >= 2 && http.every((d) => d.status === 'acknowledged' || d.status === 'failed') && http;
      }, 'both pushes answered');
      for (const d of ds) {
        assert.equal(d.status, 'acknowledged');
        assert.ok(d.history[0]!.durationMs < 1500, `answered in ${d.history[0]!.durationMs} ms`);
      }
    });

    test('a repeated push is one event; a pad of any length 1..32 is accepted', async () => {
      const eventId = crypto.randomBytes(16).toString('hex');
      const payload = { EventType: 'user_add_org', EventTime: Date.now(), CorpId: APP.corpId, eventId, UserId: ['u9'] };
      const one = await postCallback(callbackUrl, { token: CB_TOKEN, aesKey: AES_KEY, owner: APP.appKey, payload });
      assertSuccessReply(one.json, CB_TOKEN, AES_KEY, APP.appKey);
      const again = await postCallback(callbackUrl, { token: CB_TOKEN, aesKey: AES_KEY, owner: APP.appKey, payload, encrypt: one.encrypt });
      assertSuccessReply(again.json, CB_TOKEN, AES_KEY, APP.appKey);
      const rows = await queryHub<{ n: number }>(environment, "select count(*)::int as n from events where data->>'eventId' = $1", [
        eventId,
      ]);
      assert.equal(rows[0]!.n, 1);
      const [ev] = await queryHub<{ type: string; data: any }>(environment, "select type, data from events where data->>'eventId' = $1", [
        eventId,
      ]);
      assert.equal(ev!.type, 'dingtalk.event.received');
      assert.equal(ev!.data.eventType, 'user_add_org');

      for (const [block, forcePad] of [
        [16, undefined],
        [32, undefined],
      ] as const) {
        const r = await postCallback(callbackUrl, {
          token: CB_TOKEN,
          aesKey: AES_KEY,
          owner: APP.appKey,
          payload: { EventType: 'check_url' },
          block,
          forcePad,
        });
        assert.equal(r.status, 200, `pad to ${block}`);
      }
      // A plaintext that is already a whole number of blocks gets a full block of padding (32 bytes of 32).
      for (let extra = 0; extra < 32; extra++) {
        const payloadText = JSON.stringify({ EventType: 'check_url', p: 'x'.repeat(extra) });
        const len = 20 + Buffer.byteLength(payloadText) + APP.appKey.length;
        if (len % 32 !== 0) continue;
        const r = await postCallback(callbackUrl, {
          token: CB_TOKEN,
          aesKey: AES_KEY,
          owner: APP.appKey,
          payload: JSON.parse(payloadText),
        });
        assert.equal(r.status, 200, 'a pad of 32');
      }
    });

    test('a forged signature, a wrong owner key and a garbled ciphertext are refused with 401 and store nothing', async () => {
      const before = await eventCount();
      const payload = () => ({
        EventType: 'bpms_instance_change',
        eventId: crypto.randomBytes(16).toString('hex'),
        processInstanceId: 'x',
        type: 'start',
      });
      const forged = await postCallback(callbackUrl, {
        token: CB_TOKEN,
        aesKey: AES_KEY,
        owner: APP.appKey,
        payload: payload(),
        forgeSignature: true,
      });
      assert.equal(forged.status, 401);
      assert.equal(forged.json.error.code, 'signature_invalid');
      const owner = await postCallback(callbackUrl, { token: CB_TOKEN, aesKey: AES_KEY, owner: 'dingsomeoneelse', payload: payload() });
      assert.equal(owner.status, 401);
      assert.equal(owner.json.error.code, 'owner_key_mismatch');
      const otherKey = await postCallback(callbackUrl, { token: CB_TOKEN, aesKey: randomAesKey(), owner: APP.appKey, payload: payload() });
      assert.equal(otherKey.status, 401, 'encrypted under another key');
      const garbled = await postCallback(callbackUrl, {
        token: CB_TOKEN,
        aesKey: AES_KEY,
        owner: APP.appKey,
        payload: {},
        encrypt: crypto.randomBytes(96).toString('base64'),
      });
      assert.equal(garbled.status, 401);
      assert.equal(garbled.json.error.code, 'decrypt_failed');
      const notBase64Blocks = await postCallback(callbackUrl, {
        token: CB_TOKEN,
        aesKey: AES_KEY,
        owner: APP.appKey,
        payload: {},
        encrypt: 'abc',
      });
      assert.equal(notBase64Blocks.status, 401);
      const plain = await fetch(callbackUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"hello":"world"}',
      });
      assert.equal(plain.status, 401);
      assert.equal(await eventCount(), before, 'nothing stored');
    });

    test('a robot message by HTTP (signed with the app secret) becomes dingtalk.message.received with text, sender and conversation', async () => {
      await fake.control('PATCH', `/apps/${APP.appKey}`, { robotMessageUrl: callbackUrl });
      const { msgId } = await fake.control<{ msgId: string }>('POST', '/chat', {
        appKey: APP.appKey,
        conversationId: 'cidSalesGroup',
        conversationTitle: 'Sales',
        text: ' trello add Fix the login page ',
        senderStaffId: 'user002',
      });
      const [ev] = await waitUntil(async () => {
        const r = await queryHub<{ type: string; data: any; source: string }>(
          environment,
          "select type, data, source from events where data->>'msgId' = $1",
          [msgId],
        );
        return r.length && r;
      }, 'robot message stored');
      assert.equal(ev!.type, 'dingtalk.message.received');
      assert.equal(ev!.source, 'dingtalk');
      assert.equal(ev!.data.text, 'trello add Fix the login page');
      assert.deepEqual(ev!.data.words.slice(0, 2), ['trello', 'add']);
      assert.equal(ev!.data.sender.staffId, 'user002');
      assert.equal(ev!.data.sender.nick, 'Bob Lee');
      assert.deepEqual(ev!.data.conversation, { id: 'cidSalesGroup', type: 'group', title: 'Sales' });
      const forged = await fetch(callbackUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', timestamp: String(Date.now()), sign: 'bm9wZQ==' },
        body: JSON.stringify({ msgId: 'm1', text: { content: 'x' } }),
      });
      assert.equal(forged.status, 401);
      await fake.control('PATCH', `/apps/${APP.appKey}`, { robotMessageUrl: null });
    });
  });

  test('an unreachable DingTalk: the hub serves on, the connection shows the error, the stream keeps retrying', async () => {
    const [row] = await waitUntil(
      async () => {
        const r = await queryHub<{ status: string; last_error: string | null; updated_at: Date }>(
          environment,
          "select status, last_error, updated_at from connections where id = 'down'",
        );
        return r[0]?.status === 'error' && /^stream:/.test(r[0].last_error ?? '') && r;
      },
      'down connection marked error by its stream',
      15_000,
    );
    assert.match(row!.last_error ?? '', /ECONNREFUSED/);
    await waitUntil(
      async () => {
        const [again] = await queryHub<{ updated_at: Date }>(environment, "select updated_at from connections where id = 'down'");
        return new Date(again!.updated_at).getTime() > new Date(row!.updated_at).getTime();
      },
      'the stream tries again',
      10_000,
    );
    assert.equal((await fetch(`${hub.url}/readyz`)).status, 200);
    const hook = await fetch(`${hub.url}/hooks/catch/ping`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"x":1}',
    });
    assert.equal(hook.status, 200);
    // and the real connection still works
    assert.ok(
      (await runAction(hub, 'dingtalk.message.sendToGroup', 'dingtalk', { openConversationId: SEED.groupId, text: 'still here' }))
        .processQueryKey,
    );
  });
});

describe('examples/dingtalk.yaml', { skip: available.postgres && available.redis ? false : 'needs PostgreSQL and Redis' }, () => {
  let fake: RunningDingtalkFake;
  let environment: Environment;
  let hub: HubProcess;
  const EX = { appKey: 'dingexampleapp', appSecret: 'example-secret', corpId: 'dingcorpexample' };
  const token = 'example-callback-token';
  const aesKey = randomAesKey();

  before(async () => {
    fake = await startDingtalkFake({ stream: { pingIntervalMs: 0 } });
    environment = await prepareEnvironment({ name: 'dingtalk-example', store: 'external', queue: 'redis' }, 'dingtalk-example', {
      DINGBRIDGE_CONFIG: path.join(ROOT, 'examples/dingtalk.yaml'),
      LOG_LEVEL: 'info',
      DINGTALK_APP_KEY: EX.appKey,
      DINGTALK_APP_SECRET: EX.appSecret,
      DINGTALK_CALLBACK_TOKEN: token,
      DINGTALK_CALLBACK_AES_KEY: aesKey,
      DINGTALK_BASE_URL: fake.baseUrl(),
      DINGTALK_OAPI_BASE_URL: fake.baseUrl(),
    });
    hub = await spawnHub(environment, ['serve']);
    await fake.control('POST', '/apps', {
      ...EX,
      stream: false,
      eventSubscription: { callbackUrl: `${hub.url}/webhooks/dingtalk/dingtalk`, token, aesKey },
    });
  });
  after(async () => {
    await hub?.kill();
    await fake?.stop();
    await environment?.cleanup();
  });

  test('connection `dingtalk` from the env vars: the URL check passes, and an agreed approval messages its requester', async () => {
    const checked = await fake.control<{ acknowledged: boolean; lastError: string | null }>('POST', `/apps/${EX.appKey}/check-url`);
    assert.equal(checked.acknowledged, true, String(checked.lastError));
    const { instanceId } = await fake.control<{ instanceId: string }>('POST', '/approvals', {
      appKey: EX.appKey,
      originatorUserId: 'user002',
      processCode: 'PROC-X',
      title: 'Laptop',
    });
    await fake.control('POST', `/approvals/${instanceId}/agree`, {});
    const msg = await waitUntil(
      async () => {
        const { messages } = await fake.control<{ messages: Array<{ msgtype: string; body: { title?: string; text?: string } }> }>(
          'GET',
          '/users/user002/messages',
        );
        return messages.find((m) => m.body.text?.includes('Laptop'));
      },
      'the requester is told',
      15_000,
    );
    assert.equal(msg.msgtype, 'markdown');
    assert.equal(msg.body.text, '**Laptop** was agreed.');
  });
});
