import type { RawBuilder, Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { HubEvent } from '../events.ts';
import type { AddOptions, QueueName } from '../queue/queues.ts';
import type { Runtime } from '../runtime.ts';

/**
 * Hooks for features beside the flow pipeline, registered at module load (core never names them).
 *
 * - A fan-out runs for every stored event inside the dispatch transaction (the same one that marks
 *   the event dispatched), so its rows are recorded exactly when the event is; it returns the jobs
 *   to enqueue once that transaction has committed. REST-hook subscriptions use it.
 * - Background work starts with the workers (`startWorkers`) and stops with them.
 */
export interface FanOutJobs {
  queue: QueueName;
  jobs: { data: Record<string, unknown>; opts: AddOptions }[];
}
export type FanOut = (rt: Runtime, trx: Transaction<Database>, event: HubEvent) => Promise<FanOutJobs[]>;
export type BackgroundWork = (rt: Runtime) => { stop(): Promise<void> | void };

const fanOuts: FanOut[] = [];
/**
 * Per fan-out, an SQL condition that is true when it would record nothing for any event (e.g. no active
 * subscription): intake then stores an event in one statement guarded by it (ingest.ts), and takes the
 * transaction that runs the fan-outs only when one of them has work.
 */
const idleWhen = new Map<FanOut, RawBuilder<unknown>>();
const background: BackgroundWork[] = [];

export function registerFanOut(fn: FanOut, opts: { idleWhen?: RawBuilder<unknown> } = {}): void {
  if (!fanOuts.includes(fn)) fanOuts.push(fn);
  if (opts.idleWhen) idleWhen.set(fn, opts.idleWhen);
}

/** The conditions under which every fan-out is idle; undefined when one of them cannot say. */
export function fanOutsIdleWhen(): RawBuilder<unknown>[] | undefined {
  const conditions: RawBuilder<unknown>[] = [];
  for (const fn of fanOuts) {
    const c = idleWhen.get(fn);
    if (!c) return undefined;
    conditions.push(c);
  }
  return conditions;
}
export function registerBackgroundWork(fn: BackgroundWork): void {
  if (!background.includes(fn)) background.push(fn);
}

export async function runFanOuts(rt: Runtime, trx: Transaction<Database>, event: HubEvent): Promise<FanOutJobs[]> {
  const out: FanOutJobs[] = [];
  for (const fn of fanOuts) out.push(...(await fn(rt, trx, event)));
  return out;
}

export function startBackgroundWork(rt: Runtime): { stop(): Promise<void> } {
  const started = background.map((fn) => fn(rt));
  return {
    async stop() {
      await Promise.all(started.map((s) => s.stop()));
    },
  };
}
