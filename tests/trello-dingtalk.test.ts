import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTrelloFake, DEFAULT_APP, DEFAULT_TOKEN, type TrelloState } from '../sandbox/trello/index.ts';
import { startDingtalkFake, SEED, type RunningDingtalkFake } from '../sandbox/dingtalk/index.ts';
import type { RunningFake } from '../sandbox/framework/index.ts';
import { MODES, ROOT, prepareEnvironment, startTestHub, tempDir, waitUntil, writeConfig, type Environment } from './helpers/hub.ts';
import { queryHub } from './helpers/hub-db.ts';
import { freePort } from './helpers/ports.ts';
import { services } from './helpers/services.ts';
import type { Hub } from '../app/hub.ts';

const available = await services();
const GROUP = 'cidSandboxGroup0001';
const PROCESS = 'PROC-PURCHASE-TO-TRELLO';

/** A small seeded PRNG, so a failing sequence can be replayed. */
function prng(seed: number) {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

describe('Trello ↔ DingTalk recipes (examples/trello-dingtalk.yaml)', { skip: available.postgres ? false : 'needs PostgreSQL' }, () => {
  let trello: RunningFake<TrelloState>;
  let dingtalk: RunningDingtalkFake;
  let environment: Environment;
  let hub: Hub;
  let board: { id: string; name: string };

  const tctl = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${trello.baseUrl()}/__sandbox/trello${p}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await res.json()) as any;
    assert.ok(res.ok, `${p}: ${JSON.stringify(json)}`);
    return json;
  };
  const robotMessages = async () => (await dingtalk.control<{ messages: any[] }>('GET', `/robots/${SEED.robotToken}/messages`)).messages;
  const groupMessages = async () =>
    (await dingtalk.control<{ messages: any[] }>('GET', `/conversations/${GROUP}/messages`)).messages.filter(
      (m) => m.channel !== 'custom_robot' && m.channel !== 'user_chat' && !m.robotToken,
    );
  const cardsNamed = (name: string) => [...trello.state.cards.values()].filter((c: any) => c.name === name) as any[];
  const chat = (text: string) =>
    dingtalk.control('POST', '/chat', { text, conversationId: GROUP, conversationType: '2', conversationTitle: 'Product team' });
  const robotText = (m: any) => String(m.body?.text ?? m.raw?.actionCard?.text ?? '');

  before(async () => {
    trello = await startTrelloFake();
    dingtalk = await startDingtalkFake({ robot: { maxPerWindow: 20, windowMs: 1000 }, stream: { ackTimeoutMs: 1500 } });
    board = (await tctl('POST', '/boards', { name: 'Product', lists: ['To Do', 'Doing', 'Done'] })).board;
    const port = await freePort();
    environment = await prepareEnvironment(MODES[0]!, 'trello-dingtalk', {
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DINGBRIDGE_TRIGGER_CHECK_MS: '5000',
      DINGBRIDGE_STEP_ATTEMPTS: '8',
      DINGBRIDGE_WORKER_CONCURRENCY: '8',
      TRELLO_API_KEY: DEFAULT_APP.key,
      TRELLO_TOKEN: DEFAULT_TOKEN,
      TRELLO_APP_SECRET: DEFAULT_APP.secret,
      TRELLO_BOARD_ID: board.id,
      TRELLO_BASE_URL: trello.baseUrl(),
      DINGTALK_ROBOT_TOKEN: 'sandbox-robot-token',
      DINGTALK_ROBOT_SECRET: 'SECsandboxsecret',
      DINGTALK_ROBOT_RATE_LIMIT: '20',
      DINGTALK_ROBOT_RATE_WINDOW_MS: '1000',
      DINGTALK_APP_KEY: SEED.appKey,
      DINGTALK_APP_SECRET: SEED.appSecret,
      DINGTALK_CONVERSATION_ID: GROUP,
      DINGTALK_BASE_URL: dingtalk.baseUrl(),
      DINGTALK_OAPI_BASE_URL: dingtalk.baseUrl(),
      DINGTALK_STREAM: 'true',
    });
    // The example as shipped, plus the other two recipes: approvals → cards, and linked cards → their group.
    const yaml = `${fs.readFileSync(path.join(ROOT, 'examples/trello-dingtalk.yaml'), 'utf8')}
  - use: trello-linked-card-to-dingtalk
    id: linked-back
    fields: { trello: trello, board: "\${TRELLO_BOARD_ID}", dingtalk: dingtalk }
  - use: dingtalk-approval-to-trello
    id: approvals-to-trello
    fields: { dingtalk: dingtalk, processCode: ${PROCESS}, trello: trello, board: "\${TRELLO_BOARD_ID}", list: Done }
`;
    environment.env.DINGBRIDGE_CONFIG = writeConfig(tempDir('trello-dingtalk'), yaml);
    hub = await startTestHub(environment);
    await waitUntil(async () => (await tctl('GET', '/webhooks')).webhooks.length === 1, 'Trello webhook registered for the board');
    await waitUntil(
      async () => (await dingtalk.control<{ connections: unknown[] }>('GET', '/stream/connections')).connections.length === 1,
      'DingTalk stream connected',
    );
  });
  after(async () => {
    await hub?.stop();
    await trello?.stop();
    await dingtalk?.stop();
    await environment?.cleanup();
  });

  test('recipe 1: a person moves a card → the group robot posts an ActionCard with "Open card"', async () => {
    const before = (await robotMessages()).length;
    const card = (await tctl('POST', '/cards', { listName: 'To Do', idBoard: board.id, name: 'Write the launch post' })).card;
    await tctl('POST', `/cards/${card.id}/move`, { listName: 'Doing' });
    const msgs = await waitUntil(async () => {
      const m = await robotMessages();
      return m.length >= before + 2 && m.slice(before);
    }, 'two robot messages');
    assert.equal(msgs[1].msgtype, 'actionCard');
    assert.match(robotText(msgs[0]), /created it in \*\*To Do\*\*/);
    assert.match(robotText(msgs[1]), /moved it from \*\*To Do\*\* to \*\*Doing\*\*/);
    assert.equal(msgs[1].raw.actionCard.singleTitle, 'Open card');
    assert.match(msgs[1].raw.actionCard.singleURL, /^https:\/\/trello\.com\/c\//);
  });

  test('recipe 2 + 4: "trello add … @Doing" in the group → a card and a reply with its link; the hub\'s own card is not echoed; a person\'s later move goes back to the group', async () => {
    const robotBefore = (await robotMessages()).length;
    const groupBefore = (await groupMessages()).length;
    await chat('trello add Fix the login page @Doing');
    const card = await waitUntil(() => cardsNamed('Fix the login page')[0], 'card created from the chat');
    const doing = [...trello.state.lists.values()].find((l: any) => l.name === 'Doing' && l.idBoard === board.id) as any;
    assert.equal(card.idList, doing.id);
    const replies = await waitUntil(async () => {
      const m = await groupMessages();
      return m.length > groupBefore && m.slice(groupBefore);
    }, 'reply in the group');
    assert.match(JSON.stringify(replies[0].body), /Fix the login page/);
    assert.match(JSON.stringify(replies[0].body), /trello\.com\/c\//);
    await tctl('POST', '/deliveries/drain', { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await robotMessages()).length, robotBefore, 'the card the hub made was not posted as if a person made it');

    await tctl('POST', `/cards/${card.id}/move`, { listName: 'Done' });
    const back = await waitUntil(async () => {
      const m = await groupMessages();
      return m.length > groupBefore + 1 && m.slice(groupBefore + 1);
    }, 'linked card activity posted to its group');
    assert.match(JSON.stringify(back[0].body), /moved it to \*\*Done\*\*/);
    await waitUntil(async () => (await robotMessages()).length === robotBefore + 1, 'and recipe 1 posted the move once');
  });

  test('recipe 3: an approval of the chosen process agreed in DingTalk → a card from its form fields, linked to the approval', async () => {
    const started = await dingtalk.control<{ instanceId: string }>('POST', '/approvals', {
      originatorUserId: 'user001',
      processCode: PROCESS,
      title: 'Buy 3 monitors',
      formComponentValues: [
        { name: 'Item', value: 'Dell U2723QE' },
        { name: 'Amount', value: '7200' },
      ],
    });
    await dingtalk.control('POST', `/approvals/${started.instanceId}/agree`, {});
    const card = await waitUntil(() => cardsNamed('Buy 3 monitors')[0], 'card from the approval', 20_000);
    assert.match(card.desc, /Amount: 7200/);
    const links = await queryHub<{ a_kind: string; b_kind: string; b_id: string }>(
      environment,
      'select a_kind, b_kind, b_id from links where a_id = $1',
      [card.id],
    );
    assert.deepEqual(links, [{ a_kind: 'trello.card', b_kind: 'dingtalk.approval', b_id: started.instanceId }]);
  });

  test('sync fidelity: 300 random actions on both sides → exactly the expected messages and cards, in order per card, no duplicates, no echoes', async () => {
    const random = prng(20261126);
    const robotBefore = (await robotMessages()).length;
    const groupBefore = (await groupMessages()).length;
    const lists = ['To Do', 'Doing', 'Done'];
    const personCards: { id: string; name: string; archived: boolean; list: string }[] = [];
    const chatCards: string[] = [];
    /** What recipe 1 must post, per card name, in order. */
    const expectedRobot = new Map<string, string[]>();
    let expectedLinkedBack = 0;
    const note = (name: string, kind: string) => expectedRobot.set(name, [...(expectedRobot.get(name) ?? []), kind]);

    for (let i = 0; i < 300; i++) {
      const r = random();
      const open = personCards.filter((c) => !c.archived);
      if (r < 0.15) {
        const name = `Chat task ${i}`;
        chatCards.push(name);
        await chat(`trello add ${name}`);
      } else if (r < 0.4 || open.length === 0) {
        const name = `Card ${i}`;
        const list = lists[Math.floor(random() * 3)]!;
        const card = (await tctl('POST', '/cards', { listName: list, idBoard: board.id, name })).card;
        personCards.push({ id: card.id, name, archived: false, list });
        note(name, 'created');
      } else {
        const c = open[Math.floor(random() * open.length)]!;
        const k = random();
        if (k < 0.5) {
          // A move to the list a card is already in is no change in Trello, so always another list.
          const others = lists.filter((l) => l !== c.list);
          c.list = others[Math.floor(random() * others.length)]!;
          await tctl('POST', `/cards/${c.id}/move`, { listName: c.list });
          note(c.name, 'moved');
        } else if (k < 0.85) {
          await tctl('POST', `/cards/${c.id}/comments`, { text: `comment ${i}` });
          note(c.name, 'commented');
        } else {
          await tctl('POST', `/cards/${c.id}/archive`, {});
          c.archived = true;
          note(c.name, 'archived');
        }
      }
    }
    // A person also moves two of the chat-made cards: recipe 1 posts them, and recipe 4 sends each to the group.
    for (const name of chatCards.slice(0, 2)) {
      const card = await waitUntil(() => cardsNamed(name)[0], `card ${name}`, 30_000);
      await tctl('POST', `/cards/${card.id}/move`, { listName: 'Done' });
      note(name, 'moved');
      expectedLinkedBack += 1;
    }
    const expectedRobotCount = [...expectedRobot.values()].reduce((n, l) => n + l.length, 0);
    const expectedGroupCount = chatCards.length + expectedLinkedBack;

    const robot = await waitUntil(
      async () => {
        const m = (await robotMessages()).slice(robotBefore);
        return m.length >= expectedRobotCount && m;
      },
      `${expectedRobotCount} robot messages`,
      300_000,
      500,
    );
    const group = await waitUntil(
      async () => {
        const m = (await groupMessages()).slice(groupBefore);
        return m.length >= expectedGroupCount && m;
      },
      `${expectedGroupCount} group messages`,
      60_000,
      500,
    );
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal((await robotMessages()).length - robotBefore, expectedRobotCount, 'no extra robot message (duplicates or echoes)');
    assert.equal((await groupMessages()).length - groupBefore, expectedGroupCount, 'no extra group message');

    const kindOf = (text: string) =>
      /created it/.test(text)
        ? 'created'
        : /moved it/.test(text)
          ? 'moved'
          : /commented/.test(text)
            ? 'commented'
            : /archived/.test(text)
              ? 'archived'
              : 'other';
    const got = new Map<string, string[]>();
    for (const m of robot) {
      const name = /^### (.+)$/m.exec(robotText(m))?.[1] ?? '?';
      got.set(name, [...(got.get(name) ?? []), kindOf(robotText(m))]);
    }
    assert.deepEqual(Object.fromEntries([...got].sort()), Object.fromEntries([...expectedRobot].sort()), "each card's messages, in order");
    for (const name of chatCards) assert.equal(cardsNamed(name).length, 1, `exactly one card for "${name}"`);
    assert.equal(group.filter((m) => /Created \[/.test(JSON.stringify(m.body))).length, chatCards.length);
    const failures = await queryHub<{ n: number }>(
      environment,
      "select count(*)::int as n from step_runs where status in ('dead', 'waiting_reauth')",
    );
    assert.equal(failures[0]!.n, 0);
  });
});
