import crypto from 'node:crypto';
import type { OAuth2State } from '../oauth2/index.ts';

/** Everything the Google fake holds besides the OAuth 2 server's own state. */

export interface DirectoryUser {
  id: string;
  primaryEmail: string;
  givenName: string;
  familyName: string;
  isAdmin: boolean;
  suspended: boolean;
  orgUnitPath: string;
  creationTime: string;
  /** Admin SDK user fields (as the Admin console sets them): `{value, type: 'mobile'|'work'…}`, `{title, department, primary}`, `{value: <manager email>, type: 'manager'}`. */
  phones?: { value: string; type: string; primary?: boolean }[];
  organizations?: { title?: string; department?: string; primary?: boolean }[];
  relations?: { value: string; type: string }[];
}
export interface Group {
  id: string;
  email: string;
  name: string;
  description: string;
  members: { email: string; role: 'OWNER' | 'MANAGER' | 'MEMBER'; type: 'USER' | 'GROUP' }[];
}

export interface Calendar {
  id: string;
  owner: string;
  summary: string;
  description?: string;
  timeZone: string;
  primary: boolean;
  /** Other users who see the calendar in their calendarList (writer access). */
  sharedWith: string[];
  /** Bumped by the control API: every sync token issued before is stale (410). */
  syncEpoch: number;
  /** Sync tokens issued before this change sequence are stale (the fake's "tombstone retention"). */
  oldestSyncSeq: number;
  etagSeq: number;
}
export type Json = Record<string, unknown>;
export interface EventRecord {
  calendarId: string;
  /** The event resource as stored (id, status, summary, start, end, recurrence, recurringEventId, originalStartTime, ...). */
  data: Json;
  /** Change sequence of the last write (sync tokens compare against it). */
  seq: number;
  /** Insertion order, for stable paging. */
  order: number;
}

export interface Channel {
  id: string;
  resourceId: string;
  resourceUri: string;
  token?: string;
  address: string;
  expiration: number;
  kind: 'calendar' | 'drive';
  /** calendar id, or the drive changes scope ('user:<email>' or 'drive:<driveId>'). */
  target: string;
  owner: string;
  messageNumber: number;
  stopped: boolean;
  /** Deliveries a stopped channel still makes (Google: "may still deliver for a while"). */
  deliveriesAfterStop: number;
  /** Deliveries are sent one after another per channel. */
  queue: Promise<void>;
}
export interface Delivery {
  seq: number;
  at: string;
  channelId: string;
  resourceId: string;
  resourceState: string;
  messageNumber: number;
  address: string;
  kind: 'calendar' | 'drive' | 'pubsub';
  status?: number;
  error?: string;
  body?: unknown;
  attempts?: number;
}

export interface DriveFile {
  id: string;
  name: string;
  mimeType: string;
  parents: string[];
  driveId?: string;
  owner: string;
  trashed: boolean;
  createdTime: string;
  modifiedTime: string;
  content?: Buffer;
  version: number;
  description?: string;
  appProperties?: Record<string, string>;
  properties?: Record<string, string>;
  permissions: { id: string; type: string; role: string; emailAddress?: string; domain?: string; displayName?: string }[];
  /** Creation order, for stable paging. */
  order?: number;
}
export interface SharedDrive {
  id: string;
  name: string;
  createdTime: string;
  members: string[];
}
export interface Change {
  seq: number;
  fileId: string;
  driveId?: string;
  time: string;
  removed: boolean;
  users: string[];
}
export interface UploadSession {
  id: string;
  owner: string;
  metadata: Json;
  fileId?: string;
  query: Record<string, string>;
  mimeType: string;
  total: number | null;
  received: Buffer[];
  receivedBytes: number;
  done?: Json;
  createdAt: number;
}

export interface MailMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  raw: Buffer;
  internalDate: number;
  historyId: number;
  headers: { name: string; value: string }[];
  snippet: string;
  bodyText: string;
}
export interface Mailbox {
  email: string;
  messages: MailMessage[];
  historyId: number;
  history: { id: number; messageId: string; threadId: string; labelIds: string[]; type: 'messageAdded' | 'messageDeleted' }[];
  /** History records older than this id are gone: history.list answers 404. */
  oldestHistoryId: number;
  watch?: { topicName: string; labelIds: string[]; labelFilterBehavior: string; expiration: number };
}

export interface GoogleSettings {
  /** App in "Testing" publishing status: refresh tokens expire 7 days after issue. */
  testingApp: boolean;
  /** Per-user request quota (all APIs) per window; exceeding it answers `rateLimitStatus` with `userRateLimitExceeded`. */
  userQuota: number | null;
  quotaWindowMs: number;
  rateLimitStatus: 403 | 429;
  /** Channels must have an https address (Google's rule); off by default so tests can use http://127.0.0.1. */
  requireHttpsAddress: boolean;
  /** How many deliveries a stopped channel still makes. */
  deliveriesAfterStop: number;
  /** Retries of a push answered 5xx or not answered, after deliveryRetryBaseMs, then doubling. */
  deliveryRetries: number;
  deliveryRetryBaseMs: number;
}

export interface GoogleData {
  domain: string;
  customerId: string;
  users: Map<string, DirectoryUser>;
  groups: Map<string, Group>;
  calendars: Map<string, Calendar>;
  events: Map<string, EventRecord>;
  channels: Map<string, Channel>;
  deliveries: Delivery[];
  files: Map<string, DriveFile>;
  drives: Map<string, SharedDrive>;
  changes: Change[];
  uploads: Map<string, UploadSession>;
  /** Upload PUTs that keep part of the chunk then lose the connection. */
  partialDrops: { afterBytes: number; remaining: number }[];
  mailboxes: Map<string, Mailbox>;
  /** Pub/Sub topic → push endpoint, for Gmail watch notifications. */
  pushSubscriptions: Map<string, { topic: string; pushEndpoint: string; name: string }>;
  /** Scopes granted per `${clientId} ${sub}` (include_granted_scopes unions with them). */
  grants: Map<string, Set<string>>;
  /** `${clientId} ${sub}` pairs that already hold an offline grant: a refresh token comes again only with prompt=consent. */
  offlineGrants: Set<string>;
  /** Requests per user in the current quota window. */
  quota: Map<string, { windowStart: number; count: number }>;
  settings: GoogleSettings;
  seq: number;
  order: number;
  changeSeq: number;
  deliverySeq: number;
  /** Milliseconds added to the wall clock (POST /__sandbox/google/clock). */
  clockOffsetMs: number;
}

export type GoogleState = OAuth2State & { google: GoogleData };

export const DEFAULT_GOOGLE_SETTINGS: GoogleSettings = {
  testingApp: false,
  userQuota: null,
  quotaWindowMs: 60_000,
  rateLimitStatus: 403,
  requireHttpsAddress: false,
  deliveriesAfterStop: 1,
  deliveryRetries: 3,
  deliveryRetryBaseMs: 1000,
};

export const newId = (bytes = 12) => crypto.randomBytes(bytes).toString('hex');
/** Drive-style ids: 33 characters of [A-Za-z0-9_-]. */
export const driveId = () => '1' + crypto.randomBytes(24).toString('base64url').slice(0, 32);

export function freshGoogleData(): GoogleData {
  const g: GoogleData = {
    domain: 'example.com',
    customerId: 'C0sandbox1',
    users: new Map(),
    groups: new Map(),
    calendars: new Map(),
    events: new Map(),
    channels: new Map(),
    deliveries: [],
    files: new Map(),
    drives: new Map(),
    changes: [],
    uploads: new Map(),
    partialDrops: [],
    mailboxes: new Map(),
    pushSubscriptions: new Map(),
    grants: new Map(),
    offlineGrants: new Set(),
    quota: new Map(),
    settings: { ...DEFAULT_GOOGLE_SETTINGS },
    seq: 0,
    order: 0,
    changeSeq: 0,
    deliverySeq: 0,
    clockOffsetMs: 0,
  };
  addUser(g, { primaryEmail: 'demo@example.com', givenName: 'Demo', familyName: 'User', isAdmin: true, id: 'sandbox-user-1' });
  addUser(g, { primaryEmail: 'alice@example.com', givenName: 'Alice', familyName: 'Chan', isAdmin: false });
  addUser(g, { primaryEmail: 'bob@example.com', givenName: 'Bob', familyName: 'Lee', isAdmin: false });
  g.groups.set('grp-sales', {
    id: 'grp-sales',
    email: 'sales@example.com',
    name: 'Sales',
    description: 'Sales team',
    members: [
      { email: 'alice@example.com', role: 'OWNER', type: 'USER' },
      { email: 'bob@example.com', role: 'MEMBER', type: 'USER' },
    ],
  });
  return g;
}

export function addUser(g: GoogleData, u: Partial<DirectoryUser> & { primaryEmail: string }): DirectoryUser {
  const user: DirectoryUser = {
    id: u.id ?? String(100000000000000000000n + BigInt(g.users.size + 1) * 7919n),
    primaryEmail: u.primaryEmail.toLowerCase(),
    givenName: u.givenName ?? u.primaryEmail.split('@')[0]!,
    familyName: u.familyName ?? '',
    isAdmin: u.isAdmin ?? false,
    suspended: u.suspended ?? false,
    orgUnitPath: u.orgUnitPath ?? '/',
    creationTime: u.creationTime ?? '2024-01-15T08:00:00.000Z',
    ...(u.phones ? { phones: u.phones } : {}),
    ...(u.organizations ? { organizations: u.organizations } : {}),
    ...(u.relations ? { relations: u.relations } : {}),
  };
  g.users.set(user.primaryEmail, user);
  return user;
}

export const now = (g: GoogleData) => Date.now() + g.clockOffsetMs;
