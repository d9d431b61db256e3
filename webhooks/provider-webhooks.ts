import express, { type Request, type Response, type Router } from 'express';
import type { TriggerDefinition, WebhookContext, WebhookReply, WebhookRequest } from '../core/connector.ts';
import { HttpError } from '../core/errors.ts';
import { ingestTriggered } from '../core/pipeline/ingest.ts';
import type { Runtime } from '../core/runtime.ts';
import { claimOnce } from '../core/replay.ts';
import { requestPollFor } from '../core/triggers/pollers.ts';
import { findSubscription } from '../core/triggers/subscriptions.ts';

/**
 * Provider webhooks: per connection at /webhooks/:connectorId/:connectionId, and per app at
 * /webhooks/:connectorId (providers that send every account's events to one URL). The connector's
 * webhook trigger verifies the request the provider's way; every event is stored (unique on the
 * provider's id) before the reply goes out, so an acknowledged event is never lost and a redelivery is
 * never run twice.
 */
const SAVE_GRACE_TRIES = 8;

export function providerWebhookRouter(rt: Runtime): Router {
  const router = express.Router();
  const raw = express.raw({ type: () => true, limit: rt.settings.DINGBRIDGE_BODY_LIMIT });

  const toRequest = (req: Request, replayScope: string): WebhookRequest => {
    const base = (rt.settings.PUBLIC_URL ?? `${req.protocol}://${req.get('host')}`).replace(/\/+$/, '');
    return {
      method: req.method,
      url: `${base}${req.originalUrl}`,
      headers: req.headers,
      query: Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v)])),
      rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      acceptOnce: async (key, windowMs, ref) => {
        const claim = await claimOnce(rt.db, replayScope, key, windowMs, ref ?? null);
        return claim.fresh ? { fresh: true, ref: ref ?? null } : { fresh: false, ref: claim.ref };
      },
    };
  };

  const send = (res: Response, reply: WebhookReply) => {
    for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
    if (reply.body === undefined) res.status(reply.status).end();
    else if (typeof reply.body === 'string') res.status(reply.status).send(reply.body);
    else res.status(reply.status).json(reply.body);
  };

  /**
   * Whether a connection id exists is not told to strangers: an unknown id answers a check like a
   * connection without a check of its own (200) and a POST like a bad signature (401 signature_invalid).
   */
  const unverified = () => new HttpError(401, 'signature_invalid', 'the signature does not verify');

  /**
   * Which of the connector's webhook triggers a request is for: the one whose subscription it matches
   * (e.g. a channel id header), the one the callback URL names (`?trigger=`), the first that accepts it.
   */
  const pickTrigger = async (
    triggers: TriggerDefinition[],
    connectionId: string,
    request: WebhookRequest,
  ): Promise<{ trigger: TriggerDefinition; ctx: WebhookContext }> => {
    for (const t of triggers) {
      const externalId = t.subscription?.match?.(request);
      if (!externalId) continue;
      // A provider may notify a new registration before the hub has saved it (Google's "sync" message
      // right after channels.watch): an unknown id gets a short grace before it is refused.
      let subscription = await findSubscription(rt, connectionId, t.id, externalId);
      for (let n = 0; !subscription && n < SAVE_GRACE_TRIES; n += 1) {
        await new Promise((r) => setTimeout(r, 250));
        subscription = await findSubscription(rt, connectionId, t.id, externalId);
      }
      // An unknown channel is not ours (or was stopped long ago): nothing to store.
      if (!subscription) throw new HttpError(404, 'unknown_subscription', 'no subscription of this connection matches the request');
      return { trigger: t, ctx: { subscription } };
    }
    const named = request.query.trigger ? triggers.find((t) => t.id === request.query.trigger) : undefined;
    if (request.query.trigger && !named) throw new HttpError(404, 'no_webhook', `no webhook trigger "${request.query.trigger}"`);
    const trigger = named ?? triggers.find((t) => t.webhook!.accepts?.(request) ?? true);
    if (!trigger) throw new HttpError(404, 'no_webhook', 'no webhook trigger of this connector takes this request');
    return { trigger, ctx: {} };
  };

  router.all('/webhooks/:connectorId/:connectionId', raw, async (req: Request, res: Response) => {
    const connectorId = String(req.params.connectorId);
    const connectionId = String(req.params.connectionId);
    const triggers = rt.registry.connector(connectorId)?.triggers.filter((t) => t.webhook) ?? [];
    if (!triggers.length) throw new HttpError(404, 'no_webhook', `connector "${connectorId}" takes no webhooks`);
    if (req.method !== 'POST' && req.method !== 'HEAD' && req.method !== 'GET')
      throw new HttpError(405, 'method_not_allowed', 'provider webhooks are POSTed');
    const row = await rt.connections.store.get(connectionId);
    if (!row || row.connector_id !== connectorId) {
      if (req.method === 'POST') throw unverified();
      res.status(200).end();
      return;
    }
    const handle = await rt.connections.handle(connectionId);
    const request = toRequest(req, `webhook:${connectorId}:${connectionId}`);
    if (req.method === 'HEAD' || req.method === 'GET') {
      const webhook =
        (request.query.trigger ? triggers.find((t) => t.id === request.query.trigger) : triggers[0])?.webhook ?? triggers[0]!.webhook!;
      send(res, webhook.check ? await webhook.check(request, handle) : { status: 200 });
      return;
    }
    const { trigger, ctx } = await pickTrigger(triggers, connectionId, request);
    const { events, reply, pollNow } = await trigger.webhook!.receive(request, handle, ctx);
    const stored = await ingestTriggered(rt, connectorId, connectionId, events);
    if (pollNow) await requestPollFor(rt, connectionId, ctx.subscription?.params ?? {});
    rt.log.info(
      {
        connectorId,
        connectionId,
        trigger: trigger.id,
        subscription: ctx.subscription?.id,
        previous: ctx.subscription?.previous,
        events: stored.map((s) => s.id),
        duplicates: stored.filter((s) => s.duplicate).length,
        pollNow: Boolean(pollNow),
      },
      'provider webhook stored',
    );
    send(res, reply);
  });

  /**
   * App-level webhooks: one URL for every connection of a provider app. The connector routes the
   * request to its connections; it must verify with each routed connection's app secret (401 and
   * nothing stored otherwise); each connection's events are stored before the reply.
   */
  router.post('/webhooks/:connectorId', raw, async (req: Request, res: Response) => {
    const connectorId = String(req.params.connectorId);
    const triggers = rt.registry.connector(connectorId)?.triggers.filter((t) => t.webhook?.app) ?? [];
    if (!triggers.length) throw new HttpError(404, 'no_webhook', `connector "${connectorId}" takes no app-level webhooks`);
    const request = toRequest(req, `webhook:${connectorId}:app`);
    const rows = (await rt.connections.store.list()).filter((c) => c.connector_id === connectorId && c.status !== 'disabled');
    // Full views: a connection that uses a registered provider app gets the app's client id and verifier token.
    const views = new Map(await Promise.all(rows.map(async (c) => [c.id, await rt.connections.store.fullView(c)] as const)));
    const candidates = rows.map((c) => ({ id: c.id, settings: views.get(c.id)!.settings }));
    const trigger = triggers.find((t) => t.webhook!.accepts?.(request) ?? true) ?? triggers[0]!;
    const app = trigger.webhook!.app!;
    const routed = [...new Set(await app.route(request, candidates))].filter((id) => rows.some((r) => r.id === id));
    if (!routed.length) throw new HttpError(404, 'connection_not_found', 'no connection of this app matches the request');
    for (const id of routed) {
      const secret = app.secret(views.get(id)!);
      if (!secret || !app.verify(request, secret))
        throw new HttpError(401, 'invalid_signature', "the request is not signed with the app's secret");
    }
    const storedBy: Record<string, number> = {};
    for (const id of routed) {
      const events = await app.events(request, await rt.connections.handle(id));
      storedBy[id] = (await ingestTriggered(rt, connectorId, id, events)).filter((s) => !s.duplicate).length;
    }
    rt.log.info({ connectorId, trigger: trigger.id, stored: storedBy }, 'app-level provider webhook stored');
    send(res, app.reply ?? { status: 200, body: { ok: true } });
  });
  return router;
}
