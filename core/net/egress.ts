import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

/**
 * The SSRF guard for every outbound call to an address a user typed (REST-hook targets, `http.post`).
 *
 * - Loopback, private, link-local, carrier-grade NAT, multicast/reserved and cloud metadata addresses
 *   are refused unless DINGBRIDGE_EGRESS_ALLOW names the host (exact, or `*.suffix`) or an IP/CIDR
 *   covering the address.
 * - The check runs on the address the socket actually connects to: the hostname is resolved by our
 *   own `lookup` inside the connection, so a DNS answer that changes between a check and the connect
 *   (DNS rebinding) cannot slip through. IP literals are checked before connecting.
 * - Redirects are never followed: a 3xx is handed back to the caller as it is.
 *
 * The policy is process-wide: the hub sets it from its settings when its API or workers start
 * (`setEgressPolicy`); until then it is read from the process environment.
 */
export class EgressError extends Error {
  readonly code = 'egress_refused';
  constructor(message: string) {
    super(message);
    this.name = 'EgressError';
  }
}

type Kind = 'loopback' | 'private' | 'link-local' | 'metadata' | 'carrier-grade NAT' | 'reserved' | 'multicast' | 'unspecified';

const RANGES: [Kind, string, number, 'ipv4' | 'ipv6'][] = [
  ['metadata', '169.254.169.254', 32, 'ipv4'],
  ['metadata', '100.100.100.200', 32, 'ipv4'], // Alibaba Cloud
  ['metadata', 'fd00:ec2::254', 128, 'ipv6'], // AWS IPv6
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['carrier-grade NAT', '100.64.0.0', 10, 'ipv4'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['link-local', '169.254.0.0', 16, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['reserved', '192.0.0.0', 24, 'ipv4'],
  ['reserved', '192.0.2.0', 24, 'ipv4'],
  ['reserved', '192.88.99.0', 24, 'ipv4'], // 6to4 relay anycast (deprecated)
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['reserved', '198.18.0.0', 15, 'ipv4'],
  ['reserved', '198.51.100.0', 24, 'ipv4'],
  ['reserved', '203.0.113.0', 24, 'ipv4'],
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['reserved', '240.0.0.0', 4, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  ['private', 'fc00::', 7, 'ipv6'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  ['private', 'fec0::', 10, 'ipv6'], // the old site-local range
  ['multicast', 'ff00::', 8, 'ipv6'],
  ['reserved', '2001::', 23, 'ipv6'], // IETF protocol assignments, Teredo 2001::/32 among them
  ['reserved', '2001:db8::', 32, 'ipv6'],
  ['reserved', '3fff::', 20, 'ipv6'], // documentation (RFC 9637)
  ['reserved', '100::', 64, 'ipv6'],
];

const lists = new Map<Kind, net.BlockList>();
for (const [kind, addr, prefix, family] of RANGES) {
  let list = lists.get(kind);
  if (!list) {
    list = new net.BlockList();
    lists.set(kind, list);
  }
  list.addSubnet(addr, prefix, family);
}

/** Global unicast IPv6 (2000::/3); anything outside it is not a place the hub calls. */
const GLOBAL_UNICAST_V6 = new net.BlockList();
GLOBAL_UNICAST_V6.addSubnet('2000::', 3, 'ipv6');

type Embedding = { v4: string; routable: boolean };

/**
 * An IPv4 address carried inside an IPv6 one, which is what the packet reaches: mapped (::ffff:0:0/96),
 * IPv4-compatible (::/96, deprecated), IPv4-translated (::ffff:0:0:0/96), NAT64 (64:ff9b::/96 and the
 * local-use 64:ff9b:1::/48) and 6to4 (2002::/16). `routable` says whether the wrapper itself may carry
 * a public address out (mapped, well-known NAT64 and 6to4 may; the deprecated and local-use forms never).
 */
function embedding(words: number[]): Embedding | undefined {
  const toV4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zero = (from: number, to: number) => words.slice(from, to).every((w) => w === 0);
  if (zero(0, 5) && words[5] === 0xffff) return { v4: toV4(words[6]!, words[7]!), routable: true };
  if (zero(0, 6)) return { v4: toV4(words[6]!, words[7]!), routable: false };
  if (zero(0, 4) && words[4] === 0xffff && words[5] === 0) return { v4: toV4(words[6]!, words[7]!), routable: false };
  if (words[0] === 0x64 && words[1] === 0xff9b && zero(2, 6)) return { v4: toV4(words[6]!, words[7]!), routable: true };
  if (words[0] === 0x64 && words[1] === 0xff9b && words[2] === 1) return { v4: toV4(words[6]!, words[7]!), routable: false };
  if (words[0] === 0x2002) return { v4: toV4(words[1]!, words[2]!), routable: true };
  return undefined;
}

function embeddedIpv4(ip: string): string | undefined {
  const words = expandIpv6(ip.toLowerCase());
  return words ? embedding(words)?.v4 : undefined;
}

function expandIpv6(ip: string): number[] | undefined {
  if (!net.isIPv6(ip)) return undefined;
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const p = v4[1]!.split('.').map(Number);
    text = text.slice(0, -v4[1]!.length) + `${((p[0]! << 8) | p[1]!).toString(16)}:${((p[2]! << 8) | p[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array(8 - h.length - t.length).fill('0');
  const all = [...h, ...fill, ...t].map((w) => parseInt(w || '0', 16));
  return all.length === 8 && all.every((w) => w >= 0 && w <= 0xffff) ? all : undefined;
}

/**
 * What kind of non-public address this is, or undefined for a globally routable unicast one. Anything
 * that is not understood is 'reserved' (refused), so a new spelling fails closed.
 */
export function addressKind(ip: string): Kind | undefined {
  const family = net.isIPv4(ip) ? 'ipv4' : net.isIPv6(ip) ? 'ipv6' : undefined;
  if (!family) return 'reserved';
  if (family === 'ipv4') {
    for (const kind of lists.keys()) if (lists.get(kind)!.check(ip, family)) return kind;
    return undefined;
  }
  const bare = ip.split('%')[0]!.toLowerCase();
  const words = expandIpv6(bare);
  if (!words) return 'reserved';
  if (words.every((w) => w === 0)) return 'unspecified';
  if (words.slice(0, 7).every((w) => w === 0) && words[7] === 1) return 'loopback';
  const inner = embedding(words);
  if (inner) return addressKind(inner.v4) ?? (inner.routable ? undefined : 'reserved');
  for (const kind of lists.keys()) if (lists.get(kind)!.check(bare, family)) return kind;
  if (!GLOBAL_UNICAST_V6.check(bare, 'ipv6')) return 'reserved';
  return undefined;
}

export interface EgressPolicy {
  hosts: string[];
  addresses: net.BlockList;
  text: string;
}

export function parseEgressAllow(text: string): EgressPolicy {
  const hosts: string[] = [];
  const addresses = new net.BlockList();
  for (const raw of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [addr, prefix] = raw.replace(/^\[|\]$/g, '').split('/') as [string, string | undefined];
    const family = net.isIPv4(addr) ? 'ipv4' : net.isIPv6(addr) ? 'ipv6' : undefined;
    if (family) {
      const bits = prefix === undefined ? (family === 'ipv4' ? 32 : 128) : Number(prefix);
      if (!Number.isInteger(bits) || bits < 0 || bits > (family === 'ipv4' ? 32 : 128))
        throw new Error(`DINGBRIDGE_EGRESS_ALLOW: "${raw}" has a bad prefix length`);
      addresses.addSubnet(addr, bits, family);
      const v4 = family === 'ipv6' ? undefined : addr;
      if (v4 && bits === 32) addresses.addAddress(`::ffff:${v4}`, 'ipv6');
    } else if (/^(\*\.)?[a-z0-9.-]+$/i.test(raw)) {
      hosts.push(raw.toLowerCase());
    } else {
      throw new Error(`DINGBRIDGE_EGRESS_ALLOW: "${raw}" is neither a host name, an IP address nor a CIDR`);
    }
  }
  return { hosts, addresses, text };
}

let policy: EgressPolicy | undefined;
export function setEgressPolicy(allowText: string): void {
  policy = parseEgressAllow(allowText);
}
export function egressPolicy(): EgressPolicy {
  policy ??= parseEgressAllow(process.env.DINGBRIDGE_EGRESS_ALLOW ?? '');
  return policy;
}

function hostAllowed(p: EgressPolicy, host: string): boolean {
  const h = host.toLowerCase();
  return p.hosts.some((a) => (a.startsWith('*.') ? h.endsWith(a.slice(1)) : a === h));
}

/** Throws EgressError when `ip` (reached for `host`) is not public and not allowed. */
export function checkAddress(host: string, ip: string, p: EgressPolicy = egressPolicy()): void {
  const kind = addressKind(ip);
  if (!kind) return;
  if (hostAllowed(p, host)) return;
  const family = net.isIPv4(ip) ? 'ipv4' : 'ipv6';
  if (p.addresses.check(ip, family)) return;
  const v4 = family === 'ipv6' ? embeddedIpv4(ip) : undefined;
  if (v4 && p.addresses.check(v4, 'ipv4')) return;
  const shown = host === ip ? ip : `${host} (${ip})`;
  throw new EgressError(`outbound call to ${shown} refused: it is a ${kind} address; allow it with DINGBRIDGE_EGRESS_ALLOW`);
}

/** Checks what can be checked before connecting: the scheme, and IP literals. Throws EgressError. */
export function checkUrl(url: string, p: EgressPolicy = egressPolicy()): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new EgressError(`"${url}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new EgressError(`only http and https URLs may be called (got ${u.protocol})`);
  if (u.username || u.password) throw new EgressError('URLs with credentials in them are not called');
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(host)) checkAddress(host, host, p);
  return u;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/** A `lookup` for sockets: resolves, then refuses the connection when any resolved address is not allowed. */
export function guardedLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '');
    try {
      for (const a of addresses) checkAddress(hostname, a.address);
    } catch (e) {
      return callback(e as NodeJS.ErrnoException, '');
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '');
    callback(null, first.address, first.family);
  });
}

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 256, lookup: guardedLookup as never }),
  https: new https.Agent({ keepAlive: true, maxSockets: 256, lookup: guardedLookup as never }),
};

export interface EgressResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  header(name: string): string | undefined;
}

/**
 * One HTTP request to a user-typed URL through the guard, its body read as text (at most
 * `maxBodyBytes`, default 64 KB). A thin form of `egressFetch`: the same path, the same guard.
 */
export async function egressRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs: number; maxBodyBytes?: number },
): Promise<EgressResponse> {
  const res = await egressFetch(url, { method: opts.method, headers: opts.headers, body: opts.body, timeoutMs: opts.timeoutMs });
  const body = (await res.buffer(opts.maxBodyBytes ?? 65_536, { truncate: true })).toString('utf8');
  return { status: res.status, headers: res.headers, body, header: res.header };
}

const plainAgents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 256 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 256 }),
};

/** An origin the operator set (a provider's `*_BASE_URL`, a connection's admin-set base URL): its address is not checked. */
const trustedOrigins = new Set<string>();
export function trustOrigin(url: string): void {
  try {
    const u = new URL(url);
    if (u.protocol === 'http:' || u.protocol === 'https:') trustedOrigins.add(u.origin);
  } catch {
    /* not a URL: nothing to trust */
  }
}
export function isTrustedOrigin(url: string | URL): boolean {
  try {
    return trustedOrigins.has(new URL(url).origin);
  } catch {
    return false;
  }
}

export interface EgressFetchOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Text, bytes, or a stream (sent chunked unless a content-length header is given). */
  body?: string | Buffer | Uint8Array | NodeJS.ReadableStream;
  /** No answer (headers) within this time, or this long without a byte of the body: a TimeoutError. */
  timeoutMs: number;
  /** The caller vouches that the operator set this URL (e.g. a connection's admin-set base URL): its address is not checked. */
  trusted?: boolean;
}

export interface EgressStreamResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  header(name: string): string | undefined;
  /** The body as a stream (read it, or call `discard`). */
  body: http.IncomingMessage;
  /** The whole body; above `maxBytes` it is cut (`truncate`) or an error. */
  buffer(maxBytes?: number, opts?: { truncate?: boolean }): Promise<Buffer>;
  text(maxBytes?: number): Promise<string>;
  discard(): void;
}

const timeoutError = (ms: number) => Object.assign(new Error(`no answer within ${ms} ms`), { name: 'TimeoutError', code: 'ETIMEDOUT' });

/**
 * The hub's one outbound HTTP path. Every call (user-typed URLs, provider APIs, token endpoints) goes
 * through it: the scheme and IP literals are checked first, the resolved address on the socket itself
 * (DNS rebinding cannot slip through), redirects are never followed, and no answer within `timeoutMs`
 * ends the request. Origins the operator set (`trustOrigin`, or `trusted: true` from a caller holding
 * an admin-set URL) skip the address check. Bodies stream both ways.
 */
export function egressFetch(url: string, opts: EgressFetchOptions): Promise<EgressStreamResponse> {
  let u: URL;
  try {
    u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new EgressError(`only http and https URLs may be called (got ${u.protocol})`);
    if (u.username || u.password) throw new EgressError('URLs with credentials in them are not called');
  } catch (err) {
    return Promise.reject(err instanceof EgressError ? err : new EgressError(`"${url}" is not a URL`));
  }
  const trusted = opts.trusted === true || isTrustedOrigin(u);
  if (!trusted) {
    try {
      checkUrl(url);
    } catch (err) {
      return Promise.reject(err);
    }
  }
  return new Promise((resolve, reject) => {
    const lib = u.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const body = opts.body;
    const streamed = body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array);
    if (body !== undefined && !streamed && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
      headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : (body as Uint8Array).byteLength);
    }
    const pool = trusted ? plainAgents : agents;
    // The one-argument options form: libraries that wrap http.request (e.g. for logging) expect it.
    const req = lib.request(
      {
        protocol: u.protocol,
        hostname: u.hostname.replace(/^\[|\]$/g, ''),
        port: u.port || undefined,
        path: `${u.pathname}${u.search}`,
        method: opts.method ?? 'GET',
        headers,
        agent: u.protocol === 'https:' ? pool.https : pool.http,
        ...(trusted ? {} : { lookup: guardedLookup as never }),
      },
      (res) => {
        clearTimeout(timer);
        // From here on the timeout is an idle one: a slow but moving download is fine.
        res.setTimeout?.(opts.timeoutMs, () => res.destroy(timeoutError(opts.timeoutMs)));
        req.setTimeout(opts.timeoutMs, () => req.destroy(timeoutError(opts.timeoutMs)));
        const header = (name: string) => {
          const v = res.headers[name.toLowerCase()];
          return Array.isArray(v) ? v[0] : v;
        };
        const buffer = (maxBytes = 65_536, o: { truncate?: boolean } = {}) =>
          new Promise<Buffer>((done, fail) => {
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (c: Buffer) => {
              if (size + c.length > maxBytes && !o.truncate) {
                res.destroy();
                fail(new Error(`the answer is larger than ${maxBytes} bytes`));
                return;
              }
              if (size < maxBytes) chunks.push(c.subarray(0, maxBytes - size));
              size += c.length;
            });
            res.on('end', () => done(Buffer.concat(chunks)));
            res.on('error', fail);
            res.on('close', () => {
              if (!res.complete) fail(res.errored ?? new Error('the answer was cut off'));
            });
          });
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          header,
          body: res,
          buffer,
          text: async (maxBytes?: number) => (await buffer(maxBytes, { truncate: true })).toString('utf8'),
          discard: () => {
            res.resume();
          },
        });
      },
    );
    const timer = setTimeout(() => req.destroy(timeoutError(opts.timeoutMs)), opts.timeoutMs);
    req.on('error', (err: Error & { code?: string }) => {
      clearTimeout(timer);
      reject(err);
    });
    if (body === undefined) req.end();
    else if (streamed) {
      const src = body as NodeJS.ReadableStream & { on: (e: string, f: (err: Error) => void) => void };
      src.on('error', (err) => req.destroy(err));
      src.pipe(req);
    } else req.end(body);
  });
}
