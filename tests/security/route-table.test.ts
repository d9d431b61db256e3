import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import type { Router } from 'express';
import { API_KEY_SCOPES } from '../../config/scopes.ts';
import { buildRouters } from '../../app/routes.ts';
import type { Hub } from '../../app/hub.ts';
import { prepareEnvironment, startTestHub, type Environment } from '../helpers/hub.ts';
import { services } from '../helpers/services.ts';
import { allPrincipals, type Principal } from './principals.ts';

const available = await services();

/**
 * Every /api and /oauth route × every principal kind, checked against this table of who may call
 * what. The routes come from the hub's own routers (the Express stacks of every router in
 * app/routes.ts, so a route registered without `route()` is caught too): a route without a rule here
 * fails the suite. `who`: public (anyone), session (a signed-in user only), or the lowest role;
 * `scope`: the API-key scope that reaches it (`*` any key; none: keys refused).
 */
type Rule = { who: 'public' | 'session' | 'viewer' | 'admin' | 'owner'; scope?: string };
const pub: Rule = { who: 'public' };
const session: Rule = { who: 'session' };
const r = (who: Rule['who'], scope?: string): Rule => ({ who, scope });

export const TABLE: Record<string, Rule> = {
  'GET /api/openapi.json': pub,
  // accounts
  'GET /api/v1/auth/status': pub,
  'POST /api/v1/auth/setup': pub,
  'POST /api/v1/auth/login': pub,
  'POST /api/v1/auth/logout': session,
  'POST /api/v1/auth/password': session,
  'POST /api/v1/auth/2fa/setup': session,
  'POST /api/v1/auth/2fa/enable': session,
  'POST /api/v1/auth/2fa/disable': session,
  'GET /api/v1/security': r('viewer'),
  'PUT /api/v1/security': r('owner'),
  'GET /api/v1/users': r('owner'),
  'POST /api/v1/users': r('owner'),
  'PATCH /api/v1/users/:id': r('owner'),
  'DELETE /api/v1/users/:id': r('owner'),
  // audit
  'GET /api/v1/audit': r('admin', 'audit:read'),
  'GET /api/v1/audit.csv': r('admin', 'audit:read'),
  // flows, recipes, catalog
  'GET /api/v1/catalog': r('viewer', 'flows:read'),
  'GET /api/v1/flows': r('viewer', 'flows:read'),
  'GET /api/v1/flows/:id': r('viewer', 'flows:read'),
  'POST /api/v1/flows/validate': r('viewer', 'flows:read'),
  'POST /api/v1/flows/preview': r('viewer', 'flows:read'),
  'POST /api/v1/flows': r('admin', 'flows:write'),
  'PUT /api/v1/flows/:id': r('admin', 'flows:write'),
  'DELETE /api/v1/flows/:id': r('admin', 'flows:write'),
  'POST /api/v1/flows/:id/enable': r('admin', 'flows:write'),
  'POST /api/v1/flows/:id/disable': r('admin', 'flows:write'),
  'POST /api/v1/flows/:id/test': r('admin', 'flows:write'),
  'GET /api/v1/recipes': r('viewer', 'flows:read'),
  // two-way calendar sync
  'GET /api/v1/calendar-sync': r('viewer', 'triggers:read'),
  'POST /api/v1/calendar-sync/:syncId/run': r('admin', 'triggers:write'),
  'POST /api/v1/calendar-sync/:syncId/people/:personId/resync': r('admin', 'triggers:write'),
  'POST /api/v1/recipes/:id/instantiate': r('admin', 'flows:write'),
  // runs
  'GET /api/v1/runs': r('viewer', 'runs:read'),
  'GET /api/v1/runs/stream': r('viewer', 'runs:read'),
  'GET /api/v1/runs/:eventId': r('viewer', 'runs:read'),
  'POST /api/v1/runs/:eventId/replay': r('admin', 'runs:write'),
  'POST /api/v1/runs/steps/:stepRunId/replay': r('admin', 'runs:write'),
  'POST /api/v1/runs/replay': r('admin', 'runs:write'),
  // catch hooks
  'POST /api/v1/catch-hooks': r('admin', 'catch_hooks:write'),
  'GET /api/v1/catch-hooks': r('viewer', 'catch_hooks:read'),
  'GET /api/v1/catch-hooks/:id': r('viewer', 'catch_hooks:read'),
  'POST /api/v1/catch-hooks/:id/rotate': r('admin', 'catch_hooks:write'),
  'DELETE /api/v1/catch-hooks/:id': r('admin', 'catch_hooks:write'),
  // REST hooks and events
  'POST /api/v1/hooks': r('admin', 'hooks:write'),
  'GET /api/v1/hooks': r('viewer', 'hooks:read'),
  'GET /api/v1/hooks/:id': r('viewer', 'hooks:read'),
  'PATCH /api/v1/hooks/:id': r('admin', 'hooks:write'),
  'DELETE /api/v1/hooks/:id': r('admin', 'hooks:write'),
  'POST /api/v1/hooks/:id/rotate-secret': r('admin', 'hooks:write'),
  'GET /api/v1/hooks/:id/deliveries': r('viewer', 'hooks:read'),
  'GET /api/v1/hooks/:id/deliveries/:deliveryId': r('viewer', 'hooks:read'),
  'POST /api/v1/hooks/:id/deliveries/:deliveryId/replay': r('admin', 'hooks:write'),
  'POST /api/v1/hooks/:id/recover': r('admin', 'hooks:write'),
  'GET /api/v1/events/types': r('viewer', 'events:read'),
  'GET /api/v1/events/samples': r('viewer', 'events:read'),
  // API keys
  'POST /api/v1/api-keys': r('owner'),
  'GET /api/v1/api-keys': r('owner'),
  'DELETE /api/v1/api-keys/:id': r('owner'),
  'GET /api/v1/me': r('viewer', '*'),
  // actions
  'GET /api/v1/actions': r('viewer', 'actions:run'),
  'POST /api/v1/actions/:actionId/run': r('admin', 'actions:run'),
  // connections: changing, testing and connecting are never open to API keys
  'GET /api/v1/connections': r('viewer', 'connections:read'),
  'GET /api/v1/connections/:id': r('viewer', 'connections:read'),
  'POST /api/v1/connections': r('admin'),
  'PATCH /api/v1/connections/:id': r('admin'),
  'DELETE /api/v1/connections/:id': r('admin'),
  'POST /api/v1/connections/:id/disable': r('admin'),
  'POST /api/v1/connections/:id/enable': r('admin'),
  'POST /api/v1/connections/:id/test': r('admin'),
  'POST /api/v1/connections/:id/authorize': r('admin'),
  'GET /api/v1/connections/:id/choices/:name': r('admin'),
  // provider apps: their secrets are written by admins only, never by keys
  'GET /api/v1/apps': r('viewer', 'connections:read'),
  'GET /api/v1/apps/:id': r('viewer', 'connections:read'),
  'POST /api/v1/apps': r('admin'),
  'PATCH /api/v1/apps/:id': r('admin'),
  'DELETE /api/v1/apps/:id': r('admin'),
  // files between steps: a run's files are downloaded by admins (and keys that read runs)
  'GET /api/v1/runs/:eventId/files': r('admin', 'runs:read'),
  'GET /api/v1/files/:fileId': r('admin', 'runs:read'),
  // triggers
  'GET /api/v1/triggers': r('viewer', 'triggers:read'),
  'POST /api/v1/triggers/:id/poll': r('admin', 'triggers:write'),
  'POST /api/v1/triggers/:id/resync': r('admin', 'triggers:write'),
  'POST /api/v1/triggers/:id/renew': r('admin', 'triggers:write'),
  // people directory
  'GET /api/v1/people': r('viewer', 'people:read'),
  'GET /api/v1/people.csv': r('viewer', 'people:read'),
  'GET /api/v1/people/:id': r('viewer', 'people:read'),
  'PATCH /api/v1/people/:id': r('admin', 'people:write'),
  'POST /api/v1/people/import': r('admin', 'people:write'),
  'POST /api/v1/people/sync': r('admin', 'people:write'),
  'POST /api/v1/people/provision': r('admin', 'people:write'),
  // adoption KPIs
  'GET /api/v1/kpis': r('viewer', 'kpis:read'),
  'POST /api/v1/kpis/backfill': r('admin', 'kpis:write'),
  // OAuth: start needs an admin (POST with CSRF); the provider's answers are public but need a state
  'GET /oauth/:connectorId/start': pub,
  'POST /oauth/:connectorId/start': r('admin'),
  'GET /oauth/:connectorId/token': pub,
  'POST /oauth/:connectorId/token': pub,
  'GET /oauth/:connectorId/callback': pub,
};

const RANK = { viewer: 0, admin: 1, owner: 2 } as const;

export function mayCall(rule: Rule, p: Principal): boolean {
  if (rule.who === 'public') return true;
  if (p.kind === 'anonymous') return false;
  if (rule.who === 'session') return p.kind === 'session';
  if (p.kind === 'api_key') return rule.scope === '*' || (rule.scope !== undefined && rule.scope === p.scope);
  return RANK[p.role!] >= RANK[rule.who];
}

/** Every METHOD path of /api and /oauth in the routers the hub mounts. */
export function registeredRoutes(routers: Router[]): string[] {
  const out = new Set<string>();
  for (const router of routers) {
    for (const layer of (router as unknown as { stack: { route?: { path: unknown; methods: Record<string, boolean> } }[] }).stack) {
      if (!layer.route || typeof layer.route.path !== 'string') continue;
      const path = layer.route.path;
      if (!/^\/(api|oauth)(\/|$)/.test(path)) continue;
      for (const m of Object.keys(layer.route.methods)) out.add(`${m === '_all' ? 'ALL' : m.toUpperCase()} ${path}`);
    }
  }
  return [...out].sort();
}

describe('security: every /api route × every principal kind', { skip: available.postgres ? false : 'needs PostgreSQL' }, () => {
  let environment: Environment;
  let hub: Hub;
  let routes: string[];

  before(async () => {
    environment = await prepareEnvironment({ name: 'route-table', store: 'external', queue: 'postgres' }, 'route-table');
    hub = await startTestHub(environment);
    routes = registeredRoutes(buildRouters(hub.runtime, { version: 1, apps: [], hooks: [], flows: [], connections: [], recipes: [] }));
  });
  after(async () => {
    await hub?.stop();
    await environment?.cleanup();
  });

  test('every registered route has a rule in the table (a new route without one fails here)', () => {
    assert.ok(routes.length > 60, `found only ${routes.length} routes`);
    const missing = routes.filter((key) => !TABLE[key]);
    assert.deepEqual(missing, [], `routes without a rule in tests/security/route-table.test.ts: ${missing.join(', ')}`);
    const stale = Object.keys(TABLE).filter((key) => !routes.includes(key));
    assert.deepEqual(stale, [], `rules for routes that do not exist: ${stale.join(', ')}`);
  });

  test('every scope a route declares is one an owner can grant, and the UI offers them all', () => {
    const declared = new Set(Object.values(TABLE).flatMap((rule) => (rule.scope && rule.scope !== '*' ? [rule.scope] : [])));
    for (const scope of declared) assert.ok(scope in API_KEY_SCOPES, `${scope} is not a grantable scope`);
    const page = fs.readFileSync(path.join(import.meta.dirname, '../../config/ui/src/pages/api-keys.tsx'), 'utf8');
    for (const scope of Object.keys(API_KEY_SCOPES)) assert.ok(page.includes(`'${scope}'`), `the API keys page does not offer ${scope}`);
  });

  test('every /api route is in the OpenAPI document, with the API-key scope the table gives it', async () => {
    const doc = (await fetch(`${hub.url}/api/openapi.json`).then((res) => res.json())) as {
      paths: Record<string, Record<string, { 'x-api-key-scope'?: string | null }>>;
    };
    const problems: string[] = [];
    for (const key of routes.filter((k) => k.includes(' /api/'))) {
      const [method, pattern] = key.split(' ') as [string, string];
      const op = doc.paths[pattern.replace(/:([A-Za-z0-9_]+)/g, '{$1}')]?.[method.toLowerCase()];
      if (!op) {
        problems.push(`${key} is not documented`);
        continue;
      }
      const rule = TABLE[key];
      if (!rule || rule.who === 'public' || rule.who === 'session') continue;
      const want = rule.scope === '*' ? 'any' : (rule.scope ?? null);
      if (op['x-api-key-scope'] !== want) problems.push(`${key}: documented scope ${op['x-api-key-scope']}, the hub enforces ${want}`);
    }
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('each principal gets 401/403 exactly where the table says it may not call', async () => {
    const principals = await allPrincipals(hub);
    // Signing out ends the session the other calls use: it goes last.
    const ordered = [...routes].sort((a, b) => Number(a.endsWith('/logout')) - Number(b.endsWith('/logout')));
    const wrong: string[] = [];
    for (const p of principals) {
      for (const key of ordered) {
        const rule = TABLE[key];
        if (!rule) continue;
        const [method, pattern] = key.split(' ') as [string, string];
        // Ids that do not exist: an allowed call ends in 400/404, never changes anything real.
        const path = pattern.replace(':actionId', 'nope.nothing').replace(/:([A-Za-z]+)/g, 'no-such-$1');
        const body = method === 'GET' || method === 'DELETE' ? undefined : {};
        const res = await p.call(method, path, body);
        const denied = res.status === 401 || res.status === 403;
        const allowed = mayCall(rule, p);
        if (allowed === denied)
          wrong.push(
            `${p.name}: ${key} → ${res.status} (${allowed ? 'should be allowed' : 'should be refused'}) ${JSON.stringify(res.json?.error ?? '')}`,
          );
      }
    }
    assert.deepEqual(wrong, [], wrong.join('\n'));
  });
});
