import crypto from 'node:crypto';
import type { Express, Request, Response } from 'express';
import { startFake, type FakeDefinition, type RunningFake, type RunningFakeInternals } from '../framework/index.ts';

/**
 * A generic change feed with a cursor and push channels, shaped after Google's Drive/Calendar
 * `changes.list` + `channels.watch`/`channels.stop`: clients list changes from a cursor; a cursor
 * older than what the feed keeps answers 410 `fullSyncRequired` (the client must list everything and
 * start over); watch channels expire and get body-less notifications (`X-Goog-Channel-ID`,
 * `X-Goog-Channel-Token`, `X-Goog-Resource-ID`, `X-Goog-Resource-State`, `X-Goog-Message-Number`).
 * It also has an app-level webhook: `POST /__sandbox/feed/app-webhook` sends one signed request per
 * account to one URL (QuickBooks-style: routed by `accountId`, HMAC-SHA256 in `X-Feed-Signature`).
 */

export interface FeedItem {
  id: string;
  version: number;
  name: string;
  deleted: boolean;
  updatedAt: string;
  seq: number;
}
export interface FeedChannel {
  id: string;
  resourceId: string;
  address: string;
  token?: string;
  expiration: number;
  stopped: boolean;
  messages: number;
  createdAt: number;
}
export interface FeedDelivery {
  channelId: string;
  messageNumber: number;
  state: 'sync' | 'exists';
  status: number | null;
  error?: string;
  at: number;
  expired: boolean;
}

export interface FeedState {
  token: string;
  items: Map<string, FeedItem>;
  /** The change log: each change gets the next sequence number; a cursor is the last seq a client saw. */
  seq: number;
  /** Cursors are `<epoch>.<seq>`; a cursor of an older epoch is too old (410 fullSyncRequired). */
  epoch: number;
  channels: Map<string, FeedChannel>;
  deliveries: FeedDelivery[];
  /** Changes made while no channel was live (a notification the client could not get). */
  changesWithoutChannel: number;
  settings: { channelTtlMs: number; pageSize: number };
  nextId: number;
}

const DEFAULT_SETTINGS = { channelTtlMs: 3_600_000, pageSize: 500 };
export const DEFAULT_FEED_TOKEN = 'feed-token-0123456789';

function authorised(fake: RunningFakeInternals<FeedState>, req: Request, res: Response): boolean {
  const header = String(req.headers.authorization ?? '');
  if (header === `Bearer ${fake.state.token}`) return true;
  res
    .status(401)
    .setHeader('WWW-Authenticate', 'Bearer realm="feed"')
    .json({ error: { code: 401, message: 'Invalid Credentials', status: 'UNAUTHENTICATED' } });
  return false;
}

const liveChannels = (s: FeedState) => [...s.channels.values()].filter((c) => !c.stopped && c.expiration > Date.now());

/** Sends one body-less notification (the delivery is recorded with the status the receiver answered). */
function notify(s: FeedState, channel: FeedChannel, state: 'sync' | 'exists'): void {
  channel.messages += 1;
  const delivery: FeedDelivery = {
    channelId: channel.id,
    messageNumber: channel.messages,
    state,
    status: null,
    at: Date.now(),
    expired: false,
  };
  s.deliveries.push(delivery);
  fetch(channel.address, {
    method: 'POST',
    headers: {
      'X-Goog-Channel-ID': channel.id,
      'X-Goog-Resource-ID': channel.resourceId,
      'X-Goog-Resource-State': state,
      'X-Goog-Message-Number': String(channel.messages),
      'X-Goog-Channel-Expiration': new Date(channel.expiration).toUTCString(),
      ...(channel.token ? { 'X-Goog-Channel-Token': channel.token } : {}),
    },
    signal: AbortSignal.timeout(30_000),
  }).then(
    async (r) => {
      delivery.status = r.status;
      await r.arrayBuffer().catch(() => undefined);
    },
    (err: Error) => {
      delivery.status = 0;
      delivery.error = err.message;
    },
  );
}

function change(s: FeedState, item: FeedItem): void {
  s.seq += 1;
  item.seq = s.seq;
  item.updatedAt = new Date().toISOString();
  const live = liveChannels(s);
  if (s.channels.size > 0 && live.length === 0) s.changesWithoutChannel += 1;
  for (const c of live) notify(s, c, 'exists');
}

const publicItem = (i: FeedItem) => ({ id: i.id, version: i.version, name: i.name, deleted: i.deleted, updatedAt: i.updatedAt });

export const feedFake: FakeDefinition<FeedState> = {
  name: 'feed',
  initialState: () => ({
    token: DEFAULT_FEED_TOKEN,
    items: new Map(),
    seq: 0,
    epoch: 1,
    channels: new Map(),
    deliveries: [],
    changesWithoutChannel: 0,
    settings: { ...DEFAULT_SETTINGS },
    nextId: 1,
  }),
  setup(app: Express, fake) {
    const s = () => fake.state;

    // changes.list: what changed after `cursor`, oldest first, a page at a time.
    app.get('/v1/changes', (req, res) => {
      if (!authorised(fake, req, res)) return;
      // `0` starts from the beginning (the first sync); any other cursor is one the feed handed out.
      const m = /^(?:0|(\d+)\.(\d+))$/.exec(String(req.query.cursor ?? ''));
      if (!m) {
        res.status(400).json({ error: { code: 400, message: 'Invalid value for cursor', status: 'INVALID_ARGUMENT' } });
        return;
      }
      const cursor = m[1] ? Number(m[2]) : 0;
      if (m[1] && Number(m[1]) !== s().epoch) {
        res.status(410).json({
          error: {
            code: 410,
            message: 'The sync token is no longer valid, a full sync is required.',
            status: 'GONE',
            errors: [{ reason: 'fullSyncRequired', domain: 'global' }],
          },
        });
        return;
      }
      const limit = Math.min(Number(req.query.limit ?? s().settings.pageSize) || s().settings.pageSize, 1000);
      const changed = [...s().items.values()].filter((i) => i.seq > cursor).sort((a, b) => a.seq - b.seq);
      const page = changed.slice(0, limit);
      const next = page.length ? page[page.length - 1]!.seq : Math.max(cursor, s().seq);
      res.json({
        changes: page.map(publicItem),
        cursor: `${s().epoch}.${page.length === changed.length ? Math.max(s().seq, cursor) : next}`,
        more: changed.length > page.length,
      });
    });

    // The full listing (a resync): live items only, paged; the answer's cursor is where changes continue from.
    app.get('/v1/items', (req, res) => {
      if (!authorised(fake, req, res)) return;
      const all = [...s().items.values()].filter((i) => !i.deleted).sort((a, b) => a.id.localeCompare(b.id));
      const start = Number(req.query.pageToken ?? 0) || 0;
      const limit = Math.min(Number(req.query.limit ?? 1000) || 1000, 5000);
      const page = all.slice(start, start + limit);
      res.json({
        items: page.map(publicItem),
        nextPageToken: start + limit < all.length ? String(start + limit) : null,
        cursor: `${s().epoch}.${s().seq}`,
      });
    });

    // channels.watch / channels.stop
    app.post('/v1/changes/watch', (req, res) => {
      if (!authorised(fake, req, res)) return;
      const body = (req.body ?? {}) as { id?: string; address?: string; token?: string; type?: string };
      if (!body.id || !body.address || body.type !== 'web_hook') {
        res.status(400).json({ error: { code: 400, message: 'id, address and type "web_hook" are required', status: 'INVALID_ARGUMENT' } });
        return;
      }
      if (s().channels.has(body.id)) {
        res.status(400).json({ error: { code: 400, message: `Channel id ${body.id} not unique`, status: 'INVALID_ARGUMENT' } });
        return;
      }
      const channel: FeedChannel = {
        id: body.id,
        resourceId: crypto.randomBytes(8).toString('hex'),
        address: body.address,
        token: body.token,
        expiration: Date.now() + s().settings.channelTtlMs,
        stopped: false,
        messages: 0,
        createdAt: Date.now(),
      };
      s().channels.set(channel.id, channel);
      notify(s(), channel, 'sync');
      res.json({
        kind: 'api#channel',
        id: channel.id,
        resourceId: channel.resourceId,
        resourceUri: `${fake.baseUrl()}/v1/changes`,
        token: channel.token,
        expiration: String(channel.expiration),
      });
    });
    app.post('/v1/channels/stop', (req, res) => {
      if (!authorised(fake, req, res)) return;
      const body = (req.body ?? {}) as { id?: string; resourceId?: string };
      const channel = body.id ? s().channels.get(body.id) : undefined;
      if (!channel || channel.resourceId !== body.resourceId) {
        res.status(404).json({ error: { code: 404, message: `Channel '${body.id}' not found for project`, status: 'NOT_FOUND' } });
        return;
      }
      channel.stopped = true;
      res.status(204).end();
    });

    // Control
    const P = '/__sandbox/feed';
    app.post(`${P}/items`, (req, res) => {
      const { count = 1, prefix = 'item' } = (req.body ?? {}) as { count?: number; prefix?: string };
      const ids: string[] = [];
      for (let n = 0; n < Math.min(Number(count), 100_000); n += 1) {
        const id = `${prefix}-${String(s().nextId++).padStart(6, '0')}`;
        const item: FeedItem = { id, version: 1, name: `${prefix} ${id}`, deleted: false, updatedAt: '', seq: 0 };
        s().items.set(id, item);
        change(s(), item);
        ids.push(id);
      }
      res.status(201).json({ ids, cursor: s().seq });
    });
    app.patch(`${P}/items`, (req, res) => {
      const { ids = [], name } = (req.body ?? {}) as { ids?: string[]; name?: string };
      const changed: string[] = [];
      for (const id of ids) {
        const item = s().items.get(id);
        if (!item || item.deleted) continue;
        item.version += 1;
        item.name = name ?? `${item.name}*`;
        change(s(), item);
        changed.push(id);
      }
      res.json({ changed });
    });
    app.delete(`${P}/items`, (req, res) => {
      const { ids = [] } = (req.body ?? {}) as { ids?: string[] };
      const deleted: string[] = [];
      for (const id of ids) {
        const item = s().items.get(id);
        if (!item || item.deleted) continue;
        item.deleted = true;
        item.version += 1;
        change(s(), item);
        deleted.push(id);
      }
      res.json({ deleted });
    });
    /** Every cursor handed out so far becomes too old (the next changes.list with one answers 410). */
    app.post(`${P}/invalidate-cursors`, (_req, res) => {
      s().epoch += 1;
      res.json({ epoch: s().epoch });
    });
    app.put(`${P}/settings`, (req, res) => {
      Object.assign(s().settings, req.body ?? {});
      res.json(s().settings);
    });
    app.get(`${P}/state`, (_req, res) => {
      const channels = [...s().channels.values()];
      res.json({
        seq: s().seq,
        epoch: s().epoch,
        cursor: `${s().epoch}.${s().seq}`,
        items: s().items.size,
        live: [...s().items.values()].filter((i) => !i.deleted).length,
        channels: channels.map((c) => ({
          id: c.id,
          resourceId: c.resourceId,
          address: c.address,
          expiration: c.expiration,
          stopped: c.stopped,
          expired: c.expiration <= Date.now(),
          messages: c.messages,
        })),
        deliveries: {
          total: s().deliveries.length,
          pending: s().deliveries.filter((d) => d.status === null).length,
          failed: s()
            .deliveries.filter((d) => d.status !== null && (d.status < 200 || d.status >= 300))
            .map((d) => ({ channelId: d.channelId, messageNumber: d.messageNumber, status: d.status, error: d.error })),
        },
        changesWithoutChannel: s().changesWithoutChannel,
      });
    });
    /**
     * App-level webhook: one POST per account to `url`, body `{accountId, events:[{id, name}]}`, signed
     * with the app's secret (hex HMAC-SHA256 of the body in X-Feed-Signature; `badSignature` signs wrong).
     */
    app.post(`${P}/app-webhook`, async (req, res) => {
      const {
        url,
        secret,
        accountId,
        events = [],
        badSignature = false,
      } = (req.body ?? {}) as {
        url: string;
        secret: string;
        accountId: string;
        events?: Array<{ id: string; name: string }>;
        badSignature?: boolean;
      };
      const body = JSON.stringify({ accountId, events });
      const signature = crypto
        .createHmac('sha256', badSignature ? `${secret}-wrong` : secret)
        .update(body)
        .digest('hex');
      try {
        const r = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'X-Feed-Signature': signature },
          body,
          signal: AbortSignal.timeout(30_000),
        });
        res.json({ status: r.status, body: await r.text() });
      } catch (err) {
        res.status(502).json({ error: { code: 'unreachable', message: (err as Error).message } });
      }
    });
  },
};

export function startFeedFake(opts: { port?: number; host?: string } = {}): Promise<RunningFake<FeedState>> {
  return startFake(feedFake, opts);
}
