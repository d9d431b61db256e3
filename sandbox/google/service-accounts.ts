import crypto from 'node:crypto';
import type { Express, Request, Response, NextFunction } from 'express';
import type { Fake } from './runtime.ts';
import { CONTROL } from './control.ts';

/**
 * Service accounts and the JWT bearer grant (RFC 7523) at the token endpoint, with domain-wide delegation:
 * an assertion with `sub` acts as that Workspace user when the account is delegated the requested scopes.
 */

export interface ServiceAccount {
  clientEmail: string;
  clientId: string;
  keyId: string;
  publicKey: crypto.KeyObject;
  delegatedScopes: string[] | null;
}

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const AUDIENCES = [
  'https://oauth2.googleapis.com/token',
  'https://www.googleapis.com/oauth2/v4/token',
  'https://accounts.google.com/o/oauth2/token',
];

const accounts = new WeakMap<object, Map<string, ServiceAccount>>();
/** Service accounts live with the fake's state (a reset forgets them). */
export function serviceAccounts(fake: Fake): Map<string, ServiceAccount> {
  let m = accounts.get(fake.state.google);
  if (!m) {
    m = new Map();
    accounts.set(fake.state.google, m);
  }
  return m;
}

class GrantError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description);
  }
}

export function setupServiceAccounts(app: Express, fake: Fake): void {
  // A key file as the Cloud console hands it out, with token_uri pointing at this fake.
  app.post(`${CONTROL}/service-accounts`, (req: Request, res: Response) => {
    const p = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
    const name =
      typeof p.name === 'string' && /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(p.name)
        ? p.name
        : `dingbridge-${crypto.randomBytes(3).toString('hex')}`;
    const clientEmail = `${name}@sandbox-project.iam.gserviceaccount.com`;
    const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const sa: ServiceAccount = {
      clientEmail,
      clientId: String(100000000000000000000n + BigInt(crypto.randomInt(1, 2 ** 40))),
      keyId: crypto.randomBytes(20).toString('hex'),
      publicKey,
      delegatedScopes: Array.isArray(p.delegatedScopes) ? p.delegatedScopes.map(String) : null,
    };
    serviceAccounts(fake).set(clientEmail, sa);
    res.status(201).json({
      type: 'service_account',
      project_id: 'sandbox-project',
      private_key_id: sa.keyId,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      client_email: clientEmail,
      client_id: sa.clientId,
      auth_uri: `${fake.baseUrl()}/o/oauth2/auth`,
      token_uri: `${fake.baseUrl()}/token`,
      auth_provider_x509_cert_url: `${fake.baseUrl()}/oauth2/v1/certs`,
      universe_domain: 'googleapis.com',
    });
  });
  // Domain-wide delegation as an admin grants it in the Admin console: client id + scopes.
  app.put(`${CONTROL}/service-accounts/:email/delegation`, (req: Request, res: Response) => {
    const sa = serviceAccounts(fake).get(String(req.params.email));
    if (!sa) return res.status(404).json({ error: { code: 'not_found', message: 'no such service account' } });
    const scopes = (req.body as Record<string, unknown> | undefined)?.scopes;
    sa.delegatedScopes = Array.isArray(scopes) ? scopes.map(String) : null;
    res.json({ clientId: sa.clientId, delegatedScopes: sa.delegatedScopes });
  });

  app.post('/token', (req: Request, res: Response, next: NextFunction) => {
    const p = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, string>;
    if (p.grant_type !== JWT_BEARER) return next();
    const s = fake.state;
    s.counters.tokenRequests[JWT_BEARER] = (s.counters.tokenRequests[JWT_BEARER] ?? 0) + 1;
    try {
      const out = jwtGrant(fake, p.assertion);
      s.counters.tokensIssued[JWT_BEARER] = (s.counters.tokensIssued[JWT_BEARER] ?? 0) + 1;
      res.setHeader('Cache-Control', 'no-store');
      res.json(out);
    } catch (err) {
      if (!(err instanceof GrantError)) throw err;
      s.counters.tokenErrors[JWT_BEARER] = (s.counters.tokenErrors[JWT_BEARER] ?? 0) + 1;
      res.status(err.status).json({ error: err.error, error_description: err.description });
    }
  });
}

function jwtGrant(fake: Fake, assertion: string | undefined): Record<string, unknown> {
  const s = fake.state;
  const parts = (assertion ?? '').split('.');
  if (parts.length !== 3) throw new GrantError('invalid_request', 'Invalid JWT: the assertion must be a JWS in compact form.');
  let header: Record<string, unknown>, claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString());
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString());
  } catch {
    throw new GrantError('invalid_grant', 'Invalid JWT: the assertion is not valid JSON.');
  }
  if (header.alg !== 'RS256') throw new GrantError('invalid_grant', 'Invalid JWT Signature.');
  const sa = serviceAccounts(fake).get(String(claims.iss));
  if (!sa) throw new GrantError('invalid_grant', 'Invalid grant: account not found');
  const ok = crypto.verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), sa.publicKey, Buffer.from(parts[2]!, 'base64url'));
  if (!ok) throw new GrantError('invalid_grant', 'Invalid JWT Signature.');
  if (![...AUDIENCES, `${fake.baseUrl()}/token`].includes(String(claims.aud)))
    throw new GrantError('invalid_grant', 'Invalid JWT: Failed audience check. The expected audience is the token endpoint.');
  const t = Math.floor((Date.now() + s.google.clockOffsetMs) / 1000);
  const iat = Number(claims.iat),
    exp = Number(claims.exp);
  if (!Number.isFinite(iat) || !Number.isFinite(exp) || exp - iat > 3600 || exp <= t || iat > t + 300) {
    throw new GrantError(
      'invalid_grant',
      'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
    );
  }
  const scope = typeof claims.scope === 'string' ? claims.scope : '';
  const scopes = scope.split(/\s+/).filter(Boolean);
  if (!scopes.length) throw new GrantError('invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
  let sub = sa.clientEmail;
  if (typeof claims.sub === 'string' && claims.sub !== sa.clientEmail) {
    if (!sa.delegatedScopes || !scopes.every((x) => sa.delegatedScopes!.includes(x))) {
      throw new GrantError(
        'unauthorized_client',
        'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.',
        401,
      );
    }
    const user = s.google.users.get(claims.sub.toLowerCase());
    if (!user || user.suspended) throw new GrantError('invalid_grant', 'Invalid email or User ID');
    sub = user.id;
  }
  const token = `ya29.c.${crypto.randomBytes(32).toString('base64url')}`;
  const now = Date.now();
  s.accessTokens.set(token, {
    token,
    clientId: sa.clientId,
    sub,
    scope,
    grantType: JWT_BEARER,
    issuedAt: now,
    expiresAt: now + 3599_000,
    revoked: false,
  });
  return { access_token: token, expires_in: 3599, token_type: 'Bearer' };
}
