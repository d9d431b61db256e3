import net from 'node:net';
import pg from 'pg';

/**
 * PostgreSQL and Redis come from the machine (127.0.0.1:5432, database `test`; 127.0.0.1:6379).
 * In CI (CI=true) a missing service fails the run loudly; on a developer machine without them the
 * tests that need them are skipped with a message saying why.
 */
export const TEST_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const reachable = (url: string, fallbackPort: number) =>
  new Promise<boolean>((resolve) => {
    const u = new URL(url);
    const socket = net.connect({ host: u.hostname, port: Number(u.port || fallbackPort) });
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

export interface ServiceCheck {
  postgres: boolean;
  redis: boolean;
}

let checked: Promise<ServiceCheck> | undefined;
export function services(): Promise<ServiceCheck> {
  checked ??= (async () => {
    const [postgres, redis] = await Promise.all([reachable(TEST_DATABASE_URL, 5432), reachable(TEST_REDIS_URL, 6379)]);
    const missing = [
      !postgres && `PostgreSQL at ${new URL(TEST_DATABASE_URL).host}`,
      !redis && `Redis at ${new URL(TEST_REDIS_URL).host}`,
    ].filter(Boolean);
    if (missing.length && process.env.CI === 'true') {
      throw new Error(`CI needs ${missing.join(' and ')}, and it is not reachable`);
    }
    if (missing.length) process.stderr.write(`# skipping tests that need ${missing.join(' and ')}: not reachable on this machine\n`);
    return { postgres, redis };
  })();
  return checked;
}

/** A fresh database on the test server for one suite; dropped afterwards. */
export async function createTestDatabase(prefix = 'dbt'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
