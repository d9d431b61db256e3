#!/usr/bin/env node
// `npm test`: first the unit tests (tests/unit/: pure functions, no database or network, run in parallel,
// seconds), then every other tests/**/*.test.ts file through node's test runner, one file at a time
// (suites share the machine's Redis, and one of them flushes it). A failing unit test stops the run.
// Pass file paths to run only those (unit ones still first).
//
// Outside CI, when no PostgreSQL server answers (DATABASE_URL, else 127.0.0.1:5432), one embedded
// PostgreSQL is started for the whole run (tests/helpers/test-postgres.ts), so only the suites that
// need Redis skip. In CI (CI=true) the machine's services are required and a missing one fails.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';

const root = path.resolve(import.meta.dirname, '..');
const unitDir = path.join(root, 'tests', 'unit');
const find = (dir) =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : find(full);
    return e.name.endsWith('.test.ts') ? [full] : [];
  });
const files = process.argv.length > 2 ? process.argv.slice(2) : find(path.join(root, 'tests')).sort();
const isUnit = (f) => path.resolve(root, f).startsWith(unitDir + path.sep);
const unit = files.filter(isUnit);
const rest = files.filter((f) => !isUnit(f));

const reachable = (url) =>
  new Promise((resolve) => {
    const u = new URL(url);
    const socket = net.connect({ host: u.hostname, port: Number(u.port || 5432) });
    socket.setTimeout(1500);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });

/** Starts the run's own embedded PostgreSQL; resolves with its URL and a stop function. */
function startOwnPostgres() {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'tests/helpers/test-postgres.ts')], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      try {
        resolve({
          url: JSON.parse(line).url,
          stop: () =>
            new Promise((r) => {
              child.once('exit', r);
              child.stdin.end();
            }),
        });
      } catch (err) {
        reject(err);
      }
    });
    child.once('exit', (code) => reject(new Error(`the test run's embedded PostgreSQL exited (${code}) before it was ready`)));
  });
}

const env = { ...process.env };
const run = (list, args) =>
  spawnSync(process.execPath, ['--import', 'tsx', '--test', ...args, ...list], { stdio: 'inherit', cwd: root, env }).status ?? 1;

if (unit.length) {
  const status = run(unit, ['--test-timeout=60000']);
  if (status !== 0) process.exit(status);
}
if (rest.length) {
  let own;
  const databaseUrl = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  if (env.CI !== 'true' && !(await reachable(databaseUrl))) {
    process.stderr.write(`# no PostgreSQL answers at ${new URL(databaseUrl).host}: starting an embedded PostgreSQL for this run\n`);
    own = await startOwnPostgres();
    env.DATABASE_URL = own.url;
  }
  const concurrency = Math.max(1, Number.parseInt(env.TEST_CONCURRENCY ?? '1', 10) || 1);
  const status = run(rest, [`--test-concurrency=${concurrency}`, '--test-timeout=900000']);
  if (own) await own.stop();
  process.exit(status);
}
