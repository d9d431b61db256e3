import crypto from 'node:crypto';
import { randomHex } from './crypto.ts';
import type { DingtalkRuntime } from './runtime.ts';
import type { ApprovalInstance, ApprovalTask } from './state.ts';

/** DingTalk's minute-precision time format of the workflow API: "2022-08-31T11:52Z". */
export function wfTime(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString().slice(0, 16) + 'Z';
}

const DEFAULT_APPROVERS = ['manager01'];

export function createApproval(
  rt: DingtalkRuntime,
  corpId: string,
  b: Record<string, unknown>,
): { instance: ApprovalInstance } | { error: string } {
  const st = rt.state;
  const originator = String(b.originatorUserId);
  let steps: Array<{ actionType: string; userIds: string[] }> = [];
  if (Array.isArray(b.approvers) && b.approvers.length > 0) {
    for (const a of b.approvers as Array<Record<string, unknown>>) {
      const actionType = String(a?.actionType ?? 'NONE').toUpperCase();
      const userIds = Array.isArray(a?.userIds) ? a.userIds.map(String).filter(Boolean) : [];
      if (!['AND', 'OR', 'NONE'].includes(actionType)) return { error: `approvers.actionType ${actionType} 不合法` };
      if (userIds.length === 0) return { error: 'approvers.userIds 不能为空' };
      if (actionType === 'NONE' && userIds.length > 1) return { error: 'actionType NONE 只能有一个审批人' };
      steps.push({ actionType, userIds });
    }
  } else {
    steps = [{ actionType: 'NONE', userIds: [...DEFAULT_APPROVERS] }];
  }
  const form: Array<Record<string, unknown>> = [];
  for (const f of (b.formComponentValues ?? []) as Array<Record<string, unknown>>) {
    if (!f || typeof f.name !== 'string') return { error: 'formComponentValues.name 不能为空' };
    let value = f.value;
    if (value === undefined && Array.isArray(f.details)) value = JSON.stringify(f.details);
    form.push({
      name: f.name,
      value: value === undefined ? '' : String(value),
      id: f.id ?? `TextField-${randomHex(4).toUpperCase()}`,
      componentType: f.componentType ?? 'TextField',
      bizAlias: f.bizAlias ?? '',
      extValue: f.extValue ?? '',
    });
  }
  const now = Date.now();
  const seq = ++st.approvalSeq;
  const d = new Date(now);
  const businessId = `${d.toISOString().replace(/\D/g, '').slice(0, 12)}${String(seq).padStart(6, '0')}`;
  const user = st.users.get(originator);
  const id = crypto.randomUUID();
  const inst: ApprovalInstance = {
    processInstanceId: id,
    corpId,
    processCode: String(b.processCode),
    title: typeof b.title === 'string' && b.title ? b.title : `${user?.name ?? originator}提交的审批`,
    businessId,
    originatorUserId: originator,
    originatorDeptId: b.deptId !== undefined ? String(b.deptId) : String(user?.deptId ?? 1),
    originatorDeptName: user?.deptName ?? 'Head office',
    status: 'RUNNING',
    result: '',
    createTime: now,
    formComponentValues: form,
    steps,
    currentStep: 0,
    ccList: Array.isArray(b.ccList) ? b.ccList.map(String) : [],
    tasks: [],
    operationRecords: [{ userId: originator, date: now, type: 'START_PROCESS_INSTANCE', result: 'NONE', showName: '发起审批' }],
    url: `${rt.baseUrl()}/__sandbox/dingtalk/approvals/${id}`,
  };
  st.approvals.set(id, inst);
  rt.emitEvent(corpId, 'bpms_instance_change', instanceFields(inst, 'start'), { bizId: id });
  startStep(rt, inst, 0);
  return { instance: inst };
}

function instanceFields(inst: ApprovalInstance, type: string, result?: string): Record<string, unknown> {
  return {
    processInstanceId: inst.processInstanceId,
    corpId: inst.corpId,
    processCode: inst.processCode,
    bizCategoryId: '',
    businessId: inst.businessId,
    title: inst.title,
    url: inst.url,
    createTime: inst.createTime,
    ...(inst.finishTime !== undefined ? { finishTime: inst.finishTime } : {}),
    staffId: inst.originatorUserId,
    type,
    ...(result ? { result } : {}),
  };
}

function taskFields(inst: ApprovalInstance, task: ApprovalTask, type: string, result?: string, remark?: string): Record<string, unknown> {
  return {
    processInstanceId: inst.processInstanceId,
    corpId: inst.corpId,
    processCode: inst.processCode,
    bizCategoryId: '',
    businessId: inst.businessId,
    title: inst.title,
    url: inst.url,
    createTime: task.createTime,
    ...(task.finishTime !== undefined ? { finishTime: task.finishTime } : {}),
    taskId: task.taskId,
    staffId: task.userId,
    type,
    ...(result ? { result } : {}),
    ...(remark ? { remark } : {}),
  };
}

function startStep(rt: DingtalkRuntime, inst: ApprovalInstance, step: number): void {
  inst.currentStep = step;
  const s = inst.steps[step]!;
  const now = Date.now();
  for (const userId of s.userIds) {
    const task: ApprovalTask = {
      taskId: ++rt.state.taskSeq,
      userId,
      status: 'RUNNING',
      result: 'NONE',
      activityId: `act_${step + 1}`,
      step,
      createTime: now,
    };
    inst.tasks.push(task);
    rt.emitEvent(inst.corpId, 'bpms_task_change', taskFields(inst, task, 'start'), { bizId: inst.processInstanceId });
  }
}

export type ApprovalAction = 'agree' | 'refuse' | 'terminate';

/** Applies an approver's (or the originator's) action, as a user would in the DingTalk app. */
export function actOnApproval(
  rt: DingtalkRuntime,
  inst: ApprovalInstance,
  action: ApprovalAction,
  userId: string | undefined,
  remark: string | undefined,
): { error?: string } {
  if (inst.status !== 'RUNNING') return { error: `instance is ${inst.status}` };
  const now = Date.now();
  const running = inst.tasks.filter((t) => t.status === 'RUNNING');
  if (action === 'terminate') {
    const who = userId ?? inst.originatorUserId;
    for (const t of running) {
      t.status = 'CANCELED';
      t.finishTime = now;
      rt.emitEvent(inst.corpId, 'bpms_task_change', taskFields(inst, t, 'cancel'), { bizId: inst.processInstanceId });
    }
    inst.status = 'TERMINATED';
    inst.finishTime = now;
    inst.operationRecords.push({
      userId: who,
      date: now,
      type: 'TERMINATE_PROCESS_INSTANCE',
      result: 'NONE',
      showName: '撤销',
      ...(remark ? { remark } : {}),
    });
    rt.emitEvent(inst.corpId, 'bpms_instance_change', instanceFields(inst, 'terminate'), { bizId: inst.processInstanceId });
    return {};
  }
  const task = userId ? running.find((t) => t.userId === userId) : running[0];
  if (!task) return { error: userId ? `user ${userId} has no running task on this instance` : 'no running task' };
  const taskResult = action === 'agree' ? 'AGREE' : 'REFUSE';
  task.status = 'COMPLETED';
  task.result = taskResult;
  task.finishTime = now;
  inst.operationRecords.push({
    userId: task.userId,
    date: now,
    type: 'EXECUTE_TASK_NORMAL',
    result: taskResult,
    showName: '审批',
    activityId: task.activityId,
    ...(remark ? { remark } : {}),
  });
  rt.emitEvent(inst.corpId, 'bpms_task_change', taskFields(inst, task, 'finish', action, remark), { bizId: inst.processInstanceId });
  const step = inst.steps[inst.currentStep]!;
  const others = inst.tasks.filter((t) => t.status === 'RUNNING' && t.step === inst.currentStep);
  const cancelOthers = () => {
    for (const t of others) {
      t.status = 'CANCELED';
      t.finishTime = now;
      rt.emitEvent(inst.corpId, 'bpms_task_change', taskFields(inst, t, 'cancel'), { bizId: inst.processInstanceId });
    }
  };
  if (action === 'refuse') {
    cancelOthers();
    finish(rt, inst, 'refuse', now);
    return {};
  }
  if (step.actionType === 'OR') cancelOthers();
  else if (others.length > 0) return {}; // AND: wait for the other approvers
  if (inst.currentStep + 1 < inst.steps.length) startStep(rt, inst, inst.currentStep + 1);
  else finish(rt, inst, 'agree', now);
  return {};
}

function finish(rt: DingtalkRuntime, inst: ApprovalInstance, result: 'agree' | 'refuse', now: number): void {
  inst.status = 'COMPLETED';
  inst.result = result;
  inst.finishTime = now;
  rt.emitEvent(inst.corpId, 'bpms_instance_change', instanceFields(inst, 'finish', result), { bizId: inst.processInstanceId });
}

/** The `result` object of GET /v1.0/workflow/processInstances. */
export function instanceView(rt: DingtalkRuntime, inst: ApprovalInstance): Record<string, unknown> {
  const base = rt.baseUrl();
  return {
    processInstanceId: inst.processInstanceId,
    title: inst.title,
    businessId: inst.businessId,
    originatorUserId: inst.originatorUserId,
    originatorDeptId: inst.originatorDeptId,
    originatorDeptName: inst.originatorDeptName,
    status: inst.status,
    result: inst.result,
    bizAction: 'NONE',
    createTime: wfTime(inst.createTime),
    ...(inst.finishTime !== undefined ? { finishTime: wfTime(inst.finishTime) } : {}),
    approverUserIds: inst.steps.flatMap((s) => s.userIds),
    ccUserIds: inst.ccList,
    attachedProcessInstanceIds: [],
    mainProcessInstanceId: '',
    formComponentValues: inst.formComponentValues,
    operationRecords: inst.operationRecords.map((r) => ({
      userId: r.userId,
      date: wfTime(r.date),
      type: r.type,
      result: r.result,
      showName: r.showName,
      ...(r.remark ? { remark: r.remark } : {}),
      ...(r.activityId ? { activityId: r.activityId } : {}),
    })),
    tasks: inst.tasks.map((t) => ({
      taskId: t.taskId,
      userId: t.userId,
      status: t.status,
      result: t.result,
      activityId: t.activityId,
      processInstanceId: inst.processInstanceId,
      createTime: wfTime(t.createTime),
      ...(t.finishTime !== undefined ? { finishTime: wfTime(t.finishTime) } : {}),
      pcUrl: `${base}/__sandbox/dingtalk/approvals/${inst.processInstanceId}?task=${t.taskId}`,
      mobileUrl: `${base}/__sandbox/dingtalk/approvals/${inst.processInstanceId}?task=${t.taskId}&mobile=1`,
    })),
  };
}
