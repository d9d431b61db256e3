/**
 * `npm run chaos` (full) / `npm run chaos:short` (CI) / `npm run soak`: the hub under floods, kills,
 * restarts and a misbehaving target. Every scenario sends unique HMAC-signed events to a catch hook
 * whose flow posts each one (signed, Standard Webhooks) to a sink in this process, and counts:
 *
 *   sent        events the sender tried (it retries on 503 and connection errors, as webhook senders do)
 *   acked       events answered 2xx (duplicate answers of a retried send included: stored once)
 *   delivered   events the sink accepted (answered 200)
 *   lost        acked but never delivered                               → must be 0
 *   duplicated  one event accepted under two different webhook-ids       → must be 0 (two step runs for one event)
 *   redelivered the same webhook-id accepted again (a worker killed between the POST and recording it);
 *               a Standard Webhooks receiver drops these by webhook-id, so the effect is still once
 *
 * Everything runs on servers this script starts itself: its own embedded PostgreSQL (behind a TCP
 * proxy here, so it can be restarted on another port or made unreachable) and its own redis-server on
 * its own port. It never touches the machine's shared PostgreSQL or Redis. See docs/RELIABILITY.md.
 */
import crypto from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../core/db/embedded-postgres.ts';
import { freePort, PRODUCTION_NODE_ARGS, ROOT, sleep, spawnChild, waitForHttp200, type Child } from './procs.ts';

const mode = process.argv[2] ?? 'short'; // short | full | soak | soak-short
const full = mode === 'full';
const only = (process.env.CHAOS_ONLY ?? '').split(',').filter(Boolean);
// Compiled (CHAOS_TS=0): run as `npm start` runs it, with the production Node flags.
const ENTRY = process.env.CHAOS_TS === '0' ? [...PRODUCTION_NODE_ARGS, 'dist/app/main.js'] : ['bin/dingbridge.js'];
const startedAt = Date.now();
const say = (m: string) => process.stderr.write(`[chaos ${((Date.now() - startedAt) / 1000).toFixed(0)}s] ${m}\n`);
const quietLog = pino({ level: 'warn' }, process.stderr);

// ---------------------------------------------------------------------------------------------
// The sink: Standard Webhooks receiver with faults (500 for a share of calls, never answering for another)

interface Sink {
  url: string;
  faults: { error500: number; hang: number };
  /** seq → webhook-id → times accepted */
  accepted: Map<number, Map<string, number>>;
  arrivals: Map<number, number>;
  close(): Promise<void>;
}

async function startSink(): Promise<Sink> {
  const accepted = new Map<number, Map<string, number>>();
  const arrivals = new Map<number, number>();
  const faults = { error500: 0, hang: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const roll = Math.random();
      if (roll < faults.hang) return; // never answers: the hub's HTTP timeout ends it
      if (roll < faults.hang + faults.error500) {
        res.writeHead(500).end('chaos');
        return;
      }
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { seq: number };
        const id = String(req.headers['webhook-id'] ?? '');
        let ids = accepted.get(body.seq);
        if (!ids) accepted.set(body.seq, (ids = new Map()));
        ids.set(id, (ids.get(id) ?? 0) + 1);
        if (!arrivals.has(body.seq)) arrivals.set(body.seq, Date.now());
      } catch {
        /* not ours */
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/deliveries`,
    faults,
    accepted,
    arrivals,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

// ---------------------------------------------------------------------------------------------
// Own PostgreSQL (embedded, behind a proxy that can point elsewhere or refuse) and own Redis

interface OwnPostgres {
  url: string;
  restart(downMs: number): Promise<void>;
  /** Refuses connections and cuts the open ones for `ms`. */
  unreachable(ms: number): Promise<void>;
  stop(): Promise<void>;
}

async function startOwnPostgres(dir: string): Promise<OwnPostgres> {
  let db: EmbeddedDatabase = await startEmbeddedPostgres(path.join(dir, 'pg'), quietLog);
  let upstream = new URL(db.connectionString);
  let refusing = false;
  const sockets = new Set<net.Socket>();
  const proxy = net.createServer((client) => {
    if (refusing) return client.destroy();
    const server = net.connect(Number(upstream.port), '127.0.0.1');
    sockets.add(client);
    sockets.add(server);
    const end = () => {
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
    };
    client.on('error', end).on('close', end);
    server.on('error', end).on('close', end);
    client.pipe(server).pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', () => r()));
  const url = new URL(db.connectionString);
  url.port = String(port);
  const cut = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    url: url.toString(),
    async restart(downMs) {
      await db.stop();
      cut();
      await sleep(downMs);
      db = await startEmbeddedPostgres(path.join(dir, 'pg'), quietLog);
      upstream = new URL(db.connectionString);
    },
    async unreachable(ms) {
      refusing = true;
      cut();
      await sleep(ms);
      refusing = false;
    },
    async stop() {
      cut();
      proxy.close();
      await db.stop().catch(() => {});
    },
  };
}

interface OwnRedis {
  url: string;
  restart(downMs: number): Promise<void>;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let proc: ChildProcess;
  const launch = async () => {
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const c = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on('error', () => {});
      const ok = await c.connect().then(
        () => c.ping().then(() => true),
        () => false,
      );
      c.disconnect();
      if (ok) return;
      await sleep(100);
    }
    throw new Error('own redis-server did not start');
  };
  await launch();
  const kill = async () => {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    async restart(downMs) {
      await kill();
      await sleep(downMs);
      await launch();
    },
    async flush() {
      const c = new Redis(port, '127.0.0.1');
      await c.flushall();
      c.disconnect();
    },
    stop: kill,
  };
}

// ---------------------------------------------------------------------------------------------
// The hub: one `serve` (with or without workers) plus N `worker` processes

interface HubSetup {
  dir: string;
  env: Record<string, string>;
  url: string;
  hmacSecret: string;
}

function hubSetup(label: string, sink: Sink, extra: Record<string, string>, port: number): HubSetup {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `dingbridge-chaos-${label}-`));
  fs.chmodSync(dir, 0o755);
  const hmacSecret = crypto.randomBytes(24).toString('hex');
  const whsec = `whsec_${crypto.randomBytes(24).toString('base64')}`;
  const q = (s: string) => JSON.stringify(s);
  const config = [
    'version: 1',
    'hooks:',
    '  - id: chaos',
    '    name: Chaos events',
    '    verify: { type: hmac, header: X-Signature, secret: ' + q(hmacSecret) + ', encoding: hex }',
    'flows:',
    '  - id: chaos-to-sink',
    '    name: Every chaos event goes to the sink',
    '    when: { event: catch_hook.received, source: chaos }',
    '    then:',
    '      - action: http.post',
    '        input:',
    `          url: ${q(sink.url)}`,
    `          secret: ${q(whsec)}`,
    `          body: '{ "seq": {{ data.seq }} }'`,
    '',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'config.yaml'), config);
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DINGBRIDGE_DATA_DIR: path.join(dir, 'data'),
    DINGBRIDGE_CONFIG: path.join(dir, 'config.yaml'),
    DINGBRIDGE_QUEUE_PREFIX: `chaos_${label.replace(/\W/g, '_')}`,
    DINGBRIDGE_EGRESS_ALLOW: '127.0.0.1',
    DINGBRIDGE_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
    DINGBRIDGE_HTTP_TIMEOUT_MS: '2000',
    DINGBRIDGE_STEP_LEASE_MS: '6000',
    DINGBRIDGE_STEP_ATTEMPTS: '50',
    DINGBRIDGE_RETRY_BASE_MS: '200',
    DINGBRIDGE_RETRY_MAX_MS: '2000',
    DINGBRIDGE_SWEEP_INTERVAL_MS: '1000',
    DINGBRIDGE_SWEEP_GRACE_MS: '3000',
    ...extra,
  };
  return { dir, env, url: `http://127.0.0.1:${port}`, hmacSecret };
}

/** Every hub process's output goes to CHAOS_LOG_DIR (default: a temp dir named at the start). */
const LOG_DIR = process.env.CHAOS_LOG_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'dingbridge-chaos-logs-'));
const logFor = (h: HubSetup, proc: string) => path.join(LOG_DIR, `${path.basename(h.dir)}-${proc}.log`);

const startServe = async (h: HubSetup, args: string[] = []): Promise<Child> => {
  const c = spawnChild('serve', [...ENTRY, 'serve', ...args], h.env, logFor(h, 'serve'));
  await waitForHttp200(`${h.url}/readyz`, 120_000, c);
  return c;
};
const startWorker = (h: HubSetup, n: number): Child =>
  spawnChild(`worker${n}`, [...ENTRY, 'worker'], { ...h.env, PORT: '0' }, logFor(h, `worker${n}`));

// ---------------------------------------------------------------------------------------------
// The sender

interface Sent {
  sent: number;
  acked: Set<number>;
  ackedAt: Map<number, number>;
  got503: number;
  got503WithRetryAfter: number;
  connErrors: number;
  gaveUp: number;
}

/** Sends `count` events (or for `seconds`) at `rate`/s (0 = as fast as `concurrency` allows), retrying each until acked. */
async function send(h: HubSetup, o: { count?: number; seconds?: number; rate: number; concurrency: number; firstSeq: number }, s: Sent) {
  const until = o.seconds ? Date.now() + o.seconds * 1000 : Number.POSITIVE_INFINITY;
  let next = o.firstSeq;
  const last = o.count ? o.firstSeq + o.count : Number.POSITIVE_INFINITY;
  const t0 = Date.now();
  const one = async (seq: number) => {
    const body = JSON.stringify({ seq, sentAt: Date.now() });
    const sig = crypto.createHmac('sha256', h.hmacSecret).update(body).digest('hex');
    const giveUpAt = Date.now() + 180_000;
    while (Date.now() < giveUpAt) {
      try {
        const res = await fetch(`${h.url}/hooks/catch/chaos`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-signature': sig },
          body,
          signal: AbortSignal.timeout(15_000),
        });
        await res.arrayBuffer();
        if (res.ok) {
          s.acked.add(seq);
          s.ackedAt.set(seq, Date.now());
          return;
        }
        if (res.status === 503) {
          s.got503 += 1;
          if (res.headers.get('retry-after')) s.got503WithRetryAfter += 1;
        }
      } catch {
        s.connErrors += 1;
      }
      await sleep(500);
    }
    s.gaveUp += 1;
  };
  const workers = Array.from({ length: o.concurrency }, async () => {
    for (;;) {
      if (Date.now() >= until || next >= last) return;
      const seq = next++;
      if (o.rate > 0) {
        const due = t0 + ((seq - o.firstSeq) / o.rate) * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
      }
      s.sent += 1;
      await one(seq);
    }
  });
  await Promise.all(workers);
}

// ---------------------------------------------------------------------------------------------
// Scoring

interface Outcome {
  scenario: string;
  sent: number;
  acked: number;
  delivered: number;
  lost: number;
  duplicated: number;
  redelivered: number;
  seconds: number;
  notes: string[];
  ok: boolean;
}

async function settle(sink: Sink, s: Sent, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    let missing = 0;
    for (const seq of s.acked) if (!sink.accepted.has(seq)) missing += 1;
    if (missing === 0) break;
    await sleep(500);
  }
  await sleep(2000); // late duplicates
}

function score(scenario: string, sink: Sink, s: Sent, t0: number, notes: string[]): Outcome {
  let lost = 0;
  for (const seq of s.acked) if (!sink.accepted.has(seq)) lost += 1;
  let duplicated = 0;
  let redelivered = 0;
  for (const ids of sink.accepted.values()) {
    duplicated += ids.size - 1;
    for (const n of ids.values()) redelivered += n - 1;
  }
  const o: Outcome = {
    scenario,
    sent: s.sent,
    acked: s.acked.size,
    delivered: sink.accepted.size,
    lost,
    duplicated,
    redelivered,
    seconds: Math.round((Date.now() - t0) / 1000),
    notes,
    ok: lost === 0 && duplicated === 0,
  };
  say(
    `${scenario}: sent ${o.sent}, acked ${o.acked}, delivered ${o.delivered}, lost ${o.lost}, duplicated ${o.duplicated}, redelivered ${o.redelivered} — ${o.ok ? 'OK' : 'FAILED'} (${o.seconds}s)${notes.length ? `; ${notes.join('; ')}` : ''}`,
  );
  return o;
}

const newSent = (): Sent => ({
  sent: 0,
  acked: new Set(),
  ackedAt: new Map(),
  got503: 0,
  got503WithRetryAfter: 0,
  connErrors: 0,
  gaveUp: 0,
});

// ---------------------------------------------------------------------------------------------
// Scenarios

type Scenario = { name: string; run(): Promise<Outcome> };

async function withInfra<T>(
  label: string,
  fn: (ctx: { sink: Sink; pg?: OwnPostgres; redis?: OwnRedis; h: HubSetup; procs: Child[] }) => Promise<T>,
  o: { redis: boolean; ownPg: boolean },
): Promise<T> {
  const sink = await startSink();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `dingbridge-chaos-infra-`));
  fs.chmodSync(tmp, 0o755);
  const pgOwn = o.ownPg ? await startOwnPostgres(tmp) : undefined;
  const redis = o.redis ? await startOwnRedis() : undefined;
  const extra: Record<string, string> = {};
  if (pgOwn) extra.DATABASE_URL = pgOwn.url;
  if (redis) extra.REDIS_URL = redis.url;
  const h = hubSetup(label, sink, extra, await freePort());
  const procs: Child[] = [];
  try {
    const result = await fn({ sink, pg: pgOwn, redis, h, procs });
    // A hub process that was not killed on purpose must still be running.
    const died = procs.filter((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    const o = result as unknown as Outcome;
    if (died.length && typeof o.ok === 'boolean') {
      o.ok = false;
      o.notes.push(
        `hub process(es) exited on their own: ${died.map((p) => `${p.name} (${p.child.exitCode ?? p.child.signalCode})`).join(', ')}; logs in ${LOG_DIR}`,
      );
    }
    return result;
  } finally {
    await Promise.allSettled(procs.map((p) => p.stop(10_000)));
    await redis?.stop().catch(() => {});
    await pgOwn?.stop().catch(() => {});
    await sink.close().catch(() => {});
    fs.rmSync(h.dir, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const n = (fullCount: number, shortCount: number) => Number(process.env.CHAOS_EVENTS || (full ? fullCount : shortCount));

const scenarios: Scenario[] = [
  {
    name: 'burst-default',
    run: () =>
      withInfra(
        'burst-default',
        async ({ sink, h, procs }) => {
          procs.push(await startServe(h));
          const s = newSent();
          const t0 = Date.now();
          await send(h, { count: n(20_000, 500), rate: 0, concurrency: 50, firstSeq: 1 }, s);
          await settle(sink, s, full ? 600_000 : 120_000);
          return score('burst-default', sink, s, t0, []);
        },
        { redis: false, ownPg: false },
      ),
  },
  {
    name: 'burst-redis-3-workers',
    run: () =>
      withInfra(
        'burst-redis',
        async ({ sink, h, procs }) => {
          procs.push(await startServe(h, ['--no-worker']));
          for (let i = 1; i <= 3; i++) procs.push(startWorker(h, i));
          const s = newSent();
          const t0 = Date.now();
          await send(h, { count: n(100_000, 600), rate: 0, concurrency: 50, firstSeq: 1 }, s);
          await settle(sink, s, full ? 1_200_000 : 120_000);
          return score('burst-redis-3-workers', sink, s, t0, []);
        },
        { redis: true, ownPg: true },
      ),
  },
  {
    name: 'kill-9-workers',
    run: () =>
      withInfra(
        'kill-workers',
        async ({ sink, h, procs }) => {
          procs.push(await startServe(h, ['--no-worker']));
          const workers = [1, 2, 3].map((i) => startWorker(h, i));
          const kills = full ? 20 : 4;
          const s = newSent();
          const t0 = Date.now();
          const load = send(h, { seconds: kills * 1.5 + 4, rate: 100, concurrency: 30, firstSeq: 1 }, s);
          await sleep(3000);
          for (let k = 0; k < kills; k++) {
            const i = k % workers.length;
            workers[i]!.child.kill('SIGKILL');
            await workers[i]!.stop(1000);
            workers[i] = startWorker(h, i + 1);
            await sleep(1500);
          }
          await load;
          procs.push(...workers);
          await settle(sink, s, 120_000);
          return score('kill-9-workers', sink, s, t0, [`${kills} kill -9 of a worker mid-flood`]);
        },
        { redis: true, ownPg: true },
      ),
  },
  {
    name: 'kill-api',
    run: () =>
      withInfra(
        'kill-api',
        async ({ sink, h, procs }) => {
          let api = await startServe(h, ['--no-worker']);
          const worker = startWorker(h, 1);
          procs.push(worker);
          const kills = full ? 5 : 2;
          const s = newSent();
          const t0 = Date.now();
          const load = send(h, { seconds: kills * 6 + 4, rate: 50, concurrency: 20, firstSeq: 1 }, s);
          for (let k = 0; k < kills; k++) {
            await sleep(3000);
            api.child.kill('SIGKILL');
            await api.stop(1000);
            api = await startServe(h, ['--no-worker']);
          }
          await load;
          procs.push(api);
          await settle(sink, s, 120_000);
          return score('kill-api', sink, s, t0, [`API process killed ${kills} times`, `${s.connErrors} connection errors retried`]);
        },
        { redis: true, ownPg: true },
      ),
  },
  {
    name: 'postgres-restart-and-unreachable',
    run: () =>
      withInfra(
        'pg-chaos',
        async ({ sink, h, pg, procs }) => {
          procs.push(await startServe(h));
          const downMs = full ? 30_000 : 8_000;
          const s = newSent();
          const t0 = Date.now();
          const load = send(h, { seconds: (downMs + 20_000) / 1000, rate: 50, concurrency: 40, firstSeq: 1 }, s);
          await sleep(3000);
          await pg!.restart(2000);
          say('  PostgreSQL restarted');
          await sleep(3000);
          const before503 = s.got503;
          await pg!.unreachable(downMs);
          say(`  PostgreSQL was unreachable for ${downMs / 1000}s`);
          await load;
          await settle(sink, s, 120_000);
          const o = score('postgres-restart-and-unreachable', sink, s, t0, [
            `503 answers: ${s.got503} (${s.got503 - before503} while unreachable), ${s.got503WithRetryAfter} with Retry-After`,
          ]);
          if (s.got503 === 0 || s.got503WithRetryAfter !== s.got503) {
            o.ok = false;
            o.notes.push('intake did not answer 503 + Retry-After while the store was down');
          }
          return o;
        },
        { redis: false, ownPg: true },
      ),
  },
  {
    name: 'redis-restart-and-flush',
    run: () =>
      withInfra(
        'redis-chaos',
        async ({ sink, h, redis, procs }) => {
          procs.push(await startServe(h));
          const s = newSent();
          const t0 = Date.now();
          const load = send(h, { seconds: 16, rate: 80, concurrency: 30, firstSeq: 1 }, s);
          await sleep(4000);
          await redis!.restart(1500);
          say('  Redis restarted (empty)');
          await sleep(4000);
          await redis!.flush();
          say('  Redis flushed');
          await load;
          await settle(sink, s, 120_000);
          return score('redis-restart-and-flush', sink, s, t0, []);
        },
        { redis: true, ownPg: true },
      ),
  },
  {
    name: 'sink-500-and-hang',
    run: () =>
      withInfra(
        'sink-faults',
        async ({ sink, h, procs }) => {
          procs.push(await startServe(h));
          sink.faults.error500 = 0.2;
          sink.faults.hang = 0.05;
          const s = newSent();
          const t0 = Date.now();
          await send(h, { count: n(5_000, 600), rate: 60, concurrency: 20, firstSeq: 1 }, s);
          // Faults stay on: every event gets through in the end by retries alone.
          await settle(sink, s, 180_000);
          return score('sink-500-and-hang', sink, s, t0, ['sink answered 500 to 20 % and never answered 5 % of calls']);
        },
        { redis: false, ownPg: false },
      ),
  },
];

// ---------------------------------------------------------------------------------------------
// Soak: steady rate, flat memory, no growing backlog, oldest pending ≤ 5 s

async function soak(seconds: number, rate: number): Promise<Outcome> {
  return withInfra(
    'soak',
    async ({ sink, h, procs }) => {
      const hub = await startServe(h);
      procs.push(hub);
      const s = newSent();
      const t0 = Date.now();
      const samples: { t: number; rssMiB: number; pending: number; oldestPendingMs: number }[] = [];
      let stop = false;
      const sampler = (async () => {
        while (!stop) {
          await sleep(5000);
          const status = fs.readFileSync(`/proc/${hub.pid}/status`, 'utf8');
          const rssMiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
          let pending = 0;
          let oldest = 0;
          const now = Date.now();
          for (const [seq, at] of s.ackedAt) {
            if (sink.arrivals.has(seq)) continue;
            pending += 1;
            oldest = Math.max(oldest, now - at);
          }
          samples.push({ t: Math.round((now - t0) / 1000), rssMiB: Math.round(rssMiB), pending, oldestPendingMs: oldest });
          say(`  soak t=${samples.at(-1)!.t}s rss ${Math.round(rssMiB)} MiB, acked-undelivered ${pending}, oldest ${oldest} ms`);
        }
      })();
      await send(h, { seconds, rate, concurrency: 30, firstSeq: 1 }, s);
      stop = true;
      await sampler;
      await settle(sink, s, 60_000);
      const o = score('soak', sink, s, t0, []);
      // Memory: the last quarter's mean against the second quarter's (after warm-up).
      const q = Math.max(1, Math.floor(samples.length / 4));
      const mean = (xs: typeof samples) => xs.reduce((a, b) => a + b.rssMiB, 0) / Math.max(1, xs.length);
      const early = mean(samples.slice(q, 2 * q));
      const late = mean(samples.slice(-q));
      const growth = early ? (late - early) / early : 0;
      const maxOldest = Math.max(0, ...samples.map((x) => x.oldestPendingMs));
      const backlogEarly = samples.slice(q, 2 * q).reduce((a, b) => a + b.pending, 0) / Math.max(1, q);
      const backlogLate = samples.slice(-q).reduce((a, b) => a + b.pending, 0) / Math.max(1, q);
      o.notes.push(
        `${rate}/s for ${seconds}s; RSS ${Math.round(early)} → ${Math.round(late)} MiB (${(growth * 100).toFixed(1)} %); backlog ${backlogEarly.toFixed(0)} → ${backlogLate.toFixed(0)}; oldest pending ${maxOldest} ms`,
      );
      if (growth > 0.1) (o.ok = false), o.notes.push('memory grew over 10 %');
      if (maxOldest > 5000) (o.ok = false), o.notes.push('an event waited over 5 s');
      if (backlogLate > Math.max(50, backlogEarly * 2)) (o.ok = false), o.notes.push('backlog grew');
      say(`soak: ${o.notes.join('; ')}`);
      return o;
    },
    { redis: false, ownPg: false },
  );
}

async function main() {
  say(`hub logs in ${LOG_DIR}`);
  const results: Outcome[] = [];
  if (mode === 'soak' || mode === 'soak-short') {
    const seconds = Number(process.env.SOAK_SECONDS || (mode === 'soak' ? 1800 : 60));
    const rate = Number(process.env.SOAK_RATE || (mode === 'soak' ? 100 : 50));
    results.push(await soak(seconds, rate));
  } else {
    for (const sc of scenarios) {
      if (only.length && !only.includes(sc.name)) continue;
      say(`scenario ${sc.name}`);
      try {
        results.push(await sc.run());
      } catch (err) {
        say(`${sc.name} FAILED to run: ${(err as Error).stack}`);
        results.push({
          scenario: sc.name,
          sent: 0,
          acked: 0,
          delivered: 0,
          lost: 0,
          duplicated: 0,
          redelivered: 0,
          seconds: 0,
          notes: [(err as Error).message],
          ok: false,
        });
      }
    }
  }
  process.stdout.write(`\nscenario                            sent   acked  delivered  lost  dup  redeliv   secs  result\n`);
  for (const r of results)
    process.stdout.write(
      `${r.scenario.padEnd(34)} ${String(r.sent).padStart(6)} ${String(r.acked).padStart(7)} ${String(r.delivered).padStart(10)} ${String(r.lost).padStart(5)} ${String(r.duplicated).padStart(4)} ${String(r.redelivered).padStart(8)} ${String(r.seconds).padStart(6)}  ${r.ok ? 'ok' : 'FAILED'}${r.notes.length ? `  (${r.notes.join('; ')})` : ''}\n`,
    );
  process.stdout.write(`${JSON.stringify({ chaos: mode, results })}\n`);
  process.exit(results.every((r) => r.ok) ? 0 : 1);
}

void ROOT;
main().catch((err) => {
  process.stderr.write(`chaos failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
