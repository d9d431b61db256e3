import type { Readable } from 'node:stream';
import type { ConnectionHandle } from '../connector.ts';
import { needsReauth, parseRetryAfter, permanent, retryable, StepError, type ErrorClass } from '../errors.ts';
import { EgressError, egressFetch, type EgressStreamResponse } from '../net/egress.ts';

/**
 * One HTTP client for every connector: the egress path, timeouts, JSON and binary bodies, auth
 * through the connection handle (refresh once on an expired-token answer), paging, and the
 * provider's rate-limit and retry rules as data, mapped to the step error classes.
 */

/** A header that says how long to wait: `Retry-After` (seconds or a date), or a window length in ms / s. */
export interface WaitHeader {
  name: string;
  unit: 'retry-after' | 'ms' | 's';
}

export interface ProviderRules {
  /** Statuses meaning "slow down" (default [429]). */
  throttledStatuses?: number[];
  /** Statuses meaning "this token is expired" besides the connection's own expiry signals. */
  expiredStatuses?: number[];
  /** Statuses that no retry can fix even though they would otherwise be retried (e.g. 501). */
  permanentStatuses?: number[];
  /** Where the body carries an error code: a dotted path (e.g. `errcode`, `error.code`). */
  codePath?: string;
  /** Body codes meaning success although the status is 200 (e.g. DingTalk's errcode 0); any other code is an error. */
  okCodes?: Array<string | number>;
  throttledCodes?: Array<string | number>;
  expiredCodes?: Array<string | number>;
  retryableCodes?: Array<string | number>;
  /** Headers carrying a wait, checked in order (default: Retry-After). */
  waitHeaders?: WaitHeader[];
  /** The wait when a throttled answer names none. */
  throttleDelayMs?: number;
  /** A provider quirk that is not data (e.g. one code meaning two things by its message): a StepError, or undefined for the rules above. */
  classify?: (status: number, body: unknown) => StepError | undefined;
}

export type ProviderAuth =
  /** `Authorization: Bearer <token>` from the connection; an expired answer refreshes once and calls again. */
  | { kind: 'bearer'; connection: ConnectionHandle }
  /** Anything else (a key in the query, a signature): applied to every call. */
  | { kind: 'custom'; apply: (url: URL, headers: Record<string, string>) => void | Promise<void> }
  | { kind: 'none' };

export interface ProviderClientOptions {
  /** Shown in errors: `Trello`, `DingTalk robot`. */
  name: string;
  /** Relative paths are resolved against it; its origin is allowed. */
  baseUrl?: string;
  /**
   * The origins calls may reach (default: the base URL's). A URL elsewhere is refused with a permanent
   * error naming them, before anything is sent. These are operator- or admin-set, so their addresses
   * are not checked by the SSRF guard (e.g. a sandbox on 127.0.0.1).
   */
  allowedOrigins?: string[];
  rules?: ProviderRules;
  auth?: ProviderAuth;
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** Records request and response (never the auth) on the step's attempt. */
  trace?: (entry: { request?: unknown; response?: unknown }) => void;
}

export interface ProviderRequest {
  method?: string;
  /** An absolute URL or a path under the base URL. */
  url: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** A JSON body. */
  json?: unknown;
  /** A raw body: text, bytes or a stream (with `contentType`). */
  body?: string | Buffer | Readable;
  contentType?: string;
  /** How the answer's body is read (default json: parsed when it is JSON, else text). */
  responseType?: 'json' | 'text' | 'buffer' | 'stream';
  /** Largest body read (not for streams); default 8 MB. */
  maxBytes?: number;
}

export interface ProviderResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  header(name: string): string | undefined;
}

const DEFAULT_MAX = 8 * 1024 * 1024;

function at(body: unknown, path: string | undefined): unknown {
  if (!path) return undefined;
  let v: unknown = body;
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}
const has = (list: Array<string | number> | undefined, code: unknown) =>
  code !== undefined && code !== null && (list ?? []).some((c) => String(c) === String(code));

/** How long an answer asks to wait, from the rules' headers (Retry-After by default). */
export function waitFromHeaders(header: (n: string) => string | undefined, rules: ProviderRules): number | undefined {
  for (const h of rules.waitHeaders ?? [{ name: 'retry-after', unit: 'retry-after' }]) {
    const v = header(h.name);
    if (!v) continue;
    if (h.unit === 'retry-after') {
      const ms = parseRetryAfter(v);
      if (ms !== undefined) return ms;
      continue;
    }
    const n = Number(v);
    if (Number.isFinite(n) && n >= 0) return Math.round(h.unit === 's' ? n * 1000 : n);
  }
  return undefined;
}

/**
 * The step error class of an answer, or undefined when it is a success. Order: the provider's quirk,
 * throttling, expired token, success, permanent, retryable (408/425/5xx and retryable codes), other 4xx.
 * A generic 401 is `needs_reauth` only when the call carried the connection's token.
 */
export function classifyAnswer(
  status: number,
  body: unknown,
  header: (n: string) => string | undefined,
  rules: ProviderRules,
  what: string,
  opts: { authenticated?: boolean } = {},
): StepError | undefined {
  const quirk = rules.classify?.(status, body);
  if (quirk) return quirk;
  const code = at(body, rules.codePath);
  const excerpt = typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body);
  const shown = `${what} answered ${status}${code !== undefined && code !== null && !has(rules.okCodes, code) ? ` (${String(code)})` : ''}${excerpt ? `: ${excerpt.slice(0, 200)}` : ''}`;
  const detail = { status, code: code === undefined || code === null ? undefined : String(code) };
  if ((rules.throttledStatuses ?? [429]).includes(status) || has(rules.throttledCodes, code)) {
    return retryable(`${shown}: throttled; tried again later`, {
      ...detail,
      retryAfterMs: waitFromHeaders(header, rules) ?? rules.throttleDelayMs ?? 60_000,
    });
  }
  if ((rules.expiredStatuses ?? []).includes(status) || has(rules.expiredCodes, code) || (status === 401 && opts.authenticated !== false)) {
    return needsReauth(`${shown}: the credentials were refused`, detail);
  }
  const okCode = rules.okCodes === undefined || code === undefined || has(rules.okCodes, code);
  if (status >= 200 && status < 300 && okCode) return undefined;
  if ((rules.permanentStatuses ?? []).includes(status)) return permanent(shown, detail);
  if (status === 408 || status === 425 || status >= 500 || has(rules.retryableCodes, code)) {
    return retryable(shown, { ...detail, retryAfterMs: waitFromHeaders(header, rules) });
  }
  if (status >= 300 && status < 400) return permanent(`${shown} (redirects are not followed)`, detail);
  return permanent(shown, detail);
}

/** Turns a failure to get any answer into a StepError: refused by the guard → permanent; else retryable. */
export function transportError(what: string, err: unknown): StepError {
  if (err instanceof StepError) return err;
  if (err instanceof EgressError) return permanent(`${what}: ${err.message}`, { code: err.code });
  const e = err as Error & { code?: string };
  return retryable(`${what} failed: ${e.name === 'TimeoutError' ? e.message : (e.code ?? e.message)}`, { code: e.code });
}

export class ProviderClient {
  private readonly origins: string[];
  constructor(readonly opts: ProviderClientOptions) {
    const list = opts.allowedOrigins ?? (opts.baseUrl ? [opts.baseUrl] : []);
    this.origins = list
      .map((o) => {
        try {
          return new URL(o).origin;
        } catch {
          return '';
        }
      })
      .filter(Boolean);
  }

  /** The origins calls may reach. */
  allowedOrigins(): string[] {
    return [...this.origins];
  }

  private resolve(req: ProviderRequest): URL {
    let u: URL;
    try {
      u =
        this.opts.baseUrl && !/^[a-z][a-z0-9+.-]*:/i.test(req.url)
          ? new URL(`${this.opts.baseUrl.replace(/\/+$/, '')}/${req.url.replace(/^\/+/, '')}`)
          : new URL(req.url);
    } catch {
      throw permanent(`${this.opts.name}: "${req.url}" is not a URL`);
    }
    if (!this.origins.includes(u.origin)) {
      throw permanent(
        `${this.opts.name}: ${u.origin} is not an allowed origin of this connection (allowed: ${this.origins.join(', ') || 'none'})`,
        { code: 'origin_not_allowed' },
      );
    }
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  /** One call; a non-success answer throws the StepError its rules give. */
  async request<T = unknown>(req: ProviderRequest): Promise<ProviderResponse<T>> {
    const res = await this.send(req);
    const error = classifyAnswer(
      res.status,
      res.body,
      res.header,
      this.opts.rules ?? {},
      `${this.opts.name} ${req.method ?? 'GET'} ${res.path}`,
      { authenticated: (this.opts.auth?.kind ?? 'none') !== 'none' },
    );
    if (error) {
      if (req.responseType === 'stream') (res.body as Readable).destroy?.();
      throw error;
    }
    return res as ProviderResponse<T>;
  }

  /** The parsed JSON body of a successful call. */
  async json<T = unknown>(req: ProviderRequest): Promise<T> {
    return (await this.request<T>({ ...req, responseType: 'json' })).body;
  }

  /**
   * Pages through a list: `next` gets each answer and returns the next request (or nothing when it
   * was the last page); `items` picks the page's items.
   */
  async *paginate<P, I>(
    first: ProviderRequest,
    next: (page: P, req: ProviderRequest) => ProviderRequest | undefined,
    items: (page: P) => I[],
    maxPages = 1000,
  ): AsyncGenerator<I> {
    let req: ProviderRequest | undefined = first;
    for (let n = 0; req && n < maxPages; n++) {
      const page: P = await this.json<P>(req);
      for (const item of items(page)) yield item;
      req = next(page, req);
    }
  }

  private async send(req: ProviderRequest): Promise<ProviderResponse & { path: string }> {
    const url = this.resolve(req);
    const method = req.method ?? 'GET';
    const auth = this.opts.auth ?? { kind: 'none' };
    const call = async (token?: string) => {
      const target = new URL(url);
      const headers: Record<string, string> = { accept: 'application/json', ...(this.opts.headers ?? {}), ...(req.headers ?? {}) };
      let body: string | Buffer | Readable | undefined = req.body;
      if (req.json !== undefined) {
        body = JSON.stringify(req.json);
        headers['content-type'] = 'application/json; charset=utf-8';
      } else if (req.contentType) headers['content-type'] = req.contentType;
      if (auth.kind === 'bearer' && token) headers.authorization = `Bearer ${token}`;
      if (auth.kind === 'custom') await auth.apply(target, headers);
      const what = `${this.opts.name} ${method} ${url.pathname}`;
      let res: EgressStreamResponse;
      try {
        res = await egressFetch(target.toString(), { method, headers, body, timeoutMs: this.opts.timeoutMs ?? 15_000, trusted: true });
      } catch (err) {
        throw transportError(what, err);
      }
      let parsed: unknown;
      try {
        const type = req.responseType ?? 'json';
        const ok = res.status >= 200 && res.status < 300;
        if (type === 'stream' && ok) parsed = res.body;
        else if (type === 'buffer' && ok) parsed = await res.buffer(req.maxBytes ?? DEFAULT_MAX);
        else {
          const text = await res.text(req.maxBytes ?? DEFAULT_MAX);
          parsed = text;
          if (type === 'json' || !ok) {
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              /* not JSON: the text */
            }
          }
        }
      } catch (err) {
        throw transportError(what, err);
      }
      return { status: res.status, body: parsed, headers: res.headers, header: res.header, path: url.pathname };
    };
    const traced = async (token?: string) => {
      this.opts.trace?.({
        request: { method, url: `${url.origin}${url.pathname}`, body: req.json ?? (typeof req.body === 'string' ? req.body : undefined) },
      });
      const r = await call(token);
      this.opts.trace?.({
        response: {
          status: r.status,
          body: Buffer.isBuffer(r.body) || typeof (r.body as Readable)?.pipe === 'function' ? '(binary)' : r.body,
        },
      });
      return r;
    };
    if (auth.kind !== 'bearer') return traced();
    // The connection's expiry signals: an expired answer refreshes once and calls again (withToken).
    return auth.connection.withToken((token) => traced(token));
  }
}

export function createProviderClient(opts: ProviderClientOptions): ProviderClient {
  return new ProviderClient(opts);
}

export type { ErrorClass };
