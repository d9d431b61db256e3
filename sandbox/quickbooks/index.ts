import crypto from 'node:crypto';
import { startFake, type FakeDefinition, type RunningFake, type RunningFakeInternals } from '../framework/index.ts';
import { createOAuth2Fake, type OAuth2State } from '../oauth2/index.ts';
import {
  type QboState,
  type QboSettings,
  type QboApp,
  type Environment,
  initialQboState,
  clockNow,
  appForClient,
  connectedApps,
  DEFAULT_APP,
  DEFAULT_SANDBOX_REALM,
  DEFAULT_PRODUCTION_REALM,
} from './state.ts';
import type { OnChange } from './entities.ts';
import { faultBody } from './faults.ts';
import { setupApi } from './api.ts';
import { setupControl, addApp, P } from './control.ts';
import { enqueue, flushAll } from './webhooks.ts';

export { intuitSignature, payloads } from './webhooks.ts';
export { parseQuery, runQuery } from './query.ts';
export { DEFAULT_APP, DEFAULT_SANDBOX_REALM, DEFAULT_PRODUCTION_REALM, DEFAULT_SETTINGS } from './state.ts';
export type { QboState, QboSettings, QboApp, Company, Delivery, Environment } from './state.ts';

/** Intuit's OAuth 2 paths (appcenter.intuit.com, oauth.platform.intuit.com, developer.api.intuit.com, accounts.platform.intuit.com). */
export const QBO_OAUTH_PATHS = {
  authorize: '/connect/oauth2',
  token: '/oauth2/v1/tokens/bearer',
  revoke: '/v2/oauth2/tokens/revoke',
  userinfo: '/v1/openid_connect/userinfo',
  ping: `${P}/oauth/ping`,
};

export interface QuickBooksFakeOptions {
  settings?: Partial<QboSettings>;
  /** Seed the default app (DEFAULT_APP) with this webhook URL and format. */
  webhookUrl?: string | null;
  webhookFormat?: 'legacy' | 'cloudevents';
  batchIntervalMs?: number;
}

type Fake = RunningFakeInternals<QboState>;

function realmFor(st: QboState, clientId: string): string {
  const env: Environment = appForClient(st, clientId)?.environment ?? 'sandbox';
  const chosen = st.authorizeRealm[env];
  if (chosen && st.companies.get(chosen)?.environment === env) return chosen;
  return [...st.companies.values()].find((c) => c.environment === env)?.realmId ?? 'none';
}

export function createQuickBooksFake(opts: QuickBooksFakeOptions = {}): FakeDefinition<QboState> {
  let current: Fake | undefined;
  const st = () => current!.state;
  const connKey = (clientId: string, realmId: string) => `${clientId}:${realmId}`;

  const oauth = createOAuth2Fake({
    name: 'quickbooks',
    paths: QBO_OAUTH_PATHS,
    controlPrefix: `${P}/oauth`,
    clientAuthMethods: ['client_secret_basic'],
    defaultClient: null,
    defaultUser: { sub: DEFAULT_SANDBOX_REALM, name: 'Demo Accountant', email: 'accountant@example.com' },
    tokenType: 'bearer',
    accessTokenPrefix: 'eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..',
    refreshTokenPrefix: 'AB11',
    settings: { accessTokenTtlSec: 3600, refreshResponseIncludesRefreshToken: 'always' },
    now: () => clockNow(st()),
    // The realm is the token's subject: the company the user picked on the consent page.
    subjectFor: ({ client }) => realmFor(st(), client.clientId),
    callbackParams: ({ client }) => ({ realmId: realmFor(st(), client.clientId) }),
    rotateRefreshToken: ({ record, now }) => {
      const s = st().settings;
      const hardEnd = (st().connectionStart.get(connKey(record.clientId, record.sub)) ?? record.issuedAt) + s.hardExpirySec * 1000;
      if (now - record.issuedAt >= s.rotateAfterSec * 1000) return true;
      // Not rotated: the same refresh token lives on, 100 days from this use (capped by the hard expiry).
      record.expiresAt = Math.min(now + s.refreshTokenTtlSec * 1000, hardEnd);
      return false;
    },
    extraTokenFields: (ctx) => {
      const s = st();
      const key = connKey(ctx.client.clientId, ctx.user.sub);
      if (ctx.grantType === 'authorization_code' || !s.connectionStart.has(key)) s.connectionStart.set(key, clockNow(s));
      const out: Record<string, unknown> = {};
      if (ctx.refreshTokenExpiresIn !== null) out.x_refresh_token_expires_in = ctx.refreshTokenExpiresIn;
      if (String(ctx.req?.headers['x-include-refresh-token-hard-expires-in'] ?? '').toLowerCase() === 'true') {
        out.x_refresh_token_hard_expires_in = Math.max(
          0,
          Math.round((s.connectionStart.get(key)! + s.settings.hardExpirySec * 1000 - clockNow(s)) / 1000),
        );
      }
      return out;
    },
    errorBody: (error, description) => ({ error, error_description: description }),
  });

  const onChange: OnChange = (c, type, id, operation) => {
    const s = st();
    const at = clockNow(s);
    c.changes.push({ seq: c.changes.length + 1, type, id, operation, at });
    enqueue(s, connectedApps(s, c.realmId), { realmId: c.realmId, type, id, operation, at });
  };

  const connect = (app: QboApp, realmId: string) => {
    const s = st();
    const env = s.companies.get(realmId)!.environment;
    const client = app.keys[env];
    const t = clockNow(s);
    const rt = 'AB11' + crypto.randomBytes(24).toString('base64url');
    const at = 'eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..' + crypto.randomBytes(32).toString('base64url');
    const scope = 'com.intuit.quickbooks.accounting';
    s.oauth.refreshTokens.set(rt, {
      token: rt,
      clientId: client.clientId,
      sub: realmId,
      scope,
      issuedAt: t,
      expiresAt: t + s.settings.refreshTokenTtlSec * 1000,
      revoked: false,
    });
    s.oauth.accessTokens.set(at, {
      token: at,
      clientId: client.clientId,
      sub: realmId,
      scope,
      grantType: 'authorization_code',
      issuedAt: t,
      expiresAt: t + 3600_000,
      revoked: false,
      refreshToken: rt,
    });
    s.connectionStart.set(connKey(client.clientId, realmId), t);
    return {
      realmId,
      environment: env,
      client_id: client.clientId,
      access_token: at,
      refresh_token: rt,
      token_type: 'bearer',
      expires_in: 3600,
      x_refresh_token_expires_in: s.settings.refreshTokenTtlSec,
    };
  };

  return {
    name: 'quickbooks',
    initialState: () => {
      const oauthState = oauth.initialState() as OAuth2State;
      const s = initialQboState(oauthState, opts.settings);
      oauthState.settings.refreshTokenTtlSec = s.settings.refreshTokenTtlSec;
      addApp(s, {
        id: DEFAULT_APP.id,
        name: 'dingbridge',
        sandbox: DEFAULT_APP.sandbox,
        production: DEFAULT_APP.production,
        verifierToken: DEFAULT_APP.verifierToken,
        webhookUrl: opts.webhookUrl ?? null,
        webhookFormat: opts.webhookFormat ?? 'cloudevents',
        batchIntervalMs: opts.batchIntervalMs,
      });
      return s;
    },
    faultBody: (status) =>
      faultBody(
        status === 429
          ? {
              type: 'SERVICE',
              code: '3001',
              message: 'message=ThrottleExceeded; errorCode=003001; statusCode=429',
              detail: 'The request limit was reached.  Try again later',
            }
          : status === 401
            ? { type: 'AuthenticationFault', code: '3200', message: 'message=AuthenticationFailed; errorCode=003200; statusCode=401' }
            : status >= 500
              ? {
                  type: 'SystemFault',
                  code: '10000',
                  message: 'An application error has occurred while processing your request',
                  detail: `System Failure Error: injected ${status}`,
                }
              : {
                  type: 'ValidationFault',
                  code: '6000',
                  message: 'A business validation error has occurred while processing your request',
                  detail: `Business Validation Error: injected ${status}`,
                },
        new Date().toISOString(),
      ),
    setup(app, fake) {
      current = fake;
      // The OAuth 2 fake runs on the same server against the oauth part of the state.
      const oauthView = Object.create(fake, { state: { get: () => fake.state.oauth } }) as RunningFakeInternals<OAuth2State>;
      oauth.setup(app, oauthView);
      setupApi(app, fake, onChange);
      setupControl(app, fake, onChange, connect);
    },
    teardown(fake) {
      fake.state.stopped = true;
      for (const t of fake.state.timers.values()) clearTimeout(t);
    },
  };
}

export async function startQuickBooksFake(
  opts: QuickBooksFakeOptions & { port?: number; host?: string } = {},
): Promise<RunningFake<QboState>> {
  const { port, host, ...rest } = opts;
  const fake = await startFake(createQuickBooksFake(rest), { port, host });
  const reset = fake.reset.bind(fake);
  // A reset drops the old state: stop its pending batches and retries first.
  fake.reset = () => {
    fake.state.stopped = true;
    for (const t of fake.state.timers.values()) clearTimeout(t);
    reset();
  };
  return fake;
}

/** Sends every pending webhook batch now (tests). */
export function flushWebhooks(fake: RunningFake<QboState>): void {
  flushAll(fake.state);
}
