import crypto from 'node:crypto';
import net from 'node:net';
import type { Express, Request, Response } from 'express';
import { startFake, type FakeDefinition, type RunningFake, type RunningFakeInternals } from '../framework/index.ts';
import { canonicalResource, stringToSignV1, signV1, signV4 } from './signature.ts';

export { signV1, stringToSignV1, canonicalResource, signV4 } from './signature.ts';

export interface OssObject {
  body: Buffer;
  contentType: string;
  meta: Record<string, string>;
  etag: string;
  lastModified: Date;
}
export interface OssBucket {
  name: string;
  region: string;
  cnames: string[];
  objects: Map<string, OssObject>;
}
export interface OssCredential {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  expiresAt?: number;
}
export interface OssState {
  buckets: Map<string, OssBucket>;
  credentials: Map<string, OssCredential>;
  maxSkewMs: number;
}

export const DEFAULT_OSS_BUCKET = 'dingbridge-contracts';
export const DEFAULT_OSS_REGION = 'oss-cn-hangzhou';
export const DEFAULT_OSS_KEY = { accessKeyId: 'LTAI5tSandboxAccessKey01', accessKeySecret: 'SandboxAccessKeySecret0123456789ab' };

type Fake = RunningFakeInternals<OssState>;

function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}
export function ossErrorXml(code: string, message: string, extra: Record<string, string> = {}): string {
  const fields = { Code: code, Message: message, RequestId: requestId(), HostId: 'oss-cn-hangzhou.aliyuncs.com', ...extra };
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n${Object.entries(fields)
    .map(([k, v]) => `  <${k}>${xmlEscape(v)}</${k}>`)
    .join('\n')}\n</Error>\n`;
}
const requestId = () => crypto.randomBytes(12).toString('hex').toUpperCase();

class OssError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
}

function initialState(): OssState {
  return {
    buckets: new Map([[DEFAULT_OSS_BUCKET, { name: DEFAULT_OSS_BUCKET, region: DEFAULT_OSS_REGION, cnames: [], objects: new Map() }]]),
    credentials: new Map([[DEFAULT_OSS_KEY.accessKeyId, { ...DEFAULT_OSS_KEY }]]),
    maxSkewMs: 15 * 60_000,
  };
}

/**
 * Which bucket and key a request names: a bound custom domain (CNAME) → that bucket; an IP or `localhost`
 * host → path style `/bucket/key` (ali-oss `sldEnable`); any other host → virtual-hosted `bucket.<endpoint>`
 * (ali-oss with an IP endpoint sends `Host: bucket.oss-<region>.aliyuncs.com` itself).
 */
function locate(st: OssState, req: Request): { bucket?: string; key: string } {
  const host = String(req.headers.host ?? '')
    .replace(/:\d+$/, '')
    .toLowerCase();
  const path = req.path;
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const bound = [...st.buckets.values()].find((b) => b.cnames.includes(host));
  if (bound) return { bucket: bound.name, key: decode(path.slice(1)) };
  if (net.isIP(host) || host === 'localhost') {
    const [, bucket = '', ...rest] = path.split('/');
    return { bucket: bucket || undefined, key: decode(rest.join('/')) };
  }
  return { bucket: host.split('.')[0], key: decode(path.slice(1)) };
}

function authenticate(st: OssState, req: Request, bucket: string | undefined, key: string): void {
  const query = Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, String(v ?? '')]));
  const auth = String(req.headers.authorization ?? '');
  const now = Date.now();
  const credential = (id: string, token: string | undefined): OssCredential => {
    const c = st.credentials.get(id);
    if (!c)
      throw new OssError(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.', {
        OSSAccessKeyId: id,
      });
    if (c.securityToken !== undefined) {
      if (!token)
        throw new OssError(
          403,
          'InvalidAccessKeyId',
          'The OSS Access Key Id you provided does not exist in our records. (an STS key needs its security token)',
          { OSSAccessKeyId: id },
        );
      if (token !== c.securityToken) throw new OssError(403, 'InvalidSecurityToken', 'The security token you provided is invalid.');
      if (c.expiresAt !== undefined && c.expiresAt <= now)
        throw new OssError(403, 'SecurityTokenExpired', 'The security token you provided has expired.');
    }
    return c;
  };
  const mismatch = (id: string, provided: string, stringToSign: string) =>
    new OssError(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      {
        OSSAccessKeyId: id,
        SignatureProvided: provided,
        StringToSign: stringToSign,
        StringToSignBytes: Buffer.from(stringToSign).toString('hex').replace(/(..)/g, '$1 ').trim().toUpperCase(),
      },
    );
  const skewCheck = (t: number) => {
    if (Number.isNaN(t) || Math.abs(t - now) > st.maxSkewMs)
      throw new OssError(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
  };
  const resource = canonicalResource(bucket, key, query);

  let m = /^OSS ([^:]+):(.+)$/.exec(auth);
  if (m) {
    const [, id, provided] = m as unknown as [string, string, string];
    const c = credential(id, req.headers['x-oss-security-token'] as string | undefined);
    skewCheck(Date.parse(String(req.headers['x-oss-date'] ?? req.headers.date ?? '')));
    const sts = stringToSignV1(req.method, req.headers, resource);
    if (signV1(c.accessKeySecret, sts) !== provided) throw mismatch(id, provided, sts);
    return;
  }
  m =
    /^OSS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aliyun_v4_request,(?:AdditionalHeaders=([^,]+),)?Signature=([0-9a-f]+)$/.exec(
      auth,
    );
  if (m) {
    const [, id, , region, product, additional, provided] = m as unknown as string[];
    const c = credential(id!, req.headers['x-oss-security-token'] as string | undefined);
    const date = String(req.headers['x-oss-date'] ?? '');
    const d = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
    skewCheck(d ? Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!, +d[4]!, +d[5]!, +d[6]!) : NaN);
    const v4 = signV4({
      secret: c.accessKeySecret,
      method: req.method,
      bucket,
      key,
      query,
      headers: req.headers,
      additionalHeaders: additional ? additional.split(';') : [],
      date,
      region: region!,
      product,
    });
    if (v4.signature !== provided) throw mismatch(id!, provided!, v4.stringToSign);
    return;
  }
  if (query['x-oss-signature-version'] === 'OSS4-HMAC-SHA256') {
    // V4 signed URL (ali-oss signatureUrlV4): credential, date, expires and signature in the query.
    const cred = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aliyun_v4_request$/.exec(query['x-oss-credential'] ?? '');
    const date = query['x-oss-date'] ?? '';
    const d = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
    if (!cred || !d) throw new OssError(400, 'InvalidArgument', 'x-oss-credential and x-oss-date are required for a V4 signed URL.');
    const [, id, , region, product] = cred as unknown as string[];
    const c = credential(id!, query['x-oss-security-token']);
    const signedAt = Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!, +d[4]!, +d[5]!, +d[6]!);
    if (signedAt + Number(query['x-oss-expires'] ?? 0) * 1000 < now) throw new OssError(403, 'AccessDenied', 'Request has expired.');
    const additional = query['x-oss-additional-headers'] ? query['x-oss-additional-headers'].split(';') : [];
    const v4 = signV4({
      secret: c.accessKeySecret,
      method: req.method,
      bucket,
      key,
      query,
      headers: req.headers,
      additionalHeaders: additional,
      date,
      region: region!,
      product,
    });
    if (v4.signature !== query['x-oss-signature']) throw mismatch(id!, query['x-oss-signature'] ?? '', v4.stringToSign);
    return;
  }
  if (query.OSSAccessKeyId !== undefined && query.Signature !== undefined) {
    const expires = Number(query.Expires);
    if (!Number.isFinite(expires)) throw new OssError(403, 'AccessDenied', 'Expires must be a number of seconds since the epoch.');
    const c = credential(query.OSSAccessKeyId, query['security-token']);
    if (expires * 1000 < now)
      throw new OssError(403, 'AccessDenied', 'Request has expired.', {
        Expires: new Date(expires * 1000).toISOString(),
        ServerTime: new Date(now).toISOString(),
      });
    const sts = stringToSignV1(req.method, req.headers, resource, String(query.Expires));
    if (signV1(c.accessKeySecret, sts) !== query.Signature) throw mismatch(query.OSSAccessKeyId, query.Signature, sts);
    return;
  }
  throw new OssError(403, 'AccessDenied', 'You have no right to access this object because of bucket acl.');
}

function objectHeaders(res: Response, o: OssObject, overrides: Record<string, string>): void {
  res.setHeader('Content-Type', overrides['response-content-type'] ?? o.contentType);
  res.setHeader('Content-Length', String(o.body.length));
  res.setHeader('ETag', o.etag);
  res.setHeader('Last-Modified', o.lastModified.toUTCString());
  res.setHeader('x-oss-object-type', 'Normal');
  res.setHeader('x-oss-storage-class', 'Standard');
  res.setHeader('Content-MD5', crypto.createHash('md5').update(o.body).digest('base64'));
  if (overrides['response-content-disposition']) res.setHeader('Content-Disposition', overrides['response-content-disposition']);
  for (const [k, v] of Object.entries(o.meta)) res.setHeader(`x-oss-meta-${k}`, v);
}

export function createAliyunOssFake(): FakeDefinition<OssState> {
  return {
    name: 'aliyun_oss',
    initialState,
    faultBody: (status) =>
      ossErrorXml(status === 503 ? 'ServiceUnavailable' : status === 429 ? 'Throttling' : 'InternalError', `injected ${status}`),
    setup(app: Express, fake: Fake) {
      setupControl(app, fake);
      app.use((req: Request, res: Response, next) => {
        if (req.path.startsWith('/__sandbox')) return next();
        const st = fake.state;
        res.setHeader('x-oss-request-id', requestId());
        res.setHeader('Server', 'AliyunOSS');
        try {
          const { bucket, key } = locate(st, req);
          authenticate(st, req, bucket, key);
          const b = bucket ? st.buckets.get(bucket) : undefined;
          if (!bucket || !b) throw new OssError(404, 'NoSuchBucket', 'The specified bucket does not exist.', { BucketName: bucket ?? '' });
          const query = Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, String(v ?? '')]));
          if (!key) {
            if (req.method !== 'GET')
              throw new OssError(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
            const prefix = query.prefix ?? '';
            const keys = [...b.objects.keys()]
              .filter((k) => k.startsWith(prefix))
              .sort()
              .slice(0, Number(query['max-keys'] ?? 100));
            res.type('application/xml').send(
              `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult>\n  <Name>${b.name}</Name>\n  <Prefix>${xmlEscape(prefix)}</Prefix>\n  <MaxKeys>${query['max-keys'] ?? 100}</MaxKeys>\n  <IsTruncated>false</IsTruncated>\n${keys
                .map((k) => {
                  const o = b.objects.get(k)!;
                  return `  <Contents>\n    <Key>${xmlEscape(k)}</Key>\n    <LastModified>${o.lastModified.toISOString()}</LastModified>\n    <ETag>${o.etag}</ETag>\n    <Type>Normal</Type>\n    <Size>${o.body.length}</Size>\n    <StorageClass>Standard</StorageClass>\n  </Contents>`;
                })
                .join('\n')}\n</ListBucketResult>\n`,
            );
            return;
          }
          if (req.method === 'PUT') {
            const body: Buffer = (req as Request & { rawBody: Buffer }).rawBody;
            const md5 = crypto.createHash('md5').update(body).digest('base64');
            if (req.headers['content-md5'] && req.headers['content-md5'] !== md5)
              throw new OssError(400, 'InvalidDigest', 'The Content-MD5 you specified is not valid.');
            const meta: Record<string, string> = {};
            for (const [k, v] of Object.entries(req.headers))
              if (k.startsWith('x-oss-meta-')) meta[k.slice('x-oss-meta-'.length)] = String(v);
            const etag = `"${crypto.createHash('md5').update(body).digest('hex').toUpperCase()}"`;
            b.objects.set(key, {
              body: Buffer.from(body),
              contentType: String(req.headers['content-type'] ?? 'application/octet-stream'),
              meta,
              etag,
              lastModified: new Date(),
            });
            res.setHeader('ETag', etag);
            res.setHeader('Content-MD5', md5);
            res.status(200).end();
            return;
          }
          const o = b.objects.get(key);
          if (req.method === 'DELETE') {
            b.objects.delete(key);
            res.status(204).end();
            return;
          }
          if (req.method !== 'GET' && req.method !== 'HEAD')
            throw new OssError(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
          if (!o) {
            if (req.method === 'HEAD') {
              res.status(404).end();
              return;
            }
            throw new OssError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
          }
          objectHeaders(res, o, query);
          if (req.method === 'HEAD') {
            res.status(200).end();
            return;
          }
          res.status(200).end(o.body);
        } catch (err) {
          if (!(err instanceof OssError)) throw err;
          if (req.method === 'HEAD') {
            res.status(err.status).end();
            return;
          }
          res
            .status(err.status)
            .type('application/xml')
            .send(ossErrorXml(err.code, err.message, err.extra));
        }
      });
    },
  };
}

function setupControl(app: Express, fake: Fake): void {
  const P = '/__sandbox/aliyun-oss';
  const body = (req: Request): Record<string, unknown> =>
    req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
  const bad = (res: Response, message: string, status = 400) =>
    res.status(status).json({ error: { code: status === 404 ? 'not_found' : 'bad_request', message } });
  app.get(`${P}/state`, (_req, res) => {
    const s = fake.state;
    res.json({
      buckets: [...s.buckets.values()].map((b) => ({ name: b.name, region: b.region, cnames: b.cnames, objects: b.objects.size })),
      accessKeyIds: [...s.credentials.keys()],
    });
  });
  app.post(`${P}/buckets`, (req, res) => {
    const b = body(req);
    const name = String(b.name ?? '');
    if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(name)) return bad(res, 'bucket names are 3-63 lowercase letters, digits and dashes');
    const bucket: OssBucket = {
      name,
      region: String(b.region ?? DEFAULT_OSS_REGION),
      cnames: Array.isArray(b.cnames) ? b.cnames.map(String) : [],
      objects: new Map(),
    };
    fake.state.buckets.set(name, bucket);
    res.status(201).json({ name, region: bucket.region, cnames: bucket.cnames });
  });
  app.put(`${P}/buckets/:name/cnames`, (req, res) => {
    const bucket = fake.state.buckets.get(String(req.params.name));
    if (!bucket) return bad(res, 'no such bucket', 404);
    const list = body(req).cnames;
    if (!Array.isArray(list)) return bad(res, 'cnames (string[]) is required');
    bucket.cnames = list.map((x) => String(x).toLowerCase());
    res.json({ name: bucket.name, cnames: bucket.cnames });
  });
  app.get(`${P}/buckets/:name/objects/*key`, (req, res) => {
    const bucket = fake.state.buckets.get(String(req.params.name));
    const key = ([] as string[]).concat(req.params.key as unknown as string[]).join('/');
    const o = bucket?.objects.get(key);
    if (!o) return bad(res, 'no such object', 404);
    res.json({
      key,
      contentType: o.contentType,
      meta: o.meta,
      etag: o.etag,
      size: o.body.length,
      sha256: crypto.createHash('sha256').update(o.body).digest('hex'),
    });
  });
  app.post(`${P}/access-keys`, (req, res) => {
    const b = body(req);
    const c: OssCredential = {
      accessKeyId: String(b.accessKeyId ?? `LTAI5t${crypto.randomBytes(9).toString('hex')}`),
      accessKeySecret: String(b.accessKeySecret ?? crypto.randomBytes(15).toString('base64url')),
    };
    fake.state.credentials.set(c.accessKeyId, c);
    res.status(201).json(c);
  });
  // What STS AssumeRole hands out: a temporary key, its secret and the security token, until Expiration.
  app.post(`${P}/sts`, (req, res) => {
    const seconds = Math.max(1, Number(body(req).durationSeconds ?? 3600));
    const c: OssCredential = {
      accessKeyId: `STS.${crypto.randomBytes(12).toString('base64url')}`,
      accessKeySecret: crypto.randomBytes(22).toString('base64url'),
      securityToken: `CAIS${crypto.randomBytes(48).toString('base64')}`,
      expiresAt: Date.now() + seconds * 1000,
    };
    fake.state.credentials.set(c.accessKeyId, c);
    res.status(201).json({
      AccessKeyId: c.accessKeyId,
      AccessKeySecret: c.accessKeySecret,
      SecurityToken: c.securityToken,
      Expiration: new Date(c.expiresAt!).toISOString(),
    });
  });
  app.post(`${P}/sts/:accessKeyId/expire`, (req, res) => {
    const c = fake.state.credentials.get(String(req.params.accessKeyId));
    if (!c?.securityToken) return bad(res, 'no such STS key', 404);
    c.expiresAt = Date.now() - 1;
    res.json({ ok: true });
  });
}

export async function startAliyunOssFake(opts: { port?: number; host?: string } = {}): Promise<RunningFake<OssState>> {
  return startFake(createAliyunOssFake(), opts);
}
