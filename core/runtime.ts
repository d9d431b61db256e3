import type { Db } from './db/database.ts';
import type { HubQueue } from './queue/queues.ts';
import type { ConnectorRegistry } from './registry.ts';
import type { Flow } from './flows.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { Settings } from './settings.ts';
import type { Vault } from './vault/vault.ts';
import type { Links } from './links.ts';
import type { FileStore } from './files/store.ts';
import type { ConnectionService } from './vault/service.ts';

/** Where flows come from (the config file now; the admin API adds its own later). */
export interface FlowSource {
  list(): Flow[];
  get(id: string): Flow | undefined;
}

/** Everything the pipeline needs, built once by the entry point. */
export interface Runtime {
  settings: Settings;
  db: Db;
  /** A small pool of its own for intake's store statement (the main pool serves the workers); `db` when unset. */
  intakeDb?: Db;
  queue: HubQueue;
  registry: ConnectorRegistry;
  flows: FlowSource;
  log: Logger;
  metrics: Metrics;
  vault: Vault;
  links: Links;
  /** Files between steps (stored in PostgreSQL, streamed). */
  files: FileStore;
  /** Set by the entry point once the runtime exists (the service needs the runtime). */
  connections: ConnectionService;
}
