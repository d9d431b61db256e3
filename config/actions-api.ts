import crypto from 'node:crypto';
import express, { type Router } from 'express';
import { z } from 'zod';
import { HttpError, StepError, toStepError } from '../core/errors.ts';
import type { Runtime } from '../core/runtime.ts';
import { setEgressPolicy } from '../core/net/egress.ts';
import { requireScope } from './admin-auth.ts';
import { createProviderClient } from '../core/http/provider-client.ts';
import { route } from './openapi.ts';

/**
 * Runs one registered action now, through the connector registry: what the Zapier app's "Send
 * DingTalk message" and "Start DingTalk approval" call (actions `dingtalk.message.sendToGroup`,
 * `dingtalk.message.sendToUsers`, `dingtalk.robot.send`, `dingtalk.approval.start` once the DingTalk
 * connector is registered). An unknown action is a 404 naming the actions this hub has.
 */
function inputSchemaOf(schema: z.ZodType, io: 'input' | 'output' = 'input'): Record<string, unknown> {
  try {
    const s = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
    delete s.$schema;
    return s;
  } catch {
    return {};
  }
}

export function actionsRouter(rt: Runtime): Router {
  setEgressPolicy(rt.settings.DINGBRIDGE_EGRESS_ALLOW);
  const router = express.Router();

  route(router, rt, {
    method: 'get',
    path: '/api/v1/actions',
    operationId: 'listActions',
    tags: ['Actions'],
    summary: 'The actions this hub can run, with their input schemas',
    auth: { role: 'viewer', scope: 'actions:run' },
    responses: {
      200: {
        description: 'Actions',
        schema: z.object({
          items: z.array(
            z.object({
              id: z.string(),
              connector: z.string(),
              title: z.string(),
              description: z.string().nullable(),
              input_schema: z.record(z.string(), z.unknown()),
              output_schema: z.record(z.string(), z.unknown()).nullable(),
              needs_connection: z.object({ required: z.boolean(), connectors: z.array(z.string()) }),
            }),
          ),
        }),
      },
    },
    handler: async () => ({
      status: 200,
      body: {
        items: rt.registry.list().flatMap((c) =>
          c.actions.map((a) => ({
            id: a.id,
            connector: c.id,
            title: a.title,
            description: a.description ?? null,
            input_schema: inputSchemaOf(a.input),
            output_schema: a.output ? inputSchemaOf(a.output, 'output') : null,
            needs_connection: rt.registry.connectionNeed(a.id),
          })),
        ),
      },
    }),
  });

  route(router, rt, {
    method: 'post',
    path: '/api/v1/actions/:actionId/run',
    operationId: 'runAction',
    tags: ['Actions'],
    summary: 'Run a registered action now (e.g. dingtalk.message.sendToGroup, http.post)',
    description:
      "The answer is the action's output. With a `connection_id`, an API key needs the scope `connections:use` too. Send an `Idempotency-Key` header to give the action a stable key (e.g. the `webhook-id` of http.post). Errors: 404 `action_not_found`, 400 `invalid_input`, 422 `action_failed` (permanent), 502 `action_failed` with `retryable: true`, 409 `needs_reauth` (the connection must be reconnected).",
    auth: { role: 'admin', scope: 'actions:run' },
    params: z.object({ actionId: z.string().regex(/^[A-Za-z0-9_]+\.[A-Za-z0-9_.]+$/, 'an action id: <connector>.<verb>') }),
    body: z
      .object({
        connection_id: z
          .string()
          .min(1)
          .optional()
          .describe('The connection the action acts through (needed by connectors with credentials)'),
        input: z.record(z.string(), z.unknown()).default({}),
      })
      .strict(),
    responses: {
      200: { description: 'Done', schema: z.object({ action: z.string(), output: z.unknown() }) },
      404: { description: 'No such action (or connection)' },
      409: { description: 'The connection needs re-authorisation' },
      422: { description: 'The action failed and retrying will not help' },
      502: { description: 'The action failed; it may succeed if retried' },
    },
    handler: async ({ params, body, req, principal }) => {
      // Acting through a connection sends its token: an API key needs connections:use besides actions:run.
      if (body.connection_id) requireScope(principal, 'connections:use');
      const action = rt.registry.action(params.actionId);
      if (!action) {
        throw new HttpError(
          404,
          'action_not_found',
          `no action "${params.actionId}" is registered on this hub (known: ${rt.registry.actionIds().join(', ') || 'none'})`,
        );
      }
      const parsed = action.input.safeParse(body.input);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
        throw new HttpError(
          400,
          'invalid_input',
          `input is not valid for ${action.id}: ${issues.map((i) => `${i.path || '(input)'} ${i.message}`).join('; ')}`,
          { issues },
        );
      }
      const given = req.get('idempotency-key');
      const idempotencyKey = given && /^[\w.:-]{1,200}$/.test(given) ? `api:${given}` : `api:${crypto.randomUUID()}`;
      const log = rt.log.child({ action: action.id, by: principal?.id, idempotencyKey });
      try {
        const connection = body.connection_id && rt.connections ? await rt.connections.handle(body.connection_id) : undefined;
        const output = await action.run(
          {
            idempotencyKey,
            attempt: 1,
            log,
            timeoutMs: rt.settings.DINGBRIDGE_HTTP_TIMEOUT_MS,
            trace: () => {},
            connection,
            files: rt.files?.access({}),
            http: (opts) => createProviderClient({ timeoutMs: rt.settings.DINGBRIDGE_HTTP_TIMEOUT_MS, ...opts }),
          },
          parsed.data,
        );
        log.info('action run through the API');
        return { status: 200, body: { action: action.id, output: output ?? null } };
      } catch (err) {
        const e: StepError = toStepError(err);
        log.warn({ err: e.message, errorClass: e.errorClass }, 'action run through the API failed');
        if (e.errorClass === 'needs_reauth') throw new HttpError(409, 'needs_reauth', e.message);
        if (e.errorClass === 'permanent')
          throw new HttpError(422, 'action_failed', e.message, { retryable: false, status: e.details.status ?? null });
        throw new HttpError(502, 'action_failed', e.message, {
          retryable: true,
          status: e.details.status ?? null,
          retry_after_ms: e.details.retryAfterMs ?? null,
        });
      }
    },
  });
  return router;
}
