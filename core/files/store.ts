import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { sql, type Generated } from 'kysely';
import { z } from 'zod';
import type { Db } from '../db/database.ts';
import { StepError } from '../errors.ts';

/**
 * Files between steps: binary content (a receipt, a signed PDF) moves as a `FileRef`, never inside
 * JSON, traces, templates or logs. The bytes are stored in PostgreSQL in chunks, streamed in and out
 * (never whole in memory), limited per file, and pruned after the retention period.
 */

declare module '../db/schema.ts' {
  interface Database {
    files: FilesTable;
    file_chunks: FileChunksTable;
  }
}

export interface FilesTable {
  id: string;
  event_id: string | null;
  step_run_id: string | null;
  name: string;
  content_type: string;
  size: Generated<string>;
  sha256: string | null;
  created_at: Generated<Date>;
  expires_at: Date;
}
export interface FileChunksTable {
  file_id: string;
  seq: number;
  data: Buffer;
}

/** What steps pass on and templates see: never the content. */
export const fileRef = z
  .object({
    fileId: z.string().regex(/^file_[A-Za-z0-9_-]{10,64}$/, 'a file id'),
    name: z.string(),
    contentType: z.string(),
    size: z.number().int().nonnegative(),
    sha256: z.string(),
  })
  .describe('A file stored by an earlier step (ctx.files.put): pass `{{ steps[N].output.file }}`');
export type FileRef = z.output<typeof fileRef>;

/** What an action gets as `ctx.files`. */
export interface FileAccess {
  put(content: Readable | AsyncIterable<Uint8Array> | Buffer, meta: { name: string; contentType?: string }): Promise<FileRef>;
  open(ref: FileRef | string): Promise<Readable>;
}

/** A file above the limit: a permanent step error (HTTP 413 where an HTTP caller sent it). */
export class FileTooLargeError extends StepError {
  constructor(name: string, maxBytes: number) {
    super(
      `file "${name}" is larger than the limit of ${formatBytes(maxBytes)} (DINGBRIDGE_FILE_MAX_BYTES); it was not stored`,
      'permanent',
      { status: 413, code: 'file_too_large' },
    );
    this.name = 'FileTooLargeError';
  }
}

export const formatBytes = (n: number) =>
  n >= 1_048_576 ? `${Math.round((n / 1_048_576) * 10) / 10} MB` : n >= 1024 ? `${Math.round(n / 1024)} KB` : `${n} bytes`;

const CHUNK = 256 * 1024;

export interface FileStoreOptions {
  maxBytes: number;
  retentionDays: number;
}

export class FileStore {
  constructor(
    private readonly db: Db,
    private readonly opts: FileStoreOptions,
  ) {}

  /**
   * Streams `content` into chunks; the file exists only once it is whole (one transaction). Above the
   * limit the transaction is rolled back and FileTooLargeError thrown.
   */
  async put(
    content: Readable | AsyncIterable<Uint8Array> | Buffer,
    meta: { name: string; contentType?: string; eventId?: string | null; stepRunId?: string | null },
  ): Promise<FileRef> {
    const id = `file_${crypto.randomBytes(16).toString('base64url')}`;
    const name = meta.name.slice(0, 255) || 'file';
    const contentType = meta.contentType || 'application/octet-stream';
    const source: AsyncIterable<Uint8Array> = Buffer.isBuffer(content) ? Readable.from([content]) : content;
    return this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('files')
        .values({
          id,
          name,
          content_type: contentType,
          event_id: meta.eventId ?? null,
          step_run_id: meta.stepRunId ?? null,
          expires_at: new Date(Date.now() + this.opts.retentionDays * 86_400_000),
        })
        .execute();
      const hash = crypto.createHash('sha256');
      let size = 0;
      let seq = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = async () => {
        if (!pendingBytes) return;
        const data = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
        pending = [];
        pendingBytes = 0;
        await trx.insertInto('file_chunks').values({ file_id: id, seq: seq++, data }).execute();
      };
      for await (const piece of source) {
        const buf = Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
        size += buf.length;
        if (size > this.opts.maxBytes) {
          (content as Readable).destroy?.();
          throw new FileTooLargeError(name, this.opts.maxBytes);
        }
        hash.update(buf);
        pending.push(buf);
        pendingBytes += buf.length;
        if (pendingBytes >= CHUNK) await flush();
      }
      await flush();
      const sha256 = hash.digest('hex');
      await trx
        .updateTable('files')
        .set({ size: String(size), sha256 })
        .where('id', '=', id)
        .execute();
      return { fileId: id, name, contentType, size, sha256 };
    });
  }

  async get(id: string) {
    return this.db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listForEvent(eventId: string) {
    const rows = await this.db
      .selectFrom('files')
      .select(['id', 'name', 'content_type', 'size', 'sha256', 'created_at', 'expires_at', 'step_run_id'])
      .where('event_id', '=', eventId)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      contentType: r.content_type,
      size: Number(r.size),
      sha256: r.sha256,
      stepRunId: r.step_run_id,
      createdAt: new Date(r.created_at).toISOString(),
      expiresAt: new Date(r.expires_at).toISOString(),
    }));
  }

  /** The file's bytes as a stream, read a chunk at a time. */
  async open(ref: FileRef | string): Promise<Readable> {
    const id = typeof ref === 'string' ? ref : ref.fileId;
    const row = await this.get(id);
    if (!row || row.sha256 === null)
      throw new StepError(`file ${id} does not exist (past its retention, or never stored)`, 'permanent', {
        code: 'file_not_found',
        status: 404,
      });
    const db = this.db;
    let seq = 0;
    return new Readable({
      highWaterMark: 1,
      objectMode: false,
      async read() {
        try {
          const chunk = await db
            .selectFrom('file_chunks')
            .select('data')
            .where('file_id', '=', id)
            .where('seq', '=', seq)
            .executeTakeFirst();
          seq += 1;
          this.push(chunk ? chunk.data : null);
        } catch (err) {
          this.destroy(err as Error);
        }
      },
    });
  }

  /** Deletes files past their retention (their chunks go with them). */
  async prune(limit = 1000): Promise<number> {
    const res = await sql<{ id: string }>`
      delete from files where id in (select id from files where expires_at < now() order by expires_at limit ${limit}) returning id`.execute(
      this.db,
    );
    return res.rows.length;
  }

  /** `ctx.files` for one step. */
  access(owner: { eventId?: string | null; stepRunId?: string | null }): FileAccess {
    return {
      put: (content, meta) => this.put(content, { ...meta, ...owner }),
      open: (ref) => this.open(ref),
    };
  }
}
