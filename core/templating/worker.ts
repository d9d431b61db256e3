import { parentPort } from 'node:worker_threads';
import { limitOf, runJob, type Job, type RenderLimits } from './engine.ts';

/** A template worker: renders one job at a time for core/templating/pool.ts, which ends it when it overruns. */
export interface WorkerRequest {
  id: number;
  job: Job;
  scope: Record<string, unknown>;
  limits: RenderLimits;
}
export type WorkerReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; message: string; limit?: 'time' | 'nodes' | 'memory' };

parentPort!.postMessage('ready');
parentPort!.on('message', async (req: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    reply = { id: req.id, ok: true, value: await runJob(req.job, req.scope, req.limits) };
  } catch (err) {
    const limit = limitOf(err);
    reply = { id: req.id, ok: false, message: (limit ?? (err as Error)).message.split('\n')[0]!, ...(limit ? { limit: limit.kind } : {}) };
  }
  try {
    parentPort!.postMessage(reply);
  } catch (err) {
    parentPort!.postMessage({
      id: req.id,
      ok: false,
      message: `the result cannot be sent back: ${(err as Error).message}`,
    } satisfies WorkerReply);
  }
});
