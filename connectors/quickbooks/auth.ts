import type { ConnectionHandle } from '../../core/connector.ts';
import type { ConnectionView, OAuth2AuthKind } from '../../core/auth-kinds.ts';
import { qboCall, unwrap } from './client.ts';
import { authorizeBase, qboFields, tokenUrl } from './fields.ts';

/** A handle with one fixed token (right after the code exchange, before the connection is saved). */
function fixedTokenHandle(view: ConnectionView, token: string): ConnectionHandle {
  const handle: ConnectionHandle = {
    id: view.id,
    connectorId: 'quickbooks',
    settings: view.settings,
    secrets: async () => view.secrets,
    accessToken: async () => token,
    tokenRejected: async () => token,
    isExpiredAnswer: () => false,
    withToken: (call) => call(token),
  };
  return handle;
}

/** Company name and home currency, kept with the connection so messages and events can name them. */
export async function companyFacts(conn: ConnectionHandle): Promise<{ companyName?: string; homeCurrency?: string; country?: string }> {
  const realm = String(conn.settings.realmId ?? '');
  const info = await qboCall<{ CompanyInfo?: { CompanyName?: string; Country?: string } }>(
    conn,
    'companyinfo',
    (qbo, cb) => qbo.getCompanyInfo(realm, cb),
    { idempotent: true },
  );
  const prefs = await qboCall<{ Preferences?: { CurrencyPrefs?: { HomeCurrency?: { value?: string } } } }>(
    conn,
    'preferences',
    (qbo, cb) => qbo.getPreferences(cb),
    { idempotent: true },
  );
  const ci = unwrap(info, 'CompanyInfo') as { CompanyName?: string; Country?: string };
  const pr = unwrap(prefs, 'Preferences') as { CurrencyPrefs?: { HomeCurrency?: { value?: string } } };
  return { companyName: ci.CompanyName, country: ci.Country, homeCurrency: pr.CurrencyPrefs?.HomeCurrency?.value };
}

/**
 * Intuit OAuth 2 through a registered Intuit app: consent at appcenter.intuit.com/connect/oauth2 (the
 * callback carries `realmId`), tokens at oauth.platform.intuit.com with HTTP Basic client auth. Access
 * tokens last an hour; refresh tokens rotate (about daily) and the vault stores the newest in the same
 * transaction as the access token, before anyone uses it. The hub's refresh job renews every access
 * token as it nears expiry, so an idle connection's refresh token is used (and kept alive) every hour,
 * far inside Intuit's 100 days.
 */
export const qboAuth: OAuth2AuthKind = {
  kind: 'oauth2',
  fields: [...qboFields],
  appFields: { clientId: 'clientId', clientSecret: 'clientSecret', webhookVerifierToken: 'webhookVerifierToken' },
  authorizationUrl: (s) => `${authorizeBase(s)}/connect/oauth2`,
  tokenUrl,
  scopes: ['com.intuit.quickbooks.accounting'],
  clientAuth: 'basic',
  callbackParams: ['realmId'],
  async afterAuthorize(token, view) {
    const facts = await companyFacts(fixedTokenHandle(view, token.accessToken));
    return Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined));
  },
  expiry: { statuses: [401] },
  async test(conn) {
    const facts = await companyFacts(conn);
    return { realmId: conn.settings.realmId, ...facts };
  },
};
