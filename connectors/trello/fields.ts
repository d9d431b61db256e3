import type { AuthField } from '../../core/auth-kinds.ts';

export const DEFAULT_TRELLO_BASE_URL = process.env.TRELLO_BASE_URL || 'https://api.trello.com';
export const DEFAULT_AUTHORIZE_BASE =
  process.env.TRELLO_AUTHORIZE_BASE_URL || (process.env.TRELLO_BASE_URL ? `${process.env.TRELLO_BASE_URL}` : 'https://trello.com');

/** Trello's connection fields (`as const`: settings are typed from them, see trelloFor). */
export const trelloFields = [
  { key: 'apiKey', label: 'API key (from trello.com/power-ups/admin)', required: true },
  { key: 'token', label: 'User token', secret: true, description: 'obtained with "Connect account", or pasted' },
  { key: 'appSecret', label: 'App secret (verifies webhooks)', secret: true },
  { key: 'baseUrl', label: 'API base URL', default: DEFAULT_TRELLO_BASE_URL },
  { key: 'authorizeBaseUrl', label: 'Authorize page base URL', default: DEFAULT_AUTHORIZE_BASE },
] as const satisfies readonly AuthField[];
