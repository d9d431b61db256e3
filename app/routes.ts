import type { Router } from 'express';
import type { Runtime } from '../core/runtime.ts';
import type { ConfigFile } from '../config/schema.ts';
import { catchHookRouter } from '../webhooks/catch-hooks.ts';
import { catchHookSource, catchHooksAdminRouter } from '../webhooks/catch-hooks-admin.ts';
import { restHooksRouter } from '../webhooks/rest-hooks/index.ts';
import { apiKeysRouter } from '../config/api-keys.ts';
import { actionsRouter } from '../config/actions-api.ts';
import { openApiRouter } from '../config/openapi.ts';
import { connectionsRouter } from '../config/connections-api.ts';
import { peopleRouter } from '../config/people-api.ts';
import { calendarSyncRouter } from '../config/calendar-sync-api.ts';
import { oauthRouter } from '../config/oauth-routes.ts';
import { filesRouter } from '../config/files-api.ts';
import { appsRouter } from '../config/apps-api.ts';
import { providerWebhookRouter } from '../webhooks/provider-webhooks.ts';
import { triggersRouter } from '../config/triggers-api.ts';
import { adminUiRouters, uiStaticRouter } from '../config/ui/serve.ts';
import { kpisRouter } from '../config/kpis/api.ts';

/** Every feature's HTTP routes, in the order they are mounted. A feature adds its router here. */
export function buildRouters(rt: Runtime, config: ConfigFile): Router[] {
  const hooks = new Map(config.hooks.map((h) => [h.id, h]));
  return [
    // First: the busiest route, which no admin middleware concerns (each router in front of it costs
    // every event a walk through its layers).
    catchHookRouter(rt, catchHookSource(rt, hooks)),
    // Audit trail, UI sessions, accounts, audit log, flows and runs APIs (before every admin route).
    ...adminUiRouters(
      rt,
      [...hooks.values()].map((h) => ({ id: h.id, name: h.name ?? null })),
      config.flowsAsWritten,
    ),
    catchHooksAdminRouter(rt, hooks),
    restHooksRouter(rt),
    apiKeysRouter(rt),
    actionsRouter(rt),
    openApiRouter(rt),
    connectionsRouter(rt),
    peopleRouter(rt),
    calendarSyncRouter(rt, config.calendarSync ?? []),
    oauthRouter(rt),
    filesRouter(rt),
    appsRouter(rt),
    triggersRouter(rt),
    providerWebhookRouter(rt),
    kpisRouter(rt),
    // The config UI's files and SPA fallback: last, so it never shadows a route above.
    uiStaticRouter(rt),
  ];
}
