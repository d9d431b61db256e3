import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import pg from 'pg';
import { pino } from 'pino';
import { startEmbeddedPostgres } from '../../core/db/embedded-postgres.ts';

/**
 * `npm test` on a machine with no PostgreSQL server (outside CI): bin/run-tests.js starts this, one
 * embedded PostgreSQL (the same binaries the hub ships) for the whole run. It prints one JSON line
 * with the server's URL (database `test`, as the machine's server has), then lives until its stdin
 * closes or it is signalled, and stops the server.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dingbridge-test-postgres-'));
fs.chmodSync(dir, 0o755);
const db = await startEmbeddedPostgres(dir, pino({ level: 'warn' }, process.stderr));
const url = new URL(db.connectionString);
const admin = new pg.Client({ connectionString: db.connectionString });
await admin.connect();
const exists = await admin.query("select 1 from pg_database where datname = 'test'");
if (exists.rowCount === 0) await admin.query('create database test');
await admin.end();
url.pathname = '/test';
process.stdout.write(`${JSON.stringify({ url: url.toString() })}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await db.stop().catch(() => {});
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.stdin.on('end', () => void stop());
process.stdin.on('close', () => void stop());
process.stdin.resume();
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
