import { z } from 'zod';
import workflowPkg from '@alicloud/dingtalk/dist/workflow_1_0/client.js';
import { defineAction, fileRef, type FileRef } from '../../core/connector.ts';
import { permanent } from '../../core/errors.ts';
import { classifyAnswer, transportError } from '../../core/http/provider-client.ts';
import { egressFetch } from '../../core/net/egress.ts';
import { fetchApproval } from './approvals.ts';
import { appConnection } from './messages.ts';
import { callApi, client, runtimeOptions } from './sdk.ts';

/**
 * An approval's attachments and comments (workflow_1_0 through the SDK):
 * - an attachment field (`DDAttachment`) holds `[{spaceId, fileId, fileName, fileSize, fileType}]`; each
 *   file is granted with `grantProcessInstanceForDownloadFile` (POST …/spaces/files/urls/download), whose
 *   short-lived `downloadUri` is fetched (through the SSRF guard) into the hub's file store as a `fileRef`;
 * - `addProcessInstanceComment` (POST …/processInstances/comments) writes a comment on the instance.
 */
export interface ApprovalAttachment {
  field: string;
  spaceId: string;
  fileId: string;
  fileName: string;
  fileSize?: string;
  fileType?: string;
}

/** Attachment objects of the form values (optionally of one field), in form order. */
export function attachmentsOf(values: Array<Record<string, unknown>>, field?: string): ApprovalAttachment[] {
  const out: ApprovalAttachment[] = [];
  for (const v of values) {
    const name = String(v.name ?? '');
    if (field && name !== field) continue;
    const raw = typeof v.value === 'string' ? v.value.trim() : '';
    if (!raw.startsWith('[') || (v.componentType && v.componentType !== 'DDAttachment' && !field)) continue;
    let list: unknown;
    try {
      list = JSON.parse(raw);
    } catch {
      continue;
    }
    if (!Array.isArray(list)) continue;
    for (const f of list as Array<Record<string, unknown>>) {
      if (!f || !f.fileId) continue;
      out.push({
        field: name,
        spaceId: String(f.spaceId ?? ''),
        fileId: String(f.fileId),
        fileName: String(f.fileName ?? `file-${String(f.fileId)}`),
        fileSize: f.fileSize === undefined ? undefined : String(f.fileSize),
        fileType: f.fileType === undefined ? undefined : String(f.fileType),
      });
    }
  }
  return out;
}

const TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  pdf: 'application/pdf',
  gif: 'image/gif',
  webp: 'image/webp',
};

export const approvalAttachments = defineAction({
  id: 'dingtalk.approval.attachments',
  title: "Download an approval's attachments (as files for later steps)",
  description:
    'Each file of the approval’s attachment fields is granted for download and stored in the hub: `{{ steps[N].output.file }}` is the first, `files` all of them.',
  input: z.object({
    processInstanceId: z.string().min(1),
    field: z.string().optional().describe('only this attachment field (default: every one)'),
    required: z.boolean().default(false).describe('fail when the approval has no attachment'),
  }),
  output: z.object({
    count: z.number(),
    file: fileRef.nullable(),
    files: z.array(fileRef),
    /** The instance's form as fetched now (field → value): later steps need not rely on the event's copy. */
    form: z.record(z.string(), z.string()),
    originatorUserId: z.string().nullable(),
    businessId: z.string().nullable(),
  }),
  sampleOutput: {
    count: 1,
    file: { fileId: 'file_sample0000000000', name: 'receipt.jpg', contentType: 'image/jpeg', size: 48213, sha256: '0'.repeat(64) },
  },
  async run(ctx, input) {
    const A = 'dingtalk.approval.attachments';
    const conn = appConnection(ctx.connection, A);
    if (!ctx.files) throw permanent(`${A}: files are not available in this hub`);
    const inst = await fetchApproval(conn, input.processInstanceId, ctx.timeoutMs);
    const wanted = attachmentsOf(inst.formComponentValues, input.field?.trim() || undefined);
    if (!wanted.length && input.required)
      throw permanent(`${A}: approval ${input.processInstanceId} has no attachment${input.field ? ` in field "${input.field}"` : ''}`, {
        code: 'missing_field',
      });
    const c = client(workflowPkg.default, conn.settings);
    const files: FileRef[] = [];
    for (const a of wanted) {
      const res = await callApi(conn, 'workflow/processInstances/spaces/files/urls/download', (token) =>
        c.grantProcessInstanceForDownloadFileWithOptions(
          new workflowPkg.GrantProcessInstanceForDownloadFileRequest({ processInstanceId: input.processInstanceId, fileId: a.fileId }),
          new workflowPkg.GrantProcessInstanceForDownloadFileHeaders({ xAcsDingtalkAccessToken: token }),
          runtimeOptions(ctx.timeoutMs),
        ),
      );
      const uri = res.body?.result?.downloadUri;
      if (!uri) throw permanent(`${A}: DingTalk granted no download URL for ${a.fileName}`);
      let got;
      try {
        got = await egressFetch(uri, { timeoutMs: ctx.timeoutMs });
      } catch (err) {
        throw transportError(`GET ${a.fileName}`, err);
      }
      if (got.status < 200 || got.status >= 300) {
        const text = await got.text(2048).catch(() => '');
        throw classifyAnswer(got.status, text, got.header, { throttledStatuses: [429] }, `download ${a.fileName}`, {
          authenticated: false,
        })!;
      }
      const ext = (a.fileType || a.fileName.split('.').pop() || '').toLowerCase();
      const contentType = got.header('content-type')?.split(';')[0]?.trim() || TYPES[ext] || 'application/octet-stream';
      files.push(await ctx.files.put(got.body, { name: a.fileName, contentType }));
    }
    ctx.trace({ response: { count: files.length, names: files.map((f) => f.name) } });
    return {
      count: files.length,
      file: files[0] ?? null,
      files,
      form: inst.form,
      originatorUserId: inst.originatorUserId,
      businessId: inst.businessId,
    };
  },
});

export const approvalComment = defineAction({
  id: 'dingtalk.approval.comment',
  title: 'Comment on an approval',
  input: z.object({
    processInstanceId: z.string().min(1),
    text: z.string().min(1).max(2000),
    commentUserId: z.string().min(1).describe('the user the comment is written as (e.g. a finance bot account or the approver)'),
  }),
  output: z.object({ ok: z.boolean() }),
  sampleOutput: { ok: true },
  async run(ctx, input) {
    const conn = appConnection(ctx.connection, 'dingtalk.approval.comment');
    ctx.trace({ request: { processInstanceId: input.processInstanceId, commentUserId: input.commentUserId } });
    const c = client(workflowPkg.default, conn.settings);
    const res = await callApi(conn, 'workflow/processInstances/comments', (token) =>
      c.addProcessInstanceCommentWithOptions(
        new workflowPkg.AddProcessInstanceCommentRequest(input),
        new workflowPkg.AddProcessInstanceCommentHeaders({ xAcsDingtalkAccessToken: token }),
        runtimeOptions(ctx.timeoutMs),
      ),
    );
    return { ok: Boolean(res.body?.success ?? res.body?.result ?? true) };
  },
});
