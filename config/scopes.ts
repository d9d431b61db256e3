/**
 * What an API key may be granted. A key reaches only routes that declare one of its scopes; every
 * other route (users, security, API keys, changing connections, OAuth, sign-in) refuses keys.
 * Kept apart from api-keys.ts so the OpenAPI document can list them without an import cycle.
 */
export const API_KEY_SCOPES = {
  'hooks:read': 'list and read REST-hook subscriptions and their deliveries',
  'hooks:write': 'create, change and delete REST-hook subscriptions; replay and recover deliveries',
  'events:read': 'read recent events and samples of an event type',
  'actions:run': 'run a registered action (http.post, dingtalk.*) through POST /api/v1/actions/:actionId/run',
  'catch_hooks:read': 'list and read catch hooks',
  'catch_hooks:write': 'create, rotate and delete catch hooks',
  'flows:read': 'list and read flows (secret inputs masked, header values hidden), the catalog and recipes; validate and preview templates',
  'flows:write':
    'create, change, delete, enable and disable flows, make flows from recipes, and test-run flows (only flows without connection steps, unless the key also has connections:use)',
  'runs:read': 'list and read runs (events, steps and attempts; header values hidden) and their change stream',
  'runs:write': 'replay failed events and steps',
  'audit:read': 'read and export the audit log',
  'connections:read': 'list and read connections (never their credentials)',
  'triggers:read': 'list every trigger and its health (GET /api/v1/triggers)',
  'triggers:write': 'poll now, resync and renew triggers',
  'people:read': 'list, search and export the people directory',
  'people:write': 'import people from CSV, link identities by hand, sync and provision the directory',
  'kpis:read': 'read the adoption KPIs (GET /api/v1/kpis, JSON or CSV)',
  'kpis:write': 'read past approvals from the providers and roll the KPI history up (POST /api/v1/kpis/backfill)',
  'connections:use':
    "act through a connection: run an action with a connection_id, and save or test-run flows whose steps name a connection (the hub then sends that connection's token to its API)",
} as const;
