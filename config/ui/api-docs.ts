import { z } from 'zod';
import { flowSchema } from '../../core/flows.ts';
import { documentOperation, type OperationSpec } from '../openapi.ts';
import { auditQuerySchema } from '../audit.ts';
import { runsQuerySchema } from '../runs-api.ts';

/**
 * The config UI's API in the OpenAPI document (GET /api/openapi.json): accounts, users, security,
 * audit, catalog, flows, recipes and runs. These routes validate their input at the edge themselves;
 * this only describes them.
 */
const ok = (description = 'OK') => ({ 200: { description } });
const id = z.object({ id: z.string() });
const ops: OperationSpec[] = [
  { method: 'get', path: '/api/v1/auth/status', operationId: 'authStatus', summary: 'Whether first-run setup is needed, the signed-in user and the session\'s CSRF token', tags: ['Accounts'], responses: ok() },
  { method: 'post', path: '/api/v1/auth/setup', operationId: 'setupOwner', summary: 'First run only: create the owner and sign in', tags: ['Accounts'], body: z.object({ email: z.string(), name: z.string().optional(), password: z.string().min(10) }), responses: { 201: { description: 'Created and signed in' }, 409: { description: 'The hub has an owner already' } } },
  { method: 'post', path: '/api/v1/auth/login', operationId: 'login', summary: 'Sign in (sets the session cookie); `code` is the TOTP or a recovery code when 2FA is on', tags: ['Accounts'], body: z.object({ email: z.string(), password: z.string(), code: z.string().optional() }), responses: { 200: { description: 'Signed in' }, 401: { description: 'Wrong credentials, or `totp_required`' }, 429: { description: 'Too many failed sign-ins' } } },
  { method: 'post', path: '/api/v1/auth/logout', operationId: 'logout', summary: 'Sign out (needs X-CSRF-Token)', tags: ['Accounts'], responses: { 204: { description: 'Signed out' } } },
  { method: 'post', path: '/api/v1/auth/password', operationId: 'changePassword', summary: 'Change your password', tags: ['Accounts'], body: z.object({ current: z.string(), password: z.string().min(10) }), responses: { 204: { description: 'Changed' } } },
  { method: 'post', path: '/api/v1/auth/2fa/setup', operationId: 'totpSetup', summary: 'Start TOTP setup: a secret, its otpauth URL and a QR code', tags: ['Accounts'], responses: ok() },
  { method: 'post', path: '/api/v1/auth/2fa/enable', operationId: 'totpEnable', summary: 'Confirm TOTP with a code; returns 10 recovery codes (shown once)', tags: ['Accounts'], body: z.object({ code: z.string() }), responses: ok() },
  { method: 'post', path: '/api/v1/auth/2fa/disable', operationId: 'totpDisable', summary: 'Turn TOTP off (needs the password)', tags: ['Accounts'], body: z.object({ password: z.string() }), responses: { 204: { description: 'Off' } } },
  { method: 'get', path: '/api/v1/security', operationId: 'getSecurity', summary: 'The hub\'s security policy', tags: ['Accounts'], auth: { role: 'viewer' }, responses: ok() },
  { method: 'put', path: '/api/v1/security', operationId: 'setSecurity', summary: 'Require 2FA for everyone (owner)', tags: ['Accounts'], auth: { role: 'owner' }, body: z.object({ require2fa: z.boolean() }), responses: ok() },
  { method: 'get', path: '/api/v1/users', operationId: 'listUsers', summary: 'Users (owner)', tags: ['Accounts'], auth: { role: 'owner' }, responses: ok() },
  { method: 'post', path: '/api/v1/users', operationId: 'createUser', summary: 'Add a user (owner)', tags: ['Accounts'], auth: { role: 'owner' }, body: z.object({ email: z.string(), name: z.string().optional(), role: z.enum(['owner', 'admin', 'viewer']), password: z.string().min(10) }), responses: { 201: { description: 'Created' } } },
  { method: 'patch', path: '/api/v1/users/:id', operationId: 'updateUser', summary: 'Change a user\'s role, name, password, or disable them (owner)', tags: ['Accounts'], auth: { role: 'owner' }, params: id, body: z.object({ name: z.string().optional(), role: z.enum(['owner', 'admin', 'viewer']).optional(), disabled: z.boolean().optional(), password: z.string().optional() }), responses: ok() },
  { method: 'delete', path: '/api/v1/users/:id', operationId: 'deleteUser', summary: 'Remove a user (owner)', tags: ['Accounts'], auth: { role: 'owner' }, params: id, responses: { 204: { description: 'Removed' } } },
  { method: 'get', path: '/api/v1/audit', operationId: 'listAudit', summary: 'The audit log, newest first (read-only)', tags: ['Audit'], auth: { role: 'admin', scope: 'audit:read' }, query: auditQuerySchema, responses: ok() },
  { method: 'get', path: '/api/v1/audit.csv', operationId: 'exportAudit', summary: 'The audit log as CSV', tags: ['Audit'], auth: { role: 'admin', scope: 'audit:read' }, query: auditQuerySchema, responses: { 200: { description: 'CSV', schema: z.string(), contentType: 'text/csv' } } },
  { method: 'get', path: '/api/v1/catalog', operationId: 'catalog', summary: 'Connectors with their auth fields, event types, actions\' input JSON schemas, catch hooks (no secrets)', tags: ['Flows'], auth: { role: 'viewer', scope: 'flows:read' }, responses: ok() },
  { method: 'get', path: '/api/v1/flows', operationId: 'listFlows', summary: 'Flows (config file and UI) with their last run', tags: ['Flows'], auth: { role: 'viewer', scope: 'flows:read' }, responses: ok() },
  { method: 'post', path: '/api/v1/flows', operationId: 'createFlow', summary: 'Create a flow', tags: ['Flows'], auth: { role: 'admin', scope: 'flows:write' }, body: flowSchema, responses: { 201: { description: 'Created' }, 409: { description: 'The id is taken' } } },
  { method: 'post', path: '/api/v1/flows/validate', operationId: 'validateFlow', summary: 'Check a flow; every problem with its path', tags: ['Flows'], auth: { role: 'viewer', scope: 'flows:read' }, body: z.record(z.string(), z.unknown()), responses: ok() },
  { method: 'post', path: '/api/v1/flows/preview', operationId: 'previewTemplate', summary: 'Render a mapping / evaluate a condition against an event or the trigger\'s sample', tags: ['Flows'], auth: { role: 'viewer', scope: 'flows:read' }, body: z.object({ mapping: z.unknown().optional(), condition: z.string().optional(), eventId: z.string().optional(), eventType: z.string().optional(), data: z.record(z.string(), z.unknown()).optional() }), responses: ok() },
  { method: 'get', path: '/api/v1/flows/:id', operationId: 'getFlow', summary: 'One flow', tags: ['Flows'], auth: { role: 'viewer', scope: 'flows:read' }, params: id, responses: ok() },
  { method: 'put', path: '/api/v1/flows/:id', operationId: 'updateFlow', summary: 'Replace a flow (config-file flows are read-only: 409)', tags: ['Flows'], auth: { role: 'admin', scope: 'flows:write' }, params: id, body: z.record(z.string(), z.unknown()), responses: ok() },
  { method: 'delete', path: '/api/v1/flows/:id', operationId: 'deleteFlow', summary: 'Delete a flow', tags: ['Flows'], auth: { role: 'admin', scope: 'flows:write' }, params: id, responses: { 204: { description: 'Deleted' } } },
  { method: 'post', path: '/api/v1/flows/:id/enable', operationId: 'enableFlow', summary: 'Switch a flow on', tags: ['Flows'], auth: { role: 'admin', scope: 'flows:write' }, params: id, responses: ok() },
  { method: 'post', path: '/api/v1/flows/:id/disable', operationId: 'disableFlow', summary: 'Switch a flow off', tags: ['Flows'], auth: { role: 'admin', scope: 'flows:write' }, params: id, responses: ok() },
  { method: 'post', path: '/api/v1/flows/:id/test', operationId: 'testFlow', summary: 'Run this flow now on a test event (sample data, posted data or a stored event)', tags: ['Flows'], auth: { role: 'admin', scope: 'flows:write' }, params: id, body: z.object({ eventId: z.string().optional(), data: z.record(z.string(), z.unknown()).optional() }), responses: { 202: { description: 'Started' } } },
  { method: 'get', path: '/api/v1/recipes', operationId: 'listRecipes', summary: 'Built-in recipes whose actions this hub has', tags: ['Flows'], auth: { role: 'viewer', scope: 'flows:read' }, responses: ok() },
  { method: 'post', path: '/api/v1/recipes/:id/instantiate', operationId: 'instantiateRecipe', summary: 'Make a flow from a recipe and its fields', tags: ['Flows'], auth: { role: 'admin', scope: 'flows:write' }, params: id, body: z.object({ flowId: z.string(), name: z.string().optional(), enabled: z.boolean().optional(), fields: z.record(z.string(), z.string()) }), responses: { 201: { description: 'Created' } } },
  { method: 'get', path: '/api/v1/runs', operationId: 'listRuns', summary: 'Events with their step runs, newest first (filters and paging)', tags: ['Runs'], auth: { role: 'viewer', scope: 'runs:read' }, query: runsQuerySchema, responses: ok() },
  { method: 'get', path: '/api/v1/runs/stream', operationId: 'runsStream', summary: 'Server-sent events: `change` when an event or step changed', tags: ['Runs'], auth: { role: 'viewer', scope: 'runs:read' }, responses: { 200: { description: 'An event stream', schema: z.string(), contentType: 'text/event-stream' } } },
  { method: 'get', path: '/api/v1/runs/:eventId', operationId: 'getRun', summary: 'One event with every step and attempt (redacted request and response)', tags: ['Runs'], auth: { role: 'viewer', scope: 'runs:read' }, params: z.object({ eventId: z.string() }), responses: ok() },
  { method: 'post', path: '/api/v1/runs/:eventId/replay', operationId: 'replayRun', summary: 'Run the failed steps of an event again', tags: ['Runs'], auth: { role: 'admin', scope: 'runs:write' }, params: z.object({ eventId: z.string() }), responses: ok() },
  { method: 'post', path: '/api/v1/runs/steps/:stepRunId/replay', operationId: 'replayStepRun', summary: 'Run one failed step again', tags: ['Runs'], auth: { role: 'admin', scope: 'runs:write' }, params: z.object({ stepRunId: z.string() }), responses: ok() },
  { method: 'post', path: '/api/v1/runs/replay', operationId: 'bulkReplay', summary: 'Replay every failed event a filter matches', tags: ['Runs'], auth: { role: 'admin', scope: 'runs:write' }, body: z.object({ flow: z.string().optional(), source: z.string().optional(), connector: z.string().optional(), type: z.string().optional(), since: z.string().optional(), until: z.string().optional(), max: z.number().int().optional() }), responses: ok() },
];

export function documentUiApi(): void {
  for (const op of ops) documentOperation(op);
}
