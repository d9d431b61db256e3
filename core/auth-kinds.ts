import type { ConnectionHandle } from './connector.ts';

/**
 * How a connector authenticates, declared as data: the vault, the OAuth routes, the refresh job and the
 * UI's forms act on these. Functions appear only where a provider's quirk cannot be data.
 */

/** One field of a connection's settings form. Secret fields are sealed in the vault and never shown again. */
export interface AuthField {
  key: string;
  label: string;
  secret?: boolean;
  required?: boolean;
  description?: string;
  /** Shown pre-filled; for base URLs this is the real provider's host. */
  default?: string;
}

/**
 * Which of the connector's fields a provider app fills (core/vault/apps.ts): a connection that uses an
 * app gets its client id, client secret and webhook verifier token under these keys.
 */
export interface AppFieldKeys {
  clientId?: string;
  clientSecret?: string;
  webhookVerifierToken?: string;
}

/** A connection's settings typed from its connector's declared fields (`as const`): non-secret keys, as strings. */
export type SettingsOf<F extends readonly AuthField[]> = { [K in F[number] as K extends { secret: true } ? never : K['key']]?: string };
/** Its secrets typed the same way. */
export type SecretsOf<F extends readonly AuthField[]> = { [K in F[number] as K extends { secret: true } ? K['key'] : never]?: string };

/** Reads a connection's settings as its fields declare them: a typo in a key is a compile error, a missing value undefined. */
export function typedSettings<const F extends readonly AuthField[]>(fields: F, settings: Record<string, unknown>): SettingsOf<F> {
  const out: Record<string, string> = {};
  for (const f of fields) {
    const v = settings[f.key] ?? f.default;
    if (!f.secret && v !== undefined && v !== null && v !== '') out[f.key] = String(v);
  }
  return out as SettingsOf<F>;
}

/** How the provider says "this access token is no longer good" besides HTTP 401. */
export interface ExpirySignals {
  /** HTTP statuses that mean expired (401 is always one). */
  statuses?: number[];
  /** For providers that answer 200 (or 400) with an error code in the body. */
  body?: (status: number, body: unknown) => boolean;
}

export interface TokenResponse {
  accessToken: string;
  refreshToken?: string;
  /** Seconds until the access token expires, when the provider says. */
  expiresIn?: number;
  scopes?: string[];
  /** Extra fields to keep in the connection's settings (e.g. DocuSign's account id and base URI). */
  settings?: Record<string, unknown>;
}

/** Settings and secrets of one connection, as a connector's functions see them. */
export interface ConnectionView {
  id: string;
  settings: Record<string, unknown>;
  secrets: Record<string, string>;
}

export interface OAuth2AuthKind {
  kind: 'oauth2';
  fields: AuthField[];
  appFields?: AppFieldKeys;
  /** Authorization and token endpoints: fixed, or read from the connection's settings (a base URL per region or sandbox). */
  authorizationUrl: string | ((settings: Record<string, unknown>) => string);
  tokenUrl: string | ((settings: Record<string, unknown>) => string);
  /** Default scopes; a connection's `scopes` setting (space-separated) overrides them. */
  scopes: string[];
  /**
   * The scopes to ask for at connect time from what the enabled flows use this connection for (action
   * ids of its steps, event types of its triggers); `scopes` when absent. A connection's `scopes`
   * setting still wins. With incremental authorization (Google's `include_granted_scopes`) asking
   * again later for more keeps what was granted.
   */
  scopesFor?: (use: { actions: string[]; events: string[] }, settings: Record<string, unknown>) => string[];
  scopeSeparator?: string;
  /** Extra authorization parameters, e.g. Google's `{ access_type: 'offline', prompt: 'consent' }`. */
  authorizationParams?: Record<string, string>;
  /** Client authentication at the token endpoint: HTTP Basic, or client_id/client_secret in the body (default). */
  clientAuth?: 'basic' | 'body';
  /** Query parameters of the callback to keep in settings (e.g. QuickBooks' `realmId`). */
  callbackParams?: string[];
  /** After the code exchange: look up what else the connection needs (e.g. DocuSign's userinfo). */
  afterAuthorize?: (token: TokenResponse, conn: ConnectionView) => Promise<Record<string, unknown>>;
  expiry?: ExpirySignals;
  /**
   * A grant of the connector's own for connections that do not refresh with a refresh token (e.g.
   * DocuSign's JWT grant: a new signed assertion each time). Answers undefined to use the refresh token.
   * Throw an error with `reauth: true` when only the admin can fix it; any other error is a passing failure.
   */
  grant?: (conn: ConnectionView) => Promise<TokenResponse> | undefined;
  /** A link the admin should open to fix the connection as it stands (e.g. a consent page), shown by the connections page. */
  actionLink?: (conn: ConnectionLinkView) => { label: string; url: string } | undefined;
  /** A cheap authenticated call proving the connection works (use conn.withToken); returns something to show. */
  test?: (conn: ConnectionHandle) => Promise<Record<string, unknown>>;
}

/** What `actionLink` sees: no secrets. */
export interface ConnectionLinkView {
  id: string;
  settings: Record<string, unknown>;
  status: string;
  lastError: string | null;
}

export interface AppCredentialsAuthKind {
  kind: 'app_credentials';
  fields: AuthField[];
  appFields?: AppFieldKeys;
  /** Exchanges the app's credentials for an app access token (e.g. DingTalk appKey/appSecret). */
  fetchToken: (conn: ConnectionView) => Promise<TokenResponse>;
  expiry?: ExpirySignals;
  /** A cheap authenticated call proving the connection works (use conn.withToken); returns something to show. */
  test?: (conn: ConnectionHandle) => Promise<Record<string, unknown>>;
}

export interface ApiTokenAuthKind {
  kind: 'api_token';
  fields: AuthField[];
  appFields?: AppFieldKeys;
  /** Where to send the admin to obtain a token; the provider returns it to returnUrl. */
  authorizeUrl?: (conn: ConnectionView, returnUrl: string) => string;
  test?: (conn: ConnectionHandle) => Promise<Record<string, unknown>>;
}

export interface WebhookSecretAuthKind {
  kind: 'webhook_secret';
  fields: AuthField[];
  test?: (conn: ConnectionHandle) => Promise<Record<string, unknown>>;
}

export interface NoAuthKind {
  kind: 'none';
}

export type ConnectorAuth = NoAuthKind | OAuth2AuthKind | AppCredentialsAuthKind | ApiTokenAuthKind | WebhookSecretAuthKind;
export type AuthKind = ConnectorAuth['kind'];

/** Kinds whose access token the vault keeps fresh. */
export const TOKEN_KINDS: AuthKind[] = ['oauth2', 'app_credentials'];

export const resolveUrl = (url: string | ((s: Record<string, unknown>) => string), settings: Record<string, unknown>) =>
  typeof url === 'function' ? url(settings) : url;
