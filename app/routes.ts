import type { Router } from 'express';
import type { Runtime } from '../core/runtime.ts';
import type { ConfigFile } from '../config/schema.ts';
import { catchHookRouter } from '../webhooks/catch-hooks.ts';
import { connectionsRouter } from '../config/connections-api.ts';
import { oauthRouter } from '../config/oauth-routes.ts';
import { providerWebhookRouter } from '../webhooks/provider-webhooks.ts';

/** Every feature's HTTP routes, in the order they are mounted. A feature adds its router here. */
export function buildRouters(rt: Runtime, config: ConfigFile): Router[] {
  const hooks = new Map(config.hooks.map((h) => [h.id, h]));
  return [
    catchHookRouter(rt, { get: (id) => hooks.get(id) }),
    connectionsRouter(rt),
    oauthRouter(rt),
    providerWebhookRouter(rt),
  ];
}
