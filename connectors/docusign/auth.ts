import fs from 'node:fs';
import type { ConnectionView, OAuth2AuthKind, TokenResponse } from '../../core/auth-kinds.ts';
import { accountOf, apiClient, docusign, esign, invoke, pickAccount, userInfo } from './client.ts';
import { DEFAULT_OAUTH_BASE, docusignFields, isJwt } from './fields.ts';

const oauthBase = (s: Record<string, unknown>) => String(s.oauthBaseUrl || DEFAULT_OAUTH_BASE).replace(/\/+$/, '');
const JWT_SCOPES = ['signature', 'impersonation'];

/** The page where the impersonated user grants the integration `signature impersonation` once. */
export function consentUrl(settings: Record<string, unknown>): string {
  const redirect = String(
    settings.consentRedirectUri ||
      (process.env.PUBLIC_URL ? `${process.env.PUBLIC_URL.replace(/\/+$/, '')}/ui/` : 'https://www.docusign.com'),
  );
  const u = new URL(`${oauthBase(settings)}/oauth/auth`);
  u.search = new URLSearchParams({
    response_type: 'code',
    scope: JWT_SCOPES.join(' '),
    client_id: String(settings.clientId ?? ''),
    redirect_uri: redirect,
  }).toString();
  return u.toString();
}

/** The JWT grant: an RS256 assertion signed with the sealed private key, for a 1 h token (no refresh token). */
async function jwtGrant(conn: ConnectionView): Promise<TokenResponse> {
  const s = conn.settings;
  let key = conn.secrets.privateKey;
  if (!key && s.privateKeyFile) {
    try {
      key = fs.readFileSync(String(s.privateKeyFile), 'utf8');
    } catch (err) {
      throw Object.assign(new Error('cannot read the private key file'), {
        reauth: true,
        description: `cannot read the private key file ${String(s.privateKeyFile)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      });
    }
  }
  const res = await invoke((cb) =>
    apiClient(s, undefined).requestJWTUserToken(String(s.clientId), String(s.userId), JWT_SCOPES, Buffer.from(key ?? ''), 3600, cb),
  );
  if (res.status !== 200) {
    const body = (res.body ?? {}) as { error?: string; error_description?: string };
    if (body.error === 'consent_required')
      // Not a re-authorisation: once the user consents, the next try works (the connections page shows the link).
      throw Object.assign(new Error('consent_required'), {
        error: 'consent_required',
        description: `consent_required: user ${s.userId} has not granted this integration key "signature impersonation" yet; open the consent link`,
      });
    const fatal = body.error === 'invalid_grant' || body.error === 'invalid_client' || body.error === 'invalid_scope';
    throw Object.assign(new Error(`JWT grant answered ${res.status}`), {
      status: res.status,
      error: body.error,
      description: `${body.error ?? res.status}${body.error_description ? `: ${body.error_description}` : ''}`,
      reauth: fatal,
    });
  }
  const token = (res.body as { body?: Record<string, unknown> }).body ?? (res.body as Record<string, unknown>);
  const accessToken = String(token.access_token ?? token.accessToken ?? '');
  const expiresIn = Number(token.expires_in ?? token.expiresIn ?? 3600);
  // The account and its base URI: looked up once with the first token, then kept in the settings.
  let settings: Record<string, unknown> | undefined;
  if (!s.baseUri || !s.accountId) {
    const info = await userInfo(s, accessToken);
    const acc = pickAccount(info.accounts ?? [], typeof s.accountId === 'string' && s.accountId ? s.accountId : undefined);
    settings = { accountId: acc.accountId, baseUri: acc.baseUri, accountName: acc.accountName };
  }
  return { accessToken, expiresIn, ...(settings ? { settings } : {}) };
}

export const docusignAuth: OAuth2AuthKind = {
  kind: 'oauth2',
  fields: [...docusignFields],
  appFields: { clientId: 'clientId', clientSecret: 'clientSecret' },
  authorizationUrl: (s) => `${oauthBase(s)}/oauth/auth`,
  tokenUrl: (s) => `${oauthBase(s)}/oauth/token`,
  scopes: ['signature'],
  clientAuth: 'basic',
  // Code grant: the account from userinfo (the default one unless the admin named one), its base URI cached.
  async afterAuthorize(token, conn) {
    const info = await userInfo(conn.settings, token.accessToken);
    const acc = pickAccount(
      info.accounts ?? [],
      typeof conn.settings.accountId === 'string' && conn.settings.accountId ? conn.settings.accountId : undefined,
    );
    return { accountId: acc.accountId, baseUri: acc.baseUri, accountName: acc.accountName };
  },
  grant: (conn) => (isJwt(conn.settings, conn.secrets) ? jwtGrant(conn) : undefined),
  actionLink: (conn) =>
    isJwt(conn.settings) && conn.lastError?.includes('consent_required')
      ? { label: 'Grant consent in DocuSign (signature impersonation)', url: consentUrl(conn.settings) }
      : undefined,
  expiry: { statuses: [401] },
  async test(conn) {
    const account = await accountOf(conn, 15_000);
    const { data } = await esign<{ envelopeTemplates?: unknown[] }>(conn, 15_000, 'list templates', (c, accountId, cb) =>
      new (docusign().TemplatesApi)(c).listTemplates(accountId, {}, cb),
    );
    return { accountId: account.accountId, baseUri: account.baseUri, templates: (data.envelopeTemplates ?? []).length };
  },
};
