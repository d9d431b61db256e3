import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { HttpError, StepError } from '../core/errors.ts';
import type { Runtime } from '../core/runtime.ts';
import { requireRole } from './admin-auth.ts';
import { validate } from './http-validate.ts';
import { beginAuthorization, safeReturnTo } from './oauth-routes.ts';
import { auditRequest } from './audit.ts';

export const connectionCreateSchema = z
  .object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/)
      .optional(),
    connector: z.string().min(1),
    label: z.string().min(1).max(200).optional(),
    settings: z.record(z.string(), z.unknown()).default({}),
    secrets: z.record(z.string(), z.string()).default({}),
    /** A provider app (/api/v1/apps) whose client credentials the connection uses. */
    app: z.string().min(1).max(64).optional(),
  })
  .strict();

export const connectionPatchSchema = z
  .object({
    label: z.string().min(1).max(200).optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
    secrets: z.record(z.string(), z.string()).optional(),
    /** Another provider app, or null for the connection's own client credentials. */
    app: z.string().min(1).max(64).nullable().optional(),
  })
  .strict();

const idParams = z.object({ id: z.string().min(1) });

/**
 * /api/v1/connections — list, create, read, update, delete, test, disable/enable, and start the OAuth
 * connect flow. Viewers see connections without any credential detail; changing them needs an admin.
 */
export function connectionsRouter(rt: Runtime): Router {
  const router = express.Router();
  const store = () => rt.connections.store;
  const json = express.json({ limit: '64kb' });
  // API keys never see credential detail, whatever their scopes.
  const canSeeCredentials = (req: Request) => req.principal?.kind !== 'api_key' && req.principal?.role !== 'viewer';
  const show = (req: Request, row: Parameters<ReturnType<typeof store>['publicView']>[0]) =>
    store().publicView(row, { showSecrets: canSeeCredentials(req) });

  router.get('/api/v1/connections', requireRole(rt, 'viewer', 'connections:read'), async (req: Request, res: Response) => {
    res.json({ connections: (await store().list()).map((row) => show(req, row)) });
  });

  router.post('/api/v1/connections', requireRole(rt, 'admin'), json, async (req: Request, res: Response) => {
    const input = validate(connectionCreateSchema, req.body);
    const row = await store().create({
      id: input.id,
      connectorId: input.connector,
      label: input.label,
      settings: input.settings,
      secrets: input.secrets,
      appId: input.app,
    });
    rt.log.info({ connectionId: row.id, connector: row.connector_id, by: req.principal?.label }, 'connection created');
    await auditRequest(rt, req, 'connection.created', row.id, {
      connector: row.connector_id,
      settings: Object.keys(input.settings),
      secrets: Object.keys(input.secrets),
    });
    res.status(201).json(show(req, row));
  });

  router.get('/api/v1/connections/:id', requireRole(rt, 'viewer', 'connections:read'), async (req: Request, res: Response) => {
    const { id } = validate(idParams, req.params, 'params');
    res.json(show(req, await store().require(id)));
  });

  router.patch('/api/v1/connections/:id', requireRole(rt, 'admin'), json, async (req: Request, res: Response) => {
    const { id } = validate(idParams, req.params, 'params');
    const patch = validate(connectionPatchSchema, req.body);
    const { app, ...rest } = patch;
    const row = await store().update(id, { ...rest, ...(app !== undefined ? { appId: app } : {}) });
    rt.log.info(
      {
        connectionId: id,
        fields: Object.keys(patch.settings ?? {}),
        secretsChanged: Object.keys(patch.secrets ?? {}),
        by: req.principal?.label,
      },
      'connection updated',
    );
    await auditRequest(rt, req, 'connection.updated', id, {
      settings: Object.keys(patch.settings ?? {}),
      secrets: Object.keys(patch.secrets ?? {}),
      label: patch.label !== undefined,
    });
    res.json(show(req, row));
  });

  router.delete('/api/v1/connections/:id', requireRole(rt, 'admin'), async (req: Request, res: Response) => {
    const { id } = validate(idParams, req.params, 'params');
    if (!(await store().remove(id))) throw new HttpError(404, 'connection_not_found', `no connection "${id}"`);
    rt.log.info({ connectionId: id, by: req.principal?.label }, 'connection deleted');
    await auditRequest(rt, req, 'connection.deleted', id);
    res.status(204).end();
  });

  for (const [verb, status] of [
    ['disable', 'disabled'],
    ['enable', 'active'],
  ] as const) {
    router.post(`/api/v1/connections/:id/${verb}`, requireRole(rt, 'admin'), async (req: Request, res: Response) => {
      const { id } = validate(idParams, req.params, 'params');
      await store().require(id);
      await store().setStatus(id, status);
      if (status === 'active') await rt.connections.resumeWaitingSteps(id);
      await auditRequest(rt, req, `connection.${verb}d`, id);
      res.json(show(req, await store().require(id)));
    });
  }

  router.post('/api/v1/connections/:id/test', requireRole(rt, 'admin'), async (req: Request, res: Response) => {
    const { id } = validate(idParams, req.params, 'params');
    const row = await store().require(id);
    const auth = store().authOf(row.connector_id);
    if (!('test' in auth) || !auth.test) throw new HttpError(400, 'not_testable', `${row.connector_id} connections have no test call`);
    try {
      const details = await auth.test(await rt.connections.handle(id));
      res.json({ ok: true, details });
    } catch (err) {
      if (!(err instanceof StepError) && ['DecryptError', 'KeyError'].includes((err as Error).name)) throw err;
      const e = err instanceof StepError ? err : new StepError((err as Error).message, 'retryable');
      const after = await store().require(id);
      res.status(e.errorClass === 'needs_reauth' ? 409 : 502).json({
        ok: false,
        error: { code: e.errorClass === 'needs_reauth' ? 'needs_reauth' : 'test_failed', message: e.message },
        // The provider's (or connector's) code for what is wrong: the UI says it in words (connectors/<id>/i18n.ts `errors`).
        reason: e.details.code ?? null,
        status: after.status,
      });
    }
  });

  /** Live choices for forms (a Trello board by name): the connector's lister, called with this connection. */
  router.get('/api/v1/connections/:id/choices/:name', requireRole(rt, 'admin'), async (req: Request, res: Response) => {
    const { id, name } = validate(
      z.object({ id: z.string().min(1).max(100), name: z.string().regex(/^[a-zA-Z0-9_]{1,50}$/) }),
      req.params,
      'params',
    );
    const row = await store().require(id);
    const lister = rt.registry.connector(row.connector_id)?.choices?.[name];
    if (!lister) throw new HttpError(404, 'choices_not_found', `${row.connector_id} connections offer no "${name}" choices`);
    try {
      const items = await lister(await rt.connections.handle(id));
      res.json({ items: items.slice(0, 500) });
    } catch (err) {
      const e = err instanceof StepError ? err : new StepError((err as Error).message, 'retryable');
      res.status(502).json({ error: { code: 'choices_failed', message: e.message, reason: e.details.code ?? null } });
    }
  });

  /** Starts the OAuth connect flow from the API: returns the provider's authorization URL to open. */
  router.post('/api/v1/connections/:id/authorize', requireRole(rt, 'admin'), json, async (req: Request, res: Response) => {
    const { id } = validate(idParams, req.params, 'params');
    const { returnTo } = validate(z.object({ returnTo: z.string().max(2000).optional() }).strict(), req.body ?? {});
    const row = await store().require(id);
    const authorizeUrl = await beginAuthorization(rt, req, row, safeReturnTo(rt, req, returnTo));
    await auditRequest(rt, req, 'connection.connect_started', id);
    res.json({ authorizeUrl });
  });

  return router;
}
