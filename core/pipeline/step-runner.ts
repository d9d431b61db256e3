import { sql } from 'kysely';
import type { Runtime } from '../runtime.ts';
import type { EventRow, StepRunRow } from '../db/schema.ts';
import { permanent, retryable, toStepError, type StepError } from '../errors.ts';
import { templateScope } from '../flows.ts';
import { renderMapping, templateBudget } from '../templating.ts';
import { redact } from '../redact.ts';
import { QUEUE_NAMES } from '../queue/queues.ts';
import { loadEvent, rowToEvent } from './event-store.ts';
import { stepJobId, stepRunId } from './jobs.ts';
import { retryDelayMs } from './retry-policy.ts';
import { deferPacedStep, paceGate, pacedStepDone } from './pacing.ts';
import type { PeopleAccess, StepPace } from '../connector.ts';
import { PeopleStore } from '../people/store.ts';
import { createProviderClient } from '../http/provider-client.ts';
import { grouped } from '../queue/group.ts';
import { lazyChild } from '../logger.ts';
import { stepSuccessRecorder } from './step-success.ts';

/**
 * Runs one attempt of one step. The claim is a conditional update, so a step that is done, dead, or
 * held by a live worker is never run twice at once, and a step recorded as succeeded never runs again.
 */
export async function runStep(rt: Runtime, id: string): Promise<void> {
  const claimed = await claimerFor(rt)(id);
  if (!claimed) return;
  await runClaimedStep(rt, claimed.row, claimed.started);
}

/**
 * Claims of steps by id (BullMQ jobs on Redis), grouped: claims asked for while others are in flight go
 * in one statement. Each row is claimed under the same conditions as alone, so grouping changes no outcome.
 */
const claimers = new WeakMap<Runtime, (id: string) => Promise<{ row: ClaimedRow; started: Date } | undefined>>();
function claimerFor(rt: Runtime) {
  let claim = claimers.get(rt);
  if (!claim) {
    claim = grouped(async (ids: string[]) => {
      const started = new Date();
      const lease = new Date(started.getTime() + rt.settings.DINGBRIDGE_STEP_LEASE_MS);
      const dueBy = new Date(started.getTime() + 250);
      // The claim brings the event with it: one round trip instead of two.
      const { rows } = await sql<ClaimedRow>`
        update step_runs s
           set status = 'running', attempts = s.attempts + 1, lease_until = ${lease}, updated_at = ${started}
         where s.id = any(${[...new Set(ids)]}::text[])
           and (s.status = 'pending'
                or (s.status = 'retrying' and (s.next_attempt_at is null or s.next_attempt_at <= ${dueBy}))
                or (s.status = 'running' and s.lease_until < ${started}))
        returning s.*, ${eventColumn}`.execute(rt.db);
      const byId = new Map(rows.map((r) => [r.id, r]));
      // The same id twice in one batch (a duplicate job): only the first asker runs it.
      return ids.map((id) => {
        const row = byId.get(id);
        byId.delete(id);
        return row ? { row, started } : undefined;
      });
    });
    claimers.set(rt, claim);
  }
  return claim;
}

/** A claimed step row with its event's row (to_jsonb), read in the same statement. */
export type ClaimedRow = StepRunRow & { event_row?: Record<string, unknown> | null };
const eventColumn = sql`(select to_jsonb(e) from events e where e.id = s.event_id) as event_row`;

/**
 * Claims up to `limit` due steps, oldest first, for this worker (the default mode's step queue: the
 * rows are the jobs). Due: pending; retrying whose time has come; running whose worker's lease ran out
 * (it died mid-step). `FOR UPDATE SKIP LOCKED` lets several workers claim at once without waiting on
 * each other or taking the same row.
 */
export async function claimDueSteps(rt: Runtime, limit: number): Promise<{ rows: ClaimedRow[]; started: Date }> {
  const started = new Date();
  const lease = new Date(started.getTime() + rt.settings.DINGBRIDGE_STEP_LEASE_MS);
  const dueBy = new Date(started.getTime() + 250);
  const { rows } = await sql<ClaimedRow>`
    update step_runs s
       set status = 'running', attempts = s.attempts + 1, lease_until = ${lease}, updated_at = ${started}
      from (select id from step_runs
             where status in ('pending', 'retrying', 'running')
               and (status = 'pending'
                    or (status = 'retrying' and (next_attempt_at is null or next_attempt_at <= ${dueBy}))
                    or (status = 'running' and lease_until < ${started}))
             order by created_at
             limit ${limit}
             for update skip locked) due
     where s.id = due.id
    returning s.*, ${eventColumn}`.execute(rt.db);
  rows.sort((a, b) => new Date(a.created_at).getTime() - new Date(b.created_at).getTime());
  return { rows, started };
}

/** Runs one attempt of a step this worker has claimed (its row is `running` under this worker's lease). */
export async function runClaimedStep(rt: Runtime, claimedRow: ClaimedRow, started: Date): Promise<void> {
  const { event_row: eventRow, ...claimed } = claimedRow;
  const id = claimed.id;
  const log = lazyChild(rt.log, { stepRunId: id, eventId: claimed.event_id, flowId: claimed.flow_id, attempt: claimed.attempts });
  const trace: { request?: unknown; response?: unknown } = {};
  let output: unknown;
  let failure: StepError | undefined;
  let secretInputs: string[] = [];
  let connectionId: string | null = null;
  const timer = rt.metrics.stepSeconds.startTimer({ action: claimed.action });
  let paced: StepPace | undefined;
  let deferred = false;
  // Until its outcome is recorded, the step's lease is renewed: only a worker that died loses its step
  // to another (a result waiting for the store under a flood must not let a second worker run it again).
  const keepLease = holdLease(rt, claimed);
  try {
    try {
      const event =
        eventRow === undefined
          ? await loadEvent(rt.db, claimed.event_id)
          : eventRow
            ? rowToEvent(eventRow as unknown as EventRow)
            : undefined;
      const flow = rt.flows.get(claimed.flow_id);
      const step = flow?.then[claimed.step_index];
      if (!event) throw permanent(`event ${claimed.event_id} no longer exists`);
      if (!flow || !step) throw permanent(`flow ${claimed.flow_id} has no step ${claimed.step_index + 1} any more`);
      const action = rt.registry.action(step.action);
      if (!action) throw permanent(`unknown action ${step.action}`);
      secretInputs = action.secretInputs ?? [];

      // The first step has no earlier outputs: no need to ask.
      const earlier =
        claimed.step_index === 0
          ? []
          : await rt.db
              .selectFrom('step_runs')
              .select(['step_index', 'output'])
              .where('event_id', '=', claimed.event_id)
              .where('flow_id', '=', claimed.flow_id)
              .where('step_index', '<', claimed.step_index)
              .orderBy('step_index')
              .execute();
      let rendered: unknown;
      let scope: Record<string, unknown> = {};
      const budget = templateBudget(); // one for the step's input and its link
      try {
        scope = templateScope(
          event,
          earlier.map((e) => e.output),
          await rt.links.scopeFor(event.refs ?? []),
        );
        rendered = await renderMapping(step.input, scope, budget);
      } catch (err) {
        throw permanent(`input template failed: ${(err as Error).message}`);
      }
      const parsed = action.input.safeParse(rendered);
      if (!parsed.success) {
        throw permanent(
          `input is not valid for ${action.id}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'} ${i.message}`).join('; ')}`,
        );
      }
      connectionId = step.connection ?? null;
      const connection = step.connection ? await rt.connections.handle(step.connection) : undefined;
      // A paced action (e.g. a robot's 20 a minute) runs only in its turn; otherwise it waits, uncounted.
      paced = action.pace?.(parsed.data, connection);
      if (paced) {
        const decision = await paceGate(rt, claimed, paced);
        if (!decision.run) {
          deferred = true;
          await deferPacedStep(rt, claimed, decision.delayMs, decision.reason);
          return;
        }
      }
      output = await runWithin(rt.settings.DINGBRIDGE_STEP_TIMEOUT_MS, action.id, (signal) =>
        action.run(
          {
            signal,
            connection,
            idempotencyKey: id,
            attempt: claimed.attempts,
            log,
            timeoutMs: rt.settings.DINGBRIDGE_HTTP_TIMEOUT_MS,
            trace: (entry) => Object.assign(trace, entry),
            ownChange: (key, opts) => rt.links.ownChange(key, opts),
            files: rt.files?.access({ eventId: claimed.event_id, stepRunId: id }),
            people: peopleAccess(rt),
            http: (opts) =>
              createProviderClient({
                timeoutMs: rt.settings.DINGBRIDGE_HTTP_TIMEOUT_MS,
                trace: (entry) => Object.assign(trace, entry),
                ...opts,
              }),
          },
          parsed.data,
        ),
      );
      const made = action.outputRef?.(output);
      if (step.link && made) {
        const other = (await renderMapping(step.link, scope, budget)) as { kind: string; id: unknown };
        if (other.id) await rt.links.link(made, { kind: String(other.kind), id: String(other.id) });
      }
    } catch (err) {
      failure = toStepError(err);
      if (failure.details.code === 'step_timeout') log.warn({ err: failure.message }, 'step attempt timed out');
      // The provider asked to wait (a spent rate budget): back in line at its reset, the attempt not counted.
      if (failure.details.wait && failure.details.retryAfterMs !== undefined && !paced) {
        deferred = true;
        await deferPacedStep(rt, claimed, failure.details.retryAfterMs, failure.message);
      }
    }
    if (deferred) return;
    timer();
    await recordOutcome(rt, claimed, started, trace, secretInputs, output, failure, connectionId);
    if (paced) await pacedStepDone(rt, claimed, paced);
  } finally {
    keepLease.stop();
  }
}

/**
 * Runs one attempt's work with a deadline. Past it the attempt is a retryable step error (recorded,
 * logged and retried like any other, dead once the attempts are spent) instead of a step that hangs
 * with no error while its worker slot and queue job stay taken; the work's signal is aborted so it can
 * stop, and whatever it does after that is not waited for.
 */
export async function runWithin<T>(ms: number, what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = retryable(`${what} did not finish within ${ms} ms (DINGBRIDGE_STEP_TIMEOUT_MS): the attempt was given up`, {
        code: 'step_timeout',
      });
      abort.abort(err);
      reject(err);
    }, ms);
  });
  const work$ = Promise.resolve().then(() => work(abort.signal));
  work$.catch(() => {}); // a rejection after the deadline has no one to tell
  try {
    return await Promise.race([work$, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Renews a running step's lease every third of DINGBRIDGE_STEP_LEASE_MS while its attempt runs, so an
 * attempt longer than the lease (a PDF printed, a large upload) is not taken over by another worker as
 * if this one had died; a worker that dies stops renewing and its step is recovered when the lease ends.
 */
function holdLease(rt: Runtime, run: StepRunRow): { stop(): void } {
  const leaseMs = rt.settings.DINGBRIDGE_STEP_LEASE_MS;
  const every = Math.max(250, Math.floor(leaseMs / 3));
  const renew = () =>
    rt.db
      .updateTable('step_runs')
      .set({ lease_until: new Date(Date.now() + leaseMs) })
      .where('id', '=', run.id)
      .where('status', '=', 'running')
      .where('attempts', '=', run.attempts)
      .execute()
      .catch((err) => rt.log.debug({ stepRunId: run.id, err: (err as Error).message }, 'could not renew the step lease'));
  const timer = setInterval(() => void renew(), every);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

async function recordOutcome(
  rt: Runtime,
  run: StepRunRow,
  started: Date,
  trace: { request?: unknown; response?: unknown },
  secretInputs: string[],
  output: unknown,
  failure: StepError | undefined,
  connectionId: string | null,
): Promise<void> {
  const finished = new Date();
  const attempt = {
    step_run_id: run.id,
    attempt: run.attempts,
    started_at: started,
    finished_at: finished,
    duration_ms: finished.getTime() - started.getTime(),
    status: failure ? ('failed' as const) : ('succeeded' as const),
    error_class: failure?.errorClass ?? null,
    error: failure?.message ?? null,
    request: trace.request === undefined ? null : JSON.stringify(redact(trace.request, secretInputs)),
    response: trace.response === undefined ? null : JSON.stringify(redact(trace.response, secretInputs)),
  };

  if (!failure) {
    const flow = rt.flows.get(run.flow_id);
    const next = flow?.then[run.step_index + 1];
    const nextId = stepRunId(run.event_id, run.flow_id, run.step_index + 1);
    // One statement (batched with other steps' successes): the attempt, the step's success and the next step.
    const createdNext = await stepSuccessRecorder(rt)({
      stepRunId: run.id,
      attempt: run.attempts,
      startedAt: started,
      finishedAt: finished,
      request: attempt.request,
      response: attempt.response,
      output: JSON.stringify(output ?? null),
      next: next && {
        id: nextId,
        eventId: run.event_id,
        flowId: run.flow_id,
        index: run.step_index + 1,
        action: next.action,
        maxAttempts: rt.settings.DINGBRIDGE_STEP_ATTEMPTS,
      },
    });
    rt.metrics.steps.inc({ outcome: 'succeeded', action: run.action });
    if (createdNext) await rt.queue.add(QUEUE_NAMES.steps, { stepRunId: nextId }, { jobId: stepJobId(nextId, 1) });
    return;
  }

  const used = run.attempts - run.attempt_base;
  const exhausted = used >= run.max_attempts;
  let status: 'retrying' | 'dead' | 'waiting_reauth';
  if (failure.errorClass === 'needs_reauth') status = 'waiting_reauth';
  else if (failure.errorClass === 'permanent' || exhausted) status = 'dead';
  else status = 'retrying';
  const delay =
    status === 'retrying'
      ? retryDelayMs(used, {
          baseMs: rt.settings.DINGBRIDGE_RETRY_BASE_MS,
          maxMs: rt.settings.DINGBRIDGE_RETRY_MAX_MS,
          retryAfterMs: failure.details.retryAfterMs,
        })
      : 0;
  const nextAt = status === 'retrying' ? new Date(finished.getTime() + delay) : null;

  await sql`
    with attempt as (${insertAttempt(attempt)})
    update step_runs
       set status = ${status}, next_attempt_at = ${nextAt}, lease_until = null, last_error = ${failure.message},
           error_class = ${failure.errorClass}, connection_id = ${connectionId}, updated_at = ${finished},
           finished_at = ${status === 'retrying' ? null : finished}
     where id = ${run.id}`.execute(rt.db);

  const log = rt.log.child({ stepRunId: run.id, eventId: run.event_id, attempt: run.attempts });
  if (status === 'retrying') {
    rt.metrics.steps.inc({ outcome: 'retried', action: run.action });
    log.info({ err: failure.message, delayMs: delay }, 'step failed; retry scheduled');
    await rt.queue.add(QUEUE_NAMES.steps, { stepRunId: run.id }, { jobId: stepJobId(run.id, run.attempts + 1), delayMs: delay });
  } else if (status === 'waiting_reauth') {
    rt.metrics.steps.inc({ outcome: 'needs_reauth', action: run.action });
    log.warn({ err: failure.message }, 'step needs re-authorisation; kept for replay');
  } else {
    rt.metrics.steps.inc({ outcome: 'failed', action: run.action });
    log.warn({ err: failure.message, errorClass: failure.errorClass }, 'step dead-lettered');
  }
}

/** The people directory as actions see it (ActionContext.people). */
function peopleAccess(rt: Runtime): PeopleAccess {
  const store = new PeopleStore(rt.db);
  return {
    byEmail: (email) => store.byEmail(email),
    byMobile: (mobile) => store.byMobile(mobile),
    byIdentity: (service, kind, value) => store.byIdentity(service, kind, value),
    setIdentities: (personId, identities) => store.setIdentities(personId, identities),
  };
}
interface AttemptValues {
  step_run_id: string;
  attempt: number;
  started_at: Date;
  finished_at: Date;
  duration_ms: number;
  status: 'failed' | 'succeeded';
  error_class: string | null;
  error: string | null;
  request: string | null;
  response: string | null;
}

const insertAttempt = (a: AttemptValues) => sql`
  insert into step_attempts (step_run_id, attempt, started_at, finished_at, duration_ms, status, error_class, error, request, response)
  values (${a.step_run_id}, ${a.attempt}, ${a.started_at}, ${a.finished_at}, ${a.duration_ms}, ${a.status}, ${a.error_class}, ${a.error},
          ${a.request}::jsonb, ${a.response}::jsonb)
  on conflict (step_run_id, attempt) do nothing`;
