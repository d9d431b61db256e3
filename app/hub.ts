import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadKpiDefinitions } from '../config/kpis/definitions.ts';
import { startKpiCollector } from '../config/kpis/facts.ts';
import { bindKpiRuntime, kpisConnector, unbindKpiRuntime } from '../config/kpis/connector.ts';
import { createDb, migrateToLatest, type Db } from '../core/db/database.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../core/db/embedded-postgres.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { startTemplateWorkers } from '../core/templating.ts';
import { createMetrics } from '../core/metrics.ts';
import { createHubQueue, prepareQueueBackend, type QueueBackend } from '../core/queue/queues.ts';
import { ConnectorRegistry } from '../core/registry.ts';
import type { FlowSource, Runtime } from '../core/runtime.ts';
import { checkConnectorEnv, type Settings } from '../core/settings.ts';
import { trustOrigin } from '../core/net/egress.ts';
import { startWorkers } from '../core/pipeline/workers.ts';
import { loadConfigFile } from '../config/load.ts';
import type { ConfigFile } from '../config/schema.ts';
import { connectors } from '../connectors/index.ts';
import { loadKeyRing } from '../core/vault/keyring.ts';
import { checkKeys, Vault } from '../core/vault/vault.ts';
import { ConnectionService } from '../core/vault/service.ts';
import { Links } from '../core/links.ts';
import { FileStore } from '../core/files/store.ts';
import { openFlowStore, type FlowStore } from '../core/flows-store.ts';
import { createServer } from './server.ts';
import { buildRouters } from './routes.ts';
import { startCalendarSync } from '../core/calendar-sync/service.ts';
import { calendarSyncsOf } from '../core/calendar-sync/syncs.ts';

/** How long requests in flight may take to finish once the hub is stopping. */
const STOP_GRACE_MS = 5_000;

export interface HubOptions {
  settings: Settings;
  env?: NodeJS.ProcessEnv;
  /** Serve the HTTP API, run workers, or both (the single-process default). */
  http?: boolean;
  workers?: boolean;
  logger?: Logger;
}

export interface Hub {
  runtime: Runtime;
  /** The HTTP base URL, when serving. */
  url?: string;
  /** Stops taking requests, lets in-flight steps finish, then closes the queue, database and embedded server. */
  stop(): Promise<void>;
}

/** The store: the embedded PostgreSQL by default, the server at DATABASE_URL when set. */
export async function openStore(
  settings: Settings,
  log: Logger,
  opts: { attach?: boolean } = {},
): Promise<{ db: Db; intakeDb?: Db; connectionString: string; embedded?: EmbeddedDatabase; close(): Promise<void> }> {
  const embedded = settings.DATABASE_URL ? undefined : await startEmbeddedPostgres(settings.dataDir, log, opts);
  const connectionString = settings.DATABASE_URL ?? embedded!.connectionString;
  const { db } = createDb(connectionString, { max: settings.DINGBRIDGE_DB_POOL });
  // Opt-in (DINGBRIDGE_DB_INTAKE_POOL > 0): intake's own few connections, so step claims and results
  // on the main pool never delay an acknowledgement.
  const intakeDb =
    settings.DINGBRIDGE_DB_INTAKE_POOL > 0 ? createDb(connectionString, { max: settings.DINGBRIDGE_DB_INTAKE_POOL }).db : undefined;
  return {
    db,
    intakeDb,
    connectionString,
    embedded,
    async close() {
      await intakeDb?.destroy();
      await db.destroy();
      await embedded?.stop();
    },
  };
}

export function queueBackendFor(settings: Settings, connectionString: string): QueueBackend {
  return settings.REDIS_URL
    ? { kind: 'redis', url: settings.REDIS_URL, prefix: settings.DINGBRIDGE_QUEUE_PREFIX }
    : { kind: 'postgres', connectionString, schema: `${settings.DINGBRIDGE_QUEUE_PREFIX}_queue` };
}

export function loadHubConfig(settings: Settings, env: NodeJS.ProcessEnv, registry: ConnectorRegistry): ConfigFile {
  if (!settings.DINGBRIDGE_CONFIG) return { version: 1, hooks: [], flows: [], apps: [], connections: [], recipes: [] };
  return loadConfigFile(settings.DINGBRIDGE_CONFIG, env, {
    actionIds: registry.actionIds(),
    connectionNeed: (id) => registry.connectionNeed(id),
  });
}

/** The vault over the configured keys, checked against the database's canary. */
export async function openVault(settings: Settings, db: Db): Promise<Vault> {
  const ring = loadKeyRing({ envValue: settings.DINGBRIDGE_ENCRYPTION_KEY, dataDir: settings.dataDir, allowGenerate: true });
  const vault = new Vault(ring);
  await checkKeys(db, vault);
  return vault;
}

export interface OpenedRuntime {
  runtime: Runtime;
  config: ConfigFile;
  embedded: boolean;
  close(): Promise<void>;
}

/**
 * Store (migrated), vault, queue and registry: everything but HTTP and workers. Used by the hub and
 * by one-off commands (replay, keys rotate), which attach to a running embedded hub's database.
 */
/** The providers' connectors plus the hub's own KPI actions (config/kpis/connector.ts). */
/** Read at start, not at import: a test process may register a fixture connector after importing this module. */
export const hubConnectors = () => [...connectors, kpisConnector];

export async function openRuntime(
  settings: Settings,
  env: NodeJS.ProcessEnv,
  log: Logger,
  opts: { attach?: boolean } = {},
): Promise<OpenedRuntime> {
  const registry = new ConnectorRegistry(hubConnectors());
  const envSchemas = [...new Set(registry.list().flatMap((c) => (c.env ? [c.env] : [])))];
  checkConnectorEnv(envSchemas, env);
  // Providers' hosts the operator set (e.g. TRELLO_BASE_URL at a sandbox on 127.0.0.1) pass the egress guard.
  for (const schema of envSchemas) for (const key of Object.keys(schema.shape)) if (env[key]) trustOrigin(env[key]!);
  const config = loadHubConfig(settings, env, registry);
  const store = await openStore(settings, log, opts);
  try {
    await migrateToLatest(store.db);
    const vault = await openVault(settings, store.db);
    const backend = queueBackendFor(settings, store.connectionString);
    await prepareQueueBackend(backend);
    const queue = createHubQueue(backend);
    // The config file's flows plus those made in the UI (database), kept fresh in every process.
    const flows: FlowSource = await openFlowStore(store.db, config.flows, log, vault, (id) => registry.action(id)?.secretInputs ?? []);
    const runtime = {
      settings,
      db: store.db,
      intakeDb: store.intakeDb,
      queue,
      registry,
      flows,
      log,
      metrics: createMetrics(),
      vault,
      links: new Links(store.db),
      files: new FileStore(store.db, {
        maxBytes: settings.DINGBRIDGE_FILE_MAX_BYTES,
        retentionDays: settings.DINGBRIDGE_FILE_RETENTION_DAYS,
      }),
    } as Runtime;
    runtime.connections = new ConnectionService(runtime);
    for (const a of config.apps) {
      await runtime.connections.store.apps.upsertFromConfig({
        id: a.id,
        connectorId: a.connector,
        label: a.label,
        environment: a.environment,
        clientId: a.clientId,
        settings: a.settings,
        secrets: { clientSecret: a.clientSecret, webhookVerifierToken: a.webhookVerifierToken },
      });
    }
    for (const c of config.connections) {
      await runtime.connections.store.upsertFromConfig({
        id: c.id,
        connectorId: c.connector,
        label: c.label,
        settings: c.settings,
        secrets: c.secrets,
        ...(c.app ? { appId: c.app } : {}),
      });
    }
    return {
      runtime,
      config,
      embedded: Boolean(store.embedded),
      async close() {
        (flows as FlowStore).stop();
        await queue.close();
        await store.close();
      },
    };
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
}

export async function startHub(opts: HubOptions): Promise<Hub> {
  const { settings } = opts;
  const env = opts.env ?? process.env;
  const log = opts.logger ?? createLogger(settings.LOG_LEVEL);
  const opened = await openRuntime(settings, env, log);
  const { runtime, config } = opened;
  startTemplateWorkers();
  try {
    const workers = opts.workers === false ? undefined : startWorkers(runtime);
    const kpiCollector = opts.workers === false ? undefined : startKpiCollector(runtime, () => loadKpiDefinitions());
    const calendarSync =
      opts.workers === false ? undefined : startCalendarSync(runtime, calendarSyncsOf(runtime, config.calendarSync ?? []));
    bindKpiRuntime(runtime);
    let server: http.Server | undefined;
    let url: string | undefined;
    if (opts.http !== false) {
      const app = createServer(runtime, buildRouters(runtime, config));
      server = http.createServer(app);
      server.keepAliveTimeout = 65_000;
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(settings.PORT, settings.HOST, () => resolve());
      });
      const { port } = server.address() as AddressInfo;
      url = `http://${settings.HOST === '0.0.0.0' ? '127.0.0.1' : settings.HOST}:${port}`;
    }
    log.info(
      {
        url,
        queue: runtime.queue.backend,
        store: opened.embedded ? 'embedded' : 'external',
        flows: config.flows.length,
        hooks: config.hooks.length,
      },
      'dingbridge started',
    );

    let stopping: Promise<void> | undefined;
    return {
      runtime,
      url,
      stop() {
        stopping ??= (async () => {
          if (server) {
            const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
            // A kept-alive connection that a provider keeps using (e.g. Google channel notifications every
            // few seconds) would hold close() open: each is closed as soon as it is idle.
            const idle = setInterval(() => server!.closeIdleConnections(), 50);
            server.closeIdleConnections();
            // A client holding a kept-alive connection open would keep close() waiting for ever:
            // requests in flight get a grace period, then every connection is cut.
            const cut = setTimeout(() => server!.closeAllConnections(), STOP_GRACE_MS);
            await closed.finally(() => {
              clearInterval(idle);
              clearTimeout(cut);
            });
          }
          kpiCollector?.stop();
          await calendarSync?.stop();
          await workers?.stop();
          unbindKpiRuntime(runtime);
          await opened.close();
          log.info('dingbridge stopped');
        })();
        return stopping;
      },
    };
  } catch (err) {
    await opened.close().catch(() => {});
    throw err;
  }
}
