import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTrelloFake, DEFAULT_APP, type TrelloState } from '../sandbox/trello/index.ts';
import type { RunningFake } from '../sandbox/framework/index.ts';
import {
  MODES,
  TEST_ADMIN_TOKEN,
  prepareEnvironment,
  startTestHub,
  tempDir,
  waitUntil,
  writeConfig,
  type Environment,
} from './helpers/hub.ts';
import { queryHub } from './helpers/hub-db.ts';
import { freePort } from './helpers/ports.ts';
import { services } from './helpers/services.ts';
import { startSink, type Sink } from './helpers/sink.ts';
import type { Hub } from '../app/hub.ts';

const available = await services();
const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' };

describe('Trello connector', { skip: available.postgres ? false : 'needs PostgreSQL' }, () => {
  let fake: RunningFake<TrelloState>;
  let sink: Sink;
  let environment: Environment;
  let hub: Hub;
  let board: { id: string };
  let lists: { id: string; name: string }[];
  let publicUrl: string;
  const ctl = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${fake.baseUrl()}/__sandbox/trello${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await res.json()) as any;
    assert.ok(res.ok, `${path}: ${JSON.stringify(json)}`);
    return json;
  };
  const config = (withActivityFlow: boolean) => `
hooks:
  - id: tasks
flows:
${
  withActivityFlow
    ? `  - id: board-activity
    when: { event: "trello.card.*", source: trello, params: { board: "${board.id}" } }
    then:
      - action: http.post
        input: { url: "${sink.url}", body: { type: "{{ type }}", card: "{{ data.card.name }}", from: "{{ data.listBefore.name }}", to: "{{ data.listAfter.name }}", url: "{{ data.url }}", ref: "{{ linked['form.submission'] }}" } }
`
    : ''
}  - id: task-to-card
    when: { event: catch_hook.received, source: tasks }
    then:
      - action: trello.card.create
        connection: trello
        input: { list: "To Do", board: "${board.id}", name: "{{ data.title }}", description: "{{ data.note }}", labels: ["{{ data.label }}"], members: ["demo"], due: "2026-12-01T09:00:00+08:00" }
        link: { kind: form.submission, id: "{{ data.ref }}" }
      - action: trello.card.comment
        connection: trello
        input: { card: "{{ steps[0].output.id }}", text: "Created from a form" }
      - action: trello.card.move
        connection: trello
        input: { card: "{{ steps[0].output.id }}", list: Doing, board: "${board.id}" }
`;
  const restartWith = async (yaml: string) => {
    await hub?.stop();
    environment.env.DINGBRIDGE_CONFIG = writeConfig(tempDir('trello-config'), yaml);
    hub = await startTestHub(environment);
  };

  before(async () => {
    fake = await startTrelloFake();
    sink = await startSink();
    const seeded = await ctl('POST', '/boards', { name: 'Product', lists: ['To Do', 'Doing', 'Done'] });
    board = seeded.board;
    lists = seeded.lists;
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    environment = await prepareEnvironment(MODES[0]!, 'trello', {
      PORT: String(port),
      PUBLIC_URL: publicUrl,
      DINGBRIDGE_TRIGGER_CHECK_MS: '1000',
    });
    environment.env.DINGBRIDGE_CONFIG = writeConfig(tempDir('trello-config'), config(false));
    hub = await startTestHub(environment);
    const created = await fetch(`${hub.url}/api/v1/connections`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        id: 'trello',
        connector: 'trello',
        settings: { apiKey: DEFAULT_APP.key, baseUrl: fake.baseUrl(), authorizeBaseUrl: fake.baseUrl() },
        secrets: { appSecret: DEFAULT_APP.secret },
      }),
    });
    assert.equal(created.status, 201, await created.text());
  });
  after(async () => {
    await hub?.stop();
    await fake?.stop();
    await sink?.close();
    await environment?.cleanup();
  });

  test("connect through Trello's authorize page: the token comes back in the fragment and is sealed", async () => {
    const start = await fetch(`${hub.url}/api/v1/connections/trello/authorize`, { method: 'POST', headers: auth, body: '{}' });
    const { authorizeUrl } = (await start.json()) as { authorizeUrl: string };
    assert.match(authorizeUrl, /\/1\/authorize\?key=sandbox-trello-key/);
    const page = await fetch(authorizeUrl, { redirect: 'manual' });
    assert.equal(page.status, 302);
    const back = new URL(page.headers.get('location')!);
    const token = new URLSearchParams(back.hash.slice(1)).get('token');
    assert.ok(token, 'the authorize page returned a token in the fragment');
    const returnPage = await fetch(back.toString().split('#')[0]!);
    assert.match(await returnPage.text(), /location\.hash/);
    const posted = await fetch(back.pathname.startsWith('/oauth/') ? `${hub.url}${back.pathname}` : '', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ state: back.searchParams.get('state'), token }),
    });
    assert.equal(posted.status, 200, await posted.clone().text());
    const replayed = await fetch(`${hub.url}${back.pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ state: back.searchParams.get('state'), token }),
    });
    assert.equal(replayed.status, 400, 'a state is used once');
    const tested = await fetch(`${hub.url}/api/v1/connections/trello/test`, { method: 'POST', headers: auth });
    assert.equal(tested.status, 200);
    assert.equal(((await tested.json()) as any).details.member.username, 'demo');
  });

  test('a catch hook becomes a card with labels, members and due date, then a comment and a move', async () => {
    const res = await fetch(`${hub.url}/hooks/catch/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Fix the login page', note: 'from the web form', label: 'red' }),
    });
    const { id } = (await res.json()) as { id: string };
    await waitUntil(
      async () =>
        (
          await queryHub<{ n: number }>(
            environment,
            "select count(*)::int as n from step_runs where event_id = $1 and status = 'succeeded'",
            [id],
          )
        )[0]!.n === 3,
      'three steps succeeded',
    );
    const cards = [...fake.state.cards.values()].filter((c: any) => c.name === 'Fix the login page');
    assert.equal(cards.length, 1);
    const card = cards[0]! as any;
    assert.equal(card.idList, lists.find((l) => l.name === 'Doing')!.id);
    assert.equal(card.desc, 'from the web form');
    assert.equal(card.idLabels.length, 1);
    assert.equal(card.idMembers.length, 1);
    assert.equal(new Date(card.due).toISOString(), '2026-12-01T01:00:00.000Z');
  });

  test("Trello 429 and 500 during card creation: the card is created once, after the limit's window", async () => {
    await fetch(`${fake.baseUrl()}/__sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'status',
        status: 429,
        path: '^/1/cards$',
        method: 'POST',
        count: 1,
        headers: { 'x-rate-limit-api-token-interval-ms': '1500' },
      }),
    });
    await fetch(`${fake.baseUrl()}/__sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'status', status: 500, path: '^/1/cards$', method: 'POST', count: 1 }),
    });
    const res = await fetch(`${hub.url}/hooks/catch/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Rate limited card', label: 'green' }),
    });
    const { id } = (await res.json()) as { id: string };
    await waitUntil(
      async () =>
        (
          await queryHub<{ n: number }>(
            environment,
            "select count(*)::int as n from step_runs where event_id = $1 and status = 'succeeded'",
            [id],
          )
        )[0]!.n === 3,
      'flow finished',
      30_000,
    );
    const attempts = await queryHub<{ attempt: number; error: string | null; started_at: Date }>(
      environment,
      'select a.attempt, a.error, a.started_at from step_attempts a join step_runs s on s.id = a.step_run_id where s.event_id = $1 and s.step_index = 0 order by a.attempt',
      [id],
    );
    assert.equal(attempts.length, 3);
    assert.match(attempts[0]!.error ?? '', /429/);
    assert.ok(
      new Date(attempts[1]!.started_at).getTime() - new Date(attempts[0]!.started_at).getTime() >= 1400,
      'waited for the rate-limit window',
    );
    assert.equal([...fake.state.cards.values()].filter((c: any) => c.name === 'Rate limited card').length, 1);
  });

  test('enabling a flow registers a webhook (HEAD answered); activity arrives verified and normalised; a dropped webhook is registered again; removing the flow deletes it', async () => {
    await restartWith(config(true));
    const hooks = await waitUntil(async () => {
      const w = (await ctl('GET', '/webhooks')).webhooks as any[];
      return w.length === 1 && w;
    }, 'webhook registered');
    assert.equal(hooks[0].callbackURL, `${publicUrl}/webhooks/trello/trello`);
    assert.equal(hooks[0].idModel, board.id);

    const before = sink.requests.length;
    const card = (await ctl('POST', '/cards', { listName: 'To Do', idBoard: board.id, name: 'Ship v2' })).card;
    await ctl('POST', `/cards/${card.id}/move`, { listName: 'Done' });
    await sink.waitFor(before + 2);
    const got = sink.requests.slice(before).map((r) => r.json as any);
    assert.deepEqual(
      got.map((g) => g.type),
      ['trello.card.created', 'trello.card.moved'],
    );
    assert.equal(got[1].from, 'To Do');
    assert.equal(got[1].to, 'Done');
    assert.match(got[1].url, /^https:\/\/trello\.com\/c\//);

    // Trello drops the webhook (e.g. after 410s or a revoked token): the check registers it again.
    const owner = fake.state.webhooks.get(hooks[0].id)!;
    const dropped = await fetch(`${fake.baseUrl()}/1/webhooks/${hooks[0].id}?key=${owner.key}&token=${owner.token}`, { method: 'DELETE' });
    assert.equal(dropped.status, 200);
    const again = await waitUntil(
      async () => {
        const w = (await ctl('GET', '/webhooks')).webhooks as any[];
        return w.length === 1 && w[0].id !== hooks[0].id && w;
      },
      'webhook registered again',
      15_000,
    );
    assert.equal(again[0].idModel, board.id);

    await restartWith(config(false));
    await waitUntil(async () => (await ctl('GET', '/webhooks')).webhooks.length === 0, 'webhook deleted once no flow needs it');
  });

  test("changes the hub made are recognised and never echoed; a person's later change is posted with the linked thing", async () => {
    await restartWith(config(true));
    await waitUntil(async () => (await ctl('GET', '/webhooks')).webhooks.length === 1, 'webhook registered');
    const before = sink.requests.length;
    const res = await fetch(`${hub.url}/hooks/catch/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Made by the hub', label: 'red', ref: 'FORM-77' }),
    });
    const { id } = (await res.json()) as { id: string };
    await waitUntil(
      async () =>
        (
          await queryHub<{ n: number }>(
            environment,
            "select count(*)::int as n from step_runs where event_id = $1 and status = 'succeeded'",
            [id],
          )
        )[0]!.n === 3,
      'the hub made, commented and moved the card',
    );
    await ctl('POST', '/deliveries/drain', { timeoutMs: 10_000 });
    const echoes = await waitUntil(async () => {
      const r = await queryHub<{ type: string }>(
        environment,
        "select type from events where status = 'echo' and subject = 'Made by the hub' order by type",
      );
      return r.length >= 3 && r;
    }, 'the three echoes stored');
    assert.deepEqual(
      echoes.map((e) => e.type),
      ['trello.card.commented', 'trello.card.created', 'trello.card.moved'],
    );
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(sink.requests.length, before, 'no echo reached a flow');

    const card = [...fake.state.cards.values()].find((c: any) => c.name === 'Made by the hub')!;
    await ctl('POST', `/cards/${card.id}/move`, { listName: 'Done' });
    await sink.waitFor(before + 1);
    const posted = sink.requests[before]!.json as any;
    assert.equal(posted.type, 'trello.card.moved');
    assert.equal(posted.ref, 'FORM-77', 'the card is linked to the submission it came from');
    await restartWith(config(false));
  });

  test('forged, replayed and malformed deliveries: refused or de-duplicated, nothing lost', async () => {
    const url = `${publicUrl}/webhooks/trello/trello`;
    const body = JSON.stringify({
      action: {
        id: 'a'.repeat(24),
        type: 'createCard',
        date: new Date().toISOString(),
        data: { board, list: lists[0], card: { id: 'c'.repeat(24), name: 'Forged', shortLink: 'zzzzzzzz' } },
      },
      model: board,
    });
    const sign = (b: string) => crypto.createHmac('sha1', DEFAULT_APP.secret).update(b).update(url).digest('base64');
    const count = async () =>
      (await queryHub<{ n: number }>(environment, "select count(*)::int as n from events where type like 'trello.%'"))[0]!.n;
    const start = await count();
    const forged = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-trello-webhook': sign(body.replace('Forged', 'Other')) },
      body,
    });
    assert.equal(forged.status, 401);
    assert.equal(await count(), start);
    for (let i = 0; i < 3; i++) {
      const ok = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-trello-webhook': sign(body) },
        body,
      });
      assert.equal(ok.status, 200);
    }
    assert.equal(await count(), start + 1, 'the same action id three times is one event');
    const malformed = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-trello-webhook': sign('{nope') },
      body: '{nope',
    });
    assert.equal(malformed.status, 400);
    const head = await fetch(url, { method: 'HEAD' });
    assert.equal(head.status, 200);
  });
});
