/**
 * The sink: the final destination of every benchmark event, run as its own process so that its
 * arrival timestamps are not delayed by the load generator's event loop.
 *
 *   POST <any path>       records {seq, sentAt} from the JSON body with its arrival time; answers 200
 *   GET  /__stats?from&to  {total, distinct, inRange, lastArrivalAt}: inRange counts distinct seqs in [from, to)
 *   GET  /__records?from&to  every delivery with from <= seq < to, as [seq, sentAt, arrivalAt] triples
 *
 * Prints `sink listening on <url>` once it accepts requests. Env: PORT (default 0 = any free port).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

type Delivery = [seq: number, sentAt: number, arrivalAt: number];

const deliveries: Delivery[] = [];
const seen = new Set<number>();
let lastArrivalAt = 0;
let unparsable = 0;

function rangeOf(url: URL): [number, number] {
  const from = Number(url.searchParams.get('from') ?? 0);
  const to = Number(url.searchParams.get('to') ?? Number.MAX_SAFE_INTEGER);
  return [Number.isFinite(from) ? from : 0, Number.isFinite(to) ? to : Number.MAX_SAFE_INTEGER];
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://sink');
  if (req.method === 'GET' && url.pathname === '/__stats') {
    const [from, to] = rangeOf(url);
    let inRange = 0;
    for (const seq of seen) if (seq >= from && seq < to) inRange += 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ total: deliveries.length, distinct: seen.size, inRange, lastArrivalAt, unparsable }));
    return;
  }
  if (req.method === 'GET' && url.pathname === '/__records') {
    const [from, to] = rangeOf(url);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(deliveries.filter(([seq]) => seq >= from && seq < to)));
    return;
  }
  if (req.method !== 'POST') {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const arrivalAt = Date.now();
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { seq?: unknown; sentAt?: unknown };
      const seq = Number(body.seq);
      const sentAt = Number(body.sentAt);
      if (!Number.isInteger(seq) || !Number.isFinite(sentAt)) throw new Error('no seq/sentAt');
      deliveries.push([seq, sentAt, arrivalAt]);
      seen.add(seq);
      lastArrivalAt = arrivalAt;
    } catch {
      unparsable += 1;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
});
server.keepAliveTimeout = 65_000;

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`sink listening on http://127.0.0.1:${port}\n`);
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
