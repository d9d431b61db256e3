import { z } from 'zod';
import { defineAction, fileRef } from '../../core/connector.ts';
import { permanent } from '../../core/errors.ts';
import { classifyAnswer, transportError } from '../../core/http/provider-client.ts';
import { egressFetch } from '../../core/net/egress.ts';

/**
 * Files through URLs: `http.download` stores what a URL answers as a file (streamed into the hub's
 * file store), `http.upload` sends a stored file to a URL (streamed out). Both through the SSRF guard.
 */
const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:/i.test(u), 'must be an http or https URL');
const needFiles = (files: unknown) => {
  if (!files) throw permanent('files are not available here');
};
const GENERIC = { throttledStatuses: [429] };

export const httpDownload = defineAction({
  id: 'http.download',
  title: 'Download a file from a URL',
  description:
    'GETs a URL and stores the answer as a file for later steps (`{{ steps[N].output.file }}`). Private addresses are refused unless DINGBRIDGE_EGRESS_ALLOW allows them; larger than DINGBRIDGE_FILE_MAX_BYTES is refused.',
  input: z.object({ url: httpUrl, name: z.string().min(1).optional(), headers: z.record(z.string(), z.string()).default({}) }),
  output: z.object({ status: z.number(), file: fileRef }),
  sampleOutput: {
    status: 200,
    file: { fileId: 'file_sample0000000000', name: 'receipt.pdf', contentType: 'application/pdf', size: 1024, sha256: '0'.repeat(64) },
  },
  async run(ctx, input) {
    needFiles(ctx.files);
    ctx.trace({ request: { method: 'GET', url: input.url } });
    let res;
    try {
      res = await egressFetch(input.url, { headers: input.headers, timeoutMs: ctx.timeoutMs });
    } catch (err) {
      throw transportError(`GET ${input.url}`, err);
    }
    if (res.status < 200 || res.status >= 300) {
      const text = await res.text(4096).catch(() => '');
      ctx.trace({ response: { status: res.status, body: text.slice(0, 500) } });
      // A generic URL's 401 is a refused request, not a connection to re-authorise.
      throw classifyAnswer(res.status, text, res.header, GENERIC, `GET ${input.url}`, { authenticated: false })!;
    }
    const name = input.name ?? (decodeURIComponent(new URL(input.url).pathname.split('/').pop() || '') || 'download');
    const file = await ctx.files!.put(res.body, {
      name,
      contentType: res.header('content-type')?.split(';')[0]?.trim() || 'application/octet-stream',
    });
    ctx.trace({ response: { status: res.status, file } });
    return { status: res.status, file };
  },
});

export const httpUpload = defineAction({
  id: 'http.upload',
  title: 'Upload a file to a URL',
  description:
    'Sends a stored file (from an earlier step) as the raw body of a POST or PUT. Private addresses are refused unless DINGBRIDGE_EGRESS_ALLOW allows them.',
  input: z.object({
    url: httpUrl,
    file: fileRef,
    method: z.enum(['POST', 'PUT']).default('POST'),
    headers: z.record(z.string(), z.string()).default({}),
  }),
  output: z.object({ status: z.number(), body: z.unknown() }),
  sampleOutput: { status: 200, body: { ok: true } },
  async run(ctx, input) {
    needFiles(ctx.files);
    const stream = await ctx.files!.open(input.file);
    ctx.trace({ request: { method: input.method, url: input.url, file: input.file } });
    let res;
    try {
      res = await egressFetch(input.url, {
        method: input.method,
        body: stream,
        timeoutMs: ctx.timeoutMs,
        headers: { ...input.headers, 'content-type': input.file.contentType, 'content-length': String(input.file.size) },
      });
    } catch (err) {
      stream.destroy();
      throw transportError(`${input.method} ${input.url}`, err);
    }
    const text = await res.text(4096).catch(() => '');
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* text */
    }
    ctx.trace({ response: { status: res.status, body } });
    const error = classifyAnswer(res.status, body, res.header, GENERIC, `${input.method} ${input.url}`, { authenticated: false });
    if (error) throw error;
    return { status: res.status, body };
  },
});
