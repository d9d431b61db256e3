import crypto from 'node:crypto';
import type { Express, Request, Response, NextFunction } from 'express';
import { startFake, type FakeDefinition, type RunningFake } from '../framework/index.ts';
import { createOAuth2Fake, type OAuth2User } from '../oauth2/index.ts';
import { setupCalendar } from './calendar.ts';
import { CONTROL, setupControl } from './control.ts';
import { setupDirectory } from './directory.ts';
import { setupDrive } from './drive.ts';
import { faultBody } from './errors.ts';
import { setupGmail } from './gmail.ts';
import { setupServiceAccounts } from './service-accounts.ts';
import { setupSheets } from './sheets.ts';
import type { Fake } from './runtime.ts';
import { freshGoogleData, type GoogleState } from './state.ts';

/**
 * Google Workspace on one origin: Calendar v3, Drive v3 (+ uploads), Gmail v1, Admin SDK Directory v1 under
 * their googleapis.com paths (GOOGLE_BASE_URL), and the OAuth 2 server (GOOGLE_OAUTH_BASE_URL): authorize at
 * /o/oauth2/v2/auth, token at /token, revocation at /revoke, userinfo at /oauth2/v3/userinfo, tokeninfo at /tokeninfo.
 */

export const GOOGLE_PATHS = {
  authorize: '/o/oauth2/v2/auth',
  token: '/token',
  revoke: '/revoke',
  userinfo: '/oauth2/v3/userinfo',
  tokeninfo: '/tokeninfo',
  certs: '/oauth2/v3/certs',
} as const;

export const DEFAULT_GOOGLE_CLIENT = {
  clientId: 'sandbox-client.apps.googleusercontent.com',
  clientSecret: 'GOCSPX-sandbox-secret',
  redirectUris: ['http://127.0.0.1/*', 'http://localhost/*', 'https://127.0.0.1/*', 'https://localhost/*'],
  name: 'dingbridge sandbox',
};
export const DEFAULT_GOOGLE_USER: OAuth2User = {
  sub: 'sandbox-user-1',
  name: 'Demo User',
  email: 'demo@example.com',
  extra: { given_name: 'Demo', family_name: 'User', picture: 'https://lh3.googleusercontent.com/a/default-user', hd: 'example.com' },
};

export interface GoogleFakeOptions {
  /** Start as an app in "Testing" publishing status (refresh tokens expire after 7 days). */
  testingApp?: boolean;
}

// One signing key per process for id_tokens (published at /oauth2/v3/certs).
const signingKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const KID = 'sandbox-google-1';

function idToken(iss: string, aud: string, user: OAuth2User, nonce?: string): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const t = Math.floor(Date.now() / 1000);
  const head = b64({ alg: 'RS256', kid: KID, typ: 'JWT' });
  const body = b64({
    iss,
    azp: aud,
    aud,
    sub: user.sub,
    email: user.email,
    email_verified: true,
    at_hash: crypto.randomBytes(16).toString('base64url'),
    name: user.name,
    ...(user.extra?.hd ? { hd: user.extra.hd } : {}),
    iat: t,
    exp: t + 3600,
    ...(nonce ? { nonce } : {}),
  });
  const sig = crypto.sign('RSA-SHA256', Buffer.from(`${head}.${body}`), signingKey.privateKey).toString('base64url');
  return `${head}.${body}.${sig}`;
}

/** The generic fake's token errors in the words Google's token endpoint uses. */
function googleTokenError(error: string, description: string): { error: string; error_description: string } {
  const words: Record<string, [string, string]> = {
    'Invalid refresh token': ['invalid_grant', 'Bad Request'],
    'Invalid authorization code': ['invalid_grant', 'Malformed auth code.'],
    'The authorization code has already been used': ['invalid_grant', 'Bad Request'],
    'The authorization code has expired': ['invalid_grant', 'Bad Request'],
    'redirect_uri does not match the authorization request': ['redirect_uri_mismatch', 'Bad Request'],
    'Missing code_verifier': ['invalid_grant', 'Missing code verifier.'],
    'PKCE verification failed': ['invalid_grant', 'Invalid code verifier.'],
    'The OAuth client was not found.': ['invalid_client', 'The OAuth client was not found.'],
  };
  const [e, d] = words[description] ?? [error, description];
  return { error: e, error_description: d };
}

export function createGoogleFake(options: GoogleFakeOptions = {}): FakeDefinition<GoogleState> {
  let fakeRef: Fake | undefined;
  const grantKey = (clientId: string, sub: string) => `${clientId} ${sub}`;
  const base = createOAuth2Fake({
    name: 'google',
    paths: {
      authorize: GOOGLE_PATHS.authorize,
      token: GOOGLE_PATHS.token,
      userinfo: GOOGLE_PATHS.userinfo,
      revoke: '/__generic-revoke',
      ping: '/__generic-ping',
    },
    controlPrefix: `${CONTROL}/oauth`,
    defaultClient: DEFAULT_GOOGLE_CLIENT,
    defaultUser: DEFAULT_GOOGLE_USER,
    settings: { accessTokenTtlSec: 3599, refreshTokenTtlSec: options.testingApp ? 7 * 86_400 : null },
    accessTokenPrefix: 'ya29.a0',
    refreshTokenPrefix: '1//0g',
    // Google hands out a refresh token only with access_type=offline, and again for the same grant only with prompt=consent.
    issueRefreshToken: (ctx) => {
      if (ctx.grantType !== 'authorization_code') return true;
      const ap = ctx.authorizeParams ?? {};
      if (ap.access_type !== 'offline') return false;
      const g = fakeRef!.state.google;
      const k = grantKey(ctx.client.clientId, ctx.user.sub);
      const again = g.offlineGrants.has(k);
      g.offlineGrants.add(k);
      return !again || (ap.prompt ?? '').split(' ').includes('consent');
    },
    extraTokenFields: (ctx) => ({
      ...(ctx.refreshTokenExpiresIn !== null && fakeRef?.state.google.settings.testingApp
        ? { refresh_token_expires_in: ctx.refreshTokenExpiresIn }
        : {}),
      ...(ctx.scope.split(' ').includes('openid')
        ? { id_token: idToken(fakeRef!.baseUrl(), ctx.client.clientId, ctx.user, ctx.authorizeParams?.nonce) }
        : {}),
    }),
    errorBody: (error, description) => googleTokenError(error, description),
    userinfo: ({ user, scope }) => {
      const sc = scope.split(' ');
      const email = sc.includes('email') || sc.includes('https://www.googleapis.com/auth/userinfo.email');
      const profile = sc.includes('profile') || sc.includes('https://www.googleapis.com/auth/userinfo.profile');
      return {
        sub: user.sub,
        ...(profile
          ? { name: user.name, given_name: user.extra?.given_name, family_name: user.extra?.family_name, picture: user.extra?.picture }
          : {}),
        ...(email ? { email: user.email, email_verified: true } : {}),
        ...(user.extra?.hd ? { hd: user.extra.hd } : {}),
      };
    },
  });

  return {
    name: 'google',
    initialState: (): GoogleState => {
      const st = { ...base.initialState(), google: freshGoogleData() };
      st.google.settings.testingApp = options.testingApp === true;
      return st;
    },
    ignorePaths: [],
    faultBody: (status, spec) =>
      spec.path && /token|revoke/.test(spec.path)
        ? { error: status >= 500 ? 'internal_failure' : 'invalid_request', error_description: `injected ${status}` }
        : faultBody(status),
    setup(app: Express, fake) {
      fakeRef = fake as Fake;
      setupGoogleOAuthExtras(app, fake as Fake, grantKey);
      setupServiceAccounts(app, fake as Fake);
      base.setup(app, fake);
      setupCalendar(app, fake as Fake);
      setupDrive(app, fake as Fake);
      setupGmail(app, fake as Fake);
      setupDirectory(app, fake as Fake);
      setupSheets(app, fake as Fake);
      setupControl(app, fake as Fake);
    },
  };
}

/** What Google's OAuth server does beyond the generic fake: scope checks, incremental scopes, revocation of the whole grant, tokeninfo, certs. */
function setupGoogleOAuthExtras(app: Express, fake: Fake, grantKey: (c: string, s: string) => string): void {
  const page = (res: Response, msg: string) =>
    res
      .status(400)
      .type('html')
      .send(
        `<!doctype html><title>Error 400: invalid_request</title><h1>Access blocked: Authorization Error</h1><p>Error 400: invalid_request</p><p>${msg.replace(/[<>&]/g, '')}</p>`,
      );

  app.get(GOOGLE_PATHS.authorize, (req: Request, res: Response, next: NextFunction) => {
    const s = fake.state;
    const p = req.query as Record<string, string>;
    if (!p.client_id || !s.clients.has(p.client_id)) return next();
    if (!p.scope) return page(res, 'Missing required parameter: scope');
    if (p.access_type !== undefined && p.access_type !== 'online' && p.access_type !== 'offline')
      return page(res, `Invalid parameter value for access_type: ${p.access_type}`);
    const prompts = (p.prompt ?? '').split(' ').filter(Boolean);
    if (prompts.some((x) => !['none', 'consent', 'select_account'].includes(x)))
      return page(res, `Invalid parameter value for prompt: ${p.prompt}`);
    const k = grantKey(p.client_id, s.user.sub);
    const granted = s.google.grants.get(k) ?? new Set<string>();
    const requested = p.scope.split(/[ ,]+/).filter(Boolean);
    if (prompts.includes('none') && requested.some((x) => !granted.has(x))) {
      const u = new URL(p.redirect_uri ?? 'http://127.0.0.1/');
      u.searchParams.set('error', 'consent_required');
      if (p.state) u.searchParams.set('state', p.state);
      return res.redirect(302, u.toString());
    }
    if (s.settings.deny) return next();
    for (const x of requested) granted.add(x);
    s.google.grants.set(k, granted);
    if (p.include_granted_scopes === 'true') {
      // Incremental authorization: the new grant carries every scope the user granted this client before.
      const u = new URL(req.originalUrl, 'http://x');
      u.searchParams.set('scope', [...granted].join(' '));
      req.url = `${u.pathname}${u.search}`;
    }
    next();
  });

  // Revocation: token (access or refresh) in the query or the form body; revokes the whole grant.
  const revoke = (req: Request, res: Response) => {
    const s = fake.state;
    s.counters.revoke += 1;
    const bodyToken = req.body && typeof req.body === 'object' ? (req.body as Record<string, string>).token : undefined;
    const token = (typeof req.query.token === 'string' ? req.query.token : undefined) ?? bodyToken;
    const at = token ? s.accessTokens.get(token) : undefined;
    const rt = token ? s.refreshTokens.get(token) : undefined;
    const rec = at ?? rt;
    if (!rec || rec.revoked || (at && at.expiresAt <= Date.now())) {
      return res.status(400).json({ error: 'invalid_token', error_description: 'Token expired or revoked' });
    }
    for (const a of s.accessTokens.values()) if (a.clientId === rec.clientId && a.sub === rec.sub) a.revoked = true;
    for (const r of s.refreshTokens.values()) if (r.clientId === rec.clientId && r.sub === rec.sub) r.revoked = true;
    s.google.grants.delete(grantKey(rec.clientId, rec.sub));
    s.google.offlineGrants.delete(grantKey(rec.clientId, rec.sub));
    res.status(200).json({});
  };
  app.post(GOOGLE_PATHS.revoke, revoke);
  app.get(GOOGLE_PATHS.revoke, revoke);

  const tokeninfo = (req: Request, res: Response) => {
    const s = fake.state;
    const p = {
      ...(req.query as Record<string, string>),
      ...(req.body && typeof req.body === 'object' ? (req.body as Record<string, string>) : {}),
    };
    const bearer = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
    const token = p.access_token ?? bearer;
    const rec = token ? s.accessTokens.get(token) : undefined;
    if (!rec || rec.revoked || rec.expiresAt <= Date.now())
      return res.status(400).json({ error: 'invalid_token', error_description: 'Invalid Value' });
    const email = s.user.sub === rec.sub ? s.user.email : undefined;
    res.json({
      azp: rec.clientId,
      aud: rec.clientId,
      sub: rec.sub,
      scope: rec.scope,
      exp: String(Math.floor(rec.expiresAt / 1000)),
      expires_in: String(Math.max(0, Math.floor((rec.expiresAt - Date.now()) / 1000))),
      ...(email ? { email, email_verified: 'true' } : {}),
      access_type: rec.refreshToken ? 'offline' : 'online',
    });
  };
  app.get(GOOGLE_PATHS.tokeninfo, tokeninfo);
  app.post(GOOGLE_PATHS.tokeninfo, tokeninfo);
  // The older userinfo (googleapis `oauth2` v2): id/verified_email instead of sub/email_verified.
  app.get('/oauth2/v2/userinfo', (req: Request, res: Response) => {
    const s = fake.state;
    const token = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
    const rec = token ? s.accessTokens.get(token) : undefined;
    if (!rec || rec.revoked || rec.expiresAt <= Date.now()) {
      return res
        .status(401)
        .json({ error: { code: 401, message: 'Request is missing required authentication credential.', status: 'UNAUTHENTICATED' } });
    }
    const u = rec.sub === s.user.sub ? s.user : { ...s.user, sub: rec.sub };
    res.json({
      id: u.sub,
      email: u.email,
      verified_email: true,
      name: u.name,
      given_name: u.extra?.given_name,
      family_name: u.extra?.family_name,
      picture: u.extra?.picture,
      hd: u.extra?.hd,
    });
  });
  app.get(GOOGLE_PATHS.certs, (_req, res) => {
    const jwk = signingKey.publicKey.export({ format: 'jwk' });
    res.json({ keys: [{ ...jwk, kid: KID, alg: 'RS256', use: 'sig' }] });
  });
}

export async function startGoogleFake(opts: GoogleFakeOptions & { port?: number; host?: string } = {}): Promise<RunningFake<GoogleState>> {
  const { port, host, ...rest } = opts;
  return startFake(createGoogleFake(rest), { port, host });
}

export type { GoogleState } from './state.ts';
export { googleErrorBody } from './errors.ts';
export { advanceClock, setTestingApp } from './control.ts';
