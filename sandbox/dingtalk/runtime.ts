import type http from 'node:http';
import type https from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import type { RunningFakeInternals } from '../framework/index.ts';
import { callbackSignature, decryptCallback, encryptCallback, randomHex, randomNonce, robotSign } from './crypto.ts';
import type { App, Delivery, DingtalkState, MessageChannel, MessageRecord } from './state.ts';

export interface DingtalkFakeOptions {
  /** Seed a demo app, users, a group and a custom robot (default true). */
  seed?: boolean;
  /** HTTP status for a bad/expired access token on the new API (default 400, as the real service answers). */
  authErrorStatus?: number;
  /** Lifetime of issued access tokens in seconds (default 7200). */
  tokenTtlSeconds?: number;
  httpPush?: {
    /** How long DingTalk waits for the callback's answer (default 1500 ms). */
    timeoutMs?: number;
    /** Delays before each redelivery of a failed HTTP push; its length is the number of retries (default [500, 1500, 4000]). */
    retryDelaysMs?: number[];
  };
  stream?: {
    /** Redeliver an unacknowledged (or LATER-acked) Stream message after this long (default 2000 ms; the real service ~60 s). */
    ackTimeoutMs?: number;
    /** Interval of SYSTEM ping frames (default 10000 ms; 0 turns them off). */
    pingIntervalMs?: number;
    /** Give up on a Stream message after this many sends (default 10). */
    maxAttempts?: number;
    /** Validity of a ticket from /v1.0/gateway/connections/open (default 90 s). */
    ticketTtlMs?: number;
  };
  robot?: {
    /** Messages per robot per rolling window (default 20). */
    maxPerWindow?: number;
    /** Rolling window (default 60000 ms). */
    windowMs?: number;
    /** After a refusal, keep refusing for this long (default 0; the real service throttles ~10 min). */
    penaltyMs?: number;
    /** The refusal body (default {errcode:130101, errmsg:"send too fast, exceed 20 times per minute"}). */
    throttleErrcode?: number;
    throttleErrmsg?: string;
  };
}

export interface ResolvedOptions {
  seed: boolean;
  authErrorStatus: number;
  tokenTtlSeconds: number;
  httpTimeoutMs: number;
  httpRetryDelaysMs: number[];
  streamAckTimeoutMs: number;
  streamPingIntervalMs: number;
  streamMaxAttempts: number;
  ticketTtlMs: number;
  robotMax: number;
  robotWindowMs: number;
  robotPenaltyMs: number;
  throttleErrcode: number;
  throttleErrmsg: string;
}

export function resolveOptions(o: DingtalkFakeOptions = {}): ResolvedOptions {
  return {
    seed: o.seed ?? true,
    authErrorStatus: o.authErrorStatus ?? 400,
    tokenTtlSeconds: o.tokenTtlSeconds ?? 7200,
    httpTimeoutMs: o.httpPush?.timeoutMs ?? 1500,
    httpRetryDelaysMs: o.httpPush?.retryDelaysMs ?? [500, 1500, 4000],
    streamAckTimeoutMs: o.stream?.ackTimeoutMs ?? 2000,
    streamPingIntervalMs: o.stream?.pingIntervalMs ?? 10000,
    streamMaxAttempts: o.stream?.maxAttempts ?? 10,
    ticketTtlMs: o.stream?.ticketTtlMs ?? 90000,
    robotMax: o.robot?.maxPerWindow ?? 20,
    robotWindowMs: o.robot?.windowMs ?? 60000,
    robotPenaltyMs: o.robot?.penaltyMs ?? 0,
    throttleErrcode: o.robot?.throttleErrcode ?? 130101,
    throttleErrmsg: o.robot?.throttleErrmsg ?? 'send too fast, exceed 20 times per minute',
  };
}

export const ROBOT_TOPIC = '/v1.0/im/bot/messages/get';

interface StreamConnection {
  id: string;
  appKey: string;
  ws: WebSocket;
  subscriptions: Array<{ type: string; topic: string }>;
  ua: string;
  openedAt: string;
  pingsSent: number;
  pingAcks: number;
  lastPingAckAt?: string;
  pendingPings: Set<string>;
  framesSent: number;
}

interface Ticket {
  appKey: string;
  subscriptions: Array<{ type: string; topic: string }>;
  ua: string;
  expiresAt: number;
}

type S = DingtalkState;

/** Per-running-fake machinery that outlives a state reset: WebSocket server, connections, timers. */
export class DingtalkRuntime {
  readonly opts: ResolvedOptions;
  private readonly fake: RunningFakeInternals<S>;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly connections = new Map<string, StreamConnection>();
  private readonly tickets = new Map<string, Ticket>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly attached = new WeakSet<object>();
  private pingTimer?: NodeJS.Timeout;
  private stopped = false;
  private rr = 0;

  constructor(fake: RunningFakeInternals<S>, opts: ResolvedOptions) {
    this.fake = fake;
    this.opts = opts;
    if (opts.streamPingIntervalMs > 0) {
      this.pingTimer = setInterval(() => this.pingAll(), opts.streamPingIntervalMs);
      this.pingTimer.unref();
    }
  }

  get state(): S {
    return this.fake.state;
  }
  baseUrl(): string {
    return this.fake.baseUrl();
  }

  // ---------------------------------------------------------------- messages

  recordMessage(m: Omit<MessageRecord, 'seq' | 'id' | 'at'>): MessageRecord {
    const st = this.state;
    const rec: MessageRecord = { seq: ++st.messageSeq, id: `msg${randomHex(8)}`, at: new Date().toISOString(), ...m };
    st.messages.push(rec);
    if (st.messages.length > 5000) st.messages.shift();
    return rec;
  }

  ensureConversation(openConversationId: string, title?: string, robotCode?: string): void {
    if (!this.state.conversations.has(openConversationId)) {
      this.state.conversations.set(openConversationId, {
        openConversationId,
        title: title ?? openConversationId,
        createdAt: new Date().toISOString(),
        robotCodes: [],
      });
    }
    const c = this.state.conversations.get(openConversationId)!;
    if (robotCode && !(c.robotCodes ??= []).includes(robotCode)) c.robotCodes.push(robotCode);
  }

  // ---------------------------------------------------------------- tokens

  issueToken(app: App): { token: string; expiresIn: number } {
    const now = Date.now();
    const ttl = this.opts.tokenTtlSeconds * 1000;
    // Like DingTalk: while a token is valid, asking again returns the same token (its validity is extended).
    for (const t of this.state.tokens.values()) {
      if (t.appKey === app.appKey && t.expiresAt > now) {
        t.expiresAt = now + ttl;
        return { token: t.token, expiresIn: this.opts.tokenTtlSeconds };
      }
    }
    const token = randomHex(16);
    this.state.tokens.set(token, { token, appKey: app.appKey, expiresAt: now + ttl });
    return { token, expiresIn: this.opts.tokenTtlSeconds };
  }

  appForToken(token: string | undefined): App | undefined {
    if (!token) return undefined;
    const t = this.state.tokens.get(token);
    if (!t || t.expiresAt <= Date.now()) return undefined;
    return this.state.apps.get(t.appKey);
  }

  // ---------------------------------------------------------------- events

  private appsFor(corpId: string, eventType: string, appKeys?: string[]): App[] {
    return [...this.state.apps.values()].filter(
      (a) =>
        (appKeys ? appKeys.includes(a.appKey) : a.corpId === corpId) && (!a.subscribedEvents || a.subscribedEvents.includes(eventType)),
    );
  }

  /**
   * Pushes an event to every app of the corp (or to the given apps): encrypted HTTP push when the app has an
   * event subscription, a Stream EVENT frame when the app uses Stream mode. All deliveries share one eventId.
   */
  emitEvent(
    corpId: string,
    eventType: string,
    fields: Record<string, unknown>,
    opts: { appKeys?: string[]; bizId?: string } = {},
  ): { eventId: string; deliveries: Delivery[] } {
    const eventId = randomHex(16);
    const born = Date.now();
    const deliveries: Delivery[] = [];
    for (const app of this.appsFor(corpId, eventType, opts.appKeys)) {
      if (app.eventSubscription) {
        const payload: Record<string, unknown> = {
          EventType: eventType,
          EventTime: born,
          CorpId: app.corpId,
          eventId,
          ...(opts.bizId ? { BizId: opts.bizId } : {}),
          ...fields,
        };
        deliveries.push(
          this.newDelivery({
            eventId,
            appKey: app.appKey,
            mode: 'http',
            kind: 'event',
            eventType,
            url: app.eventSubscription.callbackUrl,
            payload,
          }),
        );
      }
      if (app.stream) {
        deliveries.push(
          this.newDelivery({
            eventId,
            appKey: app.appKey,
            mode: 'stream',
            kind: 'event',
            eventType,
            frameType: 'EVENT',
            topic: '*',
            payload: fields,
            headers: {
              eventType,
              eventId,
              eventBornTime: String(born),
              eventCorpId: app.corpId,
              eventUnifiedAppId: app.unifiedAppId,
            },
          }),
        );
      }
    }
    for (const d of deliveries) this.dispatch(d);
    return { eventId, deliveries };
  }

  /** A message typed to the robot: Stream CALLBACK and/or HTTP POST to the robot message URL. */
  emitRobotMessage(app: App, message: Record<string, unknown>): { eventId: string; deliveries: Delivery[] } {
    const eventId = randomHex(16);
    const deliveries: Delivery[] = [];
    if (app.robotMessageUrl) {
      deliveries.push(
        this.newDelivery({
          eventId,
          appKey: app.appKey,
          mode: 'robot_http',
          kind: 'robot_message',
          url: app.robotMessageUrl,
          payload: message,
        }),
      );
    }
    if (app.stream) {
      deliveries.push(
        this.newDelivery({
          eventId,
          appKey: app.appKey,
          mode: 'stream',
          kind: 'robot_message',
          frameType: 'CALLBACK',
          topic: ROBOT_TOPIC,
          payload: message,
        }),
      );
    }
    for (const d of deliveries) this.dispatch(d);
    return { eventId, deliveries };
  }

  /** Sends the URL-check event once and waits for the answer. */
  async checkUrl(app: App): Promise<Delivery> {
    if (!app.eventSubscription) throw new Error('app has no eventSubscription');
    const d = this.newDelivery({
      eventId: randomHex(16),
      appKey: app.appKey,
      mode: 'http',
      kind: 'check_url',
      eventType: 'check_url',
      url: app.eventSubscription.callbackUrl,
      payload: { EventType: 'check_url' },
    });
    await this.attemptHttp(d, false);
    return d;
  }

  private newDelivery(d: Omit<Delivery, 'id' | 'createdAt' | 'attempts' | 'status' | 'acknowledged' | 'history'>): Delivery {
    const rec: Delivery = {
      id: `dlv_${randomHex(8)}`,
      createdAt: new Date().toISOString(),
      attempts: 0,
      status: 'pending',
      acknowledged: false,
      history: [],
      ...d,
      ...(d.mode === 'stream' ? { messageId: randomHex(16) } : {}),
    };
    this.state.deliveries.set(rec.id, rec);
    return rec;
  }

  private isCurrent(d: Delivery): boolean {
    return !this.stopped && this.state.deliveries.get(d.id) === d;
  }

  private schedule(d: Delivery, ms: number, fn: () => void): void {
    this.clearTimer(d.id);
    d.nextAttemptAt = new Date(Date.now() + ms).toISOString();
    const t = setTimeout(() => {
      this.timers.delete(d.id);
      d.nextAttemptAt = undefined;
      if (this.isCurrent(d)) fn();
    }, ms);
    this.timers.set(d.id, t);
  }

  private clearTimer(id: string): void {
    const t = this.timers.get(id);
    if (t) {
      clearTimeout(t);
      this.timers.delete(id);
    }
  }

  private dispatch(d: Delivery): void {
    if (d.mode === 'stream') this.sendStream(d);
    else void this.attemptHttp(d, true);
  }

  // ---------------------------------------------------------------- HTTP push

  private async attemptHttp(d: Delivery, retry: boolean): Promise<void> {
    if (!this.isCurrent(d)) return;
    const app = this.state.apps.get(d.appKey);
    d.attempts += 1;
    d.status = 'in_flight';
    const started = Date.now();
    const attempt: { at: string; ok: boolean; error?: string; httpStatus?: number; durationMs?: number } = {
      at: new Date(started).toISOString(),
      ok: false,
    };
    try {
      if (!app) throw new Error('app no longer registered');
      if (d.mode === 'robot_http') await this.postRobotMessage(app, d, attempt);
      else await this.postEncrypted(app, d, attempt);
      attempt.ok = true;
    } catch (err) {
      attempt.error =
        (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError'
          ? `no answer within ${this.opts.httpTimeoutMs} ms`
          : (err as Error).message;
    }
    attempt.durationMs = Date.now() - started;
    d.history.push(attempt);
    if (attempt.ok) {
      d.status = 'acknowledged';
      d.acknowledged = true;
      d.lastError = undefined;
      return;
    }
    d.lastError = attempt.error;
    const delay = this.opts.httpRetryDelaysMs[d.attempts - 1];
    if (retry && delay !== undefined && this.isCurrent(d)) {
      d.status = 'pending';
      this.schedule(d, delay, () => {
        void this.attemptHttp(d, true);
      });
    } else {
      d.status = 'failed';
    }
  }

  private async postEncrypted(app: App, d: Delivery, attempt: { httpStatus?: number }): Promise<void> {
    const sub = app.eventSubscription;
    if (!sub) throw new Error('app has no eventSubscription');
    const ownerKey = sub.ownerKey ?? app.appKey;
    const encrypt = encryptCallback(sub.aesKey, JSON.stringify(d.payload), ownerKey);
    const timestamp = String(Date.now());
    const nonce = randomNonce();
    const url = new URL(sub.callbackUrl);
    url.searchParams.set('msg_signature', callbackSignature(sub.token, timestamp, nonce, encrypt));
    url.searchParams.set('timestamp', timestamp);
    url.searchParams.set('nonce', nonce);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ encrypt }),
      signal: AbortSignal.timeout(this.opts.httpTimeoutMs),
    });
    attempt.httpStatus = res.status;
    const text = await res.text();
    if (res.status !== 200) throw new Error(`callback answered HTTP ${res.status}`);
    let reply: Record<string, unknown>;
    try {
      reply = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new Error('callback answer is not JSON');
    }
    const { msg_signature: sig, timeStamp, nonce: rNonce, encrypt: rEncrypt } = reply as Record<string, string | undefined>;
    if (typeof sig !== 'string' || typeof timeStamp !== 'string' || typeof rNonce !== 'string' || typeof rEncrypt !== 'string') {
      throw new Error('callback answer lacks msg_signature/timeStamp/nonce/encrypt');
    }
    if (callbackSignature(sub.token, timeStamp, rNonce, rEncrypt) !== sig) throw new Error('answer signature does not verify');
    let plain: { message: string; ownerKey: string };
    try {
      plain = decryptCallback(sub.aesKey, rEncrypt);
    } catch (err) {
      throw new Error(`answer does not decrypt: ${(err as Error).message}`);
    }
    if (plain.ownerKey !== ownerKey) throw new Error(`answer owner key "${plain.ownerKey}" is not "${ownerKey}" (900010)`);
    if (plain.message !== 'success') throw new Error(`answer decrypts to "${plain.message.slice(0, 50)}", not "success"`);
  }

  private async postRobotMessage(app: App, d: Delivery, attempt: { httpStatus?: number }): Promise<void> {
    const timestamp = String(Date.now());
    const res = await fetch(d.url ?? app.robotMessageUrl ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', timestamp, sign: robotSign(app.appSecret, timestamp) },
      body: JSON.stringify(d.payload),
      signal: AbortSignal.timeout(this.opts.httpTimeoutMs),
    });
    attempt.httpStatus = res.status;
    const text = await res.text();
    if (res.status < 200 || res.status >= 300) throw new Error(`robot message URL answered HTTP ${res.status}`);
    // Like DingTalk's outgoing robot: a message in the answer body is posted to the conversation.
    try {
      const body = JSON.parse(text) as Record<string, unknown>;
      d.response = body;
      if (body && typeof body.msgtype === 'string') {
        const conv = String(d.payload.conversationId ?? '');
        const { msgtype, body: norm } = normaliseCustomMessage(body);
        this.recordMessage({
          channel: 'robot_reply',
          openConversationId: conv,
          robotCode: app.robotCode,
          sender: app.name,
          msgtype,
          body: norm,
          raw: body,
        });
      }
    } catch {
      /* an empty or non-JSON answer is fine */
    }
  }

  // ---------------------------------------------------------------- Stream

  /** Attaches the WebSocket endpoint to the HTTP server (idempotent). */
  attach(server: http.Server | https.Server): void {
    if (this.attached.has(server)) return;
    this.attached.add(server);
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
  }

  openTicket(app: App, subscriptions: Array<{ type: string; topic: string }>, ua: string): string {
    const ticket = randomHex(16);
    this.tickets.set(ticket, { appKey: app.appKey, subscriptions, ua, expiresAt: Date.now() + this.opts.ticketTtlMs });
    return ticket;
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const refuse = (status: string) => {
      socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    if (url.pathname !== '/connect') return refuse('404 Not Found');
    const ticket = url.searchParams.get('ticket') ?? '';
    const t = this.tickets.get(ticket);
    this.tickets.delete(ticket); // one use
    if (!t || t.expiresAt < Date.now() || !this.state.apps.has(t.appKey)) return refuse('401 Unauthorized');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, t));
  }

  private frame(type: 'SYSTEM' | 'EVENT' | 'CALLBACK', headers: Record<string, string>, data: string): string {
    return JSON.stringify({
      specVersion: '1.0',
      type,
      headers: { contentType: 'application/json', time: String(Date.now()), ...headers },
      data,
    });
  }

  private onConnection(ws: WebSocket, t: Ticket): void {
    const conn: StreamConnection = {
      id: randomHex(12),
      appKey: t.appKey,
      ws,
      subscriptions: t.subscriptions,
      ua: t.ua,
      openedAt: new Date().toISOString(),
      pingsSent: 0,
      pingAcks: 0,
      pendingPings: new Set(),
      framesSent: 0,
    };
    this.connections.set(conn.id, conn);
    const app = this.state.apps.get(t.appKey);
    const sys = (topic: string) =>
      this.frame('SYSTEM', { topic, messageId: randomHex(16), connectionId: conn.id, appId: String(app?.agentId ?? '') }, '{}');
    ws.send(sys('CONNECTED'));
    ws.send(sys('REGISTERED'));
    ws.on('message', (raw) => this.onUpstream(conn, raw.toString()));
    ws.on('close', () => this.onClose(conn));
    ws.on('error', () => {
      /* close follows */
    });
    this.flushPending(t.appKey);
  }

  private onUpstream(conn: StreamConnection, text: string): void {
    let msg: { code?: number; headers?: Record<string, string>; message?: string; data?: string };
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    const messageId = msg.headers?.messageId;
    if (!messageId) return;
    if (msg.headers?.topic === 'ping' || conn.pendingPings.has(messageId)) {
      if (conn.pendingPings.delete(messageId) && msg.code === 200) {
        conn.pingAcks += 1;
        conn.lastPingAckAt = new Date().toISOString();
      }
      return;
    }
    const d = [...this.state.deliveries.values()].find((x) => x.mode === 'stream' && x.messageId === messageId);
    if (!d || d.acknowledged) return;
    let data: unknown;
    try {
      data = typeof msg.data === 'string' ? JSON.parse(msg.data) : msg.data;
    } catch {
      data = msg.data;
    }
    const last = d.history[d.history.length - 1];
    this.clearTimer(d.id);
    if (msg.code !== 200) {
      d.lastError = `ack code ${msg.code}`;
      if (last) {
        last.ok = false;
        last.error = d.lastError;
      }
      d.status = 'pending';
      this.scheduleRedelivery(d);
      return;
    }
    if (d.frameType === 'EVENT') {
      const status = (data as { status?: string } | undefined)?.status;
      d.ackStatus = status;
      if (last) last.ackStatus = status;
      if (status === 'SUCCESS') {
        d.status = 'acknowledged';
        d.acknowledged = true;
        d.lastError = undefined;
        if (last) last.ok = true;
      } else {
        d.lastError = `ack status ${status ?? '(none)'}`;
        if (last) last.error = d.lastError;
        d.status = 'pending';
        this.scheduleRedelivery(d);
      }
    } else {
      d.response = (data as { response?: unknown } | undefined)?.response ?? data;
      d.ackStatus = 'OK';
      d.status = 'acknowledged';
      d.acknowledged = true;
      d.lastError = undefined;
      if (last) {
        last.ok = true;
        last.ackStatus = 'OK';
      }
    }
  }

  private onClose(conn: StreamConnection): void {
    this.connections.delete(conn.id);
    for (const d of this.state.deliveries.values()) {
      if (d.mode === 'stream' && d.status === 'in_flight' && d.connectionId === conn.id) {
        this.clearTimer(d.id);
        d.status = 'pending';
        d.lastError = 'connection closed before ack';
        const last = d.history[d.history.length - 1];
        if (last && !last.error) last.error = d.lastError;
      }
    }
    // Unacked messages go out again as soon as the app has a connection (see flushPending).
    if (!this.stopped) setImmediate(() => this.flushPending(conn.appKey));
  }

  private scheduleRedelivery(d: Delivery): void {
    if (d.attempts >= this.opts.streamMaxAttempts) {
      d.status = 'failed';
      return;
    }
    this.schedule(d, this.opts.streamAckTimeoutMs, () => this.sendStream(d));
  }

  private subscribed(conn: StreamConnection, d: Delivery): boolean {
    return conn.subscriptions.some((s) => s.type === d.frameType && (s.topic === '*' || s.topic === d.topic || s.topic === d.eventType));
  }

  private sendStream(d: Delivery): void {
    if (!this.isCurrent(d) || d.acknowledged || d.status === 'failed') return;
    const candidates = [...this.connections.values()].filter(
      (c) => c.appKey === d.appKey && c.ws.readyState === WebSocket.OPEN && this.subscribed(c, d),
    );
    if (candidates.length === 0) {
      d.status = 'pending';
      return;
    } // waits for a connection
    const conn = candidates[this.rr++ % candidates.length]!;
    const app = this.state.apps.get(d.appKey);
    d.attempts += 1;
    d.status = 'in_flight';
    d.connectionId = conn.id;
    d.history.push({ at: new Date().toISOString(), ok: false, connectionId: conn.id });
    conn.framesSent += 1;
    conn.ws.send(
      this.frame(
        d.frameType ?? 'EVENT',
        {
          appId: String(app?.agentId ?? ''),
          connectionId: conn.id,
          messageId: d.messageId ?? '',
          topic: d.topic ?? '*',
          ...(d.headers ?? {}),
        },
        JSON.stringify(d.payload),
      ),
    );
    this.schedule(d, this.opts.streamAckTimeoutMs, () => {
      if (d.acknowledged) return;
      d.lastError = `no ack within ${this.opts.streamAckTimeoutMs} ms`;
      const last = d.history[d.history.length - 1];
      if (last && !last.error) last.error = d.lastError;
      d.status = 'pending';
      if (d.attempts >= this.opts.streamMaxAttempts) {
        d.status = 'failed';
        return;
      }
      this.sendStream(d);
    });
  }

  private flushPending(appKey: string): void {
    if (this.stopped) return;
    for (const d of this.state.deliveries.values()) {
      if (d.mode === 'stream' && d.appKey === appKey && d.status === 'pending' && !this.timers.has(d.id)) this.sendStream(d);
    }
  }

  pingAll(): number {
    let n = 0;
    for (const c of this.connections.values()) {
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      const messageId = randomHex(16);
      c.pendingPings.add(messageId);
      c.pingsSent += 1;
      c.ws.send(this.frame('SYSTEM', { topic: 'ping', messageId, connectionId: c.id }, JSON.stringify({ opaque: randomHex(8) })));
      n += 1;
    }
    return n;
  }

  /** Drops Stream connections (all, or one app's). graceful: send a SYSTEM disconnect frame first. */
  dropConnections(appKey?: string, graceful = false): number {
    let n = 0;
    for (const c of [...this.connections.values()]) {
      if (appKey && c.appKey !== appKey) continue;
      if (graceful && c.ws.readyState === WebSocket.OPEN) {
        c.ws.send(
          this.frame(
            'SYSTEM',
            { topic: 'disconnect', messageId: randomHex(16), connectionId: c.id },
            JSON.stringify({ reason: 'sandbox drop' }),
          ),
        );
        c.ws.close(1000, 'sandbox drop');
      } else {
        c.ws.terminate();
      }
      n += 1;
    }
    return n;
  }

  listConnections(): Array<Record<string, unknown>> {
    return [...this.connections.values()].map((c) => ({
      connectionId: c.id,
      appKey: c.appKey,
      subscriptions: c.subscriptions,
      ua: c.ua,
      openedAt: c.openedAt,
      pingsSent: c.pingsSent,
      pingAcks: c.pingAcks,
      lastPingAckAt: c.lastPingAckAt ?? null,
      framesSent: c.framesSent,
    }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pingTimer) clearInterval(this.pingTimer);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const c of this.connections.values()) c.ws.terminate();
    this.connections.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

// ---------------------------------------------------------------- message normalisation (shared with routes)

export function normaliseCustomMessage(body: Record<string, unknown>): { msgtype: string; body: Record<string, unknown> } {
  const msgtype = String(body.msgtype ?? 'other');
  const inner = body[msgtype];
  return { msgtype, body: inner && typeof inner === 'object' ? { ...(inner as Record<string, unknown>) } : {} };
}

export type { MessageChannel };
