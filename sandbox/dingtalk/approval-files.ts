import crypto from 'node:crypto';
import type { Express, Request, Response } from 'express';
import type { DingtalkRuntime } from './runtime.ts';
import type { ApprovalInstance } from './state.ts';

/**
 * Approval attachments and comments, as DingTalk serves them:
 * - an attachment field (`DDAttachment`) holds a JSON array `[{spaceId, fileId, fileName, fileSize, fileType}]`
 *   of files in the approval's DingTalk Drive space;
 * - `POST /v1.0/workflow/processInstances/spaces/files/urls/download {processInstanceId, fileId}` grants a
 *   download: `{success, result: {spaceId, fileId, downloadUri}}`, a short-lived URL (10 minutes here)
 *   needing no token; a file that is not on the instance → 400;
 * - `POST /v1.0/workflow/processInstances/comments {processInstanceId, text, commentUserId, file?}` →
 *   `{success: true, result: true}`, recorded as an operation record (`ADD_REMARK`).
 * Control: `POST /__sandbox/dingtalk/approval-files {fileName, contentType?, contentBase64}` stores a file
 * and answers the attachment object to put in a form value.
 */
export interface ApprovalFile {
  spaceId: string;
  fileId: string;
  fileName: string;
  fileType: string;
  contentType: string;
  bytes: Buffer;
}

const files = new WeakMap<
  DingtalkRuntime,
  { files: Map<string, ApprovalFile>; grants: Map<string, { fileId: string; expiresAt: number }>; downloads: number }
>();
function store(rt: DingtalkRuntime) {
  let s = files.get(rt);
  if (!s) files.set(rt, (s = { files: new Map(), grants: new Map(), downloads: 0 }));
  return s;
}

/** The fileIds an instance's attachment fields hold. */
function attachedFileIds(inst: ApprovalInstance): Set<string> {
  const ids = new Set<string>();
  for (const v of inst.formComponentValues) {
    const raw = String(v.value ?? '');
    if (!raw.startsWith('[')) continue;
    try {
      for (const f of JSON.parse(raw) as Array<Record<string, unknown>>) if (f && f.fileId) ids.add(String(f.fileId));
    } catch {
      /* not an attachment field */
    }
  }
  return ids;
}

const apiError = (res: Response, status: number, code: string, message: string) =>
  res.status(status).json({ code, message, requestid: crypto.randomUUID() });

export function registerApprovalFileApi(app: Express, rt: DingtalkRuntime, corpOf: (res: Response) => string): void {
  app.post('/v1.0/workflow/processInstances/spaces/files/urls/download', (req: Request, res: Response) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const id = typeof b.processInstanceId === 'string' ? b.processInstanceId : '';
    const fileId = typeof b.fileId === 'string' ? b.fileId : '';
    if (!id) return apiError(res, 400, 'MissingprocessInstanceId', 'processInstanceId is mandatory for this action.');
    if (!fileId) return apiError(res, 400, 'MissingfileId', 'fileId is mandatory for this action.');
    const inst = rt.state.approvals.get(id);
    if (!inst || inst.corpId !== corpOf(res)) return apiError(res, 400, 'invalidParameter.processInstanceId', '审批实例不存在');
    const f = store(rt).files.get(fileId);
    if (!f || !attachedFileIds(inst).has(fileId)) return apiError(res, 400, 'invalidParameter.fileId', '文件不存在或不属于该审批实例');
    const token = crypto.randomBytes(16).toString('hex');
    store(rt).grants.set(token, { fileId, expiresAt: Date.now() + 10 * 60_000 });
    res.json({
      success: true,
      result: {
        spaceId: Number(f.spaceId),
        fileId,
        downloadUri: `${rt.baseUrl()}/__files/dingtalk/${token}/${encodeURIComponent(f.fileName)}`,
      },
    });
  });

  app.post('/v1.0/workflow/processInstances/comments', (req: Request, res: Response) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const id = typeof b.processInstanceId === 'string' ? b.processInstanceId : '';
    if (!id) return apiError(res, 400, 'MissingprocessInstanceId', 'processInstanceId is mandatory for this action.');
    if (typeof b.text !== 'string' || !b.text) return apiError(res, 400, 'Missingtext', 'text is mandatory for this action.');
    if (typeof b.commentUserId !== 'string' || !b.commentUserId)
      return apiError(res, 400, 'MissingcommentUserId', 'commentUserId is mandatory for this action.');
    const inst = rt.state.approvals.get(id);
    if (!inst || inst.corpId !== corpOf(res)) return apiError(res, 400, 'invalidParameter.processInstanceId', '审批实例不存在');
    inst.operationRecords.push({
      userId: b.commentUserId,
      date: Date.now(),
      type: 'ADD_REMARK',
      result: 'NONE',
      showName: '评论',
      remark: b.text,
    });
    res.json({ success: true, result: true });
  });
}

/** The download URL (no token: the grant is in the path) and the control route that stores a file. */
export function registerApprovalFileRoutes(app: Express, rt: DingtalkRuntime, prefix: string): void {
  app.get('/__files/dingtalk/:token/:name', (req: Request, res: Response) => {
    const g = store(rt).grants.get(String(req.params.token));
    if (!g || g.expiresAt < Date.now()) return void res.status(403).type('text/plain').send('AccessDenied: the link has expired');
    const f = store(rt).files.get(g.fileId);
    if (!f) return void res.status(404).type('text/plain').send('NoSuchKey');
    store(rt).downloads += 1;
    res.setHeader('content-type', f.contentType);
    res.setHeader('content-disposition', `attachment; filename="${encodeURIComponent(f.fileName)}"`);
    res.send(f.bytes);
  });
  app.post(`${prefix}/approval-files`, (req: Request, res: Response) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (typeof b.fileName !== 'string' || typeof b.contentBase64 !== 'string')
      return void res.status(400).json({ error: 'fileName and contentBase64 are required' });
    const bytes = Buffer.from(b.contentBase64, 'base64');
    const fileId = String(70_000_000_000 + store(rt).files.size + 1);
    const fileType = b.fileName.includes('.') ? b.fileName.split('.').pop()!.toLowerCase() : 'file';
    const f: ApprovalFile = {
      spaceId: '20240001',
      fileId,
      fileName: b.fileName,
      fileType,
      contentType: typeof b.contentType === 'string' ? b.contentType : 'application/octet-stream',
      bytes,
    };
    store(rt).files.set(fileId, f);
    res.status(201).json({ spaceId: f.spaceId, fileId, fileName: f.fileName, fileSize: String(bytes.length), fileType });
  });
  app.get(`${prefix}/approval-files/stats`, (_req: Request, res: Response) => {
    res.json({ files: store(rt).files.size, grants: store(rt).grants.size, downloads: store(rt).downloads });
  });
}
