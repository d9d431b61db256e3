import crypto from 'node:crypto';

/** In-memory model of the Trello fake. Shapes follow Trello's REST objects (and pass trello.js's Zod schemas). */

export interface TrelloApp {
  key: string;
  secret: string;
  name: string;
}
export interface TrelloMember {
  id: string;
  username: string;
  fullName: string;
  initials: string;
  avatarHash: string;
}
export interface TrelloToken {
  token: string;
  id: string;
  key: string;
  idMember: string;
  scope: string[];
  dateCreated: string;
  dateExpires: string | null;
  revoked: boolean;
}
export interface TrelloBoard {
  id: string;
  name: string;
  desc: string;
  closed: boolean;
  shortLink: string;
  idMemberCreator: string;
  idMembers: string[];
  dateLastActivity: string;
}
export interface TrelloList {
  id: string;
  name: string;
  closed: boolean;
  pos: number;
  idBoard: string;
}
export interface TrelloLabel {
  id: string;
  idBoard: string;
  name: string;
  color: string | null;
}
export interface TrelloCard {
  id: string;
  name: string;
  desc: string;
  closed: boolean;
  idBoard: string;
  idList: string;
  idShort: number;
  shortLink: string;
  pos: number;
  due: string | null;
  dueComplete: boolean;
  start: string | null;
  idLabels: string[];
  idMembers: string[];
  dateLastActivity: string;
  comments: number;
  idMemberCreator: string;
}
export interface TrelloAction {
  id: string;
  idMemberCreator: string;
  type: string;
  date: string;
  data: Record<string, unknown>;
  display: { translationKey: string };
  memberCreator: { id: string; fullName: string; username: string; initials: string; avatarHash: string; avatarUrl: string };
  /** Ids of the models this action concerns (board, lists, card), for webhook fan-out and filtering. */
  models: string[];
}
export interface TrelloWebhook {
  id: string;
  description: string;
  idModel: string;
  callbackURL: string;
  active: boolean;
  consecutiveFailures: number;
  firstConsecutiveFailDate: string | null;
  /** Token and key it was created with (the key's secret signs deliveries). */
  token: string;
  key: string;
}
export interface DeliveryAttempt {
  at: string;
  status?: number;
  error?: string;
  durationMs: number;
}
export interface TrelloDelivery {
  id: number;
  webhookId: string;
  callbackURL: string;
  actionId: string;
  actionType: string;
  idModel: string;
  boardId: string;
  body: string;
  signature: string;
  attempts: DeliveryAttempt[];
  status: 'pending' | 'delivered' | 'failed' | 'webhook_deleted';
}
export interface TrelloSettings {
  /** GET /1/authorize denies instead of approving. */
  denyAuthorize: boolean;
  /** Username who approves on GET /1/authorize. */
  authorizeAs: string;
  rateLimit: { tokenMax: number; keyMax: number; intervalMs: number; enabled: boolean };
  /** Waits between delivery attempts; attempts = retryDelaysMs.length + 1. */
  retryDelaysMs: number[];
  deliveryTimeoutMs: number;
  /** Send the HEAD check when a webhook is created or its callbackURL changed. */
  verifyCallbackOnCreate: boolean;
  /** A webhook whose consecutiveFailures reaches this is set inactive. */
  disableAfterFailures: number;
}

export interface TrelloState {
  apps: Map<string, TrelloApp>;
  members: Map<string, TrelloMember>;
  tokens: Map<string, TrelloToken>;
  boards: Map<string, TrelloBoard>;
  lists: Map<string, TrelloList>;
  labels: Map<string, TrelloLabel>;
  cards: Map<string, TrelloCard>;
  actions: TrelloAction[];
  webhooks: Map<string, TrelloWebhook>;
  deliveries: TrelloDelivery[];
  settings: TrelloSettings;
  /** Request timestamps per `token:<t>` / `key:<k>` for the rate limiter. */
  rate: Map<string, number[]>;
  /** Per-board delivery chains, so deliveries for one board go out in order. */
  chains: Map<string, Promise<void>>;
  pending: number;
  nextDeliveryId: number;
  stopped: boolean;
}

export const DEFAULT_APP: TrelloApp = { key: 'sandbox-trello-key', secret: 'sandbox-trello-secret', name: 'dingbridge sandbox' };
export const DEFAULT_TOKEN = 'sandbox-trello-token';
export const DEFAULT_MEMBER = { username: 'demo', fullName: 'Demo User', initials: 'DU' };

let counter = crypto.randomInt(0, 0xffffff);
/** A 24-hex-character id like Trello's (a MongoDB ObjectId: seconds, random, counter). */
export function objectId(): string {
  counter = (counter + 1) % 0xffffff;
  const ts = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0');
  return ts + crypto.randomBytes(5).toString('hex') + counter.toString(16).padStart(6, '0');
}
export const isObjectId = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-f]{24}$/i.test(s);

const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export function shortLink(): string {
  return Array.from(crypto.randomBytes(8), (b) => B62[b % 62]).join('');
}
export function newTokenValue(): string {
  return 'ATTA' + crypto.randomBytes(32).toString('hex');
}
export function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60);
}
export const now = () => new Date().toISOString();

export function defaultSettings(): TrelloSettings {
  return {
    denyAuthorize: false,
    authorizeAs: DEFAULT_MEMBER.username,
    rateLimit: { tokenMax: 100, keyMax: 300, intervalMs: 10_000, enabled: true },
    retryDelaysMs: [500, 2000, 5000],
    deliveryTimeoutMs: 5000,
    verifyCallbackOnCreate: true,
    disableAfterFailures: 1000,
  };
}

export function addMember(st: TrelloState, m: { username: string; fullName?: string; initials?: string; id?: string }): TrelloMember {
  const fullName = m.fullName ?? m.username;
  const member: TrelloMember = {
    id: m.id ?? objectId(),
    username: m.username,
    fullName,
    initials:
      m.initials ??
      fullName
        .split(/\s+/)
        .map((w) => w[0] ?? '')
        .join('')
        .toUpperCase()
        .slice(0, 3),
    avatarHash: crypto.createHash('md5').update(m.username).digest('hex'),
  };
  st.members.set(member.id, member);
  return member;
}

export function addToken(
  st: TrelloState,
  t: { key: string; idMember: string; token?: string; scope?: string[]; expiration?: string },
): TrelloToken {
  const created = Date.now();
  const ttl: Record<string, number> = { '1hour': 3600e3, '1day': 86400e3, '30days': 30 * 86400e3 };
  const exp = t.expiration && ttl[t.expiration] ? new Date(created + ttl[t.expiration]).toISOString() : null;
  const tok: TrelloToken = {
    token: t.token ?? newTokenValue(),
    id: objectId(),
    key: t.key,
    idMember: t.idMember,
    scope: t.scope ?? ['read', 'write', 'account'],
    dateCreated: new Date(created).toISOString(),
    dateExpires: exp,
    revoked: false,
  };
  st.tokens.set(tok.token, tok);
  return tok;
}

export function initialTrelloState(): TrelloState {
  const st: TrelloState = {
    apps: new Map([[DEFAULT_APP.key, { ...DEFAULT_APP }]]),
    members: new Map(),
    tokens: new Map(),
    boards: new Map(),
    lists: new Map(),
    labels: new Map(),
    cards: new Map(),
    actions: [],
    webhooks: new Map(),
    deliveries: [],
    settings: defaultSettings(),
    rate: new Map(),
    chains: new Map(),
    pending: 0,
    nextDeliveryId: 1,
    stopped: false,
  };
  const me = addMember(st, DEFAULT_MEMBER);
  addToken(st, { key: DEFAULT_APP.key, idMember: me.id, token: DEFAULT_TOKEN });
  return st;
}

export function memberByUsername(st: TrelloState, username: string): TrelloMember | undefined {
  for (const m of st.members.values()) if (m.username === username) return m;
  return undefined;
}

// ---- serializers: the JSON Trello answers with ----

export function memberJson(m: TrelloMember) {
  return {
    id: m.id,
    username: m.username,
    fullName: m.fullName,
    initials: m.initials,
    avatarHash: m.avatarHash,
    avatarUrl: `https://trello-members.s3.amazonaws.com/${m.id}/${m.avatarHash}`,
    url: `https://trello.com/${m.username}`,
    confirmed: true,
    memberType: 'normal' as const,
    bio: '',
    activityBlocked: false,
    idOrganizations: [] as string[],
  };
}

export function boardJson(st: TrelloState, b: TrelloBoard) {
  return {
    id: b.id,
    name: b.name,
    desc: b.desc,
    descData: null,
    closed: b.closed,
    idMemberCreator: b.idMemberCreator,
    idOrganization: undefined,
    pinned: false,
    url: `https://trello.com/b/${b.shortLink}/${slug(b.name)}`,
    shortUrl: `https://trello.com/b/${b.shortLink}`,
    shortLink: b.shortLink,
    prefs: {
      permissionLevel: 'private',
      voting: 'disabled',
      comments: 'members',
      selfJoin: true,
      cardCovers: true,
      background: 'blue',
      backgroundColor: '#0079BF',
    },
    labelNames: Object.fromEntries([...st.labels.values()].filter((l) => l.idBoard === b.id && l.color).map((l) => [l.color, l.name])),
    dateLastActivity: b.dateLastActivity,
    memberships: b.idMembers.map((idMember) => ({
      id: objectId(),
      idMember,
      memberType: idMember === b.idMemberCreator ? 'admin' : 'normal',
      unconfirmed: false,
      deactivated: false,
    })),
    subscribed: false,
  };
}

export function listJson(l: TrelloList) {
  return { id: l.id, name: l.name, closed: l.closed, pos: l.pos, idBoard: l.idBoard, subscribed: false, softLimit: null, color: null };
}

export function labelJson(l: TrelloLabel, st?: TrelloState) {
  const uses = st ? [...st.cards.values()].filter((c) => c.idLabels.includes(l.id)).length : 0;
  return { id: l.id, idBoard: l.idBoard, name: l.name, color: l.color, uses };
}

export function cardJson(st: TrelloState, c: TrelloCard) {
  const labels = c.idLabels
    .map((id) => st.labels.get(id))
    .filter((l): l is TrelloLabel => !!l)
    .map((l) => labelJson(l));
  return {
    id: c.id,
    badges: {
      attachmentsByType: { trello: { board: 0, card: 0 } },
      location: false,
      votes: 0,
      viewingMemberVoted: false,
      subscribed: false,
      fogbugz: '',
      checkItems: 0,
      checkItemsChecked: 0,
      checkItemsEarliestDue: null,
      comments: c.comments,
      attachments: 0,
      description: c.desc.length > 0,
      due: c.due,
      dueComplete: c.dueComplete,
      start: c.start,
    },
    checkItemStates: [],
    closed: c.closed,
    dueComplete: c.dueComplete,
    dateLastActivity: c.dateLastActivity,
    desc: c.desc,
    descData: { emoji: {} },
    due: c.due,
    dueReminder: null,
    email: null,
    idBoard: c.idBoard,
    idChecklists: [],
    idList: c.idList,
    idMembers: [...c.idMembers],
    idMembersVoted: [],
    idShort: c.idShort,
    idAttachmentCover: null,
    labels,
    idLabels: [...c.idLabels],
    manualCoverAttachment: false,
    name: c.name,
    pos: c.pos,
    shortLink: c.shortLink,
    shortUrl: `https://trello.com/c/${c.shortLink}`,
    start: c.start,
    subscribed: false,
    url: `https://trello.com/c/${c.shortLink}/${c.idShort}-${slug(c.name)}`,
    cover: { idAttachment: null, color: null, idUploadedBackground: null, size: 'normal', brightness: 'dark', isTemplate: false },
    isTemplate: false,
    cardRole: null,
    idMemberCreator: c.idMemberCreator,
  };
}

export function webhookJson(w: TrelloWebhook) {
  return {
    id: w.id,
    description: w.description,
    idModel: w.idModel,
    callbackURL: w.callbackURL,
    active: w.active,
    consecutiveFailures: w.consecutiveFailures,
    firstConsecutiveFailDate: w.firstConsecutiveFailDate,
  };
}

export function tokenJson(t: TrelloToken) {
  const write = t.scope.includes('write');
  return {
    id: t.id,
    identifier: 'dingbridge sandbox',
    idMember: t.idMember,
    dateCreated: t.dateCreated,
    dateExpires: t.dateExpires,
    permissions: [
      { idModel: '*', modelType: 'Board', read: true, write },
      { idModel: '*', modelType: 'Organization', read: true, write },
      { idModel: t.idMember, modelType: 'Member', read: true, write },
    ],
  };
}

export function actionJson(a: TrelloAction) {
  const { models: _models, ...rest } = a;
  return rest;
}

/** Position for a new list or card: 'top', 'bottom' or a number, among siblings' positions. */
export function resolvePos(pos: unknown, siblings: number[]): number {
  const max = siblings.length ? Math.max(...siblings) : 0;
  const min = siblings.length ? Math.min(...siblings) : 65536;
  if (pos === 'top') return siblings.length ? min / 2 : 65535;
  if (pos !== undefined && pos !== null && pos !== '' && pos !== 'bottom' && Number.isFinite(Number(pos))) return Number(pos);
  return siblings.length ? max + 65536 : 65535;
}
