import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** Keys whose values are never logged, wherever they appear. */
const SECRET_KEYS = ['secret', 'password', 'token', 'accessToken', 'refreshToken', 'access_token', 'refresh_token', 'apiKey', 'api_key', 'clientSecret', 'client_secret', 'appSecret', 'authorization', 'cookie', 'signature', 'sign'];

const redactPaths = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-signature"]', 'req.headers["webhook-signature"]',
  'req.headers["x-trello-webhook"]', 'req.headers["x-acs-dingtalk-access-token"]',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({
    level,
    base: { service: 'dingbridge' },
    redact: { paths: redactPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  }, destination);
}
