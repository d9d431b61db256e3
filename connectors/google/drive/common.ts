import crypto from 'node:crypto';
import type { drive_v3 } from '@googleapis/drive';
import { z } from 'zod';

/** The file fields every Drive action and trigger asks for (partial responses: `fields`). */
export const FILE_FIELDS = 'id,name,mimeType,size,parents,webViewLink,createdTime,modifiedTime,version,driveId,trashed,md5Checksum';

/** What a Drive file action answers (the flow editor's field picker shows it). */
export const driveFileOutput = z.object({
  id: z.string(),
  name: z.string(),
  webViewLink: z.string(),
  mimeType: z.string(),
  size: z.number(),
});
export type DriveFileOutput = z.output<typeof driveFileOutput>;

export const driveFileSample: DriveFileOutput = {
  id: '1Xv3kJp0dQmZ8aYb2cD4eF6gH8iJ0kL2m',
  name: 'signed-contract.pdf',
  webViewLink: 'https://drive.google.com/file/d/1Xv3kJp0dQmZ8aYb2cD4eF6gH8iJ0kL2m/view?usp=drivesdk',
  mimeType: 'application/pdf',
  size: 482113,
};

export const FOLDER_MIME = 'application/vnd.google-apps.folder';

export function fileOut(f: drive_v3.Schema$File): DriveFileOutput {
  const id = f.id ?? '';
  return {
    id,
    name: f.name ?? '',
    webViewLink:
      f.webViewLink ??
      (f.mimeType === FOLDER_MIME ? `https://drive.google.com/drive/folders/${id}` : `https://drive.google.com/file/d/${id}/view`),
    mimeType: f.mimeType ?? 'application/octet-stream',
    size: f.size ? Number(f.size) : 0,
  };
}

/**
 * The marker a Drive create carries in `appProperties` so a retried step finds what its earlier attempt
 * made instead of making a second one. Google limits a property to 124 bytes (key + value): the step's
 * idempotency key is hashed.
 */
export const IDEMPOTENCY_PROPERTY = 'dingbridgeStep';
export const idempotencyMarker = (key: string) => crypto.createHash('sha256').update(key).digest('base64url').slice(0, 43);

/** A Drive `q` string literal: quotes and backslashes escaped as Drive wants. */
export const qString = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The file an earlier attempt of this step made in `folderId`, if any. */
export async function findByMarker(
  drv: drive_v3.Drive,
  folderId: string,
  marker: string,
  fields = FILE_FIELDS,
): Promise<drive_v3.Schema$File | undefined> {
  const res = await drv.files.list({
    q: `${qString(folderId)} in parents and appProperties has { key='${IDEMPOTENCY_PROPERTY}' and value=${qString(marker)} } and trashed = false`,
    fields: `files(${fields})`,
    pageSize: 1,
    supportsAllDrives: true,
    includeItemsFromAllDrives: true,
    corpora: 'allDrives',
  });
  return res.data.files?.[0];
}
