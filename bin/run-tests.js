#!/usr/bin/env node
// `npm test`: every tests/**/*.test.ts file through node's test runner, one file at a time
// (suites share the machine's Redis, and one of them flushes it). Pass file paths to run only those.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const find = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
  const full = path.join(dir, e.name);
  if (e.isDirectory()) return e.name === 'node_modules' ? [] : find(full);
  return e.name.endsWith('.test.ts') ? [full] : [];
});
const files = process.argv.length > 2 ? process.argv.slice(2) : find(path.join(root, 'tests')).sort();
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=600000', ...files], { stdio: 'inherit', cwd: root });
process.exit(result.status ?? 1);
