import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Environment } from './hub.ts';

/** The connection string of a hub's store: DATABASE_URL, or the embedded cluster's running port and password. */
export function hubDatabaseUrl(environment: Environment): string {
  if (environment.env.DATABASE_URL) return environment.env.DATABASE_URL;
  const dataDir = environment.dataDir;
  const password = fs.readFileSync(path.join(dataDir, 'postgres-password'), 'utf8').trim();
  const located = fs.existsSync(path.join(dataDir, 'postgres-location'))
    ? fs.readFileSync(path.join(dataDir, 'postgres-location'), 'utf8').trim()
    : path.join(dataDir, 'postgres');
  const lock = fs.readFileSync(path.join(located, 'postmaster.pid'), 'utf8').split('\n');
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${lock[3]}/dingbridge`;
}

/** Runs one query against a hub's store. */
export async function queryHub<T extends pg.QueryResultRow = Record<string, unknown>>(
  environment: Environment,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: hubDatabaseUrl(environment) });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}
