import { lazyRequire } from '../../core/lazy-require.ts';
import type { QuickBooks as QuickBooksClient } from 'node-quickbooks';
import type { ConnectionHandle } from '../../core/connector.ts';
import { needsReauth, parseRetryAfter, permanent, retryable, StepError } from '../../core/errors.ts';
import { apiBase, environmentOf, MINOR_VERSION, oauthBase } from './fields.ts';

/**
 * node-quickbooks 2.0.50 (the design card's SDK) for one connection. Its hosts are module constants:
 * TOKEN_URL / REVOKE_URL are read at call time (process-wide), the API endpoint per instance. The hub's
 * vault refreshes tokens (single-flight, the rotated refresh token saved in the same transaction), so the
 * SDK is only given the current access token. CommonJS with types that declare `export default`: cast.
 * Loaded on first use (with bluebird, xml2js and its other dependencies it is a few MiB a hub without
 * QuickBooks should not carry).
 */
const quickBooksSdk = lazyRequire<typeof QuickBooksClient>(import.meta.url, 'node-quickbooks');
// biome-ignore lint/suspicious/noExplicitAny: the SDK's entity methods are called by name (create<Entity>, find<Entities>).
export type Qbo = QuickBooksClient & Record<string, any>;

/** Per company in this process: at most `max` requests at once and `perMinute` in any 60 s; callers wait (queued, not failed). */
class CompanyLimiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private stamps: number[] = [];
  /** The most requests this process had in flight for the company (tests read it). */
  peak = 0;
  constructor(
    public max: number,
    public perMinute: number,
  ) {}

  async acquire(maxWaitMs: number): Promise<() => void> {
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      if (this.active < this.max) {
        const now = Date.now();
        this.stamps = this.stamps.filter((t) => now - t < 60_000);
        if (this.stamps.length < this.perMinute) {
          this.active += 1;
          this.peak = Math.max(this.peak, this.active);
          this.stamps.push(now);
          let released = false;
          return () => {
            if (released) return;
            released = true;
            this.active -= 1;
            this.waiting.shift()?.();
          };
        }
        const wait = 60_000 - (now - this.stamps[0]!) + 5;
        if (now + wait > deadline)
          throw retryable(`QuickBooks: ${this.perMinute} requests a minute for this company reached`, { retryAfterMs: wait, status: 429 });
        await new Promise((r) => setTimeout(r, wait));
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw retryable(`QuickBooks: ${this.max} requests at once for this company`, { retryAfterMs: 1000, status: 429 });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          const i = this.waiting.indexOf(wake);
          if (i >= 0) this.waiting.splice(i, 1);
          resolve();
        }, left);
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        this.waiting.push(wake);
      });
    }
  }
}

const limiters = new Map<string, CompanyLimiter>();
export function limiterFor(settings: Record<string, unknown>): CompanyLimiter {
  const key = `${environmentOf(settings)}:${String(settings.realmId ?? '')}`;
  const max = Math.max(1, Number(settings.maxConcurrent ?? 10) || 10);
  const perMinute = Math.max(1, Number(settings.requestsPerMinute ?? 500) || 500);
  let l = limiters.get(key);
  if (!l) limiters.set(key, (l = new CompanyLimiter(max, perMinute)));
  l.max = max;
  l.perMinute = perMinute;
  return l;
}
/** The most requests this process had in flight per company (`environment:realmId`). */
export function peakInFlight(): Record<string, number> {
  return Object.fromEntries([...limiters].map(([k, l]) => [k, l.peak]));
}

export function realmOf(conn: ConnectionHandle): string {
  const realm = String(conn.settings.realmId ?? '');
  if (!realm) throw permanent('this QuickBooks connection has no company (realmId): connect it again, or set realmId');
  return realm;
}

function build(conn: ConnectionHandle, token: string): Qbo {
  const s = conn.settings;
  const QuickBooks = quickBooksSdk();
  (QuickBooks as unknown as Record<string, string>).TOKEN_URL = `${oauthBase(s)}/oauth2/v1/tokens/bearer`;
  (QuickBooks as unknown as Record<string, string>).REVOKE_URL = `${oauthBase(s)}/v2/oauth2/tokens/revoke`;
  const qbo = new QuickBooks(
    String(s.clientId ?? ''),
    '', // the client secret stays with the vault: the SDK never refreshes here
    token,
    false,
    realmOf(conn),
    environmentOf(s) === 'sandbox',
    false,
    MINOR_VERSION,
    '2.0',
    '',
  ) as Qbo;
  qbo.endpoint = `${apiBase(s)}/v3/company/`;
  return qbo;
}

export interface QboFault {
  type?: string;
  Error?: Array<{ Message?: string; Detail?: string; code?: string; element?: string }>;
}
interface Outcome {
  status: number;
  body: unknown;
  data?: unknown;
  headers?: Record<string, unknown>;
  network?: string;
}

/** The SDK's callback styles as one answer: AxiosErrors (Fault at response.data), a 200 holding a Fault (the body as err). */
function settle(run: (cb: (err: unknown, data?: unknown, res?: unknown) => void) => void): Promise<Outcome> {
  return new Promise((resolve) => {
    run((err, data, res) => {
      const r = res as { status?: number; headers?: Record<string, unknown> } | undefined;
      if (!err) return resolve({ status: r?.status ?? 200, body: data, data, headers: r?.headers });
      const ax = err as {
        response?: { status: number; data: unknown; headers?: Record<string, unknown> };
        code?: string;
        message?: string;
      };
      if (ax.response) return resolve({ status: ax.response.status, body: ax.response.data, headers: ax.response.headers });
      if ((err as { Fault?: unknown }).Fault) return resolve({ status: 400, body: err });
      resolve({ status: 0, body: null, network: ax.code ?? ax.message ?? String(err) });
    });
  });
}

export function faultOf(body: unknown): QboFault | undefined {
  return (body as { Fault?: QboFault } | null)?.Fault;
}
function faultText(f: QboFault | undefined): { text: string; code?: string } {
  const e = f?.Error?.[0];
  if (!e) return { text: 'no Fault in the answer' };
  return { text: `${f?.type ?? 'Fault'} ${e.code ?? ''}: ${e.Message ?? ''}${e.Detail ? ` (${e.Detail})` : ''}`.trim(), code: e.code };
}

/** QuickBooks answers as step errors: 429/5xx retry (Retry-After honoured), 401 re-auth, 403 3100 wrong keys/company, Faults permanent. */
export function toStepError(label: string, o: Outcome): StepError {
  if (o.status === 0) return retryable(`QuickBooks ${label}: ${o.network ?? 'no answer'}`);
  const f = faultText(faultOf(o.body));
  const details = { status: o.status, code: f.code ?? (o.status === 429 ? '003001' : undefined) };
  if (o.status === 429 || /ThrottleExceeded|003001/.test(f.text)) {
    const after = parseRetryAfter(String(o.headers?.['retry-after'] ?? '')) ?? 5000;
    return retryable(`QuickBooks ${label}: throttled (${f.text})`, { ...details, status: 429, retryAfterMs: after });
  }
  if (o.status >= 500 || o.status === 408) return retryable(`QuickBooks ${label}: ${o.status} ${f.text}`, details);
  if (o.status === 401) return needsReauth(`QuickBooks ${label}: the token was refused (${f.text})`, details);
  if (o.status === 403) return permanent(`QuickBooks ${label}: forbidden, check the app's keys and environment (${f.text})`, details);
  return permanent(`QuickBooks ${label}: ${f.text}`, details);
}

export interface CallOptions {
  /** A GET, or a POST carrying a requestid: safe to send again after a 5xx or a lost answer. */
  idempotent: boolean;
  /** How long the call may wait for a slot under the company's limits (default 10 s), so a step never outlives its lease waiting. */
  maxWaitMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One QuickBooks request through the SDK, under the company's limits, with the vault's token (refreshed
 * once on a 401). A 5xx or dropped answer is sent again (same requestid) up to 3 times; a 429 waits for
 * Retry-After up to 2 times; then the step error goes to the pipeline, which retries with backoff.
 */
export async function qboCall<T = unknown>(
  conn: ConnectionHandle,
  label: string,
  run: (qbo: Qbo, cb: (err: unknown, data?: unknown, res?: unknown) => void) => void,
  opts: CallOptions,
): Promise<T> {
  const limiter = limiterFor(conn.settings);
  let lastError: StepError | undefined;
  let throttles = 0;
  for (let attempt = 0; attempt < 4 + throttles; attempt += 1) {
    const release = await limiter.acquire(opts.maxWaitMs ?? 10_000);
    let outcome: Outcome;
    try {
      outcome = await conn.withToken((token) => settle((cb) => run(build(conn, token), cb)));
    } finally {
      release();
    }
    if (outcome.status >= 200 && outcome.status < 300 && !faultOf(outcome.body)) return outcome.body as T;
    lastError = toStepError(label, outcome);
    if (lastError.errorClass !== 'retryable') throw lastError;
    if (lastError.details.status === 429) {
      if (throttles >= 2) throw lastError;
      throttles += 1;
      await sleep(Math.min(lastError.details.retryAfterMs ?? 1000, 5000));
      continue;
    }
    if (!opts.idempotent) throw lastError;
    await sleep(100 * 2 ** attempt + Math.random() * 100);
  }
  throw lastError ?? retryable(`QuickBooks ${label}: failed`);
}

/** What node-quickbooks' create/get callbacks hand over: the entity itself (it unwraps `{Purchase: …}`). */
export function unwrap(body: unknown, name: string): Record<string, unknown> {
  const b = (body ?? {}) as Record<string, unknown>;
  return ((b[name] as Record<string, unknown> | undefined) ?? b) as Record<string, unknown>;
}

/** An entity by id (null when QuickBooks answers 610 Object Not Found). */
export async function getEntity(conn: ConnectionHandle, entity: string, id: string): Promise<Record<string, unknown> | null> {
  try {
    const body = await qboCall<Record<string, unknown>>(conn, `get ${entity}`, (qbo, cb) => qbo[`get${entity}`](id, cb), {
      idempotent: true,
    });
    return unwrap(body, entity);
  } catch (err) {
    if (err instanceof StepError && err.details.code === '610') return null;
    throw err;
  }
}

const PLURAL: Record<string, string> = {
  Account: 'Accounts',
  Vendor: 'Vendors',
  Customer: 'Customers',
  Employee: 'Employees',
  Item: 'Items',
  Purchase: 'Purchases',
  Bill: 'Bills',
  Invoice: 'Invoices',
  Payment: 'Payments',
  Attachable: 'Attachables',
  BillPayment: 'BillPayments',
  CreditMemo: 'CreditMemos',
  Estimate: 'Estimates',
  JournalEntry: 'JournalEntries',
  SalesReceipt: 'SalesReceipts',
  Deposit: 'Deposits',
  Transfer: 'Transfers',
  VendorCredit: 'VendorCredits',
  PurchaseOrder: 'PurchaseOrders',
};
export const QUERYABLE = Object.keys(PLURAL);
export function entityName(name: string): string | undefined {
  return QUERYABLE.find((e) => e.toLowerCase() === name.toLowerCase());
}

/** `select * from <Entity> <rest>` through the SDK's find<Entities> (a string criteria is appended as is). */
export async function query(conn: ConnectionHandle, entity: string, rest = ''): Promise<Array<Record<string, unknown>>> {
  const name = entityName(entity);
  if (!name) throw permanent(`QuickBooks query: unknown entity "${entity}"`);
  const criteria = rest.trim() ? ` ${rest.trim()}` : '';
  const body = await qboCall<{ QueryResponse?: Record<string, unknown> }>(
    conn,
    `query ${name}`,
    (qbo, cb) => (criteria ? qbo[`find${PLURAL[name]}`](criteria, cb) : qbo[`find${PLURAL[name]}`](cb)),
    { idempotent: true },
  );
  return (body.QueryResponse?.[name] as Array<Record<string, unknown>>) ?? [];
}

/** `'it''s'`: QuickBooks' query strings escape a quote with a backslash. */
export const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Home currency and multicurrency, cached a few minutes per company (they rarely change; home currency never). */
const prefsCache = new Map<string, { at: number; home: string; multi: boolean }>();
export async function currencyPrefs(conn: ConnectionHandle): Promise<{ home: string; multi: boolean }> {
  const key = `${environmentOf(conn.settings)}:${realmOf(conn)}`;
  const hit = prefsCache.get(key);
  if (hit && Date.now() - hit.at < 5 * 60_000) return hit;
  const body = await qboCall<{ Preferences?: { CurrencyPrefs?: { HomeCurrency?: { value?: string }; MultiCurrencyEnabled?: boolean } } }>(
    conn,
    'preferences',
    (qbo, cb) => qbo.getPreferences(cb),
    { idempotent: true },
  );
  // node-quickbooks unwraps reads and creates: the entity itself, not {Preferences: …}.
  const p = (body.Preferences ?? (body as { CurrencyPrefs?: unknown })).CurrencyPrefs as
    | { HomeCurrency?: { value?: string }; MultiCurrencyEnabled?: boolean }
    | undefined;
  const out = {
    at: Date.now(),
    home: p?.HomeCurrency?.value ?? String(conn.settings.homeCurrency ?? 'USD'),
    multi: Boolean(p?.MultiCurrencyEnabled),
  };
  prefsCache.set(key, out);
  return out;
}

/** Accounts by name (case-insensitive), cached a minute per company: one query instead of one per line. */
const accountsCache = new Map<string, { at: number; accounts: Array<Record<string, unknown>> }>();
export async function accounts(conn: ConnectionHandle, fresh = false): Promise<Array<Record<string, unknown>>> {
  const key = `${environmentOf(conn.settings)}:${realmOf(conn)}`;
  const hit = accountsCache.get(key);
  if (!fresh && hit && Date.now() - hit.at < 60_000) return hit.accounts;
  const list = await query(conn, 'Account', 'maxresults 1000');
  accountsCache.set(key, { at: Date.now(), accounts: list });
  return list;
}

/** The multipart upload Intuit documents: `file_metadata_0` (Attachable with AttachableRef) + `file_content_0`, with a requestid. */
export async function uploadAttachable(
  conn: ConnectionHandle,
  file: { name: string; contentType: string; bytes: Buffer },
  link: { type: string; id: string } | undefined,
  requestId: string,
  note?: string,
): Promise<Record<string, unknown>> {
  const url = new URL(`${apiBase(conn.settings)}/v3/company/${realmOf(conn)}/upload`);
  url.searchParams.set('minorversion', MINOR_VERSION);
  url.searchParams.set('requestid', requestId);
  const meta = {
    FileName: file.name,
    ContentType: file.contentType,
    ...(note ? { Note: note } : {}),
    ...(link ? { AttachableRef: [{ EntityRef: { type: link.type, value: link.id } }] } : {}),
  };
  const body = await qboCall<{ AttachableResponse?: Array<{ Attachable?: Record<string, unknown>; Fault?: QboFault }> }>(
    conn,
    'upload',
    (qbo, cb) => {
      const form = new FormData();
      form.append('file_metadata_0', new Blob([JSON.stringify(meta)], { type: 'application/json' }), 'attachment.json');
      form.append('file_content_0', new Blob([new Uint8Array(file.bytes)], { type: file.contentType }), file.name);
      fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${qbo.token}`, accept: 'application/json' },
        body: form,
        signal: AbortSignal.timeout(30_000),
      })
        .then(async (res) => {
          const text = await res.text();
          let json: unknown = text;
          try {
            json = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          if (res.ok) cb(null, json, { status: res.status });
          else cb({ response: { status: res.status, data: json, headers: Object.fromEntries(res.headers) } });
        })
        .catch((err: Error) => cb({ code: err.name, message: err.message }));
    },
    { idempotent: true },
  );
  const first = body.AttachableResponse?.[0];
  if (first?.Fault) throw toStepError('upload', { status: 400, body: { Fault: first.Fault } });
  if (!first?.Attachable) throw retryable('QuickBooks upload: no Attachable in the answer');
  return first.Attachable;
}
