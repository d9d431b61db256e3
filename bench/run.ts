/**
 * `npm run bench`: the hub's ingest throughput, ack and end-to-end latency, delivery guarantees and
 * memory, against a minimal forwarder on the same machine, in one run:
 *
 *   1. baseline       — bench/baseline-forwarder.ts (express 5, verify HMAC, fetch to the sink, 200)
 *   2. hub-postgres   — `dingbridge serve`, embedded PostgreSQL store, BullMQ on PostgreSQL (the default)
 *   3. hub-redis      — `dingbridge serve`, DATABASE_URL store, BullMQ on Redis (REDIS_URL)
 *
 * Each gets a short warm-up, a throughput phase (autocannon, BENCH_CONNECTIONS connections, as fast as
 * it answers; for a hub, a second forwarder's throughput phase runs just before and just after it, and
 * the hub's ratios are to the mean of those two: the machine's speed drifts over minutes), a fixed-rate phase (one autocannon with overallRate BENCH_RATE) and the same rate split
 * over BENCH_SMOOTH_INSTANCES staggered autocannon instances (smaller bursts). Every request is a
 * unique, HMAC-signed event; the sink (bench/sink-server.ts) records each delivery; after each phase
 * the bench waits for the deliveries to drain and scores lost and duplicate events. Progress goes to
 * stderr; the table and, as the last line, one JSON object go to stdout.
 * See docs/BENCHMARKS.md.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { runLoad, type LoadResult } from './load.ts';
import {
  PRODUCTION_NODE_ARGS,
  freePort,
  killLiveChildren,
  ROOT,
  sampleMemory,
  sleep,
  spawnChild,
  waitForHttp200,
  waitForOutput,
  waitForIdle,
  watchCpu,
  type Child,
  type CpuShare,
  type MemoryPeaks,
} from './procs.ts';
import { drain, missingAcked, score, sinkRecords, type PhaseFigures } from './sink.ts';
import { runKpiBench, type KpiBenchResult } from './kpis.ts';

// ---------------------------------------------------------------------------------------------
// Settings (env)

function num(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  return v;
}

type HubName = 'hub-postgres' | 'hub-redis' | 'hub-redis-w1' | 'hub-redis-w2' | 'hub-redis-w3';
type ScenarioName = 'baseline' | HubName;
const ALL_SCENARIOS: ScenarioName[] = ['baseline', 'hub-postgres', 'hub-redis', 'hub-redis-w1', 'hub-redis-w2', 'hub-redis-w3'];

const cfg = {
  seconds: num('BENCH_SECONDS', 10),
  connections: num('BENCH_CONNECTIONS', 50),
  rate: num('BENCH_RATE', 200),
  rateSeconds: num('BENCH_RATE_SECONDS', 10),
  rateConnections: num('BENCH_RATE_CONNECTIONS', 20),
  /** Autocannon instances for the smooth fixed-rate phase (0 = skip that phase). */
  smoothInstances: num('BENCH_SMOOTH_INSTANCES', 10),
  warmupSeconds: num('BENCH_WARMUP_SECONDS', 2),
  /** Before each scenario, wait up to this long for the machine to be idle (others' load skews every figure). */
  waitIdleSeconds: num('BENCH_WAIT_IDLE_S', 0),
  /** At the end of a scenario, wait up to this long for events still missing from earlier phases. */
  finalWaitMs: num('BENCH_FINAL_WAIT_S', 30) * 1000,
  drainSettleMs: num('BENCH_DRAIN_SETTLE_MS', 2000),
  drainQuietMs: num('BENCH_DRAIN_QUIET_MS', 5000),
  drainMaxMs: num('BENCH_DRAIN_MAX_S', 90) * 1000,
  adminDatabaseUrl: process.env.BENCH_PG_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/test',
  redisUrl: process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379',
  /** The KPI scenario (bench/kpis.ts): events stored, and how many times a month is asked. */
  kpiEvents: num('BENCH_KPI_EVENTS', 1_000_000),
  kpiRepeats: num('BENCH_KPI_REPEATS', 20),
  /** Measure the forwarder beside each hub (just before and after its throughput phase) for the ratios. */
  beside: process.env.BENCH_BESIDE !== '0',
  only: (process.env.BENCH_ONLY || [...ALL_SCENARIOS, 'kpis'].join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
};

/** The hub as production runs it: compiled JavaScript (npm run build:dist); BENCH_TS=1 runs the sources through tsx. */
const HUB_ENTRY = process.env.BENCH_TS === '1' ? 'bin/dingbridge.js' : 'dist/app/main.js';
/** Node's flags of the production start (package.json "start", the same in the Dockerfile), e.g. V8's heap sizes. */

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;
const say = (msg: string) => process.stderr.write(`[bench ${elapsed()}] ${msg}\n`);

// ---------------------------------------------------------------------------------------------
// One scenario

/** Scale-out: `serve --no-worker` plus N `worker` processes (Redis mode). */
const workersOf = (name: ScenarioName) => Number(/-w(\d)$/.exec(name)?.[1] ?? 0);

interface ScenarioResult {
  name: ScenarioName;
  description: string;
  throughput: PhaseFigures;
  rate?: PhaseFigures;
  rateSmooth?: PhaseFigures;
  memory: MemoryPeaks;
  startupMs: number;
  shutdown: { ms: number; code: number | null; signal: string | null; forced: boolean };
  /** pino lines at warn / error and above that the process printed. */
  logLines: { warn: number; error: number };
  /** CPU over the whole scenario: the benchmark's process tree versus everything else on the machine. */
  cpu: CpuShare;
  /** A hub's: the forwarder's throughput phase just before and just after the hub's (BENCH_BESIDE). */
  beside?: { before: PhaseFigures; after: PhaseFigures };
}

let nextSeq = 1;
const NO_CPU: CpuShare = { machineBusyPct: NaN, benchPct: NaN, otherPct: NaN, loadAvg1: NaN }; // filled in by main

interface Target {
  url: string;
  path: string;
  hmacSecret: string;
  proc: Child;
}

type Phases = {
  throughput: PhaseFigures;
  rate?: PhaseFigures;
  rateSmooth?: PhaseFigures;
  beside?: { before: PhaseFigures; after: PhaseFigures };
};

type PhaseKind = 'warmup' | 'forwarder beside' | PhaseFigures['phase'];

/** One phase against a target: the load, the drain of its deliveries, and its score. */
async function measure(
  target: Target,
  sinkUrl: string,
  kind: PhaseKind,
  connections: number,
  seconds: number,
  rate?: number,
  stagger = 1,
): Promise<{ load: LoadResult; figures: PhaseFigures }> {
  const firstSeq = nextSeq;
  say(
    `  ${kind}: ${seconds}s, ${connections} connections${rate ? `, ${rate}/s` : ''}${stagger > 1 ? ` over ${stagger} staggered autocannon instances` : ''}`,
  );
  const load = await runLoad({
    url: target.url,
    path: target.path,
    hmacSecret: target.hmacSecret,
    connections,
    durationSeconds: seconds,
    overallRate: rate,
    firstSeq,
    stagger,
  });
  nextSeq = load.endSeq;
  say(
    `  ${kind}: ${load.ok2xx} acked 2xx (${(load.ok2xx / load.durationSeconds).toFixed(0)}/s), ${load.non2xx} non-2xx, ${load.errors} errors; draining…`,
  );
  const d = await drain(sinkUrl, firstSeq, load.endSeq, load.ok2xx, {
    settleMs: cfg.drainSettleMs,
    quietMs: cfg.drainQuietMs,
    maxMs: cfg.drainMaxMs,
  });
  const records = await sinkRecords(sinkUrl, firstSeq, load.endSeq);
  const phase = kind === 'warmup' || kind === 'forwarder beside' ? 'throughput' : kind;
  const figures = score(load, records, d, { connections, targetRate: rate ?? null, phase });
  say(
    `  ${kind}: drained (${d.reason}) in ${(d.waitedMs / 1000).toFixed(1)}s: ${figures.delivered} delivered (${figures.deliveredPerSecond}/s), ${figures.lost} lost, ${figures.duplicates} duplicates`,
  );
  return { load, figures };
}

/**
 * A target's phases. With `beside` (the second forwarder), the forwarder's throughput phase runs just
 * before and just after the target's, the target idle meanwhile, so its ratio is to a forwarder
 * measured on the machine as it was then.
 */
async function runPhases(target: Target, sinkUrl: string, throughputOnly = false, beside?: Target): Promise<Phases> {
  const scored: { load: LoadResult; figures: PhaseFigures }[] = [];
  const phase = async (kind: PhaseKind, connections: number, seconds: number, rate?: number, stagger = 1) => {
    const m = await measure(target, sinkUrl, kind, connections, seconds, rate, stagger);
    if (kind !== 'warmup') scored.push(m);
    return m.figures;
  };
  const forwarderBeside = async () => (await measure(beside!, sinkUrl, 'forwarder beside', cfg.connections, cfg.seconds)).figures;
  if (cfg.warmupSeconds > 0) await phase('warmup', Math.min(10, cfg.connections), cfg.warmupSeconds);
  const before = beside ? await forwarderBeside() : undefined;
  const throughput = await phase('throughput', cfg.connections, cfg.seconds);
  const after = beside ? await forwarderBeside() : undefined;
  const besideFigures = before && after ? { beside: { before, after } } : {};
  if (throughputOnly) {
    await recount(sinkUrl, scored);
    return { throughput, ...besideFigures };
  }
  const rate = cfg.rateSeconds > 0 ? await phase('rate', cfg.rateConnections, cfg.rateSeconds, cfg.rate) : undefined;
  const rateSmooth =
    cfg.rateSeconds > 0 && cfg.smoothInstances > 1
      ? await phase('rate-smooth', cfg.rateConnections, cfg.rateSeconds, cfg.rate, cfg.smoothInstances)
      : undefined;
  await recount(sinkUrl, scored);
  return { throughput, rate, rateSmooth, ...besideFigures };
}

/** Counts lost and duplicate events of every phase again at the end, after waiting (bounded) for stragglers. */
async function recount(sinkUrl: string, scored: { load: LoadResult; figures: PhaseFigures }[]): Promise<void> {
  const missing = async () => {
    let n = 0;
    for (const { load } of scored) n += missingAcked(load, await sinkRecords(sinkUrl, load.firstSeq, load.endSeq));
    return n;
  };
  let stillMissing = await missing();
  if (stillMissing > 0) {
    say(`  ${stillMissing} acked events not delivered yet; waiting up to ${cfg.finalWaitMs / 1000}s for stragglers`);
    const deadline = Date.now() + cfg.finalWaitMs;
    while (stillMissing > 0 && Date.now() < deadline) {
      await sleep(1000);
      stillMissing = await missing();
    }
    if (stillMissing === 0) await sleep(cfg.drainSettleMs); // late duplicates
  }
  for (const { load, figures } of scored) {
    const again = score(load, await sinkRecords(sinkUrl, load.firstSeq, load.endSeq), figures.drain, {
      connections: figures.connections,
      targetRate: figures.targetRate,
      phase: figures.phase,
    });
    figures.lostAtEnd = again.lost;
    figures.duplicatesAtEnd = again.duplicates;
    if (again.lost !== figures.lost || again.duplicates !== figures.duplicates) {
      say(
        `  ${figures.phase}: at the end of the scenario ${again.lost} lost (${figures.lost} at its drain), ${again.duplicates} duplicates (${figures.duplicates} at its drain)`,
      );
    }
  }
}

function hubConfigYaml(o: { hmacSecret: string; sinkUrl: string; whsec: string }): string {
  const q = (s: string) => JSON.stringify(s); // a JSON string is a valid YAML scalar
  return [
    '# written by bench/run.ts',
    'version: 1',
    'hooks:',
    '  - id: bench',
    '    name: Benchmark events',
    '    verify:',
    '      type: hmac',
    '      header: X-Signature',
    `      secret: ${q(o.hmacSecret)}`,
    '      encoding: hex',
    'flows:',
    '  - id: bench-to-sink',
    '    name: Every benchmark event goes to the sink',
    '    when:',
    '      event: catch_hook.received',
    '      source: bench',
    '    then:',
    '      - action: http.post',
    '        input:',
    `          url: ${q(o.sinkUrl)}`,
    `          secret: ${q(o.whsec)}`,
    `          body: '{ "seq": {{ data.seq }}, "sentAt": {{ data.sentAt }} }'`,
    '',
  ].join('\n');
}

async function withChild<T>(
  proc: Child,
  fn: (mem: ReturnType<typeof sampleMemory>) => Promise<T>,
): Promise<{ value: T; memory: MemoryPeaks; shutdown: ScenarioResult['shutdown'] }> {
  const mem = sampleMemory(proc.pid, 500);
  let value: T;
  try {
    value = await fn(mem);
  } catch (err) {
    mem.stop();
    await proc.stop(10_000);
    throw err;
  }
  const memory = mem.stop();
  const t0 = Date.now();
  const exit = await proc.stop(30_000);
  return { value, memory, shutdown: { ms: Date.now() - t0, code: exit.code, signal: exit.signal, forced: exit.forced } };
}

/** A bare forwarder (bench/baseline-forwarder.ts) in its own process, answering. */
async function startForwarder(name: string, sinkUrl: string): Promise<Target> {
  const hmacSecret = crypto.randomBytes(24).toString('hex');
  const port = await freePort();
  const proc = spawnChild(name, ['--import', 'tsx', 'bench/baseline-forwarder.ts'], {
    PORT: String(port),
    SINK_URL: `${sinkUrl}/deliveries`,
    HOOK_SECRET: hmacSecret,
  });
  const url = await waitForOutput(proc, /baseline listening on (http:\/\/\S+)/, 30_000).catch(async (err) => {
    await proc.stop(5000);
    throw err;
  });
  await waitForHttp200(`${url}/healthz`, 10_000, proc);
  return { url, path: '/hooks/catch/bench', hmacSecret, proc };
}

async function runBaseline(sinkUrl: string): Promise<ScenarioResult> {
  const t0 = Date.now();
  const target = await startForwarder('baseline', sinkUrl);
  const startupMs = Date.now() - t0;
  const { value, memory, shutdown } = await withChild(target.proc, () => runPhases(target, sinkUrl));
  const proc = target.proc;
  return {
    name: 'baseline',
    description: 'express 5 forwarder: verify HMAC, fetch to the sink, answer 200 (stores nothing)',
    ...value,
    memory,
    startupMs,
    shutdown,
    logLines: proc.logLines(),
    cpu: NO_CPU,
  };
}

async function runHub(name: HubName, sinkUrl: string, beside?: Target): Promise<ScenarioResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dingbridge-bench-'));
  fs.chmodSync(dir, 0o755); // as root the embedded PostgreSQL runs as `postgres`, which must reach it
  const hmacSecret = crypto.randomBytes(24).toString('hex');
  const whsec = `whsec_${crypto.randomBytes(32).toString('base64')}`;
  const configFile = path.join(dir, 'bench.yaml');
  fs.writeFileSync(configFile, hubConfigYaml({ hmacSecret, sinkUrl: `${sinkUrl}/deliveries`, whsec }));
  const prefix = `bench_${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
  const port = await freePort();
  const env: Record<string, string> = {};
  // DINGBRIDGE_* tuning from the caller's environment (e.g. DINGBRIDGE_WORKER_CONCURRENCY) is passed on.
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('DINGBRIDGE_') && v) env[k] = v;
  Object.assign(env, {
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DINGBRIDGE_DATA_DIR: dir,
    DINGBRIDGE_CONFIG: configFile,
    DINGBRIDGE_QUEUE_PREFIX: prefix,
    // The sink listens on loopback, which the SSRF guard refuses unless allowed.
    DINGBRIDGE_EGRESS_ALLOW: process.env.DINGBRIDGE_EGRESS_ALLOW || '127.0.0.1',
  });

  let dropDatabase: (() => Promise<void>) | undefined;
  let redisCleanup: (() => Promise<void>) | undefined;
  try {
    if (name.startsWith('hub-redis')) {
      const db = await createDatabase(cfg.adminDatabaseUrl);
      dropDatabase = db.drop;
      env.DATABASE_URL = db.url;
      env.REDIS_URL = cfg.redisUrl;
      redisCleanup = () => deleteRedisKeys(cfg.redisUrl, prefix);
    }
    const t0 = Date.now();
    // The production flags, then the caller's (e.g. --cpu-prof; a later V8 flag overrides an earlier one).
    const nodeArgs = [...PRODUCTION_NODE_ARGS, ...(process.env.BENCH_HUB_NODE_ARGS ?? '').split(' ').filter(Boolean)];
    const nWorkers = workersOf(name);
    const proc = spawnChild(name, [...nodeArgs, HUB_ENTRY, 'serve', ...(nWorkers ? ['--no-worker'] : [])], env);
    const workerProcs = Array.from({ length: nWorkers }, (_, i) =>
      spawnChild(`${name}-worker${i + 1}`, [...nodeArgs, HUB_ENTRY, 'worker'], { ...env, PORT: '0' }),
    );
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp200(`${url}/readyz`, 90_000, proc).catch(async (err) => {
      await proc.stop(10_000);
      throw err;
    });
    const startupMs = Date.now() - t0;
    say(`  ${name} ready in ${(startupMs / 1000).toFixed(1)}s (pid ${proc.pid})`);
    const { value, memory, shutdown } = await withChild(proc, () =>
      runPhases({ url, path: '/hooks/catch/bench', hmacSecret, proc }, sinkUrl, nWorkers > 0, beside),
    ).finally(() => Promise.allSettled(workerProcs.map((w) => w.stop(10_000))));
    if (shutdown.code !== 0)
      say(`  ${name} exited with ${shutdown.code ?? shutdown.signal}${shutdown.forced ? ' (killed after 30 s)' : ''}:\n${proc.tail()}`);
    const description =
      name === 'hub-postgres'
        ? 'dingbridge serve: embedded PostgreSQL store, step rows as the queue (the default)'
        : nWorkers
          ? `dingbridge serve --no-worker + ${nWorkers} worker process(es): external PostgreSQL, BullMQ on Redis`
          : 'dingbridge serve: external PostgreSQL 15 store (DATABASE_URL), BullMQ on Redis (REDIS_URL)';
    return { name, description, ...value, memory, startupMs, shutdown, logLines: proc.logLines(), cpu: NO_CPU };
  } finally {
    await redisCleanup?.().catch((err) => say(`  could not delete Redis keys ${prefix}:*: ${(err as Error).message}`));
    await dropDatabase?.().catch((err) => say(`  could not drop the bench database: ${(err as Error).message}`));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function createDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `bench_${crypto.randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {});
  await redis.connect();
  try {
    let cursor = '0';
    for (let i = 0; i < 10_000; i += 1) {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = nextCursor;
      if (cursor === '0') break;
    }
  } finally {
    redis.disconnect();
  }
}

async function reachable(url: string): Promise<boolean> {
  try {
    if (url.startsWith('redis')) {
      const r = new Redis(url, { maxRetriesPerRequest: 0, lazyConnect: true, connectTimeout: 2000, retryStrategy: () => null });
      r.on('error', () => {});
      await r.connect();
      await r.ping();
      r.disconnect();
      return true;
    }
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Report

/** The count at the end of the scenario, with the count at the phase's own drain when it differed. */
const atEnd = (end: number | null, atDrain: number) => (end === null || end === atDrain ? String(atDrain) : `${end} (${atDrain} at drain)`);
const phasesOf = (r: ScenarioResult): PhaseFigures[] =>
  [r.throughput, r.rate, r.rateSmooth].filter((p): p is PhaseFigures => p !== undefined);

const fmt = (v: number | null | undefined, digits = 0) => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits));

function table(results: ScenarioResult[], sinkRssMiB: number): string {
  const head = [
    'scenario',
    'phase',
    'conns',
    'target/s',
    'delivered/s',
    'acked 2xx/s',
    'ack p50',
    'ack p99',
    'e2e p50',
    'e2e p99',
    'acked',
    'lost',
    'dups',
    'non-2xx',
    'errors',
    'drain',
  ];
  const rows: string[][] = [];
  for (const r of results) {
    for (const p of [r.throughput, r.rate, r.rateSmooth]) {
      if (!p) continue;
      rows.push([
        r.name,
        p.phase,
        String(p.connections),
        fmt(p.targetRate),
        fmt(p.deliveredPerSecond, 1),
        fmt(p.inboundPerSecond, 1),
        `${fmt(p.ackP50Ms)} ms${p.latencySource === 'own clock' ? '*' : ''}`,
        `${fmt(p.ackP99Ms)} ms${p.latencySource === 'own clock' ? '*' : ''}`,
        `${fmt(p.e2eP50Ms)} ms`,
        `${fmt(p.e2eP99Ms)} ms`,
        String(p.acked2xx),
        atEnd(p.lostAtEnd, p.lost),
        atEnd(p.duplicatesAtEnd, p.duplicates),
        String(p.non2xx),
        String(p.errors),
        `${p.drain.reason} ${fmt(p.drain.waitedMs / 1000, 1)}s`,
      ]);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const mem = results.map(
    (r) =>
      `  ${r.name.padEnd(13)} process ${fmt(r.memory.selfRssMiB, 1)} MiB RSS; children ${fmt(r.memory.childrenRssMiB, 1)} MiB RSS / ${fmt(r.memory.childrenPssMiB, 1)} MiB PSS (${r.memory.childCount} processes${r.memory.childNames.length ? `: ${r.memory.childNames.join(', ')}` : ''}); total ${fmt(r.memory.totalRssMiB, 1)} MiB RSS`,
  );
  const notes = [
    'delivered/s (the headline): distinct events reaching the sink per second, from the first send to the last delivery; acked 2xx/s: 2xx answers per second of load.',
    'e2e: sink arrival − sentAt (set when the request is built). rate: one autocannon, overallRate; rate-smooth: the same rate from staggered instances.',
    'lost, dups: counted at the end of the scenario; "(n at drain)" when the phase\'s own drain saw another count (late deliveries).',
    "* ack latency from our own clock (request written → answer parsed): staggered instances' histograms cannot be merged.",
  ];
  const cpu = results.map(
    (r) =>
      `  ${r.name.padEnd(13)} machine ${fmt(r.cpu.machineBusyPct, 1)}% busy: this benchmark ${fmt(r.cpu.benchPct, 1)}%, other processes ${fmt(r.cpu.otherPct, 1)}% (load average ${fmt(r.cpu.loadAvg1, 2)} at the end)`,
  );
  return [
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    ...notes,
    '',
    'peak memory (sampled every 0.5 s from /proc):',
    ...mem,
    `  ${'sink'.padEnd(13)} process ${fmt(sinkRssMiB, 1)} MiB RSS`,
    '',
    'CPU over each scenario (all cores = 100%):',
    ...cpu,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
  let commit: string | null = null;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    /* not a clone */
  }
  say(`machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}`);
  say(`settings: ${JSON.stringify({ ...cfg, adminDatabaseUrl: undefined })}`);

  if (HUB_ENTRY.startsWith('dist/') && process.env.BENCH_NO_BUILD !== '1') {
    say('compiling the hub to JavaScript (npm run build:dist; BENCH_NO_BUILD=1 skips it)');
    execFileSync(process.execPath, ['bin/build-dist.js'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const sink = spawnChild('sink', ['--import', 'tsx', 'bench/sink-server.ts'], {});
  const results: ScenarioResult[] = [];
  const skipped: Record<string, string> = {};
  const failed: Record<string, string> = {};
  try {
    const sinkUrl = await waitForOutput(sink, /sink listening on (http:\/\/\S+)/, 30_000);
    say(`sink at ${sinkUrl} (pid ${sink.pid})`);
    const sinkMem = sampleMemory(sink.pid, 1000);
    // The forwarder measured beside each hub: started and warmed once, idle between its phases.
    let beside: Target | undefined;
    if (cfg.beside && cfg.only.some((n) => n.startsWith('hub-'))) {
      beside = await startForwarder('forwarder-beside', sinkUrl);
      if (cfg.warmupSeconds > 0) await measure(beside, sinkUrl, 'warmup', Math.min(10, cfg.connections), cfg.warmupSeconds);
    }

    for (const name of ALL_SCENARIOS) {
      if (!cfg.only.includes(name)) {
        skipped[name] = 'not in BENCH_ONLY';
        continue;
      }
      if (name.startsWith('hub-redis')) {
        const [pgOk, redisOk] = await Promise.all([reachable(cfg.adminDatabaseUrl), reachable(cfg.redisUrl)]);
        if (!pgOk || !redisOk) {
          skipped[name] = `${!pgOk ? 'PostgreSQL' : ''}${!pgOk && !redisOk ? ' and ' : ''}${!redisOk ? 'Redis' : ''} not reachable`;
          say(`skipping ${name}: ${skipped[name]}`);
          continue;
        }
      }
      say(`scenario ${name}`);
      if (cfg.waitIdleSeconds > 0) {
        const idle = await waitForIdle(cfg.waitIdleSeconds * 1000, 25);
        say(
          `  machine ${idle.busyPct}% busy after waiting ${(idle.waitedMs / 1000).toFixed(0)}s for it to be idle${idle.idle ? '' : ' (gave up: the figures below are skewed by other load)'}`,
        );
      }
      const cpu = watchCpu(1000);
      try {
        const r = name === 'baseline' ? await runBaseline(sinkUrl) : await runHub(name, sinkUrl, beside);
        r.cpu = cpu.stop();
        say(
          `  cpu over the scenario: machine ${r.cpu.machineBusyPct}% busy, bench ${r.cpu.benchPct}%, other processes ${r.cpu.otherPct}% (load average ${r.cpu.loadAvg1})`,
        );
        results.push(r);
      } catch (err) {
        cpu.stop();
        failed[name] = (err as Error).message;
        say(`scenario ${name} FAILED: ${(err as Error).message}`);
      }
      await sleep(1000); // let the machine settle between scenarios
    }
    await beside?.proc.stop(5000);
    const sinkPeak = sinkMem.stop();

    let kpis: KpiBenchResult | null = null;
    if (!cfg.only.includes('kpis')) skipped.kpis = 'not in BENCH_ONLY';
    else if (!(await reachable(cfg.adminDatabaseUrl))) skipped.kpis = 'PostgreSQL not reachable';
    else {
      say(`scenario kpis: ${cfg.kpiEvents.toLocaleString('en')} events`);
      try {
        kpis = await runKpiBench(cfg.adminDatabaseUrl, { events: cfg.kpiEvents, repeats: cfg.kpiRepeats, say });
      } catch (err) {
        failed.kpis = (err as Error).message;
        say(`scenario kpis FAILED: ${(err as Error).message}`);
      }
    }

    const byName = Object.fromEntries(results.map((r) => [r.name, r])) as Partial<Record<ScenarioName, ScenarioResult>>;
    type Rate = 'inboundPerSecond' | 'deliveredPerSecond';
    /** The forwarder's rate for a hub's ratio: the mean of its phases beside the hub, else its own scenario's. */
    const forwarderRate = (n: ScenarioName, key: Rate, besideIt = true): number | undefined => {
      const b = byName[n]?.beside;
      if (besideIt && b) return (b.before[key] + b.after[key]) / 2;
      return byName.baseline?.throughput[key];
    };
    const ratioOf = (n: ScenarioName, key: Rate, besideIt = true) => {
      const v = byName[n]?.throughput[key];
      const base = forwarderRate(n, key, besideIt);
      return base && v !== undefined ? Math.round((v / base) * 1000) / 1000 : null;
    };
    const ratio = (n: ScenarioName) => ratioOf(n, 'inboundPerSecond');
    const ratios = { 'hub-postgres/baseline': ratio('hub-postgres'), 'hub-redis/baseline': ratio('hub-redis') };
    const deliveredRatio = (n: ScenarioName) => ratioOf(n, 'deliveredPerSecond');
    /** Sustained delivery (events reaching the sink per second): the headline. */
    const deliveredRatios = { 'hub-postgres/baseline': deliveredRatio('hub-postgres'), 'hub-redis/baseline': deliveredRatio('hub-redis') };
    /** The same against the forwarder's own scenario (run once, first): shows what the drift does. */
    const deliveredRatiosToFirstForwarder = {
      'hub-postgres/baseline': ratioOf('hub-postgres', 'deliveredPerSecond', false),
      'hub-redis/baseline': ratioOf('hub-redis', 'deliveredPerSecond', false),
    };
    const hubs = results.filter((r) => r.name !== 'baseline');
    // The scale-out scenarios run the throughput phase only: the rate targets are the two hubs'.
    const atRate = hubs.filter((r) => workersOf(r.name) === 0);
    const targets = {
      /** The headline targets: delivered/s ÷ the forwarder's delivered/s, same run. */
      deliveredDefaultAtLeastQuarter:
        deliveredRatios['hub-postgres/baseline'] === null ? null : deliveredRatios['hub-postgres/baseline'] >= 0.25,
      deliveredRedisAtLeastHalf: deliveredRatios['hub-redis/baseline'] === null ? null : deliveredRatios['hub-redis/baseline'] >= 0.5,
      hubRssWithin250MiB: hubs.length ? hubs.every((r) => r.memory.selfRssMiB <= 250) : null,
      noneLost: results.length === 0 ? null : results.every((r) => phasesOf(r).every((p) => (p.lostAtEnd ?? p.lost) === 0)),
      noDuplicates: results.length === 0 ? null : results.every((r) => phasesOf(r).every((p) => (p.duplicatesAtEnd ?? p.duplicates) === 0)),
      /** The target as specified: one autocannon, overallRate BENCH_RATE, its latency histogram. */
      ackP99AtRateWithin50ms: atRate.length ? atRate.every((r) => r.rate !== undefined && r.rate.ackP99Ms <= 50) : null,
      /** The same rate split into BENCH_SMOOTH_INSTANCES smaller bursts (informational). */
      ackP99AtSmoothRateWithin50ms:
        atRate.length && cfg.smoothInstances > 1 ? atRate.every((r) => r.rateSmooth !== undefined && r.rateSmooth.ackP99Ms <= 50) : null,
    };

    process.stdout.write(`\n${table(results, sinkPeak.selfRssMiB)}\n\n`);
    process.stdout.write(
      `DELIVERED/s ÷ forwarder (throughput phase, end to end): default (hub-postgres) = ${fmt(deliveredRatios['hub-postgres/baseline'], 3)} (target 0.25), Redis = ${fmt(deliveredRatios['hub-redis/baseline'], 3)} (target 0.5)\n`,
    );
    for (const r of hubs) {
      if (!r.beside) continue;
      process.stdout.write(
        `  forwarder beside ${r.name}: ${fmt(r.beside.before.deliveredPerSecond, 1)}/s before, ${fmt(r.beside.after.deliveredPerSecond, 1)}/s after its throughput phase (the ratio's denominator: their mean); ${r.name} ÷ the forwarder's own scenario: ${fmt(ratioOf(r.name, 'deliveredPerSecond', false), 3)}\n`,
      );
    }
    const scale = (['hub-redis-w1', 'hub-redis-w2', 'hub-redis-w3'] as const).filter((n) => byName[n]);
    if (scale.length)
      process.stdout.write(
        `scale-out (serve --no-worker + N workers, Redis mode), delivered/s: ${scale.map((n) => `${workersOf(n)} worker(s) ${fmt(byName[n]!.throughput.deliveredPerSecond, 1)} (${fmt(deliveredRatio(n), 3)}×)`).join(', ')}\n`,
      );
    process.stdout.write(
      `acked/s ÷ forwarder (throughput phase): hub-postgres = ${fmt(ratios['hub-postgres/baseline'], 3)}, hub-redis = ${fmt(ratios['hub-redis/baseline'], 3)}\n`,
    );
    for (const r of results) {
      const t = r.throughput;
      process.stdout.write(
        `  ${r.name.padEnd(13)} ready in ${fmt(r.startupMs / 1000, 1)} s; backlog order: ${t.overtakenOver1s} events overtaken by > 1 s (max ${fmt(t.maxOvertakenMs)} ms)\n`,
      );
    }
    process.stdout.write(
      `targets: ${Object.entries(targets)
        .map(([k, v]) => `${k}=${v === null ? 'n/a' : v ? 'met' : 'MISSED'}`)
        .join(', ')}\n`,
    );
    for (const r of results) {
      for (const p of [r.throughput, r.rate, r.rateSmooth]) {
        if (p && p.drain.reason === 'timeout' && (p.lostAtEnd ?? p.lost) > 0)
          process.stdout.write(
            `note: ${r.name} ${p.phase}: the drain stopped at BENCH_DRAIN_MAX_S with ${p.lost} acked events not yet delivered; they count as lost here (raise BENCH_DRAIN_MAX_S to tell late from lost)\n`,
          );
      }
    }
    if (kpis)
      process.stdout.write(
        `kpis: a month's KPIs over ${kpis.events.toLocaleString('en')} stored events answered in ${kpis.monthQueryMs.median} ms (median of ${kpis.monthQueryMs.runs}; p95 ${kpis.monthQueryMs.p95} ms, max ${kpis.monthQueryMs.max} ms; 12 months ${kpis.yearQueryMs.median} ms) — target < 200 ms ${kpis.target200msMet ? 'met' : 'MISSED'}; seeded in ${(kpis.seedMs / 1000).toFixed(1)} s, ${kpis.days} days rolled up in ${(kpis.rollupMs / 1000).toFixed(1)} s (${kpis.rollupPerDayMs} ms a day); files ${kpis.filesCheck.api} = direct count ${kpis.filesCheck.direct}: ${kpis.filesCheck.ok ? 'ok' : 'MISMATCH'}\n`,
      );
    for (const [k, v] of Object.entries(skipped)) process.stdout.write(`skipped ${k}: ${v}\n`);
    for (const [k, v] of Object.entries(failed)) process.stdout.write(`FAILED ${k}: ${v.split('\n')[0]}\n`);

    const summary = {
      bench: 'dingbridge',
      date: new Date().toISOString(),
      totalSeconds: Math.round((Date.now() - started) / 1000),
      commit,
      machine,
      settings: { ...cfg, adminDatabaseUrl: undefined, redisUrl: undefined },
      scenarios: Object.fromEntries(
        results.map((r) => [
          r.name,
          {
            description: r.description,
            throughput: r.throughput,
            rate: r.rate ?? null,
            rateSmooth: r.rateSmooth ?? null,
            memory: r.memory,
            startupMs: r.startupMs,
            shutdown: r.shutdown,
            logLines: r.logLines,
            cpu: r.cpu,
            forwarderBeside: r.beside ?? null,
          },
        ]),
      ),
      sinkRssMiB: sinkPeak.selfRssMiB,
      ratios,
      deliveredRatios,
      deliveredRatiosToFirstForwarder,
      targets,
      kpis,
      skipped,
      failed,
    };
    const out = process.env.BENCH_OUT;
    if (out) fs.writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (Object.keys(failed).length) process.exitCode = 1;
  } finally {
    await sink.stop(5000);
  }
}

const hardStop = setTimeout(
  () => {
    say('giving up after BENCH_HARD_TIMEOUT_S');
    killLiveChildren();
    process.exit(3);
  },
  num('BENCH_HARD_TIMEOUT_S', 1800 + 6 * cfg.waitIdleSeconds + (cfg.only.includes('kpis') ? 300 : 0)) * 1000,
);
hardStop.unref();

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
