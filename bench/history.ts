/**
 * `npm run bench:history`: does a large history slow intake? Two hubs (compiled, `npm run build:dist`
 * first), each on its own embedded PostgreSQL: one on an empty store, one on a store holding
 * HISTORY_EVENTS finished events (default 1 000 000, ids like real ones: random, not sequential) with
 * three succeeded step runs each (generate_series, then VACUUM ANALYZE and a CHECKPOINT, as a month's
 * history that autovacuum has long caught up with; both stores then checkpointed). Then HISTORY_ROUNDS rounds of the same throughput
 * phase (50 connections, HISTORY_SECONDS) alternate between the two, so both see the same machine
 * (it is shared: one pair of runs minutes apart measured the neighbours, not the history). Prints
 * acked/s and ack p99 per phase, the slowdown from the sums, and the plans of the sweep's questions on
 * the large store.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../core/db/embedded-postgres.ts';
import { runLoad } from './load.ts';
import { freePort, spawnChild, waitForHttp200, type Child } from './procs.ts';

const EVENTS = Number(process.env.HISTORY_EVENTS || 1_000_000);
const SECONDS = Number(process.env.HISTORY_SECONDS || 10);
const ROUNDS = Number(process.env.HISTORY_ROUNDS || 3);
const say = (m: string) => process.stderr.write(`[history] ${m}\n`);
const load1 = () => os.loadavg()[0]!.toFixed(1);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dingbridge-history-'));
fs.chmodSync(dir, 0o755);
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

interface Store {
  label: string;
  db: EmbeddedDatabase;
  hub?: Child;
  url?: string;
  phases: { perS: number; p99: number; load: string; walKiBPerEvent: number; fpiPerEvent: number }[];
}
const stores: Store[] = [];
const startHub = async (s: Store) => {
  const port = await freePort();
  s.hub = spawnChild(`hub-${s.label}`, ['dist/app/main.js', 'serve'], {
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DATABASE_URL: s.db.connectionString,
    DINGBRIDGE_DATA_DIR: path.join(dir, `data-${s.label}`),
    DINGBRIDGE_CONFIG: path.join(dir, 'config.yaml'),
    DINGBRIDGE_EGRESS_ALLOW: '127.0.0.1',
    DINGBRIDGE_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'),
  });
  s.url = `http://127.0.0.1:${port}`;
  await waitForHttp200(`${s.url}/readyz`, 120_000, s.hub);
};

async function walStats(s: Store): Promise<{ bytes: number; fpi: number }> {
  const c = new pg.Client({ connectionString: s.db.connectionString });
  await c.connect();
  try {
    const { rows } = await c.query('select wal_bytes::float8 as bytes, wal_fpi::float8 as fpi from pg_stat_wal');
    return { bytes: Number(rows[0].bytes), fpi: Number(rows[0].fpi) };
  } finally {
    await c.end();
  }
}

try {
  for (const label of ['empty', 'history']) {
    const db = await startEmbeddedPostgres(path.join(dir, `pg-${label}`), pino({ level: 'warn' }, process.stderr));
    stores.push({ label, db, phases: [] });
  }
  const [empty, full] = stores as [Store, Store];
  for (const s of stores) await startHub(s); // migrations run: the history goes into the hub's own tables

  const c = new pg.Client({ connectionString: full.db.connectionString });
  await c.connect();
  const t0 = Date.now();
  // Ids as intake makes them (evt_ + 26 random-looking characters), so the primary keys are as scattered as a real month's.
  const id = `'evt_' || substr(md5('h' || g), 1, 26)`;
  for (let from = 0; from < EVENTS; from += 100_000) {
    const to = Math.min(EVENTS, from + 100_000) - 1;
    await c.query(
      `insert into events (id, type, source, occurred_at, received_at, data, status, flows_matched, dispatched_at)
       select ${id}, 'catch_hook.received', 'bench', now() - interval '20 days', now() - interval '30 days' + (g || ' seconds')::interval,
              jsonb_build_object('seq', g, 'name', 'history'), 'dispatched', 3, now() - interval '20 days'
         from generate_series($1::int, $2::int) g`,
      [from, to],
    );
    await c.query(
      `insert into step_runs (id, event_id, flow_id, step_index, action, status, attempts, max_attempts, output, created_at, updated_at, finished_at)
       select ${id} || '.history-' || k || '.0', ${id}, 'history-' || k, 0, 'http.post', 'succeeded', 1, 8, '{"status":200}'::jsonb,
              now() - interval '20 days', now() - interval '20 days', now() - interval '20 days'
         from generate_series($1::int, $2::int) g, generate_series(1, 3) k`,
      [from, to],
    );
    say(`  history: ${to + 1} events, ${(to + 1) * 3} steps (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
  say('  vacuum analyze');
  await c.query('vacuum analyze');
  const plans: Record<string, string> = {};
  for (const [name, query] of [
    [
      'sweep: undispatched events',
      `select id from events where status = 'received' and received_at < now() - interval '15 seconds' order by received_at limit 500`,
    ],
    [
      'sweep: lost steps',
      `select id, status, attempts, next_attempt_at from step_runs
        where (status = 'pending' and updated_at < now() - interval '15 seconds') or (status = 'retrying' and next_attempt_at < now() - interval '15 seconds')
           or (status = 'running' and lease_until < now())
        order by updated_at limit 500`,
    ],
    [
      'default mode: claim',
      `select id from step_runs where status in ('pending', 'retrying', 'running')
          and (status = 'pending' or (status = 'retrying' and (next_attempt_at is null or next_attempt_at <= now())) or (status = 'running' and lease_until < now()))
        order by created_at limit 16`,
    ],
  ] as const) {
    const { rows } = await c.query(`explain (analyze, costs off, timing off, summary on) ${query}`);
    plans[name] = rows.map((r) => r['QUERY PLAN']).join('\n');
    say(`  plan of ${name}:\n${plans[name]}`);
  }
  const sizes = await c.query(
    `select relname, pg_size_pretty(pg_relation_size(oid)) as size from pg_class
      where relname in ('events', 'step_runs', 'step_attempts') or (relkind = 'i' and relname in (select indexname from pg_indexes where tablename in ('events', 'step_runs')))
      order by pg_relation_size(oid) desc`,
  );
  say(`  sizes: ${sizes.rows.map((r) => `${r.relname} ${r.size}`).join(', ')}`);
  await c.end();

  // Both stores start the rounds just after a checkpoint (the same full-page-image cost for both).
  for (const s of stores) {
    const k = new pg.Client({ connectionString: s.db.connectionString });
    await k.connect();
    await k.query('checkpoint');
    await k.end();
  }

  let seq = 1;
  for (let round = 1; round <= ROUNDS; round++) {
    for (const s of round % 2 ? [empty, full] : [full, empty]) {
      const before = await walStats(s);
      const r = await runLoad({
        url: s.url!,
        path: '/hooks/catch/bench',
        hmacSecret,
        connections: 50,
        durationSeconds: SECONDS,
        firstSeq: seq,
      });
      seq = r.endSeq;
      const perS = r.ok2xx / r.durationSeconds;
      // WAL written per acked event during the phase (intake and the deliveries running beside it).
      const after = await walStats(s);
      const walKiBPerEvent = Math.round(((after.bytes - before.bytes) / 1024 / Math.max(1, r.ok2xx)) * 10) / 10;
      const fpiPerEvent = Math.round(((after.fpi - before.fpi) / Math.max(1, r.ok2xx)) * 100) / 100;
      s.phases.push({ perS, p99: r.latency.p99, load: load1(), walKiBPerEvent, fpiPerEvent });
      say(
        `round ${round} ${s.label}: ${perS.toFixed(1)} acked/s, ack p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms; WAL ${walKiBPerEvent} KiB and ${fpiPerEvent} full-page images per event (load average ${load1()})`,
      );
      // Let the phase's deliveries finish so the next phase (on the other hub) does not compete with them.
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
  const sum = (s: Store) => s.phases.reduce((a, p) => a + p.perS, 0);
  const slower = 1 - sum(full) / sum(empty);
  const perRound = empty.phases.map((p, i) => Math.round((1 - full.phases[i]!.perS / p.perS) * 1000) / 10);
  process.stdout.write(
    `${JSON.stringify({ historyEvents: EVENTS, historySteps: EVENTS * 3, rounds: ROUNDS, empty: empty.phases, full: full.phases, intakeSlowerByPerRound: perRound, intakeSlowerBy: Math.round(slower * 1000) / 10 })}\n`,
  );
} finally {
  for (const s of stores) await s.hub?.stop(10_000);
  sink.close();
  for (const s of stores) await s.db.stop().catch(() => {});
  fs.rmSync(dir, { recursive: true, force: true });
}
