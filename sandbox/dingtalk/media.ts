import crypto from 'node:crypto';
import type { Express, Request, Response } from 'express';
import type { RunningFakeInternals } from '../framework/index.ts';
import { parseMultipart } from '../quickbooks/multipart.ts';
import { CONTROL_PREFIX } from './control.ts';
import type { DingtalkRuntime } from './runtime.ts';
import type { DingtalkState } from './state.ts';

type Fake = RunningFakeInternals<DingtalkState>;

/**
 * Media upload (old API): `POST /media/upload?access_token=…&type=image|voice|video|file`, multipart with
 * the file in the part named `media` → `{errcode: 0, errmsg: "ok", type, media_id, created_at}`. The
 * media id is what an app robot's `sampleFile` message (`{mediaId, fileName, fileType}`) carries.
 * Limits as documented: file ≤ 20 MB of doc/docx/xls/xlsx/ppt/pptx/zip/pdf/rar, image ≤ 20 MB.
 *
 * Control: GET /__sandbox/dingtalk/media/:mediaId answers the stored bytes (what a group member would
 * download), with x-file-name.
 */
export interface MediaRecord {
  mediaId: string;
  type: string;
  fileName: string;
  contentType: string;
  data: Buffer;
  createdAt: number;
}

const stores = new WeakMap<DingtalkState, Map<string, MediaRecord>>();
export function mediaOf(state: DingtalkState): Map<string, MediaRecord> {
  let m = stores.get(state);
  if (!m) {
    m = new Map();
    stores.set(state, m);
  }
  return m;
}

const FILE_TYPES = new Set(['doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'zip', 'pdf', 'rar']);
const MAX = 20 * 1024 * 1024;

export function registerMediaRoutes(app: Express, fake: Fake, rt: DingtalkRuntime): void {
  const fail = (res: Response, errcode: number, errmsg: string) => void res.json({ errcode, errmsg });
  app.post('/media/upload', (req: Request, res: Response) => {
    const token = typeof req.query.access_token === 'string' ? req.query.access_token : '';
    if (!token) return fail(res, 40014, '不合法的access_token');
    const fault = fake.faults.takeAuthFault(req);
    if (fault || !rt.appForToken(token))
      return fail(res, fault === 'expired_token' ? 42001 : 40014, fault === 'expired_token' ? 'access_token超时' : '不合法的access_token');
    const type = typeof req.query.type === 'string' ? req.query.type : '';
    if (!['image', 'voice', 'video', 'file'].includes(type)) return fail(res, 40004, '不合法的媒体文件类型');
    const parts = parseMultipart((req as Request & { rawBody: Buffer }).rawBody, String(req.headers['content-type'] ?? ''));
    const media = parts?.find((p) => p.name === 'media');
    if (!media || !media.filename) return fail(res, 41001, '缺少媒体文件');
    if (media.data.length === 0) return fail(res, 40005, '不合法的文件');
    if (media.data.length > MAX) return fail(res, 40006, '不合法的文件大小');
    const ext = media.filename.split('.').pop()?.toLowerCase() ?? '';
    if (type === 'file' && !FILE_TYPES.has(ext)) return fail(res, 40005, `不合法的文件类型 ${ext}`);
    const mediaId = `@lA${crypto.randomBytes(18).toString('base64url')}`;
    const createdAt = Date.now();
    mediaOf(fake.state).set(mediaId, {
      mediaId,
      type,
      fileName: media.filename,
      contentType: media.contentType ?? 'application/octet-stream',
      data: media.data,
      createdAt,
    });
    res.json({ errcode: 0, errmsg: 'ok', type, media_id: mediaId, created_at: createdAt });
  });

  app.get(`${CONTROL_PREFIX}/media/:mediaId`, (req: Request, res: Response) => {
    const m = mediaOf(fake.state).get(String(req.params.mediaId));
    if (!m) return void res.status(404).json({ error: 'no such media' });
    res.setHeader('content-type', m.contentType);
    res.setHeader('x-file-name', encodeURIComponent(m.fileName));
    res.send(m.data);
  });
}
