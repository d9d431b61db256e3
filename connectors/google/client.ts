import { admin, type admin_directory_v1 } from '@googleapis/admin';
import { calendar, type calendar_v3 } from '@googleapis/calendar';
import { drive, type drive_v3 } from '@googleapis/drive';
import { gmail, type gmail_v1 } from '@googleapis/gmail';
import { Readable } from 'node:stream';
import { OAuth2Client } from 'google-auth-library';
import type { ConnectionHandle } from '../../core/connector.ts';
import { permanent } from '../../core/errors.ts';
import { serviceAccountAuth } from './service-account.ts';
import { googleBaseUrl, googleOAuthBaseUrl, googleRevokeUrl, googleTokenUrl } from './urls.ts';

/**
 * The official clients (@googleapis/* on googleapis-common 8 and google-auth-library 10: the last
 * majors that run on Node 20, see sandbox/google/README.md) with the vault as the token source.
 *
 * The vault keeps the access token fresh (refreshed ahead of expiry, single-flight across
 * processes). On a 401 the client tells the vault the token was refused and retries once with the new
 * one. google-auth-library's own retry (its `refreshHandler` with `forceRefreshOnFailure`) also fires on
 * every 403, which Google answers for rate limits and missing permissions: it would spend a refresh and
 * a second call and hide the answer, so it is replaced here. The SDK never sees the refresh token.
 */
class VaultOAuth2Client extends OAuth2Client {
  constructor(
    opts: ConstructorParameters<typeof OAuth2Client>[0],
    private readonly conn: ConnectionHandle,
    private current: string,
  ) {
    super(opts);
    this.setCredentials({ access_token: current, expiry_date: horizon() });
  }

  protected override async requestAsync<T>(opts: Parameters<OAuth2Client['request']>[0], _retried = false) {
    try {
      return await super.requestAsync<T>(opts, true);
    } catch (err) {
      const status = (err as { response?: { status?: number } }).response?.status;
      if (status !== 401 || opts.data instanceof Readable) throw err;
      this.current = await this.conn.tokenRejected(this.current);
      this.setCredentials({ access_token: this.current, expiry_date: horizon() });
      return super.requestAsync<T>(opts, true);
    }
  }
}

// A step lives minutes, not an hour: the vault refreshes ahead of the real expiry, so this date only
// keeps the SDK from refreshing on its own.
const horizon = () => Date.now() + 45 * 60_000;

export async function googleAuthFor(conn: ConnectionHandle, opts: { subject?: string } = {}): Promise<OAuth2Client> {
  // A service-account connection (connector google_sa) acts as `subject` by domain-wide delegation.
  if (conn.connectorId === 'google_sa') return serviceAccountAuth(conn, opts.subject);
  const oauth = googleOAuthBaseUrl(conn.settings);
  return new VaultOAuth2Client(
    {
      endpoints: {
        oauth2TokenUrl: googleTokenUrl(conn.settings),
        oauth2RevokeUrl: googleRevokeUrl(conn.settings),
        tokenInfoUrl: `${oauth}/tokeninfo`,
      },
    },
    conn,
    await conn.accessToken(),
  );
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
