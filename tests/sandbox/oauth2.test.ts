import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response, type NextFunction } from 'express';
import OAuth2Strategy from 'passport-oauth2';
import { startOAuth2Fake, type OAuth2State } from '../../sandbox/oauth2/index.ts';
import type { RunningFake } from '../../sandbox/framework/index.ts';

type OAuthCallbackError = { statusCode: number; data: string } | null;

/**
 * A tiny relying-party app driving passport-oauth2's OAuth2Strategy the way passport does
 * (passport itself is not installed: the strategy is augmented with success/fail/redirect/error,
 * exactly what passport.authenticate does), with a cookie session for the PKCE + state store.
 */
class RelyingParty {
  server!: http.Server;
  base = '';
  strategy!: OAuth2Strategy;
  sessions = new Map<string, Record<string, unknown>>();
  lastCallbackQuery: Record<string, unknown> = {};

  async start(make: (callbackURL: string) => OAuth2Strategy) {
    const app = express();
    app.use((req: Request, res: Response, next: NextFunction) => {
      let sid = /(?:^|;\s*)sid=(\w+)/.exec(String(req.headers.cookie ?? ''))?.[1];
      if (!sid || !this.sessions.has(sid)) {
        sid = crypto.randomBytes(8).toString('hex');
        this.sessions.set(sid, {});
        res.setHeader('Set-Cookie', `sid=${sid}; Path=/; HttpOnly`);
      }
      (req as unknown as { session: unknown }).session = this.sessions.get(sid);
      next();
    });
    const authenticate = (options: Record<string, unknown>) => (req: Request, res: Response, next: NextFunction) => {
      const s = Object.create(this.strategy);
      s.redirect = (url: string, status?: number) => res.redirect(status ?? 302, url);
      s.success = (user: unknown, info: unknown) => {
        (req as any).user = user;
        (req as any).authInfo = info;
        next();
      };
      s.fail = (challenge: unknown, status?: number) => {
        res.status(status ?? 401).json({ failed: true, challenge });
      };
      s.error = (err: Error) => next(err);
      s.pass = () => next();
      s.authenticate(req, options);
    };
    app.get('/auth', authenticate({ scope: ['openid', 'email'] }));
    app.get(
      '/callback',
      (req, _res, next) => {
        this.lastCallbackQuery = { ...req.query };
        next();
      },
      authenticate({}),
      (req: Request, res: Response) => {
        res.json({ user: (req as Request & { user: unknown }).user });
      },
    );
    app.use(
      (
        err: Error & { code?: string; oauthError?: { statusCode: number; data: string } },
        _req: Request,
        res: Response,
        _next: NextFunction,
      ) => {
        res.status(500).json({ error: err.message, name: err.name, code: err.code, oauthError: err.oauthError });
      },
    );
    this.server = http.createServer(app);
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.strategy = make(this.base + '/callback');
  }
  stop() {
    return new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Plays the browser: /auth → provider authorize → /callback. Returns each hop. */
  async login() {
    const r1 = await fetch(this.base + '/auth', { redirect: 'manual' });
    const cookie = String(r1.headers.get('set-cookie')).split(';')[0]!;
    const authorizeUrl = new URL(String(r1.headers.get('location')));
    const r2 = await fetch(authorizeUrl, { redirect: 'manual' });
    const callback = r2.headers.get('location');
    if (r2.status !== 302 || !callback) return { authorizeUrl, authorizeStatus: r2.status, callback: null, result: null as any, status: 0 };
    const callbackUrl = new URL(callback);
    const r3 = await fetch(callbackUrl, { headers: { cookie }, redirect: 'manual' });
    return { authorizeUrl, authorizeStatus: r2.status, callback: callbackUrl, result: (await r3.json()) as any, status: r3.status };
  }
}

const oauthCall = (s: OAuth2Strategy, code: string, params: Record<string, string>) =>
  new Promise<{ err: OAuthCallbackError; accessToken?: string; refreshToken?: string; results?: Record<string, unknown> }>((resolve) => {
    (s as any)._oauth2.getOAuthAccessToken(
      code,
      params,
      (err: OAuthCallbackError, accessToken: string, refreshToken: string, results: Record<string, unknown>) =>
        resolve({ err, accessToken, refreshToken, results }),
    );
  });
const refresh = (s: OAuth2Strategy, rt: string) => oauthCall(s, rt, { grant_type: 'refresh_token' });
const oauthGet = (s: OAuth2Strategy, url: string, token: string) =>
  new Promise<{ err: OAuthCallbackError; body?: string }>((resolve) =>
    (s as any)._oauth2.get(url, token, (err: OAuthCallbackError, body: string) => resolve({ err, body })),
  );

function makeStrategy(fakeBase: string, callbackURL: string, extra: Record<string, unknown> = {}) {
  const s = new OAuth2Strategy(
    {
      authorizationURL: fakeBase + '/oauth/authorize',
      tokenURL: fakeBase + '/oauth/token',
      clientID: 'rp-client',
      clientSecret: 'rp-secret',
      callbackURL,
      pkce: true,
      state: true,
      ...extra,
    } as any,
    ((accessToken: string, refreshToken: string, params: unknown, profile: unknown, done: (e: null, u: unknown) => void) => {
      done(null, { accessToken, refreshToken, params, profile });
    }) as any,
  );
  (s as any)._oauth2.useAuthorizationHeaderforGET(true);
  s.userProfile = function (this: any, accessToken: string, done: (err: unknown, profile?: unknown) => void) {
    this._oauth2.get(fakeBase + '/oauth/userinfo', accessToken, (err: unknown, body: string) =>
      err ? done(err) : done(null, JSON.parse(body)),
    );
  } as any;
  return s;
}

let fake: RunningFake<OAuth2State>;
let rp: RelyingParty;
const ctl = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(fake.baseUrl() + path, {
    method,
    headers: body ? { 'content-type': 'application/json' } : undefined,
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
  return json as any;
};
const counters = () => ctl('GET', '/__sandbox/oauth2/counters');

before(async () => {
  fake = await startOAuth2Fake();
  rp = new RelyingParty();
  await rp.start((cb) => makeStrategy(fake.baseUrl(), cb));
});
after(async () => {
  await rp.stop();
  await fake.stop();
});
beforeEach(async () => {
  fake.reset();
  await ctl('POST', '/__sandbox/oauth2/clients', {
    client_id: 'rp-client',
    client_secret: 'rp-secret',
    redirect_uris: [rp.base + '/callback'],
  });
});

test('authorization code + PKCE (S256) + state through passport-oauth2', async () => {
  const { authorizeUrl, callback, result, status } = await login();
  assert.equal(authorizeUrl.searchParams.get('code_challenge_method'), 'S256');
  assert.ok(authorizeUrl.searchParams.get('code_challenge'));
  assert.ok(authorizeUrl.searchParams.get('state'));
  assert.equal(callback!.searchParams.get('state'), authorizeUrl.searchParams.get('state'));
  assert.equal(status, 200, JSON.stringify(result));
  assert.match(result.user.accessToken, /^at_/);
  assert.match(result.user.refreshToken, /^rt_/);
  assert.equal(result.user.params.token_type, 'Bearer');
  assert.equal(result.user.params.expires_in, 3600);
  assert.equal(result.user.params.scope, 'openid email');
  assert.equal(result.user.profile.sub, 'sandbox-user-1');
  const c = await counters();
  assert.equal(c.tokenRequests.authorization_code, 1);
  assert.equal(c.tokensIssued.authorization_code, 1);
  assert.equal(c.userinfo, 1);
  // the token endpoint saw client_secret_post (what node-oauth sends) and the PKCE verifier
  const [call] = (await (await fetch(fake.baseUrl() + '/__sandbox/calls?path=/oauth/token')).json()).calls;
  assert.equal(call.body.client_id, 'rp-client');
  assert.equal(
    crypto.createHash('sha256').update(call.body.code_verifier).digest('base64url'),
    authorizeUrl.searchParams.get('code_challenge'),
  );
});
const login = () => rp.login();

test('codes are one-time, PKCE and redirect_uri are checked, expired codes refused', async () => {
  // take a code without letting the RP redeem it
  const r1 = await fetch(rp.base + '/auth', { redirect: 'manual' });
  const authorizeUrl = String(r1.headers.get('location'));
  const code = async () =>
    new URL(String((await fetch(authorizeUrl, { redirect: 'manual' })).headers.get('location'))).searchParams.get('code')!;
  const cb = rp.base + '/callback';

  const wrongVerifier = await oauthCall(rp.strategy, await code(), {
    grant_type: 'authorization_code',
    redirect_uri: cb,
    code_verifier: 'x'.repeat(43),
  });
  assert.equal(wrongVerifier.err?.statusCode, 400);
  assert.deepEqual(JSON.parse(wrongVerifier.err!.data), { error: 'invalid_grant', error_description: 'PKCE verification failed' });
  const noVerifier = await oauthCall(rp.strategy, await code(), { grant_type: 'authorization_code', redirect_uri: cb });
  assert.equal(JSON.parse(noVerifier.err!.data).error, 'invalid_grant');

  // a fresh full login works; replaying its code is invalid_grant and revokes what it issued
  const { callback, result } = await login();
  const replay = await oauthCall(rp.strategy, callback!.searchParams.get('code')!, { grant_type: 'authorization_code', redirect_uri: cb });
  assert.equal(replay.err?.statusCode, 400);
  assert.equal(JSON.parse(replay.err!.data).error, 'invalid_grant');
  const revoked = await oauthGet(rp.strategy, fake.baseUrl() + '/api/ping', result.user.accessToken);
  assert.equal(revoked.err?.statusCode, 401);

  // redirect_uri must match the authorization request
  const c3 = await code();
  const mismatch = await oauthCall(rp.strategy, c3, { grant_type: 'authorization_code', redirect_uri: cb + '/other' });
  assert.equal(JSON.parse(mismatch.err!.data).error_description, 'redirect_uri does not match the authorization request');

  // expired code
  const c4 = await code();
  assert.equal((await ctl('POST', '/__sandbox/oauth2/expire-codes')).expired >= 1, true);
  const expired = await oauthCall(rp.strategy, c4, { grant_type: 'authorization_code', redirect_uri: cb });
  assert.deepEqual(JSON.parse(expired.err!.data), { error: 'invalid_grant', error_description: 'The authorization code has expired' });

  // bad client secret
  const bad = makeStrategy(fake.baseUrl(), cb, { clientSecret: 'wrong' });
  const badClient = await oauthCall(bad, 'whatever', { grant_type: 'refresh_token' });
  assert.equal(badClient.err?.statusCode, 401);
  assert.equal(JSON.parse(badClient.err!.data).error, 'invalid_client');
});

test('refresh: exactly one request reached the token endpoint; the new token works', async () => {
  const { result } = await login();
  await ctl('POST', '/__sandbox/oauth2/counters/reset');
  const r = await refresh(rp.strategy, result.user.refreshToken);
  assert.equal(r.err, null);
  assert.notEqual(r.accessToken, result.user.accessToken);
  assert.equal(r.refreshToken, undefined); // not rotated: no refresh_token in the answer by default
  const c = await counters();
  assert.deepEqual(c.tokenRequests, { refresh_token: 1 });
  const ping = await oauthGet(rp.strategy, fake.baseUrl() + '/api/ping', r.accessToken!);
  assert.equal(ping.err, null);
  assert.equal(JSON.parse(ping.body!).client_id, 'rp-client');
  // the same refresh token still works without rotation
  assert.equal((await refresh(rp.strategy, result.user.refreshToken)).err, null);
});

test('rotation: each refresh returns a new refresh token and the old one becomes invalid_grant', async () => {
  await ctl('PUT', '/__sandbox/oauth2/settings', { rotateRefreshTokens: true });
  const { result } = await login();
  const first = await refresh(rp.strategy, result.user.refreshToken);
  assert.equal(first.err, null);
  assert.ok(first.refreshToken && first.refreshToken !== result.user.refreshToken);
  const reuse = await refresh(rp.strategy, result.user.refreshToken);
  assert.equal(reuse.err?.statusCode, 400);
  assert.equal(JSON.parse(reuse.err!.data).error, 'invalid_grant');
  const second = await refresh(rp.strategy, first.refreshToken!);
  assert.equal(second.err, null);
  assert.ok(second.refreshToken && second.refreshToken !== first.refreshToken);
  const c = await counters();
  assert.equal(c.tokenRequests.refresh_token, 3);
  assert.equal(c.tokensIssued.refresh_token, 2);
  assert.equal(c.tokenErrors.refresh_token, 1);
});

test('revoked and expired refresh tokens are invalid_grant; revoking a client kills all its tokens', async () => {
  const a = await login();
  const r1 = await ctl('POST', '/__sandbox/oauth2/revoke', { refresh_token: a.result.user.refreshToken });
  assert.equal(r1.revoked, 2); // the refresh token and the access token it came with
  const res = await refresh(rp.strategy, a.result.user.refreshToken);
  assert.equal(res.err?.statusCode, 400);
  assert.deepEqual(JSON.parse(res.err!.data), { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });

  const b = await login();
  await ctl('POST', '/__sandbox/oauth2/expire-refresh-tokens');
  assert.equal(JSON.parse((await refresh(rp.strategy, b.result.user.refreshToken)).err!.data).error, 'invalid_grant');

  const c = await login();
  assert.equal((await oauthGet(rp.strategy, fake.baseUrl() + '/api/ping', c.result.user.accessToken)).err, null);
  await ctl('POST', '/__sandbox/oauth2/revoke', { client_id: 'rp-client' });
  assert.equal((await oauthGet(rp.strategy, fake.baseUrl() + '/api/ping', c.result.user.accessToken)).err?.statusCode, 401);
  assert.equal(JSON.parse((await refresh(rp.strategy, c.result.user.refreshToken)).err!.data).error, 'invalid_grant');

  // RFC 7009 revocation endpoint
  const d = await login();
  const rv = await fetch(fake.baseUrl() + '/oauth/revoke', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: d.result.user.accessToken, client_id: 'rp-client', client_secret: 'rp-secret' }),
  });
  assert.equal(rv.status, 200);
  assert.equal((await oauthGet(rp.strategy, fake.baseUrl() + '/oauth/userinfo', d.result.user.accessToken)).err?.statusCode, 401);
});

test('expired, unknown and fault-injected access tokens get 401 with WWW-Authenticate invalid_token', async () => {
  await ctl('PUT', '/__sandbox/oauth2/settings', { accessTokenTtlSec: 120 });
  const { result } = await login();
  assert.equal(result.user.params.expires_in, 120);
  const ok = await fetch(fake.baseUrl() + '/oauth/userinfo', { headers: { authorization: `Bearer ${result.user.accessToken}` } });
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).email, 'demo@example.com');

  await ctl('POST', '/__sandbox/faults', { kind: 'expired_token', path: '^/api/ping$' });
  const faulted = await fetch(fake.baseUrl() + '/api/ping', { headers: { authorization: `Bearer ${result.user.accessToken}` } });
  assert.equal(faulted.status, 401);
  assert.match(String(faulted.headers.get('www-authenticate')), /^Bearer .*error="invalid_token"/);
  assert.equal(
    (await fetch(fake.baseUrl() + '/api/ping', { headers: { authorization: `Bearer ${result.user.accessToken}` } })).status,
    200,
  );

  assert.equal((await ctl('POST', '/__sandbox/oauth2/expire-access-tokens')).expired, 1);
  const expired = await fetch(fake.baseUrl() + '/oauth/userinfo', { headers: { authorization: `Bearer ${result.user.accessToken}` } });
  assert.equal(expired.status, 401);
  assert.match(String(expired.headers.get('www-authenticate')), /error="invalid_token"/);
  assert.match(String(expired.headers.get('www-authenticate')), /expired/);
  const viaSdk = await oauthGet(rp.strategy, fake.baseUrl() + '/oauth/userinfo', result.user.accessToken);
  assert.equal(viaSdk.err?.statusCode, 401);
  const unknown = await fetch(fake.baseUrl() + '/api/ping', { headers: { authorization: 'Bearer nope' } });
  assert.equal(unknown.status, 401);
  assert.match(String(unknown.headers.get('www-authenticate')), /error="invalid_token"/);
  // a refresh brings a working token back
  const r = await refresh(rp.strategy, result.user.refreshToken);
  assert.equal((await oauthGet(rp.strategy, fake.baseUrl() + '/api/ping', r.accessToken!)).err, null);
});

test('injected token-endpoint faults as the SDK sees them: 503 and a revoked refresh', async () => {
  const { result } = await login();
  await ctl('POST', '/__sandbox/faults', { kind: 'status', status: 503, path: '^/oauth/token$' });
  const r503 = await refresh(rp.strategy, result.user.refreshToken);
  assert.equal(r503.err?.statusCode, 503);
  assert.equal(JSON.parse(r503.err!.data).error, 'temporarily_unavailable');
  await ctl('POST', '/__sandbox/faults', { kind: 'revoked_token', path: '^/oauth/token$' });
  const rev = await refresh(rp.strategy, result.user.refreshToken);
  assert.equal(JSON.parse(rev.err!.data).error, 'invalid_grant');
  assert.equal((await refresh(rp.strategy, result.user.refreshToken)).err, null);
  // the injected 503 is answered by the framework before the token handler: it is in the call log, not the counters
  assert.equal((await counters()).tokenRequests.refresh_token, 2);
  const calls = (await (await fetch(fake.baseUrl() + '/__sandbox/calls?path=/oauth/token')).json()).calls;
  assert.deepEqual(
    calls.filter((c: { body: { grant_type: string } }) => c.body.grant_type === 'refresh_token').map((c: { status: number }) => c.status),
    [503, 400, 200],
  );
});

test('deny mode redirects with error=access_denied and state; passport fails the login', async () => {
  await ctl('PUT', '/__sandbox/oauth2/settings', { deny: true });
  const { authorizeUrl, callback, result, status } = await login();
  assert.equal(callback!.searchParams.get('error'), 'access_denied');
  assert.equal(callback!.searchParams.get('state'), authorizeUrl.searchParams.get('state'));
  assert.equal(callback!.searchParams.get('code'), null);
  assert.equal(status, 401);
  assert.equal(result.failed, true);
  assert.equal((await counters()).tokenRequests.authorization_code, undefined);
});

test('bad client_id or unregistered redirect_uri: a 400 page, never a redirect', async () => {
  const base = fake.baseUrl() + '/oauth/authorize?response_type=code&state=s1';
  const badClient = await fetch(`${base}&client_id=nobody&redirect_uri=${encodeURIComponent(rp.base + '/callback')}`, {
    redirect: 'manual',
  });
  assert.equal(badClient.status, 400);
  assert.equal(badClient.headers.get('location'), null);
  assert.match(String(badClient.headers.get('content-type')), /text\/html/);
  const badUri = await fetch(`${base}&client_id=rp-client&redirect_uri=${encodeURIComponent('http://evil.example/cb')}`, {
    redirect: 'manual',
  });
  assert.equal(badUri.status, 400);
  assert.equal(badUri.headers.get('location'), null);
  const badType = await fetch(
    `${base.replace('response_type=code', 'response_type=token')}&client_id=rp-client&redirect_uri=${encodeURIComponent(rp.base + '/callback')}`,
    { redirect: 'manual' },
  );
  assert.equal(new URL(String(badType.headers.get('location'))).searchParams.get('error'), 'unsupported_response_type');
});

test('reuse options: Basic-only client auth, QuickBooks-style token fields and realmId on the callback', async () => {
  const qbo = await startOAuth2Fake({
    name: 'quickbooks',
    paths: { authorize: '/connect/oauth2', token: '/oauth2/v1/tokens/bearer' },
    clientAuthMethods: ['client_secret_basic'],
    settings: { rotateRefreshTokens: true, refreshTokenTtlSec: 8726400 },
    tokenType: 'bearer',
    extraTokenFields: (ctx) => ({ x_refresh_token_expires_in: ctx.refreshTokenExpiresIn }),
    callbackParams: () => ({ realmId: '9130350000000000' }),
  });
  const rp2 = new RelyingParty();
  try {
    const mk = (cb: string, basic: boolean) => {
      const s = new OAuth2Strategy(
        {
          authorizationURL: qbo.baseUrl() + '/connect/oauth2',
          tokenURL: qbo.baseUrl() + '/oauth2/v1/tokens/bearer',
          clientID: 'qb-client',
          clientSecret: 'qb-secret',
          callbackURL: cb,
          pkce: true,
          state: true,
          skipUserProfile: true,
          customHeaders: basic ? { Authorization: 'Basic ' + Buffer.from('qb-client:qb-secret').toString('base64') } : undefined,
        } as any,
        ((accessToken: string, refreshToken: string, params: unknown, _profile: unknown, done: (e: null, u: unknown) => void) =>
          done(null, { accessToken, refreshToken, params })) as any,
      );
      return s;
    };
    await rp2.start((cb) => mk(cb, true));
    await fetch(qbo.baseUrl() + '/__sandbox/oauth2/clients', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'qb-client', client_secret: 'qb-secret', redirect_uris: [rp2.base + '/callback'] }),
    });
    const { result, callback } = await rp2.login();
    assert.equal(callback!.searchParams.get('realmId'), '9130350000000000');
    assert.equal(rp2.lastCallbackQuery.realmId, '9130350000000000');
    assert.equal(result.user.params.token_type, 'bearer');
    assert.equal(result.user.params.x_refresh_token_expires_in, 8726400);
    const r = await refresh(rp2.strategy, result.user.refreshToken);
    assert.equal(r.err, null);
    assert.ok(r.refreshToken && r.refreshToken !== result.user.refreshToken);
    // without the Basic header (client_secret_post only) the Basic-only server refuses
    const postOnly = mk(rp2.base + '/callback', false);
    const refused = await refresh(postOnly, r.refreshToken!);
    assert.equal(refused.err?.statusCode, 401);
    assert.equal(JSON.parse(refused.err!.data).error, 'invalid_client');
  } finally {
    await rp2.stop();
    await qbo.stop();
  }
});

test('TLS: an HTTPS client that trusts certificatePem works; one that does not is refused', async () => {
  const tlsFake = await startOAuth2Fake({ tls: true });
  try {
    assert.match(tlsFake.baseUrl(), /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(String(tlsFake.certificatePem), /BEGIN CERTIFICATE/);
    const agent = new https.Agent({ ca: tlsFake.certificatePem });
    const cb = 'http://127.0.0.1:1/callback';
    const verifier = crypto.randomBytes(32).toString('base64url');
    const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
    const authorize = `${tlsFake.baseUrl()}/oauth/authorize?response_type=code&client_id=sandbox-client&redirect_uri=${encodeURIComponent(cb)}&scope=signature&state=xyz&code_challenge=${challenge}&code_challenge_method=S256`;
    const location = await new Promise<string>((resolve, reject) => {
      https
        .get(authorize, { agent }, (res) => {
          res.resume();
          resolve(String(res.headers.location));
        })
        .on('error', reject);
    });
    const code = new URL(location).searchParams.get('code')!;
    assert.equal(new URL(location).searchParams.get('state'), 'xyz');
    const s = new OAuth2Strategy(
      {
        authorizationURL: tlsFake.baseUrl() + '/oauth/authorize',
        tokenURL: tlsFake.baseUrl() + '/oauth/token',
        clientID: 'sandbox-client',
        clientSecret: 'sandbox-secret',
        callbackURL: cb,
      },
      () => undefined,
    );
    (s as any)._oauth2.setAgent(agent);
    (s as any)._oauth2.useAuthorizationHeaderforGET(true);
    const tok = await oauthCall(s, code, { grant_type: 'authorization_code', redirect_uri: cb, code_verifier: verifier });
    assert.equal(tok.err, null);
    const info = await oauthGet(s, tlsFake.baseUrl() + '/oauth/userinfo', tok.accessToken!);
    assert.equal(JSON.parse(info.body!).sub, 'sandbox-user-1');

    const untrusting = new OAuth2Strategy(
      {
        authorizationURL: tlsFake.baseUrl() + '/oauth/authorize',
        tokenURL: tlsFake.baseUrl() + '/oauth/token',
        clientID: 'sandbox-client',
        clientSecret: 'sandbox-secret',
        callbackURL: cb,
      },
      () => undefined,
    );
    (untrusting as any)._oauth2.setAgent(new https.Agent());
    const refused = await refresh(untrusting, tok.refreshToken!);
    assert.match(String((refused.err as unknown as Error)?.message ?? refused.err), /self[- ]signed|certificate/i);
  } finally {
    await tlsFake.stop();
  }
});
