import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SinkRequest {
  at: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: unknown;
}
export interface SinkReply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
}

/**
 * A receiver for outbound calls: records every request; answers from a script of replies (then
 * the default reply). `waitFor(n)` resolves when n requests have arrived.
 */
export async function startSink(defaultReply: SinkReply = { status: 200, body: '{"ok":true}' }) {
  const requests: SinkRequest[] = [];
  const script: SinkReply[] = [];
  let fallback = defaultReply;
  const waiters: { n: number; resolve: () => void }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      requests.push({ at: Date.now(), headers: req.headers, body, json });
      for (const w of [...waiters])
        if (requests.length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      const reply = script.shift() ?? fallback;
      const send = () => {
        res.writeHead(reply.status, { 'content-type': 'application/json', ...(reply.headers ?? {}) });
        res.end(reply.body ?? '{}');
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sink`;
  return {
    url,
    requests,
    /** Replies for the next requests, in order. */
    reply(...replies: SinkReply[]) {
      script.push(...replies);
    },
    setDefault(reply: SinkReply) {
      fallback = reply;
    },
    waitFor(n: number, timeoutMs = 20_000): Promise<void> {
      if (requests.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`sink got ${requests.length} of ${n} requests within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
export type Sink = Awaited<ReturnType<typeof startSink>>;
