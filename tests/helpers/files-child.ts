/**
 * Run by tests/files.test.ts in its own process (node --expose-gc): a file goes through the real
 * `http.download` step (put) and `http.upload` step (open) against the test's servers, while this
 * process samples its memory (after a full GC each time: what is held, not uncollected garbage). Prints one JSON line: the peak growth over the baseline.
 */
import { createDb, migrateToLatest } from '../../core/db/database.ts';
import { FileStore } from '../../core/files/store.ts';
import { httpDownload, httpUpload } from '../../connectors/http/files.ts';
import { createLogger } from '../../core/logger.ts';
import type { ActionContext } from '../../core/connector.ts';

const [dbUrl, sourceUrl, targetUrl, warmUrl] = process.argv.slice(2) as [string, string, string, string];
const gc = (globalThis as { gc?: () => void }).gc!;
const { db } = createDb(dbUrl, { max: 2 });
await migrateToLatest(db);
const store = new FileStore(db, { maxBytes: 25 * 1024 * 1024, retentionDays: 30 });
const ctx = (step: string): ActionContext => ({
  idempotencyKey: step,
  attempt: 1,
  log: createLogger('silent'),
  timeoutMs: 30_000,
  trace: () => {},
  files: store.access({ eventId: 'evt_memory', stepRunId: step }),
});
const run = async (url: string) => {
  const down = await httpDownload.run(ctx('download'), httpDownload.input.parse({ url, name: 'big.bin' }));
  const up = await httpUpload.run(ctx('upload'), httpUpload.input.parse({ url: targetUrl, file: down.file }));
  return { file: down.file, upload: up };
};

// Warm every code path with a small file first, so the measure is the file's, not the first call's.
await run(warmUrl);
for (let i = 0; i < 3; i++) gc();
const used = () => {
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.arrayBuffers, rss: m.rss };
};
const base = used();
let peak = { heap: 0, rss: 0 };
// Each sample follows a full GC, so it measures what is held, not garbage V8 has not collected yet.
const sampler = setInterval(() => {
  gc();
  const u = used();
  peak = { heap: Math.max(peak.heap, u.heap - base.heap), rss: Math.max(peak.rss, u.rss - base.rss) };
}, 5);
const result = await run(sourceUrl);
clearInterval(sampler);
const u = used();
peak = { heap: Math.max(peak.heap, u.heap - base.heap), rss: Math.max(peak.rss, u.rss - base.rss) };
await db.destroy();
console.log(JSON.stringify({ peakHeapGrowth: peak.heap, peakRssGrowth: peak.rss, file: result.file, upload: result.upload }));
