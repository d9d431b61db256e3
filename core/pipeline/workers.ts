import type { Runtime } from '../runtime.ts';
import { QUEUE_NAMES, type HubWorker } from '../queue/queues.ts';
import { dispatchEvent } from './dispatcher.ts';
import { runStep } from './step-runner.ts';
import { startSweeper } from './sweeper.ts';

/** Starts the event and step workers and the recovery sweep; `stop` lets in-flight steps finish. */
export function startWorkers(rt: Runtime): { stop(): Promise<void> } {
  const stalledMs = Math.max(1000, rt.settings.DINGBRIDGE_STEP_LEASE_MS);
  const workers: HubWorker[] = [
    rt.queue.startWorker(QUEUE_NAMES.events, async (job) => dispatchEvent(rt, String(job.data.eventId)), { concurrency: 8, stalledMs }),
    rt.queue.startWorker(QUEUE_NAMES.steps, async (job) => runStep(rt, String(job.data.stepRunId)), { concurrency: rt.settings.DINGBRIDGE_WORKER_CONCURRENCY, stalledMs }),
  ];
  const sweeper = startSweeper(rt);
  return {
    async stop() {
      sweeper.stop();
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
