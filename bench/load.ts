/** The load: autocannon with a unique, HMAC-signed JSON body per request, recording which seq got which answer. */
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  path: string;
  hmacSecret: string;
  connections: number;
  durationSeconds: number;
  /** Requests per second over all connections; unset = as fast as the target answers. */
  overallRate?: number;
  /** First seq of this phase; seqs run upwards from it. */
  firstSeq: number;
  /** With a rate: run this many autocannon instances, each with its share of rate and connections, started 1/stagger s apart. */
  stagger?: number;
}

export interface LoadResult {
  firstSeq: number;
  /** Date.now() when the load started. */
  startedAt: number;
  /** One past the last seq handed out (some of them may never have been answered). */
  endSeq: number;
  durationSeconds: number;
  /** seq → HTTP status, for each answered request. */
  answers: Map<number, number>;
  ok2xx: number;
  non2xx: number;
  /** Connection errors and timeouts (autocannon's `errors`, timeouts included). */
  errors: number;
  timeouts: number;
  /** Where `latency` comes from: autocannon's histogram (one instance), or our own clock (staggered instances). */
  latencySource: 'autocannon' | 'own clock';
  /** Ack latency (ms): autocannon's histogram, 2xx answers only — or our own clock when staggered. */
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** The same from our own clock (setupRequest → onResponse, every answer), as a cross-check. */
  ownLatency: { p50: number; p99: number; max: number };
  /** Requests sent per second, autocannon's count. */
  sentPerSecond: number;
  /** Autocannon instances used (1 unless staggered). */
  stagger: number;
}

interface SeqContext {
  seq?: number;
  t0?: number;
}

const NAMES = ['Acme Ltd', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark Industries', 'Wayne Enterprises', 'Tyrell'];

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  let next = o.firstSeq;
  const answers = new Map<number, number>();
  const own: number[] = [];
  const startedAt = Date.now();

  const requests: autocannon.Request[] = [
    {
      method: 'POST',
      path: o.path,
      setupRequest: (req, context) => {
        const ctx = context as SeqContext;
        const seq = next++;
        const sentAt = Date.now();
        const body = JSON.stringify({ seq, sentAt, name: NAMES[seq % NAMES.length], amount: 100 + (seq % 9_900) });
        const signature = crypto.createHmac('sha256', o.hmacSecret).update(body).digest('hex');
        ctx.seq = seq;
        ctx.t0 = performance.now();
        return { ...req, body, headers: { 'content-type': 'application/json', 'x-signature': signature } };
      },
      onResponse: (status, _body, context) => {
        const ctx = context as SeqContext;
        if (ctx.seq === undefined) return;
        answers.set(ctx.seq, status);
        if (ctx.t0 !== undefined) own.push(performance.now() - ctx.t0);
        ctx.seq = undefined;
      },
    },
  ];
  const launch = (connections: number, overallRate?: number) =>
    autocannon({
      url: o.url,
      connections,
      pipelining: 1,
      duration: o.durationSeconds,
      timeout: 10,
      // With a rate, autocannon "corrects" for coordinated omission using an expected interval of
      // ceil(1 / per-connection rate) = 1 ms, which fills the histogram with made-up low values: turned
      // off, so each request is measured from the moment it is written.
      ...(overallRate ? { overallRate, ignoreCoordinatedOmission: true } : {}),
      requests,
    });

  // autocannon releases each connection's quota for the second at one tick, so a rate arrives as one
  // burst per second. `stagger` instances, started 1/stagger s apart, split it into smaller bursts.
  const stagger = o.overallRate ? Math.max(1, Math.min(Math.floor(o.stagger ?? 1), o.overallRate, o.connections)) : 1;
  let results: autocannon.Result[];
  if (stagger === 1) {
    results = [await launch(o.connections, o.overallRate)];
  } else {
    const pending: Promise<autocannon.Result>[] = [];
    for (let i = 0; i < stagger; i += 1) {
      const rate = Math.floor(o.overallRate! / stagger) + (i < o.overallRate! % stagger ? 1 : 0);
      const conns = Math.floor(o.connections / stagger) + (i < o.connections % stagger ? 1 : 0);
      if (i > 0) await new Promise((r) => setTimeout(r, 1000 / stagger));
      pending.push(launch(conns, rate));
    }
    results = await Promise.all(pending);
  }

  own.sort((a, b) => a - b);
  let ok2xx = 0;
  for (const status of answers.values()) if (status >= 200 && status < 300) ok2xx += 1;
  const round = (v: number) => Math.round(v * 100) / 100;
  const duration = results.reduce((sum, r) => sum + r.duration, 0) / results.length;
  const sent = results.reduce((sum, r) => sum + r.requests.sent, 0);
  const ownLatency = { p50: round(percentile(own, 50)), p99: round(percentile(own, 99)), max: round(own[own.length - 1] ?? NaN) };
  const only = results.length === 1 ? results[0]! : undefined;
  return {
    firstSeq: o.firstSeq,
    startedAt,
    endSeq: next,
    durationSeconds: duration,
    answers,
    ok2xx,
    non2xx: answers.size - ok2xx,
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    timeouts: results.reduce((sum, r) => sum + r.timeouts, 0),
    // Several instances' histograms cannot be merged from their summaries: then our own clock is used.
    latencySource: only ? 'autocannon' : 'own clock',
    latency: only
      ? { p50: only.latency.p50, p90: only.latency.p90, p99: only.latency.p99, max: only.latency.max, mean: round(only.latency.mean) }
      : {
          p50: ownLatency.p50,
          p90: round(percentile(own, 90)),
          p99: ownLatency.p99,
          max: ownLatency.max,
          mean: round(own.reduce((a, b) => a + b, 0) / (own.length || 1)),
        },
    ownLatency,
    sentPerSecond: round(sent / duration),
    stagger,
  };
}
