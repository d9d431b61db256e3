import { Worker } from 'node:worker_threads';
import { LimitExceeded, type Job, type RenderLimits } from './engine.ts';
import type { WorkerReply, WorkerRequest } from './worker.ts';

/**
 * A few worker threads for renders too heavy for the main thread. A render that overruns its time is
 * ended by terminating its worker (a fresh one takes its place), so no template can hold the event
 * loop that serves /healthz, webhooks and the API. Workers start on first use and never keep the
 * process alive.
 */
interface Pending {
  job: Job;
  scope: Record<string, unknown>;
  limits: RenderLimits;
  queuedUntil: number;
  started?: () => void;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}
interface Slot {
  worker: Worker;
  ready: boolean;
  current?: Pending & { timer: NodeJS.Timeout; id: number };
}

const GRACE_MS = 100;
/** How long a render may wait for a free (or booting) worker; the wait is not part of its budget. */
const MAX_QUEUE_MS = 30_000;
let nextId = 1;

export class TemplatePool {
  private slots: Slot[] = [];
  private expiry?: NodeJS.Timeout;
  private queue: Pending[] = [];
  constructor(private readonly size: number) {}

  /** Renders `job` in a worker within `limits` (counted from when a worker takes it: `started` is called then). */
  run(job: Job, scope: Record<string, unknown>, limits: RenderLimits, started?: () => void): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, scope, limits, queuedUntil: Date.now() + MAX_QUEUE_MS, started, resolve, reject });
      this.pump();
    });
  }

  /** Ends every worker (the hub's stop, tests). */
  async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    if (this.expiry) {
      clearTimeout(this.expiry);
      this.expiry = undefined;
    }
    for (const p of this.queue.splice(0)) p.reject(new Error('the template workers were stopped'));
    for (const s of slots)
      if (s.current) {
        clearTimeout(s.current.timer);
        s.current.reject(new Error('the template workers were stopped'));
        s.current = undefined;
      }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  /** Starts the workers now, so the first heavy render does not wait for one to boot. */
  warm(): void {
    while (this.slots.length < this.size) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: 256 } });
    const slot: Slot = { worker, ready: false };
    worker.on('message', (reply: WorkerReply | 'ready') => {
      if (reply === 'ready') {
        slot.ready = true;
        this.pump();
        return;
      }
      const current = slot.current;
      if (!current || current.id !== reply.id) return;
      clearTimeout(current.timer);
      slot.current = undefined;
      if (reply.ok) current.resolve(reply.value);
      else
        current.reject(
          reply.limit
            ? new LimitExceeded(
                reply.limit,
                reply.limit === 'time' ? current.limits.ms : reply.limit === 'nodes' ? current.limits.nodes : current.limits.memory,
              )
            : new Error(reply.message),
        );
      this.pump();
    });
    const lost = (err: Error) => {
      const current = slot.current;
      this.replace(slot);
      if (current) {
        clearTimeout(current.timer);
        current.reject(err);
      }
      // A worker that dies before it is ready would die again: fail what waits instead of looping.
      if (!slot.ready) for (const p of this.queue.splice(0)) p.reject(err);
      else this.pump();
    };
    worker.on('error', (err) => lost(new Error(`the template worker failed: ${err.message}`)));
    worker.on('exit', (code) => {
      if (this.slots.includes(slot)) lost(new Error(`the template worker stopped (exit ${code})`));
    });
    worker.unref(); // after the listeners, which would otherwise hold the process open
    return slot;
  }

  private replace(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    slot.current = undefined;
    void slot.worker.terminate();
  }

  private pump(): void {
    while (this.queue[0] && this.queue[0].queuedUntil < Date.now())
      this.queue.shift()!.reject(new Error('the template workers are all busy; try again'));
    while (this.queue.length) {
      let slot = this.slots.find((s) => s.ready && !s.current);
      if (!slot && this.slots.length < this.size) this.slots.push(this.spawn());
      if (!slot) {
        if (!this.expiry)
          this.expiry = setTimeout(() => {
            this.expiry = undefined;
            this.pump();
          }, 1000);
        return;
      }
      const pending = this.queue.shift()!;
      const left = pending.limits.ms;
      const id = nextId++;
      const limits = pending.limits;
      pending.started?.();
      // The worker stops itself at its deadline; if it cannot (a single long step), it is ended here.
      const timer = setTimeout(() => {
        if (slot!.current?.id !== id) return;
        this.replace(slot!);
        pending.reject(new LimitExceeded('time', pending.limits.ms));
        this.pump();
      }, left + GRACE_MS);
      slot.current = { ...pending, timer, id };
      try {
        slot.worker.postMessage({ id, job: pending.job, scope: pending.scope, limits } satisfies WorkerRequest);
      } catch (err) {
        clearTimeout(timer);
        slot.current = undefined;
        pending.reject(new Error(`the template's data cannot be sent to a worker: ${(err as Error).message}`));
      }
    }
  }
}
