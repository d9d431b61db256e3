import type { OAuth2AuthKind } from '../../core/auth-kinds.ts';
import { calendarFor, googleAuthFor, googleRootUrl } from './client.ts';
import { googleReason, mapGoogleError } from './errors.ts';
import { googleFields } from './fields.ts';
import { DEFAULT_SCOPES, scopesForUse } from './scopes.ts';
import { googleAuthorizeUrl, googleTokenUrl } from './urls.ts';

/**
 * A Google account by OAuth 2 (authorization code + PKCE). `access_type=offline` and `prompt=consent`
 * make Google issue a refresh token even to a client that was granted before; `include_granted_scopes`
 * keeps earlier grants when more scopes are asked for later. 401 and `invalid_grant` ("Token has been
 * expired or revoked.") end in needs_reauth through the vault.
 */
export const googleOAuth: OAuth2AuthKind = {
  kind: 'oauth2',
  appFields: { clientId: 'clientId', clientSecret: 'clientSecret' },
  fields: [...googleFields],
  authorizationUrl: (settings) => googleAuthorizeUrl(settings),
  tokenUrl: (settings) => googleTokenUrl(settings),
  scopes: DEFAULT_SCOPES,
  // What the enabled flows use this connection for (config/oauth-routes.ts asks at connect time).
  scopesFor: (use) => scopesForUse(use),
  authorizationParams: { access_type: 'offline', prompt: 'consent', include_granted_scopes: 'true' },
  clientAuth: 'body',
  async test(conn) {
    // Who the account is (openid/email are always asked for), then its primary calendar when Calendar was granted.
    const auth = await googleAuthFor(conn);
    try {
      const me = await auth.request<{ email?: string; name?: string }>({ url: `${googleRootUrl(conn)}oauth2/v3/userinfo`, retry: false });
      let calendar: { id?: string | null; summary?: string | null } | null = null;
      try {
        const cal = await calendarFor(conn);
        const res = await cal.calendarList.list({ maxResults: 10 }, { retry: false });
        const primary = res.data.items?.find((c) => c.primary) ?? res.data.items?.[0];
        calendar = primary ? { id: primary.id, summary: primary.summary } : null;
      } catch (err) {
        if (googleReason(err).reason !== 'insufficientPermissions') throw err;
      }
      return { email: me.data.email ?? null, name: me.data.name ?? null, calendar };
    } catch (err) {
      throw mapGoogleError('Google test call', err);
    }
  },
};
