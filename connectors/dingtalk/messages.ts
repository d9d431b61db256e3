import { z } from 'zod';
import robotPkg from '@alicloud/dingtalk/dist/robot_1_0/client.js';
import { defineAction, type ConnectionHandle } from '../../core/connector.ts';
import { permanent } from '../../core/errors.ts';
import { callApi, client, runtimeOptions } from './sdk.ts';

/**
 * The app robot's messages (new API through the SDK's robot_1_0 client): 1:1 to users
 * (`oToMessages/batchSend`) and to a group (`groupMessages/send`). The input is friendly (text,
 * markdown, link, actionCard); the hub builds `msgKey` and the `msgParam` JSON.
 */
const button = z.object({ title: z.string().min(1), url: z.string().min(1) });

const text = z.string().optional();
const title = z.string().optional();
/** Advanced, on every type: a msgKey and its msgParam object, sent as they are; the app robot (default the connection's robotCode, or its AppKey). */
const advanced = {
  msgKey: z.string().optional(),
  msgParam: z.record(z.string(), z.unknown()).optional(),
  robotCode: z.string().optional(),
};

/**
 * A message as one object per type (a discriminated union on `type`), with the action's own fields
 * (`head` before the message, `tail` after): the schema says which fields belong to which type, and the
 * config UI's form shows a field only for the types whose object has it.
 */
function messageInput<H extends z.ZodRawShape, T extends z.ZodRawShape>(head: H, tail: T) {
  return z
    .discriminatedUnion('type', [
      z.object({ ...head, type: z.literal('text').default('text'), text, ...tail, ...advanced }),
      z.object({ ...head, type: z.literal('markdown'), title, text, ...tail, ...advanced }),
      z.object({
        ...head,
        type: z.literal('link'),
        title,
        text,
        messageUrl: z.string().optional(),
        picUrl: z.string().optional(),
        ...tail,
        ...advanced,
      }),
      z.object({
        ...head,
        type: z.literal('actionCard'),
        title,
        text,
        singleTitle: z.string().optional(),
        singleUrl: z.string().optional(),
        /** 2 to 5 buttons (sampleActionCard2…5). */
        buttons: z.array(button).min(2).max(5).optional(),
        ...tail,
        ...advanced,
      }),
      /** A file message: the mediaId from dingtalk.media.upload, the name shown and its extension. */
      z.object({
        ...head,
        type: z.literal('file'),
        mediaId: z.string().optional(),
        fileName: z.string().optional(),
        fileType: z.string().optional(),
        ...tail,
        ...advanced,
      }),
    ])
    .superRefine((m, ctx) => checkMessage(m as Message, ctx));
}
type Message = {
  type: 'text' | 'markdown' | 'link' | 'actionCard' | 'file';
  mediaId?: string;
  fileName?: string;
  fileType?: string;
  text?: string;
  title?: string;
  messageUrl?: string;
  picUrl?: string;
  singleTitle?: string;
  singleUrl?: string;
  buttons?: Array<{ title: string; url: string }>;
  msgKey?: string;
  msgParam?: Record<string, unknown>;
  robotCode?: string;
};

const checkMessage = (m: Message, ctx: z.RefinementCtx) => {
  if (m.msgKey) {
    if (!m.msgParam) ctx.addIssue({ code: 'custom', message: 'msgKey needs msgParam' });
    return;
  }
  const need = (ok: unknown, msg: string) => {
    if (!ok) ctx.addIssue({ code: 'custom', message: msg });
  };
  switch (m.type) {
    case 'text':
      need(m.text, 'a text message needs text');
      break;
    case 'markdown':
      need(m.title && m.text, 'a markdown message needs title and text');
      break;
    case 'link':
      need(m.title && m.text && m.messageUrl, 'a link message needs title, text and messageUrl');
      break;
    case 'actionCard':
      need(
        m.title && m.text && ((m.singleTitle && m.singleUrl) || m.buttons?.length),
        'an actionCard needs title, text, and singleTitle + singleUrl or 2–5 buttons',
      );
      break;
    case 'file':
      need(m.mediaId && m.fileName, 'a file message needs mediaId and fileName');
      break;
  }
};

/** msgKey and msgParam (a JSON string) for a friendly message. */
export function appMessage(m: Message): { msgKey: string; msgParam: string } {
  if (m.msgKey) return { msgKey: m.msgKey, msgParam: JSON.stringify(m.msgParam ?? {}) };
  switch (m.type) {
    case 'text':
      return { msgKey: 'sampleText', msgParam: JSON.stringify({ content: m.text }) };
    case 'markdown':
      return { msgKey: 'sampleMarkdown', msgParam: JSON.stringify({ title: m.title, text: m.text }) };
    case 'link':
      return {
        msgKey: 'sampleLink',
        msgParam: JSON.stringify({ title: m.title, text: m.text, messageUrl: m.messageUrl, picUrl: m.picUrl ?? '' }),
      };
    case 'file':
      return {
        msgKey: 'sampleFile',
        msgParam: JSON.stringify({ mediaId: m.mediaId, fileName: m.fileName, fileType: m.fileType || m.fileName?.split('.').pop() || '' }),
      };
    case 'actionCard': {
      if (!m.buttons?.length)
        return {
          msgKey: 'sampleActionCard',
          msgParam: JSON.stringify({ title: m.title, text: m.text, singleTitle: m.singleTitle, singleURL: m.singleUrl }),
        };
      const p: Record<string, string> = { title: m.title!, text: m.text! };
      m.buttons.forEach((b, i) => {
        p[`actionTitle${i + 1}`] = b.title;
        p[`actionURL${i + 1}`] = b.url;
      });
      return { msgKey: `sampleActionCard${m.buttons.length}`, msgParam: JSON.stringify(p) };
    }
  }
}

export function appConnection(conn: ConnectionHandle | undefined, action: string): ConnectionHandle {
  if (!conn) throw permanent(`${action} needs a DingTalk app connection (connector dingtalk; set \`connection:\` on the step)`);
  if (conn.connectorId !== 'dingtalk')
    throw permanent(`${action} needs a dingtalk app connection; ${conn.id} is a ${conn.connectorId} connection`);
  return conn;
}

const robotCodeOf = (conn: ConnectionHandle, m: Message) => m.robotCode || String(conn.settings.robotCode || conn.settings.appKey || '');

export const sendToUsers = defineAction({
  id: 'dingtalk.message.sendToUsers',
  title: 'Send a message from the app robot to users (1:1)',
  input: messageInput({ userIds: z.array(z.string().min(1)).min(1).max(20) }, {}),
  sampleOutput: { processQueryKey: 'a1b2c3', invalidStaffIdList: [], flowControlledStaffIdList: [] },
  async run(ctx, input) {
    const conn = appConnection(ctx.connection, 'dingtalk.message.sendToUsers');
    const { msgKey, msgParam } = appMessage(input);
    const request = { robotCode: robotCodeOf(conn, input), userIds: input.userIds, msgKey, msgParam };
    ctx.trace({ request });
    const c = client(robotPkg.default, conn.settings);
    const res = await callApi(conn, 'oToMessages/batchSend', (token) =>
      c.batchSendOTOWithOptions(
        new robotPkg.BatchSendOTORequest(request),
        new robotPkg.BatchSendOTOHeaders({ xAcsDingtalkAccessToken: token }),
        runtimeOptions(ctx.timeoutMs),
      ),
    );
    const out = {
      processQueryKey: res.body?.processQueryKey ?? null,
      invalidStaffIdList: res.body?.invalidStaffIdList ?? [],
      flowControlledStaffIdList: res.body?.flowControlledStaffIdList ?? [],
    };
    ctx.trace({ response: out });
    if (out.invalidStaffIdList.length === input.userIds.length)
      throw permanent(`none of the users exist: ${out.invalidStaffIdList.join(', ')}`);
    return out;
  },
});

export const sendToGroup = defineAction({
  id: 'dingtalk.message.sendToGroup',
  title: 'Send a message from the app robot to a group',
  input: messageInput(
    { openConversationId: z.string().min(1) },
    /** Send nothing when false: a note only some runs need (e.g. `{{ steps[1].output.review }}`, a receipt to review). */
    { onlyIf: z.boolean().default(true) },
  ),
  sampleOutput: { processQueryKey: 'a1b2c3' },
  async run(ctx, input) {
    const conn = appConnection(ctx.connection, 'dingtalk.message.sendToGroup');
    if (!input.onlyIf) {
      ctx.trace({ response: { skipped: true } });
      return { processQueryKey: null, skipped: true };
    }
    const { msgKey, msgParam } = appMessage(input);
    const request = { robotCode: robotCodeOf(conn, input), openConversationId: input.openConversationId, msgKey, msgParam };
    ctx.trace({ request });
    const c = client(robotPkg.default, conn.settings);
    const res = await callApi(conn, 'groupMessages/send', (token) =>
      c.orgGroupSendWithOptions(
        new robotPkg.OrgGroupSendRequest(request),
        new robotPkg.OrgGroupSendHeaders({ xAcsDingtalkAccessToken: token }),
        runtimeOptions(ctx.timeoutMs),
      ),
    );
    const out = { processQueryKey: res.body?.processQueryKey ?? null, skipped: false };
    ctx.trace({ response: out });
    return out;
  },
});
