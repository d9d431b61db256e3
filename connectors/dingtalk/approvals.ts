import { z } from 'zod';
import workflowPkg from '@alicloud/dingtalk/dist/workflow_1_0/client.js';
import { defineAction, type ConnectionHandle } from '../../core/connector.ts';
import { appConnection } from './messages.ts';
import { callApi, client, runtimeOptions } from './sdk.ts';

/**
 * Approvals (new API through the SDK's workflow_1_0 client). `form` is a plain object of field name →
 * value, mapped to `formComponentValues`; what comes back is normalised the same way, so flows map
 * `data.form.Amount` rather than searching an array.
 */

export interface ApprovalView {
  processInstanceId: string;
  title: string | null;
  businessId: string | null;
  status: string | null;
  result: string | null;
  originatorUserId: string | null;
  originatorDeptId: string | null;
  createTime: string | null;
  finishTime: string | null;
  /** Field name → value (DingTalk sends every value as a string). */
  form: Record<string, string>;
  formComponentValues: Array<Record<string, unknown>>;
  tasks: Array<Record<string, unknown>>;
  operationRecords: Array<Record<string, unknown>>;
  approverUserIds: string[];
  ccUserIds: string[];
}

/** "2022-08-31T11:52Z" (minute precision) → ISO. */
const wfTime = (v: unknown) => {
  if (typeof v !== 'string' || !v) return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? v : new Date(t).toISOString();
};

export function formObject(values: Array<Record<string, unknown>>): Record<string, string> {
  const form: Record<string, string> = {};
  for (const v of values)
    if (typeof v.name === 'string' && v.name) form[v.name] = v.value === undefined || v.value === null ? '' : String(v.value);
  return form;
}

/** GET /v1.0/workflow/processInstances?processInstanceId= → the normalised instance. */
export async function fetchApproval(conn: ConnectionHandle, processInstanceId: string, timeoutMs = 10_000): Promise<ApprovalView> {
  const c = client(workflowPkg.default, conn.settings);
  const res = await callApi(conn, 'workflow/processInstances (get)', (token) =>
    c.getProcessInstanceWithOptions(
      new workflowPkg.GetProcessInstanceRequest({ processInstanceId }),
      new workflowPkg.GetProcessInstanceHeaders({ xAcsDingtalkAccessToken: token }),
      runtimeOptions(timeoutMs),
    ),
  );
  const r = JSON.parse(JSON.stringify(res.body?.result ?? {})) as Record<string, unknown>;
  const values = (r.formComponentValues as Array<Record<string, unknown>> | undefined) ?? [];
  return {
    processInstanceId,
    title: (r.title as string) ?? null,
    businessId: (r.businessId as string) ?? null,
    status: (r.status as string) ?? null,
    result: (r.result as string) || null,
    originatorUserId: (r.originatorUserId as string) ?? null,
    originatorDeptId: (r.originatorDeptId as string) ?? null,
    createTime: wfTime(r.createTime),
    finishTime: wfTime(r.finishTime),
    form: formObject(values),
    formComponentValues: values,
    tasks: (r.tasks as Array<Record<string, unknown>>) ?? [],
    operationRecords: (r.operationRecords as Array<Record<string, unknown>>) ?? [],
    approverUserIds: (r.approverUserIds as string[]) ?? [],
    ccUserIds: (r.ccUserIds as string[]) ?? [],
  };
}

const formValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.unknown()), z.record(z.string(), z.unknown())]);

export const approvalStart = defineAction({
  id: 'dingtalk.approval.start',
  title: 'Start an approval',
  description:
    "Starts an instance of an approval form (processCode) for the originator; `form` maps field names to values. Not idempotent on DingTalk's side: a retry after a lost answer can start a second instance.",
  input: z
    .object({
      processCode: z.string().min(1),
      originatorUserId: z.string().min(1),
      deptId: z.coerce.number().int().optional(),
      form: z.record(z.string(), formValue).default({}),
      /** Advanced: formComponentValues as DingTalk takes them (sent after `form`). */
      formComponentValues: z
        .array(
          z.object({
            name: z.string().min(1),
            value: z.string().optional(),
            id: z.string().optional(),
            bizAlias: z.string().optional(),
            componentType: z.string().optional(),
            extValue: z.string().optional(),
            details: z.array(z.unknown()).optional(),
          }),
        )
        .default([]),
      approvers: z
        .array(z.object({ actionType: z.enum(['AND', 'OR', 'NONE']).default('NONE'), userIds: z.array(z.string().min(1)).min(1) }))
        .optional(),
      ccList: z.array(z.string().min(1)).optional(),
      ccPosition: z.enum(['START', 'FINISH', 'START_FINISH']).optional(),
      agentId: z.coerce.number().int().optional(),
    })
    .refine(
      (i) => Object.keys(i.form).length + i.formComponentValues.length > 0,
      'give at least one form field (form or formComponentValues)',
    ),
  output: z.object({ instanceId: z.string().nullable() }),
  sampleOutput: { instanceId: 'a1b2c3d4-…' },
  outputRef: (out) => (out?.instanceId ? { kind: 'dingtalk.approval', id: out.instanceId } : undefined),
  async run(ctx, input) {
    const conn = appConnection(ctx.connection, 'dingtalk.approval.start');
    const formComponentValues = [
      ...Object.entries(input.form).map(([name, value]) => ({
        name,
        value:
          typeof value === 'string'
            ? value
            : typeof value === 'number' || typeof value === 'boolean'
              ? String(value)
              : JSON.stringify(value),
      })),
      ...input.formComponentValues,
    ];
    const agentId =
      input.agentId ?? (conn.settings.agentId !== undefined && conn.settings.agentId !== '' ? Number(conn.settings.agentId) : undefined);
    const request = {
      processCode: input.processCode,
      originatorUserId: input.originatorUserId,
      deptId: input.deptId,
      formComponentValues,
      approvers: input.approvers,
      ccList: input.ccList,
      ccPosition: input.ccPosition ?? (input.ccList?.length ? 'FINISH' : undefined),
      microappAgentId: Number.isFinite(agentId) ? agentId : undefined,
    };
    ctx.trace({ request });
    const c = client(workflowPkg.default, conn.settings);
    const res = await callApi(conn, 'workflow/processInstances (start)', (token) =>
      c.startProcessInstanceWithOptions(
        new workflowPkg.StartProcessInstanceRequest(request),
        new workflowPkg.StartProcessInstanceHeaders({ xAcsDingtalkAccessToken: token }),
        runtimeOptions(ctx.timeoutMs),
      ),
    );
    const out = { instanceId: res.body?.instanceId ?? null };
    ctx.trace({ response: out });
    return out;
  },
});

export const approvalGet = defineAction({
  id: 'dingtalk.approval.get',
  title: 'Get an approval instance (with its form values)',
  input: z.object({ processInstanceId: z.string().min(1) }),
  sampleOutput: {
    processInstanceId: 'a1b2c3d4-…',
    title: 'Alice Chan提交的报销',
    status: 'COMPLETED',
    result: 'agree',
    form: { Amount: '5000' },
  },
  async run(ctx, input) {
    const conn = appConnection(ctx.connection, 'dingtalk.approval.get');
    ctx.trace({ request: input });
    const out = await fetchApproval(conn, input.processInstanceId, ctx.timeoutMs);
    ctx.trace({ response: { status: out.status, result: out.result } });
    return out;
  },
});
