import path from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import { sql } from 'kysely';
import { z } from 'zod';
import { HttpError } from '../core/errors.ts';
import { newEventId, type HubEvent } from '../core/events.ts';
import { flowSchema, templateScope, type Flow } from '../core/flows.ts';
import type { FlowStore } from '../core/flows-store.ts';
import { loadEvent } from '../core/pipeline/event-store.ts';
import { stepJobId, stepRunId } from '../core/pipeline/jobs.ts';
import { QUEUE_NAMES } from '../core/queue/queues.ts';
import type { Runtime } from '../core/runtime.ts';
import { evaluateCondition, renderMapping, templateBudget } from '../core/templating.ts';
import { beginPreview } from './preview-limit.ts';
import { availableRecipes, instantiateCalendarSyncRecipe, instantiateRecipe, recipeSummary } from './recipes.ts';
import { calendarSyncConfigSchema } from '../core/calendar-sync/service.ts';
import { calendarSyncsOf } from '../core/calendar-sync/syncs.ts';
import { requireRole, requireScope } from './admin-auth.ts';
import { auditRequest } from './audit.ts';
import { validate } from './http-validate.ts';
import { publicUrl } from './oauth-routes.ts';

/**
 * Flows from the UI: list (with the last run), create, update, delete, enable/disable, validate,
 * preview a template, run a test; the built-in recipes; and the catalog of connectors, triggers and
 * actions the editor builds its forms from.
 */
export interface FlowIssue {
  path: string;
  message: string;
}

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  try {
    const s = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    delete s.$schema;
    return s;
  } catch {
    return {};
  }
}

function outputSchemaOf(schema: z.ZodType): Record<string, unknown> {
  try {
    const s = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
    delete s.$schema;
    return s;
  } catch {
    return {};
  }
}

/** Connectors with their auth fields (never values), triggers' event types and actions' input schemas. */
export function catalog(rt: Runtime) {
  return {
    connectors: rt.registry.list().map((c) => ({
      id: c.id,
      name: c.name,
      auth: {
        kind: c.auth.kind,
        fields:
          'fields' in c.auth
            ? c.auth.fields.map((f) => ({
                key: f.key,
                label: f.label,
                secret: Boolean(f.secret),
                required: Boolean(f.required),
                description: f.description ?? null,
                default: f.secret ? null : (f.default ?? null),
              }))
            : [],
        testable: 'test' in c.auth && Boolean(c.auth.test),
      },
      triggers: c.triggers.map((t) => ({
        id: t.id,
        title: t.title,
        kind: t.kind,
        events: t.events,
        sample: t.sample ?? null,
        params: t.subscription?.params ?? t.poll?.params ?? [],
      })),
      actions: c.actions.map((a) => ({
        id: a.id,
        title: a.title,
        description: a.description ?? null,
        inputSchema: jsonSchemaOf(a.input),
        secretInputs: a.secretInputs ?? [],
        outputSchema: a.output ? outputSchemaOf(a.output) : null,
        needsConnection: rt.registry.connectionNeed(a.id),
        sampleOutput: a.sampleOutput ?? null,
      })),
      /** The connector's words in en / zh-CN / zh-HK (connectors/<id>/i18n.ts); null when it ships none. */
      i18n: c.i18n ?? null,
      /** Live-choice lists (GET /api/v1/connections/:id/choices/:name). */
      choices: Object.keys(c.choices ?? {}),
    })),
    eventTypes: [...new Set([...rt.registry.eventTypes(), 'hub.connection.needs_reauth'])].sort(),
  };
}

/**
 * Checks a flow as the config file would: the schema (with template syntax), that each action exists,
 * and that a step whose action needs a connection names one of the right connector (`connections`:
 * connection id → connector id, when known).
 */
export function checkFlow(rt: Runtime, input: unknown, connections?: Map<string, string>): { flow?: Flow; issues: FlowIssue[] } {
  const parsed = flowSchema.safeParse(input);
  if (!parsed.success) return { issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) };
  const issues: FlowIssue[] = [];
  parsed.data.then.forEach((step, i) => {
    const action = rt.registry.action(step.action);
    if (!action) {
      issues.push({ path: `then.${i}.action`, message: `unknown action "${step.action}"` });
      return;
    }
    issues.push(...stepConnectionIssues(rt, step, connections).map((message) => ({ path: `then.${i}.connection`, message })));
  });
  return issues.length ? { issues } : { flow: parsed.data, issues };
}

/** A flow whose steps act through a connection makes the hub send that connection's token: an API key needs connections:use for it. */
function requireConnectionUse(req: Request, flow: Flow): void {
  if (flow.then.some((step) => step.connection)) requireScope(req.principal, 'connections:use');
}

/** What is wrong with a step's `connection:` for its action (shared with the config file's checks). */
export function stepConnectionIssues(
  rt: Pick<Runtime, 'registry'>,
  step: { action: string; connection?: string },
  connections?: Map<string, string>,
): string[] {
  const need = rt.registry.connectionNeed(step.action);
  if (!step.connection)
    return need.required ? [`${step.action} needs a connection (a ${need.connectors.join(' or ')} connection): set \`connection:\``] : [];
  const connector = connections?.get(step.connection);
  if (connector && need.connectors.length && !need.connectors.includes(connector)) {
    return [`${step.action} needs a ${need.connectors.join(' or ')} connection; ${step.connection} is a ${connector} connection`];
  }
  return [];
}

async function connectionMap(rt: Runtime): Promise<Map<string, string>> {
  const rows = await rt.db.selectFrom('connections').select(['id', 'connector_id']).execute();
  return new Map(rows.map((r) => [r.id, r.connector_id]));
}

async function requireValid(rt: Runtime, input: unknown): Promise<Flow> {
  const { flow, issues } = checkFlow(rt, input, await connectionMap(rt));
  if (!flow)
    throw new HttpError(
      400,
      'invalid_flow',
      `the flow is not valid: ${issues.map((i) => `${i.path || 'flow'}: ${i.message}`).join('; ')}`,
      { issues },
    );
  return flow;
}

// Recipes live in recipes.ts (shared with the config file's `recipes:`).

// ---------- the router ----------

export const SECRET_MASK = '********';
const flowIdParams = z.object({ id: z.string().min(1).max(64) });

/** A sample event for previews and tests: a stored event, or the trigger's sample data for the type. */
async function sampleEvent(
  rt: Runtime,
  opts: { eventId?: string; eventType?: string; data?: Record<string, unknown>; source?: string },
): Promise<HubEvent> {
  if (opts.eventId) {
    const stored = await loadEvent(rt.db, opts.eventId);
    if (!stored) throw new HttpError(404, 'event_not_found', `no event "${opts.eventId}"`);
    return stored;
  }
  const type = opts.eventType ?? 'catch_hook.received';
  const trigger = rt.registry.triggers().find((t) => t.events.includes(type));
  return {
    id: 'evt_sample',
    type,
    source: opts.source ?? 'sample',
    connectionId: null,
    occurredAt: new Date().toISOString(),
    subject: null,
    data: opts.data ?? (trigger?.sample as Record<string, unknown> | undefined) ?? {},
  };
}

const previewSchema = z
  .object({
    mapping: z.unknown().optional(),
    condition: z.string().max(10_000).optional(),
    eventId: z.string().max(100).optional(),
    eventType: z.string().max(200).optional(),
    source: z.string().max(200).optional(),
    data: z.record(z.string(), z.unknown()).optional(),
    /** Outputs of earlier steps, for templates that use steps[n].output (their sample outputs by default). */
    stepOutputs: z.array(z.unknown()).max(50).optional(),
  })
  .strict();

export function flowsRouter(
  rt: Runtime,
  configHooks: { id: string; name: string | null }[] = [],
  flowsAsWritten: Record<string, Flow> = {},
): Router {
  const router = express.Router();
  const store = () => rt.flows as FlowStore;
  const json = express.json({ limit: '256kb' });

  router.get('/api/v1/catalog', requireRole(rt, 'viewer', 'flows:read'), async (_req, res) => {
    const apiHooks = await rt.db.selectFrom('catch_hooks').select(['id', 'name']).orderBy('created_at').execute();
    const seen = new Set(configHooks.map((h) => h.id));
    res.json({
      ...catalog(rt),
      /** Where this hub is reached from outside: the guided connect panel builds the URLs to paste from it. */
      publicUrl: publicUrl(rt, _req),
      catchHooks: [
        ...configHooks.map((h) => ({ ...h, origin: 'config' })),
        ...apiHooks.filter((h) => !seen.has(h.id)).map((h) => ({ id: h.id, name: h.name, origin: 'api' })),
      ],
    });
  });

  const lastRuns = async (): Promise<Map<string, { status: string; eventId: string; at: string; error: string | null }>> => {
    const rows = await sql<{ flow_id: string; event_id: string; status: string; updated_at: Date; last_error: string | null }>`
      select distinct on (flow_id) flow_id, event_id, status, updated_at, last_error
      from step_runs order by flow_id, created_at desc, step_index desc`.execute(rt.db);
    return new Map(
      rows.rows.map((r) => [
        r.flow_id,
        { status: r.status, eventId: r.event_id, at: new Date(r.updated_at).toISOString(), error: r.last_error },
      ]),
    );
  };
  /** Secret inputs (e.g. http.post's signing secret) are write-only: shown as a mask, kept when the mask comes back. */
  const mask = (flow: Flow): Flow => ({
    ...flow,
    then: flow.then.map((step) => {
      const secrets = rt.registry.action(step.action)?.secretInputs ?? [];
      const input = { ...step.input };
      for (const k of secrets) if (typeof input[k] === 'string' && input[k]) input[k] = SECRET_MASK;
      return { ...step, input };
    }),
  });
  const unmask = (flow: Flow, old: Flow | undefined): Flow => ({
    ...flow,
    then: flow.then.map((step, i) => {
      const input = { ...step.input };
      const oldHeaders =
        old?.then[i]?.action === step.action ? (old.then[i]!.input.headers as Record<string, unknown> | undefined) : undefined;
      if (input.headers && typeof input.headers === 'object' && !Array.isArray(input.headers)) {
        // A masked header value sent back keeps the stored one.
        input.headers = Object.fromEntries(
          Object.entries(input.headers as Record<string, unknown>).flatMap(([h, v]) =>
            v !== SECRET_MASK ? [[h, v]] : oldHeaders?.[h] !== undefined ? [[h, oldHeaders[h]]] : [],
          ),
        );
      }
      for (const [k, v] of Object.entries(input)) {
        if (v !== SECRET_MASK) continue;
        const before = old?.then[i]?.action === step.action ? old.then[i]!.input[k] : undefined;
        if (before === undefined) delete input[k];
        else input[k] = before;
      }
      return { ...step, input };
    }),
  });
  /** Header values in step inputs are for admins: viewers and API keys see the names with a mask. */
  const hideHeaders = (flow: Flow): Flow => ({
    ...flow,
    then: flow.then.map((step) => {
      const headers = step.input.headers;
      if (!headers || typeof headers !== 'object' || Array.isArray(headers)) return step;
      return { ...step, input: { ...step.input, headers: Object.fromEntries(Object.keys(headers).map((h) => [h, SECRET_MASK])) } };
    }),
  });
  const view = (flow: Flow, last?: { status: string; eventId: string; at: string; error: string | null }, req?: Request) => {
    // A config-file flow is shown as written: `${ENV}` references, never their values.
    const shown = store().isConfig(flow.id) && flowsAsWritten[flow.id] ? flowsAsWritten[flow.id]! : flow;
    const seesHeaders = req?.principal && req.principal.kind !== 'api_key' && req.principal.role !== 'viewer';
    return { ...mask(seesHeaders ? shown : hideHeaders(shown)), meta: store().meta(flow.id), lastRun: last ?? null };
  };

  router.get('/api/v1/flows', requireRole(rt, 'viewer', 'flows:read'), async (req, res) => {
    const last = await lastRuns();
    res.json({
      items: store()
        .list()
        .map((f) => view(f, last.get(f.id), req)),
    });
  });

  router.get('/api/v1/flows/:id', requireRole(rt, 'viewer', 'flows:read'), async (req, res) => {
    const { id } = validate(flowIdParams, req.params, 'params');
    const flow = store().get(id);
    if (!flow) throw new HttpError(404, 'flow_not_found', `no flow "${id}"`);
    res.json(view(flow, (await lastRuns()).get(id), req));
  });

  router.post('/api/v1/flows/validate', requireRole(rt, 'viewer', 'flows:read'), json, async (req, res) => {
    res.locals.audited = true; // a read: nothing changes
    const { flow, issues } = checkFlow(rt, req.body, await connectionMap(rt));
    res.json({ valid: Boolean(flow), issues });
  });

  router.post('/api/v1/flows', requireRole(rt, 'admin', 'flows:write'), json, async (req, res) => {
    const flow = await requireValid(rt, req.body);
    requireConnectionUse(req, flow);
    await store().create(flow, { by: req.principal?.label });
    await auditRequest(rt, req, 'flow.created', flow.id, { actions: flow.then.map((s) => s.action), enabled: flow.enabled });
    res.status(201).json(view(flow, undefined, req));
  });

  router.put('/api/v1/flows/:id', requireRole(rt, 'admin', 'flows:write'), json, async (req, res) => {
    const { id } = validate(flowIdParams, req.params, 'params');
    const flow = unmask(await requireValid(rt, { ...(req.body as object), id }), store().get(id));
    requireConnectionUse(req, flow);
    await store().update(id, flow);
    await auditRequest(rt, req, 'flow.updated', id, { actions: flow.then.map((s) => s.action), enabled: flow.enabled });
    res.json(view(flow, (await lastRuns()).get(id), req));
  });

  router.delete('/api/v1/flows/:id', requireRole(rt, 'admin', 'flows:write'), async (req, res) => {
    const { id } = validate(flowIdParams, req.params, 'params');
    await store().remove(id);
    await auditRequest(rt, req, 'flow.deleted', id);
    res.status(204).end();
  });

  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    router.post(`/api/v1/flows/:id/${verb}`, requireRole(rt, 'admin', 'flows:write'), async (req, res) => {
      const { id } = validate(flowIdParams, req.params, 'params');
      await store().setEnabled(id, enabled);
      await auditRequest(rt, req, enabled ? 'flow.enabled' : 'flow.disabled', id);
      res.json(view(store().get(id)!, (await lastRuns()).get(id), req));
    });
  }

  /** Renders a mapping (and checks a condition) against an event: a stored one, posted data, or the trigger's sample. */
  router.post('/api/v1/flows/preview', requireRole(rt, 'viewer', 'flows:read'), json, async (req, res) => {
    res.locals.audited = true; // a read: nothing changes
    const input = validate(previewSchema, req.body);
    const done = beginPreview(req);
    try {
      const event = await sampleEvent(rt, input);
      const scope = templateScope(event, input.stepOutputs ?? []);
      const out: Record<string, unknown> = { event: { id: event.id, type: event.type, source: event.source, data: event.data } };
      const budget = templateBudget(); // one for the mapping and the condition together
      try {
        if (input.mapping !== undefined) out.output = await renderMapping(input.mapping, scope, budget);
        if (input.condition) out.condition = await evaluateCondition(input.condition, scope, budget);
        out.ok = true;
      } catch (err) {
        out.ok = false;
        out.error = (err as Error).message.split('\n')[0];
      }
      res.json(out);
    } finally {
      done();
    }
  });

  /** Runs one flow now on a test event (marked as a test; other flows do not see it). */
  router.post('/api/v1/flows/:id/test', requireRole(rt, 'admin', 'flows:write'), json, async (req, res) => {
    const { id } = validate(flowIdParams, req.params, 'params');
    const input = validate(
      z.object({ eventId: z.string().max(100).optional(), data: z.record(z.string(), z.unknown()).optional() }).strict(),
      req.body ?? {},
    );
    const flow = store().get(id);
    if (!flow) throw new HttpError(404, 'flow_not_found', `no flow "${id}"`);
    requireConnectionUse(req, flow);
    const base = await sampleEvent(rt, {
      eventId: input.eventId,
      eventType: flow.when.event.includes('*') ? undefined : flow.when.event,
      data: input.data,
      source: flow.when.source,
    });
    const event: HubEvent = { ...base, id: newEventId(), source: flow.when.source ?? base.source, occurredAt: new Date().toISOString() };
    const runId = stepRunId(event.id, flow.id, 0);
    await rt.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('events')
        .values({
          id: event.id,
          type: event.type,
          source: event.source,
          connection_id: event.connectionId,
          subject: event.subject,
          occurred_at: event.occurredAt,
          data: JSON.stringify(event.data),
          raw: JSON.stringify({ test: true, flowId: flow.id, by: req.principal?.label ?? null }),
          status: 'dispatched',
          flows_matched: 1,
          dispatched_at: new Date(),
        })
        .execute();
      await trx
        .insertInto('step_runs')
        .values({
          id: runId,
          event_id: event.id,
          flow_id: flow.id,
          step_index: 0,
          action: flow.then[0]!.action,
          max_attempts: rt.settings.DINGBRIDGE_STEP_ATTEMPTS,
        })
        .execute();
    });
    await rt.queue.add(QUEUE_NAMES.steps, { stepRunId: runId }, { jobId: stepJobId(runId, 1) });
    await auditRequest(rt, req, 'flow.tested', id, { eventId: event.id });
    res.status(202).json({ eventId: event.id, test: true });
  });

  router.get('/api/v1/recipes', requireRole(rt, 'viewer', 'flows:read'), (_req, res) => {
    const ofEvent = (type: string) =>
      rt.registry
        .list()
        .find((c) =>
          c.triggers.some((t) => t.events.includes(type) || (type.endsWith('*') && t.events.some((e) => e.startsWith(type.slice(0, -1))))),
        )?.id;
    res.json({
      items: availableRecipes((a) => Boolean(rt.registry.action(a))).map(({ flow: _flow, calendarSync: _sync, ...r }) => ({
        ...r,
        ...recipeSummary({ ...r, flow: _flow, calendarSync: _sync }, (a) => rt.registry.owner(a), ofEvent),
      })),
    });
  });

  router.post('/api/v1/recipes/:id/instantiate', requireRole(rt, 'admin', 'flows:write'), json, async (req, res) => {
    const { id } = validate(z.object({ id: z.string().max(100) }), req.params, 'params');
    const input = validate(
      z
        .object({
          flowId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'letters, digits, - and _ (at most 64)'),
          name: z.string().max(200).optional(),
          enabled: z.boolean().default(true),
          fields: z.record(z.string(), z.string().max(20_000)).default({}),
          /** The admin's language: fields left out take the recipe's default in it. */
          lang: z.enum(['en', 'zh-CN', 'zh-HK']).default('en'),
          /** The names of chosen values (a Trello board's name for its id), for the flow's name. */
          labels: z.record(z.string(), z.string().max(500)).default({}),
        })
        .strict(),
      req.body,
    );
    const recipe = availableRecipes((a) => Boolean(rt.registry.action(a))).find((r) => r.id === id);
    if (!recipe) throw new HttpError(404, 'recipe_not_found', `no recipe "${id}" on this hub`);
    if (recipe.calendarSync) {
      // A two-way calendar sync (kept beside the config file's); the flow id is its id.
      const parsed = calendarSyncConfigSchema.safeParse({
        ...instantiateCalendarSyncRecipe(recipe, input.flowId, input.fields),
        enabled: input.enabled,
      });
      if (!parsed.success)
        throw new HttpError(400, 'invalid_calendar_sync', 'the fields do not make a valid calendar sync', {
          issues: parsed.error.issues.map((i) => ({ path: `fields.${String(i.path[0] ?? '')}`, message: i.message })),
        });
      const cfg = parsed.data;
      if (!cfg.people.length && !cfg.departments.length)
        throw new HttpError(400, 'missing_fields', 'name some people or departments', {
          issues: [{ path: 'fields.people', message: 'people or departments' }],
        });
      // Each connection field takes a connection of its connector, one with a calendar; two different ones.
      for (const f of recipe.fields.filter((x) => x.kind === 'connection')) {
        const connId = (input.fields[f.key] ?? '').trim();
        const conn = connId ? await rt.connections.store.get(connId) : undefined;
        if (!conn || (f.connector && conn.connector_id !== f.connector) || !rt.registry.connector(conn.connector_id)?.calendarSide)
          throw new HttpError(400, 'invalid_connection', `"${connId}" is not a ${f.connector ?? 'calendar'} connection`, {
            issues: [{ path: `fields.${f.key}`, message: `a ${f.connector ?? 'calendar'} connection` }],
          });
      }
      if (cfg.sides[0] === cfg.sides[1])
        throw new HttpError(400, 'invalid_connection', 'the two sides are one connection', {
          issues: [{ path: 'fields.dingtalk', message: 'another connection' }],
        });
      if (!(await calendarSyncsOf(rt).create(cfg, { recipe: recipe.id, by: req.principal?.label })))
        throw new HttpError(409, 'calendar_sync_exists', `a calendar sync "${cfg.id}" exists already`, {
          issues: [{ path: 'flowId', message: 'taken' }],
        });
      await auditRequest(rt, req, 'calendar_sync.created', cfg.id, { recipe: recipe.id, sides: cfg.sides });
      res.status(201).json({ calendarSync: cfg });
      return;
    }
    const candidate = instantiateRecipe(recipe, input.flowId, input.fields, input.lang, input.labels) as Record<string, unknown>;
    const flow = await requireValid(rt, { ...candidate, ...(input.name ? { name: input.name } : {}), enabled: input.enabled });
    requireConnectionUse(req, flow);
    await store().create(flow, { recipe: recipe.id, by: req.principal?.label });
    await auditRequest(rt, req, 'flow.created', flow.id, { recipe: recipe.id, actions: flow.then.map((s) => s.action) });
    res.status(201).json(view(flow, undefined, req));
  });

  return router;
}

export type { Request, Response };
