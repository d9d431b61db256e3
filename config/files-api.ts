import express, { type Router } from 'express';
import { z } from 'zod';
import { HttpError } from '../core/errors.ts';
import type { Runtime } from '../core/runtime.ts';
import { route } from './openapi.ts';
import { auditRequest } from './audit.ts';

/**
 * Admins download a run's files (what its steps stored with ctx.files.put). Served as an attachment in
 * a sandbox, so a stored HTML or SVG file can never run on the admin's origin.
 */
const fileSchema = z.object({
  id: z.string(),
  name: z.string(),
  contentType: z.string(),
  size: z.number(),
  sha256: z.string().nullable(),
  stepRunId: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string(),
});

export function filesRouter(rt: Runtime): Router {
  const router = express.Router();

  route(router, rt, {
    method: 'get',
    path: '/api/v1/runs/:eventId/files',
    operationId: 'listRunFiles',
    tags: ['Runs'],
    summary: "The files a run's steps stored",
    auth: { role: 'admin', scope: 'runs:read' },
    params: z.object({ eventId: z.string().min(1).max(100) }),
    responses: { 200: { description: 'Files (metadata only)', schema: z.object({ items: z.array(fileSchema) }) } },
    handler: async ({ params }) => ({ status: 200, body: { items: await rt.files.listForEvent(params.eventId) } }),
  });

  route(router, rt, {
    method: 'get',
    path: '/api/v1/files/:fileId',
    operationId: 'downloadFile',
    tags: ['Runs'],
    summary: 'Download one stored file (streamed)',
    auth: { role: 'admin', scope: 'runs:read' },
    params: z.object({ fileId: z.string().regex(/^file_[A-Za-z0-9_-]{10,64}$/, 'a file id') }),
    responses: {
      200: { description: "The file's bytes", contentType: 'application/octet-stream' },
      404: { description: 'No such file (or past its retention)' },
    },
    handler: async ({ params, req, res }) => {
      const row = await rt.files.get(params.fileId);
      if (!row || row.sha256 === null)
        throw new HttpError(
          404,
          'file_not_found',
          `no file "${params.fileId}" (files are kept ${rt.settings.DINGBRIDGE_FILE_RETENTION_DAYS} days)`,
        );
      const stream = await rt.files.open(row.id);
      await auditRequest(rt, req, 'file.downloaded', row.id, { name: row.name, eventId: row.event_id });
      res.status(200);
      res.setHeader('Content-Type', row.content_type);
      res.setHeader('Content-Length', String(row.size));
      res.setHeader('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(row.name)}`);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Content-Security-Policy', "sandbox; default-src 'none'");
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Digest', `sha-256=${Buffer.from(row.sha256, 'hex').toString('base64')}`);
      stream.on('error', (err) => {
        rt.log.warn({ fileId: row.id, err: err.message }, 'file download failed midway');
        res.destroy(err);
      });
      stream.pipe(res);
    },
  });
  return router;
}
