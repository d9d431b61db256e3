/**
 * `npm run bench:history`: does a large history slow intake? One hub (compiled, `npm run build:dist`
 * first) on its own embedded PostgreSQL (started here, on its own port); a throughput phase on the
 * empty store, then HISTORY_EVENTS events (default 1 000 000) and three step runs each are inserted
 * (generate_series, ANALYZE), then the same phase again. Prints acked/s and ack p99 of both.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { startEmbeddedPostgres } from '../core/db/embedded-postgres.ts';
import { runLoad } from './load.ts';
import { freePort, spawnChild, waitForHttp200 } from './procs.ts';

const EVENTS = Number(process.env.HISTORY_EVENTS || 1_000_000);
const SECONDS = Number(process.env.HISTORY_SECONDS || 10);
const say = (m: string) => process.stderr.write(`[history] ${m}\n`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dingbridge-history-'));
fs.chmodSync(dir, 0o755);
const db = await startEmbeddedPostgres(path.join(dir, 'pg'), pino({ level: 'warn' }, process.stderr));
const sink = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200).end('{}'));
});
await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
const sinkUrl = `http://127.0.0.1:${(sink.address() as { port: number }).port}/`;
const hmacSecret = crypto.randomBytes(16).toString('hex');
const q = JSON.stringify;
fs.writeFileSync(
  path.join(dir, 'config.yaml'),
  [
    'version: 1',
    'hooks:',
    `  - { id: bench, name: bench, verify: { type: hmac, header: X-Signature, secret: ${q(hmacSecret)}, encoding: hex } }`,
    'flows:',
    '  - id: bench-to-sink',
    '    name: bench',
    '    when: { event: catch_hook.received, source: bench }',
    '    then:',
    `      - { action: http.post, input: { url: ${q(sinkUrl)}, body: '{ "seq": {{ data.seq }} }' } }`,
    '',
  ].join('\n'),
);
const port = await freePort();
const hub = spawnChild('hub', ['dist/app/main.js', 'serve'], {
  PORT: String(port),
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  DATABASE_URL: db.connectionString,
  DINGBRIDGE_DATA_DIR: path.join(dir, 'data'),
  DINGBRIDGE_CONFIG: path.join(dir, 'config.yaml'),
  DINGBRIDGE_EGRESS_ALLOW: '127.0.0.1',
  DINGBRIDGE_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'),
});
const url = `http://127.0.0.1:${port}`;
try {
  await waitForHttp200(`${url}/readyz`, 120_000, hub);
  let seq = 1;
  const phase = async (label: string) => {
    const r = await runLoad({ url, path: '/hooks/catch/bench', hmacSecret, connections: 50, durationSeconds: SECONDS, firstSeq: seq });
    seq = r.endSeq;
    const perS = r.ok2xx / r.durationSeconds;
    say(`${label}: ${perS.toFixed(1)} acked/s, ack p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`);
    return { perS, p99: r.latency.p99 };
  };
  const empty = await phase('empty store');
  const c = new pg.Client({ connectionString: db.connectionString });
  await c.connect();
  const t0 = Date.now();
  for (let from = 0; from < EVENTS; from += 100_000) {
    const to = Math.min(EVENTS, from + 100_000) - 1;
    await c.query(
      `insert into events (id, type, source, occurred_at, received_at, data, status, flows_matched, dispatched_at)
       select 'hist_' || g, 'catch_hook.received', 'bench', now() - interval '20 days', now() - (g || ' seconds')::interval,
              jsonb_build_object('seq', g, 'name', 'history'), 'dispatched', 3, now() - interval '20 days'
         from generate_series($1::int, $2::int) g`,
      [from, to],
    );
    await c.query(
      `insert into step_runs (id, event_id, flow_id, step_index, action, status, attempts, max_attempts, output, created_at, updated_at, finished_at)
       select 'hist_' || g || '.f' || k || '.0', 'hist_' || g, 'history-' || k, 0, 'http.post', 'succeeded', 1, 8, '{"status":200}'::jsonb,
              now() - interval '20 days', now() - interval '20 days', now() - interval '20 days'
         from generate_series($1::int, $2::int) g, generate_series(1, 3) k`,
      [from, to],
    );
    say(`  history: ${to + 1} events, ${(to + 1) * 3} steps (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
  await c.query('analyze');
  await c.end();
  const full = await phase(`with ${EVENTS} events / ${EVENTS * 3} steps`);
  const slower = 1 - full.perS / empty.perS;
  process.stdout.write(
    `${JSON.stringify({ historyEvents: EVENTS, historySteps: EVENTS * 3, empty, full, intakeSlowerBy: Math.round(slower * 1000) / 10 })}\n`,
  );
} finally {
  await hub.stop(10_000);
  sink.close();
  await db.stop().catch(() => {});
  fs.rmSync(dir, { recursive: true, force: true });
}
