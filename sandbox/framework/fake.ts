import express, { type Express, type Request, type Response, type NextFunction } from 'express';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { FaultPlan, type FaultSpec } from './faults.ts';
import { CallLog } from './call-log.ts';
import { selfSignedCertificate } from './tls.ts';

/**
 * A local fake of one provider's HTTP API. State lives in memory. Every fake gets:
 * - a call log (GET /__sandbox/calls, DELETE /__sandbox/calls),
 * - fault injection (POST /__sandbox/faults, DELETE /__sandbox/faults),
 * - a reset (POST /__sandbox/reset),
 * and adds its own provider routes and control routes in `setup`.
 */
export interface FakeContext {
  readonly name: string;
  /** Base URL once started, e.g. http://127.0.0.1:43121 */
  baseUrl(): string;
  readonly calls: CallLog;
  readonly faults: FaultPlan;
}

export interface FakeDefinition<S> {
  name: string;
  /** Serve over TLS with a generated self-signed certificate (DocuSign's SDK needs HTTPS). */
  tls?: boolean;
  /** Builds fresh in-memory state (called at start and on reset). */
  initialState: () => S;
  /** Paths the call log and fault plan ignore besides /__sandbox (e.g. static pages). */
  ignorePaths?: RegExp[];
  /** Registers control routes (under /__sandbox/...) and provider routes. */
  setup: (app: Express, fake: RunningFakeInternals<S>) => void;
  /** Provider's error body for an injected fault with this status. */
  faultBody?: (status: number, spec: FaultSpec) => unknown;
  /** Called when the fake stops (timers, sockets). */
  teardown?: (fake: RunningFakeInternals<S>) => Promise<void> | void;
}

export interface RunningFakeInternals<S> extends FakeContext {
  state: S;
}

export interface RunningFake<S> extends RunningFakeInternals<S> {
  readonly port: number;
  readonly server: http.Server | https.Server;
  /** PEM of the self-signed certificate when tls is on (for clients that must trust it). */
  readonly certificatePem?: string;
  reset(): void;
  stop(): Promise<void>;
}

export async function startFake<S>(def: FakeDefinition<S>, opts: { port?: number; host?: string } = {}): Promise<RunningFake<S>> {
  const host = opts.host ?? '127.0.0.1';
  const calls = new CallLog();
  const faults = new FaultPlan();
  let base = '';
  const fake: RunningFakeInternals<S> = {
    name: def.name,
    baseUrl: () => base,
    calls,
    faults,
    state: def.initialState(),
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Raw body is kept for signature checks; JSON and forms are parsed from it.
  app.use(express.raw({ type: () => true, limit: '20mb' }));
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    (req as Request & { rawBody: Buffer }).rawBody = raw;
    const type = String(req.headers['content-type'] ?? '');
    let parsed: unknown = undefined;
    if (raw.length > 0 && type.includes('json')) {
      try {
        parsed = JSON.parse(raw.toString('utf8'));
      } catch {
        parsed = undefined;
      }
    } else if (raw.length > 0 && type.includes('x-www-form-urlencoded')) {
      parsed = Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
    }
    req.body = parsed;
    next();
  });

  const isControl = (path: string) => path.startsWith('/__sandbox') || (def.ignorePaths ?? []).some((re) => re.test(path));

  app.use((req: Request, res: Response, next: NextFunction) => {
    if (isControl(req.path)) return next();
    const entry = calls.record(req);
    res.on('finish', () => {
      entry.status = res.statusCode;
    });
    const fault = faults.take(req);
    if (!fault) return next();
    entry.fault = fault.kind;
    applyFault(fault, req, res, next, def);
  });

  app.get('/__sandbox/calls', (req, res) => {
    res.json({ calls: calls.list({ path: req.query.path as string | undefined, method: req.query.method as string | undefined }) });
  });
  app.delete('/__sandbox/calls', (_req, res) => {
    calls.clear();
    res.json({ ok: true });
  });
  app.post('/__sandbox/faults', (req, res) => {
    try {
      const spec = faults.add(req.body);
      res.status(201).json({ fault: spec });
    } catch (err) {
      res.status(400).json({ error: { code: 'bad_fault', message: (err as Error).message } });
    }
  });
  app.get('/__sandbox/faults', (_req, res) => {
    res.json({ faults: faults.list() });
  });
  app.delete('/__sandbox/faults', (_req, res) => {
    faults.clear();
    res.json({ ok: true });
  });
  app.post('/__sandbox/reset', (_req, res) => {
    running.reset();
    res.json({ ok: true });
  });

  def.setup(app, fake);

  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: { code: 'not_found', message: `${def.name} fake has no route ${req.method} ${req.path}` } });
  });
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ error: { code: 'fake_error', message: err.message } });
  });

  let certificatePem: string | undefined;
  let server: http.Server | https.Server;
  if (def.tls) {
    const cert = await selfSignedCertificate();
    certificatePem = cert.cert;
    server = https.createServer({ key: cert.key, cert: cert.cert }, app);
  } else {
    server = http.createServer(app);
  }
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  base = `${def.tls ? 'https' : 'http'}://${host}:${port}`;

  const running: RunningFake<S> = Object.assign(fake, {
    port,
    server,
    certificatePem,
    reset() {
      fake.state = def.initialState();
      calls.clear();
      faults.clear();
    },
    async stop() {
      await def.teardown?.(fake);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
  return running;
}

function applyFault<S>(fault: FaultSpec, _req: Request, res: Response, next: NextFunction, def: FakeDefinition<S>): void {
  switch (fault.kind) {
    case 'delay':
      setTimeout(next, fault.ms ?? 1000);
      return;
    case 'drop':
      // Close the socket without an answer: the client sees a connection reset.
      res.socket?.destroy();
      return;
    case 'status': {
      const status = fault.status ?? 500;
      if (fault.retryAfter !== undefined) res.setHeader('Retry-After', String(fault.retryAfter));
      for (const [k, v] of Object.entries(fault.headers ?? {})) res.setHeader(k, v);
      const body = fault.body ?? def.faultBody?.(status, fault) ?? { error: { code: `fault_${status}`, message: `injected ${status}` } };
      // A string body is sent as text/plain: some providers (Trello) answer errors in plain text.
      if (typeof body === 'string') res.status(status).type('text/plain').send(body);
      else res.status(status).json(body);
      return;
    }
    default:
      // Token faults ('expired_token', 'revoked_token') are handled by the fake's own auth check via faults.peekAuthFault().
      next();
  }
}
