import express, { type Router } from 'express';
import { z } from 'zod';
import { HttpError } from '../core/errors.ts';
import type { Runtime } from '../core/runtime.ts';
import { actOnTrigger, listTriggerHealth, type TriggerAction } from '../core/triggers/health.ts';
import { auditRequest } from './audit.ts';
import { route } from './openapi.ts';

const nullableTime = z.string().nullable().describe('ISO 8601 time, or null');
export const triggerHealthSchema = z
  .object({
    id: z.string(),
    connector: z.string(),
    kind: z.enum(['webhook', 'subscription', 'poll', 'stream', 'schedule']),
    connection: z.string().nullable(),
    status: z.string().describe('ok, active, pending, retrying, error, gone, disabled'),
    expiresAt: nullableTime,
    nextRunAt: nullableTime.describe('the next poll, renewal or firing'),
    lastEventAt: nullableTime,
    lastError: z.string().nullable(),
  })
  .catchall(z.unknown())
  .describe('More fields by kind: lastPollAt, cursorAgeMs, lastNotificationAt, renewedAt, eventsLast24h, actions');

const idParams = z.object({ id: z.string().min(1).max(300) });

/**
 * GET /api/v1/triggers: every trigger's health (subscriptions, pollers, streams, webhooks, and kinds
 * that features register, such as schedules), and the "poll now", "resync" and "renew" buttons.
 */
export function triggersRouter(rt: Runtime): Router {
  const router = express.Router();
  route(router, rt, {
    method: 'get',
    path: '/api/v1/triggers',
    operationId: 'listTriggers',
    tags: ['Triggers'],
    summary: 'Every trigger and its health',
    auth: { role: 'viewer', scope: 'triggers:read' },
    responses: { 200: { description: 'The triggers', schema: z.object({ triggers: z.array(triggerHealthSchema) }) } },
    handler: async () => {
      const triggers = await listTriggerHealth(rt);
      triggers.sort((a, b) =>
        `${a.connector}\u0000${a.connection}\u0000${a.kind}\u0000${a.id}`.localeCompare(
          `${b.connector}\u0000${b.connection}\u0000${b.kind}\u0000${b.id}`,
        ),
      );
      return { status: 200, body: { triggers } };
    },
  });
  const actions: Array<{ action: TriggerAction; summary: string; operationId: string }> = [
    { action: 'poll', summary: 'Poll now (a poller, or the pollers a subscription notifies)', operationId: 'pollTrigger' },
    {
      action: 'resync',
      summary: 'Full resync of a poller: reconciles changes and deletions with what it last saw',
      operationId: 'resyncTrigger',
    },
    {
      action: 'renew',
      summary: 'Renew a subscription now (a new registration first, then the old one is stopped)',
      operationId: 'renewTrigger',
    },
  ];
  for (const a of actions) {
    route(router, rt, {
      method: 'post',
      path: `/api/v1/triggers/:id/${a.action}`,
      operationId: a.operationId,
      tags: ['Triggers'],
      summary: a.summary,
      auth: { role: 'admin', scope: 'triggers:write' },
      params: idParams,
      responses: {
        202: { description: 'Requested', schema: z.object({ id: z.string(), action: z.string(), status: z.literal('requested') }) },
        404: { description: 'No such trigger' },
        409: { description: 'The action does not apply to this kind of trigger' },
      },
      handler: async ({ params, req }) => {
        const outcome = await actOnTrigger(rt, params.id, a.action);
        if (outcome === 'unknown') throw new HttpError(404, 'trigger_not_found', `no trigger "${params.id}" that can ${a.action}`);
        await auditRequest(rt, req, `trigger.${a.action}`, params.id);
        return { status: 202, body: { id: params.id, action: a.action, status: 'requested' } };
      },
    });
  }
  return router;
}
