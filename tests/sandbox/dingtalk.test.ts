import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import * as $OpenApi from '@alicloud/openapi-client';
import * as $Util from '@alicloud/tea-util';
import oauth2Pkg from '@alicloud/dingtalk/dist/oauth2_1_0/client.js';
import robotPkg from '@alicloud/dingtalk/dist/robot_1_0/client.js';
import workflowPkg from '@alicloud/dingtalk/dist/workflow_1_0/client.js';
import calendarPkg from '@alicloud/dingtalk/dist/calendar_1_0/client.js';
import { startDingtalkFake, SEED, type RunningDingtalkFake } from '../../sandbox/dingtalk/index.ts';

// ---------------------------------------------------------------------------------------------
// An independent implementation of DingTalk's published callback crypto (not the fake's code).
// ---------------------------------------------------------------------------------------------
const dt = {
  sign(token: string, ts: string, nonce: string, encrypt: string): string {
    const parts = [token, ts, nonce, encrypt];
    parts.sort();
    const h = crypto.createHash('sha1');
    for (const p of parts) h.update(p, 'utf8');
    return h.digest('hex');
  },
  key(aesKey: string): Buffer {
    return Buffer.from(`${aesKey}=`, 'base64');
  },
  decrypt(aesKey: string, encrypt: string): { json: string; owner: string } {
    const key = dt.key(aesKey);
    const d = crypto.createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
    const buf = Buffer.concat([d.update(encrypt, 'base64'), d.final()]);
    const padLen = buf.at(-1)!;
    assert.ok(padLen >= 1 && padLen <= 32, 'PKCS#7 pad in 1..32');
    for (let i = 1; i <= padLen; i++) assert.equal(buf[buf.length - i], padLen, 'pad bytes all equal');
    assert.equal(buf.length % 32, 0, 'padded to 32-byte blocks');
    const n = (buf[16]! << 24) | (buf[17]! << 16) | (buf[18]! << 8) | buf[19]!;
    return { json: buf.subarray(20, 20 + n).toString('utf8'), owner: buf.subarray(20 + n, buf.length - padLen).toString('utf8') };
  },
  encrypt(aesKey: string, text: string, owner: string): string {
    const key = dt.key(aesKey);
    const msg = Buffer.from(text, 'utf8');
    const head = Buffer.alloc(20);
    crypto.randomFillSync(head, 0, 16);
    head.writeUInt32BE(msg.length, 16);
    let plain = Buffer.concat([head, msg, Buffer.from(owner, 'utf8')]);
    const pad = 32 - (plain.length % 32);
    plain = Buffer.concat([plain, Buffer.alloc(pad, pad)]);
    const c = crypto.createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
    return Buffer.concat([c.update(plain), c.final()]).toString('base64');
  },
  hmac(secret: string, ts: string): string {
    return crypto
      .createHmac('sha256', Buffer.from(secret, 'utf8'))
      .update(Buffer.from(`${ts}\n${secret}`, 'utf8'))
      .digest('base64');
  },
};

const AES_KEY = crypto.randomBytes(32).toString('base64').slice(0, 43);
const CB_TOKEN = 'cb-token-123';

interface Received {
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A local HTTP server standing in for the product's callback endpoint. */
async function callbackServer(
  answer: (r: Received) => { status?: number; body: unknown },
): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        query: new URL(req.url ?? '/', 'http://x').searchParams,
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'),
      };
      received.push(r);
      const a = answer(r);
      res.writeHead(a.status ?? 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/dingtalk/events`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Decrypts and verifies what the fake POSTed, using only the test's own implementation. */
function openPush(r: Received, owner: string): Record<string, unknown> {
  const ts = r.query.get('timestamp')!;
  const nonce = r.query.get('nonce')!;
  const sig = r.query.get('msg_signature')!;
  const encrypt = String(r.body.encrypt);
  assert.equal(dt.sign(CB_TOKEN, ts, nonce, encrypt), sig, 'msg_signature verifies');
  const { json, owner: gotOwner } = dt.decrypt(AES_KEY, encrypt);
  assert.equal(gotOwner, owner);
  return JSON.parse(json) as Record<string, unknown>;
}

function successReply(owner: string, tamper = false): Record<string, string> {
  const timeStamp = String(Date.now());
  const nonce = crypto.randomBytes(4).toString('hex');
  const encrypt = dt.encrypt(AES_KEY, 'success', owner);
  const sig = dt.sign(CB_TOKEN, timeStamp, nonce, encrypt);
  return { msg_signature: tamper ? sig.replace(/^./, (c) => (c === '0' ? '1' : '0')) : sig, timeStamp, nonce, encrypt };
}

async function waitFor<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

type SdkError = Error & { code?: string; statusCode?: number; data?: Record<string, unknown> };
async function sdkError(p: Promise<unknown>): Promise<SdkError> {
  try {
    await p;
  } catch (err) {
    return err as SdkError;
  }
  assert.fail('expected the SDK call to fail');
}

let fake: RunningDingtalkFake;
async function addFault(spec: Record<string, unknown>): Promise<void> {
  const r = await fetch(`${fake.baseUrl()}/__sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(spec),
  });
  assert.equal(r.status, 201);
}
const rt = new $Util.RuntimeOptions({});
function cfg(): $OpenApi.Config {
  return new $OpenApi.Config({ protocol: 'http', regionId: 'central', endpoint: `127.0.0.1:${fake.port}` });
}

before(async () => {
  fake = await startDingtalkFake({
    httpPush: { timeoutMs: 500, retryDelaysMs: [100, 200] },
    stream: { ackTimeoutMs: 600, pingIntervalMs: 0 },
  });
});
after(async () => {
  await fake.stop();
});

async function token(appKey: string = SEED.appKey, appSecret: string = SEED.appSecret): Promise<string> {
  const c = new oauth2Pkg.default(cfg());
  const r = await c.getAccessToken(new oauth2Pkg.GetAccessTokenRequest({ appKey, appSecret }));
  return r.body!.accessToken!;
}

describe('new API through @alicloud/dingtalk', () => {
  test('accessToken: issues a token for the right secret, refuses a wrong one', async () => {
    const c = new oauth2Pkg.default(cfg());
    const r = await c.getAccessToken(new oauth2Pkg.GetAccessTokenRequest({ appKey: SEED.appKey, appSecret: SEED.appSecret }));
    assert.equal(r.statusCode, 200);
    assert.match(r.body!.accessToken!, /^[0-9a-f]{32}$/);
    assert.equal(r.body!.expireIn, 7200);
    const err = await sdkError(c.getAccessToken(new oauth2Pkg.GetAccessTokenRequest({ appKey: SEED.appKey, appSecret: 'wrong' })));
    assert.equal(err.code, 'invalidClientIdOrSecret');
    assert.equal(err.statusCode, 400);
  });

  test('robot batchSend and groupMessages/send are recorded per user and per conversation', async () => {
    const tok = await token();
    const c = new robotPkg.default(cfg());
    const hdr = new robotPkg.BatchSendOTOHeaders({ xAcsDingtalkAccessToken: tok });
    const content = `hello ${crypto.randomUUID()}`;
    const r = await c.batchSendOTOWithOptions(
      new robotPkg.BatchSendOTORequest({
        robotCode: SEED.robotCode,
        userIds: ['user001', 'user002'],
        msgKey: 'sampleText',
        msgParam: JSON.stringify({ content }),
      }),
      hdr,
      rt,
    );
    assert.ok(r.body!.processQueryKey);
    assert.deepEqual(r.body!.invalidStaffIdList, []);
    for (const u of ['user001', 'user002']) {
      const { messages } = await fake.control<{ messages: Array<{ body: { content: string }; processQueryKey: string }> }>(
        'GET',
        `/users/${u}/messages`,
      );
      const m = messages.find((x) => x.body.content === content);
      assert.ok(m, `message for ${u}`);
      assert.equal(m.processQueryKey, r.body!.processQueryKey);
    }
    // msgParam must be JSON
    const bad = await sdkError(
      c.batchSendOTOWithOptions(
        new robotPkg.BatchSendOTORequest({
          robotCode: SEED.robotCode,
          userIds: ['user001'],
          msgKey: 'sampleText',
          msgParam: '{not json',
        }),
        hdr,
        rt,
      ),
    );
    assert.equal(bad.statusCode, 400);

    const g = await c.orgGroupSendWithOptions(
      new robotPkg.OrgGroupSendRequest({
        robotCode: SEED.robotCode,
        openConversationId: SEED.groupId,
        msgKey: 'sampleActionCard',
        msgParam: JSON.stringify({ title: 'Card', text: '**Approve?**', singleTitle: 'Open', singleURL: 'https://example.com/x' }),
      }),
      new robotPkg.OrgGroupSendHeaders({ xAcsDingtalkAccessToken: tok }),
      rt,
    );
    assert.ok(g.body!.processQueryKey);
    const { messages } = await fake.control<{
      messages: Array<{ msgtype: string; body: Record<string, unknown>; processQueryKey: string }>;
    }>('GET', `/conversations/${SEED.groupId}/messages`);
    const card = messages.find((m) => m.processQueryKey === g.body!.processQueryKey);
    assert.equal(card?.msgtype, 'actionCard');
    assert.equal(card?.body.singleURL, 'https://example.com/x');
  });

  test('a wrong token and an injected expired_token fault surface as InvalidAuthentication', async () => {
    const c = new robotPkg.default(cfg());
    const req = () =>
      new robotPkg.OrgGroupSendRequest({
        robotCode: SEED.robotCode,
        openConversationId: SEED.groupId,
        msgKey: 'sampleText',
        msgParam: '{"content":"x"}',
      });
    const wrong = await sdkError(
      c.orgGroupSendWithOptions(req(), new robotPkg.OrgGroupSendHeaders({ xAcsDingtalkAccessToken: 'not-a-token' }), rt),
    );
    assert.equal(wrong.code, 'InvalidAuthentication');
    assert.equal(wrong.statusCode, 400);
    assert.equal(typeof wrong.data?.requestid, 'string');

    const tok = await token();
    await addFault({ kind: 'expired_token', path: '^/v1\\.0/robot/', count: 1 });
    const expired = await sdkError(
      c.orgGroupSendWithOptions(req(), new robotPkg.OrgGroupSendHeaders({ xAcsDingtalkAccessToken: tok }), rt),
    );
    assert.equal(expired.code, 'InvalidAuthentication');
    // the fault was used up: the same token works again
    const ok = await c.orgGroupSendWithOptions(req(), new robotPkg.OrgGroupSendHeaders({ xAcsDingtalkAccessToken: tok }), rt);
    assert.ok(ok.body!.processQueryKey);
  });

  test('a token expired through the control API is refused and a fresh one is issued', async () => {
    const tok = await token();
    await fake.control('POST', '/tokens/expire', { appKey: SEED.appKey });
    const c = new robotPkg.default(cfg());
    const err = await sdkError(
      c.orgGroupSendWithOptions(
        new robotPkg.OrgGroupSendRequest({
          robotCode: SEED.robotCode,
          openConversationId: SEED.groupId,
          msgKey: 'sampleText',
          msgParam: '{"content":"x"}',
        }),
        new robotPkg.OrgGroupSendHeaders({ xAcsDingtalkAccessToken: tok }),
        rt,
      ),
    );
    assert.equal(err.code, 'InvalidAuthentication');
    const fresh = await token();
    assert.notEqual(fresh, tok);
  });

  test('injected 429 and 500 faults reach the SDK as errors with statusCode and code', async () => {
    const tok = await token();
    const c = new workflowPkg.default(cfg());
    const hdr = new workflowPkg.GetProcessInstanceHeaders({ xAcsDingtalkAccessToken: tok });
    await addFault({ kind: 'status', status: 429, retryAfter: 3, path: '^/v1\\.0/workflow/', count: 1 });
    const e429 = await sdkError(
      c.getProcessInstanceWithOptions(new workflowPkg.GetProcessInstanceRequest({ processInstanceId: 'x' }), hdr, rt),
    );
    assert.equal(e429.statusCode, 429);
    assert.equal(e429.code, 'Throttling.Api');
    await addFault({ kind: 'status', status: 500, path: '^/v1\\.0/workflow/', count: 1 });
    const e500 = await sdkError(
      c.getProcessInstanceWithOptions(new workflowPkg.GetProcessInstanceRequest({ processInstanceId: 'x' }), hdr, rt),
    );
    assert.equal(e500.statusCode, 500);
    assert.equal(e500.code, 'unknownError');
    // no fault left: an unknown instance is a plain 400
    const e400 = await sdkError(
      c.getProcessInstanceWithOptions(new workflowPkg.GetProcessInstanceRequest({ processInstanceId: 'x' }), hdr, rt),
    );
    assert.equal(e400.statusCode, 400);
  });

  test('workflow: create, get, and the result follows approver actions', async () => {
    const tok = await token();
    const c = new workflowPkg.default(cfg());
    const created = await c.startProcessInstanceWithOptions(
      new workflowPkg.StartProcessInstanceRequest({
        originatorUserId: 'user001',
        processCode: 'PROC-REIMBURSE',
        deptId: 1,
        microappAgentId: SEED.agentId,
        approvers: [new workflowPkg.StartProcessInstanceRequestApprovers({ actionType: 'NONE', userIds: ['manager01'] })],
        formComponentValues: [
          new workflowPkg.StartProcessInstanceRequestFormComponentValues({ name: 'Amount', value: '1234.50' }),
          new workflowPkg.StartProcessInstanceRequestFormComponentValues({ name: 'Reason', value: 'Taxi' }),
        ],
      }),
      new workflowPkg.StartProcessInstanceHeaders({ xAcsDingtalkAccessToken: tok }),
      rt,
    );
    const id = created.body!.instanceId!;
    assert.ok(id);
    const get = () =>
      c.getProcessInstanceWithOptions(
        new workflowPkg.GetProcessInstanceRequest({ processInstanceId: id }),
        new workflowPkg.GetProcessInstanceHeaders({ xAcsDingtalkAccessToken: tok }),
        rt,
      );
    let r = (await get()).body!.result!;
    assert.equal(r.status, 'RUNNING');
    assert.equal(r.originatorUserId, 'user001');
    assert.deepEqual(
      r.formComponentValues!.map((f) => [f.name, f.value]),
      [
        ['Amount', '1234.50'],
        ['Reason', 'Taxi'],
      ],
    );
    assert.equal(r.tasks!.length, 1);
    assert.equal(r.tasks![0]!.userId, 'manager01');
    assert.equal(r.tasks![0]!.status, 'RUNNING');
    assert.match(r.createTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/);

    await fake.control('POST', `/approvals/${id}/agree`, { userId: 'manager01', remark: 'ok' });
    r = (await get()).body!.result!;
    assert.equal(r.status, 'COMPLETED');
    assert.equal(r.result, 'agree');
    assert.equal(r.tasks![0]!.result, 'AGREE');
    assert.ok(r.finishTime);
    assert.deepEqual(
      r.operationRecords!.map((o) => o.type),
      ['START_PROCESS_INSTANCE', 'EXECUTE_TASK_NORMAL'],
    );
    assert.equal(r.operationRecords![1]!.remark, 'ok');
    // a finished instance takes no more actions
    await assert.rejects(fake.control('POST', `/approvals/${id}/refuse`, {}), /409/);

    // two steps (AND, then NONE); terminated while the second step runs
    const two = await c.startProcessInstanceWithOptions(
      new workflowPkg.StartProcessInstanceRequest({
        originatorUserId: 'user002',
        processCode: 'PROC-PURCHASE',
        formComponentValues: [],
        approvers: [
          new workflowPkg.StartProcessInstanceRequestApprovers({ actionType: 'AND', userIds: ['manager01', 'cfo01'] }),
          new workflowPkg.StartProcessInstanceRequestApprovers({ actionType: 'NONE', userIds: ['user001'] }),
        ],
      }),
      new workflowPkg.StartProcessInstanceHeaders({ xAcsDingtalkAccessToken: tok }),
      rt,
    );
    const id2 = two.body!.instanceId!;
    const get2 = async () =>
      (
        await c.getProcessInstanceWithOptions(
          new workflowPkg.GetProcessInstanceRequest({ processInstanceId: id2 }),
          new workflowPkg.GetProcessInstanceHeaders({ xAcsDingtalkAccessToken: tok }),
          rt,
        )
      ).body!.result!;
    await fake.control('POST', `/approvals/${id2}/agree`, { userId: 'cfo01' });
    let r2 = await get2();
    assert.deepEqual(
      r2.tasks!.map((t) => `${t.userId}:${t.status}`),
      ['manager01:RUNNING', 'cfo01:COMPLETED'],
      'AND waits for every approver',
    );
    await fake.control('POST', `/approvals/${id2}/agree`, { userId: 'manager01' });
    r2 = await get2();
    assert.deepEqual(
      r2.tasks!.map((t) => `${t.userId}:${t.status}`),
      ['manager01:COMPLETED', 'cfo01:COMPLETED', 'user001:RUNNING'],
    );
    await fake.control('POST', `/approvals/${id2}/terminate`, { remark: 'withdrawn' });
    r2 = await get2();
    assert.equal(r2.status, 'TERMINATED');
    assert.equal(r2.result, '');
    assert.equal(r2.tasks![2]!.status, 'CANCELED');
    assert.equal(r2.operationRecords!.at(-1)!.type, 'TERMINATE_PROCESS_INSTANCE');
  });

  test('calendar: idempotent create, get, list with syncToken, patch, delete', async () => {
    const tok = await token();
    const c = new calendarPkg.default(cfg());
    const union = `union-${crypto.randomUUID()}`;
    const clientToken = crypto.randomUUID();
    const mk = () =>
      c.createEventWithOptions(
        union,
        'primary',
        new calendarPkg.CreateEventRequest({
          summary: 'Design review',
          description: 'Room 1',
          start: new calendarPkg.CreateEventRequestStart({ dateTime: '2030-01-10T10:00:00+08:00', timeZone: 'Asia/Shanghai' }),
          end: new calendarPkg.CreateEventRequestEnd({ dateTime: '2030-01-10T11:00:00+08:00', timeZone: 'Asia/Shanghai' }),
          attendees: [new calendarPkg.CreateEventRequestAttendees({ id: 'union002', isOptional: false })],
        }),
        new calendarPkg.CreateEventHeaders({ xAcsDingtalkAccessToken: tok, xClientToken: clientToken }),
        rt,
      );
    const first = await mk();
    const second = await mk();
    assert.ok(first.body!.id);
    assert.equal(second.body!.id, first.body!.id, 'same x-client-token → same event');
    assert.equal(first.body!.organizer!.id, union);
    assert.equal(first.body!.attendees![0]!.id, 'union002');

    const listHdr = new calendarPkg.ListEventsHeaders({ xAcsDingtalkAccessToken: tok });
    const full = await c.listEventsWithOptions(
      union,
      'primary',
      new calendarPkg.ListEventsRequest({ timeMin: '2030-01-01T00:00:00Z', timeMax: '2030-02-01T00:00:00Z', maxResults: 50 }),
      listHdr,
      rt,
    );
    assert.equal(full.body!.events!.length, 1, 'only one event despite two creates');
    const syncToken = full.body!.syncToken!;
    assert.ok(syncToken);

    // nothing changed → an empty incremental list
    const none = await c.listEventsWithOptions(union, 'primary', new calendarPkg.ListEventsRequest({ syncToken }), listHdr, rt);
    assert.equal(none.body!.events!.length, 0);

    // a second event, then patch the first
    const other = await c.createEventWithOptions(
      union,
      'primary',
      new calendarPkg.CreateEventRequest({
        summary: 'Lunch',
        start: new calendarPkg.CreateEventRequestStart({ date: '2030-01-12' }),
        end: new calendarPkg.CreateEventRequestEnd({ date: '2030-01-13' }),
        isAllDay: true,
      }),
      new calendarPkg.CreateEventHeaders({ xAcsDingtalkAccessToken: tok }),
      rt,
    );
    const patched = await c.patchEventWithOptions(
      union,
      'primary',
      first.body!.id!,
      new calendarPkg.PatchEventRequest({ id: first.body!.id, summary: 'Design review (moved)' }),
      new calendarPkg.PatchEventHeaders({ xAcsDingtalkAccessToken: tok }),
      rt,
    );
    assert.equal(patched.body!.summary, 'Design review (moved)');
    assert.equal(patched.body!.description, 'Room 1', 'patch keeps untouched fields');

    const changes = await c.listEventsWithOptions(union, 'primary', new calendarPkg.ListEventsRequest({ syncToken }), listHdr, rt);
    assert.deepEqual(changes.body!.events!.map((e) => e.id).sort(), [first.body!.id, other.body!.id].sort());
    const sync2 = changes.body!.syncToken!;

    const got = await c.getEventWithOptions(
      union,
      'primary',
      first.body!.id!,
      new calendarPkg.GetEventRequest({}),
      new calendarPkg.GetEventHeaders({ xAcsDingtalkAccessToken: tok }),
      rt,
    );
    assert.equal(got.body!.summary, 'Design review (moved)');

    await c.deleteEventWithOptions(
      union,
      'primary',
      other.body!.id!,
      new calendarPkg.DeleteEventRequest({}),
      new calendarPkg.DeleteEventHeaders({ xAcsDingtalkAccessToken: tok }),
      rt,
    );
    const afterDelete = await c.listEventsWithOptions(
      union,
      'primary',
      new calendarPkg.ListEventsRequest({ syncToken: sync2 }),
      listHdr,
      rt,
    );
    assert.equal(afterDelete.body!.events!.length, 1);
    assert.equal(afterDelete.body!.events![0]!.id, other.body!.id);
    assert.equal(afterDelete.body!.events![0]!.status, 'cancelled');
    const visible = await c.listEventsWithOptions(
      union,
      'primary',
      new calendarPkg.ListEventsRequest({ timeMin: '2030-01-01T00:00:00Z', timeMax: '2030-02-01T00:00:00Z' }),
      listHdr,
      rt,
    );
    assert.deepEqual(
      visible.body!.events!.map((e) => e.id),
      [first.body!.id],
    );
    const withDeleted = await c.listEventsWithOptions(
      union,
      'primary',
      new calendarPkg.ListEventsRequest({ timeMin: '2030-01-01T00:00:00Z', timeMax: '2030-02-01T00:00:00Z', showDeleted: true }),
      listHdr,
      rt,
    );
    assert.equal(withDeleted.body!.events!.length, 2);

    // paging: maxResults 1 gives a nextToken, the last page a syncToken
    const p1 = await c.listEventsWithOptions(
      union,
      'primary',
      new calendarPkg.ListEventsRequest({ maxResults: 1, showDeleted: true }),
      listHdr,
      rt,
    );
    assert.equal(p1.body!.events!.length, 1);
    assert.ok(p1.body!.nextToken);
    const p2 = await c.listEventsWithOptions(
      union,
      'primary',
      new calendarPkg.ListEventsRequest({ maxResults: 1, nextToken: p1.body!.nextToken }),
      listHdr,
      rt,
    );
    assert.equal(p2.body!.events!.length, 1);
    assert.notEqual(p2.body!.events![0]!.id, p1.body!.events![0]!.id);
    assert.ok(p2.body!.syncToken);
  });
});

describe('custom group robot /robot/send (old API, plain HTTP)', () => {
  const send = (q: string, body: unknown) =>
    fetch(`${fake.baseUrl()}/robot/send?${q}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { errcode: number; errmsg: string } }));
  const signed = (tokenStr: string, secret: string, ts = String(Date.now())) =>
    `access_token=${tokenStr}&timestamp=${ts}&sign=${encodeURIComponent(dt.hmac(secret, ts))}`;

  test('a signed send is accepted and recorded; a bad sign or old timestamp gets 310000 with HTTP 200', async () => {
    const text = `deploy done ${crypto.randomUUID()}`;
    const ok = await send(signed(SEED.robotToken, SEED.robotSecret), { msgtype: 'text', text: { content: text }, at: { isAtAll: true } });
    assert.deepEqual(ok, { status: 200, body: { errcode: 0, errmsg: 'ok' } });
    const { messages } = await fake.control<{ messages: Array<{ body: { content: string }; openConversationId: string }> }>(
      'GET',
      `/robots/${SEED.robotToken}/messages`,
    );
    const m = messages.find((x) => x.body.content === text);
    assert.equal(m?.openConversationId, SEED.groupId);

    const badSign = await send(signed(SEED.robotToken, 'SECwrong'), { msgtype: 'text', text: { content: 'x' } });
    assert.equal(badSign.status, 200);
    assert.equal(badSign.body.errcode, 310000);
    assert.match(badSign.body.errmsg, /^sign not match/);
    const old = await send(signed(SEED.robotToken, SEED.robotSecret, String(Date.now() - 2 * 3600_000)), {
      msgtype: 'text',
      text: { content: 'x' },
    });
    assert.equal(old.body.errcode, 310000);
    assert.match(old.body.errmsg, /^invalid timestamp/);
    const unsigned = await send(`access_token=${SEED.robotToken}`, { msgtype: 'text', text: { content: 'x' } });
    assert.equal(unsigned.body.errcode, 310000);
    const unknown = await send('access_token=nope', { msgtype: 'text', text: { content: 'x' } });
    assert.equal(unknown.body.errcode, 300005);
  });

  test('keywords and body validation', async () => {
    const { robot } = await fake.control<{ robot: { accessToken: string } }>('POST', '/robots', {
      keywords: ['[alert]'],
      name: 'kw robot',
    });
    const miss = await send(`access_token=${robot.accessToken}`, { msgtype: 'text', text: { content: 'no keyword here' } });
    assert.equal(miss.body.errcode, 310000);
    assert.match(miss.body.errmsg, /^keywords not in content/);
    const hit = await send(`access_token=${robot.accessToken}`, {
      msgtype: 'markdown',
      markdown: { title: '[alert] disk', text: '## full' },
    });
    assert.equal(hit.body.errcode, 0);
    const card = await send(`access_token=${robot.accessToken}`, {
      msgtype: 'actionCard',
      actionCard: { title: '[alert] x', text: 't', btns: [{ title: 'A', actionURL: 'https://a' }] },
    });
    assert.equal(card.body.errcode, 0);
    const badCard = await send(`access_token=${robot.accessToken}`, {
      msgtype: 'actionCard',
      actionCard: { title: '[alert] x', text: 't' },
    });
    assert.notEqual(badCard.body.errcode, 0);
    const noType = await send(`access_token=${robot.accessToken}`, { text: { content: '[alert]' } });
    assert.notEqual(noType.body.errcode, 0);
  });

  test('the 21st message within a minute gets 130101 and the fake keeps serving', async () => {
    const { robot } = await fake.control<{ robot: { accessToken: string } }>('POST', '/robots', { name: 'busy robot' });
    const results: number[] = [];
    for (let i = 0; i < 21; i++)
      results.push((await send(`access_token=${robot.accessToken}`, { msgtype: 'text', text: { content: `n${i}` } })).body.errcode);
    assert.deepEqual(results.slice(0, 20), new Array(20).fill(0));
    const last = await send(`access_token=${robot.accessToken}`, { msgtype: 'text', text: { content: 'again' } });
    assert.equal(results[20], 130101);
    assert.deepEqual(last.body, { errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' });
    const { messages } = await fake.control<{ messages: unknown[] }>('GET', `/robots/${robot.accessToken}/messages`);
    assert.equal(messages.length, 20, 'refused messages are not recorded');
    // other robots and routes still work
    const other = await send(signed(SEED.robotToken, SEED.robotSecret), { msgtype: 'text', text: { content: 'still here' } });
    assert.equal(other.body.errcode, 0);
    const gt = (await (await fetch(`${fake.baseUrl()}/gettoken?appkey=${SEED.appKey}&appsecret=${SEED.appSecret}`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(gt.errcode, 0);
    assert.equal(gt.expires_in, 7200);
    assert.equal(gt.access_token, await token(), 'old and new API share the token');
  });
});

describe('HTTP event subscription push', () => {
  test('check_url and approval events are encrypted per DingTalk; a correct answer acknowledges', async () => {
    const appKey = `dinghttp${crypto.randomBytes(4).toString('hex')}`;
    const srv = await callbackServer(() => ({ body: successReply(appKey) }));
    try {
      await fake.control('POST', '/apps', {
        appKey,
        appSecret: 's',
        corpId: 'dingcorp-http',
        stream: false,
        eventSubscription: { callbackUrl: srv.url, token: CB_TOKEN, aesKey: AES_KEY },
      });
      const check = await fake.control<{ acknowledged: boolean; attempts: number }>('POST', `/apps/${appKey}/check-url`);
      assert.equal(check.acknowledged, true);
      assert.equal(check.attempts, 1);
      assert.equal(openPush(srv.received[0]!, appKey).EventType, 'check_url');

      const { instanceId } = await fake.control<{ instanceId: string }>('POST', '/approvals', {
        appKey,
        originatorUserId: 'user001',
        processCode: 'PROC-1',
        approvers: [{ actionType: 'OR', userIds: ['manager01', 'cfo01'] }],
      });
      await fake.control('POST', `/approvals/${instanceId}/refuse`, { userId: 'cfo01', remark: 'no' });
      const { deliveries } = await waitFor(
        async () => {
          const r = await fake.control<{
            deliveries: Array<{ eventId: string; eventType: string; status: string; attempts: number; payload: Record<string, unknown> }>;
          }>('GET', `/deliveries?appKey=${appKey}&kind=event`);
          return r.deliveries.length >= 6 && r.deliveries.every((d) => d.status === 'acknowledged') && r;
        },
        5000,
        'acknowledged deliveries',
      );
      const pushed = srv.received.slice(1).map((r) => openPush(r, appKey));
      const inst = pushed.filter((e) => e.EventType === 'bpms_instance_change' && e.processInstanceId === instanceId);
      assert.deepEqual(
        inst.map((e) => [e.type, e.result]),
        [
          ['start', undefined],
          ['finish', 'refuse'],
        ],
      );
      for (const e of inst) {
        assert.equal(e.CorpId, 'dingcorp-http');
        assert.equal(typeof e.EventTime, 'number');
        assert.equal(e.staffId, 'user001');
        assert.ok(
          deliveries.some((d) => d.eventId === e.eventId),
          "the pushed eventId is the delivery record's",
        );
      }
      const tasks = pushed.filter((e) => e.EventType === 'bpms_task_change');
      assert.deepEqual(tasks.map((e) => `${e.staffId}:${e.type}:${e.result ?? ''}`).sort(), [
        'cfo01:finish:refuse',
        'cfo01:start:',
        'manager01:cancel:',
        'manager01:start:',
      ]);
      assert.ok(deliveries.every((d) => d.attempts === 1));
    } finally {
      await srv.close();
    }
  });

  test('a bad answer signature is recorded as a failure and redelivered', async () => {
    const appKey = `dingbad${crypto.randomBytes(4).toString('hex')}`;
    const srv = await callbackServer(() => ({ body: successReply(appKey, true) }));
    try {
      await fake.control('POST', '/apps', {
        appKey,
        appSecret: 's',
        corpId: `corp-${appKey}`,
        stream: false,
        eventSubscription: { callbackUrl: srv.url, token: CB_TOKEN, aesKey: AES_KEY },
      });
      const { eventId } = await fake.control<{ eventId: string }>('POST', '/events', {
        appKey,
        eventType: 'user_add_org',
        data: { UserId: ['u9'] },
      });
      const d = await waitFor(
        async () => {
          const r = await fake.control<{
            deliveries: Array<{ status: string; attempts: number; lastError: string; acknowledged: boolean; history: unknown[] }>;
          }>('GET', `/deliveries?eventId=${eventId}`);
          return r.deliveries[0]?.status === 'failed' && r.deliveries[0];
        },
        5000,
        'failed delivery',
      );
      assert.equal(d.attempts, 3, 'first try + 2 redeliveries');
      assert.equal(d.acknowledged, false);
      assert.match(d.lastError, /signature/);
      assert.equal(srv.received.length, 3);
      const ids = srv.received.map((r) => openPush(r, appKey).eventId);
      assert.deepEqual(ids, [eventId, eventId, eventId], 'redeliveries carry the same eventId');
    } finally {
      await srv.close();
    }
  });

  test('an answer later than the timeout fails that attempt; the redelivery that is answered in time acknowledges', async () => {
    const appKey = `dingslow${crypto.randomBytes(4).toString('hex')}`;
    let calls = 0;
    const received: Received[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          query: new URL(req.url ?? '/', 'http://x').searchParams,
          headers: req.headers,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        });
        const reply = () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(successReply(appKey)));
        };
        if (++calls === 1) setTimeout(reply, 800);
        else reply();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cb`;
      await fake.control('POST', '/apps', {
        appKey,
        appSecret: 's',
        corpId: `corp-${appKey}`,
        stream: false,
        eventSubscription: { callbackUrl: url, token: CB_TOKEN, aesKey: AES_KEY },
      });
      const { eventId } = await fake.control<{ eventId: string }>('POST', '/events', {
        appKey,
        eventType: 'org_dept_create',
        data: { DeptId: [42] },
      });
      const d = await waitFor(
        async () => {
          const r = await fake.control<{
            deliveries: Array<{ status: string; attempts: number; history: Array<{ ok: boolean; error?: string }> }>;
          }>('GET', `/deliveries?eventId=${eventId}`);
          return r.deliveries[0]?.status === 'acknowledged' && r.deliveries[0];
        },
        4000,
        'acknowledged after a timeout',
      );
      assert.equal(d.attempts, 2);
      assert.equal(d.history[0]!.ok, false);
      assert.match(String(d.history[0]!.error), /no answer within 500 ms/);
      assert.equal(d.history[1]!.ok, true);
      assert.deepEqual(openPush(received[0]!, appKey).DeptId, [42]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('HTTP-mode robot: the message is POSTed signed with timestamp/sign, and the answer is posted back', async () => {
    const appKey = `dingrobot${crypto.randomBytes(4).toString('hex')}`;
    const secret = 'robot-app-secret';
    const srv = await callbackServer((r) => ({
      body: { msgtype: 'text', text: { content: `echo: ${(r.body.text as { content: string }).content}` } },
    }));
    try {
      await fake.control('POST', '/apps', { appKey, appSecret: secret, stream: false, robotMessageUrl: srv.url });
      const conv = `cid${crypto.randomBytes(6).toString('hex')}`;
      const { msgId } = await fake.control<{ msgId: string }>('POST', '/chat', {
        appKey,
        conversationId: conv,
        conversationTitle: 'Ops',
        text: 'status?',
        senderStaffId: 'user002',
      });
      await waitFor(() => srv.received.length === 1, 3000, 'robot POST');
      const r = srv.received[0]!;
      const ts = String(r.headers.timestamp);
      assert.equal(r.headers.sign, dt.hmac(secret, ts));
      assert.equal(r.body.msgId, msgId);
      assert.equal(r.body.conversationType, '2');
      assert.equal(r.body.senderStaffId, 'user002');
      assert.deepEqual(r.body.text, { content: 'status?' });
      const reply = await waitFor(
        async () => {
          const { messages } = await fake.control<{ messages: Array<{ channel: string; body: { content: string } }> }>(
            'GET',
            `/conversations/${conv}/messages`,
          );
          return messages.find((m) => m.channel === 'robot_reply');
        },
        3000,
        'robot reply',
      );
      assert.equal(reply.body.content, 'echo: status?');
      // replying through the sessionWebhook also lands in the conversation
      const sw = await fetch(String(r.body.sessionWebhook), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ msgtype: 'markdown', markdown: { title: 't', text: '**done**' } }),
      });
      assert.equal(((await sw.json()) as { errcode: number }).errcode, 0);
      const { messages } = await fake.control<{ messages: Array<{ channel: string; msgtype: string }> }>(
        'GET',
        `/conversations/${conv}/messages`,
      );
      assert.deepEqual(
        messages.map((m) => `${m.channel}:${m.msgtype}`),
        ['user_chat:text', 'robot_reply:text', 'robot_reply:markdown'],
      );
    } finally {
      await srv.close();
    }
  });
});

describe('Stream mode through dingtalk-stream DWClient', () => {
  const require = createRequire(import.meta.url);
  // The ESM build binds the URLs as constants; the CommonJS build reads them from the constants module at call time.
  const constants = require('dingtalk-stream/constants') as Record<string, string>;
  const { DWClient, TOPIC_ROBOT, EventAck } = require('dingtalk-stream') as typeof import('dingtalk-stream');
  type Frame = import('dingtalk-stream').DWClientDownStream;
  let client: InstanceType<typeof DWClient>;
  const events: Frame[] = [];
  const callbacks: Frame[] = [];
  /** Event data markers to answer LATER once; robot texts to leave unacked once. */
  const laterMarkers = new Set<string>();
  const holdTexts = new Set<string>();
  const appKey = `dingstream${crypto.randomBytes(4).toString('hex')}`;
  let srv: Awaited<ReturnType<typeof callbackServer>>;
  const deliveriesOf = (q: string) =>
    fake
      .control<{
        deliveries: Array<{
          mode: string;
          status: string;
          attempts: number;
          ackStatus?: string;
          response?: unknown;
          lastError?: string;
          history: Array<{ connectionId?: string; error?: string }>;
          payload: Record<string, unknown>;
        }>;
      }>('GET', `/deliveries?${q}`)
      .then((r) => r.deliveries);

  before(async () => {
    constants.GATEWAY_URL = `${fake.baseUrl()}/v1.0/gateway/connections/open`;
    constants.GET_TOKEN_URL = `${fake.baseUrl()}/gettoken`;
    srv = await callbackServer(() => ({ body: successReply(appKey) }));
    await fake.control('POST', '/apps', {
      appKey,
      appSecret: 'stream-secret',
      corpId: 'dingcorp-stream',
      eventSubscription: { callbackUrl: srv.url, token: CB_TOKEN, aesKey: AES_KEY },
    });
    client = new DWClient({ clientId: appKey, clientSecret: 'stream-secret' });
    client.registerAllEventListener((msg) => {
      events.push(msg);
      const marker = String((JSON.parse(msg.data) as { marker?: string }).marker ?? '');
      if (laterMarkers.delete(marker)) return { status: EventAck.LATER };
      return { status: EventAck.SUCCESS };
    });
    client.registerCallbackListener(TOPIC_ROBOT, (msg) => {
      callbacks.push(msg);
      const m = JSON.parse(msg.data) as { text: { content: string } };
      if (holdTexts.delete(m.text.content)) return; // no ack this time
      client.socketCallBackResponse(msg.headers.messageId, { ok: true });
    });
    await client.connect();
    await waitFor(() => client.registered, 3000, 'REGISTERED');
  });
  after(async () => {
    client.disconnect();
    await srv.close();
  });

  test('an approval event arrives as an EVENT frame with the same eventId as the HTTP push, and the ack is recorded', async () => {
    const { instanceId } = await fake.control<{ instanceId: string }>('POST', '/approvals', {
      appKey,
      originatorUserId: 'user002',
      processCode: 'PROC-S',
    });
    const frame = await waitFor(
      () => events.find((e) => e.headers.eventType === 'bpms_instance_change' && JSON.parse(e.data).processInstanceId === instanceId),
      3000,
      'EVENT frame',
    );
    assert.equal(frame.type, 'EVENT');
    assert.equal(frame.headers.eventCorpId, 'dingcorp-stream');
    assert.match(String(frame.headers.eventBornTime), /^\d{13}$/);
    assert.ok(frame.headers.eventUnifiedAppId);
    assert.equal(JSON.parse(frame.data).type, 'start');
    const ds = await waitFor(
      async () => {
        const d = await deliveriesOf(`eventId=${frame.headers.eventId}`);
        return d.length === 2 && d.every((x) => x.status === 'acknowledged') && d;
      },
      3000,
      'both deliveries acknowledged',
    );
    assert.deepEqual(ds.map((d) => d.mode).sort(), ['http', 'stream']);
    assert.equal(ds.find((d) => d.mode === 'stream')!.ackStatus, 'SUCCESS');
    const httpEvent = srv.received.map((r) => openPush(r, appKey)).find((e) => e.eventId === frame.headers.eventId);
    assert.equal(httpEvent?.processInstanceId, instanceId);
  });

  test('an EVENT acked LATER is redelivered', async () => {
    const marker = crypto.randomUUID();
    laterMarkers.add(marker);
    const { eventId } = await fake.control<{ eventId: string }>('POST', '/events', {
      appKey,
      eventType: 'user_modify_org',
      data: { marker },
    });
    const d = await waitFor(
      async () => (await deliveriesOf(`eventId=${eventId}&mode=stream`)).find((x) => x.status === 'acknowledged'),
      4000,
      'ack after LATER',
    );
    const frames = events.filter((e) => e.headers.eventId === eventId);
    assert.equal(frames.length, 2, 'LATER, then redelivered and acked SUCCESS');
    assert.equal(frames[0]!.headers.messageId, frames[1]!.headers.messageId);
    assert.equal(d.attempts, 2);
    assert.equal(d.ackStatus, 'SUCCESS');
  });

  test('a robot message arrives as a CALLBACK; the ack and its response are recorded', async () => {
    const { msgId } = await fake.control<{ msgId: string }>('POST', '/chat', {
      appKey,
      conversationId: 'cidStreamGroup',
      text: 'hi robot',
      senderStaffId: 'user001',
    });
    const frame = await waitFor(() => callbacks.find((c) => JSON.parse(c.data).msgId === msgId), 3000, 'CALLBACK frame');
    assert.equal(frame.type, 'CALLBACK');
    assert.equal(frame.headers.topic, '/v1.0/im/bot/messages/get');
    const m = JSON.parse(frame.data);
    assert.equal(m.text.content, 'hi robot');
    assert.equal(m.robotCode, appKey);
    assert.equal(m.conversationType, '2');
    assert.equal(m.senderStaffId, 'user001');
    assert.ok(String(m.sessionWebhook).startsWith(fake.baseUrl()));
    const d = await waitFor(
      async () =>
        (await deliveriesOf(`appKey=${appKey}&kind=robot_message`)).find((x) => x.status === 'acknowledged' && x.payload.msgId === msgId),
      3000,
      'callback ack',
    );
    assert.deepEqual(d.response, { ok: true });
    assert.equal(d.attempts, 1);

    // a 1:1 chat: conversationType "1", no conversation title, recorded for the user
    const one = await fake.control<{ msgId: string }>('POST', '/chat', { appKey, text: 'private hi', senderStaffId: 'user002' });
    const f1 = await waitFor(() => callbacks.find((c) => JSON.parse(c.data).msgId === one.msgId), 3000, '1:1 CALLBACK');
    const m1 = JSON.parse(f1.data);
    assert.equal(m1.conversationType, '1');
    assert.equal(m1.conversationTitle, undefined);
    const { messages } = await fake.control<{ messages: Array<{ channel: string; userId?: string }> }>(
      'GET',
      `/messages?channel=user_chat&userId=user002`,
    );
    assert.ok(messages.length >= 1);
  });

  test('an unacked message is redelivered after the connection is dropped and the SDK reconnects', async () => {
    const text = `are you there ${crypto.randomUUID()}`;
    holdTexts.add(text);
    const { msgId } = await fake.control<{ msgId: string }>('POST', '/chat', { appKey, text, senderStaffId: 'user002' });
    await waitFor(() => callbacks.some((c) => JSON.parse(c.data).msgId === msgId), 3000, 'first CALLBACK');
    const { dropped } = await fake.control<{ dropped: number }>('POST', '/stream/drop', { appKey });
    assert.equal(dropped, 1);
    const d = await waitFor(
      async () =>
        (await deliveriesOf(`appKey=${appKey}&kind=robot_message`)).find((x) => x.payload.msgId === msgId && x.status === 'acknowledged'),
      6000,
      'redelivery after reconnect',
    );
    const frames = callbacks.filter((c) => JSON.parse(c.data).msgId === msgId);
    assert.equal(frames.length, 2);
    assert.notEqual(frames[0]!.headers.connectionId, frames[1]!.headers.connectionId, 'redelivered on the new connection');
    assert.equal(d.attempts, 2);
    assert.match(String(d.history[0]!.error), /connection closed/);
    assert.ok(client.registered);
  });

  test('SYSTEM ping frames are echoed by the SDK', async () => {
    const { sent } = await fake.control<{ sent: number }>('POST', '/stream/ping');
    assert.ok(sent >= 1);
    await waitFor(
      async () => {
        const { connections } = await fake.control<{ connections: Array<{ appKey: string; pingAcks: number }> }>(
          'GET',
          '/stream/connections',
        );
        return connections.some((c) => c.appKey === appKey && c.pingAcks >= 1);
      },
      3000,
      'ping ack',
    );
  });

  test('a bad ticket is refused and a bad secret gets authFailed', async () => {
    const res = await fetch(`${fake.baseUrl()}/v1.0/gateway/connections/open`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ clientId: appKey, clientSecret: 'nope', subscriptions: [{ type: 'EVENT', topic: '*' }] }),
    });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { code: string }).code, 'authFailed');
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(`ws://127.0.0.1:${fake.port}/connect?ticket=forged`);
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, r) => resolve(r.statusCode ?? 0));
      ws.on('error', () => resolve(-1));
    });
    assert.equal(status, 401);
  });
});

describe('demo page and generic start', () => {
  test('the page shows conversations with escaped content and ActionCard buttons as links', async () => {
    const { robot } = await fake.control<{ robot: { accessToken: string; openConversationId: string } }>('POST', '/robots', {
      name: 'page robot',
      conversationTitle: 'Page <group>',
    });
    const post = (body: unknown) =>
      fetch(`${fake.baseUrl()}/robot/send?access_token=${robot.accessToken}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    await post({ msgtype: 'text', text: { content: '<script>alert(1)</script>' } });
    await post({
      msgtype: 'markdown',
      markdown: { title: 'md', text: '## Head\n- **bold** [bad](javascript:alert(2)) [good](https://example.com/ok)' },
    });
    await post({
      msgtype: 'actionCard',
      actionCard: {
        title: 'Card',
        text: 'pick',
        btnOrientation: '1',
        btns: [
          { title: 'Yes', actionURL: 'https://example.com/yes' },
          { title: 'No', actionURL: 'https://example.com/no' },
        ],
      },
    });
    const res = await fetch(`${fake.controlUrl}/`);
    assert.match(String(res.headers.get('content-type')), /text\/html/);
    const html = await res.text();
    assert.match(html, /http-equiv="refresh" content="2"/);
    assert.ok(html.includes('Page &lt;group&gt;'));
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(!html.includes('<script>alert(1)'));
    assert.ok(!html.includes('javascript:'));
    assert.ok(html.includes('<b>bold</b>'));
    assert.ok(html.includes('href="https://example.com/ok"'));
    assert.ok(html.includes('href="https://example.com/yes"') && html.includes('>Yes</a>'));
    assert.ok(!/<(script|link)\b/i.test(html), 'no scripts or external assets');
  });

  test('started through the generic startFake(), the Stream endpoint is attached lazily at gateway open', async () => {
    const { startFake } = await import('../../sandbox/framework/index.ts');
    const { dingtalkFake } = await import('../../sandbox/dingtalk/index.ts');
    const { WebSocket } = await import('ws');
    const plain = await startFake(dingtalkFake);
    try {
      const open = await fetch(`${plain.baseUrl()}/v1.0/gateway/connections/open`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          clientId: SEED.appKey,
          clientSecret: SEED.appSecret,
          ua: 'test',
          subscriptions: [{ type: 'EVENT', topic: '*' }],
        }),
      });
      const { endpoint, ticket } = (await open.json()) as { endpoint: string; ticket: string };
      assert.equal(endpoint, `ws://127.0.0.1:${plain.port}/connect`);
      const ws = new WebSocket(`${endpoint}?ticket=${ticket}`);
      const topics: string[] = [];
      await new Promise<void>((resolve, reject) => {
        ws.on('message', (m) => {
          topics.push(JSON.parse(m.toString()).headers.topic);
          if (topics.length === 2) resolve();
        });
        ws.on('error', reject);
      });
      assert.deepEqual(topics, ['CONNECTED', 'REGISTERED']);
      ws.close();
      // a ticket is good for one connection only
      const again = new WebSocket(`${endpoint}?ticket=${ticket}`);
      const status = await new Promise<number>((resolve) => {
        again.on('unexpected-response', (_q, r) => resolve(r.statusCode ?? 0));
        again.on('error', () => resolve(-1));
      });
      assert.equal(status, 401);
    } finally {
      await plain.stop();
    }
  });
});
