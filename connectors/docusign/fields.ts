import type { AuthField } from '../../core/auth-kinds.ts';

/** DocuSign's demo account server unless DOCUSIGN_OAUTH_BASE_URL says otherwise (production: https://account.docusign.com). */
export const DEFAULT_OAUTH_BASE = process.env.DOCUSIGN_OAUTH_BASE_URL || 'https://account-d.docusign.com';

/** The name of the envelope custom field that holds a step's idempotency key. */
export const IDEMPOTENCY_FIELD = 'dingbridgeKey';

/**
 * A connection is either an authorization code grant (integration key + secret key, the refresh token
 * from "Connect account" or pasted) or a JWT service integration (integration key + the user to
 * impersonate + the RSA private key, sealed in the vault).
 */
export const docusignFields = [
  { key: 'clientId', label: 'Integration key', required: true },
  { key: 'clientSecret', label: 'Secret key (authorization code grant)', secret: true },
  { key: 'refreshToken', label: 'Refresh token (code grant; filled by "Connect account", or pasted)', secret: true },
  { key: 'userId', label: 'User id (GUID) to act as (JWT grant)' },
  { key: 'privateKey', label: 'RSA private key, PEM (JWT grant)', secret: true },
  {
    key: 'privateKeyFile',
    label: 'Or a file holding the RSA private key (JWT grant, config file deployments)',
    description: 'read at each JWT grant; the key itself stays in the file',
  },
  { key: 'accountId', label: "Account id (default: the user's default account)" },
  { key: 'hmacKeys', label: 'Connect HMAC keys (comma-separated while rotating)', secret: true },
  { key: 'oauthBaseUrl', label: 'Account server', default: DEFAULT_OAUTH_BASE },
  {
    key: 'baseUrl',
    label: "REST base URI (default: the account's base_uri from userinfo)",
    ...(process.env.DOCUSIGN_BASE_URL ? { default: process.env.DOCUSIGN_BASE_URL } : {}),
  },
  { key: 'connectUrl', label: "URL for each envelope's own Connect notification (e.g. https://hub.example.com/webhooks/docusign)" },
  { key: 'consentRedirectUri', label: 'Where DocuSign returns after the JWT consent (a redirect URI of the integration key)' },
] as const satisfies readonly AuthField[];

/** The connection uses the JWT grant (service integration) rather than the authorization code grant. */
export const isJwt = (settings: Record<string, unknown>, secrets?: Record<string, string>) =>
  Boolean(settings.userId) && (secrets ? Boolean(secrets.privateKey || settings.privateKeyFile) : true);
