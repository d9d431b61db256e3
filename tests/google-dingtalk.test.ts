import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { drive } from '@googleapis/drive';
import { OAuth2Client } from 'google-auth-library';
import { startGoogleFake, DEFAULT_GOOGLE_CLIENT, type GoogleState } from '../sandbox/google/index.ts';
import { startDingtalkFake, SEED, type RunningDingtalkFake } from '../sandbox/dingtalk/index.ts';
import type { RunningFake } from '../sandbox/framework/index.ts';
import type { Hub } from '../app/hub.ts';
import { requestPoll } from '../core/triggers/pollers.ts';
import { MODES, ROOT, prepareEnvironment, startTestHub, tempDir, waitUntil, writeConfig, type Environment } from './helpers/hub.ts';
import { services } from './helpers/services.ts';
import { consentRefreshToken, googleControl } from './google-support.ts';

const available = await services();

describe('Google → DingTalk (examples/google-dingtalk.yaml)', { skip: available.postgres ? false : 'needs PostgreSQL' }, () => {
  let google: RunningFake<GoogleState>;
  let dingtalk: RunningDingtalkFake;
  let environment: Environment;
  let hub: Hub;
  let me: ReturnType<typeof drive>;
  let folder: string;
  let elsewhere: string;
  let base: string;

  const robotMessages = async () => (await dingtalk.control<{ messages: any[] }>('GET', `/robots/${SEED.robotToken}/messages`)).messages;
  const robotText = (m: any) => JSON.stringify(m.raw ?? m.body ?? m);
  const pollers = () => hub.runtime.db.selectFrom('trigger_pollers').selectAll().execute();
  const pollAll = async () => {
    const rows = await pollers();
    const before = new Map(rows.map((r) => [r.id, r.last_poll_at?.getTime() ?? 0]));
    for (const r of rows) await requestPoll(hub.runtime, r.id);
    await waitUntil(
      async () => (await pollers()).every((r) => (r.last_poll_at?.getTime() ?? 0) > before.get(r.id)!),
      'every poller polled',
    );
  };
  const upload = async (name: string, parent: string) =>
    (
      await me.files.create(
        {
          requestBody: { name, parents: [parent] },
          media: { mimeType: 'application/pdf', body: Readable.from([Buffer.from(`%PDF ${name}`)]) },
          fields: 'id',
        },
        { rootUrl: `${base}/` },
      )
    ).data.id!;

  before(async () => {
    google = await startGoogleFake();
    base = google.baseUrl();
    dingtalk = await startDingtalkFake();
    const refreshToken = await consentRefreshToken(base);
    const auth = new OAuth2Client({ ...DEFAULT_GOOGLE_CLIENT, endpoints: { oauth2TokenUrl: `${base}/token` } });
    auth.setCredentials({ refresh_token: refreshToken });
    me = drive({ version: 'v3', auth, rootUrl: `${base}/` });
    const mk = async (name: string) =>
      (await me.files.create({ requestBody: { name, mimeType: 'application/vnd.google-apps.folder' }, fields: 'id' })).data.id!;
    folder = await mk('Shared with the team');
    elsewhere = await mk('My scans');
    await upload('already-here.pdf', folder);
    // Only the variables the example names (plus the test hub's own: database, port, fast timings).
    environment = await prepareEnvironment(MODES[0]!, 'google-dingtalk', {
      GOOGLE_CLIENT_ID: DEFAULT_GOOGLE_CLIENT.clientId,
      GOOGLE_CLIENT_SECRET: DEFAULT_GOOGLE_CLIENT.clientSecret,
      GOOGLE_REFRESH_TOKEN: refreshToken,
      GOOGLE_DRIVE_FOLDER_ID: folder,
      GOOGLE_BASE_URL: base,
      GOOGLE_OAUTH_BASE_URL: base,
      DINGTALK_ROBOT_TOKEN: SEED.robotToken,
      DINGTALK_ROBOT_SECRET: SEED.robotSecret,
      DINGTALK_OAPI_BASE_URL: dingtalk.baseUrl(),
    });
    // The example as shipped, plus the Gmail recipe on the same connections.
    const yaml = `${fs.readFileSync(path.join(ROOT, 'examples/google-dingtalk.yaml'), 'utf8')}
  - use: google-gmail-to-dingtalk
    id: customer-mail
    fields: { google: google, query: "from:@customer.example", robot: dingtalk-robot, owner: manager4220 }
`;
    environment.env.DINGBRIDGE_CONFIG = writeConfig(tempDir('google-dingtalk'), yaml);
    hub = await startTestHub(environment, { http: false });
    await waitUntil(async () => {
      const rows = await pollers();
      return rows.length === 2 && rows.every((r) => r.cursor);
    }, 'the Drive and Gmail pollers took their baseline');
  });
  after(async () => {
    await hub?.stop();
    await google?.stop();
    await dingtalk?.stop();
    await environment?.cleanup();
  });

  test('a new file and a file moved into the folder → one DingTalk group message each, with name and link; the file already there is not announced', async () => {
    const fresh = await upload('Q4 report.pdf', folder);
    const moved = await upload('contract-signed.pdf', elsewhere);
    await me.files.update({ fileId: moved, addParents: folder, removeParents: elsewhere });
    await pollAll();
    const msgs = await waitUntil(async () => {
      const m = await robotMessages();
      return m.length >= 2 && m;
    }, 'two robot messages');
    await pollAll();
    assert.equal((await robotMessages()).length, 2, 'nothing else was announced');
    const texts = msgs.map(robotText).join('\n');
    assert.match(texts, /Q4 report\.pdf/);
    assert.match(texts, /contract-signed\.pdf/);
    assert.ok(texts.includes(`https://drive.google.com/file/d/${fresh}/view`), 'the link to the new file');
    assert.ok(texts.includes(`https://drive.google.com/file/d/${moved}/view`), 'the link to the moved file');
    assert.doesNotMatch(texts, /already-here/);
    assert.equal(msgs[0].msgtype ?? msgs[0].raw?.msgtype, 'actionCard');
  });

  test('the Gmail recipe: mail from the customer domain → a DingTalk message mentioning the owner, with subject, sender and link', async () => {
    const ctl = googleControl(base);
    const before = (await robotMessages()).length;
    await ctl('POST', '/mail', {
      to: 'demo@example.com',
      from: 'Mei Ling <meiling@customer.example>',
      subject: 'PO 7781 approved',
      text: 'Please ship by Friday.',
    });
    await ctl('POST', '/mail', { to: 'demo@example.com', from: 'news@vendor.example', subject: 'Digest', text: 'x' });
    await pollAll();
    const msgs = await waitUntil(async () => {
      const m = await robotMessages();
      return m.length > before && m.slice(before);
    }, 'the mail message');
    await pollAll();
    assert.equal((await robotMessages()).length, before + 1, 'only the customer mail');
    const text = robotText(msgs[0]);
    assert.match(text, /PO 7781 approved/);
    assert.match(text, /meiling@customer\.example/);
    assert.match(text, /https:\/\/mail\.google\.com\/mail\//);
    assert.match(text, /manager4220/);
  });

  test('without PUBLIC_URL nothing fails: no push channel is wanted, both pollers are healthy', async () => {
    assert.deepEqual(await hub.runtime.db.selectFrom('trigger_subscriptions').select('id').execute(), []);
    const failed = await hub.runtime.db.selectFrom('events').select('type').where('type', '=', 'hub.trigger.failed').execute();
    assert.deepEqual(failed, []);
    for (const p of await pollers()) assert.equal(p.status, 'ok');
  });
});
