import crypto from 'node:crypto';
import express, { type Router } from 'express';
import { z } from 'zod';
import { HttpError } from '../core/errors.ts';
import type { Runtime } from '../core/runtime.ts';
import { registerSealedColumn } from '../core/vault/vault.ts';
import { route } from '../config/openapi.ts';
import { hookResponseSchema, type CatchHookConfig } from '../config/schema.ts';
import type { CatchHookSource } from './catch-hooks.ts';
import type { CatchHookRow, CatchHookVerifyStored } from './tables.ts';

/**
 * Catch hooks created through the admin API (beside those of the config file, which win on an id
 * clash). The hub generates each hook's secret, shows it once, and stores it sealed.
 */
export const catchHookAad = (id: string) => `catch_hook:${id}`;
registerSealedColumn({ table: 'catch_hooks', idColumn: 'id', column: 'secret', aad: catchHookAad });

function newHookSecret(type: CatchHookVerifyStored['type']): string | null {
  if (type === 'none') return null;
  if (type === 'standard_webhooks') return `whsec_${crypto.randomBytes(32).toString('base64')}`;
  if (type === 'token') return crypto.randomBytes(24).toString('base64url');
  return crypto.randomBytes(32).toString('hex');
}

/** A stored hook as the catch-hook router sees it (secret opened). */
export function rowToHook(rt: Runtime, row: CatchHookRow): CatchHookConfig {
  const secret = row.secret ? rt.vault.open(row.secret, catchHookAad(row.id)) : '';
  const v = row.verify;
  const verify: CatchHookConfig['verify'] =
    v.type === 'hmac'
      ? {
          type: 'hmac',
          header: v.header ?? 'X-Signature',
          secret,
          algorithm: 'sha256',
          encoding: v.encoding ?? 'hex',
          replayWindowSeconds: v.replay_window_seconds ?? 300,
        }
      : v.type === 'hmac_timestamped'
        ? {
            type: 'hmac_timestamped',
            header: v.header ?? 'X-Signature',
            timestampHeader: v.timestamp_header ?? 'X-Timestamp',
            secret,
            algorithm: 'sha256',
            encoding: v.encoding ?? 'hex',
            toleranceSeconds: v.tolerance_seconds ?? 300,
          }
        : v.type === 'token'
          ? { type: 'token', token: secret }
          : v.type === 'standard_webhooks'
            ? { type: 'standard_webhooks', secret }
            : { type: 'none' };
  return {
    id: row.id,
    name: row.name ?? undefined,
    verify,
    idField: row.id_field ?? undefined,
    maxBodyBytes: row.max_body_bytes ?? undefined,
    response: row.response ? { status: row.response.status, body: row.response.body } : undefined,
  };
}

/** The config file's hooks first, then the database's. */
export function catchHookSource(rt: Runtime, configHooks: Map<string, CatchHookConfig>): CatchHookSource {
  return {
    get(id) {
      const fromConfig = configHooks.get(id);
      if (fromConfig) return fromConfig;
      return rt.db
        .selectFrom('catch_hooks')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst()
        .then((row) => (row ? rowToHook(rt, row) : undefined));
    },
  };
}

const hookIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'letters, digits, - and _ (at most 64)');
const verifySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }),
  z.object({ type: z.literal('token') }),
  z.object({
    type: z.literal('hmac'),
    header: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,100}$/)
      .default('X-Signature'),
    encoding: z.enum(['hex', 'base64']).default('hex'),
    replay_window_seconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600)
      .optional()
      .describe('The same signed body again within this many seconds is answered as a duplicate (default 300)'),
  }),
  z
    .object({
      type: z.literal('hmac_timestamped'),
      header: z
        .string()
        .regex(/^[A-Za-z0-9-]{1,100}$/)
        .default('X-Signature'),
      timestamp_header: z
        .string()
        .regex(/^[A-Za-z0-9-]{1,100}$/)
        .default('X-Timestamp'),
      encoding: z.enum(['hex', 'base64']).default('hex'),
      tolerance_seconds: z.number().int().min(30).max(3600).optional().describe('How far the timestamp may be from now (default 300)'),
    })
    .describe('HMAC-SHA256 of `<timestamp>.<raw body>`; each signature accepted once'),
  z.object({ type: z.literal('standard_webhooks') }),
]);
const catchHookView = z.object({
  id: z.string(),
  name: z.string().nullable(),
  url: z.string().describe('Where senders POST (for a token hook, without the token)'),
  verify: z.object({
    type: z.string(),
    header: z.string().optional(),
    timestamp_header: z.string().optional(),
    encoding: z.string().optional(),
    replay_window_seconds: z.number().int().optional(),
    tolerance_seconds: z.number().int().optional(),
  }),
  id_field: z.string().nullable(),
  max_body_bytes: z.number().int().nullable(),
  response: z.object({ status: z.number().int(), body: z.unknown().optional() }).nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
const withSecret = catchHookView.extend({
  secret: z.string().nullable().describe('The hook secret (HMAC key, path token or whsec_ secret); shown only now'),
  url_with_token: z.string().optional().describe('For a token hook: the full URL to give the sender'),
});

export function catchHooksAdminRouter(rt: Runtime, configHooks: Map<string, CatchHookConfig>): Router {
  const router = express.Router();
  const base = (req: express.Request) => rt.settings.PUBLIC_URL?.replace(/\/$/, '') ?? `${req.protocol}://${req.get('host')}`;
  const view = (req: express.Request, r: CatchHookRow): z.output<typeof catchHookView> => ({
    id: r.id,
    name: r.name,
    url: `${base(req)}/hooks/catch/${r.id}`,
    verify: r.verify,
    id_field: r.id_field,
    max_body_bytes: r.max_body_bytes,
    response: r.response,
    created_at: new Date(r.created_at).toISOString(),
    updated_at: new Date(r.updated_at).toISOString(),
  });
  const reveal = (req: express.Request, r: CatchHookRow, secret: string | null) => ({
    ...view(req, r),
    secret,
    ...(r.verify.type === 'token' && secret ? { url_with_token: `${base(req)}/hooks/catch/${r.id}/${secret}` } : {}),
  });
  const load = async (id: string) => {
    const row = await rt.db.selectFrom('catch_hooks').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row)
      throw new HttpError(
        404,
        'hook_not_found',
        configHooks.has(id) ? `catch hook ${id} is declared in the config file; change it there` : `no catch hook ${id}`,
      );
    return row;
  };
  const idParam = z.object({ id: hookIdSchema });

  route(router, rt, {
    method: 'post',
    path: '/api/v1/catch-hooks',
    operationId: 'createCatchHook',
    tags: ['Catch hooks'],
    summary: 'Create a catch hook; its secret is in this answer only',
    auth: { role: 'admin', scope: 'catch_hooks:write' },
    body: z
      .object({
        id: hookIdSchema.optional().describe('Default: a random id'),
        name: z.string().max(200).optional(),
        verify: verifySchema.default({ type: 'hmac', header: 'X-Signature', encoding: 'hex' }),
        id_field: z.string().max(200).optional().describe('A body field identifying a delivery, e.g. order.id'),
        max_body_bytes: z.number().int().positive().max(50_000_000).optional(),
        response: hookResponseSchema.optional(),
      })
      .strict(),
    responses: { 201: { description: 'Created', schema: withSecret }, 409: { description: 'The id is taken' } },
    handler: async ({ body, req, principal }) => {
      const id = body.id ?? `hook_${crypto.randomBytes(8).toString('hex')}`;
      if (configHooks.has(id)) throw new HttpError(409, 'hook_exists', `catch hook ${id} is declared in the config file`);
      const secret = newHookSecret(body.verify.type);
      const row = await rt.db
        .insertInto('catch_hooks')
        .values({
          id,
          name: body.name ?? null,
          verify: JSON.stringify(body.verify),
          secret: secret ? rt.vault.seal(secret, catchHookAad(id)) : null,
          id_field: body.id_field ?? null,
          max_body_bytes: body.max_body_bytes ?? null,
          response: body.response ? JSON.stringify(body.response) : null,
          created_by: principal?.id ?? null,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new HttpError(409, 'hook_exists', `catch hook ${id} exists`);
      rt.log.info({ hookId: id, verify: body.verify.type, by: principal?.id }, 'catch hook created');
      return { status: 201, body: reveal(req, row, secret) };
    },
  });

  route(router, rt, {
    method: 'get',
    path: '/api/v1/catch-hooks',
    operationId: 'listCatchHooks',
    tags: ['Catch hooks'],
    summary: 'List catch hooks made through the API (never their secrets)',
    auth: { role: 'viewer', scope: 'catch_hooks:read' },
    responses: { 200: { description: 'Hooks', schema: z.object({ items: z.array(catchHookView) }) } },
    handler: async ({ req }) => ({
      status: 200,
      body: { items: (await rt.db.selectFrom('catch_hooks').selectAll().orderBy('created_at').execute()).map((r) => view(req, r)) },
    }),
  });

  route(router, rt, {
    method: 'get',
    path: '/api/v1/catch-hooks/:id',
    operationId: 'getCatchHook',
    tags: ['Catch hooks'],
    summary: 'One catch hook',
    auth: { role: 'viewer', scope: 'catch_hooks:read' },
    params: idParam,
    responses: { 200: { description: 'The hook', schema: catchHookView }, 404: { description: 'No such hook' } },
    handler: async ({ params, req }) => ({ status: 200, body: view(req, await load(params.id)) }),
  });

  route(router, rt, {
    method: 'post',
    path: '/api/v1/catch-hooks/:id/rotate',
    operationId: 'rotateCatchHook',
    tags: ['Catch hooks'],
    summary: "Replace the hook's secret (the old one stops working at once)",
    auth: { role: 'admin', scope: 'catch_hooks:write' },
    params: idParam,
    responses: {
      200: { description: 'The hook with its new secret (shown only now)', schema: withSecret },
      404: { description: 'No such hook' },
      409: { description: 'The hook has no secret' },
    },
    handler: async ({ params, req }) => {
      const row = await load(params.id);
      const secret = newHookSecret(row.verify.type);
      if (!secret) throw new HttpError(409, 'no_secret', 'this hook is not verified, so it has no secret to rotate');
      const updated = await rt.db
        .updateTable('catch_hooks')
        .set({ secret: rt.vault.seal(secret, catchHookAad(row.id)), updated_at: new Date() })
        .where('id', '=', row.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      rt.log.info({ hookId: row.id }, 'catch hook secret rotated');
      return { status: 200, body: reveal(req, updated, secret) };
    },
  });

  route(router, rt, {
    method: 'delete',
    path: '/api/v1/catch-hooks/:id',
    operationId: 'deleteCatchHook',
    tags: ['Catch hooks'],
    summary: 'Delete a catch hook',
    auth: { role: 'admin', scope: 'catch_hooks:write' },
    params: idParam,
    responses: { 204: { description: 'Deleted' }, 404: { description: 'No such hook' } },
    handler: async ({ params }) => {
      await load(params.id);
      await rt.db.deleteFrom('catch_hooks').where('id', '=', params.id).execute();
      rt.log.info({ hookId: params.id }, 'catch hook deleted');
      return { status: 204 };
    },
  });
  return router;
}
