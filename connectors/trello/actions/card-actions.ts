import { z } from 'zod';
import { defineAction, type ActionContext } from '../../../core/connector.ts';
import { permanent } from '../../../core/errors.ts';
import { trelloFor } from '../client.ts';
import { resolveLabels, resolveList, resolveMembers } from '../resolve.ts';
import { trelloChange } from '../normalise.ts';

/** What Trello answers for a card, checked instead of trusting the SDK's types (they lag behind Trello's answers). */
const trelloCard = z
  .object({
    id: z.string(),
    name: z.string(),
    url: z.string().optional(),
    shortUrl: z.string().optional(),
    shortLink: z.string().optional(),
    idList: z.string(),
    idBoard: z.string(),
    closed: z.boolean().optional(),
    due: z.string().nullable().optional(),
  })
  .loose();
type Card = z.output<typeof trelloCard>;

/** The card actions' output (the flow editor's field picker and the OpenAPI document show it). */
export const cardOutput = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string().optional(),
  idList: z.string(),
  idBoard: z.string(),
  closed: z.boolean(),
  due: z.string().nullable(),
});

const cardOut = (c: Card): z.output<typeof cardOutput> => ({
  id: c.id,
  name: c.name,
  url: c.shortUrl ?? c.url ?? (c.shortLink ? `https://trello.com/c/${c.shortLink}` : undefined),
  idList: c.idList,
  idBoard: c.idBoard,
  closed: c.closed ?? false,
  due: c.due ?? null,
});
const sample = {
  id: '6750f0b1a1b2c3d4e5f60101',
  name: 'Fix the login page',
  url: 'https://trello.com/c/aB3dE5fG',
  idList: '6750f0a0a1b2c3d4e5f60002',
  idBoard: '6750f0a0a1b2c3d4e5f60001',
  closed: false,
  due: null,
};

async function client(ctx: ActionContext) {
  if (!ctx.connection) throw permanent('Trello actions need a connection (set `connection:` on the step)');
  return trelloFor(ctx.connection, ctx.timeoutMs);
}
const cardId = z.string().min(1).describe('card id (or short link)');
const due = z
  .string()
  .refine((v) => !Number.isNaN(Date.parse(v)), 'a date, e.g. 2026-12-01T09:00:00+08:00')
  .optional();

export const createCard = defineAction({
  id: 'trello.card.create',
  title: 'Create a Trello card',
  input: z.object({
    list: z.string().min(1).describe('list id, or its name together with board'),
    board: z.string().optional().describe('board id, to find the list, labels by name'),
    name: z.string().min(1).max(16384),
    description: z.string().max(16384).optional(),
    due,
    labels: z.array(z.string()).default([]).describe('label ids or names'),
    members: z.array(z.string()).default([]).describe('usernames'),
    position: z.enum(['top', 'bottom']).default('bottom'),
  }),
  output: cardOutput,
  sampleOutput: sample,
  async run(ctx, input) {
    const trello = await client(ctx);
    const idList = await resolveList(trello, input.list, input.board);
    const idLabels = input.labels.length ? await resolveLabels(trello, input.labels, input.board) : undefined;
    const idMembers = input.members.length ? await resolveMembers(trello, input.members) : undefined;
    const request = {
      idList,
      name: input.name,
      desc: input.description,
      due: input.due ? new Date(input.due).toISOString() : undefined,
      idLabels,
      idMembers,
      pos: input.position,
    };
    ctx.trace({ request });
    await ctx.ownChange?.(trelloChange.newCard(idList, input.name), { once: true });
    const card = trelloCard.parse(await trello.cards.createCard(request));
    await ctx.ownChange?.(trelloChange.created(card.id));
    ctx.trace({ response: cardOut(card) });
    return cardOut(card);
  },
  outputRef: (out) => ({ kind: 'trello.card', id: out.id }),
});

export const updateCard = defineAction({
  id: 'trello.card.update',
  title: 'Update a Trello card',
  input: z.object({
    card: cardId,
    name: z.string().min(1).optional(),
    description: z.string().optional(),
    due: due.nullable(),
    dueComplete: z.boolean().optional(),
  }),
  output: cardOutput,
  sampleOutput: sample,
  async run(ctx, input) {
    const trello = await client(ctx);
    const request = {
      id: input.card,
      name: input.name,
      desc: input.description,
      due: input.due === null ? '' : input.due ? new Date(input.due).toISOString() : undefined,
      dueComplete: input.dueComplete,
    };
    if (input.due !== undefined) await ctx.ownChange?.(trelloChange.due(input.card, input.due));
    ctx.trace({ request });
    return cardOut(trelloCard.parse(await trello.cards.updateCard(request)));
  },
});

export const moveCard = defineAction({
  id: 'trello.card.move',
  title: 'Move a Trello card to another list',
  input: z.object({ card: cardId, list: z.string().min(1), board: z.string().optional(), position: z.enum(['top', 'bottom']).optional() }),
  output: cardOutput,
  sampleOutput: sample,
  async run(ctx, input) {
    const trello = await client(ctx);
    const idList = await resolveList(trello, input.list, input.board);
    await ctx.ownChange?.(trelloChange.moved(input.card, idList));
    ctx.trace({ request: { id: input.card, idList } });
    return cardOut(trelloCard.parse(await trello.cards.updateCard({ id: input.card, idList, pos: input.position })));
  },
});

export const commentOnCard = defineAction({
  id: 'trello.card.comment',
  title: 'Comment on a Trello card',
  input: z.object({ card: cardId, text: z.string().min(1).max(16384) }),
  output: z.object({ id: z.string(), card: z.string(), text: z.string() }),
  sampleOutput: { id: '6750f0c2a1b2c3d4e5f60718', card: '6750f0b1a1b2c3d4e5f60101', text: 'Approved in DingTalk' },
  async run(ctx, input) {
    const trello = await client(ctx);
    ctx.trace({ request: input });
    await ctx.ownChange?.(trelloChange.newComment(input.card, input.text), { once: true });
    const action = z
      .object({ id: z.string() })
      .loose()
      .parse(await trello.cards.createCardComment({ id: input.card, text: input.text }));
    await ctx.ownChange?.(trelloChange.comment(action.id));
    return { id: action.id, card: input.card, text: input.text };
  },
});

export const archiveCard = defineAction({
  id: 'trello.card.archive',
  title: 'Archive a Trello card',
  input: z.object({ card: cardId }),
  output: cardOutput,
  sampleOutput: { ...sample, closed: true },
  async run(ctx, input) {
    const trello = await client(ctx);
    await ctx.ownChange?.(trelloChange.archived(input.card));
    ctx.trace({ request: { id: input.card, closed: true } });
    return cardOut(trelloCard.parse(await trello.cards.updateCard({ id: input.card, closed: true })));
  },
});
