import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Hub } from '../app/hub.ts';
import { StepError } from '../core/errors.ts';
import { DEFAULT_OSS_BUCKET, DEFAULT_OSS_KEY, DEFAULT_OSS_REGION, startAliyunOssFake, type OssState } from '../sandbox/aliyun-oss/index.ts';
import type { RunningFake } from '../sandbox/framework/index.ts';
import { runAction } from './google-support.ts';
import { MODES, prepareEnvironment, startTestHub, tempDir, writeConfig, type Environment } from './helpers/hub.ts';
import { services } from './helpers/services.ts';

/** The aliyun_oss connector through ali-oss against the OSS fake (which checks OSS's signatures). */
const available = await services();
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

describe('Alibaba Cloud OSS connector', { skip: available.postgres ? false : 'needs PostgreSQL' }, () => {
  let fake: RunningFake<OssState>;
  let environment: Environment;
  let hub: Hub;
  const ctl = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${fake.baseUrl()}/__sandbox/aliyun-oss${p}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    return (await res.json()) as any;
  };

  before(async () => {
    fake = await startAliyunOssFake();
    const sts = await ctl('POST', '/sts', { durationSeconds: 900 });
    const conn = (id: string, keyId: string, secret: string, token?: string) => `
  - id: ${id}
    connector: aliyun_oss
    settings: { accessKeyId: ${keyId}, bucket: ${DEFAULT_OSS_BUCKET}, region: ${DEFAULT_OSS_REGION}, endpoint: "http://localhost:${fake.port}", pathStyle: "true" }
    secrets: { accessKeySecret: ${JSON.stringify(secret)}${token ? `, securityToken: ${JSON.stringify(token)}` : ''} }`;
    environment = await prepareEnvironment(MODES[0]!, 'aliyun-oss');
    environment.env.DINGBRIDGE_CONFIG = writeConfig(
      tempDir('aliyun-oss'),
      `version: 1\nconnections:${conn('oss', DEFAULT_OSS_KEY.accessKeyId, DEFAULT_OSS_KEY.accessKeySecret)}${conn('oss-sts', sts.AccessKeyId, sts.AccessKeySecret, sts.SecurityToken)}${conn('oss-bad', DEFAULT_OSS_KEY.accessKeyId, 'not-the-secret')}\n`,
    );
    hub = await startTestHub(environment, { http: false });
  });
  after(async () => {
    await hub?.stop();
    await fake?.stop();
    await environment?.cleanup();
  });

  test('put a fileRef with its content type and metadata; the signed URL fetches it, and expires', async () => {
    const pdf = Buffer.from(`%PDF-1.4\n% ${crypto.randomUUID()}\n%%EOF\n`);
    const file = await hub.runtime.files.put(pdf, { name: 'nda.pdf', contentType: 'application/pdf' });
    const out = await runAction(
      hub,
      'aliyun_oss.object.put',
      { key: 'contracts/2026/nda — signed.pdf', file, metadata: { envelope: 'env-1', approval: 'proc-1' }, signedUrlSeconds: 2 },
      undefined,
      'oss',
    );
    assert.equal(out.bucket, DEFAULT_OSS_BUCKET);
    assert.equal(out.size, pdf.length);
    const stored = await ctl('GET', `/buckets/${DEFAULT_OSS_BUCKET}/objects/${encodeURIComponent('contracts/2026/nda — signed.pdf')}`);
    assert.equal(stored.contentType, 'application/pdf');
    assert.deepEqual(stored.meta, { envelope: 'env-1', approval: 'proc-1' });
    assert.equal(stored.sha256, sha(pdf));
    const got = await fetch(out.url);
    assert.equal(got.status, 200);
    assert.equal(sha(Buffer.from(await got.arrayBuffer())), sha(pdf));
    // The link is time-limited: wait until it has expired (OSS counts whole seconds), then it is refused.
    await new Promise((r) => setTimeout(r, 3100));
    const late = await fetch(out.url);
    assert.equal(late.status, 403);
    assert.match(await late.text(), /Request has expired/);
  });

  test('STS credentials (with their security token) work; a wrong secret needs the connection fixed', async () => {
    const file = await hub.runtime.files.put(Buffer.from('%PDF-1.4\n%%EOF\n'), { name: 'a.pdf', contentType: 'application/pdf' });
    const out = await runAction(hub, 'aliyun_oss.object.put', { key: 'contracts/sts.pdf', file }, undefined, 'oss-sts');
    assert.equal((await fetch(out.url)).status, 200);
    const signed = await runAction(
      hub,
      'aliyun_oss.object.signed_url',
      { key: 'contracts/sts.pdf', expiresSeconds: 60 },
      undefined,
      'oss-sts',
    );
    assert.match(signed.url, /security-token=/);
    try {
      await runAction(hub, 'aliyun_oss.object.put', { key: 'contracts/bad.pdf', file }, undefined, 'oss-bad');
      assert.fail('expected a refusal');
    } catch (err) {
      assert.ok(err instanceof StepError);
      assert.equal(err.errorClass, 'needs_reauth');
      assert.match(err.message, /SignatureDoesNotMatch/);
      assert.ok(!err.message.includes('not-the-secret'));
    }
  });
});
