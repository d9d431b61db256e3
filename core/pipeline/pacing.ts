import { sql, type Generated } from 'kysely';
import type { StepPace } from '../connector.ts';
import type { StepRunRow } from '../db/schema.ts';
import type { Runtime } from '../runtime.ts';
import { QUEUE_NAMES } from '../queue/queues.ts';
import { stepJobId } from './jobs.ts';

/**
 * Step pacing: an action may declare `pace(input, connection) → { key, limit, intervalMs, concurrency }`
 * (e.g. one DingTalk robot: 20 messages per 60 s; a QuickBooks company: 10 at once). Steps with the same
 * key run at most `concurrency` at a time (default 1), oldest event first, and at most `limit` of them
 * start within any sliding `intervalMs`. The window is a log of sends in
 * PostgreSQL, checked under an advisory lock per key, so every process shares it.
 *
 * A step that may not run yet is put back as `retrying` with `next_attempt_at` set to when it may, its
 * attempt not counted; it gets a job for that time, and the sweep finds it like any other retry if the
 * job is lost. When a paced step finishes, the next one in line is woken at once.
 */

declare module '../db/schema.ts' {
  interface StepRunsTable {
    pace_key: Generated<string | null>;
  }
  interface Database {
    pacing_sends: PacingSendsTable;
  }
}

export interface PacingSendsTable {
  id: Generated<string>;
  pace_key: string;
  step_run_id: string;
  sent_at: Generated<Date>;
}

/** Statuses of a step that has not finished: it holds its place in line. */
const UNFINISHED = ['pending', 'running', 'retrying'] as const;
/** A safety margin on the window: the provider counts a send when it arrives, a little after we record it. */
const MARGIN_MS = 100;

export type PaceDecision = { run: true } | { run: false; delayMs: number; reason: string };

/**
 * Decides whether a claimed paced step may run now. When it may, a send is recorded in the window
 * (its time is moved to the end of the call by `pacedStepDone`).
 */
export async function paceGate(rt: Runtime, run: StepRunRow, pace: StepPace): Promise<PaceDecision> {
  return rt.db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtextextended(${`dingbridge:pace:${pace.key}`}, 0))`.execute(trx);
    await trx.updateTable('step_runs').set({ pace_key: pace.key }).where('id', '=', run.id).execute();

    // Older unfinished steps in the same line: those with this key, and those of the same action that
    // have not said their key yet (not claimed so far); they go first. Age is the event's arrival.
    const ahead = await sql<{ n: number }>`
      select count(*)::int as n
        from step_runs s join events e on e.id = s.event_id
        join events mine on mine.id = ${run.event_id}
       where s.id <> ${run.id}
         and s.status in (${sql.join(UNFINISHED.map((s) => sql`${s}`))})
         and (s.pace_key = ${pace.key} or (s.pace_key is null and s.action = ${run.action}))
         and (e.received_at, s.id) < (mine.received_at, ${run.id})`.execute(trx);
    const n = ahead.rows[0]?.n ?? 0;
    const concurrency = Math.max(1, pace.concurrency ?? 1);
    const intervalMs = pace.intervalMs ?? 1000;
    const limit = pace.limit ?? concurrency;
    if (n >= concurrency) {
      // Woken by the one ahead when it finishes; until then look again after roughly its turn.
      const delayMs = Math.max(200, Math.min(intervalMs, Math.round(((n - concurrency + 1) * intervalMs) / limit)));
      return { run: false as const, delayMs, reason: `${n} earlier step(s) with pace key ${pace.key} go first` };
    }
    if (concurrency > 1) {
      // Newer steps of the key may be running too (they started while this one waited): the cap counts every running one.
      const running = await sql<{ n: number }>`
        select count(*)::int as n from step_runs
         where pace_key = ${pace.key} and status = 'running' and id <> ${run.id} and lease_until > clock_timestamp()`.execute(trx);
      const r = running.rows[0]?.n ?? 0;
      if (r >= concurrency)
        return { run: false as const, delayMs: 250, reason: `${r} step(s) with pace key ${pace.key} are running (at most ${concurrency})` };
    }
    if (pace.limit === undefined || pace.intervalMs === undefined) {
      await trx.insertInto('pacing_sends').values({ pace_key: pace.key, step_run_id: run.id }).execute();
      return { run: true as const };
    }

    await trx
      .deleteFrom('pacing_sends')
      .where('pace_key', '=', pace.key)
      .where('sent_at', '<', sql<Date>`clock_timestamp() - make_interval(secs => ${(pace.intervalMs * 2 + 60_000) / 1000})`)
      .execute();
    // The send that must leave the window before another fits: the limit-th newest.
    const full = await sql<{ wait_ms: number }>`
      select greatest(0, ceil(extract(epoch from (sent_at + make_interval(secs => ${pace.intervalMs / 1000}) - clock_timestamp())) * 1000))::int as wait_ms
        from pacing_sends
       where pace_key = ${pace.key} and sent_at > clock_timestamp() - make_interval(secs => ${(pace.intervalMs + MARGIN_MS) / 1000})
       order by sent_at desc offset ${pace.limit - 1} limit 1`.execute(trx);
    const wait = full.rows[0];
    if (wait) {
      return {
        run: false as const,
        delayMs: wait.wait_ms + MARGIN_MS,
        reason: `${pace.limit} sends within ${pace.intervalMs} ms for pace key ${pace.key}`,
      };
    }
    await trx.insertInto('pacing_sends').values({ pace_key: pace.key, step_run_id: run.id }).execute();
    return { run: true as const };
  });
}

/** Puts a claimed step back to wait its turn: the claim's attempt is not counted. */
export async function deferPacedStep(rt: Runtime, run: StepRunRow, delayMs: number, reason: string): Promise<void> {
  const at = new Date(Date.now() + delayMs);
  const updated = await rt.db
    .updateTable('step_runs')
    .set({ status: 'retrying', attempts: sql<number>`attempts - 1`, next_attempt_at: at, lease_until: null, updated_at: new Date() })
    .where('id', '=', run.id)
    .where('status', '=', 'running')
    .where('attempts', '=', run.attempts)
    .returning('attempts')
    .executeTakeFirst();
  if (!updated) return;
  rt.log.debug({ stepRunId: run.id, delayMs, reason }, 'paced step waits its turn');
  // A job id of its own: the job running now has the attempt's id and is still active.
  await rt.queue.add(
    QUEUE_NAMES.steps,
    { stepRunId: run.id },
    { jobId: `${stepJobId(run.id, updated.attempts + 1)}.p${Date.now().toString(36)}`, delayMs },
  );
}

/**
 * After a paced step's call: its send is dated at the end of the call (the provider counted it by then),
 * and the next step in line is woken now instead of at its scheduled look.
 */
export async function pacedStepDone(rt: Runtime, run: StepRunRow, pace: StepPace): Promise<void> {
  try {
    await rt.db
      .updateTable('pacing_sends')
      .set({ sent_at: sql<Date>`clock_timestamp()` })
      .where('step_run_id', '=', run.id)
      .where('pace_key', '=', pace.key)
      .execute();
    const next = await sql<{ id: string; attempts: number }>`
      select s.id, s.attempts
        from step_runs s join events e on e.id = s.event_id
       where s.pace_key = ${pace.key} and s.status = 'retrying' and s.id <> ${run.id}
       order by e.received_at, s.id limit 1`.execute(rt.db);
    const row = next.rows[0];
    if (!row) return;
    const woken = await rt.db
      .updateTable('step_runs')
      .set({ next_attempt_at: new Date() })
      .where('id', '=', row.id)
      .where('status', '=', 'retrying')
      .returning('attempts')
      .executeTakeFirst();
    if (woken)
      await rt.queue.add(
        QUEUE_NAMES.steps,
        { stepRunId: row.id },
        { jobId: `${stepJobId(row.id, woken.attempts + 1)}.w${Date.now().toString(36)}` },
      );
  } catch (err) {
    rt.log.warn({ stepRunId: run.id, err: (err as Error).message }, 'pacing bookkeeping failed; the next step runs at its scheduled time');
  }
}
