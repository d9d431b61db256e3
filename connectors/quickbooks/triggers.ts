import crypto from 'node:crypto';
import {
  CursorExpired,
  type ConnectionHandle,
  type TriggerDefinition,
  type TriggeredEvent,
  type WebhookRequest,
} from '../../core/connector.ts';
import { HttpError, StepError } from '../../core/errors.ts';
import { qboCall, q, query, QUERYABLE, realmOf } from './client.ts';
import { appLink } from './fields.ts';
import { cdcChanges, changeEvent, parseNotifications, QUICKBOOKS_EVENTS, realmsOf, type Notification } from './normalise.ts';

/** `intuit-signature`: base64 HMAC-SHA256 of the raw body with the app's verifier token. */
export function intuitSignature(verifierToken: string, rawBody: Buffer | string): string {
  return crypto.createHmac('sha256', verifierToken).update(rawBody).digest('base64');
}

/** Constant-time check of the header against the raw body (never a re-serialised JSON). */
export function verifyIntuitSignature(verifierToken: string, rawBody: Buffer, header: string | string[] | undefined): boolean {
  const given = Buffer.from(String(Array.isArray(header) ? header[0] : (header ?? '')), 'utf8');
  if (!verifierToken || given.length === 0) return false;
  const expected = Buffer.from(intuitSignature(verifierToken, rawBody), 'utf8');
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

const company = (conn: ConnectionHandle) => ({
  realmId: String(conn.settings.realmId ?? ''),
  companyName: conn.settings.companyName ? String(conn.settings.companyName) : undefined,
  link: (entity: string, id: string) => appLink(conn.settings, entity, id),
});

function parseBody(req: WebhookRequest): unknown {
  try {
    return JSON.parse(req.rawBody.toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_json', 'the QuickBooks delivery is not JSON');
  }
}

/**
 * The entities of some notifications as QuickBooks holds them now: one query per entity type
 * (`select * from Invoice where Id in ('1','2')`), not one read per notification. Missing ones (deleted,
 * merged away) are absent from the map.
 */
export async function fetchEntities(
  conn: ConnectionHandle,
  notes: Notification[],
  maxWaitMs?: number,
): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  const byType = new Map<string, Set<string>>();
  for (const n of notes) {
    if (n.operation === 'deleted' || !QUERYABLE.includes(n.entity)) continue;
    if (!byType.has(n.entity)) byType.set(n.entity, new Set());
    byType.get(n.entity)!.add(n.id);
  }
  for (const [entity, ids] of byType) {
    const list = [...ids];
    for (let i = 0; i < list.length; i += 500) {
      const chunk = list.slice(i, i + 500);
      const rows = await query(conn, entity, `where Id in (${chunk.map(q).join(', ')}) maxresults 1000`).catch((err: unknown) => {
        if (maxWaitMs !== undefined && err instanceof StepError) throw new HttpError(503, 'quickbooks_unavailable', err.message);
        throw err;
      });
      for (const r of rows) found.set(`${entity}:${String(r.Id)}`, r);
    }
  }
  return found;
}

/** Entities the CDC poll asks for (what finance flows watch). */
export const CDC_ENTITIES = ['Invoice', 'Bill', 'Payment', 'Purchase', 'Vendor', 'Customer'] as const;
/** How far the cursor steps back at each poll: a change recorded a little late is still seen (its repeat is dropped by event id). */
const CDC_OVERLAP_MS = 60_000;
const CDC_MAX_DAYS = 30;

const sample = {
  realmId: '9341453050000001',
  companyName: 'Lantau Trading Ltd',
  entityType: 'Invoice',
  id: '130',
  operation: 'updated',
  changedAt: '2026-12-01T02:00:00Z',
  docNumber: '1037',
  customer: 'Kowloon Florists',
  totalAmount: 12500,
  balance: 0,
  currency: 'HKD',
  dueDate: '2026-12-31',
  paid: true,
  link: 'https://app.qbo.intuit.com/app/invoice?txnId=130',
  entity: { Id: '130', DocNumber: '1037', TotalAmt: 12500, Balance: 0 },
};

/**
 * Intuit's webhooks: one URL per app (POST /webhooks/quickbooks), every company's changes, routed by
 * realmId to its connections; verified with the app's verifier token on the raw body before anything is
 * stored. Each notification's entity is fetched (CloudEvents carry no data) and stored with the event.
 */
export const changes: TriggerDefinition = {
  id: 'quickbooks.changes',
  title: 'Changes in a QuickBooks company (webhooks, with a CDC poll that catches up what they missed)',
  events: QUICKBOOKS_EVENTS,
  kind: 'webhook',
  sample,
  webhook: {
    async receive() {
      throw new HttpError(404, 'use_app_route', 'QuickBooks webhooks arrive at the app-level route POST /webhooks/quickbooks');
    },
    app: {
      route(req, connections) {
        // A body that does not parse cannot be routed: every candidate then checks the signature, which
        // fails (401) unless Intuit really signed it (and then the 400 comes from events()).
        let body: unknown;
        try {
          body = JSON.parse(req.rawBody.toString('utf8'));
        } catch {
          return connections.map((c) => c.id);
        }
        const realms = realmsOf(body);
        return connections.filter((c) => realms.includes(String(c.settings.realmId ?? ''))).map((c) => c.id);
      },
      secret: (conn) => conn.secrets.webhookVerifierToken || process.env.QBO_WEBHOOK_VERIFIER || undefined,
      verify: (req, secret) => verifyIntuitSignature(secret, req.rawBody, req.headers['intuit-signature']),
      async events(req, conn) {
        const realm = realmOf(conn);
        const notes = parseNotifications(parseBody(req)).filter((n) => n.realmId === realm);
        // Intuit retries a delivery not answered within 3 s: the fetch may wait ~2 s for a slot, then the
        // delivery fails (503) and Intuit sends it again.
        const found = await fetchEntities(conn, notes, 2000);
        const c = company(conn);
        return notes.map((n) => changeEvent(n, found.get(`${n.entity}:${n.id}`) ?? null, c, { notification: n }));
      },
    },
  },
};

/**
 * The CDC poll: `GET /cdc?entities=…&changedSince=<cursor>`, the cursor being QuickBooks' own clock (the
 * answer's `time`) minus an overlap. Each change gets the same event id as its webhook notification, so
 * what a webhook already delivered is dropped as a duplicate: the poll only adds what webhooks missed
 * (downtime, no public URL, a dropped delivery). A cursor older than 30 days asks the hub for a resync.
 */
export const cdcPoll: TriggerDefinition = {
  id: 'quickbooks.cdc',
  title: 'Changes in a QuickBooks company (change data capture poll)',
  events: QUICKBOOKS_EVENTS.filter((e) => CDC_ENTITIES.some((c) => e.startsWith(`quickbooks.${c.toLowerCase()}.`))),
  kind: 'polling',
  sample,
  poll: {
    params: [],
    skipHistory: true,
    async poll(ctx, _params, cursor) {
      const conn = ctx.connection;
      const realm = realmOf(conn);
      const since = cursor ? Date.parse(cursor) : NaN;
      if (cursor && (Number.isNaN(since) || Date.now() - since > CDC_MAX_DAYS * 86_400_000)) throw new CursorExpired();
      // The first poll (no cursor) asks for the last minute only, to learn QuickBooks' clock.
      const changedSince = new Date(Number.isNaN(since) ? Date.now() - CDC_OVERLAP_MS : since).toISOString();
      let body: { time?: string; CDCResponse?: unknown };
      try {
        body = await qboCall(conn, 'cdc', (qbo, cb) => qbo.changeDataCapture([...CDC_ENTITIES], changedSince, cb), { idempotent: true });
      } catch (err) {
        if (err instanceof StepError && err.details.code === '2010' && /changedSince/i.test(err.message))
          throw new CursorExpired(err.message);
        throw err;
      }
      const found = cdcChanges(realm, body);
      const c = company(conn);
      const events = found.map((f) => ({
        ...changeEvent(f.notification, f.entity, c, { cdc: true }),
        item: {
          id: `${f.notification.entity}:${f.notification.id}`,
          version: f.lastUpdated,
          deleted: f.notification.operation === 'deleted',
        },
      }));
      const serverNow = Date.parse(String(body.time ?? '').replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
      const full = found.length >= 1000;
      const latest = found.reduce((m, f) => Math.max(m, Date.parse(f.lastUpdated)), 0);
      const next = full ? latest : (Number.isNaN(serverNow) ? Date.now() : serverNow) - CDC_OVERLAP_MS;
      return { events, cursor: new Date(Math.max(next, Number.isNaN(since) ? 0 : since)).toISOString(), more: full };
    },
    async resync(ctx) {
      // A full listing of the watched entities as they are now (the hub emits what it had not seen).
      const conn = ctx.connection;
      const c = company(conn);
      const items: Array<{ id: string; version: string; event: TriggeredEvent }> = [];
      for (const entity of CDC_ENTITIES) {
        const rows = await query(conn, entity, 'maxresults 1000');
        for (const r of rows) {
          const at = String((r.MetaData as { LastUpdatedTime?: string } | undefined)?.LastUpdatedTime ?? '');
          const changed = cdcChanges(c.realmId, { CDCResponse: [{ QueryResponse: [{ [entity]: [r] }] }] })[0];
          if (!changed) continue;
          items.push({
            id: `${entity}:${String(r.Id)}`,
            version: changed.lastUpdated || at,
            event: changeEvent(changed.notification, r, c),
          });
        }
      }
      return { items, cursor: new Date(Date.now() - CDC_OVERLAP_MS).toISOString() };
    },
    deletedEvent(item) {
      const [entity, id] = item.id.split(':');
      return changeEvent(
        { realmId: '', entity: entity!, id: id!, operation: 'deleted', at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') },
        null,
        { realmId: '' },
      );
    },
  },
};
