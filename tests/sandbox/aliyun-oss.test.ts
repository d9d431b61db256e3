import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import {
  startAliyunOssFake,
  DEFAULT_OSS_BUCKET,
  DEFAULT_OSS_KEY,
  DEFAULT_OSS_REGION,
  type OssState,
} from '../../sandbox/aliyun-oss/index.ts';
import type { RunningFake } from '../../sandbox/framework/index.ts';

// ali-oss is CommonJS with no usable type declarations for its Node client: used through `any`.
const require = createRequire(import.meta.url);
const OSS = require('ali-oss') as any;

let fake: RunningFake<OssState>;
/** ali-oss refuses signatureUrl on an IP endpoint: `localhost` with sldEnable (path-style) is the way to the fake. */
const endpoint = () => `http://localhost:${fake.port}`;
const client = (over: Record<string, unknown> = {}) =>
  new OSS({
    endpoint: endpoint(),
    sldEnable: true,
    region: DEFAULT_OSS_REGION,
    bucket: DEFAULT_OSS_BUCKET,
    ...DEFAULT_OSS_KEY,
    ...over,
  });
const ctl = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${fake.baseUrl()}/__sandbox/aliyun-oss${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: (await res.json()) as any };
};
const failure = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return err as { code: string; status: number; message: string };
  }
  throw new Error('expected the ali-oss call to fail');
};
const pdf = Buffer.from('%PDF-1.4\n% signed contract bytes\n%%EOF\n');

before(async () => {
  fake = await startAliyunOssFake();
});
after(async () => {
  await fake.stop();
});

test('put with content type and x-oss-meta-*, then head and get return them', async () => {
  const oss = client();
  const put = await oss.put('contracts/2026/nda signed.pdf', pdf, {
    mime: 'application/pdf',
    meta: { envelope: 'env-1', source: 'docusign' },
  });
  assert.equal(put.res.status, 200);
  const head = await oss.head('contracts/2026/nda signed.pdf');
  assert.equal(head.res.headers['content-type'], 'application/pdf');
  assert.deepEqual(head.meta, { envelope: 'env-1', source: 'docusign' });
  const got = await oss.get('contracts/2026/nda signed.pdf');
  assert.ok(Buffer.from(got.content).equals(pdf));
  const seen = (await ctl('GET', `/buckets/${DEFAULT_OSS_BUCKET}/objects/contracts/2026/nda signed.pdf`)).json;
  assert.equal(seen.sha256, crypto.createHash('sha256').update(pdf).digest('hex'));
  const missing = await failure(oss.get('contracts/none.pdf'));
  assert.equal(missing.code, 'NoSuchKey');
  await oss.delete('contracts/2026/nda signed.pdf');
  assert.equal((await failure(oss.head('contracts/2026/nda signed.pdf'))).status, 404);
});

test('signatureUrl: the signed URL fetches the object until it expires, then AccessDenied "Request has expired."', async () => {
  const oss = client();
  await oss.put('contracts/lease.pdf', pdf, { mime: 'application/pdf' });
  const url: string = oss.signatureUrl('contracts/lease.pdf', { expires: 600 });
  assert.match(url, /[?&]OSSAccessKeyId=.*&?Expires=\d+/);
  const ok = await fetch(url);
  assert.equal(ok.status, 200);
  assert.ok(Buffer.from(await ok.arrayBuffer()).equals(pdf));

  const expired = await fetch(oss.signatureUrl('contracts/lease.pdf', { expires: -5 }));
  assert.equal(expired.status, 403);
  const xml = await expired.text();
  assert.match(xml, /<Code>AccessDenied<\/Code>/);
  assert.match(xml, /<Message>Request has expired\.<\/Message>/);

  const tampered = await fetch(url.replace('lease.pdf', 'lease2.pdf'));
  assert.equal(tampered.status, 403);
  assert.match(await tampered.text(), /<Code>SignatureDoesNotMatch<\/Code>/);

  // The V4 form (signatureUrlV4) too.
  const v4: string = await oss.signatureUrlV4('GET', 600, undefined, 'contracts/lease.pdf');
  assert.match(v4, /x-oss-signature-version=OSS4-HMAC-SHA256/);
  const okV4 = await fetch(v4);
  assert.equal(okV4.status, 200);
  assert.ok(Buffer.from(await okV4.arrayBuffer()).equals(pdf));
  const badV4 = await fetch(v4.replace(/x-oss-signature=([0-9a-f])/, (_m, c: string) => `x-oss-signature=${c === '0' ? '1' : '0'}`));
  assert.match(await badV4.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
});

test('a wrong secret is SignatureDoesNotMatch in OSS XML (V1 and V4 signatures), and nothing is stored', async () => {
  const v1 = await failure(client({ accessKeySecret: 'not-the-secret' }).put('contracts/bad.pdf', pdf));
  assert.equal(v1.status, 403);
  assert.equal(v1.code, 'SignatureDoesNotMatch');
  const v4 = await failure(client({ accessKeySecret: 'not-the-secret', authorizationV4: true }).put('contracts/bad.pdf', pdf));
  assert.equal(v4.code, 'SignatureDoesNotMatch');
  const unknown = await failure(client({ accessKeyId: 'LTAI5tNobody' }).put('contracts/bad.pdf', pdf));
  assert.equal(unknown.code, 'InvalidAccessKeyId');
  assert.equal((await failure(client().head('contracts/bad.pdf'))).status, 404);

  // The V4 signature with the right secret works too, and so does an IP endpoint (ali-oss then names the bucket in Host).
  await client({ authorizationV4: true }).put('contracts/v4.pdf', pdf, { mime: 'application/pdf' });
  const viaIp = new OSS({ endpoint: fake.baseUrl(), region: DEFAULT_OSS_REGION, bucket: DEFAULT_OSS_BUCKET, ...DEFAULT_OSS_KEY });
  assert.ok(Buffer.from((await viaIp.get('contracts/v4.pdf')).content).equals(pdf));
});

test('STS credentials: the security token is required and checked, signed URLs carry it, an expired token is refused', async () => {
  const sts = (await ctl('POST', '/sts', { durationSeconds: 900 })).json;
  assert.match(sts.AccessKeyId, /^STS\./);
  const oss = client({
    accessKeyId: sts.AccessKeyId,
    accessKeySecret: sts.AccessKeySecret,
    stsToken: sts.SecurityToken,
    refreshSTSTokenInterval: 3_600_000,
  });
  await oss.put('contracts/sts.pdf', pdf, { mime: 'application/pdf', meta: { via: 'sts' } });
  const url: string = oss.signatureUrl('contracts/sts.pdf', { expires: 600 });
  assert.match(url, /security-token=/);
  assert.equal((await fetch(url)).status, 200);

  const noToken = await failure(client({ accessKeyId: sts.AccessKeyId, accessKeySecret: sts.AccessKeySecret }).get('contracts/sts.pdf'));
  assert.equal(noToken.code, 'InvalidAccessKeyId');
  const wrongToken = await failure(
    client({
      accessKeyId: sts.AccessKeyId,
      accessKeySecret: sts.AccessKeySecret,
      stsToken: 'CAISforged',
      refreshSTSTokenInterval: 3_600_000,
    }).get('contracts/sts.pdf'),
  );
  assert.equal(wrongToken.code, 'InvalidSecurityToken');

  await ctl('POST', `/sts/${encodeURIComponent(sts.AccessKeyId)}/expire`);
  const expired = await failure(oss.get('contracts/sts.pdf'));
  assert.equal(expired.code, 'SecurityTokenExpired');
});
