import { admin, type admin_directory_v1 } from '@googleapis/admin';
import { calendar, type calendar_v3 } from '@googleapis/calendar';
import { drive, type drive_v3 } from '@googleapis/drive';
import { gmail, type gmail_v1 } from '@googleapis/gmail';
import { OAuth2Client } from 'google-auth-library';
import type { ConnectionHandle } from '../../core/connector.ts';
import { permanent } from '../../core/errors.ts';
import { googleBaseUrl, googleOAuthBaseUrl, googleRevokeUrl, googleTokenUrl } from './urls.ts';

/**
 * The official clients (@googleapis/* on googleapis-common 8 and google-auth-library 10: the last
 * majors that run on Node 20, see sandbox/google/README.md) with the vault as the token source.
 *
 * The vault keeps the access token fresh (refreshed ahead of expiry, single-flight across
 * processes); the SDK's own refresh is replaced by `refreshHandler`, which google-auth-library calls
 * on a 401 (`forceRefreshOnFailure`): it tells the vault the token was refused and retries once with
 * the new one. The SDK never sees the refresh token.
 */
export async function googleAuthFor(conn: ConnectionHandle): Promise<OAuth2Client> {
  const oauth = googleOAuthBaseUrl(conn.settings);
  const auth = new OAuth2Client({
    forceRefreshOnFailure: true,
    endpoints: {
      oauth2TokenUrl: googleTokenUrl(conn.settings),
      oauth2RevokeUrl: googleRevokeUrl(conn.settings),
      tokenInfoUrl: `${oauth}/tokeninfo`,
    },
  });
  let current = await conn.accessToken();
  // A step lives minutes, not an hour: the vault refreshes ahead of the real expiry, so this date only
  // keeps the SDK from refreshing on its own.
  const horizon = () => Date.now() + 45 * 60_000;
  auth.setCredentials({ access_token: current, expiry_date: horizon() });
  auth.refreshHandler = async () => {
    current = await conn.tokenRejected(current);
    return { access_token: current, expiry_date: horizon() };
  };
  return auth;
}

/** `rootUrl` for the clients and for per-call options (uploads build their URL from the per-call one only). */
export const googleRootUrl = (conn: ConnectionHandle) => `${googleBaseUrl(conn.settings)}/`;

export async function calendarFor(conn: ConnectionHandle): Promise<calendar_v3.Calendar> {
  return calendar({ version: 'v3', auth: await googleAuthFor(conn), rootUrl: googleRootUrl(conn) });
}

export async function driveFor(conn: ConnectionHandle): Promise<drive_v3.Drive> {
  return drive({ version: 'v3', auth: await googleAuthFor(conn), rootUrl: googleRootUrl(conn) });
}

export async function gmailFor(conn: ConnectionHandle): Promise<gmail_v1.Gmail> {
  return gmail({ version: 'v1', auth: await googleAuthFor(conn), rootUrl: googleRootUrl(conn) });
}

export async function directoryFor(conn: ConnectionHandle): Promise<admin_directory_v1.Admin> {
  return admin({ version: 'directory_v1', auth: await googleAuthFor(conn), rootUrl: googleRootUrl(conn) });
}

/** The step's connection, or a clear error when the flow step names none. */
export function requireConnection(conn: ConnectionHandle | undefined, what: string): ConnectionHandle {
  if (!conn) throw permanent(`${what} needs a Google connection (set \`connection:\` on the step)`);
  return conn;
}
