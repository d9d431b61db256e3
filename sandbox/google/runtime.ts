import type { Request, Response, NextFunction } from 'express';
import type { RunningFakeInternals } from '../framework/index.ts';
import { GoogleError, sendGoogleError } from './errors.ts';
import { now, type Channel, type Delivery, type GoogleData, type GoogleState } from './state.ts';

export type Fake = RunningFakeInternals<GoogleState>;
export interface Caller {
  email: string;
  sub: string;
  scopes: string[];
}
export type Handler = (req: Request, res: Response, caller: Caller) => unknown;

export const q = (req: Request): Record<string, string | string[]> => req.query as Record<string, string | string[]>;
export const qs = (req: Request, key: string): string | undefined => {
  const v = q(req)[key];
  return Array.isArray(v) ? v[0] : v;
};
export const qbool = (req: Request, key: string): boolean => qs(req, key) === 'true';
export const qint = (req: Request, key: string, def: number, max: number): number => {
  const v = qs(req, key);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new GoogleError(400, 'invalid', `Invalid value '${v}'. Values must match the following regular expression: '[0-9]+'`, {
      location: key,
      locationType: 'parameter',
    });
  return Math.min(n === 0 ? def : n, max);
};
export const body = (req: Request): Record<string, unknown> =>
  req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body) ? (req.body as Record<string, unknown>) : {};

const G = 'https://www.googleapis.com/auth/';
/** POSTs that only read (watch, stop, freeBusy): read-only scopes allow them. */
const READ_POSTS = [
  /\/events\/watch$/,
  /\/freeBusy$/,
  /\/changes\/watch$/,
  /\/channels\/stop$/,
  /^\/gmail\/v1\/users\/[^/]+\/(watch|stop)$/,
];

/**
 * Whether one granted scope allows this call, per Google's scope descriptions: full scopes allow all,
 * `*.readonly` only reads; Calendar's `calendar.events*` only events; Gmail's `gmail.send` only sending.
 * `drive.file` is treated as `drive` (the fake does not track which app made a file).
 */
export function scopeAllows(scope: string, method: string, path: string, query: Record<string, unknown>): boolean {
  const read = method === 'GET' || READ_POSTS.some((re) => re.test(path));
  if (path.startsWith('/calendar/')) {
    const events = /\/events(\/|$)|\/channels\/stop$/.test(path);
    switch (scope) {
      case `${G}calendar`:
        return true;
      case `${G}calendar.readonly`:
        return read;
      case `${G}calendar.events`:
        return events;
      case `${G}calendar.events.readonly`:
        return events && read;
      case `${G}calendar.freebusy`:
        return path.endsWith('/freeBusy');
      default:
        return false;
    }
  }
  if (/^\/(upload\/)?drive\//.test(path)) {
    switch (scope) {
      case `${G}drive`:
      case `${G}drive.file`:
        return true;
      case `${G}drive.readonly`:
        return read;
      case `${G}drive.metadata.readonly`:
        return read && query.alt !== 'media';
      default:
        return false;
    }
  }
  if (/^\/(upload\/)?gmail\//.test(path)) {
    const send = /\/messages\/send$/.test(path);
    switch (scope) {
      case 'https://mail.google.com/':
      case `${G}gmail.modify`:
        return true;
      case `${G}gmail.readonly`:
        return read;
      case `${G}gmail.metadata`: {
        // No search and no message bodies: a message get needs format=metadata or minimal.
        const oneMessage = /\/messages\/[^/]+$/.test(path);
        return read && query.q === undefined && (!oneMessage || query.format === 'metadata' || query.format === 'minimal');
      }
      case `${G}gmail.send`:
      case `${G}gmail.compose`:
        return send;
      default:
        return false;
    }
  }
  if (path.startsWith('/v4/spreadsheets')) {
    switch (scope) {
      case `${G}spreadsheets`:
      case `${G}drive`:
      case `${G}drive.file`:
        return true;
      case `${G}spreadsheets.readonly`:
      case `${G}drive.readonly`:
        return read;
      default:
        return false;
    }
  }
  if (path.startsWith('/admin/directory/')) {
    const members = /\/groups\/[^/]+\/members/.test(path);
    const groups = path.includes('/groups');
    switch (scope) {
      case `${G}admin.directory.user`:
        return !groups;
      case `${G}admin.directory.user.readonly`:
        return !groups && read;
      case `${G}admin.directory.group`:
        return groups;
      case `${G}admin.directory.group.readonly`:
        return groups && read;
      case `${G}admin.directory.group.member`:
        return members;
      case `${G}admin.directory.group.member.readonly`:
        return members && read;
      default:
        return false;
    }
  }
  return true;
}

/** The email of the user an access token was issued to. */
export function emailOf(fake: Fake, sub: string): string {
  const s = fake.state;
  if (sub === s.user.sub) return s.user.email.toLowerCase();
  for (const u of s.google.users.values()) if (u.id === sub) return u.primaryEmail;
  return sub.includes('@') ? sub.toLowerCase() : `${sub}@${s.google.domain}`;
}

/** Bearer check, scope check and per-user quota, answering as Google does. */
export function authenticate(fake: Fake, req: Request): Caller {
  const s = fake.state;
  const g = s.google;
  const m = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
  const token = m?.[1] ?? (typeof req.query.access_token === 'string' ? req.query.access_token : undefined);
  const unauth = () => new GoogleError(401, 'authError', 'Invalid Credentials', { location: 'Authorization', locationType: 'header' });
  if (!token) {
    throw new GoogleError(401, 'required', 'Login Required.', { location: 'Authorization', locationType: 'header' });
  }
  const rec = s.accessTokens.get(token);
  const fault = fake.faults.takeAuthFault(req);
  if (fault || !rec || rec.revoked || rec.expiresAt <= Date.now()) throw unauth();
  const scopes = rec.scope.split(/\s+/).filter(Boolean);
  if (!scopes.some((sc) => scopeAllows(sc, req.method, req.path, req.query as Record<string, unknown>))) {
    throw new GoogleError(403, 'insufficientPermissions', 'Request had insufficient authentication scopes.');
  }
  const email = emailOf(fake, rec.sub);
  if (g.settings.userQuota !== null) {
    const t = now(g);
    const q = g.quota.get(email);
    if (!q || t - q.windowStart >= g.settings.quotaWindowMs) g.quota.set(email, { windowStart: t, count: 1 });
    else if (++q.count > g.settings.userQuota) {
      const code = g.settings.rateLimitStatus;
      throw new GoogleError(code, 'userRateLimitExceeded', code === 429 ? 'Rate Limit Exceeded' : 'User Rate Limit Exceeded');
    }
  }
  return { email, sub: rec.sub, scopes };
}

/** Wraps a provider route: authentication, then the handler; GoogleError → Google's error body. */
export function route(fake: Fake, fn: Handler) {
  return (req: Request, res: Response, next: NextFunction) => {
    try {
      const caller = authenticate(fake, req);
      const out = fn(req, res, caller);
      if (out instanceof Promise) out.catch((err) => fail(err, res, next));
    } catch (err) {
      fail(err, res, next);
    }
  };
}

function fail(err: unknown, res: Response, next: NextFunction): void {
  if (err instanceof GoogleError) sendGoogleError(res, err);
  else next(err);
}

// ---------------- push channels (Calendar events.watch, Drive changes.watch) ----------------

const rfc1123 = (ms: number) => new Date(ms).toUTCString();

/** Whether the channel still delivers; a stopped channel delivers `deliveriesAfterStop` more times. */
function live(g: GoogleData, c: Channel): boolean {
  if (c.expiration <= now(g)) return false;
  if (c.stopped) return c.deliveriesAfterStop > 0;
  return true;
}

/** Sends one notification (no body) to the channel's address, in order with the channel's other messages. */
export function notifyChannel(fake: Fake, c: Channel, resourceState: string): void {
  const g = fake.state.google;
  if (!live(g, c)) return;
  if (c.stopped) c.deliveriesAfterStop -= 1;
  const messageNumber = ++c.messageNumber;
  const delivery: Delivery = {
    seq: ++g.deliverySeq,
    at: new Date(now(g)).toISOString(),
    channelId: c.id,
    resourceId: c.resourceId,
    resourceState,
    messageNumber,
    address: c.address,
    kind: c.kind,
  };
  g.deliveries.push(delivery);
  if (g.deliveries.length > 5000) g.deliveries.shift();
  const headers: Record<string, string> = {
    'X-Goog-Channel-ID': c.id,
    'X-Goog-Channel-Expiration': rfc1123(c.expiration),
    'X-Goog-Resource-ID': c.resourceId,
    'X-Goog-Resource-URI': c.resourceUri,
    'X-Goog-Resource-State': resourceState,
    'X-Goog-Message-Number': String(messageNumber),
    'Content-Length': '0',
  };
  if (c.token !== undefined) headers['X-Goog-Channel-Token'] = c.token;
  c.queue = c.queue.then(async () => {
    // Google retries a notification answered 500/502/503/504 (or not answered) with exponential backoff.
    for (let attempt = 0; ; attempt++) {
      delivery.attempts = attempt + 1;
      let retry = false;
      try {
        const res = await fetch(c.address, { method: 'POST', headers, signal: AbortSignal.timeout(10_000) });
        delivery.status = res.status;
        delivery.error = undefined;
        await res.arrayBuffer().catch(() => undefined);
        retry = [500, 502, 503, 504].includes(res.status);
      } catch (err) {
        delivery.error = (err as Error).message;
        retry = true;
      }
      if (!retry || attempt >= g.settings.deliveryRetries || fake.state.google !== g) return;
      // unref: a pending retry does not keep a stopped fake's process alive.
      await new Promise((r) => setTimeout(r, g.settings.deliveryRetryBaseMs * 2 ** attempt).unref());
    }
  });
}

/** Notifies every live channel watching `kind`/`target`. */
export function notifyWatchers(fake: Fake, kind: Channel['kind'], targets: string[], resourceState: string): void {
  for (const c of fake.state.google.channels.values()) {
    if (c.kind === kind && targets.includes(c.target)) notifyChannel(fake, c, resourceState);
  }
}

/** Pub/Sub push (Gmail watch): `{message:{data, messageId, publishTime}, subscription}` to each push subscription of the topic. */
export function publish(fake: Fake, topic: string, data: unknown): void {
  const g = fake.state.google;
  for (const sub of g.pushSubscriptions.values()) {
    if (sub.topic !== topic) continue;
    const messageId = String(Date.now()) + String(g.deliverySeq);
    const payload = {
      message: {
        data: Buffer.from(JSON.stringify(data)).toString('base64'),
        messageId,
        message_id: messageId,
        publishTime: new Date(now(g)).toISOString(),
        publish_time: new Date(now(g)).toISOString(),
      },
      subscription: sub.name,
    };
    const delivery: Delivery = {
      seq: ++g.deliverySeq,
      at: new Date(now(g)).toISOString(),
      channelId: sub.name,
      resourceId: topic,
      resourceState: 'pubsub',
      messageNumber: 0,
      address: sub.pushEndpoint,
      kind: 'pubsub',
      body: payload,
    };
    g.deliveries.push(delivery);
    void fetch(sub.pushEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(10_000),
    })
      .then(async (r) => {
        delivery.status = r.status;
        await r.arrayBuffer().catch(() => undefined);
      })
      .catch((err: Error) => {
        delivery.error = err.message;
      });
  }
}
