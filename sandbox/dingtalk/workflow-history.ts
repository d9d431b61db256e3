import type { Express, Request, Response } from 'express';
import { CONTROL_PREFIX } from './control.ts';
import { apiError } from './errors.ts';
import type { DingtalkRuntime } from './runtime.ts';
import type { ApprovalInstance } from './state.ts';

/**
 * Past approvals: `POST /v1.0/workflow/processes/instanceIds/query` (ListProcessInstanceIds in the SDK's
 * workflow_1_0) lists the ids of one process code's instances started in [startTime, endTime] (ms), with
 * DingTalk's limits: at most 20 a page (`maxResults`), `nextToken` the offset to go on from (a number
 * in the request, a string in the answer, absent on the last page), a window of at most 120 days, and a
 * startTime at most 365 days ago. `POST /__sandbox/dingtalk/approvals/history` stores finished
 * instances as they were (no pushes: it is the past), and can lift the 365-day limit for a seeded year
 * whose dates are fixed (`maxAgeDays: null`).
 */
const DAY = 86_400_000;
export const MAX_PAGE = 20;
export const MAX_WINDOW_DAYS = 120;

const maxAge = new WeakMap<DingtalkRuntime, number | null>();

export function registerWorkflowHistory(app: Express, rt: DingtalkRuntime, corpOf: (res: Response) => string): void {
  app.post('/v1.0/workflow/processes/instanceIds/query', (req: Request, res: Response) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const code = typeof b.processCode === 'string' ? b.processCode : '';
    if (!code) return apiError(res, 400, 'MissingprocessCode', 'processCode is mandatory for this action.');
    if (typeof b.startTime !== 'number') return apiError(res, 400, 'MissingstartTime', 'startTime is mandatory for this action.');
    if (b.maxResults === undefined) return apiError(res, 400, 'MissingmaxResults', 'maxResults is mandatory for this action.');
    if (b.nextToken === undefined) return apiError(res, 400, 'MissingnextToken', 'nextToken is mandatory for this action.');
    const size = Number(b.maxResults);
    const offset = Number(b.nextToken);
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE)
      return apiError(res, 400, 'invalidParameter.maxResults', `maxResults 取值范围 1-${MAX_PAGE}`);
    if (!Number.isInteger(offset) || offset < 0) return apiError(res, 400, 'invalidParameter.nextToken', 'nextToken 不合法');
    const start = b.startTime;
    const end = typeof b.endTime === 'number' ? b.endTime : Date.now();
    if (end < start) return apiError(res, 400, 'invalidParameter.endTime', 'endTime 不能早于 startTime');
    if (end - start > MAX_WINDOW_DAYS * DAY) return apiError(res, 400, 'invalidParameter.time', `时间范围不能超过${MAX_WINDOW_DAYS}天`);
    const age = maxAge.has(rt) ? maxAge.get(rt) : 365;
    if (age !== null && age !== undefined && Date.now() - start > age * DAY)
      return apiError(res, 400, 'invalidParameter.startTime', `startTime 距当前时间不能超过${age}天`);
    const statuses = Array.isArray(b.statuses) ? b.statuses.map(String) : [];
    const users = Array.isArray(b.userIds) ? b.userIds.map(String) : [];
    const corpId = corpOf(res);
    const ids = [...rt.state.approvals.values()]
      .filter(
        (i) =>
          i.corpId === corpId &&
          i.processCode === code &&
          i.createTime >= start &&
          i.createTime <= end &&
          (statuses.length === 0 || statuses.includes(i.status)) &&
          (users.length === 0 || users.includes(i.originatorUserId)),
      )
      .sort((a, b) => a.createTime - b.createTime || a.processInstanceId.localeCompare(b.processInstanceId))
      .map((i) => i.processInstanceId);
    const list = ids.slice(offset, offset + size);
    const next = offset + size < ids.length ? String(offset + size) : undefined;
    res.json({ success: true, result: { list, ...(next ? { nextToken: next } : {}) } });
  });

  app.post(`${CONTROL_PREFIX}/approvals/history`, (req: Request, res: Response) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    if ('maxAgeDays' in b) maxAge.set(rt, b.maxAgeDays === null ? null : Number(b.maxAgeDays));
    const list = Array.isArray(b.instances) ? (b.instances as Record<string, unknown>[]) : [];
    const corpId = typeof b.corpId === 'string' ? b.corpId : [...rt.state.apps.values()][0]?.corpId;
    if (list.length && !corpId) return void res.status(400).json({ error: 'no corpId (register an app first)' });
    for (const r of list) {
      const id = typeof r.processInstanceId === 'string' ? r.processInstanceId : '';
      const created = Date.parse(String(r.createTime));
      const finished = r.finishTime ? Date.parse(String(r.finishTime)) : undefined;
      if (!id || typeof r.processCode !== 'string' || typeof r.originatorUserId !== 'string' || Number.isNaN(created))
        return void res.status(400).json({ error: `bad instance ${id}: processInstanceId, processCode, originatorUserId, createTime` });
      const result = r.result === 'refuse' ? 'refuse' : r.result === 'agree' ? 'agree' : '';
      const status: ApprovalInstance['status'] = finished === undefined ? 'RUNNING' : result ? 'COMPLETED' : 'TERMINATED';
      rt.state.approvals.set(id, {
        processInstanceId: id,
        corpId: corpId!,
        processCode: r.processCode,
        title: typeof r.title === 'string' ? r.title : `${r.originatorUserId}提交的审批`,
        businessId: String(++rt.state.approvalSeq).padStart(18, '0'),
        originatorUserId: r.originatorUserId,
        originatorDeptId: '1',
        originatorDeptName: 'Head office',
        status,
        result: status === 'COMPLETED' ? (result as 'agree' | 'refuse') : '',
        createTime: created,
        ...(finished !== undefined ? { finishTime: finished } : {}),
        formComponentValues: [],
        steps: [{ actionType: 'NONE', userIds: ['manager01'] }],
        currentStep: 0,
        ccList: [],
        tasks: [],
        operationRecords: [],
        url: `${rt.baseUrl()}/__sandbox/dingtalk/approvals/${id}`,
      });
    }
    res.json({ stored: list.length, approvals: rt.state.approvals.size });
  });
}
