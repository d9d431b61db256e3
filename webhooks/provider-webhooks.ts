import express, { type Request, type Response, type Router } from 'express';
import type { WebhookRequest } from '../core/connector.ts';
import { HttpError } from '../core/errors.ts';
import { ingestTriggered } from '../core/pipeline/ingest.ts';
import type { Runtime } from '../core/runtime.ts';
import { claimOnce } from '../core/replay.ts';

/**
 * Provider webhooks: /webhooks/:connectorId/:connectionId. The connector's webhook trigger verifies
 * the request the provider's way; every event is stored (unique on the provider's id) before the
 * reply goes out, so an acknowledged event is never lost and a redelivery is never run twice.
 */
export function providerWebhookRouter(rt: Runtime): Router {
  const router = express.Router();
  const raw = express.raw({ type: () => true, limit: rt.settings.DINGBRIDGE_BODY_LIMIT });

  const resolve = async (req: Request) => {
    const connectorId = String(req.params.connectorId);
    const connectionId = String(req.params.connectionId);
    const connector = rt.registry.connector(connectorId);
    const trigger = connector?.triggers.find((t) => t.webhook);
    if (!connector || !trigger?.webhook) throw new HttpError(404, 'no_webhook', `connector "${connectorId}" takes no webhooks`);
    const row = await rt.connections.store.get(connectionId);
    if (!row || row.connector_id !== connectorId) return undefined;
    const handle = await rt.connections.handle(connectionId);
    const base = (rt.settings.PUBLIC_URL ?? `${req.protocol}://${req.get('host')}`).replace(/\/+$/, '');
    const request: WebhookRequest = {
      method: req.method,
      url: `${base}${req.originalUrl}`,
      headers: req.headers,
      query: Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v)])),
      rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      acceptOnce: async (key, windowMs, ref) => {
        const claim = await claimOnce(rt.db, `webhook:${connectorId}:${connectionId}`, key, windowMs, ref ?? null);
        return claim.fresh ? { fresh: true, ref: ref ?? null } : { fresh: false, ref: claim.ref };
      },
    };
    return { connectorId, connectionId, trigger, webhook: trigger.webhook, handle, request };
  };

  const send = (res: Response, reply: { status: number; body?: unknown; headers?: Record<string, string> }) => {
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

  router.all('/webhooks/:connectorId/:connectionId', raw, async (req: Request, res: Response) => {
    const resolved = await resolve(req);
    if (req.method !== 'POST' && req.method !== 'HEAD' && req.method !== 'GET') throw new HttpError(405, 'method_not_allowed', 'provider webhooks are POSTed');
    if (!resolved) {
      if (req.method === 'POST') throw unverified();
      res.status(200).end();
      return;
    }
    const { connectorId, connectionId, webhook, handle, request } = resolved;
    if (req.method === 'HEAD' || req.method === 'GET') {
      send(res, webhook.check ? await webhook.check(request, handle) : { status: 200 });
      return;
    }
    const { events, reply } = await webhook.receive(request, handle);
    const stored = await ingestTriggered(rt, connectorId, connectionId, events);
    rt.log.info({ connectorId, connectionId, events: stored.map((s) => s.id), duplicates: stored.filter((s) => s.duplicate).length }, 'provider webhook stored');
    send(res, reply);
  });
  return router;
}
