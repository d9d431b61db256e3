import crypto from 'node:crypto';
import { z } from 'zod';
import { defineAction, fileRef } from '../../core/connector.ts';
import { needsReauth, permanent, StepError } from '../../core/errors.ts';
import { createProviderClient, type ProviderRules } from '../../core/http/provider-client.ts';
import { appConnection } from './messages.ts';
import { oapiBaseUrlOf } from './sdk.ts';

/**
 * Media upload (old API; the new-API SDK has no upload): `POST {oapi}/media/upload?access_token=…&type=file`,
 * multipart with the bytes in the part `media` → `{errcode: 0, media_id, type, created_at}`. The media id
 * goes into a file message (`dingtalk.message.sendToGroup` with `type: file`, msgKey `sampleFile`).
 * The call goes through the shared provider client (the egress path, its timeout on the answer and on
 * every pause of the body, DingTalk's errcodes as rules); the token is the app's, in the query.
 */
const MAX_BYTES = 20 * 1024 * 1024;
const EXPIRED = ['40014', '42001'];

/** The old API's answers: errcode 0 is success; 90018 is throttled; -1 is DingTalk busy; 40014/42001 an expired token. */
const OAPI_RULES: ProviderRules = {
  codePath: 'errcode',
  okCodes: [0],
  throttledCodes: [90018],
  throttleDelayMs: 2000,
  expiredCodes: EXPIRED,
  retryableCodes: [-1],
};

/** A multipart/form-data body of one file part, as a browser's FormData would send it. */
export function multipartFile(
  field: string,
  file: { name: string; contentType: string },
  bytes: Buffer,
): { body: Buffer; contentType: string } {
  const boundary = `----dingbridge${crypto.randomBytes(12).toString('hex')}`;
  // Quotes and line breaks in a name are escaped as the HTML spec's FormData does.
  const quoted = (s: string) => s.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22');
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(field)}"; filename="${quoted(file.name)}"\r\n` +
      `Content-Type: ${file.contentType.replace(/[\r\n]/g, '') || 'application/octet-stream'}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { body: Buffer.concat([head, bytes, tail]), contentType: `multipart/form-data; boundary=${boundary}` };
}

interface MediaAnswer {
  errcode?: number;
  errmsg?: string;
  media_id?: string;
  type?: string;
  created_at?: number;
}

export const mediaUpload = defineAction({
  id: 'dingtalk.media.upload',
  title: 'Upload a file to DingTalk (for a file message)',
  description:
    'Sends a stored file (from an earlier step) to DingTalk and gives its mediaId for a file message. Files: doc, docx, xls, xlsx, ppt, pptx, zip, pdf, rar up to 20 MB.',
  input: z.object({ file: fileRef, type: z.enum(['file', 'image', 'voice', 'video']).default('file') }),
  output: z.object({ mediaId: z.string(), type: z.string(), fileName: z.string(), fileType: z.string(), createdAt: z.number().nullable() }),
  sampleOutput: { mediaId: '@lAzPDe7s1abcdef', type: 'file', fileName: 'kpis-2026-11.pdf', fileType: 'pdf', createdAt: 1764550800000 },
  async run(ctx, input) {
    const conn = appConnection(ctx.connection, 'dingtalk.media.upload');
    if (!ctx.files) throw permanent('files are not available here');
    if (input.file.size > MAX_BYTES) throw permanent(`${input.file.name} is larger than DingTalk's 20 MB limit for media`);
    const chunks: Buffer[] = [];
    for await (const c of await ctx.files.open(input.file)) {
      ctx.signal?.throwIfAborted();
      chunks.push(Buffer.from(c));
    }
    const { body, contentType } = multipartFile('media', input.file, Buffer.concat(chunks));
    const options = { name: 'DingTalk', baseUrl: oapiBaseUrlOf(conn.settings), rules: OAPI_RULES, timeoutMs: ctx.timeoutMs };
    const http = ctx.http ? ctx.http(options) : createProviderClient(options);
    // An expired token is handed back to withToken as the connection's expiry signal: it refreshes once and calls again.
    const res = await conn.withToken(async (token) => {
      try {
        const r = await http.request<MediaAnswer>({
          method: 'POST',
          url: '/media/upload',
          query: { access_token: token, type: input.type },
          body,
          contentType,
        });
        return { status: r.status, body: r.body as MediaAnswer & { code?: string } };
      } catch (err) {
        if (err instanceof StepError && err.errorClass === 'needs_reauth' && EXPIRED.includes(String(err.details.code)))
          return {
            status: 200,
            body: { errcode: Number(err.details.code), code: 'InvalidAuthentication' } as MediaAnswer & { code?: string },
          };
        throw err;
      }
    });
    const b = res.body;
    if (b.code === 'InvalidAuthentication') throw needsReauth(`media/upload: DingTalk refused the app token (${b.errcode})`);
    if (!b.media_id) throw permanent(`media/upload: DingTalk answered errcode ${b.errcode ?? '(none)'} without a media_id`);
    const out = {
      mediaId: b.media_id,
      type: b.type ?? input.type,
      fileName: input.file.name,
      fileType: input.file.name.split('.').pop()?.toLowerCase() ?? '',
      createdAt: typeof b.created_at === 'number' ? b.created_at : null,
    };
    ctx.trace({ request: { method: 'POST', url: `${options.baseUrl}/media/upload?type=${input.type}`, file: input.file }, response: out });
    return out;
  },
});
