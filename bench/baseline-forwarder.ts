/**
 * The baseline: the least a webhook relay can do. For each POST it checks the same HMAC signature
 * the hub checks, forwards the body to the sink with fetch and answers 200 once the sink answered.
 * It stores nothing and has no queue, so a crash loses whatever is in flight — the hub's figures are
 * compared with it to show the cost of durability.
 *
 * Env: PORT (0 = any free port), SINK_URL, HOOK_SECRET. Prints `baseline listening on <url>`.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';

const sinkUrl = process.env.SINK_URL;
const secret = process.env.HOOK_SECRET;
if (!sinkUrl || !secret) {
  process.stderr.write('baseline-forwarder needs SINK_URL and HOOK_SECRET\n');
  process.exit(2);
}

const app = express();
app.disable('x-powered-by');
app.get('/healthz', (_req: Request, res: Response) => {
  res.json({ status: 'ok' });
});
app.post('/hooks/catch/:hookId', express.raw({ type: () => true, limit: 1_048_576 }), async (req: Request, res: Response) => {
  const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const given = String(req.headers['x-signature'] ?? '')
    .replace(/^sha256=/i, '')
    .trim();
  const expected = crypto.createHmac('sha256', secret).update(raw).digest('hex');
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) {
    res.status(401).json({ error: 'signature_invalid' });
    return;
  }
  try {
    const answer = await fetch(sinkUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: raw.toString('utf8'),
      signal: AbortSignal.timeout(15_000),
    });
    await answer.arrayBuffer();
    res.status(answer.ok ? 200 : 502).json({ forwarded: answer.ok });
  } catch (err) {
    res.status(502).json({ error: (err as Error).message });
  }
});

const server = http.createServer(app);
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`baseline listening on http://127.0.0.1:${port}\n`);
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
