import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';

// npm start and the Docker image start the hub with the same Node flags (V8 heap sizes; docs/BENCHMARKS.md).
test('package.json "start" and the Dockerfile ENTRYPOINT pass Node the same flags', () => {
  const start: string = JSON.parse(fs.readFileSync('package.json', 'utf8')).scripts.start;
  const fromStart = /^node ((?:--\S+ )*)dist\/app\/main\.js serve$/.exec(start)?.[1]?.trim().split(' ');
  const entry = /^ENTRYPOINT (\[.*\])$/m.exec(fs.readFileSync('Dockerfile', 'utf8'))?.[1];
  assert.ok(fromStart && entry, 'both start the compiled hub');
  const argv: string[] = JSON.parse(entry);
  assert.deepEqual(argv, ['node', ...fromStart, 'dist/app/main.js']);
});
