import type { drive_v3 } from '@googleapis/drive';
import { CursorExpired, type PolledEvent, type PollContext, type TriggerDefinition, type TriggeredEvent } from '../../../core/connector.ts';
import { driveFor } from '../client.ts';
import { googleReason, mapGoogleError } from '../errors.ts';
import { FILE_FIELDS, FOLDER_MIME, qString } from './common.ts';

/**
 * "A file was added to or changed in a Drive folder", from the changes feed (changes.list on a start
 * page token, per shared drive when the folder is in one), never from polling on `createdTime` or
 * `modifiedTime`: a file synced from a desktop keeps its old times and a file moved into the folder
 * keeps its `modifiedTime`, yet both appear in the feed. Folder membership is decided by `parents`
 * (with `subfolders: "true"`, any folder below, resolved once and kept up to date from the feed).
 *
 * The cursor holds the page token, the watched folders and the ids of the files known to be in them,
 * so a file not seen there before is `added` (created, uploaded or moved in) and a known one `changed`
 * (a new `version`). Files already in the folder when the flow starts are recorded, not announced.
 */
export const DRIVE_EVENTS = {
  added: 'google.drive.file.added',
  changed: 'google.drive.file.changed',
  removed: 'google.drive.file.removed',
} as const;

interface DriveCursor {
  v: 1;
  /** The changes page token to continue from. */
  t: string;
  /** The shared drive the folder lives in (its changes are listed with this driveId), or null for My Drive. */
  d: string | null;
  /** The watched folders: the folder itself and, with subfolders, every folder below it. */
  f: string[];
  /** Files known to be in the watched folders. */
  k: string[];
}

const parseCursor = (cursor: string | null): DriveCursor | undefined => {
  if (!cursor) return undefined;
  try {
    const c = JSON.parse(cursor) as DriveCursor;
    return c?.v === 1 && typeof c.t === 'string' ? c : undefined;
  } catch {
    return undefined;
  }
};

interface WatchParams {
  folder: string;
  subfolders: boolean;
}
const watchOf = (params: Record<string, string>): WatchParams => ({
  folder: params.folder ?? '',
  subfolders: /^(true|yes|1)$/i.test(params.subfolders ?? ''),
});
const ALL_DRIVES = { supportsAllDrives: true, includeItemsFromAllDrives: true } as const;

type DriveFile = drive_v3.Schema$File;

/** The flat `data` every Drive file event carries (templates: `{{ data.name }}`, `{{ data.link }}`). */
export function driveEventData(f: DriveFile, w: WatchParams, change: keyof typeof DRIVE_EVENTS): Record<string, unknown> {
  return {
    change,
    folder: w.folder,
    subfolders: w.subfolders,
    fileId: f.id,
    name: f.name ?? '',
    mimeType: f.mimeType ?? '',
    link: f.webViewLink ?? `https://drive.google.com/file/d/${f.id}/view`,
    size: f.size ? Number(f.size) : null,
    parentId: f.parents?.[0] ?? null,
    driveId: f.driveId ?? null,
    createdTime: f.createdTime ?? null,
    modifiedTime: f.modifiedTime ?? null,
    version: f.version ?? null,
  };
}

const scope = (w: WatchParams) => `${w.folder}${w.subfolders ? '/**' : ''}`;

function fileEvent(f: DriveFile, w: WatchParams, change: 'added' | 'changed', at: string): PolledEvent {
  return {
    // Added: once per arrival (a file moved out and in again is announced again); changed: once per version.
    providerId: change === 'added' ? `drive:${scope(w)}:${f.id}:added:${at}` : `drive:${scope(w)}:${f.id}:v${f.version ?? at}`,
    type: DRIVE_EVENTS[change],
    occurredAt: change === 'added' ? at : (f.modifiedTime ?? at),
    subject: f.name ?? f.id ?? null,
    data: driveEventData(f, w, change),
    refs: f.id ? [{ kind: 'google.drive.file', id: f.id }] : [],
    item: { id: f.id!, version: String(f.version ?? f.modifiedTime ?? '') },
  };
}

function removedEvent(item: { id: string; version: string }, w: WatchParams, at?: string): TriggeredEvent {
  return {
    providerId: `drive:${scope(w)}:${item.id}:removed:${at ?? `v${item.version}`}`,
    type: DRIVE_EVENTS.removed,
    occurredAt: at,
    subject: item.id,
    data: { change: 'removed', folder: w.folder, subfolders: w.subfolders, fileId: item.id, version: item.version },
    refs: [{ kind: 'google.drive.file', id: item.id }],
  };
}

async function call<T>(what: string, fn: () => Promise<{ data: T }>): Promise<T> {
  try {
    return (await fn()).data;
  } catch (err) {
    throw mapGoogleError(what, err);
  }
}

/** Every folder below `root` (breadth first), for `subfolders: "true"`. */
async function subfoldersOf(drv: drive_v3.Drive, root: string): Promise<string[]> {
  const found: string[] = [];
  let level = [root];
  while (level.length && found.length < 5000) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += 20) {
      const parents = level
        .slice(i, i + 20)
        .map((id) => `${qString(id)} in parents`)
        .join(' or ');
      let pageToken: string | undefined;
      do {
        const page = await call('Drive files.list (subfolders)', () =>
          drv.files.list({
            q: `(${parents}) and mimeType = '${FOLDER_MIME}' and trashed = false`,
            fields: 'nextPageToken,files(id)',
            pageSize: 1000,
            pageToken,
            corpora: 'allDrives',
            ...ALL_DRIVES,
          }),
        );
        for (const f of page.files ?? []) if (f.id && !found.includes(f.id) && f.id !== root) next.push(f.id);
        pageToken = page.nextPageToken ?? undefined;
      } while (pageToken);
    }
    found.push(...next);
    level = next;
  }
  return found;
}

/** Every file (not folder) now in the watched folders. */
async function filesIn(drv: drive_v3.Drive, folders: string[]): Promise<DriveFile[]> {
  const out: DriveFile[] = [];
  for (let i = 0; i < folders.length; i += 20) {
    const parents = folders
      .slice(i, i + 20)
      .map((id) => `${qString(id)} in parents`)
      .join(' or ');
    let pageToken: string | undefined;
    do {
      const page = await call('Drive files.list (folder contents)', () =>
        drv.files.list({
          q: `(${parents}) and mimeType != '${FOLDER_MIME}' and trashed = false`,
          fields: `nextPageToken,files(${FILE_FIELDS})`,
          pageSize: 1000,
          pageToken,
          corpora: 'allDrives',
          ...ALL_DRIVES,
        }),
      );
      out.push(...(page.files ?? []));
      pageToken = page.nextPageToken ?? undefined;
    } while (pageToken);
  }
  return out;
}

/** A fresh start: the folder's drive, a start page token taken before the listing, and what is in the folder now. */
async function baseline(ctx: PollContext, w: WatchParams): Promise<{ cursor: DriveCursor; files: DriveFile[] }> {
  if (!w.folder) throw new Error('the Drive trigger needs params.folder (a folder id)');
  const drv = await driveFor(ctx.connection);
  const folder = await call('Drive files.get (the watched folder)', () =>
    drv.files.get({ fileId: w.folder, fields: 'id,name,mimeType,driveId,trashed', supportsAllDrives: true }),
  );
  if (folder.mimeType !== FOLDER_MIME) throw new Error(`Drive item ${w.folder} (${folder.name}) is not a folder`);
  const driveId = folder.driveId ?? null;
  const start = await call('Drive changes.getStartPageToken', () =>
    drv.changes.getStartPageToken({ supportsAllDrives: true, ...(driveId ? { driveId } : {}) }),
  );
  const folders = [w.folder, ...(w.subfolders ? await subfoldersOf(drv, w.folder) : [])];
  const files = await filesIn(drv, folders);
  return {
    cursor: { v: 1, t: String(start.startPageToken), d: driveId, f: folders, k: files.map((f) => f.id!).filter(Boolean) },
    files,
  };
}

const PAGE_SIZE = 200;

async function poll(ctx: PollContext, params: Record<string, string>, raw: string | null) {
  const w = watchOf(params);
  const cur = parseCursor(raw);
  if (!cur) {
    // First poll (or an unreadable cursor): what is there now is recorded, not announced (skipHistory).
    const { cursor, files } = await baseline(ctx, w);
    const now = new Date().toISOString();
    return { events: files.map((f) => fileEvent(f, w, 'added', now)), cursor: JSON.stringify(cursor) };
  }
  const drv = await driveFor(ctx.connection);
  let page: drive_v3.Schema$ChangeList;
  try {
    page = (
      await drv.changes.list({
        pageToken: cur.t,
        pageSize: PAGE_SIZE,
        fields: `nextPageToken,newStartPageToken,changes(fileId,removed,time,driveId,file(${FILE_FIELDS}))`,
        ...ALL_DRIVES,
        ...(cur.d ? { driveId: cur.d } : {}),
      })
    ).data;
  } catch (err) {
    const { status, reason } = googleReason(err);
    // A page token Drive no longer accepts: list the folder again and compare (the hub's resync).
    if (status === 410 || (status === 400 && reason === 'invalid'))
      throw new CursorExpired(`Drive refused the changes page token (${status})`);
    throw mapGoogleError('Drive changes.list', err);
  }
  const folders = new Set(cur.f);
  const known = new Set(cur.k);
  const changes = page.changes ?? [];
  const inWatched = (f: DriveFile | undefined) => Boolean(f && !f.trashed && f.parents?.some((p) => folders.has(p)));
  // Folders first, so a new subfolder and the files put in it in the same page are both seen.
  if (w.subfolders) {
    for (const c of changes) {
      const f = c.file ?? undefined;
      if (!c.fileId || c.fileId === w.folder || (f && f.mimeType !== FOLDER_MIME) || (!f && !folders.has(c.fileId))) continue;
      if (!c.removed && inWatched(f)) folders.add(c.fileId);
      else folders.delete(c.fileId);
    }
  }
  const events: PolledEvent[] = [];
  for (const c of changes) {
    const f = c.file ?? undefined;
    const id = c.fileId;
    if (!id || f?.mimeType === FOLDER_MIME) continue;
    const at = c.time ?? new Date().toISOString();
    if (!c.removed && inWatched(f)) {
      events.push(fileEvent(f!, w, known.has(id) ? 'changed' : 'added', at));
      known.add(id);
    } else if (known.has(id)) {
      known.delete(id);
      const version = String(f?.version ?? '');
      events.push({ ...removedEvent({ id, version }, w, at), item: { id, version, deleted: true } });
    }
  }
  const next: DriveCursor = {
    v: 1,
    t: String(page.nextPageToken ?? page.newStartPageToken ?? cur.t),
    d: cur.d,
    f: [...folders],
    k: [...known],
  };
  return { events, cursor: JSON.stringify(next), more: Boolean(page.nextPageToken) };
}

export const driveFolderTrigger: TriggerDefinition = {
  id: 'google.drive.folder',
  title: 'Google Drive: file added or changed in a folder',
  events: [DRIVE_EVENTS.added, DRIVE_EVENTS.changed, DRIVE_EVENTS.removed],
  kind: 'polling',
  sample: {
    change: 'added',
    folder: '1AbCdEfGhIjKlMnOpQrStUvWxYz012345',
    subfolders: false,
    fileId: '1Xv3kJp0dQmZ8aYb2cD4eF6gH8iJ0kL2m',
    name: 'Q4 report.pdf',
    mimeType: 'application/pdf',
    link: 'https://drive.google.com/file/d/1Xv3kJp0dQmZ8aYb2cD4eF6gH8iJ0kL2m/view?usp=drivesdk',
    size: 482113,
    parentId: '1AbCdEfGhIjKlMnOpQrStUvWxYz012345',
    driveId: null,
    createdTime: '2026-12-01T09:12:00.000Z',
    modifiedTime: '2026-12-01T09:12:00.000Z',
    version: '3',
  },
  poll: {
    params: ['folder'],
    optionalParams: ['subfolders'],
    skipHistory: true,
    poll,
    async resync(ctx, params) {
      const w = watchOf(params);
      const { cursor, files } = await baseline(ctx, w);
      const now = new Date().toISOString();
      return {
        items: files.map((f) => {
          const { item, ...event } = fileEvent(f, w, 'changed', now);
          return { id: item!.id, version: item!.version, event };
        }),
        cursor: JSON.stringify(cursor),
      };
    },
    deletedEvent: (item, params) => removedEvent(item, watchOf(params)),
  },
};
