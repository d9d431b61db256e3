import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { drive } from '@googleapis/drive';
import { OAuth2Client } from 'google-auth-library';
import { startGoogleFake, DEFAULT_GOOGLE_CLIENT, type GoogleState } from '../sandbox/google/index.ts';
import type { RunningFake } from '../sandbox/framework/index.ts';
import type { Hub } from '../app/hub.ts';
import { requestPoll } from '../core/triggers/pollers.ts';
import { MODES, prepareEnvironment, startTestHub, tempDir, waitUntil, writeConfig, type Environment } from './helpers/hub.ts';
import { services } from './helpers/services.ts';
import { freePort } from './helpers/ports.ts';
import { startSink, type Sink } from './helpers/sink.ts';
import { consentRefreshToken, googleConnectionYaml, googleControl } from './google-support.ts';

const available = await services();
const FOLDER = 'application/vnd.google-apps.folder';

describe('Google Drive trigger: file added or changed in a folder (changes feed)', {
  skip: available.postgres ? false : 'needs PostgreSQL',
}, () => {
  let fake: RunningFake<GoogleState>;
  let base: string;
  let environment: Environment;
  let hub: Hub;
  let sink: Sink;
  let ctl: ReturnType<typeof googleControl>;
  let me: ReturnType<typeof drive>;
  const ids: Record<string, string> = {};

  const mkFolder = async (name: string, parent?: string) =>
    (
      await me.files.create({
        requestBody: { name, mimeType: FOLDER, ...(parent ? { parents: [parent] } : {}) },
        supportsAllDrives: true,
        fields: 'id',
      })
    ).data.id!;
  const upload = async (name: string, parent: string, text = `content of ${name}`) =>
    (
      await me.files.create(
        {
          requestBody: { name, parents: [parent] },
          media: { mimeType: 'text/plain', body: Readable.from([Buffer.from(text)]) },
          supportsAllDrives: true,
          fields: 'id',
        },
        { rootUrl: `${base}/` },
      )
    ).data.id!;

  before(async () => {
    fake = await startGoogleFake();
    base = fake.baseUrl();
    ctl = googleControl(base);
    sink = await startSink();
    const refreshToken = await consentRefreshToken(base);
    const auth = new OAuth2Client({ ...DEFAULT_GOOGLE_CLIENT, endpoints: { oauth2TokenUrl: `${base}/token` } });
    auth.setCredentials({ refresh_token: refreshToken });
    me = drive({ version: 'v3', auth, rootUrl: `${base}/` });
    ids.watched = await mkFolder('Inbox');
    ids.elsewhere = await mkFolder('Elsewhere');
    ids.tree = await mkFolder('Projects');
    ids.already = await upload('already-there.txt', ids.watched);
    ids.waiting = await upload('to-be-moved.txt', ids.elsewhere);
    const shared = await ctl<{ id: string }>('POST', '/drives', { name: 'Finance', members: ['demo@example.com'] });
    ids.sharedDrive = shared.id;
    ids.sharedFolder = await mkFolder('Invoices', shared.id);
    ids.sharedAlready = await upload('old-invoice.pdf', ids.sharedFolder);
    const post = (flow: string) => `
      - action: http.post
        input: { url: "${sink.url}", body: { flow: ${flow}, type: "{{ type }}", id: "{{ data.fileId }}", name: "{{ data.name }}", link: "{{ data.link }}", driveId: "{{ data.driveId }}" } }`;
    const port = await freePort();
    // Push channels at the test hub's http address (Google itself pushes only to https: GOOGLE_DRIVE_PUSH=auto).
    process.env.GOOGLE_DRIVE_PUSH = 'always';
    environment = await prepareEnvironment(MODES[0]!, 'google-drive-trigger', {
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DINGBRIDGE_TRIGGER_CHECK_MS: '2000',
      DINGBRIDGE_POLL_INTERVAL_MS: '600000',
    });
    environment.env.DINGBRIDGE_CONFIG = writeConfig(
      tempDir('google-drive-trigger'),
      `version: 1
connections:${googleConnectionYaml(base, refreshToken)}
flows:
  - id: inbox
    when: { event: "google.drive.file.*", source: google, params: { folder: "${ids.watched}" } }
    then:${post('inbox')}
  - id: invoices
    when: { event: google.drive.file.added, source: google, params: { folder: "${ids.sharedFolder}" } }
    then:${post('invoices')}
  - id: projects
    when: { event: google.drive.file.added, source: google, params: { folder: "${ids.tree}", subfolders: "true" } }
    then:${post('projects')}
`,
    );
    hub = await startTestHub(environment);
    // The first poll of each poller records what is there (and announces nothing).
    await waitUntil(async () => {
      const rows = await pollers();
      return rows.length === 3 && rows.every((r) => r.cursor && r.status === 'ok');
    }, 'three pollers with a baseline cursor');
  });
  after(async () => {
    await hub?.stop();
    await fake?.stop();
    await sink?.close();
    await environment?.cleanup();
    delete process.env.GOOGLE_DRIVE_PUSH;
  });

  const pollers = () => hub.runtime.db.selectFrom('trigger_pollers').selectAll().execute();
  /** Polls every Drive poller now and waits until each has polled (no sleeping on the clock). */
  const pollAll = async () => {
    const rows = await pollers();
    const before = new Map(rows.map((r) => [r.id, r.last_poll_at?.getTime() ?? 0]));
    for (const r of rows) await requestPoll(hub.runtime, r.id);
    await waitUntil(async () => {
      const now = await pollers();
      return now.every((r) => (r.last_poll_at?.getTime() ?? 0) > before.get(r.id)!);
    }, 'every poller polled');
  };
  const events = async (type?: string) =>
    (
      await hub.runtime.db
        .selectFrom('events')
        .select(['type', 'data', 'subject'])
        .where('source', '=', 'google')
        .orderBy('received_at')
        .execute()
    ).filter((e) => !type || e.type === type) as Array<{ type: string; data: any; subject: string }>;
  const delivered = (flow: string) => sink.requests.map((r) => r.json as any).filter((j) => j?.flow === flow);

  test('files already in the folders when the flows start are not announced', async () => {
    await pollAll();
    assert.deepEqual(await events(), []);
  });

  test('added by upload, by a move-in, by a desktop sync with old times, and in a shared drive: each seen once; a later edit is "changed"', async () => {
    const uploaded = await upload('report.pdf', ids.watched);
    await me.files.update({ fileId: ids.waiting, addParents: ids.watched, removeParents: ids.elsewhere, supportsAllDrives: true });
    const synced = await ctl<{ id: string }>('POST', '/files', {
      owner: 'demo@example.com',
      name: 'scan-2019.jpg',
      parents: [ids.watched],
      content: 'old photo',
      createdTime: '2019-03-01T10:00:00Z',
      modifiedTime: '2019-03-01T10:00:00Z',
    });
    const invoice = await upload('invoice-0042.pdf', ids.sharedFolder);
    await upload('not-watched.txt', ids.elsewhere);
    await pollAll();
    await pollAll(); // a second poll finds nothing new
    const added = await events('google.drive.file.added');
    const byFolder = (f: string) =>
      added
        .filter((e) => e.data.folder === f)
        .map((e) => e.data.name)
        .sort();
    assert.deepEqual(byFolder(ids.watched), ['report.pdf', 'scan-2019.jpg', 'to-be-moved.txt']);
    assert.deepEqual(byFolder(ids.sharedFolder), ['invoice-0042.pdf']);
    const inv = added.find((e) => e.data.fileId === invoice)!;
    assert.equal(inv.data.driveId, ids.sharedDrive);
    assert.match(inv.data.link, /^https:\/\/drive\.google\.com\/file\/d\//);
    assert.equal(
      Date.parse(added.find((e) => e.data.fileId === synced.id)!.data.createdTime),
      Date.parse('2019-03-01T10:00:00Z'),
      'old times, still seen',
    );
    await waitUntil(() => delivered('inbox').length === 3 && delivered('invoices').length === 1, 'the flows ran once per file');
    assert.deepEqual(
      delivered('inbox')
        .map((d) => d.id)
        .sort(),
      [uploaded, ids.waiting, synced.id].sort(),
    );

    await me.files.update({ fileId: uploaded, requestBody: { name: 'report-final.pdf' } });
    await pollAll();
    const changed = await events('google.drive.file.changed');
    assert.deepEqual(
      changed.map((e) => e.data.name),
      ['report-final.pdf'],
    );
    assert.equal((await events('google.drive.file.added')).length, 4, 'the rename is not a second "added"');
    await waitUntil(() => delivered('inbox').some((d) => d.type === 'google.drive.file.changed'), 'the changed event ran the inbox flow');
  });

  test('a file moved out of the folder is "removed"; moved back in, it is added again', async () => {
    await me.files.update({ fileId: ids.already, addParents: ids.elsewhere, removeParents: ids.watched });
    await pollAll();
    assert.deepEqual(
      (await events('google.drive.file.removed')).map((e) => e.data.fileId),
      [ids.already],
    );
    await me.files.update({ fileId: ids.already, addParents: ids.watched, removeParents: ids.elsewhere });
    await pollAll();
    assert.equal((await events('google.drive.file.added')).filter((e) => e.data.fileId === ids.already).length, 1);
  });

  test('subfolders: "true" watches folders below, including one made after the flow started', async () => {
    const sub = await mkFolder('Alpha', ids.tree);
    const deeper = await mkFolder('Specs', sub);
    await upload('spec.md', deeper);
    await upload('top.md', ids.tree);
    await pollAll();
    const names = (await events('google.drive.file.added'))
      .filter((e) => e.data.folder === ids.tree)
      .map((e) => e.data.name)
      .sort();
    assert.deepEqual(names, ['spec.md', 'top.md']);
    const inbox = (await events('google.drive.file.added')).filter((e) => e.data.folder === ids.watched).length;
    assert.equal(inbox, 4, 'the other folder saw none of these');
  });

  test('push: a changes.watch channel per folder; a "change" notification polls at once (the poll interval is 10 minutes here)', async () => {
    const subs = await waitUntil(async () => {
      const rows = await hub.runtime.db.selectFrom('trigger_subscriptions').selectAll().execute();
      return (
        rows.length === 3 && rows.every((r) => r.status === 'active' && r.external_id && !r.external_id.startsWith('poll-only')) && rows
      );
    }, 'three Drive channels');
    const channels = (await ctl<{ channels: any[] }>('GET', '/channels')).channels;
    for (const s of subs)
      assert.ok(
        channels.some((c) => c.id === s.external_id),
        'the channel exists at Google',
      );
    const before = (await events('google.drive.file.added')).length;
    const id = await upload('pushed.txt', ids.watched);
    await waitUntil(
      async () => (await events('google.drive.file.added')).some((e) => e.data.fileId === id),
      'the file announced without a requested poll',
      30_000,
    );
    assert.equal((await events('google.drive.file.added')).length, before + 1);
    const deliveries = (await ctl<{ deliveries: any[] }>('GET', '/deliveries')).deliveries;
    assert.ok(
      deliveries.some((d) => d.resourceState === 'change' && d.status === 200),
      "Google's notification was accepted",
    );
  });

  test('the pollers show their health (status ok, a cursor, no error) for the Triggers page', async () => {
    const rows = await pollers();
    assert.equal(rows.length, 3);
    for (const r of rows) {
      assert.equal(r.status, 'ok');
      assert.equal(r.last_error, null);
      assert.ok(JSON.parse(r.cursor!).t);
    }
  });
});
