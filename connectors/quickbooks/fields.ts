import type { AuthField } from '../../core/auth-kinds.ts';

/** Intuit's hosts; QBO_BASE_URL / QBO_OAUTH_BASE_URL (or a connection's settings) point the hub elsewhere, e.g. at the sandbox fake. */
export const QBO_API_HOSTS = {
  production: 'https://quickbooks.api.intuit.com',
  sandbox: 'https://sandbox-quickbooks.api.intuit.com',
} as const;
export const INTUIT_OAUTH_BASE = 'https://oauth.platform.intuit.com';
export const INTUIT_AUTHORIZE_BASE = 'https://appcenter.intuit.com';
/** Every call names it: Intuit retired the minor versions below 75 (2025-08-01). */
export const MINOR_VERSION = '75';

/** The connection's fields (`as const`: settings are typed from them). An Intuit app fills clientId, clientSecret and webhookVerifierToken. */
export const qboFields = [
  { key: 'clientId', label: 'Client ID (Intuit app, Keys & credentials)', required: true },
  { key: 'clientSecret', label: 'Client secret', secret: true, required: true },
  { key: 'webhookVerifierToken', label: 'Webhook verifier token (Intuit app, Webhooks)', secret: true },
  { key: 'environment', label: 'Environment: sandbox or production (the keys must match)', default: 'production' },
  {
    key: 'realmId',
    label: 'Company id (realmId)',
    description: 'filled in when you connect; or typed for an account declared without the UI',
  },
  { key: 'companyName', label: 'Company name', description: 'read from CompanyInfo when you connect' },
  { key: 'homeCurrency', label: 'Home currency', description: 'read from Preferences (HKD for most companies here)' },
  { key: 'baseUrl', label: 'Accounting API base URL', description: 'default by environment (QBO_BASE_URL)' },
  {
    key: 'oauthBaseUrl',
    label: 'OAuth base URL (token endpoint /oauth2/v1/tokens/bearer)',
    description: 'default QBO_OAUTH_BASE_URL or Intuit',
  },
  {
    key: 'authorizeBaseUrl',
    label: 'Consent page base URL (/connect/oauth2)',
    description: 'default QBO_OAUTH_BASE_URL or appcenter.intuit.com',
  },
  {
    key: 'refreshToken',
    label: 'Refresh token',
    secret: true,
    description: 'filled in when you connect; or pasted for an account declared without the UI (the hub keeps the newest)',
  },
  { key: 'requestsPerMinute', label: 'Requests a minute for this company (Intuit: 500)', default: '500' },
  { key: 'maxConcurrent', label: 'Requests at once for this company (Intuit: 10)', default: '10' },
] as const satisfies readonly AuthField[];

const env = () => process.env;
const trimSlash = (u: string) => u.replace(/\/+$/, '');

export function environmentOf(settings: Record<string, unknown>): 'sandbox' | 'production' {
  return String(settings.environment ?? '').toLowerCase() === 'sandbox' ? 'sandbox' : 'production';
}
export function apiBase(settings: Record<string, unknown>): string {
  const given = String(settings.baseUrl ?? '') || env().QBO_BASE_URL || '';
  return trimSlash(given || QBO_API_HOSTS[environmentOf(settings)]);
}
export function oauthBase(settings: Record<string, unknown>): string {
  return trimSlash(String(settings.oauthBaseUrl ?? '') || env().QBO_OAUTH_BASE_URL || INTUIT_OAUTH_BASE);
}
export function authorizeBase(settings: Record<string, unknown>): string {
  return trimSlash(String(settings.authorizeBaseUrl ?? '') || env().QBO_OAUTH_BASE_URL || INTUIT_AUTHORIZE_BASE);
}
export const tokenUrl = (settings: Record<string, unknown>) => `${oauthBase(settings)}/oauth2/v1/tokens/bearer`;

/** The company's page in QuickBooks Online, for links in messages. */
export function appLink(settings: Record<string, unknown>, entity: string, id: string): string {
  const host = environmentOf(settings) === 'sandbox' ? 'https://app.sandbox.qbo.intuit.com' : 'https://app.qbo.intuit.com';
  const page: Record<string, string> = {
    purchase: 'expense',
    bill: 'bill',
    invoice: 'invoice',
    payment: 'recvpayment',
    vendor: 'vendordetail',
  };
  const p = page[entity.toLowerCase()] ?? entity.toLowerCase();
  return `${host}/app/${p}?txnId=${encodeURIComponent(id)}`;
}
