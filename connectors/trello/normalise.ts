import crypto from 'node:crypto';
import type { TriggeredEvent } from '../../core/connector.ts';

/** The event types Trello activity becomes. */
export const TRELLO_EVENTS = [
  'trello.card.created',
  'trello.card.updated',
  'trello.card.moved',
  'trello.card.archived',
  'trello.card.commented',
  'trello.card.due_changed',
  'trello.list.created',
] as const;

interface Named {
  id: string;
  name?: string;
  shortLink?: string;
  idShort?: number;
}
interface TrelloAction {
  id: string;
  type: string;
  date: string;
  idMemberCreator?: string;
  data: {
    board?: Named;
    list?: Named;
    card?: Named & { due?: string | null; closed?: boolean; desc?: string };
    listBefore?: Named;
    listAfter?: Named;
    text?: string;
    old?: Record<string, unknown>;
  };
  memberCreator?: { id: string; fullName?: string; username?: string };
}

const cardUrl = (card?: Named) => (card?.shortLink ? `https://trello.com/c/${card.shortLink}` : undefined);

/** The Trello action type, and what changed, as one of our event types (undefined: not an event we emit). */
export function eventTypeOf(action: TrelloAction): (typeof TRELLO_EVENTS)[number] | undefined {
  const old = action.data.old ?? {};
  switch (action.type) {
    case 'createCard':
    case 'copyCard':
    case 'convertToCardFromCheckItem':
      return 'trello.card.created';
    case 'commentCard':
      return 'trello.card.commented';
    case 'createList':
      return 'trello.list.created';
    case 'updateCard':
      if (action.data.listAfter && action.data.listBefore) return 'trello.card.moved';
      if ('closed' in old && action.data.card?.closed === true) return 'trello.card.archived';
      if ('due' in old) return 'trello.card.due_changed';
      return 'trello.card.updated';
    default:
      return undefined;
  }
}

export function normaliseAction(body: { action?: TrelloAction; model?: unknown }): TriggeredEvent | undefined {
  const action = body.action;
  if (!action?.id || !action.type) return undefined;
  const type = eventTypeOf(action);
  if (!type) return undefined;
  const d = action.data;
  return {
    providerId: action.id,
    type,
    occurredAt: action.date,
    subject: d.card?.name ?? d.list?.name ?? null,
    data: {
      action: { id: action.id, type: action.type },
      board: d.board ?? null,
      list: d.listAfter ?? d.list ?? null,
      listBefore: d.listBefore ?? null,
      listAfter: d.listAfter ?? null,
      card: d.card ? { ...d.card, url: cardUrl(d.card) } : null,
      text: d.text ?? null,
      old: d.old ?? null,
      member: action.memberCreator
        ? { id: action.memberCreator.id, fullName: action.memberCreator.fullName, username: action.memberCreator.username }
        : null,
      memberId: action.idMemberCreator ?? action.memberCreator?.id ?? null,
      url: cardUrl(d.card) ?? null,
    },
    raw: body,
    refs: d.card?.id ? [{ kind: 'trello.card', id: d.card.id }] : d.list?.id ? [{ kind: 'trello.list', id: d.list.id }] : [],
    echoKeys: echoKeysOf(type, action),
  };
}

/**
 * The keys under which the hub records its own changes (see the actions): the webhook of a change the
 * hub made carries one of them, and is then an echo.
 */
export function echoKeysOf(type: string, action: TrelloAction): string[] {
  const card = action.data.card?.id;
  switch (type) {
    case 'trello.card.created':
      return [
        ...(card ? [trelloChange.created(card)] : []),
        ...(action.data.list?.id && action.data.card?.name ? [trelloChange.newCard(action.data.list.id, action.data.card.name)] : []),
      ];
    case 'trello.card.moved':
      return card && action.data.listAfter ? [trelloChange.moved(card, action.data.listAfter.id)] : [];
    case 'trello.card.archived':
      return card ? [trelloChange.archived(card)] : [];
    case 'trello.card.commented':
      return [trelloChange.comment(action.id), ...(card && action.data.text ? [trelloChange.newComment(card, action.data.text)] : [])];
    case 'trello.card.due_changed':
      return card ? [trelloChange.due(card, action.data.card?.due ?? null)] : [];
    default:
      return [];
  }
}

export const trelloChange = {
  created: (card: string) => `trello.card:${card}:created`,
  moved: (card: string, list: string) => `trello.card:${card}:moved:${list}`,
  archived: (card: string) => `trello.card:${card}:archived`,
  comment: (actionId: string) => `trello.action:${actionId}`,
  /** Recorded once, before the call: the webhook may arrive before the call returns the new card's id. */
  newCard: (list: string, name: string) => `trello.card.new:${list}:${crypto.createHash('sha1').update(name).digest('hex')}`,
  newComment: (card: string, text: string) => `trello.comment.new:${card}:${crypto.createHash('sha1').update(text).digest('hex')}`,
  due: (card: string, due: string | null) => `trello.card:${card}:due:${due ? new Date(due).toISOString() : 'none'}`,
};
