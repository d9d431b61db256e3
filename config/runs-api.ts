import express, { type Router } from 'express';
import { sql, type SelectQueryBuilder } from 'kysely';
import { z } from 'zod';
import type { Database, StepRunRow, StepStatus } from '../core/db/schema.ts';
import { HttpError } from '../core/errors.ts';
import { replayEvent, replayStep } from '../core/pipeline/replay.ts';
import type { Runtime } from '../core/runtime.ts';
import { requireRole } from './admin-auth.ts';
import { auditRequest } from './audit.ts';
import { validate } from './http-validate.ts';
import { hideHeaderValues } from '../core/redact.ts';

/**
 * Runs: stored events with their step runs and every attempt (timing, error, the redacted request and
 * response), filterable and paged; replay of an event, of one failed step, or of every failed event
 * of a filter; and a server-sent event stream that says when something changed.
 */
export const RUN_STATUSES = ['failed', 'running', 'succeeded', 'no_flows', 'received'] as const;

export const runsQuerySchema = z.object({
  flow: z.string().max(100).optional(),
  source: z.string().max(200).optional(),
  connector: z.string().max(100).optional(),
  type: z.string().max(200).optional(),
  status: z.enum(RUN_STATUSES).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  /** The `next` of the previous page. */
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
type RunsQuery = z.output<typeof runsQuerySchema>;

const FAILED = ['dead', 'waiting_reauth'];

/** Every step status, so the live stream can read the newest change per status from an index. */
const STEP_STATUSES = Object.keys({
  pending: 1,
  running: 1,
  retrying: 1,
  succeeded: 1,
  dead: 1,
  waiting_reauth: 1,
} satisfies Record<StepStatus, 1>) as StepStatus[];

/**
 * What the Runs page's live stream compares each second. The newest step change is read per status
 * (index step_runs_status_updated, one row each): `max(updated_at)` over the whole table would scan
 * every step ever kept — millions with a month of history — once a second for each open page.
 */
const CHANGE_SIGNATURE = sql`coalesce(greatest(${sql.join(
  STEP_STATUSES.map((status) => sql`(select max(updated_at) from step_runs where status = ${status})`),
)})::text, '') || '|' || coalesce((select max(received_at)::text from events), '') || '|' || (select count(*) from step_runs where status in ('pending','running','retrying'))::text`;
const ACTIVE = ['pending', 'running', 'retrying'];
const statusSql = sql<string>`case
  when exists (select 1 from step_runs s where s.event_id = e.id and s.status in ('dead', 'waiting_reauth')) then 'failed'
  when exists (select 1 from step_runs s where s.event_id = e.id and s.status in ('pending', 'running', 'retrying')) then 'running'
  when e.status = 'received' then 'received'
  when exists (select 1 from step_runs s where s.event_id = e.id) then 'succeeded'
  else 'no_flows' end`;

const like = (s: string) => `${s.replace(/[\\%_]/g, '\\$&')}%`;

function filtered(rt: Runtime, q: Omit<RunsQuery, 'limit' | 'cursor'>): SelectQueryBuilder<Database & { e: Database['events'] }, 'e', {}> {
  let s = rt.db.selectFrom('events as e') as unknown as SelectQueryBuilder<Database & { e: Database['events'] }, 'e', {}>;
  if (q.source) s = s.where('e.source', '=', q.source);
  if (q.type)
    s = q.type.includes('*')
      ? s.where(
          'e.type',
          'like',
          q.type
            .split('*')
            .map((p) => p.replace(/[\\%_]/g, '\\$&'))
            .join('%'),
        )
      : s.where('e.type', '=', q.type);
  if (q.since) s = s.where('e.received_at', '>=', new Date(q.since));
  if (q.until) s = s.where('e.received_at', '<', new Date(q.until));
  if (q.flow) s = s.where(sql<boolean>`exists (select 1 from step_runs s where s.event_id = e.id and s.flow_id = ${q.flow})`);
  if (q.connector) {
    s = s.where(
      sql<boolean>`(e.type like ${like(`${q.connector}.`)} or exists (select 1 from step_runs s where s.event_id = e.id and s.action like ${like(`${q.connector}.`)}) or exists (select 1 from connections c where c.id = e.connection_id and c.connector_id = ${q.connector}))`,
    );
  }
  if (q.status) s = s.where(sql<boolean>`(${statusSql}) = ${q.status}`);
  return s;
}

const iso = (d: unknown) => (d ? new Date(d as string).toISOString() : null);
const ms = (a: unknown, b: unknown) => (a && b ? new Date(b as string).getTime() - new Date(a as string).getTime() : null);

export async function listRuns(rt: Runtime, q: RunsQuery) {
  let s = filtered(rt, q);
  if (q.cursor) {
    const [at, id] = q.cursor.split('|');
    if (!at || !id || Number.isNaN(Date.parse(at))) throw new HttpError(400, 'invalid_request', 'the cursor is not valid');
    s = s.where(sql<boolean>`(e.received_at, e.id) < (${new Date(at)}, ${id})`);
  }
  const rows = await s
    .select(['e.id', 'e.type', 'e.source', 'e.subject', 'e.received_at', 'e.occurred_at', 'e.flows_matched', 'e.raw'])
    .select(statusSql.as('run_status'))
    .orderBy('e.received_at', 'desc')
    .orderBy('e.id', 'desc')
    .limit(q.limit + 1)
    .execute();
  const page = rows.slice(0, q.limit);
  const ids = page.map((r) => r.id);
  const steps = ids.length
    ? await rt.db.selectFrom('step_runs').selectAll().where('event_id', 'in', ids).orderBy('flow_id').orderBy('step_index').execute()
    : [];
  const items = page.map((r) => ({
    id: r.id,
    type: r.type,
    source: r.source,
    subject: r.subject,
    receivedAt: iso(r.received_at),
    occurredAt: iso(r.occurred_at),
    status: r.run_status,
    test: (r.raw as { test?: boolean } | null)?.test === true,
    flowsMatched: r.flows_matched,
    steps: steps.filter((st) => st.event_id === r.id).map(stepView),
  }));
  const last = page.at(-1);
  return { items, next: rows.length > q.limit && last ? `${iso(last.received_at)}|${last.id}` : null };
}

const stepView = (st: StepRunRow) => ({
  id: st.id,
  flowId: st.flow_id,
  stepIndex: st.step_index,
  action: st.action,
  status: st.status,
  attempts: st.attempts,
  maxAttempts: st.max_attempts,
  /** Attempts made before the last replay: a replay starts a fresh budget of maxAttempts. */
  attemptBase: st.attempt_base,
  connectionId: st.connection_id ?? null,
  lastError: st.last_error,
  errorClass: st.error_class,
  createdAt: iso(st.created_at),
  finishedAt: iso(st.finished_at),
  nextAttemptAt: iso(st.next_attempt_at),
  durationMs: ms(st.created_at, st.finished_at),
  replayable: FAILED.includes(st.status),
});

export function runsRouter(rt: Runtime): Router {
  const router = express.Router();
  const json = express.json({ limit: '16kb' });

  router.get('/api/v1/runs', requireRole(rt, 'viewer', 'runs:read'), async (req, res) => {
    res.json(await listRuns(rt, validate(runsQuerySchema, req.query, 'query')));
  });

  /** Server-sent events: `change` whenever an event or a step changed (checked each second). */
  router.get('/api/v1/runs/stream', requireRole(rt, 'viewer', 'runs:read'), async (req, res) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 3000\n\n');
    let last = '';
    let busy = false;
    const check = async () => {
      if (busy) return;
      busy = true;
      try {
        const r = await sql<{ sig: string }>`select ${CHANGE_SIGNATURE} as sig`.execute(rt.db);
        const sig = r.rows[0]?.sig ?? '';
        if (sig !== last) {
          last = sig;
          res.write(`event: change\ndata: ${JSON.stringify({ at: new Date().toISOString() })}\n\n`);
        } else res.write(': ping\n\n');
      } catch {
        /* the next tick tries again */
      } finally {
        busy = false;
      }
    };
    // Listen for the end before the first check: a client that leaves during it (or a hub that stops)
    // must not leave a timer querying the store for ever.
    let timer: NodeJS.Timeout | undefined;
    let closed = false;
    res.on('close', () => {
      closed = true;
      clearInterval(timer);
    });
    await check();
    if (!closed) timer = setInterval(check, 1000);
  });

  router.get('/api/v1/runs/:eventId', requireRole(rt, 'viewer', 'runs:read'), async (req, res) => {
    const { eventId } = validate(z.object({ eventId: z.string().min(1).max(100) }), req.params, 'params');
    const e = await rt.db
      .selectFrom('events as e')
      .selectAll('e')
      .select(statusSql.as('run_status'))
      .where('e.id', '=', eventId)
      .executeTakeFirst();
    if (!e) throw new HttpError(404, 'event_not_found', `no event "${eventId}"`);
    const steps = await rt.db
      .selectFrom('step_runs')
      .selectAll()
      .where('event_id', '=', eventId)
      .orderBy('flow_id')
      .orderBy('step_index')
      .execute();
    // Header values (even allow-listed ones) are for admins: viewers and API keys see the names only.
    const seesHeaders = req.principal?.kind !== 'api_key' && req.principal?.role !== 'viewer';
    const attempts = steps.length
      ? await rt.db
          .selectFrom('step_attempts')
          .selectAll()
          .where(
            'step_run_id',
            'in',
            steps.map((s) => s.id),
          )
          .orderBy('step_run_id')
          .orderBy('attempt')
          .execute()
      : [];
    res.json({
      id: e.id,
      type: e.type,
      source: e.source,
      subject: e.subject,
      connectionId: e.connection_id,
      status: e.run_status,
      receivedAt: iso(e.received_at),
      occurredAt: iso(e.occurred_at),
      dispatchedAt: iso(e.dispatched_at),
      flowsMatched: e.flows_matched,
      test: (e.raw as { test?: boolean } | null)?.test === true,
      data: e.data,
      files: await rt.files.listForEvent(eventId),
      steps: steps.map((st) => ({
        ...stepView(st),
        output: st.output,
        attemptDetails: attempts
          .filter((a) => a.step_run_id === st.id)
          .map((a) => ({
            attempt: a.attempt,
            status: a.status,
            startedAt: iso(a.started_at),
            finishedAt: iso(a.finished_at),
            durationMs: a.duration_ms,
            errorClass: a.error_class,
            error: a.error,
            request: seesHeaders ? a.request : hideHeaderValues(a.request),
            response: seesHeaders ? a.response : hideHeaderValues(a.response),
          })),
      })),
    });
  });

  router.post('/api/v1/runs/:eventId/replay', requireRole(rt, 'admin', 'runs:write'), async (req, res) => {
    const { eventId } = validate(z.object({ eventId: z.string().min(1).max(100) }), req.params, 'params');
    const result = await replayEvent(rt, eventId);
    if (!result) throw new HttpError(404, 'event_not_found', `no event "${eventId}"`);
    await auditRequest(rt, req, 'run.replayed', eventId, { steps: result.steps, redispatched: result.redispatched });
    res.json(result);
  });

  router.post('/api/v1/runs/steps/:stepRunId/replay', requireRole(rt, 'admin', 'runs:write'), async (req, res) => {
    const { stepRunId } = validate(z.object({ stepRunId: z.string().min(1).max(300) }), req.params, 'params');
    const exists = await rt.db.selectFrom('step_runs').select(['id', 'status']).where('id', '=', stepRunId).executeTakeFirst();
    if (!exists) throw new HttpError(404, 'step_not_found', `no step run "${stepRunId}"`);
    if (!(await replayStep(rt, stepRunId)))
      throw new HttpError(
        409,
        'not_replayable',
        `the step is ${exists.status}; only failed steps (dead or waiting for re-authorisation) are replayed`,
      );
    await auditRequest(rt, req, 'run.step_replayed', stepRunId);
    res.json({ stepRunId, replayed: true });
  });

  /** Replays every failed event that the filter matches (at most `max`, oldest first). */
  router.post('/api/v1/runs/replay', requireRole(rt, 'admin', 'runs:write'), json, async (req, res) => {
    const input = validate(
      runsQuerySchema
        .omit({ cursor: true, limit: true, status: true })
        .extend({ max: z.number().int().min(1).max(1000).default(200) })
        .strict(),
      req.body ?? {},
    );
    const rows = await filtered(rt, { ...input, status: 'failed' })
      .select(['e.id'])
      .orderBy('e.received_at', 'asc')
      .limit(input.max)
      .execute();
    const replayed: string[] = [];
    let steps = 0;
    for (const { id } of rows) {
      const r = await replayEvent(rt, id);
      if (r && (r.steps.length || r.redispatched)) {
        replayed.push(id);
        steps += r.steps.length;
      }
    }
    await auditRequest(rt, req, 'run.bulk_replayed', null, { filter: { ...input }, events: replayed.length, steps });
    res.json({ events: replayed, steps });
  });

  void ACTIVE;
  return router;
}
