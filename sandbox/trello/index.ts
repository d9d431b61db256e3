import type { Express, Request, Response } from 'express';
import { startFake, type FakeDefinition, type RunningFake, type RunningFakeInternals } from '../framework/index.ts';
import {
  type TrelloState,
  type TrelloMember,
  type TrelloToken,
  type TrelloBoard,
  type TrelloList,
  type TrelloCard,
  type TrelloLabel,
  type TrelloAction,
  type TrelloApp,
  type TrelloSettings,
  initialTrelloState,
  objectId,
  isObjectId,
  shortLink,
  now,
  addMember,
  addToken,
  memberByUsername,
  memberJson,
  boardJson,
  listJson,
  labelJson,
  cardJson,
  webhookJson,
  tokenJson,
  actionJson,
  resolvePos,
  DEFAULT_APP,
  DEFAULT_TOKEN,
  DEFAULT_MEMBER,
} from './state.ts';
import { fanOut, headCheck, drain, trelloSignature } from './delivery.ts';

export type { TrelloState, TrelloSettings, TrelloDelivery, TrelloWebhook, TrelloAction } from './state.ts';
export { trelloSignature, DEFAULT_APP, DEFAULT_TOKEN, DEFAULT_MEMBER };

type Fake = RunningFakeInternals<TrelloState>;
type Params = Record<string, unknown>;

/** Trello answers auth and validation errors as text/plain. */
function text(res: Response, status: number, msg: string): void {
  res.status(status).type('text/plain').send(msg);
}
class TrelloError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
const fail = (status: number, msg: string): never => {
  throw new TrelloError(status, msg);
};

function params(req: Request): Params {
  const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Params) : {};
  return { ...(req.query as Params), ...body };
}
const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));
const bool = (v: unknown): boolean | undefined => (v === undefined ? undefined : v === true || v === 'true');
const idArray = (v: unknown): string[] | undefined => {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map(String).filter(Boolean);
  return String(v)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
};

// ---------- lookups ----------

function findBoard(st: TrelloState, id: string): TrelloBoard {
  const b = st.boards.get(id) ?? [...st.boards.values()].find((x) => x.shortLink === id);
  if (b) return b;
  return isObjectId(id) || /^[A-Za-z0-9]{8}$/.test(id) ? fail(404, 'The requested resource was not found.') : fail(400, 'invalid id');
}
function findList(st: TrelloState, id: string): TrelloList {
  if (!isObjectId(id)) fail(400, 'invalid id');
  return st.lists.get(id) ?? fail(404, 'The requested resource was not found.');
}
function findCard(st: TrelloState, id: string): TrelloCard {
  const c = st.cards.get(id) ?? [...st.cards.values()].find((x) => x.shortLink === id);
  if (c) return c;
  return isObjectId(id) || /^[A-Za-z0-9]{8}$/.test(id) ? fail(404, 'Could not find the card') : fail(400, 'invalid id');
}
function findMember(st: TrelloState, idOrUsername: string, self?: TrelloMember): TrelloMember {
  if (idOrUsername === 'me' && self) return self;
  return st.members.get(idOrUsername) ?? memberByUsername(st, idOrUsername) ?? fail(404, 'The requested resource was not found.');
}

// ---------- actions ----------

const boardRef = (b: TrelloBoard) => ({ id: b.id, name: b.name, shortLink: b.shortLink });
const listRef = (l: TrelloList) => ({ id: l.id, name: l.name });
const cardRef = (c: TrelloCard, extra: Params = {}) => ({ id: c.id, name: c.name, idShort: c.idShort, shortLink: c.shortLink, ...extra });

export interface TrelloOps {
  createBoard(as: TrelloMember, input: { name: string; desc?: string; defaultLists?: boolean; lists?: string[] }): TrelloBoard;
  createList(as: TrelloMember, input: { idBoard: string; name: string; pos?: unknown }): TrelloList;
  createLabel(as: TrelloMember, input: { idBoard: string; name: string; color: string | null }): TrelloLabel;
  createCard(as: TrelloMember, input: Params): TrelloCard;
  updateCard(as: TrelloMember, card: TrelloCard, input: Params): TrelloAction[];
  commentCard(as: TrelloMember, card: TrelloCard, text: string): TrelloAction;
  deleteCard(as: TrelloMember, card: TrelloCard): TrelloAction;
  updateList(as: TrelloMember, list: TrelloList, input: Params): TrelloAction[];
}

function makeOps(fake: Fake): TrelloOps {
  const st = () => fake.state;

  function modelFor(idModel: string): unknown {
    const s = st();
    const b = s.boards.get(idModel);
    if (b) return boardJson(s, b);
    const c = s.cards.get(idModel);
    if (c) return cardJson(s, c);
    const l = s.lists.get(idModel);
    if (l) return listJson(l);
    const m = s.members.get(idModel);
    if (m) return memberJson(m);
    return { id: idModel };
  }

  function record(as: TrelloMember, type: string, translationKey: string, data: Params, models: string[]): TrelloAction {
    const s = st();
    const action: TrelloAction = {
      id: objectId(),
      idMemberCreator: as.id,
      type,
      date: now(),
      data,
      display: { translationKey },
      memberCreator: {
        id: as.id,
        fullName: as.fullName,
        username: as.username,
        initials: as.initials,
        avatarHash: as.avatarHash,
        avatarUrl: `https://trello-members.s3.amazonaws.com/${as.id}/${as.avatarHash}`,
      },
      models: [...new Set([...models, as.id])],
    };
    s.actions.push(action);
    if (s.actions.length > 10000) s.actions.shift();
    const boardId = (data.board as { id?: string } | undefined)?.id;
    const board = boardId ? s.boards.get(boardId) : undefined;
    if (board) board.dateLastActivity = action.date;
    fanOut(st, s, action, actionJson(action), modelFor);
    return action;
  }

  function checkDate(v: unknown, field: string): string | null {
    if (v === null || v === '' || v === 'null') return null;
    const d = new Date(String(v));
    if (Number.isNaN(d.getTime())) fail(400, `invalid value for ${field}`);
    return d.toISOString();
  }
  function checkIds(s: TrelloState, ids: string[], field: string, exists: (id: string) => boolean): string[] {
    for (const id of ids) if (!isObjectId(id) || !exists(id)) fail(400, `invalid value for ${field}`);
    return [...new Set(ids)];
  }

  const ops: TrelloOps = {
    createBoard(as, input) {
      const s = st();
      const b: TrelloBoard = {
        id: objectId(),
        name: input.name,
        desc: input.desc ?? '',
        closed: false,
        shortLink: shortLink(),
        idMemberCreator: as.id,
        idMembers: [as.id],
        dateLastActivity: now(),
      };
      s.boards.set(b.id, b);
      for (const color of ['green', 'yellow', 'orange', 'red', 'purple', 'blue']) {
        const l: TrelloLabel = { id: objectId(), idBoard: b.id, name: '', color };
        s.labels.set(l.id, l);
      }
      record(as, 'createBoard', 'action_create_board', { board: boardRef(b) }, [b.id]);
      const names = input.lists ?? (input.defaultLists === false ? [] : ['To Do', 'Doing', 'Done']);
      for (const name of names) ops.createList(as, { idBoard: b.id, name, pos: 'bottom' });
      return b;
    },
    createList(as, input) {
      const s = st();
      const b = findBoard(s, input.idBoard);
      if (!input.name) fail(400, 'invalid value for name');
      const siblings = [...s.lists.values()].filter((l) => l.idBoard === b.id).map((l) => l.pos);
      const l: TrelloList = { id: objectId(), name: input.name, closed: false, pos: resolvePos(input.pos, siblings), idBoard: b.id };
      s.lists.set(l.id, l);
      record(as, 'createList', 'action_added_list_to_board', { board: boardRef(b), list: listRef(l) }, [b.id, l.id]);
      return l;
    },
    createLabel(as, input) {
      const s = st();
      const b = findBoard(s, input.idBoard);
      const l: TrelloLabel = { id: objectId(), idBoard: b.id, name: input.name, color: input.color };
      s.labels.set(l.id, l);
      record(as, 'createLabel', 'action_create_label', { board: boardRef(b), label: { id: l.id, name: l.name, color: l.color } }, [b.id]);
      return l;
    },
    createCard(as, p) {
      const s = st();
      const idList = str(p.idList);
      if (!idList || !isObjectId(idList) || !s.lists.has(idList)) fail(400, 'invalid value for idList');
      const list = s.lists.get(idList!)!;
      const board = s.boards.get(list.idBoard)!;
      const idLabels = checkIds(s, idArray(p.idLabels) ?? [], 'idLabels', (id) => s.labels.get(id)?.idBoard === board.id);
      const idMembers = checkIds(s, idArray(p.idMembers) ?? [], 'idMembers', (id) => s.members.has(id));
      const siblings = [...s.cards.values()].filter((c) => c.idList === list.id).map((c) => c.pos);
      const idShort = [...s.cards.values()].filter((c) => c.idBoard === board.id).length + 1;
      const card: TrelloCard = {
        id: objectId(),
        name: str(p.name) ?? '',
        desc: str(p.desc) ?? '',
        closed: false,
        idBoard: board.id,
        idList: list.id,
        idShort,
        shortLink: shortLink(),
        pos: resolvePos(p.pos, siblings),
        due: p.due !== undefined ? checkDate(p.due, 'due') : null,
        start: p.start !== undefined ? checkDate(p.start, 'start') : null,
        dueComplete: bool(p.dueComplete) ?? false,
        idLabels,
        idMembers,
        dateLastActivity: now(),
        comments: 0,
        idMemberCreator: as.id,
      };
      s.cards.set(card.id, card);
      record(as, 'createCard', 'action_create_card', { board: boardRef(board), list: listRef(list), card: cardRef(card) }, [
        board.id,
        list.id,
        card.id,
      ]);
      return card;
    },
    updateCard(as, card, p) {
      const s = st();
      const actions: TrelloAction[] = [];
      const board = () => s.boards.get(card.idBoard)!;
      const list = () => s.lists.get(card.idList)!;
      // Validate everything first, so a bad field changes nothing.
      let newList: TrelloList | undefined;
      const idList = str(p.idList);
      if (idList !== undefined && idList !== card.idList) {
        if (!isObjectId(idList) || !s.lists.has(idList)) fail(400, 'invalid value for idList');
        newList = s.lists.get(idList)!;
      }
      const targetBoard = newList?.idBoard ?? card.idBoard;
      const idLabels =
        p.idLabels !== undefined
          ? checkIds(s, idArray(p.idLabels) ?? [], 'idLabels', (id) => s.labels.get(id)?.idBoard === targetBoard)
          : undefined;
      const idMembers =
        p.idMembers !== undefined ? checkIds(s, idArray(p.idMembers) ?? [], 'idMembers', (id) => s.members.has(id)) : undefined;
      const due = p.due !== undefined ? checkDate(p.due, 'due') : undefined;
      const start = p.start !== undefined ? checkDate(p.start, 'start') : undefined;

      const simple = (field: 'name' | 'desc' | 'closed' | 'dueComplete' | 'due' | 'start' | 'pos', value: unknown, key: string) => {
        const old = card[field];
        if (value === undefined || value === old) return;
        (card as unknown as Params)[field] = value;
        card.dateLastActivity = now();
        actions.push(
          record(
            as,
            'updateCard',
            key,
            { board: boardRef(board()), list: listRef(list()), card: cardRef(card, { [field]: value }), old: { [field]: old } },
            [card.idBoard, card.idList, card.id],
          ),
        );
      };
      if (newList) {
        const before = list();
        const oldBoard = board();
        const siblings = [...s.cards.values()].filter((c) => c.idList === newList!.id).map((c) => c.pos);
        card.idList = newList.id;
        card.idBoard = newList.idBoard;
        if (p.pos === undefined) card.pos = resolvePos('bottom', siblings);
        card.dateLastActivity = now();
        actions.push(
          record(
            as,
            'updateCard',
            'action_move_card_from_list_to_list',
            {
              board: boardRef(board()),
              card: cardRef(card, { idList: newList.id }),
              old: { idList: before.id },
              listBefore: listRef(before),
              listAfter: listRef(newList),
            },
            [oldBoard.id, board().id, before.id, newList.id, card.id],
          ),
        );
      }
      const name = str(p.name);
      if (name !== undefined && name.trim() === '') fail(400, 'invalid value for name');
      simple('name', name, 'action_renamed_card');
      simple('desc', str(p.desc), 'action_changed_description_of_card');
      simple('due', due, due === null ? 'action_removed_a_due_date_from_card' : 'action_changed_a_due_date');
      simple('start', start, 'action_changed_a_start_date');
      simple('dueComplete', bool(p.dueComplete), 'action_marked_the_due_date_complete');
      if (p.pos !== undefined) {
        const siblings = [...s.cards.values()].filter((c) => c.idList === card.idList && c.id !== card.id).map((c) => c.pos);
        simple('pos', resolvePos(p.pos, siblings), 'action_moved_card_higher');
      }
      const closed = bool(p.closed);
      simple('closed', closed, closed ? 'action_archived_card' : 'action_sent_card_to_board');
      if (idMembers) {
        for (const id of idMembers.filter((x) => !card.idMembers.includes(x))) {
          const m = s.members.get(id)!;
          card.idMembers.push(id);
          actions.push(
            record(
              as,
              'addMemberToCard',
              'action_add_member_to_card',
              { board: boardRef(board()), list: listRef(list()), card: cardRef(card), idMember: id, member: { id, name: m.fullName } },
              [card.idBoard, card.idList, card.id, id],
            ),
          );
        }
        for (const id of card.idMembers.filter((x) => !idMembers.includes(x))) {
          const m = s.members.get(id);
          card.idMembers = card.idMembers.filter((x) => x !== id);
          actions.push(
            record(
              as,
              'removeMemberFromCard',
              'action_remove_member_from_card',
              {
                board: boardRef(board()),
                list: listRef(list()),
                card: cardRef(card),
                idMember: id,
                member: { id, name: m?.fullName ?? '' },
              },
              [card.idBoard, card.idList, card.id, id],
            ),
          );
        }
      }
      if (idLabels) {
        for (const id of idLabels.filter((x) => !card.idLabels.includes(x))) {
          const l = s.labels.get(id)!;
          card.idLabels.push(id);
          actions.push(
            record(
              as,
              'addLabelToCard',
              'action_add_label_to_card',
              { board: boardRef(board()), card: cardRef(card), label: { id, name: l.name, color: l.color }, text: l.name },
              [card.idBoard, card.idList, card.id],
            ),
          );
        }
        for (const id of card.idLabels.filter((x) => !idLabels.includes(x))) {
          const l = s.labels.get(id);
          card.idLabels = card.idLabels.filter((x) => x !== id);
          actions.push(
            record(
              as,
              'removeLabelFromCard',
              'action_remove_label_from_card',
              {
                board: boardRef(board()),
                card: cardRef(card),
                label: { id, name: l?.name ?? '', color: l?.color ?? null },
                text: l?.name ?? '',
              },
              [card.idBoard, card.idList, card.id],
            ),
          );
        }
      }
      return actions;
    },
    commentCard(as, card, textValue) {
      const s = st();
      if (!textValue) fail(400, 'invalid value for text');
      card.comments += 1;
      card.dateLastActivity = now();
      const b = s.boards.get(card.idBoard)!;
      const l = s.lists.get(card.idList)!;
      return record(
        as,
        'commentCard',
        'action_comment_on_card',
        { text: textValue, textData: { emoji: {} }, card: cardRef(card), board: boardRef(b), list: listRef(l) },
        [b.id, l.id, card.id],
      );
    },
    deleteCard(as, card) {
      const s = st();
      const b = s.boards.get(card.idBoard)!;
      const l = s.lists.get(card.idList)!;
      s.cards.delete(card.id);
      return record(
        as,
        'deleteCard',
        'action_delete_card',
        { board: boardRef(b), list: listRef(l), card: { id: card.id, idShort: card.idShort, shortLink: card.shortLink } },
        [b.id, l.id, card.id],
      );
    },
    updateList(as, list, p) {
      const s = st();
      const actions: TrelloAction[] = [];
      const b = s.boards.get(list.idBoard)!;
      const change = (field: 'name' | 'closed' | 'pos', value: unknown, key: string) => {
        const old = list[field];
        if (value === undefined || value === old) return;
        (list as unknown as Params)[field] = value;
        actions.push(
          record(as, 'updateList', key, { board: boardRef(b), list: { ...listRef(list), [field]: value }, old: { [field]: old } }, [
            b.id,
            list.id,
          ]),
        );
      };
      change('name', str(p.name), 'action_renamed_list');
      const closed = bool(p.closed);
      change('closed', closed, closed ? 'action_archived_list' : 'action_sent_list_to_board');
      if (p.pos !== undefined)
        change(
          'pos',
          resolvePos(
            p.pos,
            [...s.lists.values()].filter((x) => x.idBoard === b.id && x.id !== list.id).map((x) => x.pos),
          ),
          'action_moved_list_right',
        );
      return actions;
    },
  };
  return ops;
}

// ---------- auth and rate limit ----------

interface Caller {
  token: TrelloToken;
  member: TrelloMember;
  app: TrelloApp;
}

function credentials(req: Request): { key?: string; token?: string } {
  const p = params(req);
  let key = str(p.key);
  let token = str(p.token);
  const auth = String(req.headers.authorization ?? '');
  if (/^OAuth\s/i.test(auth)) {
    const fields = Object.fromEntries([...auth.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], decodeURIComponent(m[2] ?? '')]));
    key ??= fields.oauth_consumer_key;
    token ??= fields.oauth_token;
  }
  return { key, token };
}

function rateCount(st: TrelloState, bucket: string, max: number, intervalMs: number): { exceeded: boolean; remaining: number } {
  const t = Date.now();
  const list = (st.rate.get(bucket) ?? []).filter((x) => x > t - intervalMs);
  if (list.length >= max) {
    st.rate.set(bucket, list);
    return { exceeded: true, remaining: 0 };
  }
  list.push(t);
  st.rate.set(bucket, list);
  return { exceeded: false, remaining: max - list.length };
}

/** Checks key, token, write scope and rate limits; answers the error itself and returns undefined on failure. */
function authenticate(fake: Fake, req: Request, res: Response): Caller | undefined {
  const st = fake.state;
  const { key, token } = credentials(req);
  const app = key ? st.apps.get(key) : undefined;
  if (!app) {
    text(res, 401, 'invalid key');
    return undefined;
  }
  const tok = token ? st.tokens.get(token) : undefined;
  const expired = tok?.dateExpires ? Date.parse(tok.dateExpires) <= Date.now() : false;
  if (!tok || tok.revoked || expired || tok.key !== app.key) {
    text(res, 401, 'invalid token');
    return undefined;
  }
  if (fake.faults.takeAuthFault(req)) {
    text(res, 401, 'invalid token');
    return undefined;
  }
  const member = st.members.get(tok.idMember);
  if (!member) {
    text(res, 401, 'invalid token');
    return undefined;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD' && !tok.scope.includes('write')) {
    text(res, 401, 'unauthorized permission requested');
    return undefined;
  }
  const rl = st.settings.rateLimit;
  if (rl.enabled) {
    const k = rateCount(st, `key:${app.key}`, rl.keyMax, rl.intervalMs);
    const t = k.exceeded ? { exceeded: false, remaining: 0 } : rateCount(st, `token:${tok.token}`, rl.tokenMax, rl.intervalMs);
    res.setHeader('x-rate-limit-api-key-interval-ms', String(rl.intervalMs));
    res.setHeader('x-rate-limit-api-key-max', String(rl.keyMax));
    res.setHeader('x-rate-limit-api-key-remaining', String(k.remaining));
    res.setHeader('x-rate-limit-api-token-interval-ms', String(rl.intervalMs));
    res.setHeader('x-rate-limit-api-token-max', String(rl.tokenMax));
    res.setHeader('x-rate-limit-api-token-remaining', String(t.remaining));
    if (k.exceeded || t.exceeded) {
      res.status(429).json({ error: k.exceeded ? 'API_KEY_LIMIT_EXCEEDED' : 'API_TOKEN_LIMIT_EXCEEDED', message: 'Rate limit exceeded' });
      return undefined;
    }
  }
  return { token: tok, member, app };
}

type Handler = (req: Request, res: Response, caller: Caller) => unknown | Promise<unknown>;

// ---------- definition ----------

export interface TrelloFakeOptions {
  port?: number;
  host?: string;
  tls?: boolean;
}

export const trelloFake: FakeDefinition<TrelloState> = {
  name: 'trello',
  initialState: initialTrelloState,
  faultBody: (status) => {
    if (status === 429) return { error: 'API_TOKEN_LIMIT_EXCEEDED', message: 'Rate limit exceeded' };
    if (status === 401) return 'invalid token';
    if (status === 404) return 'The requested resource was not found.';
    if (status >= 500) return 'Internal Server Error';
    return 'Bad Request';
  },
  teardown: (fake) => {
    fake.state.stopped = true;
  },
  setup(app: Express, fake: Fake) {
    const ops = makeOps(fake);
    const st = () => fake.state;

    const api = (method: 'get' | 'post' | 'put' | 'delete', path: string, h: Handler) => {
      app[method](path, async (req: Request, res: Response) => {
        const caller = authenticate(fake, req, res);
        if (!caller) return;
        try {
          const out = await h(req, res, caller);
          if (!res.headersSent && out !== undefined) res.json(out);
        } catch (err) {
          if (err instanceof TrelloError) text(res, err.status, err.message);
          else throw err;
        }
      });
    };
    const pid = (req: Request, name = 'id') => String(req.params[name]);

    // --- members and tokens ---
    api('get', '/1/members/:id', (req, _res, c) => memberJson(findMember(st(), pid(req), c.member)));
    api('get', '/1/members/:id/boards', (req, _res, c) => {
      const m = findMember(st(), pid(req), c.member);
      return [...st().boards.values()].filter((b) => b.idMembers.includes(m.id)).map((b) => boardJson(st(), b));
    });
    const tokenParam = (req: Request, c: Caller): TrelloToken => {
      const t = st().tokens.get(pid(req, 'token'));
      if (!t || t.revoked) fail(400, 'invalid token');
      if (t!.token !== c.token.token) fail(401, 'unauthorized permission requested');
      return t!;
    };
    api('get', '/1/tokens/:token', (req, _res, c) => tokenJson(tokenParam(req, c)));
    api('get', '/1/tokens/:token/member', (req, _res, c) => memberJson(st().members.get(tokenParam(req, c).idMember)!));
    api('delete', '/1/tokens/:token', (req, _res, c) => {
      revokeToken(st(), tokenParam(req, c).token);
      return { _value: null };
    });

    // --- boards ---
    api('post', '/1/boards', (req, _res, c) => {
      const p = params(req);
      const name = str(p.name);
      if (!name) fail(400, 'invalid value for name');
      return boardJson(st(), ops.createBoard(c.member, { name: name!, desc: str(p.desc), defaultLists: bool(p.defaultLists) }));
    });
    api('get', '/1/boards/:id', (req) => {
      const b = findBoard(st(), pid(req));
      const p = params(req);
      const out: Params = boardJson(st(), b);
      if (p.lists && p.lists !== 'none') out.lists = boardLists(b, String(p.lists)).map(listJson);
      if (p.cards && p.cards !== 'none') out.cards = boardCards(b, String(p.cards)).map((x) => cardJson(st(), x));
      if (p.labels && p.labels !== 'none') out.labels = boardLabels(b).map((l) => labelJson(l, st()));
      return out;
    });
    const boardLists = (b: TrelloBoard, filter = 'open') =>
      [...st().lists.values()]
        .filter((l) => l.idBoard === b.id && (filter === 'all' || (filter === 'closed' ? l.closed : !l.closed)))
        .sort((x, y) => x.pos - y.pos);
    const boardCards = (b: TrelloBoard, filter = 'visible') =>
      [...st().cards.values()]
        .filter((x) => x.idBoard === b.id && (filter === 'all' || (filter === 'closed' ? x.closed : !x.closed)))
        .sort((x, y) => st().lists.get(x.idList)!.pos - st().lists.get(y.idList)!.pos || x.pos - y.pos);
    const boardLabels = (b: TrelloBoard) => [...st().labels.values()].filter((l) => l.idBoard === b.id);
    api('get', '/1/boards/:id/lists', (req) => {
      const b = findBoard(st(), pid(req));
      return boardLists(b, str(params(req).filter) ?? 'open').map(listJson);
    });
    api('get', '/1/boards/:id/lists/:filter', (req) => boardLists(findBoard(st(), pid(req)), pid(req, 'filter')).map(listJson));
    api('post', '/1/boards/:id/lists', (req, _res, c) => {
      const p = params(req);
      return listJson(ops.createList(c.member, { idBoard: findBoard(st(), pid(req)).id, name: str(p.name) ?? '', pos: p.pos }));
    });
    api('get', '/1/boards/:id/cards', (req) => boardCards(findBoard(st(), pid(req))).map((x) => cardJson(st(), x)));
    api('get', '/1/boards/:id/cards/:filter', (req) =>
      boardCards(findBoard(st(), pid(req)), pid(req, 'filter')).map((x) => cardJson(st(), x)),
    );
    api('get', '/1/boards/:id/labels', (req) => boardLabels(findBoard(st(), pid(req))).map((l) => labelJson(l, st())));
    api('post', '/1/boards/:id/labels', (req, _res, c) => {
      const p = params(req);
      const color = str(p.color);
      return labelJson(
        ops.createLabel(c.member, {
          idBoard: findBoard(st(), pid(req)).id,
          name: str(p.name) ?? '',
          color: color && color !== 'null' ? color : null,
        }),
        st(),
      );
    });
    api('get', '/1/boards/:id/members', (req) => findBoard(st(), pid(req)).idMembers.map((id) => memberJson(st().members.get(id)!)));
    api('get', '/1/boards/:id/actions', (req) => {
      const b = findBoard(st(), pid(req));
      return actionsFor(b.id, params(req));
    });
    const actionsFor = (idModel: string, p: Params) => {
      const filter = str(p.filter);
      const types = filter && filter !== 'all' ? filter.split(',') : undefined;
      const limit = Math.min(Number(p.limit ?? 50) || 50, 1000);
      return st()
        .actions.filter((a) => a.models.includes(idModel) && (!types || types.includes(a.type)))
        .slice()
        .reverse()
        .slice(0, limit)
        .map(actionJson);
    };

    // --- lists ---
    api('post', '/1/lists', (req, _res, c) => {
      const p = params(req);
      const idBoard = str(p.idBoard);
      if (!idBoard || !isObjectId(idBoard) || !st().boards.has(idBoard)) fail(400, 'invalid value for idBoard');
      return listJson(ops.createList(c.member, { idBoard: idBoard!, name: str(p.name) ?? '', pos: p.pos }));
    });
    api('get', '/1/lists/:id', (req) => listJson(findList(st(), pid(req))));
    api('put', '/1/lists/:id', (req, _res, c) => {
      const l = findList(st(), pid(req));
      ops.updateList(c.member, l, params(req));
      return listJson(l);
    });
    api('get', '/1/lists/:id/cards', (req) => {
      const l = findList(st(), pid(req));
      return [...st().cards.values()]
        .filter((x) => x.idList === l.id && !x.closed)
        .sort((x, y) => x.pos - y.pos)
        .map((x) => cardJson(st(), x));
    });
    api('get', '/1/lists/:id/actions', (req) => actionsFor(findList(st(), pid(req)).id, params(req)));

    // --- cards ---
    api('post', '/1/cards', (req, _res, c) => cardJson(st(), ops.createCard(c.member, params(req))));
    api('get', '/1/cards/:id', (req) => {
      const card = findCard(st(), pid(req));
      const p = params(req);
      const out: Params = cardJson(st(), card);
      if (p.list === 'true') out.list = listJson(st().lists.get(card.idList)!);
      if (p.board === 'true') out.board = boardJson(st(), st().boards.get(card.idBoard)!);
      if (p.members === 'true') out.members = card.idMembers.map((id) => memberJson(st().members.get(id)!));
      return out;
    });
    api('put', '/1/cards/:id', (req, _res, c) => {
      const card = findCard(st(), pid(req));
      ops.updateCard(c.member, card, params(req));
      return cardJson(st(), card);
    });
    api('delete', '/1/cards/:id', (req, _res, c) => {
      ops.deleteCard(c.member, findCard(st(), pid(req)));
      return { limits: {} };
    });
    api('post', '/1/cards/:id/actions/comments', (req, _res, c) =>
      actionJson(ops.commentCard(c.member, findCard(st(), pid(req)), str(params(req).text) ?? '')),
    );
    api('get', '/1/cards/:id/actions', (req) => actionsFor(findCard(st(), pid(req)).id, { filter: 'commentCard', ...params(req) }));
    api('get', '/1/cards/:id/list', (req) => listJson(st().lists.get(findCard(st(), pid(req)).idList)!));
    api('get', '/1/cards/:id/board', (req) => boardJson(st(), st().boards.get(findCard(st(), pid(req)).idBoard)!));
    api('post', '/1/cards/:id/idLabels', (req, _res, c) => {
      const card = findCard(st(), pid(req));
      const v = str(params(req).value) ?? '';
      ops.updateCard(c.member, card, { idLabels: [...card.idLabels, v] });
      return [...card.idLabels];
    });
    api('post', '/1/cards/:id/idMembers', (req, _res, c) => {
      const card = findCard(st(), pid(req));
      const v = str(params(req).value) ?? '';
      ops.updateCard(c.member, card, { idMembers: [...card.idMembers, v] });
      return card.idMembers.map((id) => memberJson(st().members.get(id)!));
    });

    // --- labels and actions ---
    api('post', '/1/labels', (req, _res, c) => {
      const p = params(req);
      const idBoard = str(p.idBoard);
      if (!idBoard || !st().boards.has(idBoard)) fail(400, 'invalid value for idBoard');
      const color = str(p.color);
      return labelJson(
        ops.createLabel(c.member, { idBoard: idBoard!, name: str(p.name) ?? '', color: color && color !== 'null' ? color : null }),
        st(),
      );
    });
    api('get', '/1/labels/:id', (req) => {
      if (!isObjectId(pid(req))) fail(400, 'invalid id');
      const l = st().labels.get(pid(req)) ?? fail(404, 'The requested resource was not found.');
      return labelJson(l, st());
    });
    api('get', '/1/actions/:id', (req) => {
      if (!isObjectId(pid(req))) fail(400, 'invalid id');
      const a = st().actions.find((x) => x.id === pid(req)) ?? fail(404, 'The requested resource was not found.');
      return actionJson(a);
    });

    // --- webhooks ---
    const modelExists = (id: string) => st().boards.has(id) || st().cards.has(id) || st().lists.has(id) || st().members.has(id);
    const createWebhook = async (c: Caller, p: Params) => {
      const s = st();
      const callbackURL = str(p.callbackURL);
      const idModel = str(p.idModel);
      if (!callbackURL || !/^https?:\/\//.test(callbackURL)) fail(400, 'invalid value for callbackURL');
      if (!idModel || !isObjectId(idModel) || !modelExists(idModel)) fail(400, 'invalid value for idModel');
      for (const w of s.webhooks.values()) {
        if (w.callbackURL === callbackURL && w.idModel === idModel && w.token === c.token.token)
          fail(400, 'A webhook with that callback, model, and token already exists');
      }
      if (s.settings.verifyCallbackOnCreate) await verifyCallback(callbackURL!);
      const w = {
        id: objectId(),
        description: str(p.description) ?? '',
        idModel: idModel!,
        callbackURL: callbackURL!,
        active: bool(p.active) ?? true,
        consecutiveFailures: 0,
        firstConsecutiveFailDate: null,
        token: c.token.token,
        key: c.app.key,
      };
      s.webhooks.set(w.id, w);
      return webhookJson(w);
    };
    const verifyCallback = async (url: string) => {
      const r = await headCheck(url, st().settings.deliveryTimeoutMs);
      if (!r.ok) fail(400, `URL (${url}) did not return 200 status code, got ${r.status ?? 'no response'}`);
    };
    const findWebhook = (id: string, c: Caller) => {
      if (!isObjectId(id)) fail(400, 'invalid id');
      const w = st().webhooks.get(id);
      if (!w || w.token !== c.token.token) fail(404, 'The requested resource was not found.');
      return w!;
    };
    const updateWebhook = async (req: Request, c: Caller, id: string) => {
      const w = findWebhook(id, c);
      const p = params(req);
      const cb = str(p.callbackURL);
      const idModel = str(p.idModel);
      if (idModel !== undefined && (!isObjectId(idModel) || !modelExists(idModel))) fail(400, 'invalid value for idModel');
      if (cb !== undefined && cb !== w.callbackURL) {
        if (!/^https?:\/\//.test(cb)) fail(400, 'invalid value for callbackURL');
        if (st().settings.verifyCallbackOnCreate) await verifyCallback(cb);
        w.callbackURL = cb;
      }
      if (idModel !== undefined) w.idModel = idModel;
      if (p.description !== undefined) w.description = String(p.description);
      const active = bool(p.active);
      if (active !== undefined) {
        w.active = active;
        if (active) {
          w.consecutiveFailures = 0;
          w.firstConsecutiveFailDate = null;
        }
      }
      return webhookJson(w);
    };
    api('post', '/1/webhooks', (req, _res, c) => createWebhook(c, params(req)));
    api('get', '/1/webhooks/:id', (req, _res, c) => webhookJson(findWebhook(pid(req), c)));
    api('put', '/1/webhooks/:id', (req, _res, c) => updateWebhook(req, c, pid(req)));
    api('delete', '/1/webhooks/:id', (req, _res, c) => {
      st().webhooks.delete(findWebhook(pid(req), c).id);
      return { _value: null };
    });
    api('get', '/1/tokens/:token/webhooks', (req, _res, c) => {
      const t = tokenParam(req, c);
      return [...st().webhooks.values()].filter((w) => w.token === t.token).map(webhookJson);
    });
    api('post', '/1/tokens/:token/webhooks', (req, _res, c) => {
      tokenParam(req, c);
      return createWebhook(c, params(req));
    });
    api('get', '/1/tokens/:token/webhooks/:wid', (req, _res, c) => {
      tokenParam(req, c);
      return webhookJson(findWebhook(pid(req, 'wid'), c));
    });
    api('put', '/1/tokens/:token/webhooks/:wid', (req, _res, c) => {
      tokenParam(req, c);
      return updateWebhook(req, c, pid(req, 'wid'));
    });
    api('delete', '/1/tokens/:token/webhooks/:wid', (req, _res, c) => {
      tokenParam(req, c);
      st().webhooks.delete(findWebhook(pid(req, 'wid'), c).id);
      return { _value: null };
    });

    // --- the authorize page (Trello's token flow, auto-approved) ---
    app.get('/1/authorize', (req, res) => {
      const s = st();
      const p = params(req);
      const key = str(p.key);
      if (!key || !s.apps.has(key)) return text(res, 401, 'invalid key');
      const returnUrl = str(p.return_url);
      const method = str(p.callback_method) ?? (returnUrl ? 'fragment' : 'postMessage');
      if (s.settings.denyAuthorize) {
        if (returnUrl && method === 'fragment') return res.redirect(302, `${returnUrl}#error=access_denied`);
        return res.status(200).type('html').send('<!doctype html><title>Trello</title><p>You denied access to your Trello account.</p>');
      }
      const member = memberByUsername(s, s.settings.authorizeAs) ?? [...s.members.values()][0]!;
      const scope = (str(p.scope) ?? 'read')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      const tok = addToken(s, { key, idMember: member.id, scope, expiration: str(p.expiration) ?? '30days' });
      if (returnUrl && method === 'fragment') return res.redirect(302, `${returnUrl}#token=${tok.token}`);
      return res
        .status(200)
        .type('html')
        .send(
          `<!doctype html><title>Trello</title><p>You have granted access to your Trello information.</p><p>To complete the process, please give this token:</p><pre id="token">${tok.token}</pre>`,
        );
    });

    setupControl(app, fake, ops);
  },
};

function revokeToken(st: TrelloState, token: string): string[] {
  const t = st.tokens.get(token);
  if (!t) return [];
  t.revoked = true;
  const deleted = [...st.webhooks.values()].filter((w) => w.token === token).map((w) => w.id);
  for (const id of deleted) st.webhooks.delete(id);
  return deleted;
}

// ---------- control API ----------

function setupControl(app: Express, fake: Fake, ops: TrelloOps): void {
  const st = () => fake.state;
  const P = '/__sandbox/trello';
  const ctl = (method: 'get' | 'post' | 'put' | 'delete', path: string, h: (req: Request, res: Response) => unknown) => {
    app[method](P + path, async (req: Request, res: Response) => {
      try {
        const out = await h(req, res);
        if (!res.headersSent) res.status(method === 'post' ? 201 : 200).json(out);
      } catch (err) {
        const status = err instanceof TrelloError ? err.status : 400;
        res.status(status).json({ error: { code: 'bad_request', message: (err as Error).message } });
      }
    });
  };
  const body = (req: Request): Params => (req.body && typeof req.body === 'object' ? (req.body as Params) : {});
  const person = (p: Params): TrelloMember => {
    const as = str(p.as) ?? str(p.username) ?? DEFAULT_MEMBER.username;
    return memberByUsername(st(), as) ?? st().members.get(as) ?? fail(404, `no member ${as}`);
  };

  ctl('get', '/state', () => {
    const s = st();
    return {
      apps: [...s.apps.values()],
      members: [...s.members.values()].map(memberJson),
      tokens: [...s.tokens.values()],
      boards: [...s.boards.values()].map((b) => ({
        ...boardJson(s, b),
        lists: [...s.lists.values()].filter((l) => l.idBoard === b.id).map(listJson),
      })),
      cards: [...s.cards.values()].map((c) => cardJson(s, c)),
      webhooks: [...s.webhooks.values()],
      settings: s.settings,
    };
  });
  ctl('post', '/apps', (req) => {
    const p = body(req);
    const a: TrelloApp = {
      key: str(p.key) ?? objectId() + objectId().slice(0, 8),
      secret: str(p.secret) ?? objectId() + objectId() + objectId().slice(0, 16),
      name: str(p.name) ?? 'app',
    };
    st().apps.set(a.key, a);
    return a;
  });
  ctl('post', '/members', (req) => {
    const p = body(req);
    const username = str(p.username);
    if (!username) fail(400, 'username is required');
    if (memberByUsername(st(), username!)) fail(409, `member ${username} exists`);
    return memberJson(addMember(st(), { username: username!, fullName: str(p.fullName), initials: str(p.initials) }));
  });
  ctl('post', '/tokens', (req) => {
    const p = body(req);
    const key = str(p.key) ?? DEFAULT_APP.key;
    if (!st().apps.has(key)) fail(404, `no app key ${key}`);
    const m = person({ as: p.username ?? p.idMember });
    const scope = p.scope === undefined ? undefined : Array.isArray(p.scope) ? p.scope.map(String) : String(p.scope).split(',');
    return addToken(st(), { key, idMember: m.id, token: str(p.token), scope, expiration: str(p.expiration) });
  });
  ctl('post', '/tokens/:token/revoke', (req) => {
    const t = st().tokens.get(String(req.params.token)) ?? fail(404, 'no such token');
    return { token: t.token, revoked: true, deletedWebhooks: revokeToken(st(), t.token) };
  });
  ctl('post', '/boards', (req) => {
    const p = body(req);
    const as = person(p);
    const extra = idArray(p.members) ?? [];
    const lists = Array.isArray(p.lists) ? p.lists.map(String) : undefined;
    const b = ops.createBoard(as, {
      name: str(p.name) ?? 'Sandbox board',
      desc: str(p.desc),
      lists,
      defaultLists: lists ? undefined : true,
    });
    for (const u of extra) {
      const m = person({ as: u });
      if (!b.idMembers.includes(m.id)) b.idMembers.push(m.id);
    }
    const s = st();
    return {
      board: boardJson(s, b),
      lists: [...s.lists.values()]
        .filter((l) => l.idBoard === b.id)
        .sort((x, y) => x.pos - y.pos)
        .map(listJson),
      labels: [...s.labels.values()].filter((l) => l.idBoard === b.id).map((l) => labelJson(l)),
    };
  });
  /** Resolve a list by id, or by name within `idBoard` (or the card's board). */
  const listOf = (p: Params, idBoard?: string): string | undefined => {
    const id = str(p.idList);
    if (id) return id;
    const name = str(p.listName);
    if (!name) return undefined;
    const board = str(p.idBoard) ?? idBoard;
    const l = [...st().lists.values()].find((x) => x.name === name && (!board || x.idBoard === board));
    return l?.id ?? fail(404, `no list named ${name}`);
  };
  ctl('post', '/cards', (req) => {
    const p = body(req);
    const card = ops.createCard(person(p), { ...p, idList: listOf(p) });
    return { card: cardJson(st(), card), action: actionJson(st().actions[st().actions.length - 1]!) };
  });
  ctl('post', '/cards/:id/move', (req) => {
    const p = body(req);
    const card = findCard(st(), String(req.params.id));
    const idList = listOf(p, card.idBoard) ?? fail(400, 'idList or listName is required');
    const actions = ops.updateCard(person(p), card, { idList, pos: p.pos });
    return { card: cardJson(st(), card), actions: actions.map(actionJson) };
  });
  ctl('post', '/cards/:id/comments', (req) => {
    const p = body(req);
    const action = ops.commentCard(person(p), findCard(st(), String(req.params.id)), str(p.text) ?? '');
    return { action: actionJson(action) };
  });
  ctl('post', '/cards/:id/archive', (req) => {
    const p = body(req);
    const card = findCard(st(), String(req.params.id));
    const actions = ops.updateCard(person(p), card, { closed: true });
    return { card: cardJson(st(), card), actions: actions.map(actionJson) };
  });
  ctl('put', '/cards/:id', (req) => {
    const p = body(req);
    const card = findCard(st(), String(req.params.id));
    const { as: _as, ...changes } = p;
    const actions = ops.updateCard(person(p), card, changes);
    return { card: cardJson(st(), card), actions: actions.map(actionJson) };
  });
  ctl('get', '/actions', (req) => {
    const idModel = str(req.query.idModel);
    const type = str(req.query.type);
    return {
      actions: st()
        .actions.filter((a) => (!idModel || a.models.includes(idModel)) && (!type || a.type === type))
        .map(actionJson),
    };
  });
  ctl('get', '/webhooks', () => ({ webhooks: [...st().webhooks.values()] }));
  ctl('get', '/deliveries', (req) => {
    const webhookId = str(req.query.webhookId);
    const actionType = str(req.query.actionType);
    return {
      pending: st().pending,
      deliveries: st().deliveries.filter((d) => (!webhookId || d.webhookId === webhookId) && (!actionType || d.actionType === actionType)),
    };
  });
  ctl('delete', '/deliveries', () => {
    st().deliveries = [];
    return { ok: true };
  });
  ctl('post', '/deliveries/drain', async (req) => {
    const timeoutMs = Number(body(req).timeoutMs ?? 30_000);
    const idle = await drain(st(), timeoutMs);
    return { idle, pending: st().pending, deliveries: st().deliveries };
  });
  ctl('get', '/settings', () => st().settings);
  ctl('put', '/settings', (req) => {
    const p = body(req);
    const s = st().settings;
    if (p.denyAuthorize !== undefined) s.denyAuthorize = p.denyAuthorize === true;
    if (p.authorizeAs !== undefined) {
      person({ as: p.authorizeAs });
      s.authorizeAs = String(p.authorizeAs);
    }
    if (p.rateLimit && typeof p.rateLimit === 'object') {
      const r = p.rateLimit as Params;
      for (const k of ['tokenMax', 'keyMax', 'intervalMs'] as const) if (r[k] !== undefined) s.rateLimit[k] = Math.max(1, Number(r[k]));
      if (r.enabled !== undefined) s.rateLimit.enabled = r.enabled === true;
      st().rate.clear();
    }
    if (Array.isArray(p.retryDelaysMs)) s.retryDelaysMs = p.retryDelaysMs.map((x) => Math.max(0, Number(x)));
    if (p.deliveryTimeoutMs !== undefined) s.deliveryTimeoutMs = Math.max(1, Number(p.deliveryTimeoutMs));
    if (p.verifyCallbackOnCreate !== undefined) s.verifyCallbackOnCreate = p.verifyCallbackOnCreate === true;
    if (p.disableAfterFailures !== undefined) s.disableAfterFailures = Math.max(1, Number(p.disableAfterFailures));
    return s;
  });
}

export async function startTrelloFake(opts: TrelloFakeOptions = {}): Promise<RunningFake<TrelloState>> {
  const def: FakeDefinition<TrelloState> = opts.tls ? { ...trelloFake, tls: true } : trelloFake;
  return startFake(def, { port: opts.port, host: opts.host });
}
