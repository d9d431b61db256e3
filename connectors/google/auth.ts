import type { OAuth2AuthKind } from '../../core/auth-kinds.ts';
import { calendarFor } from './client.ts';
import { mapGoogleError } from './errors.ts';
import { googleFields } from './fields.ts';
import { DEFAULT_SCOPES } from './scopes.ts';
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
  authorizationParams: { access_type: 'offline', prompt: 'consent', include_granted_scopes: 'true' },
  clientAuth: 'body',
  async test(conn) {
    try {
      const cal = await calendarFor(conn);
      const res = await cal.calendarList.list({ maxResults: 1 }, { retry: false });
      const primary = res.data.items?.find((c) => c.primary) ?? res.data.items?.[0];
      return { calendar: primary ? { id: primary.id, summary: primary.summary } : null };
    } catch (err) {
      throw mapGoogleError('Google test call (calendarList.list)', err);
    }
  },
};
