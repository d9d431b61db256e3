import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';

/**
 * Offline OCR with tesseract.js (7.0.0, pinned: the WebAssembly core runs in a Node 20 worker thread).
 * The English and traditional-Chinese models come from the npm packages `@tesseract.js-data/eng` and
 * `@tesseract.js-data/chi_tra` (1.0.0, pinned), read from node_modules and handed to the worker as
 * bytes: tesseract never resolves a `langPath` (its default is a CDN), and with `cacheMethod: 'none'`
 * it writes no cache file either. Nothing is fetched at run time, in tests or in the Docker image.
 *
 * One worker per process, created on first use and reused: its start (loading ~4 MB of models into
 * WebAssembly) is the slow part; recognitions are queued one at a time through it.
 */
const require = createRequire(import.meta.url);

export const OCR_LANGUAGES = ['eng', 'chi_tra'] as const;

/** The `4.0.0_best_int` model of a language package: integer LSTM, small and fast (tesseract.js' own LSTM-only choice). */
export function modelFile(lang: (typeof OCR_LANGUAGES)[number]): string {
  const pkg = require.resolve(`@tesseract.js-data/${lang}/package.json`);
  return join(dirname(pkg), '4.0.0_best_int', `${lang}.traineddata.gz`);
}

/**
 * tesseract reads every language from one `langPath` folder, and the two packages are two folders: a
 * private folder of links to both files is that `langPath` (a local path, so tesseract reads it from
 * disk; handing the bytes over instead trips a bug in tesseract.js 7.0.0, which names the language by
 * its data).
 */
function langFolder(): string {
  // The system's tmp first; the hub's data folder when tmp is not writable (a read-only container).
  const bases = [tmpdir(), process.env.DINGBRIDGE_DATA_DIR].filter((b): b is string => Boolean(b));
  let lastError: unknown;
  for (const base of bases) {
    try {
      const dir = join(base, `dingbridge-ocr-${process.pid}`);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      for (const lang of OCR_LANGUAGES) {
        const link = join(dir, `${lang}.traineddata.gz`);
        rmSync(link, { force: true });
        symlinkSync(modelFile(lang), link);
      }
      // Links only (the models stay in node_modules); gone with the process.
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      return dir;
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

interface TesseractWorker {
  recognize(image: Buffer): Promise<{ data: { text: string; confidence: number } }>;
  terminate(): Promise<unknown>;
}

let worker: Promise<TesseractWorker> | undefined;
let queue: Promise<unknown> = Promise.resolve();

/**
 * tesseract.js gives no handle on its worker thread, and a live thread keeps a process from exiting
 * (a CLI run, a test, a hub asked to stop). Before tesseract.js loads, its node spawner (internal to the
 * pinned 7.0.0, hence the check) is wrapped to `unref()` the thread once it listens to it; while a recognition runs, a timer
 * holds the process open instead (`busy`), so an answer is never abandoned half way.
 */
function unrefTesseractThreads(): void {
  try {
    type Port = { unref?: () => void };
    const node = require('tesseract.js/src/worker/node/index.js') as {
      onMessage?: ((w: Port, h: unknown) => void) & { unrefs?: boolean };
    };
    const listen = node.onMessage;
    if (typeof listen !== 'function' || listen.unrefs) return;
    // After the 'message' listener (which refs the thread's port again), not at spawn.
    node.onMessage = Object.assign(
      (w: Port, h: unknown) => {
        listen(w, h);
        w.unref?.();
      },
      { unrefs: true },
    );
  } catch {
    // Another layout: the thread stays referenced (only the exit of an idle process waits for stopOcr).
  }
}

let busy = 0;
let holder: NodeJS.Timeout | undefined;
function hold(on: boolean): void {
  busy += on ? 1 : -1;
  if (busy > 0 && !holder) holder = setInterval(() => {}, 60_000);
  if (busy === 0 && holder) {
    clearInterval(holder);
    holder = undefined;
  }
}

async function startWorker(): Promise<TesseractWorker> {
  unrefTesseractThreads();
  const { createWorker, OEM } = (await import('tesseract.js')).default as unknown as {
    createWorker: (langs: unknown, oem: number, options: Record<string, unknown>) => Promise<TesseractWorker>;
    OEM: { LSTM_ONLY: number };
  };
  const folder = langFolder();
  return createWorker(OCR_LANGUAGES.join('+'), OEM.LSTM_ONLY, {
    // A local folder: never tesseract's default CDN. No cache is read or written (`cachePath` is set
    // all the same, so no default can point it at the working directory).
    langPath: folder,
    cacheMethod: 'none',
    cachePath: folder,
    gzip: true,
    errorHandler: () => {},
  });
}

/** Recognises one image (PNG, JPEG, BMP, …): its text and tesseract's mean confidence (0–100). */
export async function recognize(image: Buffer): Promise<{ text: string; confidence: number }> {
  const run = queue.then(async () => {
    hold(true);
    try {
      worker ??= startWorker();
      let w: TesseractWorker;
      try {
        w = await worker;
      } catch (err) {
        worker = undefined;
        throw err;
      }
      const { data } = await w.recognize(image);
      return { text: data.text ?? '', confidence: Math.round(data.confidence ?? 0) };
    } finally {
      hold(false);
    }
  });
  queue = run.catch(() => {});
  return run;
}

/** Ends the shared worker (tests and shutdown); the next recognition starts a new one. */
export async function stopOcr(): Promise<void> {
  const w = worker;
  worker = undefined;
  if (w) await (await w.catch(() => undefined))?.terminate();
}
