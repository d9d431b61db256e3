import crypto from 'node:crypto';

/** Sub-resources that OSS V1 puts in the CanonicalizedResource (other query parameters are not signed). */
export const SIGNED_SUBRESOURCES = new Set([
  'acl',
  'uploads',
  'location',
  'cors',
  'logging',
  'website',
  'referer',
  'lifecycle',
  'delete',
  'append',
  'tagging',
  'objectMeta',
  'uploadId',
  'partNumber',
  'security-token',
  'position',
  'img',
  'style',
  'styleName',
  'replication',
  'replicationProgress',
  'replicationLocation',
  'cname',
  'bucketInfo',
  'comp',
  'qos',
  'live',
  'status',
  'vod',
  'startTime',
  'endTime',
  'symlink',
  'x-oss-process',
  'response-content-type',
  'response-content-language',
  'response-expires',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'udf',
  'restore',
  'callback',
  'callback-var',
  'policy',
  'stat',
  'encryption',
  'versions',
  'versioning',
  'versionId',
  'x-oss-traffic-limit',
  'continuation-token',
  'list-type',
  'metaQuery',
  'inventory',
]);

type Headers = Record<string, string | string[] | undefined>;
const h = (headers: Headers, name: string) => {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : (v ?? '');
};

/** CanonicalizedOSSHeaders: x-oss-* lowercased, sorted, `name:value` lines. */
function ossHeaderLines(headers: Headers): string[] {
  return Object.keys(headers)
    .filter((k) => k.toLowerCase().startsWith('x-oss-'))
    .map((k) => k.toLowerCase())
    .sort()
    .map((k) => `${k}:${h(headers, k).trim()}`);
}

export function canonicalResource(bucket: string | undefined, key: string, query: Record<string, string>): string {
  let r = bucket ? `/${bucket}/${key}` : '/';
  const subs = Object.keys(query)
    .filter((k) => SIGNED_SUBRESOURCES.has(k))
    .sort();
  if (subs.length) r += `?${subs.map((k) => (query[k] === '' ? k : `${k}=${query[k]}`)).join('&')}`;
  return r;
}

/** V1 string to sign (header form): the Date slot is x-oss-date when sent (ali-oss sends only that), else Date. */
export function stringToSignV1(method: string, headers: Headers, resource: string, expires?: string): string {
  const date = expires ?? (h(headers, 'x-oss-date') || h(headers, 'date'));
  return [method.toUpperCase(), h(headers, 'content-md5'), h(headers, 'content-type'), date, ...ossHeaderLines(headers), resource].join(
    '\n',
  );
}

export const signV1 = (secret: string, stringToSign: string) =>
  crypto.createHmac('sha1', secret).update(Buffer.from(stringToSign, 'utf8')).digest('base64');

const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** V4 (OSS4-HMAC-SHA256) canonical request and signature, as the OSS V4 signing documentation describes. */
export function signV4(input: {
  secret: string;
  method: string;
  bucket?: string;
  key: string;
  query: Record<string, string>;
  headers: Headers;
  additionalHeaders: string[];
  date: string;
  region: string;
  product?: string;
}): { canonicalRequest: string; stringToSign: string; signature: string } {
  const product = input.product ?? 'oss';
  const uri = rfc3986(`/${input.bucket ? `${input.bucket}/` : ''}${input.key}`).replace(/%2F/g, '/');
  const qs = Object.keys(input.query)
    .filter((k) => k !== 'x-oss-signature')
    .sort()
    .map((k) => (input.query[k] === '' ? rfc3986(k) : `${rfc3986(k)}=${rfc3986(input.query[k]!)}`))
    .join('&');
  const lower: Headers = {};
  for (const [k, v] of Object.entries(input.headers)) lower[k.toLowerCase()] = v;
  const names = new Set(input.additionalHeaders);
  for (const k of Object.keys(lower)) if (k === 'content-type' || k === 'content-md5' || k.startsWith('x-oss-')) names.add(k);
  const canonicalHeaders = [...names]
    .sort()
    .map((k) => `${k}:${h(lower, k).trim()}\n`)
    .join('');
  const canonicalRequest = [
    input.method.toUpperCase(),
    uri,
    qs,
    canonicalHeaders,
    input.additionalHeaders.join(';'),
    h(lower, 'x-oss-content-sha256') || 'UNSIGNED-PAYLOAD',
  ].join('\n');
  const day = input.date.split('T')[0]!;
  const scope = `${day}/${input.region}/${product}/aliyun_v4_request`;
  const stringToSign = ['OSS4-HMAC-SHA256', input.date, scope, crypto.createHash('sha256').update(canonicalRequest).digest('hex')].join(
    '\n',
  );
  const hmac = (k: crypto.BinaryLike, d: string) => crypto.createHmac('sha256', k).update(d).digest();
  const signingKey = hmac(hmac(hmac(hmac(`aliyun_v4${input.secret}`, day), input.region), product), 'aliyun_v4_request');
  return { canonicalRequest, stringToSign, signature: crypto.createHmac('sha256', signingKey).update(stringToSign).digest('hex') };
}
