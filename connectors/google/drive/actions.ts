import { z } from 'zod';
import { defineAction, fileRef } from '../../../core/connector.ts';
import { permanent } from '../../../core/errors.ts';
import { driveFor, requireConnection } from '../client.ts';
import { mapGoogleError } from '../errors.ts';
import {
  driveFileOutput,
  driveFileSample,
  FILE_FIELDS,
  FOLDER_MIME,
  fileOut,
  findByMarker,
  IDEMPOTENCY_PROPERTY,
  idempotencyMarker,
} from './common.ts';

/** Drive actions besides the upload (drive/upload.ts): create a folder, share, get a file as a fileRef. */

export const createFolder = defineAction({
  id: 'google.drive.create_folder',
  title: 'Create a Google Drive folder',
  input: z.object({
    name: z.string().min(1).max(32767).describe('the folder name'),
    parentId: z.string().min(1).optional().describe('the folder (or shared drive) to create it in; default My Drive'),
  }),
  output: driveFileOutput,
  sampleOutput: { ...driveFileSample, name: 'Contracts 2026', mimeType: FOLDER_MIME, size: 0 },
  outputRef: (o) => ({ kind: 'google.drive.file', id: o.id }),
  async run(ctx, input) {
    const drv = await driveFor(requireConnection(ctx.connection, 'google.drive.create_folder'));
    const marker = idempotencyMarker(ctx.idempotencyKey);
    try {
      const earlier = await findByMarker(drv, input.parentId, marker);
      if (earlier) return fileOut(earlier);
      const res = await drv.files.create(
        {
          requestBody: {
            name: input.name,
            mimeType: FOLDER_MIME,
            ...(input.parentId ? { parents: [input.parentId] } : {}),
            appProperties: { [IDEMPOTENCY_PROPERTY]: marker },
          },
          fields: FILE_FIELDS,
          supportsAllDrives: true,
        },
        { retry: false, timeout: ctx.timeoutMs },
      );
      return fileOut(res.data);
    } catch (err) {
      throw mapGoogleError('Drive files.create (folder)', err);
    }
  },
});

const shareOutput = z.object({
  permissionId: z.string(),
  fileId: z.string(),
  role: z.string(),
  type: z.string(),
  emailAddress: z.string().nullable(),
  domain: z.string().nullable(),
});

export const share = defineAction({
  id: 'google.drive.share',
  title: 'Share a Google Drive file or folder',
  input: z
    .object({
      fileId: z.string().min(1),
      role: z.enum(['reader', 'commenter', 'writer', 'fileOrganizer', 'organizer']).default('reader'),
      type: z.enum(['user', 'group', 'domain', 'anyone']).default('user'),
      emailAddress: z.string().email().optional().describe('for type user or group'),
      domain: z.string().min(1).optional().describe('for type domain'),
      notify: z.boolean().default(false).describe("send Google's notification email"),
      message: z.string().max(10_000).optional().describe('text of the notification email'),
    })
    .refine((v) => (v.type === 'user' || v.type === 'group' ? Boolean(v.emailAddress) : true), {
      message: 'emailAddress is required for type user or group',
      path: ['emailAddress'],
    })
    .refine((v) => (v.type === 'domain' ? Boolean(v.domain) : true), { message: 'domain is required for type domain', path: ['domain'] }),
  output: shareOutput,
  sampleOutput: {
    permissionId: '09876543210987654321',
    fileId: driveFileSample.id,
    role: 'reader',
    type: 'user',
    emailAddress: 'alice@example.com',
    domain: null,
  },
  async run(ctx, input) {
    const drv = await driveFor(requireConnection(ctx.connection, 'google.drive.share'));
    try {
      // Granting the same role to the same grantee again changes nothing at Google: a retried step is harmless.
      const res = await drv.permissions.create(
        {
          fileId: input.fileId,
          supportsAllDrives: true,
          sendNotificationEmail: input.type === 'user' || input.type === 'group' ? input.notify : undefined,
          emailMessage: input.notify ? input.message : undefined,
          fields: 'id,role,type,emailAddress,domain',
          requestBody: {
            role: input.role,
            type: input.type,
            ...(input.emailAddress ? { emailAddress: input.emailAddress } : {}),
            ...(input.domain ? { domain: input.domain } : {}),
          },
        },
        { retry: false, timeout: ctx.timeoutMs },
      );
      return {
        permissionId: res.data.id ?? '',
        fileId: input.fileId,
        role: res.data.role ?? input.role,
        type: res.data.type ?? input.type,
        emailAddress: res.data.emailAddress ?? null,
        domain: res.data.domain ?? null,
      };
    } catch (err) {
      throw mapGoogleError('Drive permissions.create', err);
    }
  },
});

const getFileOutput = driveFileOutput.extend({ file: fileRef });

export const getFile = defineAction({
  id: 'google.drive.get_file',
  title: 'Get a Google Drive file (as a file for the next steps)',
  input: z.object({ fileId: z.string().min(1) }),
  output: getFileOutput,
  sampleOutput: { ...driveFileSample },
  outputRef: (o) => ({ kind: 'google.drive.file', id: o.id }),
  async run(ctx, input) {
    const drv = await driveFor(requireConnection(ctx.connection, 'google.drive.get_file'));
    if (!ctx.files) throw permanent('google.drive.get_file: this step has no file access');
    try {
      const meta = await drv.files.get({ fileId: input.fileId, fields: FILE_FIELDS, supportsAllDrives: true }, { retry: false });
      if (meta.data.mimeType?.startsWith('application/vnd.google-apps.'))
        throw permanent(
          `Drive file ${input.fileId} is a Google ${meta.data.mimeType.slice('application/vnd.google-apps.'.length)}: it has no binary content to download`,
          { code: 'fileNotDownloadable' },
        );
      const media = await drv.files.get(
        { fileId: input.fileId, alt: 'media', supportsAllDrives: true },
        { responseType: 'stream', retry: false, timeout: Math.max(ctx.timeoutMs, 60_000) },
      );
      const file = await ctx.files.put(media.data as unknown as NodeJS.ReadableStream & AsyncIterable<Uint8Array>, {
        name: meta.data.name ?? input.fileId,
        contentType: meta.data.mimeType ?? 'application/octet-stream',
      });
      return { ...fileOut(meta.data), size: file.size, file };
    } catch (err) {
      throw mapGoogleError('Drive files.get', err);
    }
  },
});

/** Files made in a folder in a time range (for a history backfill): Drive files.list by createdTime, all pages. */
export const listFiles = defineAction({
  id: 'google.drive.list_files',
  title: 'List the files made in a Google Drive folder in a time range',
  input: z.object({
    folderId: z.string().min(1),
    createdAfter: z.string().datetime({ offset: true }),
    createdBefore: z.string().datetime({ offset: true }),
  }),
  output: z.object({
    files: z.array(z.object({ id: z.string(), name: z.string(), mimeType: z.string().nullable(), createdTime: z.string().nullable() })),
  }),
  sampleOutput: {
    files: [{ id: driveFileSample.id, name: driveFileSample.name, mimeType: 'application/pdf', createdTime: '2026-03-02T01:15:00.000Z' }],
  },
  async run(ctx, input) {
    const drv = await driveFor(requireConnection(ctx.connection, 'google.drive.list_files'));
    const q = `'${input.folderId.replace(/['\\]/g, '\\$&')}' in parents and trashed = false and mimeType != '${FOLDER_MIME}' and createdTime >= '${new Date(input.createdAfter).toISOString()}' and createdTime < '${new Date(input.createdBefore).toISOString()}'`;
    const files: Array<{ id: string; name: string; mimeType: string | null; createdTime: string | null }> = [];
    let pageToken: string | undefined;
    try {
      do {
        const res = await drv.files.list(
          {
            q,
            pageSize: 1000,
            pageToken,
            fields: 'nextPageToken,files(id,name,mimeType,createdTime)',
            ...{ supportsAllDrives: true, includeItemsFromAllDrives: true },
          },
          { retry: false, timeout: ctx.timeoutMs },
        );
        for (const f of res.data.files ?? [])
          if (f.id) files.push({ id: f.id, name: f.name ?? '', mimeType: f.mimeType ?? null, createdTime: f.createdTime ?? null });
        pageToken = res.data.nextPageToken ?? undefined;
      } while (pageToken);
    } catch (err) {
      throw mapGoogleError('Drive files.list', err);
    }
    ctx.trace({ request: { q }, response: { count: files.length } });
    return { files };
  },
});
