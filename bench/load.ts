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
  /** Autocannon's latency histogram (ms) — 2xx answers only. */
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** The same from our own clock (setupRequest → onResponse, every answer), as a cross-check. */
  ownLatency: { p50: number; p99: number; max: number };
  /** Requests sent per second, autocannon's count. */
  sentPerSecond: number;
}

interface SeqContext { seq?: number; t0?: number }

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

  const instance = autocannon({
    url: o.url,
    connections: o.connections,
    pipelining: 1,
    duration: o.durationSeconds,
    timeout: 10,
    // With a rate, autocannon "corrects" for coordinated omission using an expected interval of
    // ceil(1 / per-connection rate) = 1 ms, which fills the histogram with made-up low values: turned
    // off, so each request is measured from the moment it is written.
    ...(o.overallRate ? { overallRate: o.overallRate, ignoreCoordinatedOmission: true } : {}),
    requests: [{
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
    }],
  });

  const result = await instance;
  own.sort((a, b) => a - b);
  let ok2xx = 0;
  for (const status of answers.values()) if (status >= 200 && status < 300) ok2xx += 1;
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    firstSeq: o.firstSeq,
    startedAt,
    endSeq: next,
    durationSeconds: result.duration,
    answers,
    ok2xx,
    non2xx: answers.size - ok2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latency: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: round(result.latency.mean) },
    ownLatency: { p50: round(percentile(own, 50)), p99: round(percentile(own, 99)), max: round(own[own.length - 1] ?? NaN) },
    sentPerSecond: round(result.requests.sent / result.duration),
  };
}
