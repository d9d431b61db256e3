import express, { type Router } from 'express';
import { z } from 'zod';
import { HttpError } from '../core/errors.ts';
import type { Runtime } from '../core/runtime.ts';
import { route } from './openapi.ts';
import { auditRequest } from './audit.ts';

/**
 * /api/v1/apps — provider apps (client id/secret, webhook verifier token, environment) registered once
 * and used by many connections. Secrets are write-only: answers say only whether each is set.
 */
const appId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'letters, digits, - and _ (at most 64)');
const secretsSchema = z
  .object({
    clientSecret: z.string().max(4096).optional().describe('Write-only; an empty string removes it'),
    webhookVerifierToken: z
      .string()
      .max(4096)
      .optional()
      .describe("Write-only: what verifies the app's webhooks (e.g. QuickBooks' verifier token)"),
  })
  .strict();
const environment = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'e.g. production or sandbox');

export const appCreateSchema = z
  .object({
    id: appId.optional(),
    connector: z.string().min(1),
    label: z.string().min(1).max(200).optional(),
    environment: environment.default('production'),
    clientId: z.string().min(1).max(1024),
    settings: z.record(z.string(), z.unknown()).default({}),
    secrets: secretsSchema.default({}),
  })
  .strict();
export const appPatchSchema = z
  .object({
    label: z.string().min(1).max(200).optional(),
    environment: environment.optional(),
    clientId: z.string().min(1).max(1024).optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
    secrets: secretsSchema.optional(),
  })
  .strict();

const appView = z.object({
  id: z.string(),
  connectorId: z.string(),
  label: z.string(),
  environment: z.string(),
  clientId: z.string(),
  settings: z.record(z.string(), z.unknown()),
  secrets: z.record(z.string(), z.object({ set: z.literal(true) })).describe('Which secrets are set; never their values'),
  connections: z.array(z.string()).describe('Connections that use this app'),
  origin: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const idParams = z.object({ id: z.string().min(1).max(64) });

export function appsRouter(rt: Runtime): Router {
  const router = express.Router();
  const apps = () => rt.connections.store.apps;

  route(router, rt, {
    method: 'get',
    path: '/api/v1/apps',
    operationId: 'listApps',
    tags: ['Apps'],
    summary: 'Provider apps and the connections that use them',
    auth: { role: 'viewer', scope: 'connections:read' },
    responses: { 200: { description: 'Apps', schema: z.object({ apps: z.array(appView) }) } },
    handler: async () => ({ status: 200, body: { apps: await Promise.all((await apps().list()).map((a) => apps().publicView(a))) } }),
  });

  route(router, rt, {
    method: 'post',
    path: '/api/v1/apps',
    operationId: 'createApp',
    tags: ['Apps'],
    summary: 'Register a provider app',
    auth: { role: 'admin' },
    body: appCreateSchema,
    responses: { 201: { description: 'Registered', schema: appView }, 409: { description: 'An app with this id exists' } },
    handler: async ({ body, req }) => {
      const row = await apps().create({
        id: body.id,
        connectorId: body.connector,
        label: body.label,
        environment: body.environment,
        clientId: body.clientId,
        settings: body.settings,
        secrets: body.secrets,
      });
      await auditRequest(rt, req, 'app.created', row.id, {
        connector: row.connector_id,
        environment: row.environment,
        secrets: Object.keys(body.secrets),
      });
      return { status: 201, body: await apps().publicView(row) };
    },
  });

  route(router, rt, {
    method: 'get',
    path: '/api/v1/apps/:id',
    operationId: 'getApp',
    tags: ['Apps'],
    summary: 'One provider app',
    auth: { role: 'viewer', scope: 'connections:read' },
    params: idParams,
    responses: { 200: { description: 'The app', schema: appView }, 404: { description: 'No such app' } },
    handler: async ({ params }) => ({ status: 200, body: await apps().publicView(await apps().require(params.id)) }),
  });

  route(router, rt, {
    method: 'patch',
    path: '/api/v1/apps/:id',
    operationId: 'updateApp',
    tags: ['Apps'],
    summary: 'Change a provider app (secrets merged; an empty string removes one)',
    auth: { role: 'admin' },
    params: idParams,
    body: appPatchSchema,
    responses: { 200: { description: 'The app', schema: appView }, 404: { description: 'No such app' } },
    handler: async ({ params, body, req }) => {
      const row = await apps().update(params.id, body);
      await auditRequest(rt, req, 'app.updated', row.id, { fields: Object.keys(body), secrets: Object.keys(body.secrets ?? {}) });
      return { status: 200, body: await apps().publicView(row) };
    },
  });

  route(router, rt, {
    method: 'delete',
    path: '/api/v1/apps/:id',
    operationId: 'deleteApp',
    tags: ['Apps'],
    summary: 'Delete a provider app no connection uses',
    auth: { role: 'admin' },
    params: idParams,
    responses: { 204: { description: 'Deleted' }, 404: { description: 'No such app' }, 409: { description: 'Connections still use it' } },
    handler: async ({ params, req }) => {
      if (!(await apps().remove(params.id))) throw new HttpError(404, 'app_not_found', `no app "${params.id}"`);
      await auditRequest(rt, req, 'app.deleted', params.id);
      return { status: 204 };
    },
  });
  return router;
}
