import { lazyRequire } from '../../core/lazy-require.ts';
import { z } from 'zod';
import type { AuthField } from '../../core/auth-kinds.ts';
import { defineAction, defineConnector, fileRef, type ActionContext, type ConnectionHandle } from '../../core/connector.ts';
import { needsReauth, permanent, retryable, StepError } from '../../core/errors.ts';
import { urlSetting } from '../../core/settings.ts';
import { aliyunOssI18n } from './i18n.ts';

// ali-oss 6.23.0 (7.x is only beta): no usable type declarations, loaded as CommonJS — on first use:
// it is about a hundred modules, and a hub that never saves to OSS should not carry them.
const OSS = lazyRequire(import.meta.url, 'ali-oss');

/** The OSS endpoint unless ALIYUN_OSS_ENDPOINT (e.g. the sandbox) says otherwise: https://oss-<region>.aliyuncs.com. */
const DEFAULT_ENDPOINT = process.env.ALIYUN_OSS_ENDPOINT || '';

export const ossFields = [
  { key: 'accessKeyId', label: 'AccessKey ID (or an STS AccessKeyId)', required: true },
  { key: 'accessKeySecret', label: 'AccessKey secret', secret: true, required: true },
  { key: 'securityToken', label: 'STS security token (with STS credentials)', secret: true },
  { key: 'bucket', label: 'Bucket', required: true },
  { key: 'region', label: 'Region', default: 'oss-cn-hangzhou' },
  {
    key: 'endpoint',
    label: 'Endpoint (default https://<region>.aliyuncs.com)',
    ...(DEFAULT_ENDPOINT ? { default: DEFAULT_ENDPOINT } : {}),
  },
  { key: 'pathStyle', label: 'Path-style addressing (true for a local endpoint)', default: process.env.ALIYUN_OSS_PATH_STYLE || 'false' },
] as const satisfies readonly AuthField[];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function ossFor(conn: ConnectionHandle, timeoutMs: number): Promise<any> {
  const secrets = await conn.secrets();
  const s = conn.settings;
  const region = String(s.region || 'oss-cn-hangzhou');
  return new (OSS())({
    region,
    bucket: String(s.bucket),
    endpoint: typeof s.endpoint === 'string' && s.endpoint ? s.endpoint : `https://${region}.aliyuncs.com`,
    secure: typeof s.endpoint === 'string' && s.endpoint ? s.endpoint.startsWith('https:') : true,
    sldEnable: String(s.pathStyle) === 'true',
    accessKeyId: String(s.accessKeyId),
    accessKeySecret: secrets.accessKeySecret,
    timeout: timeoutMs,
    ...(secrets.securityToken
      ? // STS credentials are refreshed by replacing them in the connection; ali-oss warns without an interval.
        { stsToken: secrets.securityToken, refreshSTSTokenInterval: 3_600_000 }
      : {}),
  });
}

/** OSS's XML error codes as step errors: credentials → needs reauth; throttling/5xx → retry; the rest permanent. */
function ossError(what: string, err: unknown): StepError {
  if (err instanceof StepError) return err;
  const e = err as { status?: number; code?: string; message?: string };
  const text = `${what}: OSS answered ${e.status ?? 'no status'}${e.code ? ` ${e.code}` : ''}${e.message ? ` (${e.message.split('\n')[0]})` : ''}`;
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'SecurityTokenExpired', 'InvalidSecurityToken'].includes(e.code ?? ''))
    return needsReauth(text, { status: e.status, code: e.code });
  if (!e.status || e.status === -1 || e.status === 429 || e.status === 408 || (e.status ?? 0) >= 500)
    return retryable(text, { status: e.status, code: e.code });
  return permanent(text, { status: e.status, code: e.code });
}

function conn(ctx: ActionContext, action: string): ConnectionHandle {
  if (!ctx.connection) throw permanent(`${action} needs an Alibaba Cloud OSS connection (set \`connection:\` on the step)`);
  return ctx.connection;
}

const objectKey = z
  .string()
  .min(1)
  .max(1023)
  .refine((k) => !k.startsWith('/') && !k.includes('\\'), 'an object key, e.g. contracts/2026/nda.pdf');

export const putObject = defineAction({
  id: 'aliyun_oss.object.put',
  title: 'Save a file to Alibaba Cloud OSS',
  input: z.object({
    key: objectKey,
    file: fileRef,
    contentType: z.string().min(1).max(200).optional().describe("default: the file's own content type"),
    metadata: z
      .record(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), z.string().max(1024))
      .default({})
      .describe('x-oss-meta-*'),
    signedUrlSeconds: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .default(3600)
      .describe('lifetime of the returned signed URL'),
  }),
  output: z.object({ bucket: z.string(), key: z.string(), etag: z.string(), size: z.number(), url: z.string(), expiresAt: z.string() }),
  sampleOutput: { bucket: 'contracts', key: 'contracts/2026/nda — signed.pdf', etag: '"5D41402ABC4B2A76B9719D911017C592"', size: 2048 },
  async run(ctx, input) {
    const c = conn(ctx, 'aliyun_oss.object.put');
    if (!ctx.files) throw permanent('files are not available to this step');
    const oss = await ossFor(c, ctx.timeoutMs);
    const chunks: Buffer[] = [];
    for await (const chunk of await ctx.files.open(input.file)) chunks.push(Buffer.from(chunk));
    const body = Buffer.concat(chunks);
    ctx.trace({
      request: { key: input.key, size: body.length, contentType: input.contentType ?? input.file.contentType, metadata: input.metadata },
    });
    let put: { res?: { headers?: Record<string, string> } };
    try {
      put = await oss.put(input.key, body, { mime: input.contentType ?? input.file.contentType, meta: input.metadata });
    } catch (err) {
      throw ossError(`put ${input.key}`, err);
    }
    const url: string = oss.signatureUrl(input.key, { expires: input.signedUrlSeconds });
    return {
      bucket: String(c.settings.bucket),
      key: input.key,
      etag: String(put.res?.headers?.etag ?? ''),
      size: body.length,
      url,
      expiresAt: new Date(Date.now() + input.signedUrlSeconds * 1000).toISOString(),
    };
  },
});

export const signedUrl = defineAction({
  id: 'aliyun_oss.object.signed_url',
  title: 'A time-limited link to an OSS object',
  input: z.object({
    key: objectKey,
    expiresSeconds: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .default(3600),
  }),
  output: z.object({ url: z.string(), expiresAt: z.string() }),
  async run(ctx, input) {
    const oss = await ossFor(conn(ctx, 'aliyun_oss.object.signed_url'), ctx.timeoutMs);
    try {
      await oss.head(input.key);
    } catch (err) {
      throw ossError(`head ${input.key}`, err);
    }
    return {
      url: oss.signatureUrl(input.key, { expires: input.expiresSeconds }),
      expiresAt: new Date(Date.now() + input.expiresSeconds * 1000).toISOString(),
    };
  },
});

export default defineConnector({
  id: 'aliyun_oss',
  name: 'Alibaba Cloud OSS',
  env: z.object({
    ALIYUN_OSS_ENDPOINT: urlSetting(['http:', 'https:']).optional(),
    ALIYUN_OSS_PATH_STYLE: z.enum(['true', 'false']).optional(),
  }),
  auth: {
    kind: 'api_token',
    fields: [...ossFields],
    async test(c) {
      const oss = await ossFor(c, 15_000);
      try {
        const list = await oss.list({ 'max-keys': 1 }, {});
        return { bucket: c.settings.bucket, objects: (list.objects ?? []).length };
      } catch (err) {
        throw ossError('list the bucket', err);
      }
    },
  },
  triggers: [],
  actions: [putObject, signedUrl],
  i18n: aliyunOssI18n,
});
