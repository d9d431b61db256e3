import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { drive } from '@googleapis/drive';
import { OAuth2Client } from 'google-auth-library';
import { startGoogleFake, DEFAULT_GOOGLE_CLIENT, type GoogleState } from '../sandbox/google/index.ts';
import type { RunningFake } from '../sandbox/framework/index.ts';
import type { Hub } from '../app/hub.ts';
import { MODES, prepareEnvironment, startTestHub, tempDir, writeConfig, type Environment } from './helpers/hub.ts';
import { services } from './helpers/services.ts';
import { consentRefreshToken, googleConnectionYaml, googleControl, runAction, stepError } from './google-support.ts';

const available = await services();
const MB = 1024 * 1024;

describe('Google Drive actions (through @googleapis/drive against the fake)', {
  skip: available.postgres ? false : 'needs PostgreSQL',
}, () => {
  let fake: RunningFake<GoogleState>;
  let base: string;
  let environment: Environment;
  let hub: Hub;
  let ctl: ReturnType<typeof googleControl>;
  let folderId: string;
  /** The official client as the signed-in user, to look at what the hub made. */
  let me: ReturnType<typeof drive>;

  before(async () => {
    fake = await startGoogleFake();
    base = fake.baseUrl();
    ctl = googleControl(base);
    const refreshToken = await consentRefreshToken(base);
    const auth = new OAuth2Client({ ...DEFAULT_GOOGLE_CLIENT, endpoints: { oauth2TokenUrl: `${base}/token` } });
    auth.setCredentials({ refresh_token: refreshToken });
    me = drive({ version: 'v3', auth, rootUrl: `${base}/` });
    folderId = (await me.files.create({ requestBody: { name: 'Contracts', mimeType: 'application/vnd.google-apps.folder' } })).data.id!;
    environment = await prepareEnvironment(MODES[0]!, 'google-drive');
    environment.env.DINGBRIDGE_CONFIG = writeConfig(
      tempDir('google-drive'),
      `version: 1\nconnections:${googleConnectionYaml(base, refreshToken)}`,
    );
    hub = await startTestHub(environment, { http: false });
  });
  after(async () => {
    await hub?.stop();
    await fake?.stop();
    await environment?.cleanup();
  });

  const storeFile = (data: Buffer, name: string, contentType = 'application/octet-stream') =>
    hub.runtime.files.put(data, { name, contentType });
  const driveBytes = async (id: string) => {
    const res = await me.files.get({ fileId: id, alt: 'media' }, { responseType: 'arraybuffer' });
    return Buffer.from(res.data as ArrayBuffer);
  };
  const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
  const calls = async (re: RegExp) =>
    (await ctl<{ calls: any[] }>('GET', '/__sandbox/calls')).calls.filter((c: any) => re.test(`${c.method} ${c.path}`));

  test('upload_file below 5 MB: one multipart upload into the folder; a retried step answers the same file', async () => {
    const data = crypto.randomBytes(300_000);
    const file = await storeFile(data, 'receipt.pdf', 'application/pdf');
    const key = `evt_1:flow:0:${crypto.randomUUID()}`;
    const out = await runAction(hub, 'google.drive.upload_file', { folderId, name: 'receipt.pdf', file }, key);
    assert.deepEqual(Object.keys(out).sort(), ['id', 'mimeType', 'name', 'size', 'webViewLink']);
    assert.equal(out.name, 'receipt.pdf');
    assert.equal(out.mimeType, 'application/pdf');
    assert.equal(out.size, 300_000);
    assert.match(out.webViewLink, /^https:\/\/drive\.google\.com\/file\/d\//);
    assert.equal(sha(await driveBytes(out.id)), sha(data));
    const meta = await me.files.get({ fileId: out.id, fields: 'parents' });
    assert.deepEqual(meta.data.parents, [folderId]);
    const again = await runAction(hub, 'google.drive.upload_file', { folderId, name: 'receipt.pdf', file }, key);
    assert.equal(again.id, out.id, 'the retry found the first attempt and made no second file');
    const listed = await me.files.list({ q: `'${folderId}' in parents and name = 'receipt.pdf'` });
    assert.equal(listed.data.files?.length, 1);
  });

  test('upload_file: a 20 MB resumable upload from a fileRef survives 3 dropped connections and arrives with the right sha256', async () => {
    const data = crypto.randomBytes(20 * MB);
    const file = await storeFile(data, 'scan.tiff', 'image/tiff');
    await ctl('DELETE', '/__sandbox/calls').catch(() => undefined);
    const before = (await calls(/^PUT \/upload\/drive\/v3\/files/)).length;
    // 1: the whole first chunk lost; 2 and 3: chunks cut after 1.5 MB (the session keeps 1.25 MB of each).
    await ctl('POST', '/__sandbox/faults', { kind: 'drop', method: 'PUT', path: '^/upload/drive/v3/files$', count: 1 });
    await ctl('POST', '/uploads/drop', { afterBytes: 1_500_000, count: 2 });
    const started = Date.now();
    const out = await runAction(hub, 'google.drive.upload_file', { folderId, name: 'scan.tiff', file });
    const ms = Date.now() - started;
    assert.equal(out.size, 20 * MB);
    const got = await driveBytes(out.id);
    assert.equal(sha(got), sha(data), 'the bytes in Drive are the bytes of the fileRef');
    assert.equal(sha(got), file.sha256);
    const puts = (await calls(/^PUT \/upload\/drive\/v3\/files/)).slice(before);
    const statusQueries = puts.filter((c: any) => /^bytes \*\//.test(String(c.headers?.['content-range'] ?? '')));
    assert.equal(statusQueries.length, 3, 'after each of the 3 drops the hub asked the session where it stood');
    assert.equal(puts.filter((c: any) => c.fault === 'drop').length, 1, 'one whole chunk was lost to the framework drop');
    const sessions = (await ctl<{ uploads: any[] }>('GET', '/uploads')).uploads.filter((u) => u.total === 20 * MB);
    assert.equal(sessions.length, 1, 'no second session: the same session resumed each time');
    assert.ok(sessions[0].done);
    console.log(`20 MB resumable upload with 3 drops: ${ms} ms, ${puts.length} PUTs (${statusQueries.length} status queries seen)`);
  });
});
