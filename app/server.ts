import crypto from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { pinoHttp } from 'pino-http';
import { HttpError } from '../core/errors.ts';
import { accessLogger, requestSerializer, responseSerializer } from '../core/logger.ts';
import type { Runtime } from '../core/runtime.ts';
import { QUEUE_NAMES } from '../core/queue/queues.ts';
import { sql } from 'kysely';

/** The HTTP app: health, readiness and metrics here; every feature's routes come in as routers (see routes.ts). */
export function createServer(rt: Runtime, routers: Router[]): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(
    pinoHttp({
      logger: accessLogger(rt.log),
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : crypto.randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      // Query strings, secret path segments and most header values stay out of the access log (core/logger.ts).
      serializers: { req: requestSerializer, res: responseSerializer },
      autoLogging: {
        ignore: (req) => {
          const path = (req.url ?? '').split('?')[0];
          return path === '/healthz' || path === '/metrics';
        },
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    }),
  );

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    await Promise.all([
      sql`select 1`.execute(rt.db).then(
        () => {
          checks.database = 'ok';
        },
        (e: Error) => {
          checks.database = `error: ${e.message}`;
        },
      ),
      rt.queue.ping().then(
        () => {
          checks.queue = 'ok';
        },
        (e: Error) => {
          checks.queue = `error: ${e.message}`;
        },
      ),
    ]);
    const ready = Object.values(checks).every((v) => v === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks, queueBackend: rt.queue.backend });
  });
  app.get('/metrics', async (req, res, next) => {
    const token = rt.settings.DINGBRIDGE_METRICS_TOKEN;
    if (token) {
      const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim() ?? '';
      const a = crypto.createHash('sha256').update(given).digest();
      const b = crypto.createHash('sha256').update(token).digest();
      if (!given || !crypto.timingSafeEqual(a, b)) {
        res.setHeader('www-authenticate', 'Bearer realm="metrics"');
        return next(new HttpError(401, 'unauthenticated', 'GET /metrics needs DINGBRIDGE_METRICS_TOKEN as a Bearer token'));
      }
    }
    for (const name of Object.values(QUEUE_NAMES)) {
      try {
        const counts = await rt.queue.counts(name);
        for (const [state, n] of Object.entries(counts)) rt.metrics.queueDepth.set({ queue: name, state }, n);
      } catch {
        /* depth is best effort; readiness reports the outage */
      }
    }
    res.setHeader('content-type', rt.metrics.registry.contentType);
    res.send(await rt.metrics.registry.metrics());
  });

  for (const router of routers) app.use(router);

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}`));
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { status, body } = toErrorResponse(err);
    if (status === 503) {
      res.setHeader('retry-after', String(STORE_RETRY_AFTER_S));
      rt.log.warn({ err: (err as Error)?.message, reqId: req.id }, 'store unavailable; answered 503');
    } else if (status >= 500) rt.log.error({ err, reqId: req.id }, 'request failed');
    if (!res.headersSent) res.status(status).json(body);
  });
  return app;
}

/** Every error answers {error:{code,message}}; internal details never leave the process. */
export function toErrorResponse(err: unknown): { status: number; body: { error: Record<string, unknown> } } {
  if (err instanceof HttpError) return { status: err.status, body: { error: { code: err.code, message: err.message, ...err.extra } } };
  const e = err as { type?: string; status?: number; limit?: number };
  if (e?.type === 'entity.too.large')
    return {
      status: 413,
      body: { error: { code: 'payload_too_large', message: `the body is larger than the limit of ${e.limit} bytes` } },
    };
  if (e?.type === 'entity.parse.failed')
    return { status: 400, body: { error: { code: 'invalid_json', message: 'the body is not valid JSON' } } };
  if (e?.type === 'request.aborted')
    return { status: 400, body: { error: { code: 'request_aborted', message: 'the request was aborted' } } };
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500)
    return { status: e.status, body: { error: { code: 'bad_request', message: 'the request could not be read' } } };
  if (isStoreUnavailable(err))
    return {
      status: 503,
      body: { error: { code: 'store_unavailable', message: 'the database is unreachable; nothing was stored: send it again later' } },
    };
  return { status: 500, body: { error: { code: 'internal', message: 'internal error; see the hub log' } } };
}

/** Seconds a sender is asked to wait (Retry-After) when the store is down. */
export const STORE_RETRY_AFTER_S = 5;

/**
 * The database could not be reached or went away mid-request (refused, reset, timed out, shutting down):
 * the request stored nothing and may be sent again. Intake answers 503 with Retry-After, never 200.
 */
export function isStoreUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/^08/.test(code) || ['57P01', '57P02', '57P03', '53300'].includes(code)) return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code))
    return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|the database system is (starting up|shutting down)/i.test(
    message,
  );
}
