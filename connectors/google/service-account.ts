import { admin, type admin_directory_v1 } from '@googleapis/admin';
import { calendar, type calendar_v3 } from '@googleapis/calendar';
import { JWT } from 'google-auth-library';
import type { ApiTokenAuthKind, AuthField } from '../../core/auth-kinds.ts';
import type { ConnectionHandle } from '../../core/connector.ts';
import { permanent } from '../../core/errors.ts';
import { mapGoogleError } from './errors.ts';
import { googleBaseUrl, googleTokenUrl } from './urls.ts';

/**
 * Google by a service account with domain-wide delegation: the key file (JSON, as the Cloud console
 * gives it) is a secret of the connection, sealed by the vault; the hub acts as each person of the
 * domain (`subject`) — what the calendar sync and the Directory sync need. The Admin console must
 * delegate the scopes to the key's client id.
 *
 * google-auth-library's JWT client posts the assertion to gtoken's constant
 * `https://oauth2.googleapis.com/token`; a request interceptor on its transporter sends it to the
 * configured OAuth base (GOOGLE_OAUTH_BASE_URL / the connection's `oauthBaseUrl`) instead. Each
 * subject's access token is sealed in the vault with its expiry (`conn.delegatedTokens`, shared by
 * every process and kept across restarts) and held by its JWT client; a refused token (401) is fetched
 * again once.
 */
export const serviceAccountFields = [
  {
    key: 'serviceAccountKey',
    label: 'Service account key (JSON file from the Cloud console)',
    secret: true,
    description: 'Needed before anything runs; checked when the connection is used (an empty key is reported there).',
  },
  {
    key: 'adminEmail',
    label: 'A Workspace admin to act as for the Directory',
    description: 'Needed for the Directory sync (users.list).',
  },
  { key: 'scopes', label: 'Delegated scopes (space-separated)', description: 'Default: calendar and admin.directory.user.readonly.' },
  { key: 'baseUrl', label: 'API base URL', description: 'Default GOOGLE_BASE_URL (https://www.googleapis.com).' },
  { key: 'oauthBaseUrl', label: 'OAuth base URL', description: 'Default GOOGLE_OAUTH_BASE_URL (https://oauth2.googleapis.com).' },
] as const satisfies readonly AuthField[];

export const DEFAULT_SA_SCOPES = [
  'https://www.googleapis.com/auth/calendar',
  'https://www.googleapis.com/auth/admin.directory.user.readonly',
];
const GTOKEN_ORIGIN = 'https://oauth2.googleapis.com';

interface KeyFile {
  type?: string;
  client_email: string;
  private_key: string;
  private_key_id?: string;
}

export async function serviceAccountKey(conn: ConnectionHandle): Promise<KeyFile> {
  const raw = (await conn.secrets()).serviceAccountKey;
  if (!raw) throw permanent('the Google service-account connection has no key file');
  let key: KeyFile;
  try {
    key = JSON.parse(raw) as KeyFile;
  } catch {
    throw permanent('the service-account key is not JSON (paste the whole key file)');
  }
  if (!key.client_email || !key.private_key) throw permanent('the service-account key has no client_email / private_key');
  return key;
}

const scopesOf = (conn: ConnectionHandle) => {
  const s = typeof conn.settings.scopes === 'string' ? conn.settings.scopes.trim() : '';
  return s ? s.split(/\s+/) : DEFAULT_SA_SCOPES;
};

const jwtClients = new Map<string, JWT>();

/** A JWT client acting as `subject` (or as the service account itself without one), its token cached. */
export async function serviceAccountAuth(conn: ConnectionHandle, subject?: string): Promise<JWT> {
  const key = await serviceAccountKey(conn);
  const tokenUrl = googleTokenUrl(conn.settings);
  const cacheKey = `${conn.id}|${key.private_key_id ?? key.client_email}|${subject ?? ''}|${tokenUrl}`;
  let jwt = jwtClients.get(cacheKey);
  if (!jwt) {
    jwt = new JWT({ email: key.client_email, key: key.private_key, scopes: scopesOf(conn), subject, forceRefreshOnFailure: true });
    const target = new URL(tokenUrl);
    jwt.transporter.interceptors.request.add({
      resolved: async (cfg) => {
        const url = String(cfg.url);
        if (url.startsWith(`${GTOKEN_ORIGIN}/token`))
          cfg.url = new URL(`${target.origin}${target.pathname}${url.slice(`${GTOKEN_ORIGIN}/token`.length)}`);
        return cfg;
      },
    });
    // The vault keeps each subject's token (sealed, with its expiry) for every process and restart.
    const subjectKey = `${subject ?? ''}|${scopesOf(conn).join(' ')}`;
    const cached = await conn.delegatedTokens?.get(subjectKey).catch(() => undefined);
    if (cached && cached.expiresAt > Date.now() + 5 * 60_000)
      jwt.setCredentials({ access_token: cached.token, expiry_date: cached.expiresAt, token_type: 'Bearer' });
    jwt.on('tokens', (t) => {
      if (t.access_token && t.expiry_date) void conn.delegatedTokens?.put(subjectKey, t.access_token, t.expiry_date).catch(() => {});
    });
    jwtClients.set(cacheKey, jwt);
  }
  return jwt;
}

export async function calendarAs(conn: ConnectionHandle, subject: string): Promise<calendar_v3.Calendar> {
  return calendar({ version: 'v3', auth: await serviceAccountAuth(conn, subject), rootUrl: `${googleBaseUrl(conn.settings)}/` });
}

export async function directoryAs(conn: ConnectionHandle, subject?: string): Promise<admin_directory_v1.Admin> {
  const as = subject ?? (typeof conn.settings.adminEmail === 'string' ? conn.settings.adminEmail : undefined);
  if (!as) throw permanent('the Directory needs `adminEmail` on the service-account connection (an admin to act as)');
  return admin({ version: 'directory_v1', auth: await serviceAccountAuth(conn, as), rootUrl: `${googleBaseUrl(conn.settings)}/` });
}

export const googleServiceAccountAuth: ApiTokenAuthKind = {
  kind: 'api_token',
  fields: [...serviceAccountFields],
  async test(conn) {
    const key = await serviceAccountKey(conn);
    try {
      const jwt = await serviceAccountAuth(conn, typeof conn.settings.adminEmail === 'string' ? conn.settings.adminEmail : undefined);
      await jwt.authorize();
      return { serviceAccount: key.client_email };
    } catch (err) {
      throw mapGoogleError('Google service-account token (JWT bearer grant)', err);
    }
  },
};
