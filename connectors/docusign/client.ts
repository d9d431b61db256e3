import { lazyRequire } from '../../core/lazy-require.ts';
import type { Readable } from 'node:stream';
import type { ConnectionHandle } from '../../core/connector.ts';
import { needsReauth, permanent, retryable, StepError, waitFor } from '../../core/errors.ts';
import { DEFAULT_OAUTH_BASE } from './fields.ts';

// docusign-esign ships no type declarations: loaded as CommonJS and used through a narrow `any` — on
// first use: its 560 modules cost a hub that has no DocuSign connection about 30 MiB of memory.
export const docusign = lazyRequire(import.meta.url, 'docusign-esign');

/** What one SDK call answered: the callback form is the only one that shows the limit headers. */
export interface Answer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Callback = (err: any, data: any, response: any) => void;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SdkCall = (client: any, accountId: string, cb: Callback) => unknown;

export interface Account {
  accountId: string;
  baseUri: string;
  accountName?: string;
}

const oauthHost = (settings: Record<string, unknown>) => new URL(String(settings.oauthBaseUrl || DEFAULT_OAUTH_BASE)).host;

/** An ApiClient: setBasePath first (it resets the OAuth host), then setOAuthBasePath (the host only; the SDK speaks HTTPS). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function apiClient(settings: Record<string, unknown>, baseUri: string | undefined, token?: string, timeoutMs = 15_000): any {
  const c = new (docusign().ApiClient)();
  if (baseUri) c.setBasePath(`${baseUri.replace(/\/+$/, '')}/restapi`);
  c.setOAuthBasePath(oauthHost(settings));
  if (token) c.addDefaultHeader('Authorization', `Bearer ${token}`);
  c.timeout = timeoutMs;
  return c;
}

async function readBody(data: unknown): Promise<unknown> {
  if (data && typeof (data as Readable).on === 'function' && typeof (data as Readable).read === 'function') {
    const chunks: Buffer[] = [];
    for await (const c of data as Readable) chunks.push(Buffer.from(c));
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return data;
}

function headersOf(res: unknown): Record<string, string> {
  const h = (res as { headers?: Record<string, unknown> } | undefined)?.headers ?? {};
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), String(v)]));
}

/** Runs one SDK call in its callback form; a network failure (no answer) is a retryable error. */
export function invoke(fn: (cb: Callback) => unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    try {
      const maybe = fn((err, data, response) => {
        if (err) {
          const r = err.response;
          if (!r) {
            reject(retryable(`DocuSign could not be reached: ${err.message ?? err}`));
            return;
          }
          readBody(r.data).then(
            (body) => resolve({ status: r.status, body, headers: headersOf(r) }),
            () => resolve({ status: r.status, body: undefined, headers: headersOf(r) }),
          );
          return;
        }
        resolve({ status: response?.status ?? 200, body: data, headers: headersOf(response) });
      });
      // The callback form still returns the axios promise: its rejection is handled by the callback.
      (maybe as Promise<unknown> | undefined)?.catch?.(() => undefined);
    } catch (err) {
      reject(retryable(`DocuSign call failed: ${(err as Error).message}`));
    }
  });
}

/* ------------------------------------------------------------------ accounts and base URIs */

/** Base URIs looked up again after DocuSign said the account moved (per process; the settings keep the first). */
const movedTo = new Map<string, string>();
const looked = new Map<string, Account>();

interface UserInfoAccount {
  accountId?: string;
  account_id?: string;
  isDefault?: string | boolean;
  is_default?: string | boolean;
  baseUri?: string;
  base_uri?: string;
  accountName?: string;
  account_name?: string;
}

/** The connection's account from userinfo: the one named in settings, else the default account. */
export function pickAccount(accounts: UserInfoAccount[], wanted?: string): Account {
  const norm = accounts.map((a) => ({
    accountId: String(a.accountId ?? a.account_id ?? ''),
    isDefault: String(a.isDefault ?? a.is_default) === 'true',
    baseUri: String(a.baseUri ?? a.base_uri ?? ''),
    accountName: String(a.accountName ?? a.account_name ?? ''),
  }));
  const hit = wanted ? norm.find((a) => a.accountId === wanted) : (norm.find((a) => a.isDefault) ?? norm[0]);
  if (!hit)
    throw permanent(
      wanted
        ? `the DocuSign user is not a member of account ${wanted} (accounts: ${norm.map((a) => a.accountId).join(', ')})`
        : 'the DocuSign user has no account',
      { code: 'ACCOUNT_NOT_FOUND' },
    );
  return { accountId: hit.accountId, baseUri: hit.baseUri, accountName: hit.accountName };
}

/** GET {oauth}/oauth/userinfo with a token. */
export async function userInfo(
  settings: Record<string, unknown>,
  token: string,
  timeoutMs = 15_000,
): Promise<{ sub?: string; accounts: UserInfoAccount[] }> {
  const res = await invoke((cb) => apiClient(settings, undefined, undefined, timeoutMs).getUserInfo(token, cb));
  if (res.status !== 200) return Promise.reject(Object.assign(new Error(`userinfo answered ${res.status}`), { status: res.status }));
  return res.body as { sub?: string; accounts: UserInfoAccount[] };
}

async function lookUp(conn: ConnectionHandle, timeoutMs: number): Promise<Account> {
  const res = await conn.withToken(async (token) => {
    const r = await invoke((cb) => apiClient(conn.settings, undefined, undefined, timeoutMs).getUserInfo(token, cb));
    return r;
  });
  if (res.status === 401) throw needsReauth('DocuSign refused the token at userinfo: connect the account again');
  if (res.status !== 200) throw retryable(`DocuSign userinfo answered ${res.status}`, { status: res.status });
  const account = pickAccount((res.body as { accounts?: UserInfoAccount[] }).accounts ?? [], stringOr(conn.settings.accountId));
  looked.set(conn.id, account);
  return account;
}

const stringOr = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

/** The account and its base URI: the moved-to cache, the settings, or userinfo (once). */
export async function accountOf(conn: ConnectionHandle, timeoutMs: number): Promise<Account> {
  const cached = looked.get(conn.id);
  const accountId = stringOr(conn.settings.accountId) ?? cached?.accountId;
  const baseUri = movedTo.get(conn.id) ?? stringOr(conn.settings.baseUrl) ?? stringOr(conn.settings.baseUri) ?? cached?.baseUri;
  if (accountId && baseUri) return { accountId, baseUri };
  return lookUp(conn, timeoutMs);
}

/* ------------------------------------------------------------------ limits */

interface Budget {
  remaining?: number;
  resetAt?: number;
  burstRemaining?: number;
  burstResetAt?: number;
}
const budgets = new Map<string, Budget>();

function note(accountId: string, h: Record<string, string>): void {
  const b = budgets.get(accountId) ?? {};
  const num = (k: string) => (h[k] !== undefined && h[k] !== '' && Number.isFinite(Number(h[k])) ? Number(h[k]) : undefined);
  const reset = num('x-ratelimit-reset');
  const remaining = num('x-ratelimit-remaining');
  if (remaining !== undefined) {
    b.remaining = remaining;
    b.resetAt = reset !== undefined ? reset * 1000 : b.resetAt;
  }
  const burst = num('x-burstlimit-remaining');
  if (burst !== undefined) {
    b.burstRemaining = burst;
    const br = num('x-burstlimit-reset');
    b.burstResetAt = br !== undefined ? br * 1000 : Date.now() + 30_000;
  }
  budgets.set(accountId, b);
}

/** Before a call: a budget the headers said is spent is waited out (the step runs again after the reset, uncounted). */
function gate(accountId: string): void {
  const b = budgets.get(accountId);
  if (!b) return;
  const now = Date.now();
  if (b.remaining !== undefined && b.remaining <= 0 && b.resetAt && b.resetAt > now)
    throw waitFor(`DocuSign's hourly API budget of account ${accountId} is spent: waiting for its reset`, b.resetAt - now + 250, {
      code: 'HOURLY_APIINVOCATION_LIMIT_EXCEEDED',
    });
  if (b.burstRemaining !== undefined && b.burstRemaining <= 0 && b.burstResetAt && b.burstResetAt > now)
    throw waitFor(`DocuSign's burst limit of account ${accountId} is spent: waiting for its window`, b.burstResetAt - now + 250, {
      code: 'BURST_APIINVOCATION_LIMIT_EXCEEDED',
    });
}

const errorCode = (body: unknown) => String((body as { errorCode?: string } | undefined)?.errorCode ?? '');
const errorMessage = (body: unknown) =>
  String((body as { message?: string } | undefined)?.message ?? (typeof body === 'string' ? body.slice(0, 300) : ''));

/** DocuSign's answer as the hub's step error. */
export function errorOf(what: string, res: Answer): StepError {
  const code = errorCode(res.body);
  const text = `${what}: DocuSign answered ${res.status}${code ? ` ${code}` : ''}${errorMessage(res.body) ? ` (${errorMessage(res.body)})` : ''}`;
  const now = Date.now();
  if (res.status === 429) {
    const burst = code.startsWith('BURST') || res.headers['x-burstlimit-remaining'] === '0';
    const reset = Number(res.headers[burst ? 'x-burstlimit-reset' : 'x-ratelimit-reset']);
    const retryAfter = Number(res.headers['retry-after']);
    const ms =
      Number.isFinite(reset) && reset * 1000 > now ? reset * 1000 - now + 250 : Number.isFinite(retryAfter) ? retryAfter * 1000 : 30_000;
    return waitFor(text, ms, { status: 429, code: code || 'RATE_LIMITED' });
  }
  if (code === 'HOURLY_ENVELOPE_POLLING_LIMIT_EXCEEDED' || /POLLING_LIMIT/.test(code)) {
    const nextHour = Math.ceil((now + 1) / 3_600_000) * 3_600_000;
    return waitFor(text, nextHour - now + 1000, { status: res.status, code });
  }
  if (res.status === 401) return needsReauth(text, { status: 401, code });
  if (res.status === 408 || res.status >= 500) return retryable(text, { status: res.status, code });
  return permanent(text, { status: res.status, code });
}

/**
 * One eSignature call for a connection: the account's base URI (looked up again when the answer says
 * the account moved), the token (refreshed once on DocuSign's expiry answer), the limit headers read
 * and a spent budget waited out.
 */
export async function esign<T = unknown>(
  conn: ConnectionHandle,
  timeoutMs: number,
  what: string,
  call: SdkCall,
): Promise<{ data: T; headers: Record<string, string> }> {
  let account = await accountOf(conn, timeoutMs);
  gate(account.accountId);
  // The token refreshed once on DocuSign's 401 (single-flight: a burst shares one refresh).
  const run = async (acc: Account) => {
    const send = (token: string) => invoke((cb) => call(apiClient(conn.settings, acc.baseUri, token, timeoutMs), acc.accountId, cb));
    const token = await conn.accessToken();
    const first = await send(token);
    if (first.status !== 401) return first;
    return send(await conn.tokenRejected(token));
  };
  let res = await run(account);
  if (res.status === 401) {
    // A fresh token was refused too: the account may have moved to another site. Ask userinfo again.
    const again = await lookUp(conn, timeoutMs);
    if (again.baseUri && again.baseUri !== account.baseUri) {
      movedTo.set(conn.id, again.baseUri);
      account = { ...account, baseUri: again.baseUri };
      res = await run(account);
    }
  }
  note(account.accountId, res.headers);
  if (res.status >= 200 && res.status < 300) return { data: res.body as T, headers: res.headers };
  throw errorOf(what, res);
}

/** For tests: forget what this process learnt of limits and moves. */
export function forgetDocusignCaches(): void {
  budgets.clear();
  movedTo.clear();
  looked.clear();
}
