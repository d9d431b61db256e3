import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import type { ConnectionHandle, WebhookRequest } from '../../core/connector.ts';
import { HttpError } from '../../core/errors.ts';
import { eventTypeOf, normaliseAction, trelloChange } from '../../connectors/trello/normalise.ts';
import { cardActivity, trelloSignature } from '../../connectors/trello/webhook.ts';

const CALLBACK = 'https://hub.example.com/webhooks/trello/conn_1';
const SECRET = 'trello-app-secret';

/** A delivery as Trello sends it: the action of a card moved from To Do to Doing. */
const moved = {
  model: { id: 'board1' },
  action: {
    id: 'act1',
    type: 'updateCard',
    date: '2026-12-04T03:04:05.000Z',
    idMemberCreator: 'mem1',
    data: {
      board: { id: 'board1', name: 'Product' },
      card: { id: 'card1', name: 'Fix the login page', shortLink: 'aB3dE5fG', idShort: 7 },
      listBefore: { id: 'list1', name: 'To Do' },
      listAfter: { id: 'list2', name: 'Doing' },
      old: { idList: 'list1' },
    },
    memberCreator: { id: 'mem1', fullName: 'Wong Ka Yan', username: 'kayan' },
  },
};

/** The parts of a connection the webhook reads: its secrets (nothing else is called). */
const connection = (secrets: Record<string, string>) =>
  ({ id: 'conn_1', connectorId: 'trello', settings: {}, secrets: async () => secrets }) as unknown as ConnectionHandle;
const request = (body: string, signature: string | undefined): WebhookRequest => ({
  method: 'POST',
  url: CALLBACK,
  query: {},
  rawBody: Buffer.from(body),
  headers: signature === undefined ? {} : { 'x-trello-webhook': signature },
  acceptOnce: async () => {
    throw new Error('the Trello webhook remembers nothing: it must not call acceptOnce');
  },
});

describe('Trello webhook signature', () => {
  test('is base64 HMAC-SHA1 of the raw body followed by the callback URL', () => {
    const body = Buffer.from('{"a":1}');
    const expected = crypto
      .createHmac('sha1', SECRET)
      .update(Buffer.concat([body, Buffer.from(CALLBACK)]))
      .digest('base64');
    assert.equal(trelloSignature(SECRET, body, CALLBACK), expected);
    assert.notEqual(trelloSignature(SECRET, body, `${CALLBACK}/`), expected, 'the URL is part of what is signed');
  });

  test('a signed delivery becomes one event; a missing, wrong or other-URL signature is a 401', async () => {
    const body = JSON.stringify(moved);
    const ok = await cardActivity.webhook!.receive(
      request(body, trelloSignature(SECRET, Buffer.from(body), CALLBACK)),
      connection({ appSecret: SECRET }),
    );
    assert.equal(ok.reply.status, 200);
    assert.deepEqual(
      ok.events.map((e) => [e.type, e.providerId]),
      [['trello.card.moved', 'act1']],
    );

    const refused = async (signature: string | undefined, secrets: Record<string, string> = { appSecret: SECRET }) => {
      await assert.rejects(
        cardActivity.webhook!.receive(request(body, signature), connection(secrets)),
        (err: unknown) => err instanceof HttpError && err.status === 401,
      );
    };
    await refused(undefined);
    await refused(trelloSignature('another-secret', Buffer.from(body), CALLBACK));
    await refused(trelloSignature(SECRET, Buffer.from(body), 'https://evil.example.com/'));
    await refused(trelloSignature(SECRET, Buffer.from(`${body} `), CALLBACK), { appSecret: SECRET });
    await refused(trelloSignature(SECRET, Buffer.from(body), CALLBACK), {});
  });
});

describe('Trello normalisation', () => {
  test('a card moved between lists: type, subject, lists, card URL, link ref and echo key', () => {
    const e = normaliseAction(moved)!;
    assert.equal(e.type, 'trello.card.moved');
    assert.equal(e.subject, 'Fix the login page');
    assert.equal(e.occurredAt, '2026-12-04T03:04:05.000Z');
    assert.deepEqual(e.data.listBefore, { id: 'list1', name: 'To Do' });
    assert.deepEqual(e.data.list, { id: 'list2', name: 'Doing' });
    assert.equal(e.data.url, 'https://trello.com/c/aB3dE5fG');
    assert.equal(e.data.memberId, 'mem1');
    assert.deepEqual(e.refs, [{ kind: 'trello.card', id: 'card1' }]);
    assert.deepEqual(e.echoKeys, [trelloChange.moved('card1', 'list2')]);
  });

  test('action types map to event types; unknown actions are not events', () => {
    const of = (type: string, data: Record<string, unknown> = {}) => eventTypeOf({ id: 'a', type, date: '', data } as never);
    assert.equal(of('createCard'), 'trello.card.created');
    assert.equal(of('copyCard'), 'trello.card.created');
    assert.equal(of('commentCard'), 'trello.card.commented');
    assert.equal(of('createList'), 'trello.list.created');
    assert.equal(of('updateCard', { old: { closed: false }, card: { id: 'c', closed: true } }), 'trello.card.archived');
    assert.equal(of('updateCard', { old: { due: null }, card: { id: 'c' } }), 'trello.card.due_changed');
    assert.equal(of('updateCard', { old: { name: 'x' }, card: { id: 'c' } }), 'trello.card.updated');
    assert.equal(of('addMemberToBoard'), undefined);
    assert.equal(normaliseAction({ action: { id: 'a', type: 'addMemberToBoard', date: '', data: {} } }), undefined);
    assert.equal(normaliseAction({}), undefined, 'a delivery without an action');
  });

  test('a comment carries its text and both echo keys (by action id, and by card + text before the id is known)', () => {
    const e = normaliseAction({
      action: { id: 'act9', type: 'commentCard', date: '2026-12-04T00:00:00Z', data: { card: { id: 'card1', name: 'C' }, text: 'done' } },
    })!;
    assert.equal(e.data.text, 'done');
    assert.deepEqual(e.echoKeys, [trelloChange.comment('act9'), trelloChange.newComment('card1', 'done')]);
    assert.equal(trelloChange.due('c', '2026-12-04T09:00:00+08:00'), 'trello.card:c:due:2026-12-04T01:00:00.000Z');
    assert.equal(trelloChange.due('c', null), 'trello.card:c:due:none');
  });
});
