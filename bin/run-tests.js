#!/usr/bin/env node
// `npm test`: first the unit tests (tests/unit/: pure functions, no database or network, run in parallel,
// seconds), then every other tests/**/*.test.ts file through node's test runner, one file at a time
// (suites share the machine's Redis, and one of them flushes it). A failing unit test stops the run.
// Pass file paths to run only those (unit ones still first).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const unitDir = path.join(root, 'tests', 'unit');
const find = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
  const full = path.join(dir, e.name);
  if (e.isDirectory()) return e.name === 'node_modules' ? [] : find(full);
  return e.name.endsWith('.test.ts') ? [full] : [];
});
const files = process.argv.length > 2 ? process.argv.slice(2) : find(path.join(root, 'tests')).sort();
const isUnit = (f) => path.resolve(root, f).startsWith(unitDir + path.sep);
const unit = files.filter(isUnit);
const rest = files.filter((f) => !isUnit(f));

const run = (list, args) => spawnSync(process.execPath, ['--import', 'tsx', '--test', ...args, ...list], { stdio: 'inherit', cwd: root }).status ?? 1;
if (unit.length) {
  const status = run(unit, ['--test-timeout=60000']);
  if (status !== 0) process.exit(status);
}
if (rest.length) process.exit(run(rest, ['--test-concurrency=1', '--test-timeout=600000']));
