import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** Keys whose values are never logged, wherever they appear. */
const SECRET_KEYS = [
  'secret',
  'password',
  'token',
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'apiKey',
  'api_key',
  'clientSecret',
  'client_secret',
  'appSecret',
  'authorization',
  'cookie',
  'signature',
  'sign',
  'csrfToken',
];

const redactPaths = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-signature"]',
  'req.headers["webhook-signature"]',
  'req.headers["x-trello-webhook"]',
  'req.headers["x-acs-dingtalk-access-token"]',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
];

/**
 * The logger for the access log (one line per request): a child of `log` on the same stream and level
 * whose redaction covers only the request's and response's secret headers. The access log's
 * serializers (below) already keep nothing but a safe URL, allow-listed header values and the status,
 * so the main logger's wildcard paths — which cost a deep walk of every request's bindings, and were a
 * twentieth of the hub's CPU under a flood — are not needed there. Anything else (errors above all)
 * is logged through the main logger.
 */
export function accessLogger(log: Logger): Logger {
  return log.child({}, { redact: { paths: redactPaths.filter((p) => /^(req|res)\./.test(p)), censor: '[redacted]' } });
}

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
const noop = () => {};

/**
 * `log.child(bindings)`, made only when something is logged through it. A child's bindings are
 * serialized (and redacted) when it is made; a step makes one per attempt and most attempts log
 * nothing, so under a flood the eager child was a measurable share of the hub's CPU.
 */
export function lazyChild(log: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined;
  const real = () => (child ??= log.child(bindings));
  return new Proxy({} as Logger, {
    get(_target, key) {
      // A call at a level that is off writes nothing: no child needed for it.
      if (!child && typeof key === 'string' && LEVELS.has(key) && !log.isLevelEnabled(key)) return noop;
      const value = Reflect.get(real(), key);
      return typeof value === 'function' ? value.bind(real()) : value;
    },
    set(_target, key, value) {
      return Reflect.set(real(), key, value);
    },
    has(_target, key) {
      return Reflect.has(real(), key);
    },
  });
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'dingbridge' },
      redact: { paths: redactPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

/**
 * Paths that carry a secret in a segment (e.g. a catch hook's token, `/hooks/catch/:hookId/:token`).
 * Each pattern's first group is the part kept; the rest of the match is replaced. Features register
 * their own, so this file names none of them.
 */
const secretPaths: RegExp[] = [];
export function registerSecretPath(pattern: RegExp): void {
  if (!secretPaths.some((p) => p.source === pattern.source)) secretPaths.push(pattern);
}

/**
 * A URL as it may be logged: the query string is dropped whole (OAuth `state` and `code`, tokens some
 * senders put there) and registered secret path segments are replaced.
 */
export function loggableUrl(url: string): string {
  const cut = url.search(/[?#]/);
  let path = cut === -1 ? url : url.slice(0, cut);
  try {
    path = decodeURI(path);
  } catch {
    /* keep it as sent */
  }
  for (const p of secretPaths) path = path.replace(p, '$1[redacted]');
  return cut === -1 ? path : `${path}?[redacted]`;
}

/** Request headers whose values are logged; every other header is logged by name only. */
const LOGGED_HEADERS = new Set([
  'host',
  'user-agent',
  'content-type',
  'content-length',
  'accept',
  'x-request-id',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-real-ip',
  'origin',
  'webhook-id',
  'x-github-event',
  'x-dingtalk-event',
]);

interface SerializedRequest {
  id?: unknown;
  method?: string;
  url?: string;
  headers?: Record<string, unknown>;
  remoteAddress?: string;
  remotePort?: number;
  [k: string]: unknown;
}

/** pino-http's `req` serializer: method, safe URL, allow-listed headers; never query, params or body. */
export function requestSerializer(req: SerializedRequest): Record<string, unknown> {
  const headers: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(req.headers ?? {}))
    headers[name] = LOGGED_HEADERS.has(name.toLowerCase()) ? value : '[redacted]';
  return {
    id: req.id,
    method: req.method,
    url: loggableUrl(String(req.url ?? '')),
    headers,
    remoteAddress: req.remoteAddress,
    remotePort: req.remotePort,
  };
}

/** pino-http's `res` serializer: the status and the response's non-secret headers. */
export function responseSerializer(res: { statusCode?: number; headers?: Record<string, unknown> }): Record<string, unknown> {
  const headers: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(res.headers ?? {}))
    headers[name] = name.toLowerCase() === 'set-cookie' || name.toLowerCase() === 'location' ? '[redacted]' : value;
  return { statusCode: res.statusCode, headers };
}
