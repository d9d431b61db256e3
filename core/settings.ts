import path from 'node:path';
import { z } from 'zod';
import { isDurationList } from './durations.ts';
import { parseEgressAllow } from './net/egress.ts';
import { DEFAULT_TIMEZONE, isTimeZone } from './triggers/schedule-spec.ts';
import { parseCidrList } from './net/cidr.ts';

const port = z.coerce.number().int().min(0).max(65535);
const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.join(' or ')}` },
  );
const positiveMs = z.coerce.number().int().positive();

/** Every environment variable the hub reads, validated once at start. */
export const settingsSchema = z.object({
  PORT: port.default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  DINGBRIDGE_DATA_DIR: z.string().min(1).default('./data'),
  DINGBRIDGE_CONFIG: z.string().min(1).optional(),
  PUBLIC_URL: url(['http:', 'https:']).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Largest accepted request body, in bytes. */
  DINGBRIDGE_BODY_LIMIT: z.coerce.number().int().positive().default(1_048_576),
  /** Attempts per step before it is dead-lettered. */
  DINGBRIDGE_STEP_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  /** First retry delay; later ones double, with jitter, up to the cap. */
  DINGBRIDGE_RETRY_BASE_MS: positiveMs.default(2000),
  DINGBRIDGE_RETRY_MAX_MS: positiveMs.default(3_600_000),
  /** How often stored work is compared with the queue to re-enqueue lost jobs. */
  DINGBRIDGE_SWEEP_INTERVAL_MS: positiveMs.default(10_000),
  /** Work younger than this is left to the queue by the sweep. */
  DINGBRIDGE_SWEEP_GRACE_MS: positiveMs.default(15_000),
  /** Time a running step is owned by its worker before another may take it over. */
  DINGBRIDGE_STEP_LEASE_MS: positiveMs.default(60_000),
  DINGBRIDGE_HTTP_TIMEOUT_MS: positiveMs.default(15_000),
  /** The longest one attempt of a step may run (every action, whatever it waits on); then it is a retryable step error. */
  DINGBRIDGE_STEP_TIMEOUT_MS: positiveMs.default(300_000),
  DINGBRIDGE_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(128),
  /** Connections the process keeps to the store: intake transactions and the workers' claims and results share them. */
  DINGBRIDGE_DB_POOL: z.coerce.number().int().min(2).max(200).default(10),
  /** Connections of a pool of intake's own for its one-statement store, so it never queues behind the workers' claims and results (0, the default: share the main pool; on the 2-core bench 3 capped intake). */
  DINGBRIDGE_DB_INTAKE_POOL: z.coerce.number().int().min(0).max(100).default(0),
  /** Events (with their steps, attempts and deliveries) older than this many days are deleted once finished; 0 keeps them all. */
  DINGBRIDGE_EVENT_RETENTION_DAYS: z.coerce.number().min(0).default(0),
  /** Queue namespace: the Redis key prefix, or the PostgreSQL schema for BullMQ's tables. */
  /** base64 of 32 bytes; a comma-separated list during a key rotation, newest first. */
  DINGBRIDGE_ENCRYPTION_KEY: z.string().min(1).optional(),
  /** Bearer token with owner rights on the admin API (automation, and the bootstrap before the UI's accounts). */
  DINGBRIDGE_ADMIN_TOKEN: z.string().min(24, 'use at least 24 characters').optional(),
  /** Networks (comma-separated IPs or CIDRs) the admin UI and /api may be used from; unset = everywhere. Webhooks and catch hooks stay open. */
  DINGBRIDGE_ADMIN_ALLOW: z
    .string()
    .refine((v) => {
      try {
        parseCidrList(v);
        return true;
      } catch {
        return false;
      }
    }, 'comma-separated IP addresses or CIDRs, e.g. 10.0.0.0/8,192.168.1.5')
    .default(''),
  /** When set, GET /metrics needs `Authorization: Bearer <this>`. */
  DINGBRIDGE_METRICS_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
  /** Tokens expiring within this margin are refreshed ahead of time. */
  DINGBRIDGE_REFRESH_MARGIN_MS: positiveMs.default(600_000),
  /** Outbound calls to user-typed URLs may reach these loopback/private/link-local/metadata hosts or CIDRs (comma-separated). */
  DINGBRIDGE_EGRESS_ALLOW: z
    .string()
    .refine((v) => {
      try {
        parseEgressAllow(v);
        return true;
      } catch {
        return false;
      }
    }, 'comma-separated host names (or *.suffix), IP addresses or CIDRs')
    .default(''),
  /** REST-hook delivery: the delay before each attempt (its length is the number of attempts); jitter is added. */
  DINGBRIDGE_HOOK_RETRY_SCHEDULE: z
    .string()
    .refine(isDurationList, 'a comma-separated list of durations, e.g. 0,5s,5m,30m,2h,5h,10h,10h')
    .default('0,5s,5m,30m,2h,5h,10h,10h'),
  /** A REST-hook target must answer 2xx within this time. */
  DINGBRIDGE_HOOK_TIMEOUT_MS: positiveMs.default(15_000),
  /** Defaults for new subscriptions: deliveries per second, and deliveries in flight at once, per subscription. */
  DINGBRIDGE_HOOK_RATE_LIMIT: z.coerce.number().positive().max(10_000).default(50),
  DINGBRIDGE_HOOK_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(5),
  /** A subscription whose deliveries have failed without a success for this long is disabled (default 5 days). */
  DINGBRIDGE_HOOK_DISABLE_AFTER_MS: positiveMs.default(432_000_000),
  /** Stream triggers (e.g. DingTalk Stream mode): how often connections are checked for a stream to hold, and the longest reconnect backoff. */
  DINGBRIDGE_STREAM_SCAN_MS: positiveMs.default(5000),
  DINGBRIDGE_STREAM_BACKOFF_MAX_MS: positiveMs.default(60_000),
  /** Audit log entries older than this many days are pruned (at least 180 is the policy; lower only for tests). */
  DINGBRIDGE_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).default(180),
  /** How often provider webhook registrations are checked (and registered again when the provider dropped them). */
  DINGBRIDGE_TRIGGER_CHECK_MS: positiveMs.default(600_000),
  /** The time zone of schedule flows (`cron`) that name none. */
  DINGBRIDGE_TIMEZONE: z.string().refine(isTimeZone, 'an IANA time zone, e.g. Asia/Hong_Kong').default(DEFAULT_TIMEZONE),
  /** Files between steps: the largest file a step may store (default 25 MB), and how many days files are kept (default 30). */
  DINGBRIDGE_FILE_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(25 * 1024 * 1024),
  DINGBRIDGE_FILE_RETENTION_DAYS: z.coerce.number().positive().default(30),
  /** Polling triggers: the default interval between polls (a trigger or a flow's `params.pollInterval` may set its own); up to 10 % jitter is added. */
  DINGBRIDGE_POLL_INTERVAL_MS: z.coerce.number().int().min(1000, 'at least 1000 ms').default(60_000),
  DINGBRIDGE_QUEUE_PREFIX: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, 'lowercase letters, digits and _')
    .default('dingbridge'),
});

export type Settings = z.output<typeof settingsSchema> & { dataDir: string };

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SettingsError';
  }
}

/** A URL setting with the given protocols; connectors use it for the base URLs they declare in `env`. */
export const urlSetting = url;

/**
 * Environment variables that connectors declare (`env` in defineConnector), checked at start the same
 * way as the hub's own: core knows the mechanism, the connectors know their variables.
 */
export function checkConnectorEnv(schemas: z.ZodObject[], env: NodeJS.ProcessEnv = process.env): void {
  const problems: string[] = [];
  for (const schema of schemas) {
    const source = Object.fromEntries(
      Object.keys(schema.shape)
        .filter((k) => env[k] !== undefined && env[k] !== '')
        .map((k) => [k, env[k]]),
    );
    const parsed = schema.safeParse(source);
    if (!parsed.success)
      problems.push(
        ...parsed.error.issues.map((i) => `${String(i.path[0] ?? '')} ${JSON.stringify(source[String(i.path[0])])}: ${i.message}`),
      );
  }
  if (problems.length) throw new SettingsError(problems);
}

/** Reads settings from the environment; empty strings count as unset. Throws SettingsError listing every bad value. */
export function loadSettings(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Record<keyof z.input<typeof settingsSchema>, string>> = {},
): Settings {
  const source: Record<string, string> = {};
  for (const key of Object.keys(settingsSchema.shape)) {
    const value = (overrides as Record<string, string | undefined>)[key] ?? env[key];
    if (value !== undefined && value !== '') source[key] = value;
  }
  const parsed = settingsSchema.safeParse(source);
  if (!parsed.success) {
    throw new SettingsError(
      parsed.error.issues.map((i) => {
        const key = String(i.path[0] ?? '');
        const shown = /URL$|KEY$|TOKEN$/.test(key) ? '(value hidden)' : JSON.stringify(source[key]);
        return `${key} ${shown}: ${i.message}`;
      }),
    );
  }
  return { ...parsed.data, dataDir: path.resolve(parsed.data.DINGBRIDGE_DATA_DIR) };
}
