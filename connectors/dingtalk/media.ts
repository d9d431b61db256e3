import { z } from 'zod';
import { defineAction, fileRef } from '../../core/connector.ts';
import { needsReauth, permanent, retryable } from '../../core/errors.ts';
import { appConnection } from './messages.ts';
import { oapiBaseUrlOf } from './sdk.ts';

/**
 * Media upload (old API; the new-API SDK has no upload): `POST {oapi}/media/upload?access_token=…&type=file`,
 * multipart with the bytes in the part `media` → `{errcode: 0, media_id, type, created_at}`. The media id
 * goes into a file message (`dingtalk.message.sendToGroup` with `type: file`, msgKey `sampleFile`).
 */
const MAX_BYTES = 20 * 1024 * 1024;
const EXPIRED = new Set([40014, 42001]);

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
    for await (const c of await ctx.files.open(input.file)) chunks.push(Buffer.from(c));
    const bytes = Buffer.concat(chunks);
    const base = oapiBaseUrlOf(conn.settings);
    ctx.trace({ request: { method: 'POST', url: `${base}/media/upload?type=${input.type}`, file: input.file } });
    const res = await conn.withToken(async (token) => {
      const form = new FormData();
      form.append('media', new Blob([bytes], { type: input.file.contentType }), input.file.name);
      let r: Response;
      try {
        r = await fetch(`${base}/media/upload?access_token=${encodeURIComponent(token)}&type=${input.type}`, {
          method: 'POST',
          body: form,
          redirect: 'manual',
          signal: AbortSignal.timeout(ctx.timeoutMs),
        });
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        throw retryable(`media/upload: DingTalk could not be reached (${e.cause?.code ?? e.message})`);
      }
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(await r.text());
      } catch {
        /* not JSON */
      }
      if (EXPIRED.has(Number(parsed.errcode))) return { status: r.status, body: { ...parsed, code: 'InvalidAuthentication' } };
      return { status: r.status, body: parsed };
    });
    const b = res.body as { errcode?: number; errmsg?: string; code?: string; media_id?: string; type?: string; created_at?: number };
    if (b.code === 'InvalidAuthentication') throw needsReauth(`media/upload: DingTalk refused the app token (${b.errcode} ${b.errmsg})`);
    if (res.status === 429 || Number(b.errcode) === 90018) throw retryable('media/upload: throttled by DingTalk', { retryAfterMs: 2000 });
    if (res.status >= 500 || Number(b.errcode) === -1) throw retryable(`media/upload: DingTalk answered ${res.status} ${b.errcode ?? ''}`);
    if (b.errcode !== 0 || !b.media_id) throw permanent(`media/upload: DingTalk answered errcode ${b.errcode}: ${b.errmsg ?? ''}`);
    const out = {
      mediaId: b.media_id,
      type: b.type ?? input.type,
      fileName: input.file.name,
      fileType: input.file.name.split('.').pop()?.toLowerCase() ?? '',
      createdAt: typeof b.created_at === 'number' ? b.created_at : null,
    };
    ctx.trace({ response: out });
    return out;
  },
});
