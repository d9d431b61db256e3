import { sql } from 'kysely';
import type { Runtime } from '../runtime.ts';
import { groupedStatement, JSON_ROW_BATCH } from '../queue/group.ts';

/** A succeeded attempt and what it leads to: the step's next step, when the flow has one. */
export interface StepSuccess {
  stepRunId: string;
  attempt: number;
  startedAt: Date;
  finishedAt: Date;
  request: string | null;
  response: string | null;
  output: string;
  next?: { id: string; eventId: string; flowId: string; index: number; action: string; maxAttempts: number };
}

/**
 * Records succeeded attempts, one statement per batch: the attempt row, the step's success and the next
 * step's row (data-modifying CTEs: all of a batch or nothing). Successes reported while earlier
 * statements are in flight go together. Resolves with whether the next step's row was created here.
 */
export function stepSuccessRecorder(rt: Runtime): (success: StepSuccess) => Promise<boolean> {
  let record = recorders.get(rt);
  if (!record) {
    record = groupedStatement((rows: Row[]) => recordBatch(rt, rows), JSON_ROW_BATCH);
    recorders.set(rt, record);
  }
  return (s) => {
    // The request, response and output are JSON already: spliced in, not parsed and written again.
    const scalars = JSON.stringify({
      step_run_id: s.stepRunId,
      attempt: s.attempt,
      started_at: s.startedAt.toISOString(),
      finished_at: s.finishedAt.toISOString(),
      duration_ms: s.finishedAt.getTime() - s.startedAt.getTime(),
      next_id: s.next?.id ?? null,
      event_id: s.next?.eventId ?? null,
      flow_id: s.next?.flowId ?? null,
      next_index: s.next?.index ?? null,
      next_action: s.next?.action ?? null,
      max_attempts: s.next?.maxAttempts ?? null,
    });
    const json = `${scalars.slice(0, -1)},"request":${s.request ?? 'null'},"response":${s.response ?? 'null'},"output":${s.output}}`;
    return record!({ json, nextId: s.next?.id ?? null });
  };
}

interface Row {
  json: string;
  nextId: string | null;
}

const recorders = new WeakMap<Runtime, (row: Row) => Promise<boolean>>();

async function recordBatch(rt: Runtime, rows: Row[]): Promise<boolean[]> {
  const { rows: result } = await sql<{ created: string[] }>`
    with input as (
           select (x.ordinality - 1)::int as i, r.*
             from jsonb_array_elements(${`[${rows.map((r) => r.json).join(',')}]`}::jsonb) with ordinality as x(value, ordinality)
             cross join lateral jsonb_to_record(x.value) as r(
               step_run_id text, attempt int, started_at timestamptz, finished_at timestamptz, duration_ms int, request jsonb,
               response jsonb, output jsonb, next_id text, event_id text, flow_id text, next_index int, next_action text, max_attempts int)),
         attempt as (
           insert into step_attempts (step_run_id, attempt, started_at, finished_at, duration_ms, status, error_class, error, request, response)
           select step_run_id, attempt, started_at, finished_at, duration_ms, 'succeeded', null, null, request, response
             from input order by step_run_id
           on conflict (step_run_id, attempt) do nothing),
         done as (
           update step_runs s
              set status = 'succeeded', output = coalesce(x.output, 'null'::jsonb), finished_at = x.finished_at,
                  lease_until = null, last_error = null, error_class = null, updated_at = x.finished_at
             from input x
            where s.id = x.step_run_id),
         nxt as (
           insert into step_runs (id, event_id, flow_id, step_index, action, max_attempts)
           select distinct on (next_id) next_id, event_id, flow_id, next_index, next_action, max_attempts
             from input where next_id is not null order by next_id
           on conflict (id) do nothing
           returning id)
    select array(select id from nxt) as created`.execute(rt.db);
  const created = new Set(result[0]!.created);
  // The same next step from two rows (a step run twice at once) was created by the first only.
  return rows.map((row) => row.nextId !== null && created.delete(row.nextId));
}
