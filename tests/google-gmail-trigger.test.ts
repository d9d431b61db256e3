import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGoogleFake, type GoogleState } from '../sandbox/google/index.ts';
import type { RunningFake } from '../sandbox/framework/index.ts';
import type { Hub } from '../app/hub.ts';
import { requestPoll } from '../core/triggers/pollers.ts';
import { MODES, prepareEnvironment, startTestHub, tempDir, waitUntil, writeConfig, type Environment } from './helpers/hub.ts';
import { services } from './helpers/services.ts';
import { startSink, type Sink } from './helpers/sink.ts';
import { consentRefreshToken, googleConnectionYaml, googleControl } from './google-support.ts';

const available = await services();

describe('Gmail trigger: new message matching a search (history.list)', { skip: available.postgres ? false : 'needs PostgreSQL' }, () => {
  let fake: RunningFake<GoogleState>;
  let environment: Environment;
  let hub: Hub;
  let sink: Sink;
  let ctl: ReturnType<typeof googleControl>;
  const mail = (from: string, subject: string, text = 'hello') => ctl('POST', '/mail', { to: 'demo@example.com', from, subject, text });

  before(async () => {
    fake = await startGoogleFake();
    const base = fake.baseUrl();
    ctl = googleControl(base);
    sink = await startSink();
    const refreshToken = await consentRefreshToken(base);
    await mail('Mei Ling <meiling@customer.example>', 'Sent before the flow started');
    environment = await prepareEnvironment(MODES[0]!, 'google-gmail-trigger');
    environment.env.DINGBRIDGE_CONFIG = writeConfig(
      tempDir('google-gmail-trigger'),
      `version: 1
connections:${googleConnectionYaml(base, refreshToken)}
flows:
  - id: customer-mail
    when: { event: google.gmail.message.received, source: google, params: { query: "from:@customer.example" } }
    then:
      - action: http.post
        input: { url: "${sink.url}", body: { subject: "{{ data.subject }}", from: "{{ data.fromEmail }}", link: "{{ data.link }}", id: "{{ data.messageId }}", thread: "{{ data.threadId }}", snippet: "{{ data.snippet }}" } }
`,
    );
    hub = await startTestHub(environment, { http: false });
    await waitUntil(async () => (await poller())?.cursor, 'the first poll took the history id');
  });
  after(async () => {
    await hub?.stop();
    await fake?.stop();
    await sink?.close();
    await environment?.cleanup();
  });

  const poller = async () => (await hub.runtime.db.selectFrom('trigger_pollers').selectAll().execute())[0];
  const pollNow = async () => {
    const row = (await poller())!;
    const before = row.last_poll_at?.getTime() ?? 0;
    await requestPoll(hub.runtime, row.id);
    await waitUntil(async () => ((await poller())!.last_poll_at?.getTime() ?? 0) > before, 'a poll');
  };
  const events = () =>
    hub.runtime.db.selectFrom('events').select(['type', 'data']).where('source', '=', 'google').orderBy('received_at').execute();

  test('mail from the customer domain is announced once with subject, sender, snippet and link; other mail and older mail are not', async () => {
    await mail('Mei Ling <meiling@customer.example>', '訂單確認 Order 7781', 'We confirm the order of 200 units.');
    await mail('Newsletter <news@vendor.example>', 'Weekly digest');
    await mail('"Wong, Ka Ho" <kaho@customer.example>', 'Invoice question');
    await pollNow();
    await pollNow();
    const got = await events();
    assert.deepEqual(got.map((e) => (e.data as any).subject).sort(), ['Invoice question', '訂單確認 Order 7781']);
    const first = got.find((e) => (e.data as any).subject.startsWith('訂單'))!.data as any;
    assert.equal(first.fromEmail, 'meiling@customer.example');
    assert.equal(first.fromName, 'Mei Ling');
    assert.match(first.snippet, /200 units/);
    assert.match(first.link, /^https:\/\/mail\.google\.com\/mail\/u\/demo%40example\.com\/#all\//);
    assert.ok(first.threadId);
    await waitUntil(() => sink.requests.length === 2, 'the flow ran twice');
    assert.ok(
      sink.requests.some((r) => (r.json as any).subject === '訂單確認 Order 7781' && (r.json as any).from === 'meiling@customer.example'),
    );
  });

  test('history Gmail no longer keeps (404): mail from the gap is still found by a search, and the trigger keeps going', async () => {
    const before = (await events()).length;
    await mail('Mei Ling <meiling@customer.example>', 'In the gap');
    await ctl('POST', '/mail/expire-history', { email: 'demo@example.com' });
    await pollNow();
    await mail('Mei Ling <meiling@customer.example>', 'After the gap');
    await pollNow();
    const subjects = (await events()).slice(before).map((e) => (e.data as any).subject);
    assert.deepEqual(subjects.sort(), ['After the gap', 'In the gap']);
    const row = (await poller())!;
    assert.equal(row.status, 'ok');
    assert.equal(row.last_error, null);
  });
});
