import { withBackend, createPostgresBackend, createRedisBackend, runMigrations, type Job, type Processor } from 'bullmq';
import { Redis } from 'ioredis';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { grouped } from './group.ts';

/**
 * BullMQ is the one queue engine; the backend is a setting. PostgreSQL (BullMQ's tables in their own
 * schema, on the hub's database) is the default; Redis is the faster, scale-out choice. Everything
 * above this file uses the same Queue/Worker code on both.
 */
export type QueueBackend = { kind: 'postgres'; connectionString: string; schema: string } | { kind: 'redis'; url: string; prefix: string };

export const QUEUE_NAMES = { events: 'events', steps: 'steps', deliveries: 'deliveries', schedules: 'schedules' } as const;
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

export interface AddOptions {
  jobId: string;
  delayMs?: number;
}

/** A BullMQ job scheduler: makes one job per slot (`every` ms, or a cron `pattern` in `tz`), whichever process runs it. */
export interface SchedulerSpec {
  every?: number;
  pattern?: string;
  tz?: string;
  startDate?: number;
}
export interface SchedulerInfo {
  id: string;
  next: number | null;
  data: Record<string, unknown>;
}

/** The channel that wakes the default mode's step workers (core/pipeline/step-queue.ts). */
export const STEPS_CHANNEL = 'dingbridge_steps';

export interface HubQueue {
  readonly backend: QueueBackend['kind'];
  /**
   * True in the default mode (queue on PostgreSQL): the step rows themselves are the step queue, claimed
   * with FOR UPDATE SKIP LOCKED and woken by NOTIFY; adding a `steps` job only wakes the workers.
   * False on Redis: steps are BullMQ jobs.
   */
  readonly stepsInStore: boolean;
  /** Wakes the step workers when `db`'s transaction commits (default mode). */
  notifySteps(db: Kysely<any>): Promise<void>;
  /** Calls `onWake` on every NOTIFY of the step channel (default mode; re-listens after a lost connection). */
  listenSteps(onWake: () => void): { close(): Promise<void> };
  add(queue: QueueName, data: Record<string, unknown>, opts: AddOptions): Promise<void>;
  addMany(queue: QueueName, jobs: { data: Record<string, unknown>; opts: AddOptions }[]): Promise<void>;
  startWorker(queue: QueueName, processor: (job: Job) => Promise<void>, opts: { concurrency: number; stalledMs: number }): HubWorker;
  counts(queue: QueueName): Promise<Record<string, number>>;
  /** Creates or replaces a job scheduler (upsertJobScheduler); its jobs carry `data`. */
  upsertScheduler(queue: QueueName, id: string, spec: SchedulerSpec, data: Record<string, unknown>): Promise<void>;
  removeScheduler(queue: QueueName, id: string): Promise<void>;
  schedulers(queue: QueueName): Promise<SchedulerInfo[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface HubWorker {
  close(): Promise<void>;
}

/** Creates BullMQ's own tables (PostgreSQL backend only); safe from several processes at once. */
export async function prepareQueueBackend(backend: QueueBackend): Promise<void> {
  if (backend.kind !== 'postgres') return;
  const client = new pg.Client({ connectionString: backend.connectionString });
  await client.connect();
  try {
    await runMigrations(client, backend.schema);
  } finally {
    await client.end();
  }
}

export function createHubQueue(backend: QueueBackend): HubQueue {
  const redisClients: Redis[] = [];
  const connection = (): unknown => {
    // The queue is not the record (the hub's tables are, and the sweep re-enqueues lost work), so its
    // connections skip waiting for the disk flush of every job operation.
    if (backend.kind === 'postgres')
      return {
        connectionString: backend.connectionString,
        schema: backend.schema,
        skipMigrations: true,
        max: 5,
        options: '-c synchronous_commit=off',
      };
    const client = new Redis(backend.url, { maxRetriesPerRequest: null, enableReadyCheck: true });
    client.on('error', () => {}); // reconnects on its own; readiness reports the outage
    redisClients.push(client);
    return client;
  };
  const { Queue, Worker } =
    backend.kind === 'postgres'
      ? (withBackend(createPostgresBackend as never) as unknown as ReturnType<typeof withBackend>)
      : (withBackend(createRedisBackend as never) as unknown as ReturnType<typeof withBackend>);
  const extra = backend.kind === 'redis' ? { prefix: backend.prefix } : {};
  const stepsInStore = backend.kind === 'postgres';
  // Default mode: a small pool for NOTIFY and step counts (the step rows are the queue).
  let aux: pg.Pool | undefined;
  const auxPool = () => {
    if (backend.kind !== 'postgres') throw new Error('no PostgreSQL queue backend');
    if (!aux) {
      aux = new pg.Pool({ connectionString: backend.connectionString, max: 2, options: '-c synchronous_commit=off' });
      aux.on('error', () => {});
    }
    return aux;
  };
  const listeners = new Set<{ close(): Promise<void> }>();

  const queues = new Map<QueueName, InstanceType<typeof Queue>>();
  const workers = new Set<InstanceType<typeof Worker>>();
  const queueFor = (name: QueueName) => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: connection() as never, ...extra });
      q.on('error', () => {});
      queues.set(name, q);
    }
    return q;
  };
  // Redis: adds made while others are in flight go together in one addBulk (one round trip for many).
  const adders = new Map<QueueName, (jobs: { data: Record<string, unknown>; opts: AddOptions }[]) => Promise<void>>();
  const adderFor = (name: QueueName) => {
    let adder = adders.get(name);
    if (!adder) {
      adder = grouped(async (batches: { data: Record<string, unknown>; opts: AddOptions }[][]) => {
        await queueFor(name).addBulk(batches.flat().map((j) => ({ name, data: j.data, opts: jobOpts(j.opts) })));
        return batches.map(() => undefined);
      });
      adders.set(name, adder);
    }
    return adder;
  };
  const jobOpts = (opts: AddOptions) => ({
    jobId: opts.jobId,
    delay: opts.delayMs && opts.delayMs > 0 ? Math.ceil(opts.delayMs) : undefined,
    // The database keeps the record of every attempt; the queue only carries the work.
    removeOnComplete: true,
    removeOnFail: true,
    attempts: 1,
  });

  return {
    backend: backend.kind,
    stepsInStore,
    async notifySteps(db) {
      await sql`select pg_notify(${STEPS_CHANNEL}, '')`.execute(db);
    },
    listenSteps(onWake) {
      if (backend.kind !== 'postgres') throw new Error('listenSteps is for the PostgreSQL queue backend');
      let closed = false;
      let client: pg.Client | undefined;
      let retry: NodeJS.Timeout | undefined;
      const connect = async () => {
        if (closed) return;
        const c = new pg.Client({ connectionString: backend.connectionString });
        c.on('error', () => {});
        c.on('end', () => {
          if (client === c) client = undefined;
          if (!closed) retry = setTimeout(() => void connect(), 1000);
        });
        c.on('notification', () => onWake());
        try {
          await c.connect();
          await c.query(`LISTEN ${STEPS_CHANNEL}`);
          client = c;
          onWake(); // anything that arrived while not listening
          if (closed) await c.end().catch(() => {});
        } catch {
          await c.end().catch(() => {});
        }
      };
      void connect();
      const handle = {
        async close() {
          closed = true;
          if (retry) clearTimeout(retry);
          listeners.delete(handle);
          await client?.end().catch(() => {});
        },
      };
      listeners.add(handle);
      return handle;
    },
    async add(name, data, opts) {
      if (stepsInStore && name === QUEUE_NAMES.steps) {
        // The row is the job; a later one (a retry) is found by the workers' idle poll, or woken here on time.
        const notify = () => auxPool().query(`select pg_notify('${STEPS_CHANNEL}', '')`);
        if (opts.delayMs && opts.delayMs > 0) setTimeout(() => void notify().catch(() => {}), opts.delayMs).unref();
        else await notify();
        return;
      }
      if (backend.kind === 'redis') await adderFor(name)([{ data, opts }]);
      else await queueFor(name).add(name, data, jobOpts(opts));
    },
    async addMany(name, jobs) {
      if (jobs.length === 0) return;
      if (stepsInStore && name === QUEUE_NAMES.steps) {
        await auxPool().query(`select pg_notify('${STEPS_CHANNEL}', '')`);
        return;
      }
      if (backend.kind === 'redis') await adderFor(name)(jobs);
      else await queueFor(name).addBulk(jobs.map((j) => ({ name, data: j.data, opts: jobOpts(j.opts) })));
    },
    startWorker(name, processor, opts) {
      const worker = new Worker(name, processor as Processor, {
        connection: connection() as never,
        ...extra,
        concurrency: opts.concurrency,
        stalledInterval: opts.stalledMs,
        lockDuration: opts.stalledMs,
        maxStalledCount: 1000,
      });
      worker.on('error', () => {});
      workers.add(worker);
      return {
        async close() {
          await worker.close();
          workers.delete(worker);
        },
      };
    },
    async counts(name) {
      if (stepsInStore && name === QUEUE_NAMES.steps) {
        const { rows } = await auxPool().query<{ waiting: string; active: string; delayed: string }>(
          `select count(*) filter (where status = 'pending' or (status = 'retrying' and coalesce(next_attempt_at, now()) <= now())) as waiting,
                  count(*) filter (where status = 'running') as active,
                  count(*) filter (where status = 'retrying' and next_attempt_at > now()) as delayed
             from step_runs where status in ('pending', 'retrying', 'running')`,
        );
        const r = rows[0]!;
        return { waiting: Number(r.waiting), active: Number(r.active), delayed: Number(r.delayed), prioritized: 0 };
      }
      return queueFor(name).getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    },
    async upsertScheduler(name, id, spec, data) {
      await queueFor(name).upsertJobScheduler(id, spec, { name, data, opts: { removeOnComplete: true, removeOnFail: true, attempts: 1 } });
    },
    async removeScheduler(name, id) {
      await queueFor(name).removeJobScheduler(id);
    },
    async schedulers(name) {
      const list = await queueFor(name).getJobSchedulers(0, -1, true);
      return list.map((s) => ({ id: s.key, next: s.next ?? null, data: (s.template?.data ?? {}) as Record<string, unknown> }));
    },
    async ping() {
      await queueFor(QUEUE_NAMES.events).getJobCounts('waiting');
    },
    async close() {
      await Promise.allSettled([...listeners].map((l) => l.close()));
      await Promise.allSettled([...workers].map((w) => w.close()));
      await Promise.allSettled([...queues.values()].map((q) => q.close()));
      await Promise.allSettled(redisClients.map((c) => c.quit()));
      await aux?.end().catch(() => {});
    },
  };
}
