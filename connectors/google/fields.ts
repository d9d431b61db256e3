import type { AuthField } from '../../core/auth-kinds.ts';

/** A Google account connection's fields (`as const`: settings are typed from them). */
export const googleFields = [
  { key: 'clientId', label: 'OAuth client ID (Google Cloud console → APIs & Services → Credentials)', required: true },
  { key: 'clientSecret', label: 'OAuth client secret', secret: true, required: true },
  {
    key: 'scopes',
    label: 'Scopes (space-separated)',
    description: 'Leave empty to ask for what the enabled triggers and actions need.',
  },
  { key: 'baseUrl', label: 'API base URL', description: 'Default GOOGLE_BASE_URL (https://www.googleapis.com).' },
  { key: 'oauthBaseUrl', label: 'OAuth base URL', description: 'Default GOOGLE_OAUTH_BASE_URL (https://oauth2.googleapis.com).' },
] as const satisfies readonly AuthField[];
