import crypto from 'node:crypto';
import type { Express, Request, Response } from 'express';
import { startFake, type FakeDefinition, type RunningFake, type RunningFakeInternals } from '../framework/index.ts';

/**
 * A generic OAuth 2.0 authorization server (RFC 6749 authorization code + refresh token, PKCE RFC 7636,
 * bearer resources RFC 6750, revocation RFC 7009). Provider fakes (Google, QuickBooks, DocuSign) reuse it
 * through `createOAuth2Fake(options)`: paths, client authentication, extra token fields, callback
 * parameters, error shapes and TLS are options.
 */

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post';

export interface OAuth2Client {
  clientId: string;
  clientSecret: string;
  /** Exact URIs; an entry ending in `*` matches by prefix; a loopback entry without a port matches any port (RFC 8252). */
  redirectUris: string[];
  name: string;
  /** Overrides the fake's accepted client authentication methods for this client. */
  authMethods?: ClientAuthMethod[];
}

export interface OAuth2User {
  sub: string;
  name: string;
  email: string;
  /** Extra claims merged into the userinfo answer. */
  extra?: Record<string, unknown>;
}

export interface OAuth2Settings {
  /** The authorization endpoint denies: redirect with error=<denyError>. */
  deny: boolean;
  denyError: string;
  /** Each refresh returns a new refresh token; the old one is then invalid_grant. */
  rotateRefreshTokens: boolean;
  accessTokenTtlSec: number;
  /** null: refresh tokens never expire. */
  refreshTokenTtlSec: number | null;
  codeTtlSec: number;
  /** Authorization requests without code_challenge are refused. */
  requirePkce: boolean;
  /** Whether a refresh answer carries refresh_token when it is not rotated (QuickBooks: always; Google: never). */
  refreshResponseIncludesRefreshToken: 'always' | 'when_rotated';
}

export interface CodeRecord {
  code: string;
  clientId: string;
  redirectUri: string | null;
  scope: string;
  sub: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  authorizeParams: Record<string, string>;
  expiresAt: number;
  used: boolean;
  issuedTokens: string[];
}
export interface AccessTokenRecord {
  token: string;
  clientId: string;
  sub: string;
  scope: string;
  grantType: string;
  issuedAt: number;
  expiresAt: number;
  revoked: boolean;
  refreshToken?: string;
}
export interface RefreshTokenRecord {
  token: string;
  clientId: string;
  sub: string;
  scope: string;
  issuedAt: number;
  expiresAt: number | null;
  revoked: boolean;
  rotatedTo?: string;
}

export interface OAuth2Counters {
  authorize: number;
  /** Requests that reached the token endpoint, per grant_type (whatever their outcome). */
  tokenRequests: Record<string, number>;
  /** Successful token answers per grant_type. */
  tokensIssued: Record<string, number>;
  tokenErrors: Record<string, number>;
  userinfo: number;
  ping: number;
  revoke: number;
}

export interface OAuth2State {
  clients: Map<string, OAuth2Client>;
  user: OAuth2User;
  settings: OAuth2Settings;
  codes: Map<string, CodeRecord>;
  accessTokens: Map<string, AccessTokenRecord>;
  refreshTokens: Map<string, RefreshTokenRecord>;
  counters: OAuth2Counters;
}

export interface TokenContext {
  client: OAuth2Client;
  grantType: string;
  scope: string;
  user: OAuth2User;
  /** Seconds the refresh token handed out (or still valid) lives; null when it does not expire or none was issued. */
  refreshTokenExpiresIn: number | null;
  /** Parameters of the authorization request (authorization_code grant only). */
  authorizeParams?: Record<string, string>;
  /** The token request (headers such as QuickBooks' x-include-refresh-token-hard-expires-in). */
  req?: Request;
  /** The refresh token handed out or kept, when there is one. */
  refreshToken?: RefreshTokenRecord;
}

export class OAuth2Error extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description);
  }
}

export interface ExtraGrantContext {
  req: Request;
  params: Record<string, string>;
  client: OAuth2Client;
  state: OAuth2State;
}

export interface OAuth2FakeOptions {
  /** Fake name (call log, errors). Default 'oauth2'. */
  name?: string;
  tls?: boolean;
  paths?: Partial<{ authorize: string; token: string; userinfo: string; revoke: string; ping: string }>;
  /** Prefix of the control API. Default '/__sandbox/oauth2'. */
  controlPrefix?: string;
  /** Client authentication accepted at the token endpoint. Default both. */
  clientAuthMethods?: ClientAuthMethod[];
  /** The seeded client; null for none. */
  defaultClient?: { clientId: string; clientSecret: string; redirectUris: string[]; name?: string } | null;
  defaultUser?: OAuth2User;
  settings?: Partial<OAuth2Settings>;
  /** token_type in token answers. Default 'Bearer'. */
  tokenType?: string;
  accessTokenPrefix?: string;
  refreshTokenPrefix?: string;
  /** Extra fields in every token answer (e.g. QuickBooks' x_refresh_token_expires_in, Google's id_token). */
  extraTokenFields?: (ctx: TokenContext) => Record<string, unknown>;
  /** Whether to hand out a refresh token (e.g. Google: only with access_type=offline). Default always. */
  issueRefreshToken?: (ctx: TokenContext) => boolean;
  /** Extra query parameters on the redirect back to the client (e.g. QuickBooks' realmId). */
  callbackParams?: (ctx: {
    client: OAuth2Client;
    user: OAuth2User;
    scope: string;
    authorizeParams: Record<string, string>;
  }) => Record<string, string>;
  /** Error body of the token and revoke endpoints. Default RFC 6749: {error, error_description}. */
  errorBody?: (error: string, description: string, status: number) => unknown;
  /** Body of the userinfo endpoint. */
  userinfo?: (ctx: { user: OAuth2User; scope: string; clientId: string }) => unknown;
  /** Additional grant types (e.g. DocuSign's JWT bearer grant). Throw OAuth2Error to refuse. */
  extraGrants?: Record<string, (ctx: ExtraGrantContext) => { sub?: string; scope?: string; refreshToken?: boolean }>;
  /** Accept `?access_token=` on protected resources as well as the Authorization header. Default true. */
  allowQueryAccessToken?: boolean;
  /** Extra provider routes on the same server. */
  setup?: (app: Express, fake: RunningFakeInternals<OAuth2State>) => void;
  /** The fake's clock (epoch ms) for expiries; default Date.now (QuickBooks' fake advances it). */
  now?: () => number;
  /** The subject a new authorization code (and its tokens) is issued for; default the signed-in user's sub (QuickBooks binds the realm here). */
  subjectFor?: (ctx: { client: OAuth2Client; user: OAuth2User; authorizeParams: Record<string, string> }) => string;
  /** Decides per refresh whether the refresh token rotates; default settings.rotateRefreshTokens (QuickBooks: when it is about a day old). */
  rotateRefreshToken?: (ctx: { record: RefreshTokenRecord; state: OAuth2State; now: number }) => boolean;
}

export const DEFAULT_OAUTH2_CLIENT = {
  clientId: 'sandbox-client',
  clientSecret: 'sandbox-secret',
  redirectUris: ['http://127.0.0.1/*', 'http://localhost/*', 'https://127.0.0.1/*', 'https://localhost/*'],
  name: 'dingbridge sandbox',
};
export const DEFAULT_OAUTH2_USER: OAuth2User = { sub: 'sandbox-user-1', name: 'Demo User', email: 'demo@example.com' };
export const DEFAULT_OAUTH2_SETTINGS: OAuth2Settings = {
  deny: false,
  denyError: 'access_denied',
  rotateRefreshTokens: false,
  accessTokenTtlSec: 3600,
  refreshTokenTtlSec: null,
  codeTtlSec: 600,
  requirePkce: false,
  refreshResponseIncludesRefreshToken: 'when_rotated',
};

const rand = (prefix: string, bytes = 24) => prefix + crypto.randomBytes(bytes).toString('base64url');
const b64url = (buf: Buffer) => buf.toString('base64url');
const isLoopback = (host: string) => host === '127.0.0.1' || host === 'localhost' || host === '[::1]';

/** Whether `given` is allowed by one of the registered redirect URIs. */
export function redirectUriAllowed(registered: string[], given: string): boolean {
  let g: URL;
  try {
    g = new URL(given);
  } catch {
    return false;
  }
  if (g.hash) return false;
  for (const r of registered) {
    if (r === given) return true;
    const wildcard = r.endsWith('*');
    let reg: URL;
    try {
      reg = new URL(wildcard ? r.slice(0, -1) : r);
    } catch {
      continue;
    }
    // A loopback URI registered without a port matches any port (RFC 8252 §7.3).
    const portOk = reg.port === g.port || (isLoopback(reg.hostname) && reg.port === '');
    if (reg.protocol !== g.protocol || reg.hostname !== g.hostname || !portOk) continue;
    const rest = g.pathname + g.search;
    const regRest = reg.pathname + reg.search;
    if (wildcard ? rest.startsWith(regRest) : rest === regRest) return true;
  }
  return false;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function createOAuth2Fake(options: OAuth2FakeOptions = {}): FakeDefinition<OAuth2State> {
  const paths = {
    authorize: '/oauth/authorize',
    token: '/oauth/token',
    userinfo: '/oauth/userinfo',
    revoke: '/oauth/revoke',
    ping: '/api/ping',
    ...options.paths,
  };
  const P = options.controlPrefix ?? '/__sandbox/oauth2';
  const tokenType = options.tokenType ?? 'Bearer';
  const atPrefix = options.accessTokenPrefix ?? 'at_';
  const rtPrefix = options.refreshTokenPrefix ?? 'rt_';
  const methods = options.clientAuthMethods ?? ['client_secret_basic', 'client_secret_post'];
  const errorBody = options.errorBody ?? ((error: string, description: string) => ({ error, error_description: description }));
  const now = options.now ?? Date.now;

  const initialState = (): OAuth2State => {
    const clients = new Map<string, OAuth2Client>();
    const dc = options.defaultClient === undefined ? DEFAULT_OAUTH2_CLIENT : options.defaultClient;
    if (dc) clients.set(dc.clientId, { name: 'default', ...dc, redirectUris: [...dc.redirectUris] });
    return {
      clients,
      user: { ...(options.defaultUser ?? DEFAULT_OAUTH2_USER) },
      settings: { ...DEFAULT_OAUTH2_SETTINGS, ...options.settings },
      codes: new Map(),
      accessTokens: new Map(),
      refreshTokens: new Map(),
      counters: freshCounters(),
    };
  };

  return {
    name: options.name ?? 'oauth2',
    tls: options.tls,
    initialState,
    faultBody: (status) =>
      errorBody(
        status === 503 ? 'temporarily_unavailable' : status >= 500 ? 'server_error' : 'invalid_request',
        `injected ${status}`,
        status,
      ),
    setup(app: Express, fake: RunningFakeInternals<OAuth2State>) {
      const st = () => fake.state;

      // ---------------- authorization endpoint ----------------
      app.get(paths.authorize, (req: Request, res: Response) => {
        const s = st();
        s.counters.authorize += 1;
        const q = Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, String(v)]));
        const client = q.client_id ? s.clients.get(q.client_id) : undefined;
        const page = (msg: string) =>
          res
            .status(400)
            .type('html')
            .send(`<!doctype html><title>Authorization error</title><h1>Error 400: invalid_request</h1><p>${escapeHtml(msg)}</p>`);
        if (!client) return page(`Unknown client_id ${q.client_id ?? '(missing)'}`);
        let redirectUri = q.redirect_uri;
        if (!redirectUri) {
          const only = client.redirectUris.length === 1 && !client.redirectUris[0]!.endsWith('*') ? client.redirectUris[0] : undefined;
          if (!only) return page('redirect_uri is required');
          redirectUri = only;
        } else if (!redirectUriAllowed(client.redirectUris, redirectUri)) {
          return page(`redirect_uri_mismatch: ${redirectUri} is not registered for this client`);
        }
        const back = (params: Record<string, string | undefined>) => {
          const u = new URL(redirectUri!);
          for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
          res.redirect(302, u.toString());
        };
        if (q.response_type !== 'code')
          return back({ error: 'unsupported_response_type', error_description: 'Only response_type=code is supported', state: q.state });
        const method = q.code_challenge ? (q.code_challenge_method ?? 'plain') : undefined;
        if (method && method !== 'S256' && method !== 'plain')
          return back({ error: 'invalid_request', error_description: 'Unsupported code_challenge_method', state: q.state });
        if (q.code_challenge && !/^[A-Za-z0-9\-._~]{43,128}$/.test(q.code_challenge))
          return back({ error: 'invalid_request', error_description: 'Invalid code_challenge', state: q.state });
        if (s.settings.requirePkce && !q.code_challenge)
          return back({ error: 'invalid_request', error_description: 'code_challenge is required', state: q.state });
        if (s.settings.deny) return back({ error: s.settings.denyError, error_description: 'The user denied the request', state: q.state });
        const sub = options.subjectFor?.({ client, user: s.user, authorizeParams: q }) ?? s.user.sub;
        const code: CodeRecord = {
          code: rand('c_', 18),
          clientId: client.clientId,
          redirectUri: q.redirect_uri ?? null,
          scope: q.scope ?? '',
          sub,
          codeChallenge: q.code_challenge,
          codeChallengeMethod: method as 'S256' | 'plain' | undefined,
          authorizeParams: q,
          expiresAt: now() + s.settings.codeTtlSec * 1000,
          used: false,
          issuedTokens: [],
        };
        s.codes.set(code.code, code);
        const extra = options.callbackParams?.({ client, user: s.user, scope: code.scope, authorizeParams: q }) ?? {};
        back({ code: code.code, state: q.state, ...extra });
      });

      // ---------------- token endpoint ----------------
      const oauthError = (res: Response, e: OAuth2Error, grant: string) => {
        st().counters.tokenErrors[grant] = (st().counters.tokenErrors[grant] ?? 0) + 1;
        if (e.status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="oauth"');
        res.setHeader('Cache-Control', 'no-store');
        res.status(e.status).json(errorBody(e.error, e.description, e.status));
      };

      const authenticateClient = (req: Request, p: Record<string, string>): OAuth2Client => {
        const s = st();
        const auth = String(req.headers.authorization ?? '');
        let basic: { id: string; secret: string } | undefined;
        if (/^Basic\s+/i.test(auth)) {
          const decoded = Buffer.from(auth.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
          const i = decoded.indexOf(':');
          if (i < 0) throw new OAuth2Error('invalid_client', 'Malformed Basic credentials', 401);
          const dec = (x: string) => {
            try {
              return decodeURIComponent(x.replace(/\+/g, ' '));
            } catch {
              return x;
            }
          };
          basic = { id: dec(decoded.slice(0, i)), secret: dec(decoded.slice(i + 1)) };
        }
        const id = basic?.id ?? p.client_id;
        const client = id ? s.clients.get(id) : undefined;
        if (!client) throw new OAuth2Error('invalid_client', 'The OAuth client was not found.', 401);
        const allowed = client.authMethods ?? methods;
        if (basic && allowed.includes('client_secret_basic')) {
          if (basic.secret !== client.clientSecret) throw new OAuth2Error('invalid_client', 'Unauthorized', 401);
          if (p.client_id && p.client_id !== basic.id)
            throw new OAuth2Error('invalid_client', 'client_id does not match the credentials', 401);
          return client;
        }
        if (p.client_secret !== undefined && allowed.includes('client_secret_post')) {
          if (p.client_secret !== client.clientSecret) throw new OAuth2Error('invalid_client', 'Unauthorized', 401);
          return client;
        }
        throw new OAuth2Error('invalid_client', `Client authentication required (${allowed.join(' or ')})`, 401);
      };

      const issue = (
        client: OAuth2Client,
        grantType: string,
        sub: string,
        scope: string,
        opts: {
          refresh?: RefreshTokenRecord | 'new' | 'none';
          authorizeParams?: Record<string, string>;
          req?: Request;
        },
      ) => {
        const s = st();
        const t = now();
        const user = sub === s.user.sub ? s.user : { ...s.user, sub };
        const ctxBase: TokenContext = {
          client,
          grantType,
          scope,
          user,
          refreshTokenExpiresIn: null,
          authorizeParams: opts.authorizeParams,
          req: opts.req,
        };
        let refresh: RefreshTokenRecord | undefined;
        let includeRefresh = false;
        if (opts.refresh === 'new') {
          if (options.issueRefreshToken?.(ctxBase) ?? true) {
            refresh = newRefresh(client, sub, scope);
            includeRefresh = true;
          }
        } else if (opts.refresh && opts.refresh !== 'none') {
          const old = opts.refresh;
          if (options.rotateRefreshToken?.({ record: old, state: s, now: t }) ?? s.settings.rotateRefreshTokens) {
            refresh = newRefresh(client, sub, old.scope);
            old.rotatedTo = refresh.token;
            includeRefresh = true;
          } else {
            refresh = old;
            includeRefresh = s.settings.refreshResponseIncludesRefreshToken === 'always';
          }
        }
        const at: AccessTokenRecord = {
          token: rand(atPrefix, 32),
          clientId: client.clientId,
          sub,
          scope,
          grantType,
          issuedAt: t,
          expiresAt: t + s.settings.accessTokenTtlSec * 1000,
          revoked: false,
          refreshToken: refresh?.token,
        };
        s.accessTokens.set(at.token, at);
        const ctx: TokenContext = {
          ...ctxBase,
          refreshToken: refresh,
          refreshTokenExpiresIn: refresh?.expiresAt != null ? Math.max(0, Math.round((refresh.expiresAt - t) / 1000)) : null,
        };
        const body: Record<string, unknown> = {
          access_token: at.token,
          token_type: tokenType,
          expires_in: s.settings.accessTokenTtlSec,
          ...(includeRefresh && refresh ? { refresh_token: refresh.token } : {}),
          ...(scope ? { scope } : {}),
          ...options.extraTokenFields?.(ctx),
        };
        s.counters.tokensIssued[grantType] = (s.counters.tokensIssued[grantType] ?? 0) + 1;
        return { body, at };
      };
      const newRefresh = (client: OAuth2Client, sub: string, scope: string): RefreshTokenRecord => {
        const s = st();
        const t = now();
        const rt: RefreshTokenRecord = {
          token: rand(rtPrefix, 32),
          clientId: client.clientId,
          sub,
          scope,
          issuedAt: t,
          expiresAt: s.settings.refreshTokenTtlSec === null ? null : t + s.settings.refreshTokenTtlSec * 1000,
          revoked: false,
        };
        s.refreshTokens.set(rt.token, rt);
        return rt;
      };

      app.post(paths.token, (req: Request, res: Response) => {
        const s = st();
        const p = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, string>;
        const grant = typeof p.grant_type === 'string' ? p.grant_type : '(missing)';
        s.counters.tokenRequests[grant] = (s.counters.tokenRequests[grant] ?? 0) + 1;
        try {
          if (!String(req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) {
            throw new OAuth2Error('invalid_request', 'The token request must be application/x-www-form-urlencoded');
          }
          if (!p.grant_type) throw new OAuth2Error('invalid_request', 'Missing grant_type');
          const client = authenticateClient(req, p);
          let out: { body: Record<string, unknown> };
          if (grant === 'authorization_code') {
            const rec = p.code ? s.codes.get(p.code) : undefined;
            if (!rec) throw new OAuth2Error('invalid_grant', 'Invalid authorization code');
            if (rec.clientId !== client.clientId)
              throw new OAuth2Error('invalid_grant', 'The authorization code was issued to another client');
            if (rec.used) {
              // RFC 6749 §4.1.2: a reused code revokes what it issued.
              for (const tok of rec.issuedTokens) {
                const a = s.accessTokens.get(tok);
                if (a) a.revoked = true;
                const r = s.refreshTokens.get(tok);
                if (r) r.revoked = true;
              }
              throw new OAuth2Error('invalid_grant', 'The authorization code has already been used');
            }
            if (rec.expiresAt <= now()) throw new OAuth2Error('invalid_grant', 'The authorization code has expired');
            if (rec.redirectUri !== null && p.redirect_uri !== rec.redirectUri)
              throw new OAuth2Error('invalid_grant', 'redirect_uri does not match the authorization request');
            if (rec.codeChallenge) {
              const v = p.code_verifier;
              if (!v) throw new OAuth2Error('invalid_grant', 'Missing code_verifier');
              const computed = rec.codeChallengeMethod === 'S256' ? b64url(crypto.createHash('sha256').update(v).digest()) : v;
              if (computed !== rec.codeChallenge) throw new OAuth2Error('invalid_grant', 'PKCE verification failed');
            }
            rec.used = true;
            const issued = issue(client, grant, rec.sub, rec.scope, { refresh: 'new', authorizeParams: rec.authorizeParams, req });
            rec.issuedTokens.push(issued.at.token);
            if (issued.at.refreshToken) rec.issuedTokens.push(issued.at.refreshToken);
            out = issued;
          } else if (grant === 'refresh_token') {
            const rec = p.refresh_token ? s.refreshTokens.get(p.refresh_token) : undefined;
            const fault = fake.faults.takeAuthFault(req);
            if (fault)
              throw new OAuth2Error('invalid_grant', fault === 'expired_token' ? 'Token has been expired.' : 'Token has been revoked.');
            if (!rec || rec.clientId !== client.clientId) throw new OAuth2Error('invalid_grant', 'Invalid refresh token');
            if (rec.revoked) throw new OAuth2Error('invalid_grant', 'Token has been expired or revoked.');
            if (rec.rotatedTo) throw new OAuth2Error('invalid_grant', 'The refresh token has been rotated and is no longer valid');
            if (rec.expiresAt !== null && rec.expiresAt <= now())
              throw new OAuth2Error('invalid_grant', 'Token has been expired or revoked.');
            let scope = rec.scope;
            if (p.scope) {
              const granted = new Set(rec.scope.split(' ').filter(Boolean));
              if (
                !p.scope
                  .split(' ')
                  .filter(Boolean)
                  .every((x) => granted.has(x))
              )
                throw new OAuth2Error('invalid_scope', 'The requested scope exceeds the granted scope');
              scope = p.scope;
            }
            out = issue(client, grant, rec.sub, scope, { refresh: rec, req });
          } else if (grant === 'client_credentials') {
            out = issue(client, grant, `client:${client.clientId}`, p.scope ?? '', { refresh: 'none' });
          } else if (options.extraGrants?.[grant]) {
            const r = options.extraGrants[grant]!({ req, params: p, client, state: s });
            out = issue(client, grant, r.sub ?? s.user.sub, r.scope ?? p.scope ?? '', { refresh: r.refreshToken ? 'new' : 'none' });
          } else {
            throw new OAuth2Error('unsupported_grant_type', `Unsupported grant_type ${grant}`);
          }
          res.setHeader('Cache-Control', 'no-store');
          res.setHeader('Pragma', 'no-cache');
          res.status(200).json(out.body);
        } catch (err) {
          if (err instanceof OAuth2Error) return oauthError(res, err, grant);
          throw err;
        }
      });

      // ---------------- revocation (RFC 7009) ----------------
      app.post(paths.revoke, (req: Request, res: Response) => {
        const s = st();
        s.counters.revoke += 1;
        const p = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, string>;
        try {
          if (req.headers.authorization || p.client_secret !== undefined) authenticateClient(req, p);
          if (!p.token) throw new OAuth2Error('invalid_request', 'Missing token');
          revokeToken(s, p.token);
          res.status(200).end();
        } catch (err) {
          if (err instanceof OAuth2Error) return oauthError(res, err, 'revoke');
          throw err;
        }
      });

      // ---------------- protected resources ----------------
      const bearer = (req: Request, res: Response): AccessTokenRecord | undefined => {
        const s = st();
        const m = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
        const token =
          m?.[1] ??
          ((options.allowQueryAccessToken ?? true) && typeof req.query.access_token === 'string' ? req.query.access_token : undefined);
        const realm = options.name ?? 'oauth2';
        if (!token) {
          res.setHeader('WWW-Authenticate', `Bearer realm="${realm}"`);
          res.status(401).json({ error: 'invalid_request', error_description: 'Missing access token' });
          return undefined;
        }
        const rec = s.accessTokens.get(token);
        const fault = fake.faults.takeAuthFault(req);
        let why: string | undefined;
        if (fault === 'expired_token') why = 'The access token expired';
        else if (fault === 'revoked_token') why = 'The access token was revoked';
        else if (!rec) why = 'Invalid access token';
        else if (rec.revoked) why = 'The access token was revoked';
        else if (rec.expiresAt <= now()) why = 'The access token expired';
        if (why) {
          res.setHeader('WWW-Authenticate', `Bearer realm="${realm}", error="invalid_token", error_description="${why}"`);
          res.status(401).json({ error: 'invalid_token', error_description: why });
          return undefined;
        }
        return rec;
      };
      app.get(paths.userinfo, (req: Request, res: Response) => {
        st().counters.userinfo += 1;
        const rec = bearer(req, res);
        if (!rec) return;
        const s = st();
        const user = rec.sub === s.user.sub ? s.user : { ...s.user, sub: rec.sub };
        res.json(
          options.userinfo?.({ user, scope: rec.scope, clientId: rec.clientId }) ?? {
            sub: user.sub,
            name: user.name,
            email: user.email,
            email_verified: true,
            ...user.extra,
          },
        );
      });
      app.get(paths.ping, (req: Request, res: Response) => {
        st().counters.ping += 1;
        const rec = bearer(req, res);
        if (!rec) return;
        res.json({ ok: true, sub: rec.sub, client_id: rec.clientId, scope: rec.scope, expires_at: new Date(rec.expiresAt).toISOString() });
      });

      options.setup?.(app, fake);
      setupControl(app, fake, P, now);
    },
  };
}

function freshCounters(): OAuth2Counters {
  return { authorize: 0, tokenRequests: {}, tokensIssued: {}, tokenErrors: {}, userinfo: 0, ping: 0, revoke: 0 };
}

/** Revokes an access or refresh token; revoking a refresh token also revokes the access tokens it minted. */
function revokeToken(s: OAuth2State, token: string): number {
  let n = 0;
  const at = s.accessTokens.get(token);
  if (at && !at.revoked) {
    at.revoked = true;
    n++;
  }
  const rt = s.refreshTokens.get(token);
  if (rt && !rt.revoked) {
    rt.revoked = true;
    n++;
    for (const a of s.accessTokens.values())
      if (a.refreshToken === token && !a.revoked) {
        a.revoked = true;
        n++;
      }
  }
  return n;
}

function setupControl(app: Express, fake: RunningFakeInternals<OAuth2State>, P: string, now: () => number): void {
  const st = () => fake.state;
  const body = (req: Request): Record<string, unknown> =>
    req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
  const bad = (res: Response, message: string, status = 400) => res.status(status).json({ error: { code: 'bad_request', message } });
  const clientJson = (c: OAuth2Client) => ({
    client_id: c.clientId,
    client_secret: c.clientSecret,
    redirect_uris: c.redirectUris,
    name: c.name,
    auth_methods: c.authMethods,
  });

  app.get(`${P}/state`, (_req, res) => {
    const s = st();
    res.json({
      settings: s.settings,
      user: s.user,
      counters: s.counters,
      clients: [...s.clients.values()].map(clientJson),
      codes: s.codes.size,
      accessTokens: s.accessTokens.size,
      refreshTokens: s.refreshTokens.size,
    });
  });
  app.get(`${P}/clients`, (_req, res) => {
    res.json({ clients: [...st().clients.values()].map(clientJson) });
  });
  app.post(`${P}/clients`, (req, res) => {
    const p = body(req);
    const uris = p.redirect_uris ?? p.redirectUris;
    if (!Array.isArray(uris) || uris.length === 0 || !uris.every((u) => typeof u === 'string'))
      return bad(res, 'redirect_uris (string[]) is required');
    const methods = p.auth_methods ?? p.authMethods;
    if (
      methods !== undefined &&
      (!Array.isArray(methods) || !methods.every((m) => m === 'client_secret_basic' || m === 'client_secret_post'))
    ) {
      return bad(res, 'auth_methods must be client_secret_basic and/or client_secret_post');
    }
    const c: OAuth2Client = {
      clientId: String(p.client_id ?? p.clientId ?? rand('client_', 12)),
      clientSecret: String(p.client_secret ?? p.clientSecret ?? rand('secret_', 24)),
      redirectUris: uris as string[],
      name: String(p.name ?? 'client'),
      authMethods: methods as ClientAuthMethod[] | undefined,
    };
    st().clients.set(c.clientId, c);
    res.status(201).json(clientJson(c));
  });
  app.delete(`${P}/clients/:id`, (req, res) => {
    const ok = st().clients.delete(String(req.params.id));
    if (!ok) return bad(res, 'no such client', 404);
    res.json({ ok: true });
  });
  app.get(`${P}/settings`, (_req, res) => {
    res.json(st().settings);
  });
  app.put(`${P}/settings`, (req, res) => {
    const p = body(req);
    const s = st().settings;
    const num = (k: 'accessTokenTtlSec' | 'codeTtlSec') => {
      if (p[k] !== undefined) s[k] = Math.max(0, Number(p[k]));
    };
    if (p.deny !== undefined) s.deny = p.deny === true;
    if (typeof p.denyError === 'string') s.denyError = p.denyError;
    if (p.rotateRefreshTokens !== undefined) s.rotateRefreshTokens = p.rotateRefreshTokens === true;
    if (p.requirePkce !== undefined) s.requirePkce = p.requirePkce === true;
    num('accessTokenTtlSec');
    num('codeTtlSec');
    if (p.refreshTokenTtlSec !== undefined)
      s.refreshTokenTtlSec = p.refreshTokenTtlSec === null ? null : Math.max(0, Number(p.refreshTokenTtlSec));
    if (p.refreshResponseIncludesRefreshToken === 'always' || p.refreshResponseIncludesRefreshToken === 'when_rotated') {
      s.refreshResponseIncludesRefreshToken = p.refreshResponseIncludesRefreshToken;
    }
    res.json(s);
  });
  app.put(`${P}/user`, (req, res) => {
    const p = body(req);
    const u = st().user;
    if (typeof p.sub === 'string') u.sub = p.sub;
    if (typeof p.name === 'string') u.name = p.name;
    if (typeof p.email === 'string') u.email = p.email;
    if (p.extra && typeof p.extra === 'object') u.extra = p.extra as Record<string, unknown>;
    res.json(u);
  });
  app.post(`${P}/revoke`, (req, res) => {
    const p = body(req);
    const s = st();
    let revoked = 0;
    for (const k of ['refresh_token', 'access_token', 'token'] as const)
      if (typeof p[k] === 'string') revoked += revokeToken(s, p[k] as string);
    if (typeof p.client_id === 'string') {
      for (const t of [...s.accessTokens.values(), ...s.refreshTokens.values()]) {
        if (t.clientId === p.client_id && !t.revoked) {
          t.revoked = true;
          revoked++;
        }
      }
    }
    res.json({ revoked });
  });
  app.post(`${P}/expire-access-tokens`, (req, res) => {
    const p = body(req);
    const t = now();
    let expired = 0;
    for (const a of st().accessTokens.values()) {
      if ((p.client_id === undefined || a.clientId === p.client_id) && a.expiresAt > t) {
        a.expiresAt = t;
        expired++;
      }
    }
    res.json({ expired });
  });
  app.post(`${P}/expire-refresh-tokens`, (req, res) => {
    const p = body(req);
    const t = now();
    let expired = 0;
    for (const r of st().refreshTokens.values()) {
      if ((p.client_id === undefined || r.clientId === p.client_id) && (r.expiresAt === null || r.expiresAt > t)) {
        r.expiresAt = t;
        expired++;
      }
    }
    res.json({ expired });
  });
  app.post(`${P}/expire-codes`, (_req, res) => {
    const t = now();
    let expired = 0;
    for (const c of st().codes.values())
      if (c.expiresAt > t) {
        c.expiresAt = t;
        expired++;
      }
    res.json({ expired });
  });
  app.get(`${P}/counters`, (_req, res) => {
    res.json(st().counters);
  });
  app.post(`${P}/counters/reset`, (_req, res) => {
    st().counters = freshCounters();
    res.json(st().counters);
  });
  app.get(`${P}/tokens`, (_req, res) => {
    const s = st();
    const iso = (n: number | null) => (n === null ? null : new Date(n).toISOString());
    res.json({
      accessTokens: [...s.accessTokens.values()].map((a) => ({ ...a, issuedAt: iso(a.issuedAt), expiresAt: iso(a.expiresAt) })),
      refreshTokens: [...s.refreshTokens.values()].map((r) => ({ ...r, issuedAt: iso(r.issuedAt), expiresAt: iso(r.expiresAt) })),
    });
  });
}

/** The generic fake with default options (HTTP). */
export const oauth2Fake: FakeDefinition<OAuth2State> = createOAuth2Fake();

export async function startOAuth2Fake(opts: OAuth2FakeOptions & { port?: number; host?: string } = {}): Promise<RunningFake<OAuth2State>> {
  const { port, host, ...rest } = opts;
  return startFake(createOAuth2Fake(rest), { port, host });
}
