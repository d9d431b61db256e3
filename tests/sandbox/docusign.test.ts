import { httpsCall } from '../helpers/docusign.ts';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import https from 'node:https';
import tls from 'node:tls';
import { createRequire } from 'node:module';
import {
  startDocusignFake,
  DEMO_INTEGRATION_KEY,
  DEMO_SECRET_KEY,
  seedIds,
  textPdf,
  type DocusignFakeState,
} from '../../sandbox/docusign/index.ts';
import type { RunningFake } from '../../sandbox/framework/index.ts';
import { startSink, type Sink } from '../helpers/sink.ts';

// docusign-esign ships no type declarations: it is loaded as CommonJS and used through `any`.
const require = createRequire(import.meta.url);
const docusign = require('docusign-esign') as any;

let fake: RunningFake<DocusignFakeState>;
let oauthHost: string;
const {
  userId,
  accountIds: [ACCOUNT, SECOND_ACCOUNT],
} = seedIds('demo');

/** Plain HTTPS with the fake's certificate, for the control API and what the SDK has no method for. */
/** HTTPS to the fake, trusting its certificate (tests/helpers/docusign.ts). */
function call(method: string, url: string, opts: Parameters<typeof httpsCall>[3] = {}) {
  return httpsCall(fake, method, url, opts);
}
const ctl = (method: string, path: string, body?: unknown) => call(method, `${fake.baseUrl()}/__sandbox/docusign${path}`, { body });

async function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An ApiClient pointed at the fake: setBasePath first (it resets the OAuth host), then setOAuthBasePath. */
function apiClient(token?: string): any {
  const c = new docusign.ApiClient();
  c.setBasePath(`${fake.baseUrl()}/restapi`);
  c.setOAuthBasePath(oauthHost);
  if (token) c.addDefaultHeader('Authorization', `Bearer ${token}`);
  return c;
}

/** Follows the authorization URL the way a browser would, up to the redirect back; returns the code. */
async function authorize(url: string): Promise<string> {
  const res = await call('GET', url);
  assert.equal(res.status, 302, res.body.toString());
  const code = new URL(String(res.headers.location)).searchParams.get('code');
  assert.ok(code);
  return code;
}

const sdkError = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return err as { response: { status: number; data: any; headers: Record<string, string> } };
  }
  throw new Error('expected the SDK call to fail');
};

async function jwtToken(privateKeyPem: string): Promise<any> {
  const res = await apiClient().requestJWTUserToken(
    DEMO_INTEGRATION_KEY,
    userId,
    ['signature', 'impersonation'],
    Buffer.from(privateKeyPem),
    3600,
  );
  return res.body;
}

let privateKeyPem: string;

before(async () => {
  fake = await startDocusignFake();
  oauthHost = new URL(fake.baseUrl()).host;
  // axios (under docusign-esign) uses https.globalAgent: trust the fake's self-signed certificate there.
  https.globalAgent.options.ca = [...tls.rootCertificates, fake.certificatePem!];
  const keys = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  privateKeyPem = keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const reg = await ctl('POST', `/integration-keys/${DEMO_INTEGRATION_KEY}/rsa-keys`, {
    publicKeyPem: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  });
  assert.equal(reg.status, 201);
});
after(async () => {
  await fake.stop();
});

test('JWT grant: consent_required until the user consents through the authorize URL, then a 1 h token without refresh token', async () => {
  const err = await sdkError(jwtToken(privateKeyPem));
  assert.equal(err.response.status, 400);
  assert.deepEqual(err.response.data, { error: 'consent_required' });

  // A key the integration never registered is refused however consent stands.
  const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const wrongKey = await sdkError(jwtToken(other));
  assert.equal(wrongKey.response.data.error_description, 'no_valid_keys_or_signatures');

  const consentUrl = apiClient().getJWTUri(DEMO_INTEGRATION_KEY, 'http://127.0.0.1:9/consented', oauthHost);
  assert.match(consentUrl, /scope=signature%20impersonation/);
  await authorize(consentUrl);

  const token = await jwtToken(privateKeyPem);
  assert.equal(token.token_type, 'Bearer');
  assert.equal(token.expires_in, 3600);
  assert.equal(token.refresh_token, undefined);
  const info = await apiClient().getUserInfo(token.access_token);
  assert.equal(info.sub, userId);
});

test('an expired access token answers 401 USER_AUTHENTICATION_FAILED; a new assertion (no refresh token for JWT) gets a working one', async () => {
  await ctl('POST', '/consents', { integrationKey: DEMO_INTEGRATION_KEY, userId });
  const first = await jwtToken(privateKeyPem);
  const templates = () => new docusign.TemplatesApi(apiClient(first.access_token)).listTemplates(ACCOUNT);
  assert.ok((await templates()).envelopeTemplates.length >= 1);
  const before = (await ctl('GET', '/oauth/counters')).json.tokensIssued['urn:ietf:params:oauth:grant-type:jwt-bearer'];
  assert.equal((await ctl('POST', '/oauth/expire-access-tokens', {})).status, 200);
  const expired = await sdkError(templates());
  assert.equal(expired.response.status, 401);
  assert.deepEqual(Object.keys(expired.response.data).sort(), ['errorCode', 'message']);
  assert.equal(expired.response.data.errorCode, 'USER_AUTHENTICATION_FAILED');
  const second = await jwtToken(privateKeyPem);
  assert.notEqual(second.access_token, first.access_token);
  assert.ok((await new docusign.TemplatesApi(apiClient(second.access_token)).listTemplates(ACCOUNT)).envelopeTemplates.length >= 1);
  assert.equal((await ctl('GET', '/oauth/counters')).json.tokensIssued['urn:ietf:params:oauth:grant-type:jwt-bearer'], before + 1);
});

test('authorization code grant with Basic client auth: 8 h token with a refresh token; userinfo lists the accounts and base URIs', async () => {
  const c = apiClient();
  const code = await authorize(c.getAuthorizationUri(DEMO_INTEGRATION_KEY, ['signature'], 'http://127.0.0.1:9/callback', 'code', 'xyz'));
  const token = await c.generateAccessToken(DEMO_INTEGRATION_KEY, DEMO_SECRET_KEY, code);
  assert.equal(Number(token.expiresIn), 8 * 3600);
  assert.ok(token.refreshToken);

  const wrongSecret = await sdkError(c.generateAccessToken(DEMO_INTEGRATION_KEY, 'not-the-secret', code));
  assert.equal(wrongSecret.response.status, 401);

  // The SDK has no refresh method: the refresh grant is a plain POST with Basic client auth.
  const refreshed = await call('POST', `${fake.baseUrl()}/oauth/token`, {
    form: { grant_type: 'refresh_token', refresh_token: token.refreshToken },
    headers: { authorization: `Basic ${Buffer.from(`${DEMO_INTEGRATION_KEY}:${DEMO_SECRET_KEY}`).toString('base64')}` },
  });
  assert.equal(refreshed.status, 200);
  assert.equal(refreshed.json.expires_in, 8 * 3600);
  assert.ok(refreshed.json.refresh_token);

  const info = await c.getUserInfo(refreshed.json.access_token);
  assert.equal(info.accounts.length, 2);
  const def = info.accounts.find((a: any) => a.isDefault === 'true' || a.isDefault === true);
  assert.equal(def.accountId, ACCOUNT);
  assert.ok(info.accounts.some((a: any) => a.accountId === SECOND_ACCOUNT));
  for (const a of info.accounts) assert.equal(a.baseUri, fake.baseUrl());
});

async function codeGrantToken(): Promise<string> {
  const c = apiClient();
  const code = await authorize(c.getAuthorizationUri(DEMO_INTEGRATION_KEY, ['signature'], 'http://127.0.0.1:9/cb', 'code'));
  return (await c.generateAccessToken(DEMO_INTEGRATION_KEY, DEMO_SECRET_KEY, code)).accessToken;
}

/** A PDF whose cross-reference table is right: startxref points at `xref`, every entry at its `N 0 obj`. */
function assertValidPdf(pdf: Buffer): void {
  const text = pdf.toString('latin1');
  assert.ok(text.startsWith('%PDF-1.'));
  assert.ok(text.trimEnd().endsWith('%%EOF'));
  const xrefAt = Number(/startxref\n(\d+)\n%%EOF/.exec(text)?.[1]);
  assert.equal(text.slice(xrefAt, xrefAt + 4), 'xref');
  const [, first, count] = /^xref\n(\d+) (\d+)\n/.exec(text.slice(xrefAt))!.map(Number) as [number, number, number];
  const entries = text
    .slice(xrefAt)
    .split('\n')
    .slice(2, 2 + count);
  entries.forEach((e, i) => {
    if (e.endsWith('f ')) return;
    const offset = Number(e.slice(0, 10));
    assert.ok(text.startsWith(`${first + i} 0 obj`, offset), `object ${first + i} at ${offset}`);
  });
}

const contract = () =>
  textPdf([['Services Agreement', '', 'Client signature: /sig1/', 'Provider signature: /sig2/']], 'Services Agreement');

test('envelopes: create with anchor tabs and custom fields, get, list status changes, drive to completed, combined PDF bytes, templates, void', async () => {
  const envelopes = new docusign.EnvelopesApi(apiClient(await codeGrantToken()));
  const templates = new docusign.TemplatesApi(apiClient(await codeGrantToken()));
  const since = new Date(Date.now() - 1000).toISOString();
  const created = await envelopes.createEnvelope(ACCOUNT, {
    envelopeDefinition: {
      emailSubject: 'Services Agreement',
      status: 'sent',
      documents: [{ documentBase64: contract().toString('base64'), name: 'Services Agreement', fileExtension: 'pdf', documentId: '1' }],
      recipients: {
        signers: [
          {
            email: 'ada@example.com',
            name: 'Ada Client',
            recipientId: '1',
            routingOrder: '1',
            tabs: { signHereTabs: [{ anchorString: '/sig1/', anchorUnits: 'pixels', anchorXOffset: '10' }] },
          },
          {
            email: 'bo@example.com',
            name: 'Bo Provider',
            recipientId: '2',
            routingOrder: '2',
            tabs: { signHereTabs: [{ anchorString: '/sig2/' }] },
          },
        ],
      },
      customFields: { textCustomFields: [{ name: 'dingbridge_idempotency_key', value: 'step-42', show: 'false' }] },
    },
  });
  assert.equal(created.status, 'sent');
  assert.ok(created.envelopeId);

  const missingAnchor = await sdkError(
    envelopes.createEnvelope(ACCOUNT, {
      envelopeDefinition: {
        emailSubject: 'x',
        status: 'sent',
        documents: [{ documentBase64: contract().toString('base64'), name: 'a', fileExtension: 'pdf', documentId: '1' }],
        recipients: {
          signers: [{ email: 'a@example.com', name: 'A', recipientId: '1', tabs: { signHereTabs: [{ anchorString: '/nowhere/' }] } }],
        },
      },
    }),
  );
  assert.equal(missingAnchor.response.data.errorCode, 'ANCHOR_TAB_STRING_NOT_FOUND');

  const got = await envelopes.getEnvelope(ACCOUNT, created.envelopeId, { include: 'custom_fields,recipients' });
  assert.equal(got.emailSubject, 'Services Agreement');
  assert.equal(got.customFields.textCustomFields[0].value, 'step-42');
  assert.equal(got.recipients.signers[0].status, 'sent');
  assert.equal(got.recipients.signers[1].status, 'created');

  for (const step of ['deliver', 'sign']) assert.equal((await ctl('POST', `/envelopes/${created.envelopeId}/${step}`, {})).status, 200);
  const recipients = await envelopes.listRecipients(ACCOUNT, created.envelopeId);
  assert.deepEqual(
    recipients.signers.map((s: any) => s.status),
    ['completed', 'sent'],
  );
  await ctl('POST', `/envelopes/${created.envelopeId}/sign`, { recipientId: '2' });

  const changes = await envelopes.listStatusChanges(ACCOUNT, { fromDate: since, status: 'completed' });
  assert.deepEqual(
    changes.envelopes.map((e: any) => e.envelopeId),
    [created.envelopeId],
  );
  assert.equal((await sdkError(envelopes.listStatusChanges(ACCOUNT, {}))).response.data.errorCode, 'INVALID_REQUEST_PARAMETER');

  const docs = await envelopes.listDocuments(ACCOUNT, created.envelopeId);
  assert.deepEqual(
    docs.envelopeDocuments.map((d: any) => d.documentId),
    ['1', 'certificate'],
  );
  const combined: Buffer = await envelopes.getDocument(ACCOUNT, created.envelopeId, 'combined');
  assertValidPdf(combined);
  const state = (await ctl('GET', `/envelopes/${created.envelopeId}`)).json;
  assert.equal(state.status, 'completed');
  assert.equal(crypto.createHash('sha256').update(combined).digest('hex'), state.combinedSha256);
  const again: Buffer = await envelopes.getDocument(ACCOUNT, created.envelopeId, 'combined');
  assert.ok(again.equals(combined), 'the combined PDF is stable');
  const certificate: Buffer = await envelopes.getDocument(ACCOUNT, created.envelopeId, 'certificate');
  assertValidPdf(certificate);
  assert.match(certificate.toString('latin1'), /Certificate Of Completion/);

  const list = await templates.listTemplates(ACCOUNT);
  const nda = list.envelopeTemplates.find((t: any) => t.name === 'Mutual NDA');
  assert.ok(nda);
  const fromTemplate = await envelopes.createEnvelope(ACCOUNT, {
    envelopeDefinition: {
      templateId: nda.templateId,
      status: 'sent',
      templateRoles: [
        { roleName: 'Signer', name: 'Cy Partner', email: 'cy@example.com' },
        { roleName: 'Counter-signer', name: 'Dee Boss', email: 'dee@example.com' },
      ],
    },
  });
  const t = await envelopes.getEnvelope(ACCOUNT, fromTemplate.envelopeId, { include: 'recipients' });
  assert.equal(t.emailSubject, 'Please sign: Mutual NDA');
  assert.deepEqual(
    t.recipients.signers.map((s: any) => [s.roleName, s.email]),
    [
      ['Signer', 'cy@example.com'],
      ['Counter-signer', 'dee@example.com'],
    ],
  );

  const withCertificate: Buffer = await envelopes.getDocument(ACCOUNT, created.envelopeId, 'combined', { certificate: 'true' });
  assert.match(withCertificate.toString('latin1'), /Certificate Of Completion/);
  assert.doesNotMatch(combined.toString('latin1'), /Certificate Of Completion/);

  await envelopes.update(ACCOUNT, fromTemplate.envelopeId, { resendEnvelope: 'true' });
  assert.equal((await ctl('GET', `/envelopes/${fromTemplate.envelopeId}`)).json.resendCount, 1);

  const cannotVoid = await sdkError(
    envelopes.update(ACCOUNT, created.envelopeId, { envelope: { status: 'voided', voidedReason: 'late' } }),
  );
  assert.equal(cannotVoid.response.data.errorCode, 'ENVELOPE_CANNOT_VOID_INVALID_STATE');
  await envelopes.update(ACCOUNT, fromTemplate.envelopeId, { envelope: { status: 'voided', voidedReason: 'Wrong counterparty' } });
  const voided = await envelopes.getEnvelope(ACCOUNT, fromTemplate.envelopeId);
  assert.equal(voided.status, 'voided');
  assert.equal(voided.voidedReason, 'Wrong counterparty');

  const byKey = await envelopes.listStatusChanges(ACCOUNT, { fromDate: since, customField: 'dingbridge_idempotency_key=step-42' });
  assert.deepEqual(
    byKey.envelopes.map((e: any) => e.envelopeId),
    [created.envelopeId],
  );
  assert.equal(
    (await envelopes.listStatusChanges(ACCOUNT, { fromDate: since, customField: 'dingbridge_idempotency_key=step-43' })).envelopes.length,
    0,
  );

  const draft = await envelopes.createEnvelope(ACCOUNT, { envelopeDefinition: { emailSubject: 'Draft', status: 'created' } });
  assert.equal(draft.status, 'created');
  const declined = await envelopes.createEnvelope(ACCOUNT, {
    envelopeDefinition: {
      templateId: nda.templateId,
      status: 'sent',
      templateRoles: [{ roleName: 'Signer', name: 'Ed', email: 'ed@example.com' }],
    },
  });
  await ctl('POST', `/envelopes/${declined.envelopeId}/decline`, { reason: 'Terms unacceptable' });
  const d = await envelopes.getEnvelope(ACCOUNT, declined.envelopeId, { include: 'recipients' });
  assert.equal(d.status, 'declined');
  assert.equal(d.recipients.signers[0].declinedReason, 'Terms unacceptable');
});

test('Connect: JSON SIM events signed under every active HMAC key, retried until acknowledged, plus per-envelope eventNotification', async () => {
  const sink: Sink = await startSink();
  try {
    await ctl('PUT', '/settings', { connectRetryDelaysMs: [50, 50, 50] });
    const k1 = (await ctl('POST', `/accounts/${SECOND_ACCOUNT}/hmac-keys`, {})).json.key as string;
    const k2 = (await ctl('POST', `/accounts/${SECOND_ACCOUNT}/hmac-keys`, {})).json.key as string;
    const envelopes = new docusign.EnvelopesApi(apiClient(await codeGrantToken()));
    const connect = new docusign.ConnectApi(apiClient(await codeGrantToken()));
    const cfg = await connect.createConfiguration(SECOND_ACCOUNT, {
      connectCustomConfiguration: {
        configurationType: 'custom',
        urlToPublishTo: sink.url,
        name: 'dingbridge',
        allUsers: 'true',
        deliveryMode: 'SIM',
        includeHMAC: 'true',
        requiresAcknowledgement: 'true',
        events: ['envelope-sent', 'envelope-completed', 'recipient-completed'],
        eventData: { version: 'restv2.1', format: 'json', includeData: ['custom_fields'] },
      },
    });
    assert.ok(cfg.connectId);
    sink.reply({ status: 500 }, { status: 503 });
    const e = await envelopes.createEnvelope(SECOND_ACCOUNT, {
      envelopeDefinition: {
        emailSubject: 'Lease',
        status: 'sent',
        documents: [{ documentBase64: contract().toString('base64'), name: 'Lease', fileExtension: 'pdf', documentId: '1' }],
        recipients: { signers: [{ email: 'ann@example.com', name: 'Ann', recipientId: '1' }] },
        customFields: { textCustomFields: [{ name: 'ref', value: 'L-1' }] },
        eventNotification: {
          url: `${sink.url}?per-envelope`,
          requireAcknowledgment: 'true',
          includeHMAC: 'true',
          events: ['envelope-completed'],
        },
      },
    });
    // envelope-sent: two refusals, then acknowledged on the third attempt.
    await sink.waitFor(3);
    const sent = sink.requests.slice(0, 3).map((r) => r.json as any);
    assert.deepEqual(
      sent.map((m) => [m.event, m.retryCount]),
      [
        ['envelope-sent', 0],
        ['envelope-sent', 1],
        ['envelope-sent', 2],
      ],
    );
    const m = sent[2];
    assert.equal(m.apiVersion, 'v2.1');
    assert.equal(m.configurationId, Number(cfg.connectId));
    assert.equal(m.uri, `/restapi/v2.1/accounts/${SECOND_ACCOUNT}/envelopes/${e.envelopeId}`);
    assert.deepEqual([m.data.accountId, m.data.envelopeId, m.data.userId], [SECOND_ACCOUNT, e.envelopeId, userId]);
    assert.equal(m.data.envelopeSummary.customFields.textCustomFields[0].value, 'L-1');
    assert.ok(!Number.isNaN(Date.parse(m.generatedDateTime)));

    await ctl('POST', `/envelopes/${e.envelopeId}/complete`, {});
    await sink.waitFor(6);
    const later = sink.requests.slice(3).map((r) => `${(r.json as any).event} ${(r.json as any).configurationId}`);
    // The account configuration gets recipient-completed and envelope-completed; the envelope's own eventNotification (configurationId 0) envelope-completed.
    assert.deepEqual(
      later.sort(),
      [`envelope-completed ${cfg.connectId}`, 'envelope-completed 0', `recipient-completed ${cfg.connectId}`].sort(),
    );

    for (const r of sink.requests) {
      const raw = Buffer.from(r.body, 'utf8');
      const s1 = String(r.headers['x-docusign-signature-1']);
      const s2 = String(r.headers['x-docusign-signature-2']);
      // Each header verifies under its own key, independently of the other.
      assert.equal(s1, crypto.createHmac('sha256', k1).update(raw).digest('base64'));
      assert.equal(s2, crypto.createHmac('sha256', k2).update(raw).digest('base64'));
      assert.equal(r.headers['x-docusign-signature-3'], undefined);
      const flipped = Buffer.from(raw);
      flipped[10] ^= 1;
      assert.notEqual(crypto.createHmac('sha256', k1).update(flipped).digest('base64'), s1);
    }
    const deliveries = (await ctl('GET', `/connect/deliveries?envelopeId=${e.envelopeId}`)).json.deliveries;
    assert.ok(deliveries.every((d: any) => d.status === 'delivered'));
  } finally {
    await ctl('PUT', '/settings', { connectRetryDelaysMs: [1000, 2000, 5000] });
    await sink.close();
  }
});

test('limits: rate-limit and burst headers on every answer, the exhausted hourly budget, the envelope polling limit, injected 5xx', async () => {
  const client = apiClient(await codeGrantToken());
  const envelopes = new docusign.EnvelopesApi(client);
  // Headers are only reachable through the callback form (its third argument is the axios response).
  const withHeaders = (fn: (cb: (err: any, data: any, res: any) => void) => void) =>
    new Promise<{ err: any; data: any; headers: Record<string, string> }>((resolve) => {
      fn((err, data, res) => resolve({ err, data, headers: (res ?? err?.response)?.headers ?? {} }));
    });
  const first = await withHeaders((cb) => envelopes.listStatusChanges(ACCOUNT, { fromDate: '2020-01-01' }, cb));
  assert.equal(first.err, null);
  assert.equal(first.headers['x-ratelimit-limit'], '3000');
  assert.ok(Number(first.headers['x-ratelimit-remaining']) < 3000);
  assert.ok(Number(first.headers['x-ratelimit-reset']) > Date.now() / 1000);
  assert.equal(first.headers['x-burstlimit-limit'], '200');
  assert.ok(first.headers['x-burstlimit-remaining']);

  await ctl('PUT', `/accounts/${ACCOUNT}/rate-limit`, { remaining: 1, resetInSec: 2 });
  const last = await withHeaders((cb) => envelopes.listStatusChanges(ACCOUNT, { fromDate: '2020-01-01' }, cb));
  assert.equal(last.err, null);
  assert.equal(last.headers['x-ratelimit-remaining'], '0');
  const refused = await withHeaders((cb) => envelopes.listStatusChanges(ACCOUNT, { fromDate: '2020-01-01' }, cb));
  assert.equal(refused.err.response.status, 429);
  assert.equal(refused.err.response.data.errorCode, 'HOURLY_APIINVOCATION_LIMIT_EXCEEDED');
  const resetAt = Number(refused.headers['x-ratelimit-reset']) * 1000;
  assert.ok(resetAt - Date.now() <= 3000, 'the reset is the one the control API set');
  await until(
    async () => (await withHeaders((cb) => envelopes.listStatusChanges(ACCOUNT, { fromDate: '2020-01-01' }, cb))).err === null,
    'the budget after the reset',
  );

  await ctl('PUT', `/accounts/${ACCOUNT}/rate-limit`, { burstRemaining: 0, burstResetInSec: 2 });
  const burst = await withHeaders((cb) => envelopes.listStatusChanges(ACCOUNT, { fromDate: '2020-01-01' }, cb));
  assert.equal(burst.err.response.status, 429);
  assert.equal(burst.err.response.data.errorCode, 'BURST_APIINVOCATION_LIMIT_EXCEEDED');
  assert.equal(burst.headers['x-burstlimit-remaining'], '0');
  await until(
    async () => (await withHeaders((cb) => envelopes.listStatusChanges(ACCOUNT, { fromDate: '2020-01-01' }, cb))).err === null,
    'the burst window after its reset',
  );

  const e = await envelopes.createEnvelope(ACCOUNT, { envelopeDefinition: { emailSubject: 'Polled', status: 'created' } });
  await ctl('PUT', '/settings', { envelopePollingLimitPerHour: 2 });
  try {
    await envelopes.getEnvelope(ACCOUNT, e.envelopeId);
    await envelopes.getEnvelope(ACCOUNT, e.envelopeId);
    const polled = await sdkError(envelopes.getEnvelope(ACCOUNT, e.envelopeId));
    assert.equal(polled.response.status, 400);
    assert.equal(polled.response.data.errorCode, 'HOURLY_ENVELOPE_POLLING_LIMIT_EXCEEDED');
  } finally {
    await ctl('PUT', '/settings', { envelopePollingLimitPerHour: 500 });
  }

  await call('POST', `${fake.baseUrl()}/__sandbox/faults`, { body: { kind: 'status', status: 503, path: '/envelopes$', method: 'POST' } });
  const down = await sdkError(envelopes.createEnvelope(ACCOUNT, { envelopeDefinition: { emailSubject: 'x', status: 'created' } }));
  assert.equal(down.response.status, 503);
  assert.equal(typeof down.response.data.errorCode, 'string');

  const expired = await sdkError(new docusign.EnvelopesApi(apiClient('not-a-token')).getEnvelope(ACCOUNT, e.envelopeId));
  assert.equal(expired.response.status, 401);
  assert.equal(expired.response.data.errorCode, 'USER_AUTHENTICATION_FAILED');
});

test('flaky creates: a 503 before the envelope exists, or after it was made (the answer lost), findable by its custom field', async () => {
  const envelopes = new docusign.EnvelopesApi(apiClient(await codeGrantToken()));
  const since = new Date(Date.now() - 1000).toISOString();
  const definition = (key: string) => ({
    envelopeDefinition: {
      emailSubject: `Flaky ${key}`,
      status: 'created',
      customFields: { textCustomFields: [{ name: 'idem', value: key }] },
    },
  });
  const count = async (key: string) =>
    (await envelopes.listStatusChanges(ACCOUNT, { fromDate: since, customField: `idem=${key}` })).envelopes.length;
  try {
    await ctl('PUT', '/settings', { createFailureRate: 1, createFailureAfterCommitShare: 0 });
    assert.equal((await sdkError(envelopes.createEnvelope(ACCOUNT, definition('before')))).response.status, 503);
    assert.equal(await count('before'), 0);
    await ctl('PUT', '/settings', { createFailureAfterCommitShare: 1 });
    assert.equal((await sdkError(envelopes.createEnvelope(ACCOUNT, definition('after')))).response.status, 503);
    assert.equal(await count('after'), 1);
  } finally {
    await ctl('PUT', '/settings', { createFailureRate: 0, createFailureAfterCommitShare: 0.5 });
  }
  await envelopes.createEnvelope(ACCOUNT, definition('calm'));
  assert.equal(await count('calm'), 1);
});

test('Connect retry queue: a delivery that was never acknowledged is failed, and republishing it delivers it', async () => {
  const sink: Sink = await startSink({ status: 500 });
  try {
    await ctl('PUT', '/settings', { connectRetryDelaysMs: [20] });
    const cfg = (
      await ctl('POST', `/accounts/${ACCOUNT}/connect`, { urlToPublishTo: sink.url, events: ['envelope-voided'], includeHMAC: false })
    ).json;
    const envelopes = new docusign.EnvelopesApi(apiClient(await codeGrantToken()));
    const e = await envelopes.createEnvelope(ACCOUNT, {
      envelopeDefinition: {
        emailSubject: 'Quote',
        status: 'sent',
        documents: [{ documentBase64: contract().toString('base64'), name: 'Quote', fileExtension: 'pdf', documentId: '1' }],
        recipients: { signers: [{ email: 'q@example.com', name: 'Q', recipientId: '1' }] },
      },
    });
    await envelopes.update(ACCOUNT, e.envelopeId, { envelope: { status: 'voided', voidedReason: 'Superseded' } });
    const failed = await until(
      async () => (await ctl('GET', `/connect/deliveries?envelopeId=${e.envelopeId}&status=failed`)).json.deliveries[0],
      'the failed delivery',
    );
    assert.equal(failed.attempts.length, 2);
    assert.equal(failed.configurationId, cfg.connectId);
    assert.equal(
      sink.requests[0]!.headers['x-docusign-signature-1'],
      undefined,
      'no HMAC headers when the configuration does not ask for them',
    );
    sink.setDefault({ status: 200 });
    assert.equal((await ctl('POST', `/connect/deliveries/${failed.id}/republish`)).status, 202);
    await sink.waitFor(3);
    const republished = sink.requests[2]!.json as any;
    assert.equal(republished.event, 'envelope-voided');
    assert.equal(republished.retryCount, 2);
    await until(
      async () => (await ctl('GET', `/connect/deliveries?envelopeId=${e.envelopeId}`)).json.deliveries[0].status === 'delivered',
      'the republished delivery',
    );
  } finally {
    await ctl('PUT', '/settings', { connectRetryDelaysMs: [1000, 2000, 5000] });
    await sink.close();
  }
});

test('an account moved to another site answers USER_AUTHENTICATION_FAILED on the old base URI; userinfo gives the new one', async () => {
  const token = await codeGrantToken();
  await ctl('PUT', `/accounts/${SECOND_ACCOUNT}`, { site: 'eu' });
  try {
    const stale = await sdkError(new docusign.TemplatesApi(apiClient(token)).listTemplates(SECOND_ACCOUNT));
    assert.equal(stale.response.data.errorCode, 'USER_AUTHENTICATION_FAILED');
    const info = await apiClient().getUserInfo(token);
    const moved = info.accounts.find((a: any) => a.accountId === SECOND_ACCOUNT);
    assert.equal(moved.baseUri, `${fake.baseUrl()}/eu`);
    const c = apiClient(token);
    c.setBasePath(`${moved.baseUri}/restapi`);
    c.setOAuthBasePath(oauthHost);
    const list = await new docusign.TemplatesApi(c).listTemplates(SECOND_ACCOUNT);
    assert.ok(list.envelopeTemplates.length >= 1);
  } finally {
    await ctl('PUT', `/accounts/${SECOND_ACCOUNT}`, { site: '' });
  }
});

test('the production host is another instance: its own accounts, a 500-call burst limit, demo tokens unknown there', async () => {
  const prod = await startDocusignFake({ environment: 'production' });
  try {
    const token = await codeGrantToken();
    const prodAccount = seedIds('production').accountIds[0];
    // Both instances share the sandbox's certificate (one per process).
    const res = await call('GET', `${prod.baseUrl()}/restapi/v2.1/accounts/${prodAccount}/templates`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 401);
    const state = (await call('GET', `${prod.baseUrl()}/__sandbox/docusign/state`)).json;
    assert.equal(state.environment, 'production');
    assert.equal(state.settings.burstLimit, 500);
    assert.deepEqual(
      state.accounts.map((a: any) => a.accountId),
      seedIds('production').accountIds,
    );
  } finally {
    await prod.stop();
  }
});
