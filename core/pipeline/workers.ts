import type { Runtime } from '../runtime.ts';
import { QUEUE_NAMES, type HubWorker } from '../queue/queues.ts';
import { dispatchEvent } from './dispatcher.ts';
import { runStep } from './step-runner.ts';
import { startStepQueue } from './step-queue.ts';
import { startSweeper } from './sweeper.ts';
import { startBackgroundWork } from './extensions.ts';
import { startSubscriptionKeeper } from '../triggers/subscriptions.ts';
import { startStreamManager } from '../triggers/streams.ts';
import { startScheduleManager } from '../triggers/schedules.ts';
import { startPollManager } from '../triggers/pollers.ts';

/** Starts the event and step workers and the recovery sweep; `stop` lets in-flight steps finish. */
export function startWorkers(rt: Runtime): { stop(): Promise<void> } {
  const stalledMs = Math.max(1000, rt.settings.DINGBRIDGE_STEP_LEASE_MS);
  const workers: HubWorker[] = [
    rt.queue.startWorker(QUEUE_NAMES.events, async (job) => dispatchEvent(rt, String(job.data.eventId)), { concurrency: 8, stalledMs }),
    // Default mode: the step rows are the queue (step-queue.ts); Redis: BullMQ jobs.
    rt.queue.stepsInStore
      ? startStepQueue(rt, { concurrency: rt.settings.DINGBRIDGE_WORKER_CONCURRENCY })
      : rt.queue.startWorker(QUEUE_NAMES.steps, async (job) => runStep(rt, String(job.data.stepRunId)), {
          concurrency: rt.settings.DINGBRIDGE_WORKER_CONCURRENCY,
          stalledMs,
        }),
  ];
  const sweeper = startSweeper(rt);
  const subscriptions = startSubscriptionKeeper(rt); // provider webhooks the flows need (e.g. Trello boards)
  const extra = startBackgroundWork(rt); // features' own workers (REST-hook delivery)
  const streams = startStreamManager(rt); // stream triggers (DingTalk Stream mode): one holder per connection across processes
  const schedules = startScheduleManager(rt); // schedule flows: BullMQ job schedulers kept in step with the enabled flows
  const pollers = startPollManager(rt); // polling triggers: one poll of a poller at a time across processes, cursor saved with its events
  // Proactive refresh: tokens expiring within the margin are refreshed before any call needs them.
  const refreshTimer = setInterval(
    () => {
      rt.connections
        .refreshExpiring(rt.settings.DINGBRIDGE_REFRESH_MARGIN_MS)
        .catch((err) => rt.log.warn({ err: (err as Error).message }, 'refresh job failed'));
    },
    Math.min(60_000, rt.settings.DINGBRIDGE_SWEEP_INTERVAL_MS * 6),
  );
  refreshTimer.unref();
  return {
    async stop() {
      sweeper.stop();
      subscriptions.stop();
      clearInterval(refreshTimer);
      await Promise.all([streams.stop(), pollers.stop()]); // nothing new arrives while the workers drain
      await Promise.all([...workers.map((w) => w.close()), extra.stop(), schedules.stop()]);
    },
  };
}
