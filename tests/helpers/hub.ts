import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startHub, type Hub } from '../../app/hub.ts';
import { createLogger } from '../../core/logger.ts';
import { loadSettings } from '../../core/settings.ts';
import { createTestDatabase, TEST_REDIS_URL } from './services.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');

export interface Mode {
  name: string;
  store: 'embedded' | 'external';
  queue: 'postgres' | 'redis';
}

/** Both store modes and both queue backends: the pipeline suites run once per mode. */
export const MODES: Mode[] = [
  { name: 'embedded PostgreSQL, BullMQ on PostgreSQL (the default)', store: 'embedded', queue: 'postgres' },
  { name: 'external PostgreSQL, BullMQ on Redis (scale-out)', store: 'external', queue: 'redis' },
  { name: 'external PostgreSQL, BullMQ on PostgreSQL', store: 'external', queue: 'postgres' },
  { name: 'embedded PostgreSQL, BullMQ on Redis', store: 'embedded', queue: 'redis' },
];

/** Owner-level Bearer token of every test hub (DINGBRIDGE_ADMIN_TOKEN). */
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
/** The vault key of every test hub (base64 of 32 bytes). */
export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

/** Short timings so retries, leases and the sweep happen within a test. */
export const FAST_TIMINGS: Record<string, string> = {
  DINGBRIDGE_RETRY_BASE_MS: '200',
  DINGBRIDGE_RETRY_MAX_MS: '2000',
  DINGBRIDGE_SWEEP_INTERVAL_MS: '500',
  DINGBRIDGE_SWEEP_GRACE_MS: '1500',
  DINGBRIDGE_STEP_LEASE_MS: '3000',
  DINGBRIDGE_HTTP_TIMEOUT_MS: '5000',
  DINGBRIDGE_STEP_ATTEMPTS: '4',
  // Test sinks listen on loopback, which the SSRF guard refuses unless allowed explicitly.
  DINGBRIDGE_EGRESS_ALLOW: '127.0.0.1',
};

/** A place for one suite's files (data dir, config, logs) that the `postgres` user can reach when tests run as root. */
export function tempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `dingbridge-${label}-`));
  fs.chmodSync(dir, 0o755);
  return dir;
}

export function writeConfig(dir: string, yaml: string): string {
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(file, yaml);
  return file;
}

export interface Environment {
  env: Record<string, string>;
  dataDir: string;
  logFile: string;
  cleanup(): Promise<void>;
}

/** The environment a hub of the given mode runs in: its own database or data dir, its own queue namespace. */
export async function prepareEnvironment(mode: Mode, label: string, extra: Record<string, string> = {}): Promise<Environment> {
  const dir = tempDir(label);
  fs.mkdirSync(path.join(ARTIFACTS, 'logs'), { recursive: true });
  const logFile = path.join(ARTIFACTS, 'logs', `${label}-${mode.store}-${mode.queue}-${process.pid}.log`);
  const env: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'debug',
    DINGBRIDGE_DATA_DIR: path.join(dir, 'data'),
    DINGBRIDGE_QUEUE_PREFIX: `t_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${process.pid}_${Math.random().toString(36).slice(2, 6)}`,
    DINGBRIDGE_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    DINGBRIDGE_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    ...FAST_TIMINGS,
    ...extra,
  };
  let dropDb: (() => Promise<void>) | undefined;
  if (mode.store === 'external') {
    const db = await createTestDatabase();
    env.DATABASE_URL = db.url;
    dropDb = db.drop;
  }
  if (mode.queue === 'redis') env.REDIS_URL = TEST_REDIS_URL;
  return {
    env,
    dataDir: env.DINGBRIDGE_DATA_DIR!,
    logFile,
    async cleanup() {
      await dropDb?.();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A hub in this process (API and workers), logging to the suite's log file. */
export async function startTestHub(environment: Environment, opts: { http?: boolean; workers?: boolean } = {}): Promise<Hub> {
  const settings = loadSettings(environment.env as NodeJS.ProcessEnv);
  const logger = createLogger(settings.LOG_LEVEL, pino.destination({ dest: environment.logFile, append: true, sync: true }));
  return startHub({ settings, env: environment.env as NodeJS.ProcessEnv, logger, ...opts });
}

export interface HubProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** A hub as its own process (`dingbridge serve|worker`), for crash tests. */
export async function spawnHub(environment: Environment, args: string[], opts: { entry?: string } = {}): Promise<HubProcess> {
  // `entry`: a TypeScript entry that wraps the CLI (e.g. one that registers a test-only connector).
  const argv = opts.entry ? ['--import', 'tsx', opts.entry, ...args] : [path.join(ROOT, 'bin/dingbridge.js'), ...args];
  const child = spawn(process.execPath, argv, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...environment.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const log = fs.createWriteStream(environment.logFile, { flags: 'a' });
  child.stdout!.on('data', (c) => {
    out += c;
    log.write(c);
  });
  child.stderr!.on('data', (c) => {
    out += c;
    log.write(c);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    // Generous: on the shared 2-core machine (load 20) loading the hub through tsx alone has taken over 30 s.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hub did not start within 90 s:\n${out.slice(-2000)}`));
    }, 90_000);
    const onData = () => {
      const m = /"url":"(http:\/\/[^"]+)"/.exec(out) ?? /listening on (http:\/\/\S+)/.exec(out);
      const ready = /dingbridge started/.test(out);
      if (ready) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(m?.[1] ?? '');
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code}:\n${out.slice(-2000)}`));
    });
  });
  return {
    child,
    url,
    output: () => out,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
      log.end();
    },
  };
}

/** Polls until check() returns a truthy value. */
type Falsy = false | 0 | '' | null | undefined;
export async function waitUntil<T>(
  check: () => Promise<T | Falsy> | T | Falsy,
  what: string,
  timeoutMs = 20_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
