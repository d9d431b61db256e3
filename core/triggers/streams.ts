import { sql } from 'kysely';
import type { StreamSession, StreamTrigger } from '../connector.ts';
import type { Db } from '../db/database.ts';
import { ingestTriggered } from '../pipeline/ingest.ts';
import type { Runtime } from '../runtime.ts';
import { emitTriggerFailed } from './failed.ts';
import { recentEventCounts, recentFor, registerTriggerSource } from './health.ts';

/**
 * Holds the stream triggers' connections (e.g. DingTalk Stream mode): for every connection whose
 * connector has a stream trigger that the connection enables, exactly one process of the hub holds
 * the stream. The holder keeps a PostgreSQL advisory lock on a session of its own; when the process
 * dies its session ends, the lock is released, and another process takes the stream at its next scan.
 *
 * A stream that drops is opened again with exponential backoff (1 s doubling up to
 * DINGBRIDGE_STREAM_BACKOFF_MAX_MS, with jitter). A stream that cannot be opened marks the connection
 * `error` with the reason in `last_error` (back to `active` once it opens); nothing else waits on it:
 * the hub starts and serves everything else. A connector may have several stream triggers: each is
 * held on its own (the first one keeps the lock name it always had).
 */

export interface StreamManager {
  /** Connection ids whose stream this process holds right now (connected or reconnecting). */
  held(): string[];
  stop(): Promise<void>;
}

interface Holder {
  key: string;
  lock: string;
  connectionId: string;
  connectorId: string;
  triggerId: string;
  title: string;
  trigger: StreamTrigger;
  stopping: boolean;
  /** Settles when the holder is told to stop. */
  stopSignal: Promise<'stop'>;
  stop: () => void;
  done: Promise<void>;
  connected: boolean;
}

const lockKey = (connectionId: string, triggerId: string, index: number) =>
  index === 0 ? `dingbridge:stream:${connectionId}` : `dingbridge:stream:${connectionId}:${triggerId}`;
/** Failed opens in a row after which the admins are told (hub.trigger.failed). */
const FAILED_AFTER = 3;

/** The stream triggers of a connector, in declaration order. */
const streamTriggersOf = (rt: Runtime, connectorId: string) => (rt.registry.connector(connectorId)?.triggers ?? []).filter((t) => t.stream);
const BACKOFF_BASE_MS = 1000;
/** A provider that neither answers nor refuses (a black-holed host) must not hold the stream loop. */
const OPEN_TIMEOUT_MS = 20_000;

export function startStreamManager(rt: Runtime): StreamManager {
  const holders = new Map<string, Holder>();
  let stopped = false;
  let scanning = false;
  const log = rt.log.child({ component: 'streams' });

  async function markError(id: string, message: string): Promise<void> {
    await rt.db
      .updateTable('connections')
      .set({ status: 'error', last_error: `stream: ${message}`.slice(0, 1000), updated_at: new Date() })
      .where('id', '=', id)
      .where('status', 'in', ['active', 'error'])
      .execute()
      .catch(() => {});
  }
  async function markConnected(id: string): Promise<void> {
    await rt.db
      .updateTable('connections')
      .set({ status: 'active', last_error: null, updated_at: new Date() })
      .where('id', '=', id)
      .where('status', '=', 'error')
      .execute()
      .catch(() => {});
  }

  /** Waits ms, or less when the holder is told to stop. */
  function pause(h: Holder, ms: number): Promise<unknown> {
    return Promise.race([new Promise((resolve) => setTimeout(resolve, ms).unref()), h.stopSignal]);
  }

  /** Resolves when the lock's session stops answering (the lock may be gone: another process may take over). */
  function watchLock(h: Holder, session: Db): { lost: Promise<void>; cancel(): void } {
    let timer: NodeJS.Timeout | undefined;
    let cancelled = false;
    const lost = new Promise<void>((resolve) => {
      const tick = async () => {
        if (cancelled || h.stopping) return;
        try {
          await sql`select 1`.execute(session);
        } catch {
          resolve();
          return;
        }
        timer = setTimeout(tick, rt.settings.DINGBRIDGE_STREAM_SCAN_MS);
        timer.unref();
      };
      timer = setTimeout(tick, rt.settings.DINGBRIDGE_STREAM_SCAN_MS);
      timer.unref();
    });
    return {
      lost,
      cancel: () => {
        cancelled = true;
        clearTimeout(timer);
      },
    };
  }

  /** Opens the stream, giving up after OPEN_TIMEOUT_MS or when told to stop (a late session is closed). */
  async function openStream(h: Holder): Promise<StreamSession | undefined> {
    const connection = await rt.connections.handle(h.connectionId);
    const opening = h.trigger.open({
      connection,
      log: log.child({ connectionId: h.connectionId }),
      emit: (events) => ingestTriggered(rt, h.connectorId, h.connectionId, events),
    });
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      opening.then((session) => ({ session })),
      new Promise<{ timeout: true }>((resolve) => {
        timer = setTimeout(() => resolve({ timeout: true }), OPEN_TIMEOUT_MS);
        timer.unref();
      }),
      h.stopSignal.then(() => ({ stop: true as const })),
    ]).finally(() => clearTimeout(timer));
    if ('session' in outcome) return outcome.session;
    opening.then((session) => session.close()).catch(() => {});
    if ('stop' in outcome) return undefined;
    throw new Error(`no answer within ${OPEN_TIMEOUT_MS} ms`);
  }

  async function run(h: Holder, session: Db): Promise<void> {
    let failures = 0;
    while (!h.stopping) {
      let stream: StreamSession | undefined;
      const watch = watchLock(h, session);
      try {
        stream = await openStream(h);
        if (!stream) return;
        failures = 0;
        h.connected = true;
        await markConnected(h.connectionId);
        log.info({ connectionId: h.connectionId }, 'stream connected');
        const why = await Promise.race([
          stream.closed.then(() => 'closed' as const),
          watch.lost.then(() => 'lock_lost' as const),
          h.stopSignal,
        ]);
        h.connected = false;
        await stream.close().catch(() => {});
        if (why === 'lock_lost') {
          log.warn({ connectionId: h.connectionId }, "the stream lock's database session failed; giving the stream up");
          return;
        }
        if (h.stopping) return;
        log.warn({ connectionId: h.connectionId }, 'stream dropped; reconnecting');
        await pause(h, BACKOFF_BASE_MS / 2 + (Math.random() * BACKOFF_BASE_MS) / 2);
      } catch (err) {
        h.connected = false;
        if (stream) await stream.close().catch(() => {});
        if (h.stopping) return;
        failures += 1;
        const message = (err as Error).message;
        await markError(h.connectionId, message);
        if (failures === FAILED_AFTER)
          await emitTriggerFailed(rt, {
            triggerKey: `stream:${h.connectionId}:${h.triggerId}`,
            kind: 'stream',
            connectionId: h.connectionId,
            triggerId: h.triggerId,
            title: h.title,
            reason: message,
          });
        const ceiling = Math.min(rt.settings.DINGBRIDGE_STREAM_BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (failures - 1));
        const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
        log.warn(
          { connectionId: h.connectionId, err: message, attempt: failures, retryInMs: delay },
          'stream could not be opened; will retry',
        );
        await pause(h, delay);
      } finally {
        watch.cancel();
      }
    }
  }

  function hold(
    key: string,
    lock: string,
    connectionId: string,
    connectorId: string,
    def: { id: string; title: string; stream: StreamTrigger },
  ): void {
    let resolveDone!: () => void;
    let resolveStop!: (v: 'stop') => void;
    const h: Holder = {
      key,
      lock,
      connectionId,
      connectorId,
      triggerId: def.id,
      title: def.title,
      trigger: def.stream,
      stopping: false,
      connected: false,
      stopSignal: new Promise<'stop'>((r) => {
        resolveStop = r;
      }),
      stop: () => {
        h.stopping = true;
        resolveStop('stop');
      },
      done: new Promise((r) => {
        resolveDone = r;
      }),
    };
    holders.set(key, h);
    // A session of its own for the advisory lock: the lock lives exactly as long as it.
    rt.db
      .connection()
      .execute(async (session) => {
        const got = await sql<{ ok: boolean }>`select pg_try_advisory_lock(hashtextextended(${lock}, 0)) as ok`.execute(session);
        if (!got.rows[0]?.ok) return; // another process holds this stream
        log.info({ connectionId }, 'holding the stream of this connection');
        try {
          await run(h, session);
        } finally {
          await sql`select pg_advisory_unlock(hashtextextended(${lock}, 0))`.execute(session).catch(() => {});
        }
      })
      .catch((err) => log.warn({ connectionId, err: (err as Error).message }, 'stream holder failed'))
      .finally(() => {
        holders.delete(key);
        resolveDone();
      });
  }

  function release(h: Holder): Promise<void> {
    h.stop();
    return h.done;
  }

  async function scan(): Promise<void> {
    if (scanning || stopped) return;
    scanning = true;
    try {
      const rows = await rt.connections.store.list();
      const wanted = new Set<string>();
      for (const row of rows) {
        if (!['active', 'error'].includes(row.status)) continue;
        streamTriggersOf(rt, row.connector_id).forEach((def, index) => {
          let enabled = false;
          try {
            enabled = def.stream!.enabled(rt.connections.store.view(row).settings);
          } catch {
            enabled = false;
          }
          if (!enabled) return;
          const key = `${row.id}\u0000${def.id}`;
          wanted.add(key);
          if (!holders.has(key) && !stopped)
            hold(key, lockKey(row.id, def.id, index), row.id, row.connector_id, { id: def.id, title: def.title, stream: def.stream! });
        });
      }
      for (const h of holders.values()) if (!wanted.has(h.key)) void release(h);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'stream scan failed; will try again');
    } finally {
      scanning = false;
    }
  }

  const timer = setInterval(() => {
    void scan();
  }, rt.settings.DINGBRIDGE_STREAM_SCAN_MS);
  timer.unref();
  setImmediate(() => {
    void scan();
  });

  return {
    held: () => [...new Set([...holders.values()].filter((h) => h.connected).map((h) => h.connectionId))],
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all([...holders.values()].map((h) => release(h)));
    },
  };
}

/**
 * Streams as the Triggers page sees them: the holder may be another process, so the status is the
 * connection's (the holder marks it `error` with the reason while the stream cannot be opened).
 */
registerTriggerSource('stream', {
  async list(rt) {
    const out = [];
    let counts: Awaited<ReturnType<typeof recentEventCounts>> | undefined;
    for (const row of await rt.connections.store.list()) {
      for (const def of streamTriggersOf(rt, row.connector_id)) {
        let enabled = false;
        try {
          enabled = def.stream!.enabled(rt.connections.store.view(row).settings);
        } catch {
          enabled = false;
        }
        if (!enabled) continue;
        counts ??= await recentEventCounts(rt);
        const recent = recentFor(counts, row.id, def.events);
        const streamError = row.last_error?.startsWith('stream: ') ? row.last_error.slice(8) : null;
        out.push({
          id: `stream:${row.id}:${def.id}`,
          connector: row.connector_id,
          kind: 'stream' as const,
          connection: row.id,
          status: row.status === 'disabled' ? 'disabled' : streamError && row.status === 'error' ? 'error' : 'ok',
          expiresAt: null,
          nextRunAt: null,
          lastEventAt: recent.lastEventAt,
          lastError: streamError,
          trigger: def.id,
          title: def.title,
          eventsLast24h: recent.eventsLast24h,
          actions: [],
        });
      }
    }
    return out;
  },
});
