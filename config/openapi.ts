import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { HttpError } from '../core/errors.ts';
import type { Runtime } from '../core/runtime.ts';
import { ANY_KEY, requireRole, type Principal, type Role } from './admin-auth.ts';
import { API_KEY_SCOPES } from './scopes.ts';

/**
 * The public API's one description. Every route is declared once with its zod schemas; the same
 * schemas validate the request at the edge and generate the OpenAPI 3.1 document served at
 * GET /api/openapi.json.
 *
 * How a feature adds its routes (e.g. the lead's /api/v1/connections):
 *
 *   import { route } from '../config/openapi.ts';
 *   const router = express.Router();
 *   route(router, rt, {
 *     method: 'get', path: '/api/v1/connections/:id', operationId: 'getConnection', tags: ['Connections'],
 *     summary: 'One connection', auth: { role: 'viewer', scope: 'connections:read' },
 *     params: z.object({ id: z.string() }),
 *     responses: { 200: { description: 'The connection', schema: connectionSchema }, 404: { description: 'No such connection' } },
 *     handler: async ({ params }) => ({ status: 200, body: await load(params.id) }),
 *   });
 *
 * `route` validates params, query and JSON body (400 `invalid_request` with the issues), checks the
 * role and API-key scope (401/403), and registers the operation. A route that cannot use `route`
 * (raw bodies, streaming) calls `documentOperation` with the same fields minus `handler`.
 */
export const errorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }).catchall(z.unknown()),
});

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  contentType?: string;
}

export interface OperationSpec {
  method: Method;
  /** Express style: `/api/v1/hooks/:id`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  /**
   * Omit for a public route. `scope` is the API-key scope that reaches the route (`*`: any key);
   * without one, API keys are refused (deny by default).
   */
  auth?: { role: Role; scope?: string };
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Content types of the body besides application/json (documented only). */
  bodyContentTypes?: string[];
  responses: Record<number, ResponseSpec>;
}

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  req: Request;
  res: Response;
  principal?: Principal;
}
export interface RouteSpec<P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodType> extends OperationSpec {
  params?: P;
  query?: Q;
  body?: B;
  /** Returns the status and JSON body to send, or nothing when it answered `res` itself. */
  handler: (input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>) => Promise<{ status: number; body?: unknown } | void>;
}

const operations = new Map<string, OperationSpec>();

export function documentOperation(op: OperationSpec): void {
  operations.set(`${op.method} ${op.path}`, op);
}
export function listOperations(): OperationSpec[] {
  return [...operations.values()];
}

function issuesOf(error: z.ZodError, where: string) {
  return error.issues.map((i) => ({ in: where, path: i.path.map(String).join('.'), message: i.message }));
}

/** Declares, validates and documents one route (see the comment at the top). */
export function route<P extends z.ZodObject = z.ZodObject<{}>, Q extends z.ZodObject = z.ZodObject<{}>, B extends z.ZodType = z.ZodUnknown>(
  router: Router,
  rt: Runtime,
  spec: RouteSpec<P, Q, B>,
): void {
  const { handler, ...op } = spec;
  documentOperation(op);
  const middlewares: express.RequestHandler[] = [];
  if (spec.auth) middlewares.push(requireRole(rt, spec.auth.role, spec.auth.scope) as express.RequestHandler);
  if (spec.body) middlewares.push(express.json({ limit: rt.settings.DINGBRIDGE_BODY_LIMIT, type: () => true }));
  router[spec.method](spec.path, ...middlewares, async (req: Request, res: Response) => {
    const problems: ReturnType<typeof issuesOf> = [];
    const parse = <T extends z.ZodType>(schema: T | undefined, value: unknown, where: string): z.output<T> | undefined => {
      if (!schema) return undefined;
      const r = schema.safeParse(value);
      if (r.success) return r.data;
      problems.push(...issuesOf(r.error, where));
      return undefined;
    };
    const params = parse(spec.params, req.params, 'path');
    const query = parse(spec.query, req.query, 'query');
    const body = parse(spec.body, req.body === undefined ? {} : req.body, 'body');
    if (problems.length) {
      throw new HttpError(400, 'invalid_request', problems.map((p) => `${p.in}${p.path ? ` ${p.path}` : ''}: ${p.message}`).join('; '), {
        issues: problems,
      });
    }
    const out = await handler({
      params: params as z.output<P>,
      query: query as z.output<Q>,
      body: body as z.output<B>,
      req,
      res,
      principal: req.principal,
    });
    if (out && !res.headersSent) {
      if (out.body === undefined) res.status(out.status).end();
      else res.status(out.status).json(out.body);
    }
  });
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const s = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12', reused: 'inline' }) as Record<string, unknown>;
  delete s.$schema;
  return s;
}

function parameters(schema: z.ZodObject | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const s = jsonSchema(schema, 'input') as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, prop]) => {
    const { description, ...rest } = prop as { description?: string };
    return {
      name,
      in: where,
      required: where === 'path' ? true : (s.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

/** The OpenAPI 3.1 document of every registered operation. */
export function openApiDocument(opts: { serverUrl?: string; version?: string } = {}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const ops = listOperations().sort((a, b) => a.path.localeCompare(b.path));
  for (const op of ops) {
    const path = op.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const responses: Record<string, unknown> = {};
    const all: Record<number, ResponseSpec> = { ...op.responses };
    if ((op.params || op.query || op.body) && !all[400]) all[400] = { description: 'The request is not valid', schema: errorSchema };
    if (op.auth && !all[401]) all[401] = { description: 'No valid API key or admin token', schema: errorSchema };
    if (op.auth && !all[403])
      all[403] = {
        description: `Needs the ${op.auth.role} role${op.auth.scope === ANY_KEY ? '' : op.auth.scope ? ` and, for an API key, the scope ${op.auth.scope}` : '; API keys are refused'}`,
        schema: errorSchema,
      };
    for (const [status, r] of Object.entries(all)) {
      const schema = r.schema ?? (Number(status) >= 400 ? errorSchema : undefined);
      responses[status] = {
        description: r.description,
        ...(schema ? { content: { [r.contentType ?? 'application/json']: { schema: jsonSchema(schema, 'output') } } } : {}),
      };
    }
    const operation: Record<string, unknown> = {
      operationId: op.operationId,
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      tags: op.tags,
      parameters: [...parameters(op.params, 'path'), ...parameters(op.query, 'query')],
      responses,
      security: op.auth ? [{ bearerAuth: op.auth.scope && op.auth.scope !== ANY_KEY ? [op.auth.scope] : [] }] : [],
      ...(op.auth ? { 'x-api-key-scope': op.auth.scope === ANY_KEY ? 'any' : (op.auth.scope ?? null) } : {}),
    };
    if (op.body) {
      const schema = jsonSchema(op.body, 'input');
      operation.requestBody = {
        required: true,
        content: Object.fromEntries(['application/json', ...(op.bodyContentTypes ?? [])].map((t) => [t, { schema }])),
      };
    }
    paths[path] = { ...(paths[path] ?? {}), [op.method]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'dingbridge API',
      version: opts.version ?? '0.1.0',
      description:
        'The public API of a dingbridge hub: catch hooks, REST-hook subscriptions (Standard Webhooks), events, actions, API keys. Authenticate with `Authorization: Bearer <API key>`. API keys are denied by default: each operation names in `security` (and `x-api-key-scope`) the one scope that lets a key call it; an operation with `x-api-key-scope: null` refuses every API key.',
    },
    ...(opts.serverUrl ? { servers: [{ url: opts.serverUrl }] } : {}),
    tags: [...new Set(ops.flatMap((o) => o.tags))].sort().map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: `An API key (\`dbk_…\`, created by an owner at POST /api/v1/api-keys) or DINGBRIDGE_ADMIN_TOKEN (owner). An API key reaches only the operations that name one of its scopes:\n${Object.entries(
            API_KEY_SCOPES,
          )
            .map(([k, v]) => `- \`${k}\`: ${v}`)
            .join('\n')}`,
          'x-scopes': API_KEY_SCOPES,
        },
      },
    },
  };
}

/** The routes the hub's core serves outside any feature router, and GET /api/openapi.json itself. */
export function openApiRouter(rt: Runtime): Router {
  const router = express.Router();
  const status = z.object({ status: z.string() });
  documentOperation({
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    summary: 'The process is up',
    tags: ['Operations'],
    responses: { 200: { description: 'Up', schema: status } },
  });
  documentOperation({
    method: 'get',
    path: '/readyz',
    operationId: 'ready',
    summary: 'The database and the queue are reachable',
    tags: ['Operations'],
    responses: {
      200: {
        description: 'Ready',
        schema: z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.string()), queueBackend: z.string() }),
      },
      503: {
        description: 'Not ready',
        schema: z.object({ status: z.literal('not_ready'), checks: z.record(z.string(), z.string()), queueBackend: z.string() }),
      },
    },
  });
  documentOperation({
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics',
    tags: ['Operations'],
    responses: { 200: { description: 'Prometheus text format', schema: z.string(), contentType: 'text/plain' } },
  });
  route(router, rt, {
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'openapi',
    summary: 'This OpenAPI 3.1 document',
    tags: ['Operations'],
    responses: { 200: { description: 'The document', schema: z.record(z.string(), z.unknown()) } },
    handler: async ({ req }) => ({
      status: 200,
      body: openApiDocument({ serverUrl: rt.settings.PUBLIC_URL ?? `${req.protocol}://${req.get('host')}` }),
    }),
  });
  return router;
}
