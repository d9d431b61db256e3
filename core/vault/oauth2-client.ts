import OAuth2Strategy from 'passport-oauth2';
import type { Request } from 'express';
import { egressFetch } from '../net/egress.ts';
import { resolveUrl, type ConnectionView, type OAuth2AuthKind } from '../auth-kinds.ts';

/**
 * passport-oauth2 does the OAuth 2 work (authorization URL with state and PKCE, code exchange,
 * refresh). One strategy per connection, because each connection has its own client.
 */
export interface StateStore {
  store(req: Request, verifier: string, state: unknown, meta: unknown, cb: (err: Error | null, handle?: string) => void): void;
  verify(req: Request, handle: string, cb: (err: Error | null, verifier?: string | false, info?: unknown) => void): void;
}

export function createStrategy(auth: OAuth2AuthKind, conn: ConnectionView, callbackURL: string, store?: StateStore): OAuth2Strategy {
  const clientID = String(conn.settings.clientId ?? '');
  const clientSecret = conn.secrets.clientSecret ?? '';
  const customHeaders: Record<string, string> =
    auth.clientAuth === 'basic'
      ? { Authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientID)}:${encodeURIComponent(clientSecret)}`).toString('base64')}` }
      : {};
  const strategy = new OAuth2Strategy(
    {
      authorizationURL: resolveUrl(auth.authorizationUrl, conn.settings),
      tokenURL: resolveUrl(auth.tokenUrl, conn.settings),
      clientID,
      clientSecret,
      callbackURL,
      scope:
        typeof conn.settings.scopes === 'string' && conn.settings.scopes.trim() ? conn.settings.scopes.trim().split(/\s+/) : auth.scopes,
      scopeSeparator: auth.scopeSeparator ?? ' ',
      pkce: true,
      state: true,
      store: store as never,
      customHeaders,
      skipUserProfile: true,
    } as never,
    ((
      accessToken: string,
      refreshToken: string,
      params: Record<string, unknown>,
      _profile: unknown,
      done: (e: unknown, user?: unknown) => void,
    ) => {
      done(null, { accessToken, refreshToken, params });
    }) as never,
  );
  routeThroughEgress(strategy);
  const extra = auth.authorizationParams ?? {};
  (strategy as unknown as { authorizationParams: () => Record<string, string> }).authorizationParams = () => ({ ...extra });
  return strategy;
}

type OAuthCallback = (err: { statusCode: number; data: string } | Error | null, result?: string, response?: unknown) => void;
interface OAuth2Transport {
  _customHeaders: Record<string, string>;
  _accessTokenName: string;
  _request: (
    method: string,
    url: string,
    headers: Record<string, string> | undefined,
    body: string | Buffer | null,
    accessToken: string | null,
    cb: OAuthCallback,
  ) => void;
}

/**
 * The `oauth` module under passport-oauth2 has its own transport (http.request); the code exchange and
 * the refresh go through the hub's one egress path instead (timeout, no redirects). The token URL is
 * set by the operator (the connector's code or env, or the admin's connection settings), so it is trusted.
 */
function routeThroughEgress(strategy: OAuth2Strategy, timeoutMs = 15_000): void {
  const client = (strategy as unknown as { _oauth2: OAuth2Transport })._oauth2;
  client._request = (method, url, headers, body, accessToken, cb) => {
    const all: Record<string, string> = { ...client._customHeaders, ...(headers ?? {}) };
    if (!Object.keys(all).some((h) => h.toLowerCase() === 'user-agent')) all['User-Agent'] = 'dingbridge';
    let target = url;
    if (accessToken && !('Authorization' in all)) {
      const u = new URL(url);
      u.searchParams.set(client._accessTokenName, accessToken);
      target = u.toString();
    }
    egressFetch(target, { method, headers: all, body: body ?? '', timeoutMs, trusted: true }).then(
      async (res) => {
        const text = await res.text(1_048_576);
        if (!(res.status >= 200 && res.status <= 299) && res.status !== 301 && res.status !== 302)
          cb({ statusCode: res.status, data: text });
        else cb(null, text, { statusCode: res.status, headers: res.headers });
      },
      (err: Error) => cb(err),
    );
  };
}

export type StrategyOutcome =
  | { kind: 'redirect'; url: string }
  | { kind: 'success'; user: { accessToken: string; refreshToken?: string; params: Record<string, unknown> } }
  | { kind: 'fail'; message: string; status: number }
  | { kind: 'error'; error: Error & { oauthError?: { statusCode?: number; data?: string } } };

/** Runs passport's authenticate step without passport's middleware, as a promise. */
export function runStrategy(strategy: OAuth2Strategy, req: Request, options: Record<string, unknown> = {}): Promise<StrategyOutcome> {
  return new Promise((resolve) => {
    const s = Object.create(strategy) as OAuth2Strategy & Record<string, unknown>;
    s.redirect = (url: string) => resolve({ kind: 'redirect', url });
    s.success = (user: never) => resolve({ kind: 'success', user });
    s.fail = (challenge: unknown, status?: number) => {
      const message = typeof challenge === 'string' ? challenge : ((challenge as { message?: string })?.message ?? 'authorization failed');
      resolve({ kind: 'fail', message, status: status ?? 400 });
    };
    s.error = (error: never) => resolve({ kind: 'error', error });
    s.pass = () => resolve({ kind: 'fail', message: 'nothing to do', status: 400 });
    s.authenticate(req, options);
  });
}

export interface RefreshError {
  status?: number;
  error?: string;
  description?: string;
  message: string;
}

/** The refresh_token grant through the strategy's OAuth 2 client. */
export function refreshAccessToken(
  strategy: OAuth2Strategy,
  refreshToken: string,
): Promise<{ accessToken: string; refreshToken?: string; params: Record<string, unknown> }> {
  const client = (
    strategy as unknown as {
      _oauth2: {
        getOAuthAccessToken: (
          code: string,
          params: Record<string, string>,
          cb: (err: { statusCode?: number; data?: string } | null, at?: string, rt?: string, params?: Record<string, unknown>) => void,
        ) => void;
      };
    }
  )._oauth2;
  return new Promise((resolve, reject) => {
    client.getOAuthAccessToken(refreshToken, { grant_type: 'refresh_token' }, (err, accessToken, newRefresh, params) => {
      if (err) {
        let body: { error?: string; error_description?: string } = {};
        try {
          body = JSON.parse(String(err.data ?? '{}'));
        } catch {
          /* not JSON */
        }
        const e: RefreshError = {
          status: err.statusCode,
          error: body.error,
          description: body.error_description,
          message: `token endpoint answered ${err.statusCode ?? 'no status'}${body.error ? `: ${body.error}` : ''}`,
        };
        reject(e);
        return;
      }
      if (!accessToken) {
        reject({ message: 'the token endpoint returned no access token' } satisfies RefreshError);
        return;
      }
      resolve({ accessToken, refreshToken: newRefresh, params: params ?? {} });
    });
  });
}
