import type { Runtime } from '../runtime.ts';
import { claimDueSteps, runClaimedStep } from './step-runner.ts';

/**
 * The default mode's step queue: the `step_runs` rows are the jobs (as in graphile-worker, River, Oban,
 * Solid Queue). A worker claims a batch of due rows, oldest first, with `FOR UPDATE SKIP LOCKED`, runs
 * them with up to `concurrency` in flight, and claims more as slots free up. It sleeps when nothing is
 * due and wakes on a NOTIFY (sent in the transaction that stores a step) or after `idleMs` at most (a
 * retry coming due, a lease running out, a NOTIFY missed while the connection was down).
 *
 * There is no second copy of the work to lose or to disagree with the rows: a crash mid-step leaves the
 * row `running` until its lease runs out, when any worker claims it again.
 */
export function startStepQueue(rt: Runtime, opts: { concurrency: number; idleMs?: number }): { close(): Promise<void> } {
  const idleMs = opts.idleMs ?? 1000;
  const inflight = new Set<Promise<void>>();
  let stopped = false;
  let woken = false;
  let wake: (() => void) | undefined;
  const nudge = () => {
    woken = true;
    wake?.();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken || stopped) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  const listener = rt.queue.listenSteps(nudge);

  // Claim in batches: with every slot busy, a claim waits until a quarter of them are free (or none is
  // running), so a steady flow costs one claim statement per few steps instead of one per step.
  const batch = Math.max(1, Math.floor(opts.concurrency / 4));
  const loop = async () => {
    while (!stopped) {
      const free = opts.concurrency - inflight.size;
      if (free <= 0 || (free < batch && inflight.size > 0)) {
        await sleep(idleMs);
        woken = false;
        continue;
      }
      woken = false;
      let claimed: Awaited<ReturnType<typeof claimDueSteps>>;
      try {
        claimed = await claimDueSteps(rt, free);
      } catch (err) {
        rt.log.warn({ err: (err as Error).message }, 'could not claim steps; will try again');
        await sleep(idleMs);
        continue;
      }
      for (const row of claimed.rows) {
        const run: Promise<void> = runClaimedStep(rt, row, claimed.started)
          .catch((err) => rt.log.error({ stepRunId: row.id, err: (err as Error).message }, 'step run failed; its lease will hand it on'))
          .finally(() => {
            inflight.delete(run);
            nudge();
          });
        inflight.add(run);
      }
      // A full batch means more may be due: claim again at once; otherwise wait for work.
      if (claimed.rows.length < free) await sleep(idleMs);
    }
  };
  const looping = loop();
  return {
    async close() {
      stopped = true;
      wake?.();
      await listener.close();
      await looping;
      await Promise.allSettled([...inflight]);
    },
  };
}
