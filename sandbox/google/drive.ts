import crypto from 'node:crypto';
import type { Express, Request, Response } from 'express';
import { GoogleError, badRequest, notFound, required } from './errors.ts';
import { parseFields, select } from './fields.ts';
import { parseDriveQuery } from './drive-query.ts';
import { body, notifyWatchers, qbool, qint, qs, route, type Caller, type Fake } from './runtime.ts';
import { channelJson, createChannel, stopChannel } from './calendar.ts';
import { driveId as newDriveId, now, type DriveFile, type GoogleData, type Json, type SharedDrive, type UploadSession } from './state.ts';

const P = '/drive/v3';
const U = '/upload/drive/v3';
export const FOLDER = 'application/vnd.google-apps.folder';
export const CHUNK = 256 * 1024;
const iso = (ms: number) => new Date(ms).toISOString();
const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
const ROLES = ['owner', 'organizer', 'fileOrganizer', 'writer', 'commenter', 'reader'];

const fileNotFound = (id: string) => notFound(`File not found: ${id}.`, { location: 'fileId', locationType: 'parameter' });

/** The caller's My Drive root folder (created on first use). */
export function rootOf(g: GoogleData, email: string): DriveFile {
  const id = `0A${crypto.createHash('sha1').update(email).digest('base64url').slice(0, 11)}Uk9PVA`;
  let f = g.files.get(id);
  if (!f) {
    const t = iso(now(g));
    f = {
      id,
      name: 'My Drive',
      mimeType: FOLDER,
      parents: [],
      owner: email,
      trashed: false,
      createdTime: t,
      modifiedTime: t,
      version: 1,
      permissions: [],
    };
    g.files.set(id, f);
  }
  return f;
}

const isMember = (d: SharedDrive, email: string) => d.members.includes(email);

const generated = new WeakMap<GoogleData, Set<string>>();
/** Ids handed out by files.generateIds (usable once as a create's `id`). */
function generatedIds(g: GoogleData): Set<string> {
  let s = generated.get(g);
  if (!s) {
    s = new Set();
    generated.set(g, s);
  }
  return s;
}

/** Whether `email` may see the file at all (ignoring supportsAllDrives). */
function canSee(g: GoogleData, f: DriveFile, email: string): boolean {
  if (f.driveId) {
    const d = g.drives.get(f.driveId);
    return !!d && isMember(d, email);
  }
  return (
    f.owner === email ||
    f.permissions.some((p) => p.emailAddress === email || p.type === 'anyone' || (p.type === 'domain' && email.endsWith(`@${p.domain}`)))
  );
}

function canWrite(g: GoogleData, f: DriveFile, email: string): boolean {
  if (f.driveId) return canSee(g, f, email);
  return (
    f.owner === email ||
    f.permissions.some((p) => p.emailAddress === email && ['writer', 'organizer', 'fileOrganizer', 'owner'].includes(p.role))
  );
}

/** Users who see a file (for change feeds). */
function audience(g: GoogleData, f: DriveFile): string[] {
  if (f.driveId) return g.drives.get(f.driveId)?.members ?? [];
  return [...new Set([f.owner, ...f.permissions.map((p) => p.emailAddress).filter((e): e is string => !!e)])];
}

export function recordChange(fake: Fake, f: DriveFile, removed = false, extraUsers: string[] = []): void {
  const g = fake.state.google;
  const users = [...new Set([...audience(g, f), ...extraUsers])];
  g.changes.push({ seq: ++g.changeSeq, fileId: f.id, driveId: f.driveId, time: iso(now(g)), removed, users });
  const targets = f.driveId ? [`drive:${f.driveId}`, ...users.map((u) => `user:${u}`)] : users.map((u) => `user:${u}`);
  notifyWatchers(fake, 'drive', targets, 'change');
}

export function fileJson(fake: Fake, f: DriveFile, caller?: string): Json {
  const g = fake.state.google;
  const sha256 = f.content ? crypto.createHash('sha256').update(f.content).digest('hex') : undefined;
  const owner = g.users.get(f.owner);
  const folder = f.mimeType === FOLDER;
  const ext = /\.([^.]+)$/.exec(f.name)?.[1];
  return {
    kind: 'drive#file',
    id: f.id,
    name: f.name,
    mimeType: f.mimeType,
    ...(f.description ? { description: f.description } : {}),
    starred: false,
    trashed: f.trashed,
    explicitlyTrashed: f.trashed,
    parents: f.parents,
    spaces: ['drive'],
    version: String(f.version),
    webViewLink: folder ? `https://drive.google.com/drive/folders/${f.id}` : `https://drive.google.com/file/d/${f.id}/view?usp=drivesdk`,
    ...(f.content && !folder
      ? {
          webContentLink: `https://drive.google.com/uc?id=${f.id}&export=download`,
          size: String(f.content.length),
          quotaBytesUsed: String(f.content.length),
          md5Checksum: crypto.createHash('md5').update(f.content).digest('hex'),
          sha1Checksum: crypto.createHash('sha1').update(f.content).digest('hex'),
          sha256Checksum: sha256,
          originalFilename: f.name,
          headRevisionId: `0B${f.id.slice(1, 20)}${f.version}`,
          ...(ext ? { fileExtension: ext, fullFileExtension: ext } : {}),
        }
      : {}),
    iconLink: `https://drive-thirdparty.googleusercontent.com/16/type/${f.mimeType}`,
    createdTime: f.createdTime,
    modifiedTime: f.modifiedTime,
    modifiedByMeTime: f.modifiedTime,
    ...(f.driveId
      ? { driveId: f.driveId, teamDriveId: f.driveId }
      : {
          owners: [
            {
              kind: 'drive#user',
              displayName: owner ? `${owner.givenName} ${owner.familyName}`.trim() : f.owner,
              emailAddress: f.owner,
              me: caller === f.owner,
              permissionId: permissionIdOf(f.owner),
            },
          ],
          ownedByMe: caller === f.owner,
        }),
    shared: f.permissions.length > 0,
    ...(f.appProperties ? { appProperties: f.appProperties } : {}),
    ...(f.properties ? { properties: f.properties } : {}),
    permissions: f.permissions.map(permissionJson),
    capabilities: {
      canEdit: caller ? canWrite(g, f, caller) : false,
      canAddChildren: folder,
      canDownload: true,
      canShare: true,
      canTrash: true,
    },
  };
}

const permissionIdOf = (email: string) => String(BigInt('0x' + crypto.createHash('sha1').update(email).digest('hex').slice(0, 15)));
const permissionJson = (p: DriveFile['permissions'][number]) => ({ kind: 'drive#permission', ...p });

const DEFAULT_FILE_FIELDS = 'kind,id,name,mimeType';

function shaped(req: Request, value: unknown, defaults: string): unknown {
  return select(value, parseFields(qs(req, 'fields') ?? defaults));
}

function driveJson(d: SharedDrive): Json {
  return {
    kind: 'drive#drive',
    id: d.id,
    name: d.name,
    createdTime: d.createdTime,
    hidden: false,
    themeId: 'abacus',
    colorRgb: '#4285f4',
    capabilities: { canAddChildren: true, canManageMembers: true },
    restrictions: { adminManagedRestrictions: false, domainUsersOnly: false, driveMembersOnly: false, copyRequiresWriterPermission: false },
  };
}

export function createSharedDrive(g: GoogleData, name: string, members: string[], id?: string): SharedDrive {
  const d: SharedDrive = {
    id: id ?? `0A${crypto.randomBytes(12).toString('base64url').slice(0, 11)}Uk9PVA`,
    name,
    createdTime: iso(now(g)),
    members,
  };
  g.drives.set(d.id, d);
  return d;
}

/** Creates a file as the API does (validates parents; records the change). */
export function createFile(
  fake: Fake,
  caller: string,
  meta: Json,
  content: Buffer | undefined,
  supportsAllDrives: boolean,
  mimeFallback?: string,
): DriveFile {
  const g = fake.state.google;
  const parentsIn = meta.parents === undefined ? ['root'] : meta.parents;
  if (!Array.isArray(parentsIn) || parentsIn.some((p) => typeof p !== 'string')) throw badRequest('Invalid parents.');
  if (parentsIn.length > 1)
    throw new GoogleError(403, 'cannotAddParent', 'Increasing the number of parents is not allowed. A file can only have one parent.');
  const parents = (parentsIn as string[]).map((p) => resolveParentId(g, caller, p));
  let driveId: string | undefined;
  for (const p of parents) {
    const d = g.drives.get(p);
    const parent = d ? undefined : g.files.get(p);
    if (d) {
      if (!supportsAllDrives || !isMember(d, caller)) throw fileNotFound(p);
      driveId = d.id;
    } else {
      if (!parent || !canSee(g, parent, caller) || (parent.driveId && !supportsAllDrives)) throw fileNotFound(p);
      if (parent.mimeType !== FOLDER) throw new GoogleError(400, 'invalid', 'The specified parent is not a folder.');
      driveId = parent.driveId;
    }
  }
  // A client-chosen id must come from files.generateIds; a second create with it is 409.
  let id = newDriveId();
  if (meta.id !== undefined) {
    if (typeof meta.id !== 'string' || !generatedIds(g).has(meta.id))
      throw new GoogleError(400, 'fileIdNotUsable', 'The provided file ID is not usable.', { location: 'file.id', locationType: 'other' });
    if (g.files.has(meta.id))
      throw new GoogleError(409, 'fileIdInUse', 'A file already exists with the provided ID.', {
        location: 'file.id',
        locationType: 'other',
      });
    id = meta.id;
  }
  const t = iso(now(g));
  const mimeType =
    typeof meta.mimeType === 'string' && meta.mimeType
      ? meta.mimeType
      : (mimeFallback ?? (content ? 'application/octet-stream' : 'application/octet-stream'));
  const f: DriveFile = {
    id,
    name: typeof meta.name === 'string' ? meta.name : 'Untitled',
    mimeType,
    parents,
    driveId,
    owner: caller,
    trashed: false,
    createdTime: typeof meta.createdTime === 'string' ? meta.createdTime : t,
    modifiedTime: typeof meta.modifiedTime === 'string' ? meta.modifiedTime : t,
    content: mimeType === FOLDER ? undefined : (content ?? Buffer.alloc(0)),
    version: 1,
    order: ++g.order,
    description: typeof meta.description === 'string' ? meta.description : undefined,
    appProperties: isObj(meta.appProperties) ? (meta.appProperties as Record<string, string>) : undefined,
    properties: isObj(meta.properties) ? (meta.properties as Record<string, string>) : undefined,
    permissions: [],
  };
  g.files.set(f.id, f);
  recordChange(fake, f);
  return f;
}

function resolveParentId(g: GoogleData, caller: string, id: string): string {
  return id === 'root' ? rootOf(g, caller).id : id;
}

function getVisible(g: GoogleData, id: string, caller: string, supportsAllDrives: boolean): DriveFile {
  const f = g.files.get(id === 'root' ? rootOf(g, caller).id : id);
  if (!f || !canSee(g, f, caller) || (f.driveId && !supportsAllDrives)) throw fileNotFound(id);
  return f;
}

function applyMetadata(fake: Fake, f: DriveFile, meta: Json, req: Request, caller: string, opts: { content?: boolean } = {}): void {
  const g = fake.state.google;
  if (meta.parents !== undefined)
    throw new GoogleError(403, 'fieldNotWritable', 'The resource body includes fields which are not directly writable.');
  if (typeof meta.name === 'string') f.name = meta.name;
  if (typeof meta.mimeType === 'string') f.mimeType = meta.mimeType;
  if (typeof meta.description === 'string') f.description = meta.description;
  if (typeof meta.trashed === 'boolean') f.trashed = meta.trashed;
  for (const k of ['appProperties', 'properties'] as const) {
    if (isObj(meta[k])) {
      const merged = { ...(f[k] ?? {}) };
      for (const [pk, pv] of Object.entries(meta[k] as Json)) {
        if (pv === null) delete merged[pk];
        else merged[pk] = String(pv);
      }
      f[k] = merged;
    }
  }
  const add = (qs(req, 'addParents') ?? '')
    .split(',')
    .filter(Boolean)
    .map((p) => resolveParentId(g, caller, p));
  const remove = (qs(req, 'removeParents') ?? '')
    .split(',')
    .filter(Boolean)
    .map((p) => resolveParentId(g, caller, p));
  if (add.length || remove.length) {
    const next = f.parents.filter((p) => !remove.includes(p));
    for (const p of add) {
      const d = g.drives.get(p);
      const parent = g.files.get(p);
      if (d ? !isMember(d, caller) : !parent || !canSee(g, parent, caller) || parent.mimeType !== FOLDER) throw fileNotFound(p);
      const targetDrive = d ? d.id : parent!.driveId;
      if (targetDrive !== f.driveId) {
        // Moving between My Drive and a shared drive (or between shared drives).
        if (!qbool(req, 'supportsAllDrives')) throw fileNotFound(p);
        f.driveId = targetDrive;
      }
      if (!next.includes(p)) next.push(p);
    }
    if (next.length > 1)
      throw new GoogleError(403, 'cannotAddParent', 'Increasing the number of parents is not allowed. A file can only have one parent.');
    f.parents = next;
  }
  // A move (parents), trashing or property change leaves modifiedTime alone: only the name, the description
  // and the content count as modifications (why polling on modifiedTime misses moved-in files).
  const modified =
    typeof meta.name === 'string' || typeof meta.description === 'string' || typeof meta.mimeType === 'string' || opts.content;
  if (typeof meta.modifiedTime === 'string') f.modifiedTime = meta.modifiedTime;
  else if (modified) f.modifiedTime = iso(now(g));
  f.version += 1;
}

// ---------------- multipart/related ----------------

export function parseMultipart(req: Request): { meta: Json; content: Buffer; contentType: string } {
  const type = String(req.headers['content-type'] ?? '');
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (!/^multipart\/related/i.test(type) || !boundary) throw badRequest('Bad content type. Please use multipart.', 'badContent');
  const raw = (req as Request & { rawBody: Buffer }).rawBody;
  const delim = Buffer.from(`--${boundary}`);
  const parts: { headers: Record<string, string>; body: Buffer }[] = [];
  let pos = raw.indexOf(delim);
  while (pos >= 0) {
    pos += delim.length;
    if (raw.subarray(pos, pos + 2).toString() === '--') break;
    const headerEnd = raw.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0) break;
    const headers = Object.fromEntries(
      raw
        .subarray(pos, headerEnd)
        .toString('utf8')
        .split('\r\n')
        .filter(Boolean)
        .map((l) => {
          const i = l.indexOf(':');
          return [l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()];
        }),
    );
    const nextDelim = raw.indexOf(delim, headerEnd + 4);
    if (nextDelim < 0) break;
    let end = nextDelim;
    if (raw[end - 2] === 13 && raw[end - 1] === 10) end -= 2;
    parts.push({ headers, body: raw.subarray(headerEnd + 4, end) });
    pos = nextDelim;
  }
  if (parts.length !== 2) throw badRequest('Multipart upload must have exactly two parts: metadata and media.', 'badContent');
  let meta: Json;
  try {
    meta = JSON.parse(parts[0]!.body.toString('utf8')) as Json;
  } catch {
    throw badRequest('Invalid JSON payload in the metadata part.', 'parseError');
  }
  return { meta, content: Buffer.from(parts[1]!.body), contentType: parts[1]!.headers['content-type'] ?? 'application/octet-stream' };
}

// ---------------- routes ----------------

export function setupDrive(app: Express, fake: Fake): void {
  const g = () => fake.state.google;
  const sad = (req: Request) => qbool(req, 'supportsAllDrives') || qbool(req, 'supportsTeamDrives');

  app.get(
    `${P}/about`,
    route(fake, (req, res, caller) => {
      const u = g().users.get(caller.email);
      res.json(
        shaped(
          req,
          {
            kind: 'drive#about',
            user: {
              kind: 'drive#user',
              displayName: u ? `${u.givenName} ${u.familyName}`.trim() : caller.email,
              emailAddress: caller.email,
              me: true,
              permissionId: permissionIdOf(caller.email),
            },
            storageQuota: { limit: '16106127360', usage: '0' },
            rootFolderId: rootOf(g(), caller.email).id,
          },
          '*',
        ),
      );
    }),
  );

  // metadata-only create
  app.post(
    `${P}/files`,
    route(fake, (req, res, caller) => {
      const f = createFile(fake, caller.email, body(req), undefined, sad(req));
      res.json(shaped(req, fileJson(fake, f, caller.email), DEFAULT_FILE_FIELDS));
    }),
  );

  // uploads: multipart, media, resumable (initiate)
  app.post(
    `${U}/files`,
    route(fake, (req, res, caller) => {
      const type = qs(req, 'uploadType');
      if (type === 'multipart') {
        const { meta, content, contentType } = parseMultipart(req);
        const f = createFile(fake, caller.email, meta, content, sad(req), contentType);
        return res.json(shaped(req, fileJson(fake, f, caller.email), DEFAULT_FILE_FIELDS));
      }
      if (type === 'media') {
        const f = createFile(
          fake,
          caller.email,
          {},
          (req as Request & { rawBody: Buffer }).rawBody,
          sad(req),
          String(req.headers['content-type'] ?? 'application/octet-stream'),
        );
        return res.json(shaped(req, fileJson(fake, f, caller.email), DEFAULT_FILE_FIELDS));
      }
      if (type === 'resumable') return startResumable(fake, req, res, caller, undefined);
      throw badRequest(`Invalid value for uploadType: ${type ?? '(none)'}`, 'invalidParameter');
    }),
  );
  app.put(
    `${U}/files`,
    route(fake, (req, res, caller) => resumableChunk(fake, req, res, caller)),
  );
  app.patch(
    `${U}/files/:fileId`,
    route(fake, (req, res, caller) => {
      const f = getVisible(g(), String(req.params.fileId), caller.email, sad(req));
      if (!canWrite(g(), f, caller.email))
        throw new GoogleError(403, 'insufficientFilePermissions', 'The user does not have sufficient permissions for this file.');
      const type = qs(req, 'uploadType');
      if (type === 'resumable') return startResumable(fake, req, res, caller, f.id);
      if (type === 'multipart') {
        const { meta, content } = parseMultipart(req);
        applyMetadata(fake, f, meta, req, caller.email, { content: true });
        f.content = content;
      } else if (type === 'media') {
        f.content = (req as Request & { rawBody: Buffer }).rawBody;
        applyMetadata(fake, f, {}, req, caller.email, { content: true });
      } else throw badRequest(`Invalid value for uploadType: ${type ?? '(none)'}`, 'invalidParameter');
      recordChange(fake, f);
      res.json(shaped(req, fileJson(fake, f, caller.email), DEFAULT_FILE_FIELDS));
    }),
  );
  app.put(
    `${U}/files/:fileId`,
    route(fake, (req, res, caller) => resumableChunk(fake, req, res, caller)),
  );

  app.get(
    `${P}/files`,
    route(fake, (req, res, caller) => {
      const corpora = qs(req, 'corpora') ?? 'user';
      const dId = qs(req, 'driveId');
      const allDrives = qbool(req, 'includeItemsFromAllDrives') || qbool(req, 'includeTeamDriveItems');
      if (!['user', 'drive', 'allDrives', 'domain'].includes(corpora))
        throw badRequest(`Invalid value for corpora: ${corpora}`, 'invalidParameter');
      if ((allDrives || dId) && !sad(req))
        throw new GoogleError(
          403,
          'teamDrivesParameterRequired',
          'The includeItemsFromAllDrives parameter can only be set to true when supportsAllDrives is also true.',
        );
      if ((corpora === 'drive') !== !!dId)
        throw new GoogleError(
          400,
          'teamDriveIdRequiresTeamDriveCorpora',
          'The driveId parameter must be specified if and only if corpora is set to drive.',
        );
      if ((corpora === 'drive' || corpora === 'allDrives') && !allDrives) {
        throw new GoogleError(
          403,
          'teamDriveIncludeItemsRequired',
          'The includeItemsFromAllDrives parameter must be set to true when driveId is specified or corpora contains drive or allDrives.',
        );
      }
      if (dId) {
        const d = g().drives.get(dId);
        if (!d || !isMember(d, caller.email))
          throw notFound(`Shared drive not found: ${dId}`, { location: 'driveId', locationType: 'parameter' });
      }
      const qText = qs(req, 'q');
      const pred = qText ? parseDriveQuery(qText, { resolveParent: (id) => resolveParentId(g(), caller.email, id) }) : () => true;
      const email = caller.email;
      let files = [...g().files.values()]
        .filter((f) => {
          if (!f.parents.length && !f.driveId) return false; // My Drive roots are not listed
          if (!canSee(g(), f, email)) return false;
          if (corpora === 'drive') return f.driveId === dId;
          if (f.driveId) return allDrives && (corpora === 'allDrives' || corpora === 'user' || corpora === 'domain');
          return corpora !== 'drive';
        })
        .filter(pred);
      const orderBy = qs(req, 'orderBy');
      if (orderBy) {
        const keys = orderBy
          .split(',')
          .map((k) => k.trim().split(/\s+/))
          .map(([k, dir]) => ({ k: k!, desc: dir === 'desc' }));
        files = files.sort((a, b) => {
          for (const { k, desc } of keys) {
            const av =
              k === 'folder'
                ? Number(a.mimeType !== FOLDER)
                : k === 'name'
                  ? a.name
                  : k === 'createdTime'
                    ? a.createdTime
                    : k === 'modifiedTime'
                      ? a.modifiedTime
                      : '';
            const bv =
              k === 'folder'
                ? Number(b.mimeType !== FOLDER)
                : k === 'name'
                  ? b.name
                  : k === 'createdTime'
                    ? b.createdTime
                    : k === 'modifiedTime'
                      ? b.modifiedTime
                      : '';
            if (av < bv) return desc ? 1 : -1;
            if (av > bv) return desc ? -1 : 1;
          }
          return 0;
        });
      }
      const size = qint(req, 'pageSize', 100, 1000);
      const pt = qs(req, 'pageToken');
      // Without orderBy, pages follow creation order by position (a file deleted between pages skips nothing);
      // with orderBy, by offset.
      const tok = pt ? /^(k|o)(\d+)$/.exec(Buffer.from(pt, 'base64url').toString()) : undefined;
      if (pt && !tok) throw badRequest('Invalid Value', 'invalid', { location: 'pageToken', locationType: 'parameter' });
      let page: DriveFile[];
      let next: string | undefined;
      if (!orderBy) {
        const rest = tok ? files.filter((f) => (f.order ?? 0) > Number(tok[2])) : files;
        page = rest.slice(0, size);
        if (rest.length > size) next = `k${page.at(-1)!.order ?? 0}`;
      } else {
        const off = tok ? Number(tok[2]) : 0;
        page = files.slice(off, off + size);
        if (off + size < files.length) next = `o${off + size}`;
      }
      res.json(
        shaped(
          req,
          {
            kind: 'drive#fileList',
            incompleteSearch: false,
            ...(next ? { nextPageToken: Buffer.from(next).toString('base64url') } : {}),
            files: page.map((f) => fileJson(fake, f, email)),
          },
          `kind,incompleteSearch,nextPageToken,files(${DEFAULT_FILE_FIELDS})`,
        ),
      );
    }),
  );

  app.get(
    `${P}/files/generateIds`,
    route(fake, (req, res) => {
      const count = qint(req, 'count', 10, 1000);
      const ids = Array.from({ length: count }, () => newDriveId());
      for (const id of ids) generatedIds(g()).add(id);
      res.json({ kind: 'drive#generatedIds', space: qs(req, 'space') ?? 'drive', ids });
    }),
  );

  app.get(
    `${P}/files/:fileId`,
    route(fake, (req, res, caller) => {
      const f = getVisible(g(), String(req.params.fileId), caller.email, sad(req));
      if (qs(req, 'alt') === 'media') return sendMedia(req, res, f);
      res.json(shaped(req, fileJson(fake, f, caller.email), DEFAULT_FILE_FIELDS));
    }),
  );

  app.patch(
    `${P}/files/:fileId`,
    route(fake, (req, res, caller) => {
      const f = getVisible(g(), String(req.params.fileId), caller.email, sad(req));
      if (!canWrite(g(), f, caller.email))
        throw new GoogleError(403, 'insufficientFilePermissions', 'The user does not have sufficient permissions for this file.');
      const before = audience(g(), f);
      applyMetadata(fake, f, body(req), req, caller.email);
      recordChange(fake, f, false, before);
      res.json(shaped(req, fileJson(fake, f, caller.email), DEFAULT_FILE_FIELDS));
    }),
  );

  app.delete(
    `${P}/files/:fileId`,
    route(fake, (req, res, caller) => {
      const f = getVisible(g(), String(req.params.fileId), caller.email, sad(req));
      if (!canWrite(g(), f, caller.email))
        throw new GoogleError(403, 'insufficientFilePermissions', 'The user does not have sufficient permissions for this file.');
      const gone = [f, ...[...g().files.values()].filter((c) => isDescendant(g(), c, f.id))];
      for (const x of gone) {
        g().files.delete(x.id);
        recordChange(fake, x, true);
      }
      res.status(204).end();
    }),
  );

  app.post(
    `${P}/files/:fileId/permissions`,
    route(fake, (req, res, caller) => {
      const f = getVisible(g(), String(req.params.fileId), caller.email, sad(req));
      if (!canWrite(g(), f, caller.email))
        throw new GoogleError(403, 'insufficientFilePermissions', 'The user does not have sufficient permissions for this file.');
      const b = body(req);
      if (typeof b.role !== 'string') throw required('permission.role');
      if (typeof b.type !== 'string') throw required('permission.type');
      if (!ROLES.includes(b.role)) throw badRequest(`Invalid value for role: ${b.role}`, 'invalid');
      if (!['user', 'group', 'domain', 'anyone'].includes(b.type)) throw badRequest(`Invalid value for type: ${b.type}`, 'invalid');
      if ((b.type === 'user' || b.type === 'group') && typeof b.emailAddress !== 'string') throw required('permission.emailAddress');
      if (b.type === 'domain' && typeof b.domain !== 'string') throw required('permission.domain');
      if (b.role === 'owner' && !qbool(req, 'transferOwnership'))
        throw new GoogleError(
          403,
          'consentRequiredForOwnershipTransfer',
          'Consent is required to transfer ownership of a file to another user.',
        );
      const email = typeof b.emailAddress === 'string' ? b.emailAddress.toLowerCase() : undefined;
      const u = email ? g().users.get(email) : undefined;
      const p = {
        id: b.type === 'anyone' ? 'anyoneWithLink' : email ? permissionIdOf(email) : `${b.domain as string}`,
        type: b.type,
        role: b.role,
        ...(email ? { emailAddress: email } : {}),
        ...(b.domain ? { domain: String(b.domain) } : {}),
        ...(u ? { displayName: `${u.givenName} ${u.familyName}`.trim() } : {}),
      };
      f.permissions = [...f.permissions.filter((x) => x.id !== p.id), p];
      recordChange(fake, f);
      res.json(shaped(req, permissionJson(p), 'kind,id,type,role'));
    }),
  );
  app.get(
    `${P}/files/:fileId/permissions`,
    route(fake, (req, res, caller) => {
      const f = getVisible(g(), String(req.params.fileId), caller.email, sad(req));
      const owner = f.driveId ? [] : [{ id: permissionIdOf(f.owner), type: 'user', role: 'owner', emailAddress: f.owner }];
      res.json(
        shaped(
          req,
          { kind: 'drive#permissionList', permissions: [...owner, ...f.permissions].map(permissionJson) },
          'kind,permissions(kind,id,type,role)',
        ),
      );
    }),
  );

  // shared drives
  app.post(
    `${P}/drives`,
    route(fake, (req, res, caller) => {
      const requestId = qs(req, 'requestId');
      if (!requestId) throw required('requestId');
      const b = body(req);
      if (typeof b.name !== 'string' || !b.name) throw required('name');
      const existing = [...g().drives.values()].find((d) => (d as SharedDrive & { requestId?: string }).requestId === requestId);
      if (existing) throw new GoogleError(409, 'duplicate', 'A shared drive with this requestId already exists.');
      const d = createSharedDrive(g(), b.name, [caller.email]);
      (d as SharedDrive & { requestId?: string }).requestId = requestId;
      res.json(shaped(req, driveJson(d), 'kind,id,name'));
    }),
  );
  app.get(
    `${P}/drives`,
    route(fake, (req, res, caller) => {
      const all = [...g().drives.values()].filter((d) => isMember(d, caller.email));
      const size = qint(req, 'pageSize', 10, 100);
      const pt = qs(req, 'pageToken');
      const off = pt ? Number(Buffer.from(pt, 'base64url').toString()) : 0;
      res.json(
        shaped(
          req,
          {
            kind: 'drive#driveList',
            ...(off + size < all.length ? { nextPageToken: Buffer.from(String(off + size)).toString('base64url') } : {}),
            drives: all.slice(off, off + size).map(driveJson),
          },
          'kind,nextPageToken,drives(kind,id,name)',
        ),
      );
    }),
  );
  app.get(
    `${P}/drives/:driveId`,
    route(fake, (req, res, caller) => {
      const d = g().drives.get(String(req.params.driveId));
      if (!d || !isMember(d, caller.email))
        throw notFound(`Shared drive not found: ${String(req.params.driveId)}`, { location: 'driveId', locationType: 'parameter' });
      res.json(shaped(req, driveJson(d), 'kind,id,name'));
    }),
  );

  // changes
  app.get(
    `${P}/changes/startPageToken`,
    route(fake, (req, res, caller) => {
      const dId = qs(req, 'driveId');
      if (dId) {
        if (!sad(req))
          throw new GoogleError(403, 'teamDrivesParameterRequired', 'The supportsAllDrives parameter must be true when driveId is set.');
        const d = g().drives.get(dId);
        if (!d || !isMember(d, caller.email))
          throw notFound(`Shared drive not found: ${dId}`, { location: 'driveId', locationType: 'parameter' });
      }
      res.json(shaped(req, { kind: 'drive#startPageToken', startPageToken: String(g().changeSeq + 1) }, '*'));
    }),
  );
  app.get(
    `${P}/changes`,
    route(fake, (req, res, caller) => {
      res.json(listChanges(fake, req, caller));
    }),
  );
  app.post(
    `${P}/changes/watch`,
    route(fake, (req, res, caller) => {
      const token = qs(req, 'pageToken');
      if (!token) throw required('pageToken');
      const dId = qs(req, 'driveId');
      if (dId && !sad(req))
        throw new GoogleError(403, 'teamDrivesParameterRequired', 'The supportsAllDrives parameter must be true when driveId is set.');
      if (dId) {
        const d = g().drives.get(dId);
        if (!d || !isMember(d, caller.email)) throw notFound(`Shared drive not found: ${dId}`);
      }
      const target = dId ? `drive:${dId}` : `user:${caller.email}`;
      const uri = `${fake.baseUrl()}${P}/changes?alt=json&pageToken=${encodeURIComponent(token)}${dId ? `&driveId=${encodeURIComponent(dId)}` : ''}`;
      const ch = createChannel(fake, req, caller, 'drive', target, uri, { defaultTtlSec: 3600, maxTtlSec: 604_800 });
      res.json(channelJson(ch));
    }),
  );
  app.post(
    `${P}/channels/stop`,
    route(fake, (req, res, caller) => {
      stopChannel(fake, req, caller);
      res.status(204).end();
    }),
  );
}

function isDescendant(g: GoogleData, f: DriveFile, ancestor: string, depth = 0): boolean {
  if (depth > 50) return false;
  return f.parents.some((p) => p === ancestor || (g.files.has(p) && isDescendant(g, g.files.get(p)!, ancestor, depth + 1)));
}

function sendMedia(req: Request, res: Response, f: DriveFile): void {
  if (f.mimeType.startsWith('application/vnd.google-apps.')) {
    throw new GoogleError(
      403,
      'fileNotDownloadable',
      'Only files with binary content can be downloaded. Use Export with Docs Editors files.',
      { location: 'alt', locationType: 'parameter' },
    );
  }
  const content = f.content ?? Buffer.alloc(0);
  res.setHeader('Content-Type', f.mimeType);
  const range = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? ''));
  if (range && content.length > 0) {
    let start = range[1] ? Number(range[1]) : content.length - Number(range[2]);
    let end = range[1] && range[2] ? Number(range[2]) : content.length - 1;
    start = Math.max(0, start);
    end = Math.min(end, content.length - 1);
    if (start > end) {
      res.status(416).setHeader('Content-Range', `bytes */${content.length}`);
      res.end();
      return;
    }
    res.status(206).setHeader('Content-Range', `bytes ${start}-${end}/${content.length}`);
    res.end(content.subarray(start, end + 1));
    return;
  }
  res.status(200).end(content);
}

function listChanges(fake: Fake, req: Request, caller: Caller): unknown {
  const g = fake.state.google;
  const token = qs(req, 'pageToken');
  if (!token) throw required('pageToken');
  const from = Number(token);
  if (!Number.isInteger(from) || from < 1 || from > g.changeSeq + 1)
    throw badRequest('Invalid Value', 'invalid', { location: 'pageToken', locationType: 'parameter' });
  const dId = qs(req, 'driveId');
  const sadOn = qbool(req, 'supportsAllDrives') || qbool(req, 'supportsTeamDrives');
  const allDrives = qbool(req, 'includeItemsFromAllDrives') || qbool(req, 'includeTeamDriveItems');
  if ((dId || allDrives) && !sadOn)
    throw new GoogleError(
      403,
      'teamDrivesParameterRequired',
      'The includeItemsFromAllDrives parameter can only be set to true when supportsAllDrives is also true.',
    );
  const includeRemoved = qs(req, 'includeRemoved') !== 'false';
  const restrict = qbool(req, 'restrictToMyDrive');
  const size = qint(req, 'pageSize', 100, 1000);
  const relevant = g.changes.filter(
    (c) =>
      c.seq >= from &&
      c.users.includes(caller.email) &&
      (dId ? c.driveId === dId : !c.driveId || (allDrives && !restrict)) &&
      (includeRemoved || !c.removed),
  );
  const latest = new Map<string, (typeof relevant)[number]>();
  for (const c of relevant) {
    latest.delete(c.fileId);
    latest.set(c.fileId, c);
  }
  const all = [...latest.values()];
  const page = all.slice(0, size);
  const more = all.length > size;
  const out = {
    kind: 'drive#changeList',
    ...(more ? { nextPageToken: String(page.at(-1)!.seq + 1) } : { newStartPageToken: String(g.changeSeq + 1) }),
    changes: page.map((c) => {
      const f = g.files.get(c.fileId);
      const visible = !c.removed && f && canSee(g, f, caller.email) && (!f.driveId || sadOn);
      return {
        kind: 'drive#change',
        changeType: 'file',
        type: 'file',
        time: c.time,
        removed: !visible,
        fileId: c.fileId,
        ...(c.driveId ? { driveId: c.driveId } : {}),
        ...(visible ? { file: fileJson(fake, f!, caller.email) } : {}),
      };
    }),
  };
  return select(
    out,
    parseFields(
      qs(req, 'fields') ??
        `kind,nextPageToken,newStartPageToken,changes(kind,changeType,type,time,removed,fileId,driveId,file(${DEFAULT_FILE_FIELDS}))`,
    ),
  );
}

// ---------------- resumable uploads ----------------

function startResumable(fake: Fake, req: Request, res: Response, caller: Caller, fileId: string | undefined): void {
  const g = fake.state.google;
  const meta = body(req);
  const len = req.headers['x-upload-content-length'];
  const total = len !== undefined ? Number(len) : null;
  if (total !== null && (!Number.isInteger(total) || total < 0)) throw badRequest('Invalid X-Upload-Content-Length.', 'badRequest');
  if (!fileId) {
    // Validate the parents now, as Drive does when the session is created.
    const parents = Array.isArray(meta.parents) ? (meta.parents as string[]) : [];
    for (const p of parents) {
      const id = resolveParentId(g, caller.email, p);
      const d = g.drives.get(id);
      const f = g.files.get(id);
      if (d ? !(qbool(req, 'supportsAllDrives') && isMember(d, caller.email)) : !f || !canSee(g, f, caller.email)) throw fileNotFound(p);
    }
  }
  const id = `ADPycd${crypto.randomBytes(30).toString('base64url')}`;
  const query = Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, String(v)]));
  const session: UploadSession = {
    id,
    owner: caller.email,
    metadata: meta,
    fileId,
    query,
    mimeType: String(req.headers['x-upload-content-type'] ?? meta.mimeType ?? 'application/octet-stream'),
    total,
    received: [],
    receivedBytes: 0,
    createdAt: now(g),
  };
  g.uploads.set(id, session);
  const loc = new URL(`${fake.baseUrl()}${U}/files${fileId ? `/${fileId}` : ''}`);
  for (const [k, v] of Object.entries(query)) loc.searchParams.set(k, v);
  loc.searchParams.set('upload_id', id);
  res.setHeader('Location', loc.toString());
  res.setHeader('X-GUploader-UploadID', id);
  res.status(200).end();
}

const WEEK = 7 * 86_400_000;

function resumableChunk(fake: Fake, req: Request, res: Response, caller: Caller): void {
  const g = fake.state.google;
  const id = qs(req, 'upload_id');
  if (!id) throw badRequest(`Invalid value for uploadType`, 'invalidParameter');
  const s = g.uploads.get(id);
  if (!s || s.owner !== caller.email || now(g) - s.createdAt > WEEK)
    throw notFound('Upload session not found or expired.', { reason: 'notFound' });
  const raw = (req as Request & { rawBody: Buffer }).rawBody;
  const range = String(req.headers['content-range'] ?? '');
  const status = () => {
    if (s.receivedBytes > 0) res.setHeader('Range', `bytes=0-${s.receivedBytes - 1}`);
    res.setHeader('X-GUploader-UploadID', s.id);
    res.status(308).end();
  };
  if (s.done) {
    res.json(s.done);
    return;
  }
  let start = 0;
  let total: number | null = s.total;
  const q = /^bytes \*\/(\d+|\*)$/.exec(range);
  if (q) {
    // Status query: where are we?
    if (q[1] !== '*') total = Number(q[1]);
    if (total !== null && s.receivedBytes === total) {
      s.total = total;
      return finish(fake, req, res, s, caller);
    }
    return status();
  }
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(range);
  if (range && !m) throw badRequest(`Invalid Content-Range header: ${range}`, 'badRequest');
  if (m) {
    start = Number(m[1]);
    const end = Number(m[2]);
    if (m[3] !== '*') total = Number(m[3]);
    if (end - start + 1 !== raw.length)
      throw badRequest(`The Content-Range header says ${end - start + 1} bytes, the request has ${raw.length}.`, 'badRequest');
  } else {
    total = raw.length + s.receivedBytes;
    start = s.receivedBytes;
  }
  if (s.total !== null && total !== null && total !== s.total) throw badRequest('The total size changed during the upload.', 'badRequest');
  if (start > s.receivedBytes) {
    throw badRequest(
      `Invalid request. According to the Content-Range header, the upload offset is ${start} byte(s), which exceeds already uploaded size of ${s.receivedBytes} byte(s).`,
      'badRequest',
    );
  }
  let data = raw.subarray(s.receivedBytes - start);
  const isLast = total !== null && start + raw.length === total;
  // A dropped connection loses the chunk after the last 256 KiB boundary the server had stored.
  const drop = g.partialDrops.find((d) => d.remaining > 0);
  if (drop) {
    drop.remaining -= 1;
    g.partialDrops = g.partialDrops.filter((d) => d.remaining > 0);
    const keep = Math.floor(Math.min(drop.afterBytes, data.length) / CHUNK) * CHUNK;
    commit(s, data.subarray(0, keep));
    res.socket?.destroy();
    return;
  }
  // Only whole 256 KiB multiples are kept of a chunk that is not the last: the client must read Range.
  if (!isLast) data = data.subarray(0, Math.floor((s.receivedBytes + data.length) / CHUNK) * CHUNK - s.receivedBytes);
  commit(s, data);
  if (total !== null) s.total = total;
  if (isLast) return finish(fake, req, res, s, caller);
  status();
}

function commit(s: UploadSession, data: Buffer): void {
  if (data.length === 0) return;
  s.received.push(Buffer.from(data));
  s.receivedBytes += data.length;
}

function finish(fake: Fake, req: Request, res: Response, s: UploadSession, caller: Caller): void {
  const g = fake.state.google;
  const content = Buffer.concat(s.received);
  s.received = [content];
  const sadOn = s.query.supportsAllDrives === 'true';
  let f: DriveFile;
  if (s.fileId) {
    f = getVisible(g, s.fileId, caller.email, sadOn);
    f.content = content;
    applyMetadata(fake, f, s.metadata, req, caller.email, { content: true });
    recordChange(fake, f);
  } else {
    f = createFile(fake, caller.email, s.metadata, content, sadOn, s.mimeType);
  }
  const fields = s.query.fields ?? DEFAULT_FILE_FIELDS;
  s.done = select(fileJson(fake, f, caller.email), parseFields(fields)) as Json;
  res.status(200).json(s.done);
}
