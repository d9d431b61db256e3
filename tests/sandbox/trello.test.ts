import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTrelloClient } from 'trello.js';
import { startTrelloFake, trelloSignature, DEFAULT_APP, DEFAULT_TOKEN, type TrelloState } from '../../sandbox/trello/index.ts';
import type { RunningFake } from '../../sandbox/framework/index.ts';

// ---- an independent implementation of Trello's webhook signature (not the fake's) ----
function expectedSignature(secret: string, rawBody: Buffer, callbackURL: string): string {
  const h = crypto.createHmac('sha1', secret);
  h.update(rawBody);
  h.update(callbackURL, 'utf8');
  return h.digest('base64');
}

// ---- a local webhook receiver ----
interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  body: { action: any; model: any };
}
class Receiver {
  server!: http.Server;
  base = '';
  received: Received[] = [];
  heads: string[] = [];
  /** Per path: status for HEAD, and a queue of statuses for POSTs (then 200). */
  headStatus = new Map<string, number>();
  postQueue = new Map<string, number[]>();
  async start() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        if (req.method === 'HEAD') {
          this.heads.push(path);
          res.statusCode = this.headStatus.get(path) ?? 200;
          return res.end();
        }
        const raw = Buffer.concat(chunks);
        this.received.push({ path, headers: req.headers, raw, body: JSON.parse(raw.toString('utf8')) });
        const q = this.postQueue.get(path);
        res.statusCode = q && q.length ? q.shift()! : 200;
        res.end('ok');
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  on(path: string) {
    return this.received.filter((r) => r.path === path);
  }
  async waitFor(path: string, n: number, ms = 5000) {
    const until = Date.now() + ms;
    while (this.on(path).length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    return this.on(path);
  }
  stop() {
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

let fake: RunningFake<TrelloState>;
let rx: Receiver;
let trello: ReturnType<typeof createTrelloClient>;
const ctl = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(fake.baseUrl() + path, {
    method,
    headers: body ? { 'content-type': 'application/json' } : undefined,
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
  return json as any;
};
const client = (apiKey = DEFAULT_APP.key, apiToken = DEFAULT_TOKEN) =>
  createTrelloClient({ apiKey, apiToken, host: fake.baseUrl() + '/1' });
const seedBoard = async (name = 'Ops') => ctl('POST', '/__sandbox/trello/boards', { name, lists: ['To Do', 'Doing', 'Done'] });
const drain = () => ctl('POST', '/__sandbox/trello/deliveries/drain', { timeoutMs: 10_000 });

before(async () => {
  fake = await startTrelloFake();
  rx = new Receiver();
  await rx.start();
});
after(async () => {
  await fake.stop();
  await rx.stop();
});
beforeEach(async () => {
  fake.reset();
  trello = client();
  await ctl('PUT', '/__sandbox/trello/settings', { retryDelaysMs: [20, 40, 80] });
});

test('signature check vector (independent HMAC and the fake agree)', () => {
  const vec = 'FwPAcuGe9EP/+SbXFWjnEVTa0zw=';
  assert.equal(expectedSignature('secret', Buffer.from('{"hello":"world"}'), 'https://example.com/webhooks'), vec);
  assert.equal(trelloSignature('secret', '{"hello":"world"}', 'https://example.com/webhooks'), vec);
});

test('trello.js sends key/token as query parameters to host + /1', async () => {
  const me = await trello.members.getMember({ id: 'me' });
  assert.equal(me.username, 'demo');
  const [call] = (await (await fetch(fake.baseUrl() + '/__sandbox/calls?path=/1/members/me')).json()).calls;
  assert.equal(call.path, '/1/members/me');
  assert.equal(call.query.key, DEFAULT_APP.key);
  assert.equal(call.query.token, DEFAULT_TOKEN);
});

test('boards, lists, labels, cards through trello.js', async () => {
  const board = await trello.boards.createBoard({ name: 'Launch', defaultLists: false });
  assert.match(board.id, /^[0-9a-f]{24}$/);
  const todo = await trello.boards.createBoardList({ id: board.id, name: 'Todo' });
  const done = await trello.lists.createList({ idBoard: board.id, name: 'Done' });
  const lists = await trello.boards.getBoardLists({ id: board.id });
  assert.deepEqual(
    lists.map((l) => l.name),
    ['Todo', 'Done'],
  );
  assert.equal((await trello.lists.getList({ id: done.id })).idBoard, board.id);

  const labels = await trello.boards.getBoardLabels({ id: board.id });
  assert.equal(labels.length, 6);
  const urgent = await trello.boards.createBoardLabel({ id: board.id, name: 'urgent', color: 'red' });
  assert.equal(urgent.name, 'urgent');
  const other = await ctl('POST', '/__sandbox/trello/members', { username: 'li.wei', fullName: 'Li Wei' });
  const byName = await trello.members.getMember({ id: 'li.wei' });
  assert.equal(byName.id, other.id);

  const due = '2026-12-01T09:00:00.000Z';
  const card = await trello.cards.createCard({
    idList: todo.id,
    name: 'Write release notes',
    desc: 'for v2',
    due,
    idLabels: [urgent.id],
    idMembers: [other.id],
    pos: 'top',
  });
  assert.match(card.id, /^[0-9a-f]{24}$/);
  assert.equal(card.idBoard, board.id);
  assert.equal(card.idList, todo.id);
  assert.equal(card.closed, false);
  assert.match(card.url!, new RegExp(`^https://trello.com/c/${card.shortLink}/`));
  assert.ok(card.dateLastActivity instanceof Date);
  assert.equal(card.due?.toISOString(), due);
  assert.deepEqual(card.idLabels, [urgent.id]);
  assert.deepEqual(card.idMembers, [other.id]);

  const second = await trello.cards.createCard({ idList: todo.id, name: 'Second', pos: 'top' });
  const inList = await trello.lists.getListCards({ id: todo.id });
  assert.deepEqual(
    inList.map((c) => c.name),
    ['Second', 'Write release notes'],
  );

  const moved = await trello.cards.updateCard({
    id: card.id,
    idList: done.id,
    name: 'Release notes',
    desc: 'v2.0',
    due: '2026-12-02T09:00:00.000Z',
  });
  assert.equal(moved.idList, done.id);
  assert.equal(moved.name, 'Release notes');
  const got = await trello.cards.getCard({ id: card.id });
  assert.equal(got.desc, 'v2.0');
  assert.equal(got.due?.toISOString(), '2026-12-02T09:00:00.000Z');

  const comment = await trello.cards.createCardComment({ id: card.id, text: 'Shipped!' });
  assert.equal(comment.type, 'commentCard');
  assert.equal(comment.data.text, 'Shipped!');
  assert.equal((await trello.cards.getCard({ id: card.id })).badges?.comments, 1);

  const archived = await trello.cards.updateCard({ id: second.id, closed: true });
  assert.equal(archived.closed, true);
  assert.deepEqual(
    (await trello.boards.getBoardCards({ id: board.id })).map((c) => c.id),
    [card.id],
  );

  const acts = await trello.boards.getBoardActions({ boardId: board.id });
  const types = acts.map((a) => a.type);
  for (const t of ['createBoard', 'createList', 'createCard', 'updateCard', 'commentCard', 'createLabel']) assert.ok(types.includes(t), t);
  const move = acts.find((a) => a.type === 'updateCard' && a.data.listAfter);
  assert.equal(move?.data.listBefore.id, todo.id);
  assert.equal(move?.data.listAfter.id, done.id);
  assert.equal(move?.data.old.idList, todo.id);
  const rename = acts.find((a) => a.type === 'updateCard' && a.data.old?.name !== undefined);
  assert.equal(rename?.data.old.name, 'Write release notes');
  assert.equal(rename?.data.card.name, 'Release notes');
  const archive = acts.find((a) => a.type === 'updateCard' && a.data.old?.closed === false);
  assert.equal(archive?.data.card.closed, true);
});

test('real error answers: invalid key, invalid token, unknown and malformed ids', async () => {
  await assert.rejects(client('nope').members.getMember({ id: 'me' }), /Request failed: 401 .* - invalid key$/);
  await assert.rejects(client(DEFAULT_APP.key, 'bad-token').members.getMember({ id: 'me' }), /Request failed: 401 .* - invalid token$/);
  await assert.rejects(trello.cards.getCard({ id: '5f0c1d2e3a4b5c6d7e8f9a0b' }), /Request failed: 404 /);
  await assert.rejects(trello.boards.getBoard({ id: 'not-an-id' }), /Request failed: 400 .* - invalid id$/);
  await assert.rejects(trello.cards.createCard({ idList: '5f0c1d2e3a4b5c6d7e8f9a0b', name: 'x' }), /400 .* - invalid value for idList/);
  const res = await fetch(`${fake.baseUrl()}/1/members/me?key=nope&token=x`);
  assert.equal(res.status, 401);
  assert.match(String(res.headers.get('content-type')), /^text\/plain/);
  assert.equal(await res.text(), 'invalid key');
});

test('OAuth header form of the credentials is accepted', async () => {
  const res = await fetch(`${fake.baseUrl()}/1/members/me`, {
    headers: { authorization: `OAuth oauth_consumer_key="${DEFAULT_APP.key}", oauth_token="${DEFAULT_TOKEN}"` },
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).username, 'demo');
});

test('injected faults as trello.js surfaces them: 500, expired and revoked token, one 429 retried', async () => {
  const { board } = await seedBoard();
  await ctl('POST', '/__sandbox/faults', { kind: 'status', status: 500, path: '^/1/boards/' });
  await assert.rejects(trello.boards.getBoard({ id: board.id }), /Request failed: 500 /);
  await ctl('POST', '/__sandbox/faults', { kind: 'expired_token' });
  await assert.rejects(trello.boards.getBoard({ id: board.id }), /401 .* - invalid token$/);
  await ctl('POST', '/__sandbox/faults', { kind: 'revoked_token' });
  await assert.rejects(trello.boards.getBoard({ id: board.id }), /401 .* - invalid token$/);

  await (await fetch(fake.baseUrl() + '/__sandbox/calls', { method: 'DELETE' })).json();
  await ctl('POST', '/__sandbox/faults', { kind: 'status', status: 429, path: '^/1/boards/' });
  const b = await trello.boards.getBoard({ id: board.id }); // trello.js waits 2 s and retries a 429 itself
  assert.equal(b.id, board.id);
  const calls = (await (await fetch(fake.baseUrl() + '/__sandbox/calls?path=/1/boards/')).json()).calls;
  assert.deepEqual(
    calls.map((c: { status: number }) => c.status),
    [429, 200],
  );
});

test('real rate limit per token: 429 with Trello body and headers, then recovers', async () => {
  const { board } = await seedBoard();
  await ctl('PUT', '/__sandbox/trello/settings', { rateLimit: { tokenMax: 2, keyMax: 300, intervalMs: 1500 } });
  const url = `${fake.baseUrl()}/1/boards/${board.id}?key=${DEFAULT_APP.key}&token=${DEFAULT_TOKEN}`;
  const r1 = await fetch(url);
  assert.equal(r1.headers.get('x-rate-limit-api-token-max'), '2');
  assert.equal(r1.headers.get('x-rate-limit-api-token-remaining'), '1');
  assert.equal((await fetch(url)).status, 200);
  const r3 = await fetch(url);
  assert.equal(r3.status, 429);
  assert.deepEqual(await r3.json(), { error: 'API_TOKEN_LIMIT_EXCEEDED', message: 'Rate limit exceeded' });
  // trello.js backs off (2 s) and the window has moved on by then
  const b = await trello.boards.getBoard({ id: board.id });
  assert.equal(b.id, board.id);
  await ctl('PUT', '/__sandbox/trello/settings', { rateLimit: { keyMax: 1, tokenMax: 100 } });
  const k1 = await fetch(url);
  assert.equal(k1.status, 200);
  const k2 = await fetch(url);
  assert.equal(k2.status, 429);
  assert.equal((await k2.json()).error, 'API_KEY_LIMIT_EXCEEDED');
});

test('webhook creation sends HEAD first and is refused unless the callback answers 200', async () => {
  const { board } = await seedBoard();
  rx.headStatus.set('/refuse', 404);
  const cb = rx.base + '/refuse';
  await assert.rejects(
    trello.webhooks.createWebhook({ idModel: board.id, callbackURL: cb, description: 'x' }),
    (err: Error) => err.message.includes('400') && err.message.includes(`URL (${cb}) did not return 200 status code, got 404`),
  );
  assert.ok(rx.heads.includes('/refuse'));
  assert.equal((await ctl('GET', '/__sandbox/trello/webhooks')).webhooks.length, 0);

  const ok = rx.base + '/ok-head';
  const w = await trello.webhooks.createWebhook({ idModel: board.id, callbackURL: ok, description: 'board feed' });
  assert.match(w.id, /^[0-9a-f]{24}$/);
  assert.equal(w.active, true);
  assert.equal(w.consecutiveFailures, 0);
  await assert.rejects(
    trello.webhooks.createWebhook({ idModel: board.id, callbackURL: ok }),
    /A webhook with that callback, model, and token already exists/,
  );
  const viaToken = await trello.tokens.createTokenWebhook({
    token: DEFAULT_TOKEN,
    idModel: board.id,
    callbackURL: ok + '2',
    description: 't',
  });
  const mine = await trello.tokens.getTokenWebhooks({ token: DEFAULT_TOKEN });
  assert.deepEqual(mine.map((x) => x.id).sort(), [w.id, viaToken.id].sort());
  const upd = await trello.webhooks.updateWebhook({ id: w.id, description: 'renamed' });
  assert.equal(upd.description, 'renamed');
  assert.equal((await trello.webhooks.getWebhook({ id: w.id })).description, 'renamed');
  await trello.webhooks.deleteWebhook({ id: w.id });
  await assert.rejects(trello.webhooks.getWebhook({ id: w.id }), /404/);
});

test('SDK changes deliver signed actions in order to the board webhook', async () => {
  const { board, lists } = await seedBoard();
  const path = '/feed';
  const callbackURL = rx.base + path;
  await trello.webhooks.createWebhook({ idModel: board.id, callbackURL, description: 'feed' });
  const card = await trello.cards.createCard({ idList: lists[0].id, name: 'Pay invoice' });
  await trello.cards.updateCard({ id: card.id, idList: lists[1].id });
  await trello.cards.createCardComment({ id: card.id, text: 'on it' });
  await trello.cards.updateCard({ id: card.id, closed: true });
  const got = await rx.waitFor(path, 4);
  assert.deepEqual(
    got.map((r) => r.body.action.type),
    ['createCard', 'updateCard', 'commentCard', 'updateCard'],
  );
  for (const r of got) {
    assert.equal(r.headers['x-trello-webhook'], expectedSignature(DEFAULT_APP.secret, r.raw, callbackURL));
    assert.equal(r.body.model.id, board.id);
    assert.equal(r.body.action.memberCreator.username, 'demo');
    assert.equal(r.body.action.idMemberCreator, r.body.action.memberCreator.id);
    assert.match(r.body.action.id, /^[0-9a-f]{24}$/);
  }
  assert.equal(got[0]!.body.action.data.card.id, card.id);
  assert.equal(got[0]!.body.action.data.list.id, lists[0].id);
  assert.equal(got[1]!.body.action.data.listBefore.id, lists[0].id);
  assert.equal(got[1]!.body.action.data.listAfter.id, lists[1].id);
  assert.equal(got[2]!.body.action.data.text, 'on it');
  assert.deepEqual(got[3]!.body.action.data.old, { closed: false });
  // a signature made with another secret or another URL does not match
  assert.notEqual(got[0]!.headers['x-trello-webhook'], expectedSignature('other', got[0]!.raw, callbackURL));
  assert.notEqual(got[0]!.headers['x-trello-webhook'], expectedSignature(DEFAULT_APP.secret, got[0]!.raw, callbackURL + '/'));
});

test('control API user actions trigger webhooks on card-level models too', async () => {
  const { board, lists } = await seedBoard();
  await ctl('POST', '/__sandbox/trello/members', { username: 'zhang.san', fullName: 'Zhang San' });
  const made = await ctl('POST', '/__sandbox/trello/cards', { as: 'zhang.san', idList: lists[0].id, name: 'Call supplier' });
  assert.equal(made.action.type, 'createCard');
  const cardHook = '/card-hook';
  await trello.webhooks.createWebhook({ idModel: made.card.id, callbackURL: rx.base + cardHook });
  await ctl('POST', `/__sandbox/trello/cards/${made.card.id}/move`, { as: 'zhang.san', listName: 'Done' });
  await ctl('POST', `/__sandbox/trello/cards/${made.card.id}/comments`, { as: 'zhang.san', text: 'called' });
  await ctl('POST', `/__sandbox/trello/cards/${made.card.id}/archive`, { as: 'zhang.san' });
  const got = await rx.waitFor(cardHook, 3);
  assert.deepEqual(
    got.map((r) => r.body.action.type),
    ['updateCard', 'commentCard', 'updateCard'],
  );
  assert.equal(got[0]!.body.action.data.listAfter.name, 'Done');
  assert.equal(got[0]!.body.action.memberCreator.fullName, 'Zhang San');
  assert.equal(got[0]!.body.model.id, made.card.id);
  assert.equal(got[2]!.body.model.closed, true);
  const card = await trello.cards.getCard({ id: made.card.id });
  assert.equal(card.idList, lists[2].id);
  assert.equal(card.idBoard, board.id);
});

test('a 500 reply is retried, deliveries stay in order, failures are counted then cleared', async () => {
  const { board, lists } = await seedBoard();
  const path = '/flaky';
  rx.postQueue.set(path, [500, 503]);
  const w = await trello.webhooks.createWebhook({ idModel: board.id, callbackURL: rx.base + path });
  await ctl('PUT', '/__sandbox/trello/settings', { retryDelaysMs: [300, 300, 300] });
  const a = await trello.cards.createCard({ idList: lists[0].id, name: 'A' });
  await trello.cards.createCard({ idList: lists[0].id, name: 'B' });
  let mid = await trello.webhooks.getWebhook({ id: w.id });
  for (let i = 0; i < 200 && !mid.consecutiveFailures; i++) {
    await new Promise((r) => setTimeout(r, 5));
    mid = await trello.webhooks.getWebhook({ id: w.id });
  }
  assert.equal(mid.consecutiveFailures, 1);
  assert.ok(mid.firstConsecutiveFailDate instanceof Date);
  const drained = await drain();
  assert.equal(drained.idle, true);
  const got = rx.on(path);
  assert.deepEqual(
    got.map((r) => r.body.action.data.card.name),
    ['A', 'A', 'A', 'B'],
  );
  assert.equal(got[0]!.raw.toString(), got[2]!.raw.toString());
  const ds = (await ctl('GET', `/__sandbox/trello/deliveries?webhookId=${w.id}`)).deliveries;
  assert.deepEqual(
    ds[0].attempts.map((x: { status: number }) => x.status),
    [500, 503, 200],
  );
  assert.equal(ds[0].status, 'delivered');
  assert.equal(ds[0].actionType, 'createCard');
  assert.equal(ds[0].signature, expectedSignature(DEFAULT_APP.secret, got[0]!.raw, rx.base + path));
  const after = await trello.webhooks.getWebhook({ id: w.id });
  assert.equal(after.consecutiveFailures, 0);
  assert.equal(after.firstConsecutiveFailDate, null);
  assert.ok(a.id);
});

test('a delivery that always fails ends as failed after the configured attempts', async () => {
  const { board, lists } = await seedBoard();
  const path = '/down';
  rx.postQueue.set(path, [500, 500, 500, 500, 500]);
  const w = await trello.webhooks.createWebhook({ idModel: board.id, callbackURL: rx.base + path });
  await trello.cards.createCard({ idList: lists[0].id, name: 'lost' });
  await drain();
  const [d] = (await ctl('GET', `/__sandbox/trello/deliveries?webhookId=${w.id}`)).deliveries;
  assert.equal(d.status, 'failed');
  assert.equal(d.attempts.length, 4);
  assert.equal((await trello.webhooks.getWebhook({ id: w.id })).consecutiveFailures, 4);
});

test('a 410 reply deletes the webhook at once', async () => {
  const { board, lists } = await seedBoard();
  const path = '/gone';
  rx.postQueue.set(path, [410]);
  const w = await trello.webhooks.createWebhook({ idModel: board.id, callbackURL: rx.base + path });
  await trello.cards.createCard({ idList: lists[0].id, name: 'one' });
  await drain();
  await assert.rejects(trello.webhooks.getWebhook({ id: w.id }), /404/);
  await trello.cards.createCard({ idList: lists[0].id, name: 'two' });
  await drain();
  assert.equal(rx.on(path).length, 1);
  const [d] = (await ctl('GET', `/__sandbox/trello/deliveries?webhookId=${w.id}`)).deliveries;
  assert.equal(d.status, 'webhook_deleted');
  assert.deepEqual(
    d.attempts.map((x: { status: number }) => x.status),
    [410],
  );
});

test('revoking a token through the control API deletes its webhooks and the token stops working', async () => {
  const { board, lists } = await seedBoard();
  const tok = await ctl('POST', '/__sandbox/trello/tokens', { username: 'demo' });
  const other = client(DEFAULT_APP.key, tok.token);
  const w = await other.webhooks.createWebhook({ idModel: board.id, callbackURL: rx.base + '/revoked' });
  const res = await ctl('POST', `/__sandbox/trello/tokens/${tok.token}/revoke`);
  assert.deepEqual(res.deletedWebhooks, [w.id]);
  await assert.rejects(other.members.getMember({ id: 'me' }), /401 .* - invalid token$/);
  await trello.cards.createCard({ idList: lists[0].id, name: 'after revoke' });
  await drain();
  assert.equal(rx.on('/revoked').length, 0);
  assert.equal((await ctl('GET', '/__sandbox/trello/webhooks')).webhooks.length, 0);
});

test('a registered app signs with its own secret', async () => {
  const appKeys = await ctl('POST', '/__sandbox/trello/apps', { key: 'k2', secret: 's2-secret', name: 'second' });
  const tok = await ctl('POST', '/__sandbox/trello/tokens', { key: appKeys.key, username: 'demo' });
  const c2 = client('k2', tok.token);
  const { lists, board } = await seedBoard();
  await c2.webhooks.createWebhook({ idModel: board.id, callbackURL: rx.base + '/k2' });
  await c2.cards.createCard({ idList: lists[0].id, name: 'signed by k2' });
  const [r] = await rx.waitFor('/k2', 1);
  assert.equal(r!.headers['x-trello-webhook'], expectedSignature('s2-secret', r!.raw, rx.base + '/k2'));
  // the default key does not accept a token of another key
  await assert.rejects(client(DEFAULT_APP.key, tok.token).members.getMember({ id: 'me' }), /invalid token/);
});

test('authorize page approves to return_url#token=…, or denies; read scope cannot write', async () => {
  const ret = 'http://127.0.0.1:9/after';
  const url = `${fake.baseUrl()}/1/authorize?key=${DEFAULT_APP.key}&return_url=${encodeURIComponent(ret)}&callback_method=fragment&scope=read&expiration=1day&name=dingbridge&response_type=token`;
  const res = await fetch(url, { redirect: 'manual' });
  assert.equal(res.status, 302);
  const loc = String(res.headers.get('location'));
  const m = /^http:\/\/127\.0\.0\.1:9\/after#token=(\w+)$/.exec(loc);
  assert.ok(m, loc);
  const reader = client(DEFAULT_APP.key, m![1]!);
  assert.equal((await reader.members.getMember({ id: 'me' })).username, 'demo');
  const tokenInfo = await reader.tokens.getToken({ token: m![1]! });
  assert.ok(tokenInfo.dateExpires instanceof Date);
  const { lists } = await seedBoard();
  await assert.rejects(reader.cards.createCard({ idList: lists[0].id, name: 'x' }), /401 .* - unauthorized permission requested/);

  await ctl('PUT', '/__sandbox/trello/settings', { denyAuthorize: true });
  const denied = await fetch(url, { redirect: 'manual' });
  assert.equal(denied.headers.get('location'), `${ret}#error=access_denied`);
  const badKey = await fetch(url.replace(DEFAULT_APP.key, 'nokey'), { redirect: 'manual' });
  assert.equal(badKey.status, 401);
});
