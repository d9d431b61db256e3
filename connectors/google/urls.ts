/**
 * Where Google is reached. `GOOGLE_BASE_URL` serves Calendar, Drive (and uploads), Gmail and the
 * Directory in one place when set (the sandbox fake); `GOOGLE_OAUTH_BASE_URL` is the OAuth server (the
 * token endpoint at `/token`). A connection's own `baseUrl` / `oauthBaseUrl` settings win over both.
 */
export const DEFAULT_GOOGLE_BASE_URL = 'https://www.googleapis.com';
export const DEFAULT_GOOGLE_OAUTH_BASE_URL = 'https://oauth2.googleapis.com';
/** Google's consent page lives on accounts.google.com, not on the token host. */
const GOOGLE_ACCOUNTS_URL = 'https://accounts.google.com';

const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim().replace(/\/+$/, '') : undefined);

export function googleBaseUrl(settings: Record<string, unknown> = {}): string {
  return str(settings.baseUrl) ?? str(process.env.GOOGLE_BASE_URL) ?? DEFAULT_GOOGLE_BASE_URL;
}

export function googleOAuthBaseUrl(settings: Record<string, unknown> = {}): string {
  return str(settings.oauthBaseUrl) ?? str(process.env.GOOGLE_OAUTH_BASE_URL) ?? DEFAULT_GOOGLE_OAUTH_BASE_URL;
}

export const googleTokenUrl = (settings: Record<string, unknown> = {}) => `${googleOAuthBaseUrl(settings)}/token`;
export const googleRevokeUrl = (settings: Record<string, unknown> = {}) => `${googleOAuthBaseUrl(settings)}/revoke`;

/** The consent page: Google's accounts host, or the configured OAuth base when it points elsewhere (the fake serves both). */
export function googleAuthorizeUrl(settings: Record<string, unknown> = {}): string {
  const oauth = googleOAuthBaseUrl(settings);
  const origin = oauth === DEFAULT_GOOGLE_OAUTH_BASE_URL ? GOOGLE_ACCOUNTS_URL : oauth;
  return `${origin}/o/oauth2/v2/auth`;
}
