/** Talking to the sink process: waiting for a phase's deliveries to drain, and scoring a phase. */
import { percentile, type LoadResult } from './load.ts';
import { sleep } from './procs.ts';

export type Delivery = [seq: number, sentAt: number, arrivalAt: number];

interface SinkStats {
  total: number;
  distinct: number;
  inRange: number;
  lastArrivalAt: number;
  unparsable: number;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return (await res.json()) as T;
}

export const sinkStats = (sinkUrl: string, from: number, to: number) => getJson<SinkStats>(`${sinkUrl}/__stats?from=${from}&to=${to}`);
export const sinkRecords = (sinkUrl: string, from: number, to: number) => getJson<Delivery[]>(`${sinkUrl}/__records?from=${from}&to=${to}`);

export interface DrainResult {
  /** complete: every acked event arrived and nothing more came for settleMs; quiet: nothing new for quietMs; timeout: maxMs passed. */
  reason: 'complete' | 'quiet' | 'timeout';
  waitedMs: number;
}

/**
 * Waits until the phase's deliveries stop arriving: done when at least `expected` distinct seqs of
 * [from, to) arrived and nothing at all arrived for `settleMs` (so late duplicates still show), or
 * when nothing arrived for `quietMs`, or after `maxMs`.
 */
export async function drain(
  sinkUrl: string,
  from: number,
  to: number,
  expected: number,
  o: { settleMs: number; quietMs: number; maxMs: number },
): Promise<DrainResult> {
  const start = Date.now();
  let lastTotal = -1;
  let lastChange = Date.now();
  for (let i = 0; i < 100_000; i += 1) {
    const s = await sinkStats(sinkUrl, from, to);
    const now = Date.now();
    if (s.total !== lastTotal) {
      lastTotal = s.total;
      lastChange = now;
    }
    const still = now - lastChange;
    if (s.inRange >= expected && still >= o.settleMs) return { reason: 'complete', waitedMs: now - start };
    if (still >= o.quietMs) return { reason: 'quiet', waitedMs: now - start };
    if (now - start >= o.maxMs) return { reason: 'timeout', waitedMs: now - start };
    await sleep(250);
  }
  return { reason: 'timeout', waitedMs: Date.now() - start };
}

export interface PhaseFigures {
  phase: 'throughput' | 'rate' | 'rate-smooth';
  /** Autocannon instances (a smooth rate phase staggers several). */
  instances: number;
  latencySource: 'autocannon' | 'own clock';
  connections: number;
  /** The requested rate (events/s), for a fixed-rate phase. */
  targetRate: number | null;
  durationSeconds: number;
  sentPerSecond: number;
  /** 2xx acks per second of the phase. */
  inboundPerSecond: number;
  acked2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  ackP50Ms: number;
  ackP90Ms: number;
  ackP99Ms: number;
  ackMaxMs: number;
  /** Our own clock's ack latency (every answer), as a cross-check of autocannon's. */
  ackOwnP50Ms: number;
  ackOwnP99Ms: number;
  e2eP50Ms: number;
  e2eP99Ms: number;
  e2eMaxMs: number;
  delivered: number;
  /**
   * Sustained delivery rate: distinct events delivered ÷ seconds from the start of the load to the
   * last delivery. Below inboundPerSecond when the hub acks faster than it delivers (a backlog builds).
   */
  deliveredPerSecond: number;
  /** Acked 2xx but never delivered to the sink (within the drain). */
  lost: number;
  /** Deliveries beyond the first for one seq. */
  duplicates: number;
  /**
   * The same two counted again at the end of the scenario (after the later phases and a final wait):
   * an event missing at the phase's drain that arrived later was late (e.g. re-enqueued by the
   * hub's sweep), not lost. Null until the recount.
   */
  lostAtEnd: number | null;
  duplicatesAtEnd: number | null;
  /** Delivered although the request was never answered (in flight when the load stopped). */
  deliveredUnacked: number;
  /**
   * Oldest first: events that reached the sink more than 1 s after an event sent later than them
   * (overtaken in the backlog), and the largest such lag. 0 when the backlog drains in order.
   */
  overtakenOver1s: number;
  maxOvertakenMs: number;
  drain: DrainResult;
}

export function score(
  load: LoadResult,
  records: Delivery[],
  drainResult: DrainResult,
  o: { connections: number; targetRate: number | null; phase: PhaseFigures['phase'] },
): PhaseFigures {
  const first = new Map<number, Delivery>();
  let duplicates = 0;
  for (const r of records) {
    if (first.has(r[0])) duplicates += 1;
    else first.set(r[0], r);
  }
  let lost = 0;
  const e2e: number[] = [];
  for (const [seq, status] of load.answers) {
    if (status < 200 || status >= 300) continue;
    const d = first.get(seq);
    if (!d) {
      lost += 1;
      continue;
    }
    e2e.push(d[2] - d[1]);
  }
  let deliveredUnacked = 0;
  for (const seq of first.keys()) {
    const status = load.answers.get(seq);
    if (status === undefined) deliveredUnacked += 1;
  }
  e2e.sort((a, b) => a - b);
  // Walk from the last sent back: how much later than the earliest arrival of anything sent after it did each arrive?
  const bySent = [...first.values()].sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  let earliestLater = Number.POSITIVE_INFINITY;
  let overtakenOver1s = 0;
  let maxOvertakenMs = 0;
  for (let i = bySent.length - 1; i >= 0; i--) {
    const d = bySent[i]!;
    const lag = d[2] - earliestLater;
    if (lag > 1000) overtakenOver1s += 1;
    if (lag > maxOvertakenMs) maxOvertakenMs = lag;
    earliestLater = Math.min(earliestLater, d[2]);
  }
  let lastArrival = load.startedAt;
  for (const d of first.values()) lastArrival = Math.max(lastArrival, d[2]);
  const round1 = (v: number) => Math.round(v * 10) / 10;
  return {
    phase: o.phase,
    instances: load.stagger,
    latencySource: load.latencySource,
    connections: o.connections,
    targetRate: o.targetRate,
    durationSeconds: round1(load.durationSeconds),
    sentPerSecond: round1(load.sentPerSecond),
    inboundPerSecond: round1(load.ok2xx / load.durationSeconds),
    acked2xx: load.ok2xx,
    non2xx: load.non2xx,
    errors: load.errors,
    timeouts: load.timeouts,
    ackP50Ms: load.latency.p50,
    ackP90Ms: load.latency.p90,
    ackP99Ms: load.latency.p99,
    ackMaxMs: load.latency.max,
    ackOwnP50Ms: round1(load.ownLatency.p50),
    ackOwnP99Ms: round1(load.ownLatency.p99),
    e2eP50Ms: percentile(e2e, 50),
    e2eP99Ms: percentile(e2e, 99),
    e2eMaxMs: e2e[e2e.length - 1] ?? NaN,
    delivered: first.size,
    deliveredPerSecond: lastArrival > load.startedAt ? round1(first.size / ((lastArrival - load.startedAt) / 1000)) : 0,
    lost,
    duplicates,
    lostAtEnd: null,
    duplicatesAtEnd: null,
    deliveredUnacked,
    overtakenOver1s,
    maxOvertakenMs,
    drain: drainResult,
  };
}

/** Acked 2xx seqs of a load that are not (yet) among the records. */
export function missingAcked(load: LoadResult, records: Delivery[]): number {
  const seen = new Set(records.map((r) => r[0]));
  let missing = 0;
  for (const [seq, status] of load.answers) if (status >= 200 && status < 300 && !seen.has(seq)) missing += 1;
  return missing;
}
