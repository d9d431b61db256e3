import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import { errorOf, pickAccount } from '../../connectors/docusign/client.ts';
import { consentUrl, docusignAuth } from '../../connectors/docusign/auth.ts';
import {
  connectSignature,
  hmacKeysOf,
  normaliseConnect,
  normaliseStatusChange,
  verifyConnect,
} from '../../connectors/docusign/normalise.ts';

const KEY1 = 'Zk0t2b6u1m2Kx8v9QpL3rS4tU5vW6xY7zA8bC9dE0fG=';
const KEY2 = 'aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1wX2yZ3aB4c=';

/** A Connect JSON SIM message as DocuSign sends it. */
const message = (retryCount = 0, event = 'envelope-completed') =>
  Buffer.from(
    JSON.stringify({
      event,
      apiVersion: 'v2.1',
      uri: '/restapi/v2.1/accounts/acc-1/envelopes/env-1',
      retryCount,
      configurationId: 10001,
      generatedDateTime: '2026-12-06T10:00:00.0000000Z',
      data: {
        accountId: 'acc-1',
        userId: 'user-1',
        envelopeId: 'env-1',
        recipientId: event.startsWith('recipient') ? '1' : undefined,
        envelopeSummary: {
          envelopeId: 'env-1',
          status: event === 'envelope-declined' ? 'declined' : 'completed',
          emailSubject: 'Services Agreement',
          customFields: { textCustomFields: [{ name: 'dingtalkRequester', value: 'user001' }] },
          recipients: {
            signers: [
              {
                recipientId: '1',
                name: 'Ann',
                email: 'ann@example.com',
                status: event === 'envelope-declined' ? 'declined' : 'completed',
                declinedReason: event === 'envelope-declined' ? 'Wrong price' : undefined,
              },
            ],
          },
        },
      },
    }),
  );

describe('DocuSign Connect signatures', () => {
  test('X-DocuSign-Signature-N is base64 HMAC-SHA256 of the raw body', () => {
    const body = message();
    assert.equal(connectSignature(KEY1, body), crypto.createHmac('sha256', KEY1).update(body).digest('base64'));
  });
  test('any header under any key is enough: two keys while rotating', () => {
    const body = message();
    const keys = hmacKeysOf(` ${KEY1} , ${KEY2} `);
    assert.deepEqual(keys, [KEY1, KEY2]);
    assert.ok(verifyConnect({ 'x-docusign-signature-1': connectSignature(KEY1, body) }, body, keys));
    assert.ok(verifyConnect({ 'x-docusign-signature-1': 'stale', 'x-docusign-signature-2': connectSignature(KEY2, body) }, body, keys));
    assert.ok(verifyConnect({ 'x-docusign-signature-1': connectSignature(KEY2, body) }, body, [KEY2]));
  });
  test('refused: a flipped byte, a wrong key, no header, no keys', () => {
    const body = message();
    const flipped = Buffer.from(body);
    flipped[5] ^= 1;
    assert.equal(verifyConnect({ 'x-docusign-signature-1': connectSignature(KEY1, body) }, flipped, [KEY1]), false);
    assert.equal(verifyConnect({ 'x-docusign-signature-1': connectSignature('other', body) }, body, [KEY1, KEY2]), false);
    assert.equal(verifyConnect({}, body, [KEY1]), false);
    assert.equal(verifyConnect({ 'x-docusign-signature-1': connectSignature(KEY1, body) }, body, []), false);
  });
});

describe('DocuSign normalisation', () => {
  test('a retried delivery (retryCount raised) has the same provider id: one event', () => {
    const [a] = normaliseConnect(JSON.parse(message(0).toString()));
    const [b] = normaliseConnect(JSON.parse(message(3).toString()));
    assert.equal(a!.providerId, b!.providerId);
    assert.equal(a!.type, 'docusign.envelope.completed');
    assert.equal(a!.data.customFields && (a!.data.customFields as Record<string, string>).dingtalkRequester, 'user001');
    assert.deepEqual((a!.data.envelope as { subject: string }).subject, 'Services Agreement');
  });
  test('declined carries the reason; recipient-completed names the recipient; unknown events are dropped', () => {
    const [d] = normaliseConnect(JSON.parse(message(0, 'envelope-declined').toString()));
    assert.equal(d!.type, 'docusign.envelope.declined');
    assert.equal(d!.data.reason, 'Wrong price');
    const [r] = normaliseConnect(JSON.parse(message(0, 'recipient-completed').toString()));
    assert.equal(r!.type, 'docusign.recipient.completed');
    assert.equal((r!.data.recipient as { email: string }).email, 'ann@example.com');
    assert.deepEqual(normaliseConnect(JSON.parse(message(0, 'envelope-resent').toString())), []);
  });
  test('a polled status change has the provider ids Connect gives (seen both ways: one event)', () => {
    const summary = JSON.parse(message().toString()).data.envelopeSummary;
    const polled = normaliseStatusChange('acc-1', { ...summary, statusChangedDateTime: '2026-12-06T10:00:00Z' });
    const [pushed] = normaliseConnect(JSON.parse(message().toString()));
    const [pushedRecipient] = normaliseConnect(JSON.parse(message(0, 'recipient-completed').toString()));
    assert.deepEqual(polled.map((e) => e.providerId).sort(), [pushed!.providerId, pushedRecipient!.providerId].sort());
  });
});

describe('DocuSign accounts, errors and consent', () => {
  const accounts = [
    { accountId: 'a1', isDefault: 'false', baseUri: 'https://eu.docusign.net', accountName: 'EU' },
    { accountId: 'a2', isDefault: 'true', baseUri: 'https://demo.docusign.net', accountName: 'Main' },
  ];
  test('the default account unless one is named; an unknown one is refused', () => {
    assert.equal(pickAccount(accounts).accountId, 'a2');
    assert.equal(pickAccount(accounts, 'a1').baseUri, 'https://eu.docusign.net');
    assert.throws(() => pickAccount(accounts, 'nope'), /not a member of account nope/);
  });
  test('429 and the envelope polling limit wait (no attempt spent); 5xx retries; 401 needs reauth; other 4xx permanent', () => {
    const reset = Math.floor(Date.now() / 1000) + 20;
    const hourly = errorOf('send', {
      status: 429,
      body: {
        errorCode: 'HOURLY_APIINVOCATION_LIMIT_EXCEEDED',
        message: 'The maximum number of hourly API invocations has been exceeded.',
      },
      headers: { 'x-ratelimit-reset': String(reset), 'x-ratelimit-remaining': '0' },
    });
    assert.equal(hourly.details.wait, true);
    assert.ok(hourly.details.retryAfterMs! > 15_000 && hourly.details.retryAfterMs! <= 21_000);
    const polling = errorOf('get', { status: 400, body: { errorCode: 'HOURLY_ENVELOPE_POLLING_LIMIT_EXCEEDED' }, headers: {} });
    assert.equal(polling.details.wait, true);
    assert.equal(errorOf('x', { status: 503, body: { errorCode: 'UNSPECIFIED_ERROR' }, headers: {} }).errorClass, 'retryable');
    assert.equal(errorOf('x', { status: 401, body: { errorCode: 'USER_AUTHENTICATION_FAILED' }, headers: {} }).errorClass, 'needs_reauth');
    const bad = errorOf('x', { status: 400, body: { errorCode: 'TEMPLATE_ID_INVALID', message: 'Invalid template ID.' }, headers: {} });
    assert.equal(bad.errorClass, 'permanent');
    assert.match(bad.message, /TEMPLATE_ID_INVALID/);
  });
  test('the consent link appears for a JWT connection refused with consent_required, and only then', () => {
    const settings = {
      clientId: 'ik-1',
      userId: 'u-1',
      oauthBaseUrl: 'https://account-d.docusign.com',
      consentRedirectUri: 'https://hub.example.com/ui/',
    };
    const link = docusignAuth.actionLink!({ id: 'c', settings, status: 'active', lastError: 'refresh failed: consent_required: …' });
    assert.equal(link!.url, consentUrl(settings));
    const u = new URL(link!.url);
    assert.equal(u.host, 'account-d.docusign.com');
    assert.equal(u.searchParams.get('scope'), 'signature impersonation');
    assert.equal(u.searchParams.get('redirect_uri'), 'https://hub.example.com/ui/');
    assert.equal(docusignAuth.actionLink!({ id: 'c', settings, status: 'active', lastError: null }), undefined);
    assert.equal(
      docusignAuth.actionLink!({ id: 'c', settings: { clientId: 'ik-1' }, status: 'active', lastError: 'consent_required' }),
      undefined,
    );
  });
});
