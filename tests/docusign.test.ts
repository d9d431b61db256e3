import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import type { Hub } from '../app/hub.ts';
import { UI_DIST } from '../config/ui/serve.ts';
import { connectSignature } from '../connectors/docusign/normalise.ts';
import { forgetDocusignCaches } from '../connectors/docusign/client.ts';
import { DEMO_INTEGRATION_KEY, seedIds, startDocusignFake, type DocusignFakeState } from '../sandbox/docusign/index.ts';
import type { RunningFake } from '../sandbox/framework/index.ts';
import { api } from './helpers/api.ts';
import { dsControl, httpsCall, trustFake } from './helpers/docusign.ts';
import { queryHub } from './helpers/hub-db.ts';
import {
  ARTIFACTS,
  prepareEnvironment,
  startTestHub,
  TEST_ADMIN_TOKEN,
  tempDir,
  waitUntil,
  writeConfig,
  type Environment,
} from './helpers/hub.ts';
import { freePort } from './helpers/ports.ts';
import { services } from './helpers/services.ts';
import { runAction } from './dingtalk-support.ts';

/**
 * The docusign connector through docusign-esign against the DocuSign fake, in a real hub: the JWT
 * grant's consent link on the connections page, one refresh for a burst of calls, Connect HMAC with
 * two keys, and sends that wait out a spent hourly budget.
 */
const available = await services();
const CHROMIUM = '/usr/bin/chromium';
const haveBrowser = fs.existsSync(CHROMIUM) && fs.existsSync(path.join(UI_DIST, 'index.html'));
const SHOTS = path.join(ARTIFACTS, 'screenshots');
const { userId, accountIds } = seedIds('demo');
const ACCOUNT = accountIds[0]!;

describe('DocuSign connector', { skip: available.postgres ? false : 'needs PostgreSQL' }, () => {
  let fake: RunningFake<DocusignFakeState>;
  let environment: Environment;
  let hub: Hub;
  let ctl: ReturnType<typeof dsControl>;
  let templateId: string;
  let hmacKeys: string[];

  const events = async (type: string) =>
    queryHub<{ id: string; data: any }>(environment, 'select id, data from events where type = $1 order by received_at', [type]);
  const connection = async (id: string) => (await api(hub, 'GET', `/api/v1/connections/${id}`)).json;

  before(async () => {
    fake = await startDocusignFake();
    trustFake(fake);
    forgetDocusignCaches();
    ctl = dsControl(fake);
    const pair = await ctl('POST', `/integration-keys/${DEMO_INTEGRATION_KEY}/rsa-keys`, {});
    const state = await ctl('GET', '/state');
    templateId = state.accounts.find((a: any) => a.accountId === ACCOUNT).templates[0];
    hmacKeys = [
      (await ctl('POST', `/accounts/${ACCOUNT}/hmac-keys`, {})).key,
      (await ctl('POST', `/accounts/${ACCOUNT}/hmac-keys`, {})).key,
    ];
    const port = await freePort();
    environment = await prepareEnvironment({ name: 'docusign', store: 'external', queue: 'postgres' }, 'docusign', {
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DINGBRIDGE_STEP_ATTEMPTS: '3',
    });
    const yaml = `version: 1
connections:
  - id: ds-jwt
    connector: docusign
    label: DocuSign (JWT)
    settings:
      clientId: ${DEMO_INTEGRATION_KEY}
      userId: ${userId}
      oauthBaseUrl: ${fake.baseUrl()}
      consentRedirectUri: http://127.0.0.1:${port}/ui/
    secrets:
      privateKey: ${JSON.stringify(pair.privateKeyPem)}
      hmacKeys: ${hmacKeys.join(',')}
hooks:
  - id: contracts
    name: Contracts to send
flows:
  - id: send-contract
    when:
      event: catch_hook.received
      source: contracts
    then:
      - action: docusign.envelope.send
        connection: ds-jwt
        input:
          emailSubject: "{{ data.subject }}"
          templateId: "{{ data.templateId }}"
          roles:
            - roleName: Signer
              name: "{{ data.name }}"
              email: "{{ data.email }}"
            - roleName: Counter-signer
              name: Dana Sender
              email: dana.sender@example.com
  - id: voided-envelopes
    when:
      event: docusign.envelope.voided
      source: ds-jwt
    then:
      - action: docusign.envelope.get
        connection: ds-jwt
        input:
          envelopeId: "{{ data.envelopeId }}"
`;
    environment.env.DINGBRIDGE_CONFIG = writeConfig(tempDir('docusign'), yaml);
    hub = await startTestHub(environment);
  });
  after(async () => {
    await hub?.stop();
    await fake?.stop();
    await environment?.cleanup();
  });

  test('JWT: consent_required → the connections page shows the consent link → after consent the connection works', async () => {
    const refused = await api(hub, 'POST', '/api/v1/connections/ds-jwt/test');
    assert.equal(refused.status, 502, JSON.stringify(refused.json));
    assert.match(refused.json.error.message, /consent_required/);
    const conn = await connection('ds-jwt');
    assert.ok(conn.actionLink, 'the API gives the UI a link to open');
    const link = new URL(conn.actionLink.url);
    assert.equal(link.origin, fake.baseUrl());
    assert.equal(link.pathname, '/oauth/auth');
    assert.equal(link.searchParams.get('scope'), 'signature impersonation');
    assert.equal(link.searchParams.get('client_id'), DEMO_INTEGRATION_KEY);
    assert.ok(!JSON.stringify(conn).includes('PRIVATE KEY'), 'the private key never leaves the vault');

    if (haveBrowser) {
      fs.mkdirSync(SHOTS, { recursive: true });
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
      });
      try {
        const page = await (await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-GB' })).newPage();
        await page.goto(`${hub.url}/`);
        await page.getByLabel('Your name').fill('Olivia Owner');
        await page.getByLabel('Email').fill('owner@example.com');
        await page.getByLabel('Password').fill('owner password 123');
        await page.getByLabel('Admin token').fill(TEST_ADMIN_TOKEN);
        await page.getByRole('button', { name: 'Create owner account' }).click();
        await page.getByRole('heading', { name: 'Flows' }).waitFor();
        await page.getByRole('link', { name: 'Connections' }).first().click();
        const shown = page.locator('[data-connection="ds-jwt"] [data-action-link]');
        await shown.waitFor();
        assert.equal(await shown.getAttribute('href'), conn.actionLink.url);
        await page.screenshot({ path: path.join(SHOTS, 'docusign-consent-link.png'), fullPage: true });
      } finally {
        await browser.close();
      }
    }

    // The user opens the link and grants consent at DocuSign (the fake redirects back with a code).
    const consent = await httpsCall(fake, 'GET', conn.actionLink.url);
    assert.equal(consent.status, 302, consent.body.toString());
    const ok = await api(hub, 'POST', '/api/v1/connections/ds-jwt/test');
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.equal(ok.json.details.accountId, ACCOUNT, 'the default account from userinfo');
    assert.ok(ok.json.details.templates >= 1);
    const after = await connection('ds-jwt');
    assert.equal(after.actionLink, undefined);
    assert.equal(after.lastError, null);
    assert.equal(after.settings.accountId, ACCOUNT);
    assert.equal(after.settings.baseUri, fake.baseUrl());
  });

  test('a token expiring mid-burst is refreshed once (one new JWT assertion for 12 concurrent calls)', async () => {
    const jwtGrants = async () =>
      (await ctl('GET', '/oauth/counters')).tokensIssued['urn:ietf:params:oauth:grant-type:jwt-bearer'] as number;
    const made = await runAction(hub, 'docusign.envelope.send', 'ds-jwt', {
      emailSubject: 'Burst target',
      templateId,
      roles: [{ roleName: 'Signer', name: 'Ann Lee', email: 'ann@example.com' }],
      status: 'created',
    });
    const before = await jwtGrants();
    await ctl('POST', '/oauth/expire-access-tokens', {});
    const got = await Promise.all(
      Array.from({ length: 12 }, () => runAction(hub, 'docusign.envelope.get', 'ds-jwt', { envelopeId: made.envelopeId })),
    );
    assert.ok(got.every((g) => g.envelopeId === made.envelopeId && g.status === 'created'));
    assert.equal((await jwtGrants()) - before, 1);
  });

  test('without Connect, the status poll (listStatusChanges from its cursor) brings the change in', async () => {
    const poller = await waitUntil(async () => {
      const list = (await api(hub, 'GET', '/api/v1/triggers')).json.triggers as any[];
      return list.find((t) => t.kind === 'poll' && t.connection === 'ds-jwt');
    }, 'the DocuSign poller');
    // Its first poll ran before consent and failed (retried in 15 minutes): poll now, which sets the cursor.
    const cursor = async () =>
      (await queryHub<{ cursor: string | null }>(environment, 'select cursor from trigger_pollers where id = $1', [poller.id]))[0]?.cursor;
    assert.equal((await api(hub, 'POST', `/api/v1/triggers/${poller.id}/poll`)).status, 202);
    const first = await waitUntil(cursor, 'the first cursor');
    const made = await runAction(hub, 'docusign.envelope.send', 'ds-jwt', {
      emailSubject: 'Polled lease',
      templateId,
      roles: [{ roleName: 'Signer', name: 'Cy Ho', email: 'cy@example.com' }],
    });
    await ctl('POST', `/envelopes/${made.envelopeId}/void`, { reason: 'Wrong tenant' });
    assert.equal((await api(hub, 'POST', `/api/v1/triggers/${poller.id}/poll`)).status, 202);
    const voided = await waitUntil(
      async () => (await events('docusign.envelope.voided')).find((e) => e.data.envelopeId === made.envelopeId),
      'the voided envelope polled',
    );
    assert.equal(voided.data.reason, 'Wrong tenant');
    assert.notEqual(await cursor(), first, 'the cursor moved on');
    assert.equal(voided.data.envelope.subject, 'Polled lease');
    // The flow on it ran (a get of the envelope), once.
    await waitUntil(async () => {
      const runs = await queryHub<{ status: string }>(environment, 'select status from step_runs where event_id = $1', [voided.id]);
      return runs.length === 1 && runs[0]!.status === 'succeeded';
    }, 'the voided flow ran');
  });

  test('Connect: accepted under either of two HMAC keys, refused with a flipped byte or a wrong key (nothing stored); a retried delivery is one event', async () => {
    const envelopeId = crypto.randomUUID();
    const message = (retryCount: number) =>
      Buffer.from(
        JSON.stringify({
          event: 'envelope-completed',
          apiVersion: 'v2.1',
          uri: `/restapi/v2.1/accounts/${ACCOUNT}/envelopes/${envelopeId}`,
          retryCount,
          configurationId: 10001,
          generatedDateTime: '2026-12-06T10:00:00.000Z',
          data: {
            accountId: ACCOUNT,
            userId,
            envelopeId,
            envelopeSummary: {
              envelopeId,
              status: 'completed',
              emailSubject: 'Lease',
              customFields: { textCustomFields: [{ name: 'ref', value: 'L-1' }] },
            },
          },
        }),
      );
    const post = (body: Buffer, signatures: string[]) =>
      fetch(`${hub.url}/webhooks/docusign`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...Object.fromEntries(signatures.map((s, i) => [`x-docusign-signature-${i + 1}`, s])),
        },
        body: new Uint8Array(body),
      });
    const stored = async () => (await events('docusign.envelope.completed')).filter((e) => e.data.envelopeId === envelopeId);

    const body = message(0);
    const flipped = Buffer.from(body);
    flipped[40] ^= 1;
    assert.equal((await post(flipped, [connectSignature(hmacKeys[0]!, body)])).status, 401, 'a flipped byte');
    assert.equal((await post(body, [connectSignature('not-the-key', body)])).status, 401, 'a wrong key');
    assert.equal((await post(body, [])).status, 401, 'no signature');
    assert.equal((await stored()).length, 0, 'nothing stored');

    // Under the second key only (the first one already retired at DocuSign), then the first only.
    assert.equal((await post(body, [connectSignature(hmacKeys[1]!, body)])).status, 200);
    assert.equal((await stored()).length, 1, 'stored before the 200');
    const retry = message(1);
    assert.equal((await post(retry, [connectSignature(hmacKeys[0]!, retry)])).status, 200);
    assert.equal((await post(retry, [connectSignature('old', retry), connectSignature(hmacKeys[0]!, retry)])).status, 200);
    const one = await stored();
    assert.equal(one.length, 1, 'the retried delivery is the same event');
    assert.equal(one[0]!.data.customFields.ref, 'L-1');
    assert.equal(one[0]!.data.envelope.subject, 'Lease');

    // The fake's own Connect: its messages (signed under both keys) are accepted; republishing one adds nothing.
    await ctl('POST', `/accounts/${ACCOUNT}/connect`, {
      urlToPublishTo: `${hub.url}/webhooks/docusign`,
      eventData: { includeData: ['custom_fields', 'recipients'] },
    });
    const sent = await runAction(hub, 'docusign.envelope.send', 'ds-jwt', {
      emailSubject: 'Connect check',
      templateId,
      roles: [{ roleName: 'Signer', name: 'Bo Chan', email: 'bo@example.com' }],
    });
    await ctl('POST', `/envelopes/${sent.envelopeId}/complete`, {});
    const completed = await waitUntil(
      async () => (await events('docusign.envelope.completed')).find((e) => e.data.envelopeId === sent.envelopeId),
      'the completed event from the fake',
    );
    assert.equal(completed.data.status, 'completed');
    const signed = await waitUntil(
      async () => (await events('docusign.recipient.completed')).find((e) => e.data.envelopeId === sent.envelopeId),
      "the signer's recipient-completed event",
    );
    assert.equal(signed.data.recipient.email, 'bo@example.com');
    const deliveries = (await ctl('GET', `/connect/deliveries?envelopeId=${sent.envelopeId}&event=envelope-completed`)).deliveries;
    assert.equal(deliveries[0].status, 'delivered');
    await ctl('POST', `/connect/deliveries/${deliveries[0].id}/republish`, {});
    await ctl('POST', '/connect/drain', { timeoutMs: 10_000 });
    assert.equal((await events('docusign.envelope.completed')).filter((e) => e.data.envelopeId === sent.envelopeId).length, 1);
  });

  test('with the hourly budget nearly spent, sends wait for the reset instead of failing', async () => {
    const subject = `Budget ${crypto.randomBytes(3).toString('hex')}`;
    const resetInSec = 6;
    await ctl('PUT', `/accounts/${ACCOUNT}/rate-limit`, { remaining: 3, resetInSec });
    const resetAt = Date.now() + resetInSec * 1000;
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${hub.url}/hooks/catch/contracts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ subject: `${subject} #${i}`, templateId, name: `Signer ${i}`, email: `s${i}@example.com` }),
      });
      assert.equal(res.status, 200);
    }
    const runs = await waitUntil(
      async () => {
        const rows = await queryHub<{ status: string; attempts: number; last_error: string | null }>(
          environment,
          `select s.status, s.attempts, s.last_error from step_runs s join events e on e.id = s.event_id
            where s.action = 'docusign.envelope.send' and e.data->>'subject' like $1`,
          [`${subject}%`],
        );
        return rows.length === 8 && rows.every((r) => r.status === 'succeeded' || r.status === 'dead') && rows;
      },
      'eight sends finished',
      60_000,
    );
    assert.deepEqual(
      runs.map((r) => r.status),
      Array(8).fill('succeeded'),
      JSON.stringify(runs),
    );
    const made = (await ctl('GET', '/envelopes')).envelopes.filter((e: any) => String(e.emailSubject).startsWith(subject));
    assert.equal(made.length, 8, 'every send made one envelope');
    const envelopes = await Promise.all(made.map((e: any) => ctl('GET', `/envelopes/${e.envelopeId}`)));
    const afterReset = envelopes.filter((e: any) => Date.parse(e.createdDateTime) >= resetAt - 1000);
    assert.ok(afterReset.length >= 5, `most sends waited for the reset (${afterReset.length} after it)`);
    assert.ok(
      runs.every((r) => r.attempts <= 3),
      'waiting spent no attempts',
    );
  });
  test('an account moved to another site: the base URI is looked up again from userinfo and the call goes through', async () => {
    await ctl('PUT', `/accounts/${ACCOUNT}`, { site: 'na4' });
    const made = await runAction(hub, 'docusign.envelope.send', 'ds-jwt', {
      emailSubject: 'After the move',
      templateId,
      roles: [{ roleName: 'Signer', name: 'Di Wu', email: 'di@example.com' }],
      status: 'created',
    });
    const got = await runAction(hub, 'docusign.envelope.get', 'ds-jwt', { envelopeId: made.envelopeId });
    assert.equal(got.emailSubject, 'After the move');
    const calls = (await httpsCall(fake, 'GET', `${fake.baseUrl()}/__sandbox/calls?method=POST`)).json.calls.filter((c: any) =>
      /\/envelopes$/.test(c.path),
    );
    assert.ok(calls.at(-1).path.startsWith('/na4/restapi/'), `the create went to the new site (${calls.at(-1).path})`);
  });
});
