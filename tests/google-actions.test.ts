import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { drive } from '@googleapis/drive';
import { OAuth2Client } from 'google-auth-library';
import { startGoogleFake, DEFAULT_GOOGLE_CLIENT, googleErrorBody, type GoogleState } from '../sandbox/google/index.ts';
import type { RunningFake } from '../sandbox/framework/index.ts';
import type { Hub } from '../app/hub.ts';
import { MODES, prepareEnvironment, startTestHub, tempDir, writeConfig, type Environment } from './helpers/hub.ts';
import { services } from './helpers/services.ts';
import { consentRefreshToken, googleConnectionYaml, googleControl, runAction, stepError } from './google-support.ts';

const available = await services();
const MB = 1024 * 1024;

describe('Google Drive, Gmail and Directory actions (official clients against the fake)', {
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
    environment = await prepareEnvironment(MODES[0]!, 'google-actions');
    environment.env.DINGBRIDGE_CONFIG = writeConfig(
      tempDir('google-actions'),
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
  test('create_folder: a folder in the parent; a retried step answers the same folder', async () => {
    const key = `evt_2:flow:0:${crypto.randomUUID()}`;
    const out = await runAction(hub, 'google.drive.create_folder', { name: 'Signed 2026', parentId: folderId }, key);
    assert.equal(out.mimeType, 'application/vnd.google-apps.folder');
    assert.match(out.webViewLink, /^https:\/\/drive\.google\.com\/drive\/folders\//);
    const again = await runAction(hub, 'google.drive.create_folder', { name: 'Signed 2026', parentId: folderId }, key);
    assert.equal(again.id, out.id);
    const listed = await me.files.list({ q: `'${folderId}' in parents and name = 'Signed 2026'` });
    assert.equal(listed.data.files?.length, 1);
  });

  test('share: alice gets writer on the file; get_file brings it back as a fileRef with the same bytes', async () => {
    const data = crypto.randomBytes(70_000);
    const up = await runAction(hub, 'google.drive.upload_file', {
      folderId,
      name: 'quote.pdf',
      file: await storeFile(data, 'quote.pdf', 'application/pdf'),
    });
    const shared = await runAction(hub, 'google.drive.share', {
      fileId: up.id,
      role: 'writer',
      type: 'user',
      emailAddress: 'alice@example.com',
    });
    assert.equal(shared.role, 'writer');
    const perms = await me.permissions.list({ fileId: up.id, fields: 'permissions(id,role,emailAddress)' });
    assert.ok(perms.data.permissions?.some((p) => p.emailAddress === 'alice@example.com' && p.role === 'writer'));
    const got = await runAction(hub, 'google.drive.get_file', { fileId: up.id });
    assert.equal(got.file.sha256, sha(data));
    assert.equal(got.file.size, 70_000);
    assert.equal(got.file.contentType, 'application/pdf');
    assert.equal(got.name, 'quote.pdf');
    const doc = (await me.files.create({ requestBody: { name: 'Notes', mimeType: 'application/vnd.google-apps.document' } })).data.id!;
    const err = await stepError(runAction(hub, 'google.drive.get_file', { fileId: doc }));
    assert.equal(err.errorClass, 'permanent');
    assert.match(err.message, /no binary content/);
  });

  test('gmail.send: a UTF-8 subject and display name arrive decoded; the sender is the connected account', async () => {
    const out = await runAction(hub, 'google.gmail.send', {
      to: ['Bob <bob@example.com>'],
      subject: '報價單已簽署 — Quotation signed ✅',
      text: '合約已經簽好。\nThe contract is signed.',
      fromName: '陳大文',
    });
    assert.ok(out.id && out.threadId);
    assert.ok(out.labelIds.includes('SENT'));
    const mailbox = fake.state.google.mailboxes.get('bob@example.com') as any;
    const msg = mailbox.messages.find((m: any) => m.id === out.id) ?? mailbox.messages.at(-1);
    const raw = Buffer.from(msg.raw).toString('utf8');
    assert.match(raw, /^Subject: =\?UTF-8\?B\?/m, 'the header is 7-bit: an encoded word');
    const { decodeHeaderValue } = await import('../connectors/google/gmail/mime.ts');
    const subject = /^Subject: (.*(?:\r\n .*)*)/m.exec(raw)![1]!;
    assert.equal(decodeHeaderValue(subject), '報價單已簽署 — Quotation signed ✅');
    assert.match(raw, /^From: .*<demo@example\.com>/m);
  });

  test('directory: list_users pages through the domain; list_groups with members', async () => {
    const users = await runAction(hub, 'google.directory.list_users', {});
    const emails = users.users.map((u: any) => u.primaryEmail);
    for (const e of ['alice@example.com', 'bob@example.com', 'demo@example.com']) assert.ok(emails.includes(e), e);
    assert.equal(users.count, users.users.length);
    const groups = await runAction(hub, 'google.directory.list_groups', { withMembers: true });
    const sales = groups.groups.find((g: any) => g.email === 'sales@example.com');
    assert.ok(sales, 'the seeded group');
    assert.ok(sales.members.length >= 1);
  });

  /** Every Drive, Gmail and Directory action against each of Google's error answers, injected with the fault API. */
  test('error mapping: 403 rate limit vs 403 permission, 429, 401, 404, 409, 410, 5xx for every action', async () => {
    const small = await storeFile(crypto.randomBytes(1000), 'a.txt', 'text/plain');
    const someFile = (await runAction(hub, 'google.drive.create_folder', { name: 'target', parentId: folderId })).id;
    const cases = [
      {
        action: 'google.drive.upload_file',
        input: { folderId, name: 'e.txt', file: small },
        method: 'POST',
        path: '^/upload/drive/v3/files$',
      },
      { action: 'google.drive.create_folder', input: { name: 'e', parentId: folderId }, method: 'POST', path: '^/drive/v3/files$' },
      { action: 'google.drive.share', input: { fileId: someFile, emailAddress: 'bob@example.com' }, method: 'POST', path: '/permissions$' },
      { action: 'google.drive.get_file', input: { fileId: someFile }, method: 'GET', path: '^/drive/v3/files/[^/]+$' },
      { action: 'google.gmail.send', input: { to: 'bob@example.com', subject: 'x', text: 'y' }, method: 'POST', path: '/messages/send$' },
      { action: 'google.directory.list_users', input: {}, method: 'GET', path: '^/admin/directory/v1/users$' },
      { action: 'google.directory.list_groups', input: {}, method: 'GET', path: '^/admin/directory/v1/groups$' },
    ];
    const answers = [
      { status: 403, body: googleErrorBody(403, 'rateLimitExceeded', 'Rate Limit Exceeded'), want: 'retryable', code: 'rateLimitExceeded' },
      {
        status: 403,
        body: googleErrorBody(403, 'userRateLimitExceeded', 'User Rate Limit Exceeded'),
        want: 'retryable',
        code: 'userRateLimitExceeded',
      },
      {
        status: 403,
        body: googleErrorBody(403, 'insufficientPermissions', 'Request had insufficient authentication scopes.'),
        // A scope the grant lacks: the step waits for the admin to connect again (incremental consent).
        want: 'needs_reauth',
        code: 'insufficientPermissions',
      },
      {
        status: 403,
        body: googleErrorBody(403, 'forbidden', 'The user does not have sufficient permissions for this file.'),
        want: 'permanent',
        code: 'forbidden',
      },
      { status: 429, want: 'retryable', code: 'rateLimitExceeded' },
      { status: 401, want: 'needs_reauth', code: 'authError' },
      { status: 404, want: 'permanent', code: 'notFound' },
      { status: 409, want: 'permanent', code: 'conflict' },
      { status: 410, want: 'permanent', code: 'deleted' },
      { status: 500, want: 'retryable', code: 'backendError' },
      { status: 503, want: 'retryable', code: 'backendError' },
    ];
    const seen: string[] = [];
    for (const c of cases) {
      for (const a of answers) {
        await ctl('POST', '/__sandbox/faults', {
          kind: 'status',
          status: a.status,
          method: c.method,
          path: c.path,
          count: a.status === 401 ? 2 : 1, // the client refreshes and retries once on a 401 (not with a streamed body)
          ...(a.body ? { body: a.body } : {}),
        });
        const err = await stepError(runAction(hub, c.action, c.input), `${c.action} on ${a.status} ${a.code}`);
        assert.equal(err.errorClass, a.want, `${c.action} on ${a.status} ${a.code}: ${err.message}`);
        assert.equal(err.details.status, a.status, `${c.action} on ${a.status}`);
        if (a.status !== 401) assert.equal(err.details.code, a.code, `${c.action} on ${a.status}`);
        if (a.want === 'retryable' && (a.status === 429 || a.status === 403)) assert.ok(err.details.retryAfterMs, 'a rate limit waits');
        seen.push(`${c.action}:${a.status}`);
        await ctl('DELETE', '/__sandbox/faults'); // a 401 may be retried once after a refresh, or not (a streamed body)
      }
    }
    assert.equal(seen.length, cases.length * answers.length);
  });
});
