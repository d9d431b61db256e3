import crypto from 'node:crypto';
import type { Express, Request, Response } from 'express';
import { decodeJwt, importSPKI, jwtVerify } from 'jose';
import { startFake, type FakeDefinition, type RunningFake, type RunningFakeInternals } from '../framework/index.ts';
import { createOAuth2Fake, type AccessTokenRecord } from '../oauth2/index.ts';
import {
  type Environment,
  type DsState,
  type DsSettings,
  type Template,
  type DsDocument,
  initialDsState,
  seedIds,
  nowIso,
  freshRate,
  DEMO_INTEGRATION_KEY,
  DEMO_SECRET_KEY,
} from './state.ts';
import { makeEnvelopeOps, DsError } from './envelopes.ts';
import { setupEsign, dsErrorBody, type DocusignFakeState } from './esign.ts';
import { connectSignature, drain, enqueue, configJson } from './connect.ts';

export type { DocusignFakeState } from './esign.ts';
export type { DsState, Envelope, ConnectDelivery, DsSettings, Environment } from './state.ts';
export { connectSignature, DEMO_INTEGRATION_KEY, DEMO_SECRET_KEY, seedIds };
export { textPdf } from './pdf.ts';

type Fake = RunningFakeInternals<DocusignFakeState>;
export const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const OAUTH_HOST: Record<Environment, string> = { demo: 'account-d.docusign.com', production: 'account.docusign.com' };

export interface DocusignFakeOptions {
  /** demo (account-d.docusign.com, burst 200/30 s) or production (account.docusign.com, burst 500/30 s). Default demo. */
  environment?: Environment;
}

const rand = (prefix: string, bytes = 32) => prefix + crypto.randomBytes(bytes).toString('base64url');
const body = (req: Request): Record<string, unknown> =>
  req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {};

let demoKeyPair: { publicKeyPem: string; privateKeyPem: string } | undefined;
function generateKeyPair() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  };
}

/**
 * DocuSign: account server (OAuth code grant with Basic client auth, JWT grant, userinfo) and the
 * eSignature REST API v2.1 on one HTTPS server, with Connect (JSON SIM, HMAC) and DocuSign's limits.
 */
export function createDocusignFake(options: DocusignFakeOptions = {}): FakeDefinition<DocusignFakeState> {
  const env = options.environment ?? 'demo';
  const seed = seedIds(env);
  let fakeRef: Fake | undefined;
  const ds = () => fakeRef!.state.ds;
  const baseUri = (site: string) => `${fakeRef!.baseUrl()}${site ? `/${site}` : ''}`;

  const oauth = createOAuth2Fake({
    name: 'docusign',
    tls: true,
    paths: { authorize: '/oauth/auth', token: '/oauth/token', userinfo: '/oauth/userinfo', revoke: '/oauth/revoke', ping: '/oauth/ping' },
    controlPrefix: '/__sandbox/docusign/oauth',
    clientAuthMethods: ['client_secret_basic'],
    defaultClient: {
      clientId: DEMO_INTEGRATION_KEY,
      clientSecret: DEMO_SECRET_KEY,
      name: 'dingbridge',
      redirectUris: ['http://127.0.0.1/*', 'http://localhost/*', 'https://127.0.0.1/*', 'https://localhost/*'],
    },
    defaultUser: { sub: seed.userId, name: 'Dana Sender', email: 'dana.sender@example.com' },
    // Code grant: 8 h access tokens, 30-day refresh tokens, each refresh answer carries a refresh token.
    settings: { accessTokenTtlSec: 8 * 3600, refreshTokenTtlSec: 30 * 86_400, refreshResponseIncludesRefreshToken: 'always' },
    accessTokenPrefix: 'eyJ0eXAiOiJNVCJ9.',
    refreshTokenPrefix: 'eyJ0eXAiOiJSVCJ9.',
    // The consent page: granting `impersonation` is what lets the JWT grant act for this user.
    callbackParams: ({ client, user, scope }) => {
      if (scope.split(/[\s+]+/).includes('impersonation')) ds().consents.add(`${client.clientId} ${user.sub}`);
      return {};
    },
    userinfo: ({ user }) => {
      const u = ds().users.get(user.sub);
      const [given, ...family] = (u?.name ?? user.name).split(' ');
      return {
        sub: user.sub,
        name: u?.name ?? user.name,
        given_name: given,
        family_name: family.join(' '),
        created: '2024-01-02T03:04:05.67',
        email: u?.email ?? user.email,
        accounts: (u?.accountIds ?? []).map((id) => {
          const a = ds().accounts.get(id)!;
          return {
            account_id: a.accountId,
            is_default: id === u!.defaultAccountId,
            account_name: a.accountName,
            base_uri: baseUri(a.site),
          };
        }),
      };
    },
  });

  return {
    name: 'docusign',
    tls: true,
    initialState: () => ({ ...oauth.initialState(), ds: initialDsState(env) }),
    faultBody: (status, spec) =>
      spec.path?.includes('oauth')
        ? { error: status >= 500 ? 'server_error' : 'invalid_request', error_description: `injected ${status}` }
        : dsErrorBody(
            status === 429 ? 'HOURLY_APIINVOCATION_LIMIT_EXCEEDED' : 'UNSPECIFIED_ERROR',
            status === 429
              ? 'The maximum number of hourly API invocations has been exceeded.'
              : `An unexpected error occurred (injected ${status}).`,
          ),
    teardown: (fake) => {
      fake.state.ds.stopped = true;
    },
    setup(app: Express, fake: RunningFakeInternals<DocusignFakeState>) {
      fakeRef = fake;
      setupJwtGrant(app, fake, env);
      oauth.setup(app, fake);
      const ops = makeEnvelopeOps(ds);
      setupEsign(app, fake, ops);
      setupControl(app, fake, ops, baseUri);
    },
  };
}

/** The JWT grant: no client authentication, the integration key is the assertion's `iss`. */
function setupJwtGrant(app: Express, fake: Fake, env: Environment): void {
  const err = (res: Response, error: string, description?: string) => {
    fake.state.counters.tokenErrors[JWT_GRANT] = (fake.state.counters.tokenErrors[JWT_GRANT] ?? 0) + 1;
    res.setHeader('Cache-Control', 'no-store');
    res.status(400).json(description ? { error, error_description: description } : { error });
  };
  app.post('/oauth/token', async (req: Request, res: Response, next) => {
    const p = body(req);
    if (p.grant_type === 'authorization_code' && p.redirect_uri === undefined && typeof p.code === 'string') {
      // DocuSign does not ask for redirect_uri at the token endpoint (docusign-esign never sends it):
      // take the authorization request's, so the generic server's RFC 6749 check passes.
      const rec = fake.state.codes.get(p.code);
      if (rec?.redirectUri) (req.body as Record<string, unknown>).redirect_uri = rec.redirectUri;
    }
    if (p.grant_type !== JWT_GRANT) return next();
    const s = fake.state;
    s.counters.tokenRequests[JWT_GRANT] = (s.counters.tokenRequests[JWT_GRANT] ?? 0) + 1;
    const assertion = typeof p.assertion === 'string' ? p.assertion : '';
    let claims: ReturnType<typeof decodeJwt>;
    try {
      claims = decodeJwt(assertion);
    } catch {
      return err(res, 'invalid_request', 'The assertion is not a JWT');
    }
    const iss = String(claims.iss ?? '');
    if (!s.clients.has(iss)) return err(res, 'invalid_grant', 'issuer_not_found');
    const keys = s.ds.rsaKeys.get(iss) ?? [];
    const host = String(req.headers.host ?? '');
    const audiences = [OAUTH_HOST[env], host, host.replace(/^127\.0\.0\.1/, 'localhost'), host.replace(/^localhost/, '127.0.0.1')];
    let verified = false;
    let why = 'no_valid_keys_or_signatures';
    for (const k of keys) {
      try {
        await jwtVerify(assertion, await importSPKI(k.publicKeyPem, 'RS256'), {
          algorithms: ['RS256'],
          audience: audiences,
          issuer: iss,
          requiredClaims: ['iat', 'exp'],
        });
        verified = true;
        break;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'ERR_JWT_EXPIRED') why = 'expired_grant';
        else if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') why = `invalid_grant_claim: ${(e as { claim?: string }).claim ?? ''}`;
      }
    }
    if (!verified) return err(res, 'invalid_grant', why);
    const sub = String(claims.sub ?? '');
    if (!sub || !s.ds.users.has(sub)) return err(res, 'invalid_grant', 'user_not_found');
    const scopes = String(claims.scope ?? '')
      .split(/\s+/)
      .filter(Boolean);
    if (!scopes.includes('signature')) return err(res, 'invalid_scope', 'The scope must include signature');
    if (!s.ds.consents.has(`${iss} ${sub}`)) return err(res, 'consent_required');
    const t = Date.now();
    const ttl = s.ds.settings.jwtAccessTokenTtlSec;
    const at: AccessTokenRecord = {
      token: rand('eyJ0eXAiOiJNVCJ9.'),
      clientId: iss,
      sub,
      scope: scopes.join(' '),
      grantType: JWT_GRANT,
      issuedAt: t,
      expiresAt: t + ttl * 1000,
      revoked: false,
    };
    s.accessTokens.set(at.token, at);
    s.counters.tokensIssued[JWT_GRANT] = (s.counters.tokensIssued[JWT_GRANT] ?? 0) + 1;
    res.setHeader('Cache-Control', 'no-store');
    res.json({ access_token: at.token, token_type: 'Bearer', expires_in: ttl });
  });
}

function setupControl(app: Express, fake: Fake, ops: ReturnType<typeof makeEnvelopeOps>, baseUri: (site: string) => string): void {
  const P = '/__sandbox/docusign';
  const ds = () => fake.state.ds;
  const bad = (res: Response, message: string, status = 400) =>
    res.status(status).json({ error: { code: status === 404 ? 'not_found' : 'bad_request', message } });
  const account = (req: Request, res: Response) => {
    const a = ds().accounts.get(String(req.params.accountId));
    if (!a) bad(res, 'no such account', 404);
    return a;
  };
  const envelope = (req: Request, res: Response) => {
    const e = ds().envelopes.get(String(req.params.envelopeId));
    if (!e) bad(res, 'no such envelope', 404);
    return e;
  };
  const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
  const accountJson = (a: DsState['accounts'] extends Map<string, infer A> ? A : never) => ({
    accountId: a.accountId,
    accountName: a.accountName,
    site: a.site,
    baseUri: baseUri(a.site),
    combinedPdfAllowed: a.combinedPdfAllowed,
    rate: {
      ...a.rate,
      resetAt: new Date(a.rate.resetAt).toISOString(),
      burstResetAt: new Date(a.rate.burstResetAt).toISOString(),
      overrideResetAt: undefined,
    },
    hmacKeys: a.hmacKeys.map((k) => ({ keyId: k.keyId, active: k.active, createdDateTime: k.createdDateTime })),
    connect: [...a.connect.values()].map(configJson),
    templates: [...a.templates.keys()],
  });
  const transition =
    (fn: (e: NonNullable<ReturnType<typeof envelope>>, b: Record<string, unknown>) => unknown) => (req: Request, res: Response) => {
      const e = envelope(req, res);
      if (!e) return;
      try {
        fn(e, body(req));
        res.json({ envelope: ops.json(e, ['recipients']) });
      } catch (err) {
        if (err instanceof DsError) return bad(res, `${err.errorCode}: ${err.message}`, 409);
        throw err;
      }
    };

  app.get(`${P}/state`, (_req, res) => {
    const s = ds();
    res.json({
      environment: s.environment,
      integrationKey: DEMO_INTEGRATION_KEY,
      settings: s.settings,
      users: [...s.users.values()],
      accounts: [...s.accounts.values()].map(accountJson),
      envelopes: s.envelopes.size,
      consents: [...s.consents],
      deliveries: s.deliveries.length,
      pendingDeliveries: s.pending,
    });
  });
  app.put(`${P}/settings`, (req, res) => {
    const b = body(req);
    const s = ds().settings;
    for (const k of [
      'jwtAccessTokenTtlSec',
      'hourlyLimit',
      'burstLimit',
      'burstWindowSec',
      'envelopePollingLimitPerHour',
      'connectTimeoutMs',
    ] as const) {
      if (b[k] !== undefined) (s as DsSettings)[k] = Math.max(0, Number(b[k]));
    }
    for (const k of ['createFailureRate', 'createFailureAfterCommitShare'] as const) {
      if (b[k] !== undefined) s[k] = Math.min(1, Math.max(0, Number(b[k])));
    }
    if (Array.isArray(b.connectRetryDelaysMs)) s.connectRetryDelaysMs = b.connectRetryDelaysMs.map((x) => Math.max(0, Number(x)));
    if (b.hourlyLimit !== undefined || b.burstLimit !== undefined) for (const a of ds().accounts.values()) a.rate = freshRate(s);
    res.json(s);
  });

  // Integration keys' RSA keys (the admin page's "Add RSA keypair") and users' consent.
  app.post(`${P}/integration-keys/:key/rsa-keys`, (req, res) => {
    const key = String(req.params.key);
    if (!fake.state.clients.has(key)) return bad(res, 'no such integration key', 404);
    const b = body(req);
    let pair: { publicKeyPem: string; privateKeyPem?: string };
    if (typeof b.publicKeyPem === 'string') pair = { publicKeyPem: b.publicKeyPem };
    else pair = demoKeyPair ??= generateKeyPair();
    try {
      crypto.createPublicKey(pair.publicKeyPem);
    } catch {
      return bad(res, 'publicKeyPem is not a PEM public key');
    }
    const rec = { keyId: crypto.randomUUID(), publicKeyPem: pair.publicKeyPem };
    const list = ds().rsaKeys.get(key) ?? [];
    list.push(rec);
    ds().rsaKeys.set(key, list);
    res.status(201).json({ ...rec, privateKeyPem: pair.privateKeyPem });
  });
  app.delete(`${P}/integration-keys/:key/rsa-keys/:keyId`, (req, res) => {
    const list = ds().rsaKeys.get(String(req.params.key)) ?? [];
    ds().rsaKeys.set(
      String(req.params.key),
      list.filter((k) => k.keyId !== req.params.keyId),
    );
    res.json({ ok: true });
  });
  app.get(`${P}/consents`, (_req, res) => {
    res.json({
      consents: [...ds().consents].map((c) => {
        const [integrationKey, userId] = c.split(' ');
        return { integrationKey, userId };
      }),
    });
  });
  app.post(`${P}/consents`, (req, res) => {
    const b = body(req);
    ds().consents.add(`${String(b.integrationKey ?? DEMO_INTEGRATION_KEY)} ${String(b.userId ?? seedIds(ds().environment).userId)}`);
    res.status(201).json({ ok: true });
  });
  app.delete(`${P}/consents`, (req, res) => {
    const b = body(req);
    const removed = ds().consents.delete(
      `${String(b.integrationKey ?? DEMO_INTEGRATION_KEY)} ${String(b.userId ?? seedIds(ds().environment).userId)}`,
    );
    res.json({ removed });
  });
  app.post(`${P}/users`, (req, res) => {
    const b = body(req);
    const accountIds = Array.isArray(b.accountIds) ? b.accountIds.map(String) : [...ds().accounts.keys()].slice(0, 1);
    if (accountIds.length === 0 || !accountIds.every((id) => ds().accounts.has(id)))
      return bad(res, 'accountIds must name existing accounts');
    const u = {
      userId: String(b.userId ?? crypto.randomUUID()),
      name: String(b.name ?? 'Sam Signer'),
      email: String(b.email ?? 'sam@example.com'),
      accountIds,
      defaultAccountId: String(b.defaultAccountId ?? accountIds[0]),
    };
    ds().users.set(u.userId, u);
    res.status(201).json(u);
  });

  app.get(`${P}/accounts`, (_req, res) => {
    res.json({ accounts: [...ds().accounts.values()].map(accountJson) });
  });
  app.put(`${P}/accounts/:accountId`, (req, res) => {
    const a = account(req, res);
    if (!a) return;
    const b = body(req);
    if (typeof b.site === 'string') {
      if (b.site !== '' && !/^[a-z0-9-]+$/.test(b.site)) return bad(res, 'site must be lowercase letters, digits or dashes');
      a.site = b.site;
    }
    if (typeof b.combinedPdfAllowed === 'boolean') a.combinedPdfAllowed = b.combinedPdfAllowed;
    res.json(accountJson(a));
  });
  app.put(`${P}/accounts/:accountId/rate-limit`, (req, res) => {
    const a = account(req, res);
    if (!a) return;
    const b = body(req);
    const r = a.rate;
    if (b.limit !== undefined) r.limit = Math.max(0, Number(b.limit));
    if (b.remaining !== undefined) r.remaining = Math.max(0, Number(b.remaining));
    if (b.resetInSec !== undefined) r.resetAt = r.overrideResetAt = Date.now() + Math.max(0, Number(b.resetInSec)) * 1000;
    if (b.burstLimit !== undefined) r.burstLimit = Math.max(0, Number(b.burstLimit));
    if (b.burstRemaining !== undefined) r.burstRemaining = Math.max(0, Number(b.burstRemaining));
    if (b.burstResetInSec !== undefined) r.burstResetAt = Date.now() + Math.max(0, Number(b.burstResetInSec)) * 1000;
    res.json(accountJson(a).rate);
  });
  app.post(`${P}/accounts/:accountId/hmac-keys`, (req, res) => {
    const a = account(req, res);
    if (!a) return;
    const b = body(req);
    if (a.hmacKeys.length >= 10) return bad(res, 'an account has at most 10 Connect HMAC keys');
    const k = {
      keyId: crypto.randomUUID(),
      key: typeof b.key === 'string' && b.key ? b.key : crypto.randomBytes(32).toString('base64'),
      active: b.active !== false,
      createdDateTime: nowIso(),
    };
    a.hmacKeys.push(k);
    res.status(201).json(k);
  });
  app.patch(`${P}/accounts/:accountId/hmac-keys/:keyId`, (req, res) => {
    const a = account(req, res);
    if (!a) return;
    const k = a.hmacKeys.find((x) => x.keyId === req.params.keyId);
    if (!k) return bad(res, 'no such key', 404);
    if (typeof body(req).active === 'boolean') k.active = body(req).active as boolean;
    res.json({ keyId: k.keyId, active: k.active });
  });
  app.delete(`${P}/accounts/:accountId/hmac-keys/:keyId`, (req, res) => {
    const a = account(req, res);
    if (!a) return;
    a.hmacKeys = a.hmacKeys.filter((x) => x.keyId !== req.params.keyId);
    res.json({ ok: true });
  });
  app.post(`${P}/accounts/:accountId/connect`, (req, res) => {
    const a = account(req, res);
    if (!a) return;
    const b = body(req);
    const ed = (b.eventData && typeof b.eventData === 'object' ? b.eventData : {}) as Record<string, unknown>;
    if (typeof b.urlToPublishTo !== 'string' || !/^https?:\/\//.test(b.urlToPublishTo))
      return bad(res, 'urlToPublishTo (http(s) URL) is required');
    const cfg = {
      connectId: String(ds().nextConnectId++),
      name: String(b.name ?? 'dingbridge'),
      urlToPublishTo: b.urlToPublishTo,
      configurationType: 'custom',
      allUsers: b.allUsers !== false && b.allUsers !== 'false',
      userIds: Array.isArray(b.userIds) ? b.userIds.map(String) : [],
      events: Array.isArray(b.events)
        ? b.events.map(String)
        : ['envelope-sent', 'envelope-delivered', 'envelope-completed', 'envelope-declined', 'envelope-voided', 'recipient-completed'],
      requiresAcknowledgement: b.requiresAcknowledgement !== false && b.requiresAcknowledgement !== 'false',
      includeHMAC: b.includeHMAC !== false && b.includeHMAC !== 'false',
      disabled: b.disabled === true || b.disabled === 'true',
      includeData: Array.isArray(ed.includeData) ? ed.includeData.map(String) : [],
      deliveryMode: 'SIM',
    };
    a.connect.set(cfg.connectId, cfg);
    res.status(201).json(configJson(cfg));
  });
  app.post(`${P}/accounts/:accountId/templates`, (req, res) => {
    const a = account(req, res);
    if (!a) return;
    const b = body(req);
    const docs: DsDocument[] = (Array.isArray(b.documents) ? b.documents : []).map((d: Record<string, unknown>, i: number) => ({
      documentId: String(d.documentId ?? i + 1),
      name: String(d.name ?? `Document ${i + 1}`),
      fileExtension: String(d.fileExtension ?? 'pdf'),
      bytes: Buffer.from(String(d.documentBase64 ?? ''), 'base64'),
      order: i + 1,
    }));
    const roles = (Array.isArray(b.roles) ? b.roles : []).map((r: Record<string, unknown>, i: number) => ({
      roleName: String(r.roleName ?? `Signer ${i + 1}`),
      recipientId: String(r.recipientId ?? i + 1),
      routingOrder: Number(r.routingOrder ?? i + 1),
      type: (r.type === 'carbonCopy' ? 'carbonCopy' : 'signer') as 'signer' | 'carbonCopy',
      tabs: r.tabs as Template['roles'][number]['tabs'],
    }));
    if (docs.length === 0 || docs.some((d) => d.bytes.length === 0) || roles.length === 0)
      return bad(res, 'documents (with documentBase64) and roles are required');
    const t = nowIso();
    const tpl: Template = {
      templateId: String(b.templateId ?? crypto.randomUUID()),
      name: String(b.name ?? 'Template'),
      description: String(b.description ?? ''),
      emailSubject: String(b.emailSubject ?? b.name ?? 'Please sign'),
      created: t,
      lastModified: t,
      documents: docs,
      roles,
    };
    a.templates.set(tpl.templateId, tpl);
    res.status(201).json({ templateId: tpl.templateId, name: tpl.name });
  });

  // Envelopes: inspection and the signing ceremony.
  app.get(`${P}/envelopes`, (_req, res) => {
    res.json({
      envelopes: [...ds().envelopes.values()].map((e) => ({
        envelopeId: e.envelopeId,
        accountId: e.accountId,
        status: e.status,
        emailSubject: e.emailSubject,
        customFields: e.textCustomFields,
      })),
    });
  });
  app.get(`${P}/envelopes/:envelopeId`, (req, res) => {
    const e = envelope(req, res);
    if (!e) return;
    res.json({
      ...ops.json(e, ['recipients', 'custom_fields']),
      accountId: e.accountId,
      polls: e.polls,
      resendCount: e.resendCount,
      eventNotification: e.eventNotification,
      documents: e.documents.map((d) => ({ documentId: d.documentId, name: d.name, sha256: sha(d.bytes), bytes: d.bytes.length })),
      combinedSha256: sha(ops.combinedPdf(e)),
      certificateSha256: sha(ops.certificatePdf(e)),
    });
  });
  app.get(`${P}/envelopes/:envelopeId/combined`, (req, res) => {
    const e = envelope(req, res);
    if (!e) return;
    res.type('application/pdf').send(ops.combinedPdf(e));
  });
  app.post(
    `${P}/envelopes/:envelopeId/deliver`,
    transition((e, b) => ops.deliver(e, b.recipientId === undefined ? undefined : String(b.recipientId))),
  );
  app.post(
    `${P}/envelopes/:envelopeId/sign`,
    transition((e, b) => ops.sign(e, b.recipientId === undefined ? undefined : String(b.recipientId))),
  );
  app.post(
    `${P}/envelopes/:envelopeId/decline`,
    transition((e, b) => ops.decline(e, String(b.reason ?? 'Declined'), b.recipientId === undefined ? undefined : String(b.recipientId))),
  );
  app.post(
    `${P}/envelopes/:envelopeId/void`,
    transition((e, b) => ops.void(e, String(b.reason ?? 'Voided by the sandbox'))),
  );
  app.post(
    `${P}/envelopes/:envelopeId/complete`,
    transition((e) => {
      while (e.status === 'sent' || e.status === 'delivered') ops.sign(e);
    }),
  );

  app.get(`${P}/connect/deliveries`, (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    res.json({
      deliveries: ds()
        .deliveries.filter(
          (d) =>
            (!q.envelopeId || d.envelopeId === q.envelopeId) && (!q.event || d.event === q.event) && (!q.status || d.status === q.status),
        )
        .map((d) => ({ ...d, payload: undefined })),
    });
  });
  app.post(`${P}/connect/deliveries/:id/republish`, (req, res) => {
    const d = ds().deliveries.find((x) => x.id === Number(req.params.id));
    if (!d) return bad(res, 'no such delivery', 404);
    d.status = 'pending';
    enqueue(ds, ds(), d);
    res.status(202).json({ id: d.id });
  });
  app.post(`${P}/connect/drain`, async (req, res) => {
    const ok = await drain(ds(), Number(body(req).timeoutMs ?? 10_000));
    res.json({ drained: ok, pending: ds().pending });
  });
}

export async function startDocusignFake(
  opts: DocusignFakeOptions & { port?: number; host?: string } = {},
): Promise<RunningFake<DocusignFakeState>> {
  const { port, host, ...rest } = opts;
  return startFake(createDocusignFake(rest), { port, host });
}
