import type { ConnectionHandle, TriggeredEvent } from '../../core/connector.ts';
import { fetchApproval } from './approvals.ts';

/**
 * DingTalk's pushes as hub events. The same thing by HTTP callback and by Stream (or twice) carries the
 * same DingTalk `eventId`, which is the provider id, so it is one HubEvent.
 *
 * - `bpms_instance_change` → `dingtalk.approval.started|finished|terminated|deleted`
 * - `bpms_task_change` → `dingtalk.approval.task.started|finished|cancelled|commented|…`
 * - a message typed to the app robot → `dingtalk.message.received`
 * - anything else → `dingtalk.event.received` with its `eventType`
 */
export const APPROVAL_EVENTS = [
  'dingtalk.approval.started',
  'dingtalk.approval.finished',
  'dingtalk.approval.terminated',
  'dingtalk.approval.deleted',
];
export const TASK_EVENTS = [
  'dingtalk.approval.task.started',
  'dingtalk.approval.task.finished',
  'dingtalk.approval.task.cancelled',
  'dingtalk.approval.task.commented',
];
export const MESSAGE_EVENT = 'dingtalk.message.received';
export const OTHER_EVENT = 'dingtalk.event.received';
export const ALL_EVENTS = [...APPROVAL_EVENTS, ...TASK_EVENTS, MESSAGE_EVENT, OTHER_EVENT];

const INSTANCE_TYPES: Record<string, string> = { start: 'started', finish: 'finished', terminate: 'terminated', delete: 'deleted' };
const TASK_TYPES: Record<string, string> = { start: 'started', finish: 'finished', cancel: 'cancelled', comment: 'commented' };

const iso = (v: unknown): string | null => {
  if (v === undefined || v === null || v === '') return null;
  const n = typeof v === 'number' ? v : /^\d+$/.test(String(v)) ? Number(v) : Date.parse(String(v));
  return Number.isFinite(n) ? new Date(n).toISOString() : null;
};
const s = (v: unknown) => (v === undefined || v === null ? null : String(v));

export interface PushMeta {
  eventId?: string;
  eventType: string;
  bornTime?: unknown;
  corpId?: string;
}

/** One pushed event (HTTP plaintext fields or a Stream EVENT's data) as a TriggeredEvent, before enrichment. */
export function normaliseEvent(meta: PushMeta, fields: Record<string, unknown>): TriggeredEvent {
  const { eventType } = meta;
  const kind = String(fields.type ?? '');
  const fallbackId = `${eventType}:${s(fields.processInstanceId) ?? ''}:${s(fields.taskId) ?? ''}:${kind}:${s(fields.finishTime ?? fields.createTime) ?? ''}`;
  const providerId = meta.eventId ? `event:${meta.eventId}` : fallbackId;
  const born = iso(meta.bornTime);
  if (eventType === 'bpms_instance_change' || eventType === 'bpms_task_change') {
    const isTask = eventType === 'bpms_task_change';
    const type = isTask ? `dingtalk.approval.task.${TASK_TYPES[kind] ?? kind}` : `dingtalk.approval.${INSTANCE_TYPES[kind] ?? kind}`;
    const data: Record<string, unknown> = {
      eventType,
      eventId: meta.eventId ?? null,
      corpId: s(fields.corpId) ?? meta.corpId ?? null,
      processInstanceId: s(fields.processInstanceId),
      processCode: s(fields.processCode),
      bizCategoryId: s(fields.bizCategoryId),
      businessId: s(fields.businessId),
      title: s(fields.title),
      url: s(fields.url),
      type: kind,
      result: fields.result ? String(fields.result) : null,
      createTime: iso(fields.createTime),
      finishTime: iso(fields.finishTime),
      ...(isTask
        ? {
            task: {
              taskId: s(fields.taskId),
              userId: s(fields.staffId),
              type: kind,
              result: fields.result ? String(fields.result) : null,
              remark: s(fields.remark),
            },
          }
        : { originatorUserId: s(fields.staffId) }),
      form: {},
      formFetched: false,
    };
    return {
      providerId,
      type,
      occurredAt: iso(fields.finishTime) ?? iso(fields.createTime) ?? born ?? undefined,
      subject: s(fields.title),
      data,
      raw: { eventType, ...fields },
    };
  }
  return {
    providerId,
    type: OTHER_EVENT,
    occurredAt: born ?? undefined,
    subject: eventType,
    data: { eventType, eventId: meta.eventId ?? null, corpId: meta.corpId ?? null, ...fields },
    raw: { eventType, ...fields },
  };
}

/**
 * Adds the approval instance (form values, status, tasks) fetched with `dingtalk.approval.get`'s call,
 * within a time budget: an HTTP callback must be answered within 1500 ms. When the fetch fails or takes
 * too long the event is kept as it is with `formFetched: false` and `formError` (never dropped).
 */
export async function enrichApprovals(conn: ConnectionHandle, events: TriggeredEvent[], budgetMs: number): Promise<void> {
  const ids = [
    ...new Set(
      events
        .filter((e) => e.type.startsWith('dingtalk.approval.') && e.data.processInstanceId)
        .map((e) => String(e.data.processInstanceId)),
    ),
  ];
  if (ids.length === 0) return;
  const fetched = new Map<string, Awaited<ReturnType<typeof fetchApproval>> | Error>();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, budgetMs);
  });
  await Promise.race([
    Promise.all(
      ids.map(async (id) => {
        try {
          fetched.set(id, await fetchApproval(conn, id, budgetMs));
        } catch (err) {
          fetched.set(id, err as Error);
        }
      }),
    ),
    timeout,
  ]);
  clearTimeout(timer);
  for (const e of events) {
    const id = String(e.data.processInstanceId ?? '');
    if (!id || !e.type.startsWith('dingtalk.approval.')) continue;
    const got = fetched.get(id);
    if (got && !(got instanceof Error)) {
      e.data.form = got.form;
      e.data.formComponentValues = got.formComponentValues;
      e.data.status = got.status;
      e.data.instance = got;
      e.data.originatorUserId ??= got.originatorUserId;
      e.data.formFetched = true;
    } else {
      e.data.formError = got instanceof Error ? got.message : `approval.get took longer than ${budgetMs} ms`;
    }
  }
}

/** A message typed to the app robot (Stream CALLBACK or the HTTP robot URL) → `dingtalk.message.received`. */
/**
 * The people whose chat commands may change money or access (setting allowedSenders: DingTalk
 * userIds, also called staffIds; a list or comma-separated). Robot messages get `data.senderAllowed`.
 */
export function allowedSendersOf(settings: Record<string, unknown>): string[] {
  const v = settings.allowedSenders;
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : [];
  return list.map((x) => String(x).trim()).filter(Boolean);
}

/**
 * A robot message. `allowedSenders` (the connection's setting) decides `data.senderAllowed`: true only
 * when the sender's userId (staffId) is listed. The other sender fields are what DingTalk (or, for an
 * HTTP callback, whoever held a valid sign) wrote, never authority on their own: flows whose commands
 * change money or access must require `data.senderAllowed` (e.g. `… and data.senderAllowed`).
 */
export function normaliseRobotMessage(m: Record<string, unknown>, allowedSenders: string[] = []): TriggeredEvent {
  const text = String(
    (m.text as { content?: unknown } | undefined)?.content ?? (m.content as { content?: unknown } | undefined)?.content ?? '',
  ).trim();
  const conversationType = String(m.conversationType ?? '');
  return {
    providerId: `message:${String(m.msgId ?? '')}`,
    type: MESSAGE_EVENT,
    occurredAt: iso(m.createAt) ?? undefined,
    subject: text.slice(0, 120) || null,
    data: {
      msgId: s(m.msgId),
      msgtype: s(m.msgtype) ?? 'text',
      text,
      /** The text split on spaces: a command such as "trello add Fix the login page" is words[0..1] plus the rest. */
      words: text ? text.split(/\s+/) : [],
      sender: {
        staffId: s(m.senderStaffId),
        nick: s(m.senderNick),
        id: s(m.senderId),
        corpId: s(m.senderCorpId),
        isAdmin: Boolean(m.isAdmin),
      },
      senderAllowed: Boolean(s(m.senderStaffId) && allowedSenders.includes(s(m.senderStaffId)!)),
      conversation: { id: s(m.conversationId), type: conversationType === '2' ? 'group' : 'private', title: s(m.conversationTitle) },
      robotCode: s(m.robotCode),
      isInAtList: m.isInAtList === undefined ? null : Boolean(m.isInAtList),
      sessionWebhook: s(m.sessionWebhook),
      sessionWebhookExpiresAt: iso(m.sessionWebhookExpiredTime),
      createdAt: iso(m.createAt),
    },
    raw: m,
  };
}
