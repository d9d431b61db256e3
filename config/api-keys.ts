import crypto from 'node:crypto';
import express, { type Router } from 'express';
import type { ColumnType, Generated, Selectable } from 'kysely';
import { z } from 'zod';
import { HttpError } from '../core/errors.ts';
import type { Runtime } from '../core/runtime.ts';
import { addAuthenticator, ANY_KEY, bearerToken, type Role } from './admin-auth.ts';
import { route } from './openapi.ts';
import { API_KEY_SCOPES } from './scopes.ts';

/**
 * API keys for automation (Zapier, Make, scripts): `dbk_` + 32 random bytes, shown once at creation
 * and stored as a sha256 hash (the key has full entropy, so a plain hash is enough). A key acts with
 * the admin role at most and only where its scopes reach: a route that declares no scope refuses every
 * key (users, security, API keys, changing connections, OAuth). Only an owner creates, lists and revokes keys.
 */
export { API_KEY_SCOPES };
export type ApiKeyScope = keyof typeof API_KEY_SCOPES;
const scopeNames = Object.keys(API_KEY_SCOPES) as [ApiKeyScope, ...ApiKeyScope[]];
export const scopeSchema = z.enum(scopeNames);

type Json<T> = ColumnType<T, string, string>;
export interface ApiKeysTable {
  id: string;
  label: string;
  key_hash: string;
  prefix: string;
  role: Generated<string>;
  scopes: Json<string[]>;
  created_by: string | null;
  created_at: Generated<Date>;
  expires_at: ColumnType<Date, Date | string | undefined, Date | string> | null;
  last_used_at: ColumnType<Date, Date | string | undefined, Date | string> | null;
  revoked_at: ColumnType<Date, Date | string | undefined, Date | string> | null;
}
declare module '../core/db/schema.ts' {
  interface Database {
    api_keys: ApiKeysTable;
  }
}
export type ApiKeyRow = Selectable<ApiKeysTable>;

const KEY_PREFIX = 'dbk_';
export const hashKey = (key: string) => crypto.createHash('sha256').update(key).digest('hex');

export async function createApiKey(
  rt: Runtime,
  input: { label: string; scopes: string[]; expiresAt?: string | Date | null; createdBy?: string | null },
) {
  const key = `${KEY_PREFIX}${crypto.randomBytes(32).toString('base64url')}`;
  const id = `key_${crypto.randomBytes(9).toString('base64url')}`;
  const row = await rt.db
    .insertInto('api_keys')
    .values({
      id,
      label: input.label,
      key_hash: hashKey(key),
      prefix: key.slice(0, 10),
      role: 'admin',
      scopes: JSON.stringify([...new Set(input.scopes)]),
      created_by: input.createdBy ?? null,
      expires_at: input.expiresAt ? new Date(input.expiresAt) : null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { row, key };
}

addAuthenticator(async (req, rt) => {
  const given = bearerToken(req);
  if (!given || !given.startsWith(KEY_PREFIX)) return undefined;
  const row = await rt.db.selectFrom('api_keys').selectAll().where('key_hash', '=', hashKey(given)).executeTakeFirst();
  if (!row || row.revoked_at) throw new HttpError(401, 'invalid_api_key', 'this API key is not valid (unknown or revoked)');
  if (row.expires_at && new Date(row.expires_at).getTime() <= Date.now())
    throw new HttpError(401, 'api_key_expired', 'this API key has expired');
  if (!row.last_used_at || Date.now() - new Date(row.last_used_at).getTime() > 60_000) {
    void rt.db
      .updateTable('api_keys')
      .set({ last_used_at: new Date() })
      .where('id', '=', row.id)
      .execute()
      .catch(() => {});
  }
  return { kind: 'api_key', id: row.id, role: row.role as Role, scopes: row.scopes, label: row.label };
});

export const apiKeySchema = z.object({
  id: z.string(),
  label: z.string(),
  prefix: z.string().describe('The first characters of the key, to recognise it'),
  role: z.string(),
  scopes: z.array(z.string()),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
const view = (r: ApiKeyRow): z.output<typeof apiKeySchema> => ({
  id: r.id,
  label: r.label,
  prefix: r.prefix,
  role: r.role,
  scopes: r.scopes,
  created_at: iso(r.created_at)!,
  expires_at: iso(r.expires_at),
  last_used_at: iso(r.last_used_at),
  revoked_at: iso(r.revoked_at),
});

export function apiKeysRouter(rt: Runtime): Router {
  const router = express.Router();
  route(router, rt, {
    method: 'post',
    path: '/api/v1/api-keys',
    operationId: 'createApiKey',
    tags: ['API keys'],
    summary: 'Create an API key (owner only); the key is in this answer and never again',
    auth: { role: 'owner' },
    body: z
      .object({
        label: z.string().min(1).max(100),
        scopes: z
          .array(scopeSchema)
          .min(1)
          .describe(
            Object.entries(API_KEY_SCOPES)
              .map(([k, v]) => `${k}: ${v}`)
              .join('; '),
          ),
        expires_at: z.iso.datetime({ offset: true }).optional(),
      })
      .strict(),
    responses: {
      201: { description: 'Created', schema: apiKeySchema.extend({ key: z.string().describe('The API key; shown only now') }) },
    },
    handler: async ({ body, principal }) => {
      const { row, key } = await createApiKey(rt, {
        label: body.label,
        scopes: body.scopes,
        expiresAt: body.expires_at,
        createdBy: principal?.label ?? null,
      });
      rt.log.info({ apiKeyId: row.id, by: principal?.id, scopes: body.scopes }, 'API key created');
      return { status: 201, body: { ...view(row), key } };
    },
  });
  route(router, rt, {
    method: 'get',
    path: '/api/v1/api-keys',
    operationId: 'listApiKeys',
    tags: ['API keys'],
    summary: 'List API keys (owner only; never the keys themselves)',
    auth: { role: 'owner' },
    responses: { 200: { description: 'The keys', schema: z.object({ items: z.array(apiKeySchema) }) } },
    handler: async () => {
      const rows = await rt.db.selectFrom('api_keys').selectAll().orderBy('created_at', 'desc').execute();
      return { status: 200, body: { items: rows.map(view) } };
    },
  });
  route(router, rt, {
    method: 'delete',
    path: '/api/v1/api-keys/:id',
    operationId: 'revokeApiKey',
    tags: ['API keys'],
    summary: 'Revoke an API key (owner only)',
    auth: { role: 'owner' },
    params: z.object({ id: z.string() }),
    responses: { 204: { description: 'Revoked' }, 404: { description: 'No such key' } },
    handler: async ({ params, principal }) => {
      const row = await rt.db
        .updateTable('api_keys')
        .set({ revoked_at: new Date() })
        .where('id', '=', params.id)
        .where('revoked_at', 'is', null)
        .returning('id')
        .executeTakeFirst();
      if (!row) {
        const exists = await rt.db.selectFrom('api_keys').select('id').where('id', '=', params.id).executeTakeFirst();
        if (!exists) throw new HttpError(404, 'api_key_not_found', `no API key ${params.id}`);
      }
      rt.log.info({ apiKeyId: params.id, by: principal?.id }, 'API key revoked');
      return { status: 204 };
    },
  });
  route(router, rt, {
    method: 'get',
    path: '/api/v1/me',
    operationId: 'whoAmI',
    tags: ['API keys'],
    summary: 'Who the credentials belong to (used to test a connection, e.g. by Zapier)',
    auth: { role: 'viewer', scope: ANY_KEY },
    responses: {
      200: {
        description: 'The caller',
        schema: z.object({ kind: z.string(), id: z.string(), label: z.string(), role: z.string(), scopes: z.array(z.string()).nullable() }),
      },
    },
    handler: async ({ principal }) => ({
      status: 200,
      body: { kind: principal!.kind, id: principal!.id, label: principal!.label, role: principal!.role, scopes: principal!.scopes ?? null },
    }),
  });
  return router;
}
