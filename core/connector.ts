import type { z } from 'zod';
import type { Logger } from './logger.ts';

import type { ConnectorAuth } from './auth-kinds.ts';
import type { ConnectorTranslations } from './connector-i18n.ts';
import type { FileAccess } from './files/store.ts';
import type { Person } from './people/store.ts';
import type { ProviderClient, ProviderClientOptions } from './http/provider-client.ts';

export { fileRef, type FileRef, type FileAccess } from './files/store.ts';

export type { AuthKind, ConnectorAuth } from './auth-kinds.ts';
import type { CalendarSideFactory } from './calendar-sync/types.ts';

/**
 * A connection as an action sees it: its settings, its secrets, and an access token kept fresh by the
 * vault (refreshed ahead of expiry, single-flight across processes).
 */
export interface ConnectionHandle {
  id: string;
  connectorId: string;
  settings: Record<string, unknown>;
  secrets(): Promise<Record<string, string>>;
  /** A valid access token (oauth2, app_credentials). Throws a needs-reauth StepError when there is none. */
  accessToken(): Promise<string>;
  /** The provider rejected this token as expired: refresh once (unless another caller already did) and return the new one. */
  tokenRejected(staleToken: string): Promise<string>;
  /** True when the connector's declared expiry signals say this answer means "token expired". */
  isExpiredAnswer(status: number, body: unknown): boolean;
  /**
   * Calls `call` with a fresh token; when the answer is the provider's expiry signal, refreshes once
   * and calls once more. `call` returns the status and parsed body it got.
   */
  withToken<T extends { status: number; body: unknown }>(call: (token: string) => Promise<T>): Promise<T>;
  /**
   * Tokens this connection obtains on behalf of a subject (a service account acting as each person),
   * sealed in the vault with their expiry and shared by every process. Expired ones are not returned.
   */
  delegatedTokens?: {
    get(subject: string): Promise<{ token: string; expiresAt: number } | undefined>;
    put(subject: string, token: string, expiresAt: number): Promise<void>;
  };
}

/** What a step's action is given besides its input. */
export interface ActionContext {
  /** Stable across every attempt of this step: event id + flow id + step index. Send it as the idempotency key. */
  idempotencyKey: string;
  attempt: number;
  log: Logger;
  /** Milliseconds an outbound call may take. */
  timeoutMs: number;
  /**
   * Aborted when the attempt runs past DINGBRIDGE_STEP_TIMEOUT_MS (the step has then failed with a
   * retryable timeout error already): long work should stop at it. Set by the pipeline.
   */
  signal?: AbortSignal;
  /** Records what was sent and received (redacted) on the attempt. */
  trace: (entry: { request?: unknown; response?: unknown }) => void;
  /** The connection the flow step names (`connection:`), when it names one. */
  connection?: ConnectionHandle;
  /** The provider HTTP client (core/http/provider-client.ts) with this step's timeout and trace filled in. Set by the pipeline. */
  http?: (opts: ProviderClientOptions) => ProviderClient;
  /** Files between steps: `put(stream, {name, contentType}) → FileRef`, `open(ref) → stream`. Set by the pipeline. */
  files?: FileAccess;
  /**
   * The people directory (core/people): find the person behind an email, mobile or another service's
   * identity, and remember their identity in this service (e.g. a QuickBooks vendor id). Set by the pipeline.
   */
  people?: PeopleAccess;
  /** Marks a change as the hub's own (e.g. `trello.card:<id>:created`), so its echo from the provider is dropped. */
  ownChange?: (key: string, opts?: { once?: boolean }) => Promise<void>;
}

/** What an action may do with the people directory. */
export interface PeopleAccess {
  byEmail(email: string): Promise<Person | undefined>;
  byMobile(mobile: string): Promise<Person | undefined>;
  byIdentity(service: string, kind: string, value: string): Promise<Person | undefined>;
  /** Sets (or with null removes) identities of a person; an identity another person holds is refused. */
  setIdentities(personId: string, identities: Record<string, Record<string, string | null>>): Promise<void>;
}

export interface ActionDefinition<Schema extends z.ZodType = z.ZodType, Output = unknown> {
  /** Globally unique: `<connector>.<verb>`, e.g. `http.post`. */
  id: string;
  title: string;
  description?: string;
  input: Schema;
  /** Input keys whose values are secrets: never stored with the attempt, never logged. */
  secretInputs?: string[];
  /** The output's schema: the flow editor's field picker and the OpenAPI document show it. */
  output?: z.ZodType<Output>;
  /**
   * Whether a step must name a connection (`connection:`), checked when a flow is saved: true, or the
   * connector ids its connection may be of. Default: the connector has credentials (auth kind not `none`).
   */
  needsConnection?: boolean | string[];
  run: (ctx: ActionContext, input: z.output<Schema>) => Promise<Output>;
  /** What the action made or changed, for the link table (a step's `link:` links it to another thing). */
  outputRef?: (output: Output) => { kind: string; id: string } | undefined;
  /** An example output for the UI (may leave fields out). */
  sampleOutput?: Output extends object ? Partial<Output> : Output;
  /**
   * Rate pacing (e.g. DingTalk's 20 messages a minute per robot): steps with the same key run one at a
   * time, oldest first, at most `limit` per sliding `intervalMs` (core/pipeline/pacing.ts). A step that
   * must wait is rescheduled without counting an attempt. Undefined: not paced.
   */
  pace?: (input: z.output<Schema>, connection: ConnectionHandle | undefined) => StepPace | undefined;
}

/**
 * `limit` per sliding `intervalMs` (rate), and at most `concurrency` running at once (default 1: one at
 * a time, in order), e.g. QuickBooks' 10 concurrent requests per company: `{ key, concurrency: 10, limit: 500, intervalMs: 60_000 }`.
 */
export interface StepPace {
  key: string;
  limit?: number;
  intervalMs?: number;
  concurrency?: number;
}

/** An inbound provider request, as the hub received it (the raw body is kept for signature checks). */
export interface WebhookRequest {
  method: string;
  /** The URL the provider called, built from PUBLIC_URL (what the provider signs, e.g. Trello). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, string>;
  rawBody: Buffer;
  /**
   * Records `key` for `windowMs` (in PostgreSQL, across processes): `fresh` the first time, else the
   * `ref` the first use left. For signatures that do not cover the body, so each is accepted once.
   */
  acceptOnce(key: string, windowMs: number, ref?: string): Promise<{ fresh: boolean; ref: string | null }>;
}

/** An event a trigger hands to the hub; the id is derived from the provider's own id by the hub. */
export interface TriggeredEvent {
  /** The provider's own id for this thing (an action id, an approval event id); repeats map to one HubEvent. */
  providerId: string;
  type: string;
  occurredAt?: string;
  subject?: string | null;
  data: Record<string, unknown>;
  raw?: unknown;
  /** The things this event is about (e.g. the Trello card), for the link table. */
  refs?: { kind: string; id: string }[];
  /** Keys of the change it reports; when the hub made that change itself, the event is an echo and runs no flow. */
  echoKeys?: string[];
}

export interface WebhookReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * A provider webhook at POST (and HEAD/GET) /webhooks/:connectorId/:connectionId. `receive` verifies
 * the request (throw HttpError(401) when it is not from the provider: nothing is stored), and returns
 * the events to store and the reply to send once they are stored.
 */
export interface WebhookTrigger {
  receive(
    req: WebhookRequest,
    conn: ConnectionHandle,
    ctx?: WebhookContext,
  ): Promise<{ events: TriggeredEvent[]; reply: WebhookReply; pollNow?: boolean }>;
  /** Answers a provider's HEAD/GET check of the callback URL (e.g. Trello's HEAD): default 200. */
  check?(req: WebhookRequest, conn: ConnectionHandle): Promise<WebhookReply>;
  /** With several webhook triggers on one connector: whether this request is for this one (default: yes). */
  accepts?(req: WebhookRequest): boolean;
  /** One URL for every connection of the app: POST /webhooks/:connectorId (see AppWebhook). */
  app?: AppWebhook;
}

/**
 * What the hub tells a webhook trigger besides the request: the subscription it was matched to (by
 * `TriggerSubscription.match`), with its opened secret; a late delivery on a renewed-away
 * subscription is matched too (`previous: true`). `pollNow` in the answer asks for an immediate poll
 * of this connection's pollers with the subscription's params (a body-less "something changed").
 */
export interface WebhookContext {
  subscription?: SubscriptionRecord & { previous?: boolean };
}

/** A stored subscription as the connector sees it. */
export interface SubscriptionRecord {
  id: string;
  externalId: string;
  params: Record<string, string>;
  state: Record<string, unknown>;
  secret?: string;
  expiresAt?: string;
}

/**
 * A provider that sends every account's events to one URL per app (QuickBooks by realmId, DocuSign
 * Connect by accountId). The hub verifies with the app's secret before anything is stored, routes the
 * request to its connections, and stores each connection's events before the reply.
 */
export interface AppWebhook {
  /** Ids of the connections (of this connector) the request is for, from the candidates given. */
  route(req: WebhookRequest, connections: Array<{ id: string; settings: Record<string, unknown> }>): string[] | Promise<string[]>;
  /** The app's secret: from a routed connection (its settings or secrets), or the environment. */
  secret(conn: { id: string; settings: Record<string, unknown>; secrets: Record<string, string> }): string | undefined;
  verify(req: WebhookRequest, secret: string): boolean;
  /** The events of this request for one routed connection. */
  events(req: WebhookRequest, conn: ConnectionHandle): Promise<TriggeredEvent[]>;
  reply?: WebhookReply;
}

/**
 * A trigger that must register itself with the provider for what flows need (e.g. a Trello webhook
 * per board). The hub keeps the registrations in step with the enabled flows and checks them.
 */
export interface TriggerSubscription {
  /** The flow parameters that identify one registration (e.g. ['board']). */
  params: string[];
  /** Params a flow may leave out; when it sets one, it identifies the registration too. */
  optionalParams?: string[];
  /** Only speeds up a poller (push in front of polling): without PUBLIC_URL it is not registered, and that is not an error. */
  optional?: boolean;
  subscribe(conn: ConnectionHandle, params: Record<string, string>, callbackUrl: string): Promise<SubscribeResult>;
  /** Gets the whole record (e.g. Google's channels.stop needs the resourceId kept in `state`). */
  unsubscribe(conn: ConnectionHandle, externalId: string, record?: SubscriptionRecord): Promise<void>;
  /** 'ok', or 'gone' when the provider dropped it (it is registered again). */
  check(conn: ConnectionHandle, externalId: string, record?: SubscriptionRecord): Promise<'ok' | 'gone'>;
  /** A subscription with an `expiresAt` is renewed this long before it (default 24 h): subscribe anew, save, then stop the old one. */
  renewBeforeMs?: number;
  /** The externalId a webhook request belongs to (e.g. the X-Goog-Channel-ID header), so the receiver sees its subscription. */
  match?(req: WebhookRequest): string | undefined;
  /**
   * Whether this hub should register at all (default yes), given its PUBLIC_URL: e.g. a provider that
   * only calls https addresses. When false, no registration is made and the trigger's poller (same
   * event types) covers the flows alone.
   */
  wanted?(env: { publicUrl?: string }): boolean;
}

/** What `subscribe` answers: `secret` is sealed by the vault (e.g. a per-channel token), `state` kept as is. */
export interface SubscribeResult {
  externalId: string;
  expiresAt?: string | Date;
  state?: Record<string, unknown>;
  secret?: string;
}

/** What a poll is given. */
export interface PollContext {
  connection: ConnectionHandle;
  log: Logger;
  /** 'first' when there is no cursor yet, 'resync' when the hub asks for a full listing. */
  reason: 'interval' | 'now' | 'first' | 'resync';
  /**
   * The versions this poller last recorded for these items (`PolledEvent.item`), read in the poll's
   * transaction: lets a trigger tell a new item from a changed one, or what changed (e.g. a moved
   * calendar event), without a store of its own. Items never seen (or recorded as deleted) are absent.
   */
  known?: (itemIds: string[]) => Promise<Map<string, string>>;
  /** The people directory (core/people), e.g. to say which attendees are known people and their ids in other services. */
  people?: PeopleLookup;
}

/** A person of the people directory as a trigger may read it: identities are service → kind → value. */
export interface PeopleLookup {
  byEmail(
    email: string,
  ): Promise<{ id: string; name: string; email: string | null; identities: Record<string, Record<string, string>> } | undefined>;
}

/** One changed item of a poll: an event, and (for reconciliation after a resync) the item's id and version. */
export type PolledEvent = TriggeredEvent & { item?: { id: string; version: string; deleted?: boolean } };

/**
 * `{ resync: true }` (or a thrown CursorExpired) says the provider refused the cursor as too old
 * (Google's 410, QuickBooks CDC's 30 days): the hub then calls `resync`.
 */
export type PollResult =
  | { events: PolledEvent[]; cursor: string | null /** More is waiting past this page: the hub polls again at once. */; more?: boolean }
  | { resync: true };

/**
 * A trigger the hub polls on a stored cursor (core/triggers/pollers.ts): one poller per (trigger,
 * connection, params) across processes; the new cursor is saved in the transaction that stores the
 * events it produced.
 */
export interface PollingTrigger {
  /** The flow parameters that identify one poller (like TriggerSubscription.params). */
  params: string[];
  /** Params a flow may leave out; when it sets one, it identifies the poller too (e.g. `subfolders`). */
  optionalParams?: string[];
  /** Default DINGBRIDGE_POLL_INTERVAL_MS; a flow may set `params.pollInterval` (e.g. `30s`). Jitter: up to 10 % more. */
  intervalMs?: number;
  /** The first poll only sets the cursor (no history is emitted). */
  skipHistory?: boolean;
  poll(ctx: PollContext, params: Record<string, string>, cursor: string | null): Promise<PollResult>;
  /**
   * Every item as it is now, and a fresh cursor. The hub compares them with what it last saw: new and
   * changed items are emitted (their `event`), missing ones as `deletedEvent`.
   */
  resync(
    ctx: PollContext,
    params: Record<string, string>,
  ): Promise<{ items: Array<{ id: string; version: string; event: TriggeredEvent }>; cursor: string | null }>;
  deletedEvent(item: { id: string; version: string }, params: Record<string, string>): TriggeredEvent;
}

/** Thrown by `poll` when the provider refused the cursor as too old: the same as answering `{ resync: true }`. */
export class CursorExpired extends Error {
  constructor(message = 'the provider refused the cursor as too old') {
    super(message);
    this.name = 'CursorExpired';
  }
}

/** What a stream trigger is given to deliver events: `emit` resolves once they are stored (ack after it). */
export interface StreamContext {
  connection: ConnectionHandle;
  log: Logger;
  emit(events: TriggeredEvent[]): Promise<Array<{ id: string; duplicate: boolean }>>;
}

/** A live connection to the provider (e.g. a WebSocket); `closed` settles when it drops. */
export interface StreamSession {
  closed: Promise<void>;
  close(): Promise<void>;
}

/**
 * A long-lived inbound connection per connection (e.g. DingTalk Stream mode). The hub's stream manager
 * (core/triggers/streams.ts) holds exactly one per connection across processes and reconnects it.
 */
export interface StreamTrigger {
  /** Whether this connection wants a stream (e.g. a `stream` setting). */
  enabled(settings: Record<string, unknown>): boolean;
  /** Opens the stream; rejects when it cannot (the manager records the error and retries with backoff). */
  open(ctx: StreamContext): Promise<StreamSession>;
}

export interface TriggerDefinition {
  id: string;
  title: string;
  /** Event types it emits. */
  events: string[];
  kind: 'webhook' | 'polling' | 'stream' | 'schedule';
  sample?: Record<string, unknown>;
  webhook?: WebhookTrigger;
  subscription?: TriggerSubscription;
  stream?: StreamTrigger;
  poll?: PollingTrigger;
}

export interface ConnectorDefinition {
  id: string;
  name: string;
  auth: ConnectorAuth;
  triggers: TriggerDefinition[];
  actions: AnyAction[];
  /** Names the actions start with when not the connector id (two connectors of one service, e.g. `dingtalk_robot` → `dingtalk`). */
  actionPrefix?: string;
  /** Environment variables the connector reads (e.g. its provider's base URL), validated when the hub starts. */
  env?: z.ZodObject;
  /** The connector's words in en / zh-CN / zh-HK for the config UI (`connectors/<id>/i18n.ts`). */
  i18n?: ConnectorTranslations;
  /** The connector's calendar as one side of the two-way calendar sync (core/calendar-sync). */
  calendarSide?: CalendarSideFactory;
  /**
   * Live choices for forms (a Trello board by name, not by id): name → a lister called with a
   * connection (GET /api/v1/connections/:id/choices/:name).
   */
  choices?: Record<string, (conn: ConnectionHandle) => Promise<Choice[]>>;
}

/** One live choice: the value a flow stores and the name a person recognises. */
export interface Choice {
  id: string;
  label: string;
  /** A secondary line (e.g. the board's workspace). */
  detail?: string;
}

/** The one helper a connector is built with; checks that its actions are named after it (or its actionPrefix). */
export function defineConnector(def: ConnectorDefinition): ConnectorDefinition {
  const prefix = def.actionPrefix ?? def.id;
  for (const action of def.actions) {
    if (!action.id.startsWith(`${prefix}.`)) throw new Error(`action ${action.id} of connector ${def.id} must be named ${prefix}.<verb>`);
  }
  return def;
}

/** An action of any input and output: what connectors and the registry hold. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyAction = ActionDefinition<any, any>;

/** Keeps the action's types: its input from the schema, its output from `run` (and `output`, which must agree). */
export function defineAction<Schema extends z.ZodType, Output>(def: ActionDefinition<Schema, Output>): ActionDefinition<Schema, Output> {
  return def;
}
