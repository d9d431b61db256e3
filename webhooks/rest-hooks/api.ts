import crypto from 'node:crypto';
import dns from 'node:dns/promises';
import express, { type Router } from 'express';
import { z } from 'zod';
import { HttpError } from '../../core/errors.ts';
import { checkAddress, checkUrl, EgressError } from '../../core/net/egress.ts';
import { rowToEvent } from '../../core/pipeline/event-store.ts';
import type { Runtime } from '../../core/runtime.ts';
import { checkCondition } from '../../core/templating.ts';
import { route } from '../../config/openapi.ts';
import type { DeliveryRow, SubscriptionRow } from '../tables.ts';
import {
  DISABLED_EVENT,
  EXHAUSTED_EVENT,
  newSecret,
  previousSecretAad,
  recoverSince,
  replayDelivery,
  subscriptionAad,
} from './delivery.ts';

/** The REST-hook subscriptions API (`/api/v1/hooks`) and the event samples Zapier's performList needs. */
const ROTATION_GRACE_MS = 24 * 3_600_000;

const eventPattern = z
  .string()
  .regex(/^[A-Za-z0-9_.*-]{1,200}$/, 'an event type (trello.card.created) or a pattern with * (trello.card.*)');
const targetUrl = z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }).max(2000);
const filter = z
  .string()
  .max(2000)
  .superRefine((v, ctx) => {
    try {
      checkCondition(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `filter does not parse: ${(err as Error).message}` });
    }
  })
  .describe('A Liquid condition on the event, e.g. `data.amount > 100`');

export const subscriptionSchema = z.object({
  id: z.string(),
  target_url: z.string(),
  events: z.array(z.string()),
  filter: z.string().nullable(),
  description: z.string().nullable(),
  status: z.enum(['active', 'disabled']),
  disabled_reason: z.string().nullable(),
  rate_limit: z.number().describe('deliveries per second'),
  max_concurrency: z.number().int().describe('deliveries in flight at once'),
  failing_since: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
const deliverySchema = z.object({
  id: z.string().describe('the webhook-id'),
  event_id: z.string(),
  event_type: z.string(),
  status: z.enum(['pending', 'running', 'retrying', 'succeeded', 'dead']),
  attempts: z.number().int(),
  last_status: z.number().int().nullable(),
  last_error: z.string().nullable(),
  next_attempt_at: z.string().nullable(),
  created_at: z.string(),
  finished_at: z.string().nullable(),
});
const attemptSchema = z.object({
  attempt: z.number().int(),
  started_at: z.string(),
  duration_ms: z.number().int(),
  status_code: z.number().int().nullable(),
  outcome: z.string(),
  error: z.string().nullable(),
  response: z.string().nullable(),
});
export const eventSampleSchema = z.object({
  id: z.string(),
  type: z.string(),
  timestamp: z.string(),
  data: z.record(z.string(), z.unknown()),
});

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);
export const viewSubscription = (s: SubscriptionRow): z.output<typeof subscriptionSchema> => ({
  id: s.id,
  target_url: s.target_url,
  events: s.events,
  filter: s.filter,
  description: s.description,
  status: s.status,
  disabled_reason: s.disabled_reason,
  rate_limit: s.rate_limit,
  max_concurrency: s.max_concurrency,
  failing_since: iso(s.failing_since),
  created_at: iso(s.created_at)!,
  updated_at: iso(s.updated_at)!,
});
const viewDelivery = (d: DeliveryRow): z.output<typeof deliverySchema> => ({
  id: d.id,
  event_id: d.event_id,
  event_type: d.event_type,
  status: d.status,
  attempts: d.attempts,
  last_status: d.last_status,
  last_error: d.last_error,
  next_attempt_at: iso(d.next_attempt_at),
  created_at: iso(d.created_at)!,
  finished_at: iso(d.finished_at),
});

/** A target must not be an address the SSRF guard refuses (checked again on every delivery's connection). */
async function checkTarget(url: string): Promise<void> {
  try {
    const u = checkUrl(url);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (!/^[\d.]+$/.test(host) && !host.includes(':')) {
      let addresses: { address: string }[];
      try {
        addresses = await dns.lookup(host, { all: true });
      } catch (err) {
        throw new HttpError(
          422,
          'target_unresolvable',
          `the target's host ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      }
      for (const a of addresses) checkAddress(host, a.address);
    }
  } catch (err) {
    if (err instanceof EgressError) throw new HttpError(422, 'target_not_allowed', err.message);
    throw err;
  }
}

const HUB_SAMPLES: Record<string, Record<string, unknown>> = {
  [EXHAUSTED_EVENT]: {
    deliveryId: 'msg_2mVXfXzMBtr7hLEdJWd4Th0m9Xa',
    subscriptionId: 'sub_example',
    targetUrl: 'https://hooks.example.com/catch',
    eventId: 'evt_example',
    eventType: 'trello.card.created',
    attempts: 8,
    lastStatus: 500,
    lastError: 'answered 500',
  },
  [DISABLED_EVENT]: {
    subscriptionId: 'sub_example',
    targetUrl: 'https://hooks.example.com/catch',
    failingSince: '2026-01-01T00:00:00.000Z',
  },
};

export function restHooksRouter(rt: Runtime): Router {
  const router = express.Router();
  const idParam = z.object({ id: z.string().min(1).max(100) });
  const load = async (id: string) => {
    const sub = await rt.db.selectFrom('hook_subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
    if (!sub) throw new HttpError(404, 'subscription_not_found', `no subscription ${id}`);
    return sub;
  };
  const notFound = { description: 'No such subscription' };

  route(router, rt, {
    method: 'post',
    path: '/api/v1/hooks',
    operationId: 'subscribe',
    tags: ['REST hooks'],
    summary: 'Subscribe a URL to hub events (REST hook)',
    description:
      'Every stored event whose type matches one of `events` (and the `filter`, when given) is POSTed to `target_url`, signed per the Standard Webhooks spec with the returned `secret` (shown only here). Body: `{type, timestamp, data}`; headers `webhook-id` (stable per event × subscription), `webhook-timestamp`, `webhook-signature`. Answer 2xx within 15 s; 410 Gone unsubscribes.',
    auth: { role: 'admin', scope: 'hooks:write' },
    body: z
      .object({
        target_url: targetUrl,
        events: z.array(eventPattern).min(1).max(100),
        filter: filter.optional(),
        description: z.string().max(500).optional(),
        rate_limit: z.number().positive().max(10_000).optional().describe('deliveries per second (default DINGBRIDGE_HOOK_RATE_LIMIT)'),
        max_concurrency: z
          .number()
          .int()
          .min(1)
          .max(100)
          .optional()
          .describe('deliveries in flight at once (default DINGBRIDGE_HOOK_CONCURRENCY)'),
      })
      .strict(),
    responses: {
      201: {
        description: 'Subscribed',
        schema: subscriptionSchema.extend({ secret: z.string().describe('whsec_… Standard Webhooks secret; shown only now') }),
      },
      422: { description: 'The target is refused (SSRF guard) or does not resolve' },
    },
    handler: async ({ body, principal }) => {
      await checkTarget(body.target_url);
      const id = `sub_${crypto.randomBytes(12).toString('base64url')}`;
      const secret = newSecret();
      const row = await rt.db
        .insertInto('hook_subscriptions')
        .values({
          id,
          target_url: body.target_url,
          events: JSON.stringify(body.events),
          filter: body.filter ?? null,
          description: body.description ?? null,
          secret: rt.vault.seal(secret, subscriptionAad(id)),
          rate_limit: body.rate_limit ?? rt.settings.DINGBRIDGE_HOOK_RATE_LIMIT,
          max_concurrency: body.max_concurrency ?? rt.settings.DINGBRIDGE_HOOK_CONCURRENCY,
          created_by: principal?.id ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      rt.log.info({ subscriptionId: id, events: body.events, by: principal?.id }, 'REST-hook subscription created');
      return { status: 201, body: { ...viewSubscription(row), secret } };
    },
  });

  route(router, rt, {
    method: 'get',
    path: '/api/v1/hooks',
    operationId: 'listSubscriptions',
    tags: ['REST hooks'],
    summary: 'List subscriptions',
    auth: { role: 'viewer', scope: 'hooks:read' },
    responses: { 200: { description: 'The subscriptions', schema: z.object({ items: z.array(subscriptionSchema) }) } },
    handler: async () => ({
      status: 200,
      body: { items: (await rt.db.selectFrom('hook_subscriptions').selectAll().orderBy('created_at').execute()).map(viewSubscription) },
    }),
  });

  route(router, rt, {
    method: 'get',
    path: '/api/v1/hooks/:id',
    operationId: 'getSubscription',
    tags: ['REST hooks'],
    summary: 'One subscription',
    auth: { role: 'viewer', scope: 'hooks:read' },
    params: idParam,
    responses: { 200: { description: 'The subscription', schema: subscriptionSchema }, 404: notFound },
    handler: async ({ params }) => ({ status: 200, body: viewSubscription(await load(params.id)) }),
  });

  route(router, rt, {
    method: 'patch',
    path: '/api/v1/hooks/:id',
    operationId: 'updateSubscription',
    tags: ['REST hooks'],
    summary: 'Change a subscription; `enabled: true` re-enables a disabled one',
    auth: { role: 'admin', scope: 'hooks:write' },
    params: idParam,
    body: z
      .object({
        target_url: targetUrl.optional(),
        events: z.array(eventPattern).min(1).max(100).optional(),
        filter: filter.nullable().optional(),
        description: z.string().max(500).nullable().optional(),
        enabled: z.boolean().optional(),
        rate_limit: z.number().positive().max(10_000).optional(),
        max_concurrency: z.number().int().min(1).max(100).optional(),
      })
      .strict(),
    responses: {
      200: { description: 'The subscription', schema: subscriptionSchema },
      404: notFound,
      422: { description: 'The target is refused' },
    },
    handler: async ({ params, body }) => {
      await load(params.id);
      if (body.target_url) await checkTarget(body.target_url);
      const set: Record<string, unknown> = { updated_at: new Date() };
      if (body.target_url !== undefined) set.target_url = body.target_url;
      if (body.events !== undefined) set.events = JSON.stringify(body.events);
      if (body.filter !== undefined) set.filter = body.filter;
      if (body.description !== undefined) set.description = body.description;
      if (body.rate_limit !== undefined) set.rate_limit = body.rate_limit;
      if (body.max_concurrency !== undefined) set.max_concurrency = body.max_concurrency;
      if (body.enabled === true) Object.assign(set, { status: 'active', disabled_reason: null, failing_since: null });
      if (body.enabled === false) Object.assign(set, { status: 'disabled', disabled_reason: 'disabled by an admin' });
      const row = await rt.db
        .updateTable('hook_subscriptions')
        .set(set)
        .where('id', '=', params.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return { status: 200, body: viewSubscription(row) };
    },
  });

  route(router, rt, {
    method: 'delete',
    path: '/api/v1/hooks/:id',
    operationId: 'unsubscribe',
    tags: ['REST hooks'],
    summary: 'Unsubscribe (deletes the subscription and its delivery records)',
    auth: { role: 'admin', scope: 'hooks:write' },
    params: idParam,
    responses: { 204: { description: 'Deleted' }, 404: notFound },
    handler: async ({ params }) => {
      const row = await rt.db.deleteFrom('hook_subscriptions').where('id', '=', params.id).returning('id').executeTakeFirst();
      if (!row) throw new HttpError(404, 'subscription_not_found', `no subscription ${params.id}`);
      rt.log.info({ subscriptionId: params.id }, 'REST-hook subscription deleted');
      return { status: 204 };
    },
  });

  route(router, rt, {
    method: 'post',
    path: '/api/v1/hooks/:id/rotate-secret',
    operationId: 'rotateSubscriptionSecret',
    tags: ['REST hooks'],
    summary: 'New signing secret; for 24 h deliveries carry signatures with both the new and the previous secret',
    auth: { role: 'admin', scope: 'hooks:write' },
    params: idParam,
    responses: {
      200: {
        description: 'The new secret (shown only now)',
        schema: z.object({ id: z.string(), secret: z.string(), previous_secret_valid_until: z.string() }),
      },
      404: notFound,
    },
    handler: async ({ params }) => {
      const sub = await load(params.id);
      const secret = newSecret();
      const until = new Date(Date.now() + ROTATION_GRACE_MS);
      await rt.db
        .updateTable('hook_subscriptions')
        .set({
          secret: rt.vault.seal(secret, subscriptionAad(sub.id)),
          previous_secret: rt.vault.seal(rt.vault.open(sub.secret, subscriptionAad(sub.id)), previousSecretAad(sub.id)),
          previous_secret_until: until,
          updated_at: new Date(),
        })
        .where('id', '=', sub.id)
        .execute();
      rt.log.info({ subscriptionId: sub.id }, 'REST-hook secret rotated');
      return { status: 200, body: { id: sub.id, secret, previous_secret_valid_until: until.toISOString() } };
    },
  });

  route(router, rt, {
    method: 'get',
    path: '/api/v1/hooks/:id/deliveries',
    operationId: 'listDeliveries',
    tags: ['REST hooks'],
    summary: "A subscription's deliveries, newest first",
    auth: { role: 'viewer', scope: 'hooks:read' },
    params: idParam,
    query: z.object({
      status: z.enum(['pending', 'running', 'retrying', 'succeeded', 'dead']).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
    responses: { 200: { description: 'Deliveries', schema: z.object({ items: z.array(deliverySchema) }) }, 404: notFound },
    handler: async ({ params, query }) => {
      await load(params.id);
      let q = rt.db.selectFrom('hook_deliveries').selectAll().where('subscription_id', '=', params.id);
      if (query.status) q = q.where('status', '=', query.status);
      const rows = await q.orderBy('created_at', 'desc').limit(query.limit).execute();
      return { status: 200, body: { items: rows.map(viewDelivery) } };
    },
  });

  const deliveryParams = z.object({ id: z.string().min(1).max(100), deliveryId: z.string().min(1).max(100) });
  route(router, rt, {
    method: 'get',
    path: '/api/v1/hooks/:id/deliveries/:deliveryId',
    operationId: 'getDelivery',
    tags: ['REST hooks'],
    summary: 'One delivery with every attempt',
    auth: { role: 'viewer', scope: 'hooks:read' },
    params: deliveryParams,
    responses: {
      200: { description: 'The delivery', schema: deliverySchema.extend({ attempts_log: z.array(attemptSchema) }) },
      404: { description: 'No such delivery' },
    },
    handler: async ({ params }) => {
      const d = await rt.db
        .selectFrom('hook_deliveries')
        .selectAll()
        .where('id', '=', params.deliveryId)
        .where('subscription_id', '=', params.id)
        .executeTakeFirst();
      if (!d) throw new HttpError(404, 'delivery_not_found', `no delivery ${params.deliveryId} for subscription ${params.id}`);
      const attempts = await rt.db
        .selectFrom('hook_delivery_attempts')
        .selectAll()
        .where('delivery_id', '=', d.id)
        .orderBy('attempt')
        .execute();
      return {
        status: 200,
        body: {
          ...viewDelivery(d),
          attempts_log: attempts.map((a) => ({
            attempt: a.attempt,
            started_at: iso(a.started_at)!,
            duration_ms: a.duration_ms,
            status_code: a.status_code,
            outcome: a.outcome,
            error: a.error,
            response: a.response,
          })),
        },
      };
    },
  });

  route(router, rt, {
    method: 'post',
    path: '/api/v1/hooks/:id/deliveries/:deliveryId/replay',
    operationId: 'replayDelivery',
    tags: ['REST hooks'],
    summary: 'Deliver one delivery again (a dead one, or one already delivered), with a fresh attempt budget',
    auth: { role: 'admin', scope: 'hooks:write' },
    params: deliveryParams,
    responses: {
      202: { description: 'Queued', schema: deliverySchema },
      404: { description: 'No such delivery' },
      409: { description: 'The delivery is still in progress' },
    },
    handler: async ({ params }) => {
      const row = await replayDelivery(rt, params.id, params.deliveryId);
      if (row) return { status: 202, body: viewDelivery(row) };
      const exists = await rt.db
        .selectFrom('hook_deliveries')
        .select('status')
        .where('id', '=', params.deliveryId)
        .where('subscription_id', '=', params.id)
        .executeTakeFirst();
      if (!exists) throw new HttpError(404, 'delivery_not_found', `no delivery ${params.deliveryId} for subscription ${params.id}`);
      throw new HttpError(
        409,
        'delivery_in_progress',
        `the delivery is ${exists.status}; it can be replayed once it has succeeded or died`,
      );
    },
  });

  route(router, rt, {
    method: 'post',
    path: '/api/v1/hooks/:id/recover',
    operationId: 'recoverSubscription',
    tags: ['REST hooks'],
    summary: 'Deliver everything the subscription missed since a time: its dead deliveries, and matching events it has no delivery for',
    auth: { role: 'admin', scope: 'hooks:write' },
    params: idParam,
    body: z.object({ since: z.iso.datetime({ offset: true }) }).strict(),
    responses: {
      202: { description: 'Queued', schema: z.object({ redelivered: z.number().int(), created: z.number().int() }) },
      404: notFound,
      409: { description: 'The subscription is disabled' },
    },
    handler: async ({ params, body }) => {
      const sub = await load(params.id);
      if (sub.status !== 'active')
        throw new HttpError(409, 'subscription_disabled', 'enable the subscription first (PATCH {"enabled": true})');
      const result = await recoverSince(rt, sub, new Date(body.since));
      rt.log.info({ subscriptionId: sub.id, since: body.since, ...result }, 'subscription recovered');
      return { status: 202, body: result };
    },
  });

  route(router, rt, {
    method: 'get',
    path: '/api/v1/events/samples',
    operationId: 'eventSamples',
    tags: ['Events'],
    summary: "Recent real events of a type, in the delivery shape (falls back to the connector's sample data)",
    auth: { role: 'viewer', scope: 'events:read' },
    query: z.object({ type: eventPattern, limit: z.coerce.number().int().min(1).max(100).default(3) }),
    responses: { 200: { description: 'Samples, newest first', schema: z.object({ items: z.array(eventSampleSchema) }) } },
    handler: async ({ query }) => {
      let q = rt.db.selectFrom('events').selectAll();
      q = query.type.includes('*')
        ? q.where('type', 'like', query.type.replace(/[%_\\]/g, '\\$&').replace(/\*/g, '%'))
        : q.where('type', '=', query.type);
      const rows = await q.orderBy('received_at', 'desc').limit(query.limit).execute();
      let items = rows.map((r) => {
        const e = rowToEvent(r);
        return { id: e.id, type: e.type, timestamp: e.occurredAt, data: e.data };
      });
      if (items.length === 0) {
        const exact = query.type.replace(/\*.*$/, '');
        const trigger = rt.registry
          .triggers()
          .find((t) => t.sample && t.events.some((e) => e === query.type || (query.type.includes('*') && e.startsWith(exact))));
        const type = trigger?.events.find((e) => e === query.type || e.startsWith(exact)) ?? query.type;
        const sample = trigger?.sample ?? HUB_SAMPLES[query.type];
        if (sample) items = [{ id: `sample_${type}`, type, timestamp: new Date().toISOString(), data: sample }];
      }
      return { status: 200, body: { items } };
    },
  });

  route(router, rt, {
    method: 'get',
    path: '/api/v1/events/types',
    operationId: 'eventTypes',
    tags: ['Events'],
    summary: 'Event types the hub can emit (for a dropdown)',
    auth: { role: 'viewer', scope: 'events:read' },
    responses: { 200: { description: 'Types', schema: z.object({ items: z.array(z.object({ type: z.string() })) }) } },
    handler: async () => ({
      status: 200,
      body: { items: [...new Set([...rt.registry.eventTypes(), EXHAUSTED_EVENT, DISABLED_EVENT])].sort().map((type) => ({ type })) },
    }),
  });

  return router;
}
