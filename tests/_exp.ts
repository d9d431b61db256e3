import { MODES, prepareEnvironment, startTestHub, tempDir, writeConfig } from './helpers/hub.ts';
import { startSink } from './helpers/sink.ts';
import { ADMIN_TOKEN, api } from './helpers/api.ts';
const N = Number(process.env.N ?? 500), SUBS = Number(process.env.SUBS ?? 3);
const mode = MODES[Number(process.env.MODE ?? 0)]!;
const env = await prepareEnvironment(mode, 'exp', { DINGBRIDGE_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'warn', DINGBRIDGE_HOOK_CONCURRENCY: process.env.CAP ?? '5', DINGBRIDGE_WORKER_CONCURRENCY: process.env.WC ?? '16' });
env.env.DINGBRIDGE_CONFIG = writeConfig(tempDir('exp'), 'version: 1\nhooks:\n  - id: load\n');
const hub = await startTestHub(env);
const sinks = [];
for (let i = 0; i < SUBS; i++) { const s = await startSink(); sinks.push(s); await api(hub, 'POST', '/api/v1/hooks', { target_url: s.url, events: ['catch_hook.received'], rate_limit: 5000 }); }
const t0 = Date.now(); let next = 0;
await Promise.all(Array.from({ length: 25 }, async () => { while (next < N) { const n = next++; const r = await fetch(`${hub.url}/hooks/catch/load`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) }); await r.arrayBuffer(); } }));
const posted = Date.now() - t0;
await Promise.all(sinks.map((s) => s.waitFor(N, 120_000)));
console.log(JSON.stringify({ mode: mode.name, N, SUBS, posted, done: Date.now() - t0, perSec: Math.round(N * SUBS / ((Date.now() - t0) / 1000)) }));
await hub.stop(); for (const s of sinks) await s.close(); await env.cleanup();
process.exit(0);
