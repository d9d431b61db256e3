import type { Readable } from 'node:stream';
import type { drive_v3 } from '@googleapis/drive';
import type { OAuth2Client } from 'google-auth-library';
import { z } from 'zod';
import { defineAction, fileRef, type ActionContext, type FileRef } from '../../../core/connector.ts';
import { permanent, retryable } from '../../../core/errors.ts';
import type { Logger } from '../../../core/logger.ts';
import { driveFor, googleAuthFor, googleRootUrl, requireConnection } from '../client.ts';
import { mapGoogleError } from '../errors.ts';
import {
  driveFileOutput,
  driveFileSample,
  FILE_FIELDS,
  fileOut,
  findByMarker,
  IDEMPOTENCY_PROPERTY,
  idempotencyMarker,
  type DriveFileOutput,
} from './common.ts';

/** Files from this size on go up resumably (Google: "use resumable uploads for files larger than 5 MB"). */
export const RESUMABLE_FROM_BYTES = 5 * 1024 * 1024;
/** Chunks other than the last must be multiples of 256 KiB; Google suggests at least 8 MiB. */
export const CHUNK_BYTES = 32 * 256 * 1024;
/** Interruptions in a row without progress before the attempt gives up (the step retries later). */
const MAX_STALLS = 5;
/** New sessions after the session URI was refused as expired or unknown. */
const MAX_RESTARTS = 2;

export const uploadFileInput = z.object({
  folderId: z.string().min(1).describe('the Drive folder (or shared drive folder) id to upload into'),
  name: z.string().min(1).max(32767).describe('the file name in Drive'),
  file: fileRef,
  mimeType: z.string().min(1).optional().describe("default: the file's content type"),
});

/**
 * Uploads a file an earlier step stored (`fileRef`) into a Drive folder: multipart below 5 MB, resumable
 * above (256 KiB-multiple chunks; a dropped connection asks the session where it stands with
 * `Content-Range: bytes *\/total` and resumes there; an expired session starts over). A retried step
 * finds the file its earlier attempt made by the `appProperties` marker and answers it again.
 */
export const uploadFile = defineAction({
  id: 'google.drive.upload_file',
  title: 'Upload a file to Google Drive',
  description: 'Uploads a file from an earlier step into a Drive folder (resumable above 5 MB).',
  input: uploadFileInput,
  output: driveFileOutput,
  sampleOutput: driveFileSample,
  outputRef: (o) => ({ kind: 'google.drive.file', id: o.id }),
  async run(ctx, input) {
    const conn = requireConnection(ctx.connection, 'google.drive.upload_file');
    if (!ctx.files) throw permanent('google.drive.upload_file: this step has no file access');
    const drv = await driveFor(conn);
    const marker = idempotencyMarker(ctx.idempotencyKey);
    try {
      const earlier = await findByMarker(drv, input.folderId, marker);
      if (earlier) {
        ctx.log.info({ fileId: earlier.id }, 'Drive upload: an earlier attempt of this step already made the file');
        return fileOut(earlier);
      }
    } catch (err) {
      throw mapGoogleError('Drive files.list (looking for an earlier attempt)', err);
    }
    const meta: drive_v3.Schema$File = {
      name: input.name,
      parents: [input.folderId],
      mimeType: input.mimeType ?? input.file.contentType,
      appProperties: { [IDEMPOTENCY_PROPERTY]: marker },
    };
    const files = ctx.files;
    const open = () => files.open(input.file);
    if (input.file.size < RESUMABLE_FROM_BYTES) {
      try {
        const res = await drv.files.create(
          {
            requestBody: meta,
            media: { mimeType: meta.mimeType ?? 'application/octet-stream', body: await open() },
            fields: FILE_FIELDS,
            supportsAllDrives: true,
          },
          { rootUrl: googleRootUrl(conn), retry: false, timeout: ctx.timeoutMs },
        );
        return fileOut(res.data);
      } catch (err) {
        throw mapGoogleError('Drive files.create (multipart upload)', err);
      }
    }
    const auth = await googleAuthFor(conn);
    return resumableUpload({ drv, auth, baseUrl: googleRootUrl(conn), meta, file: input.file, open, log: ctx.log, ctx });
  },
});

class SessionGone extends Error {}

interface ResumableArgs {
  drv: drive_v3.Drive;
  auth: OAuth2Client;
  baseUrl: string;
  meta: drive_v3.Schema$File;
  file: FileRef;
  open: () => Promise<Readable>;
  log: Logger;
  ctx: Pick<ActionContext, 'timeoutMs'>;
}

/** Exported for tests: the resumable protocol, driven by hand (the SDK has no resumable loop). */
export async function resumableUpload(args: ResumableArgs): Promise<DriveFileOutput> {
  for (let restart = 0; ; restart++) {
    const session = await startSession(args);
    try {
      return fileOut(await sendChunks(args, session));
    } catch (err) {
      if (!(err instanceof SessionGone) || restart >= MAX_RESTARTS) throw err instanceof SessionGone ? retryable(err.message) : err;
      args.log.warn({ restart: restart + 1 }, 'Drive upload: the session is gone (expired or unknown): starting over');
    }
  }
}

async function startSession({ drv, baseUrl, meta, file, ctx }: ResumableArgs): Promise<string> {
  try {
    const res = await drv.files.create(
      { uploadType: 'resumable', requestBody: meta, fields: FILE_FIELDS, supportsAllDrives: true } as drive_v3.Params$Resource$Files$Create,
      {
        url: `${baseUrl}upload/drive/v3/files`,
        retry: false,
        timeout: ctx.timeoutMs,
        headers: {
          'X-Upload-Content-Type': meta.mimeType ?? 'application/octet-stream',
          'X-Upload-Content-Length': String(file.size),
        },
      },
    );
    const location = headerOf(res.headers, 'location');
    if (!location) throw permanent('Drive did not answer a resumable session URI (no Location header)');
    return location;
  } catch (err) {
    throw mapGoogleError('Drive files.create (resumable session)', err);
  }
}

const headerOf = (headers: unknown, name: string): string | undefined => {
  if (!headers) return undefined;
  const h = headers as { get?: (n: string) => string | null } & Record<string, string | undefined>;
  return (typeof h.get === 'function' ? h.get(name) : h[name]) ?? undefined;
};

/** The next byte the session wants, from a 308's `Range: bytes=0-N` (none: nothing stored yet). */
const nextOffset = (headers: unknown): number => {
  const m = /bytes=0-(\d+)/.exec(headerOf(headers, 'range') ?? '');
  return m ? Number(m[1]) + 1 : 0;
};

interface PutAnswer {
  status: number;
  data: drive_v3.Schema$File;
  headers: unknown;
}

async function put(args: ResumableArgs, session: string, headers: Record<string, string>, data?: Buffer): Promise<PutAnswer> {
  const r = await args.auth.request<drive_v3.Schema$File>({
    url: session,
    method: 'PUT',
    data: data ?? '',
    headers,
    retry: false,
    timeout: Math.max(args.ctx.timeoutMs, 60_000),
    validateStatus: () => true,
  });
  return { status: r.status, data: r.data, headers: r.headers };
}

const isDone = (s: number) => s === 200 || s === 201;

async function sendChunks(args: ResumableArgs, session: string): Promise<drive_v3.Schema$File> {
  const total = args.file.size;
  const reader = new ChunkReader(args.open);
  let offset = 0;
  let stalls = 0;
  for (;;) {
    const chunk = await reader.at(offset, CHUNK_BYTES);
    const end = offset + chunk.length;
    let answer: PutAnswer | undefined;
    try {
      answer = await put(
        args,
        session,
        { 'Content-Range': `bytes ${offset}-${end - 1}/${total}`, 'Content-Type': args.meta.mimeType ?? 'application/octet-stream' },
        chunk,
      );
    } catch (err) {
      if ((err as { response?: unknown }).response) throw mapGoogleError('Drive upload chunk', err);
      args.log.warn({ offset, err: (err as Error).message }, 'Drive upload: the connection dropped; asking the session where it stands');
    }
    if (answer && isDone(answer.status)) return answer.data;
    if (answer && (answer.status === 404 || answer.status === 410)) throw new SessionGone('the upload session expired');
    if (answer && answer.status === 308) {
      const next = nextOffset(answer.headers);
      stalls = next > offset ? 0 : stalls + 1;
      offset = next;
    } else {
      if (answer && answer.status < 500 && answer.status !== 408 && answer.status !== 429)
        throw mapGoogleError('Drive upload chunk', { response: { status: answer.status, data: answer.data, headers: answer.headers } });
      // Interrupted (dropped or 5xx): the status query says how much arrived.
      const status = await queryStatus(args, session, total);
      if (isDone(status.status)) return status.data;
      const next = nextOffset(status.headers);
      stalls = next > offset ? 0 : stalls + 1;
      offset = next;
    }
    if (stalls >= MAX_STALLS) throw retryable(`Drive upload made no progress after ${stalls} tries at byte ${offset} of ${total}`);
  }
}

/** `PUT` with `Content-Range: bytes *\/total`: 308 (+ Range) while incomplete, 200 with the file when whole. */
async function queryStatus(args: ResumableArgs, session: string, total: number): Promise<PutAnswer> {
  for (let i = 0; ; i++) {
    try {
      const r = await put(args, session, { 'Content-Range': `bytes */${total}` });
      if (r.status === 404 || r.status === 410) throw new SessionGone('the upload session expired');
      if (r.status === 308 || isDone(r.status)) return r;
      if (r.status < 500 || i >= 4)
        throw mapGoogleError('Drive upload status', { response: { status: r.status, data: r.data, headers: r.headers } });
    } catch (err) {
      if (err instanceof SessionGone || (err as { response?: unknown }).response || i >= 4) {
        if (err instanceof SessionGone || (err as Error).name === 'StepError') throw err;
        throw mapGoogleError('Drive upload status', err);
      }
    }
    await new Promise((r) => setTimeout(r, 250 * 2 ** i));
  }
}

/**
 * Reads the stored file forward in pieces of the asked size; asking for an offset before the piece it
 * holds (the session kept less than was sent of an earlier piece) reopens the file and skips ahead.
 */
class ChunkReader {
  private it: AsyncIterator<Uint8Array> | undefined;
  private pending = Buffer.alloc(0);
  /** The file offset of `pending[0]`. */
  private pos = 0;
  private held: { start: number; data: Buffer } | undefined;

  constructor(private readonly open: () => Promise<Readable>) {}

  async at(offset: number, size: number): Promise<Buffer> {
    const h = this.held;
    if (h && offset >= h.start && offset < h.start + h.data.length) {
      // Resume inside the piece last read: send its rest (≤ one chunk), then read on.
      return h.data.subarray(offset - h.start);
    }
    if (offset < this.pos) await this.reopen();
    await this.skipTo(offset);
    const data = await this.take(size);
    this.held = { start: offset, data };
    return data;
  }

  private async reopen() {
    await this.it?.return?.();
    this.it = undefined;
    this.pending = Buffer.alloc(0);
    this.pos = 0;
  }

  private async fill(n: number): Promise<void> {
    if (!this.it) this.it = (await this.open())[Symbol.asyncIterator]();
    const parts = [this.pending];
    let have = this.pending.length;
    while (have < n) {
      const next = await this.it.next();
      if (next.done) break;
      const b = Buffer.from(next.value);
      parts.push(b);
      have += b.length;
    }
    this.pending = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  private async skipTo(offset: number) {
    while (this.pos < offset) {
      await this.fill(Math.min(offset - this.pos, CHUNK_BYTES));
      if (!this.pending.length) throw permanent(`the stored file ended before byte ${offset}`);
      const drop = Math.min(this.pending.length, offset - this.pos);
      this.pending = this.pending.subarray(drop);
      this.pos += drop;
    }
  }

  private async take(size: number): Promise<Buffer> {
    await this.fill(size);
    const data = Buffer.from(this.pending.subarray(0, size));
    this.pending = this.pending.subarray(data.length);
    this.pos += data.length;
    if (!data.length) throw permanent('the stored file is shorter than its size says');
    return data;
  }
}
